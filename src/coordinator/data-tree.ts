// The znode tree and the session table: the state every transaction applies to. It never
// validates (that is prep's job, in request-processor.ts); apply() assumes a valid txn and is
// deterministic, so replaying the log over a snapshot rebuilds the same tree.
import { type ACL, EventType, OpCode, type Stat, baseName, parentPath } from '../protocol/zookeeper/index.js';
import { NodeKind, type NodeKindValue, type Txn, type TxnHeader } from './txn.js';

export interface ZNode {
  data: Buffer | null;
  acl: ACL[];
  czxid: number;
  mzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  /** Stored as ZooKeeper stores it: the number of child creations (see stat()). */
  cversion: number;
  aversion: number;
  kind: NodeKindValue;
  /** The owning session of an ephemeral, 0n otherwise. */
  owner: bigint;
  ttl: number;
  pzxid: number;
  children: Set<string>;
}

/** A change a watch may be waiting for: `type` is a WatchedEvent type, `path` the znode. */
export interface TreeEvent {
  type: number;
  path: string;
}

export interface TxnResult {
  type: number;
  err: number;
  path?: string;
  stat?: Stat;
  /** multi: one result per op. */
  results?: TxnResult[];
}

const RESERVED = ['/zookeeper', '/zookeeper/quota', '/zookeeper/config'];

export class DataTree {
  readonly nodes = new Map<string, ZNode>();
  /** Session id -> paths of its ephemerals. */
  readonly ephemerals = new Map<bigint, Set<string>>();
  readonly containers = new Set<string>();
  readonly ttls = new Set<string>();
  /** Live (not closed) sessions and their timeouts: persisted, so sessions survive restarts. */
  readonly sessions = new Map<bigint, number>();
  lastZxid = 0;
  /** Total data bytes, for mntr's zk_approximate_data_size. */
  dataSize = 0;

  constructor(empty = false) {
    if (empty) return;
    this.nodes.set('/', newNode(null, [], 0, 0, NodeKind.persistent, 0n, 0));
    for (const p of RESERVED) {
      this.nodes.set(p, newNode(null, [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }], 0, 0, NodeKind.persistent, 0n, 0));
      this.nodes.get(parentPath(p))!.children.add(baseName(p));
    }
  }

  static isReserved(path: string): boolean {
    return path === '/' || RESERVED.includes(path);
  }

  get(path: string): ZNode | undefined {
    return this.nodes.get(path);
  }

  /** Inserts a node read from a snapshot; parents come first in snapshot order. */
  restore(path: string, node: ZNode): void {
    this.nodes.set(path, node);
    this.dataSize += node.data?.length ?? 0;
    if (path !== '/') this.nodes.get(parentPath(path))?.children.add(baseName(path));
    this.index(path, node);
  }

  stat(node: ZNode): Stat {
    return {
      czxid: node.czxid,
      mzxid: node.mzxid,
      ctime: node.ctime,
      mtime: node.mtime,
      version: node.version,
      // DataNode.copyStat: creations stored, creations + deletions reported.
      cversion: node.cversion * 2 - node.children.size,
      aversion: node.aversion,
      ephemeralOwner: node.kind === NodeKind.ephemeral ? node.owner : 0n,
      dataLength: node.data?.length ?? 0,
      numChildren: node.children.size,
      pzxid: node.pzxid,
    };
  }

  /** Number of descendants (not counting the node itself). */
  countDescendants(path: string): number {
    const node = this.nodes.get(path);
    if (!node) return 0;
    let n = 0;
    const stack: string[] = [path];
    while (stack.length) {
      const p = stack.pop()!;
      for (const c of this.nodes.get(p)!.children) {
        n++;
        stack.push(p === '/' ? `/${c}` : `${p}/${c}`);
      }
    }
    return n;
  }

  ephemeralCount(): number {
    let n = 0;
    for (const s of this.ephemerals.values()) n += s.size;
    return n;
  }

  apply(h: TxnHeader, t: Txn, events: TreeEvent[] = []): TxnResult {
    const result = this.applyOne(h, t, events);
    if (h.zxid > this.lastZxid) this.lastZxid = h.zxid;
    return result;
  }

  private applyOne(h: TxnHeader, t: Txn, events: TreeEvent[]): TxnResult {
    switch (t.type) {
      case OpCode.create: {
        const owner = t.kind === NodeKind.ephemeral ? h.sessionId : 0n;
        const node = newNode(t.data, t.acl, h.zxid, h.time, t.kind, owner, t.ttl);
        const parent = this.nodes.get(parentPath(t.path))!;
        parent.children.add(baseName(t.path));
        parent.cversion++;
        parent.pzxid = h.zxid;
        this.nodes.set(t.path, node);
        this.dataSize += t.data?.length ?? 0;
        this.index(t.path, node);
        events.push({ type: EventType.NodeCreated, path: t.path }, { type: EventType.NodeChildrenChanged, path: parentPath(t.path) });
        return { type: t.type, err: 0, path: t.path, stat: this.stat(node) };
      }
      case OpCode.delete:
        this.deleteNode(t.path, h.zxid, events);
        return { type: t.type, err: 0, path: t.path };
      case OpCode.setData: {
        const node = this.nodes.get(t.path)!;
        this.dataSize += (t.data?.length ?? 0) - (node.data?.length ?? 0);
        node.data = t.data;
        node.version = t.version;
        node.mzxid = h.zxid;
        node.mtime = h.time;
        events.push({ type: EventType.NodeDataChanged, path: t.path });
        return { type: t.type, err: 0, path: t.path, stat: this.stat(node) };
      }
      case OpCode.setACL: {
        const node = this.nodes.get(t.path)!;
        node.acl = t.acl;
        node.aversion = t.version;
        return { type: t.type, err: 0, path: t.path, stat: this.stat(node) };
      }
      case OpCode.check:
        return { type: t.type, err: 0, path: t.path };
      case OpCode.multi:
        return { type: t.type, err: 0, results: t.txns.map((sub) => this.applyOne(h, sub, events)) };
      case OpCode.createSession:
        this.sessions.set(h.sessionId, t.timeout);
        return { type: t.type, err: 0 };
      case OpCode.closeSession: {
        const paths = this.ephemerals.get(h.sessionId);
        // Deepest first is not needed (ephemerals have no children), but keep a stable order.
        if (paths) for (const p of [...paths]) this.deleteNode(p, h.zxid, events);
        this.sessions.delete(h.sessionId);
        return { type: t.type, err: 0 };
      }
      case OpCode.error:
        return { type: t.type, err: t.err };
    }
  }

  private deleteNode(path: string, zxid: number, events: TreeEvent[]): void {
    const node = this.nodes.get(path);
    if (!node) return;
    this.nodes.delete(path);
    this.dataSize -= node.data?.length ?? 0;
    const parent = this.nodes.get(parentPath(path))!;
    parent.children.delete(baseName(path));
    parent.pzxid = zxid;
    if (node.kind === NodeKind.ephemeral) {
      const set = this.ephemerals.get(node.owner);
      set?.delete(path);
      if (set?.size === 0) this.ephemerals.delete(node.owner);
    } else if (node.kind === NodeKind.container) this.containers.delete(path);
    else if (node.kind === NodeKind.ttl) this.ttls.delete(path);
    events.push({ type: EventType.NodeDeleted, path }, { type: EventType.NodeChildrenChanged, path: parentPath(path) });
  }

  private index(path: string, node: ZNode): void {
    if (node.kind === NodeKind.ephemeral) {
      let set = this.ephemerals.get(node.owner);
      if (!set) this.ephemerals.set(node.owner, (set = new Set()));
      set.add(path);
    } else if (node.kind === NodeKind.container) this.containers.add(path);
    else if (node.kind === NodeKind.ttl) this.ttls.add(path);
  }
}

export function newNode(
  data: Buffer | null,
  acl: ACL[],
  zxid: number,
  time: number,
  kind: NodeKindValue,
  owner: bigint,
  ttl: number,
): ZNode {
  return {
    data,
    acl,
    czxid: zxid,
    mzxid: zxid,
    ctime: time,
    mtime: time,
    version: 0,
    cversion: 0,
    aversion: 0,
    kind,
    owner,
    ttl,
    pzxid: zxid,
    children: new Set(),
  };
}
