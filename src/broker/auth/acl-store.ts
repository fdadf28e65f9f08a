// Where the ACLs are kept, so that a restart keeps them:
// - the embedded store (one broker, no ZooKeeper): `kts-acls.json` beside kts-metadata.json in the
//   first log dir, replaced atomically through the broker's file system (its memory one with
//   kts.storage=memory);
// - ZooKeeper, in Kafka's layout: LITERAL patterns under /kafka-acl/<ResourceType>/<name>, PREFIXED
//   under /kafka-acl-extended/prefixed/<ResourceType>/<name>, each znode Kafka's JSON
//   {"version":1,"acls":[{"principal","permissionType","operation","host"}]}; every change is
//   announced with a sequential node under /kafka-acl-changes ("TOPIC:name") or
//   /kafka-acl-extended-changes (JSON), which every broker watches to reload.
import { join } from 'node:path';
import { type FileSystem, readSmallFile, writeFileAtomic } from '../../storage/file-system.js';
import type { ZkSession } from '../../cluster/zk-session.js';
import { znodeNameProblem } from '../../cluster/zk-names.js';
import { isNoNode, isNodeExists } from '../../cluster/zk-session.js';
import { ZooKeeperError } from '../../cluster/zookeeper/errors.js';
import { ErrorCode as ZkErrorCode } from '../../protocol/zookeeper/index.js';
import { CoalescedPasses } from '../../util/coalesced-passes.js';
import {
  AclOperation,
  AclPermission,
  PatternType,
  ResourceType,
  bindingKey,
  camelName,
  operationName,
  parseOperation,
  parsePermission,
  parseResourceType,
  patternTypeName,
  permissionName,
  resourceTypeName,
  type AclBinding,
} from './acl.js';

export interface AclStore {
  load(): Promise<AclBinding[]>;
  /** Adds and removes bindings durably; resolves once stored. */
  update(add: AclBinding[], remove: AclBinding[]): Promise<void>;
  /** Why this store cannot hold a binding's resource name (ZooKeeper: a name that is not a znode name). */
  nameProblem?(binding: AclBinding): string | undefined;
  /** `listener` runs when another broker changed the ACLs (ZooKeeper mode). */
  onChange(listener: () => Promise<void>): void;
  close(): Promise<void>;
}

export const ACL_FILE = 'kts-acls.json';

/** One ACL entry in Kafka's JSON (AclEntry.toJsonCompatibleMap). */
interface JsonAce {
  principal: string;
  permissionType: string;
  operation: string;
  host: string;
}

const aceOf = (b: AclBinding): JsonAce => ({
  principal: b.principal,
  permissionType: camelName(permissionName(b.permissionType)),
  operation: camelName(operationName(b.operation)),
  host: b.host,
});

function bindingOf(resourceType: number, patternType: number, resourceName: string, ace: unknown, where: string): AclBinding {
  const a = ace as Partial<JsonAce>;
  const operation = typeof a.operation === 'string' ? parseOperation(a.operation) : undefined;
  const permissionType = typeof a.permissionType === 'string' ? parsePermission(a.permissionType) : undefined;
  if (typeof a.principal !== 'string' || typeof a.host !== 'string' || operation === undefined || operation <= AclOperation.ANY || permissionType === undefined || permissionType <= AclPermission.ANY) {
    throw new Error(`${where}: not an ACL entry: ${JSON.stringify(ace)}`);
  }
  return { resourceType, patternType, resourceName, principal: a.principal, host: a.host, operation, permissionType };
}

/** The single broker's store: one JSON document in the first log dir. */
export class FileAclStore implements AclStore {
  private writes: Promise<void> = Promise.resolve();
  private current: AclBinding[] = [];

  constructor(
    private readonly dir: string,
    private readonly fs: FileSystem,
  ) {}

  async load(): Promise<AclBinding[]> {
    const path = join(this.dir, ACL_FILE);
    const bytes = await readSmallFile(this.fs, path);
    if (!bytes) return (this.current = []);
    let doc: { version?: unknown; acls?: unknown };
    try {
      doc = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new Error(`${path}: not valid JSON (${(err as Error).message}); refusing to start on a damaged ACL file`);
    }
    if (doc.version !== 1 || !Array.isArray(doc.acls)) throw new Error(`${path}: not a version 1 ACL document; refusing to start on a damaged ACL file`);
    // Untrusted JSON: every field is checked before it is used.
    this.current = doc.acls.map((entry: { resourceType?: unknown; patternType?: unknown; name?: unknown } | null) => {
      const resourceType = typeof entry?.resourceType === 'string' ? parseResourceType(entry.resourceType) : undefined;
      const patternType = entry?.patternType === 'LITERAL' ? PatternType.LITERAL : entry?.patternType === 'PREFIXED' ? PatternType.PREFIXED : undefined;
      if (resourceType === undefined || resourceType <= ResourceType.ANY || patternType === undefined || typeof entry?.name !== 'string') {
        throw new Error(`${path}: not an ACL: ${JSON.stringify(entry)}; refusing to start on a damaged ACL file`);
      }
      return bindingOf(resourceType, patternType, entry.name, entry, path);
    });
    return this.current;
  }

  update(add: AclBinding[], remove: AclBinding[]): Promise<void> {
    const run = this.writes.then(async () => {
      const gone = new Set(remove.map(bindingKey));
      const next = [...this.current.filter((b) => !gone.has(bindingKey(b))), ...add];
      const doc = {
        version: 1,
        acls: next.map((b) => ({ resourceType: camelName(resourceTypeName(b.resourceType)), patternType: patternTypeName(b.patternType), name: b.resourceName, ...aceOf(b) })),
      };
      await this.fs.mkdir(this.dir, { recursive: true });
      await writeFileAtomic(this.fs, this.dir, ACL_FILE, Buffer.from(JSON.stringify(doc, null, 1)));
      this.current = next;
    });
    this.writes = run.catch(() => {});
    return run;
  }

  onChange(): void {
    // One broker: every change is its own.
  }

  async close(): Promise<void> {
    await this.writes;
  }
}

const LITERAL_ROOT = '/kafka-acl';
const PREFIXED_ROOT = '/kafka-acl-extended/prefixed';
const LITERAL_CHANGES = '/kafka-acl-changes';
const EXTENDED_CHANGES = '/kafka-acl-extended-changes';
const CHANGE_PREFIX = 'acl_changes_';
/** Kafka's ZkNodeChangeNotificationListener removes notifications older than this. */
const CHANGE_EXPIRY_MS = 15 * 60 * 1000;

const rootOf = (patternType: number) => (patternType === PatternType.LITERAL ? LITERAL_ROOT : PREFIXED_ROOT);
const znodeOf = (b: { patternType: number; resourceType: number; resourceName: string }) =>
  `${rootOf(b.patternType)}/${camelName(resourceTypeName(b.resourceType))}/${b.resourceName}`;

/** ZooKeeper in Kafka's layout (AclAuthorizer's ZkAclStore), shared by every broker of the cluster. */
export class ZkAclStore implements AclStore {
  private listeners: (() => Promise<void>)[] = [];
  private closed = false;
  /** Reloads after change notifications, one at a time (a change during a reload runs another). */
  private readonly reloads = new CoalescedPasses(() => this.reload(), () => this.closed);

  private constructor(
    private readonly zk: ZkSession,
    private readonly now: () => number,
    private readonly warn: (message: string) => void,
  ) {}

  /**
   * Kafka 3.9 puts the resource name into the path as it is: a name with '/' (legal for groups,
   * transactional ids and prefixes) would land in a nested node that no load reads back, and Kafka's
   * own store fails such a write after its retries. kts refuses it up front instead.
   */
  nameProblem(b: AclBinding): string | undefined {
    const problem = znodeNameProblem(b.resourceName);
    return problem && `ACLs on resource name '${b.resourceName}' cannot be kept in ZooKeeper: ${problem}`;
  }

  static async open(zk: ZkSession, now: () => number, warn: (message: string) => void): Promise<ZkAclStore> {
    const store = new ZkAclStore(zk, now, warn);
    for (const path of [LITERAL_ROOT, PREFIXED_ROOT, LITERAL_CHANGES, EXTENDED_CHANGES]) await zk.mkdirp(path);
    await store.watchChanges();
    zk.onSessionReestablished(() => void store.changed());
    return store;
  }

  async load(): Promise<AclBinding[]> {
    const out: AclBinding[] = [];
    for (const patternType of [PatternType.LITERAL, PatternType.PREFIXED]) {
      const root = rootOf(patternType);
      for (const typeNode of await this.children(root)) {
        const resourceType = parseResourceType(typeNode);
        if (resourceType === undefined || resourceType <= ResourceType.ANY) continue;
        for (const name of await this.children(`${root}/${typeNode}`)) {
          const path = `${root}/${typeNode}/${name}`;
          const node = await this.zk.getDataIfExists(path);
          for (const ace of parseAcls(node?.data ?? null, path)) out.push(bindingOf(resourceType, patternType, name, ace, path));
        }
      }
    }
    return out;
  }

  async update(add: AclBinding[], remove: AclBinding[]): Promise<void> {
    const byNode = new Map<string, { add: AclBinding[]; remove: Set<string>; sample: AclBinding }>();
    for (const [list, adding] of [[add, true], [remove, false]] as const) {
      for (const b of list) {
        const path = znodeOf(b);
        let entry = byNode.get(path);
        if (!entry) byNode.set(path, (entry = { add: [], remove: new Set(), sample: b }));
        if (adding) entry.add.push(b);
        else entry.remove.add(JSON.stringify(aceOf(b)));
      }
    }
    for (const [path, change] of byNode) {
      await this.updateNode(path, change.add.map(aceOf), change.remove);
      await this.announce(change.sample);
    }
  }

  /** Read-modify-write of one resource's znode, conditioned on its version (other brokers write too). */
  private async updateNode(path: string, add: JsonAce[], remove: Set<string>): Promise<void> {
    for (;;) {
      const node = await this.zk.getDataIfExists(path);
      const current = node ? parseAcls(node.data, path) : [];
      const keep = new Map<string, JsonAce>();
      for (const ace of [...current, ...add]) {
        const key = JSON.stringify({ principal: ace.principal, permissionType: ace.permissionType, operation: ace.operation, host: ace.host });
        if (!remove.has(key)) keep.set(key, ace);
      }
      const data = Buffer.from(JSON.stringify({ version: 1, acls: [...keep.values()] }));
      try {
        if (!node) {
          if (keep.size === 0) return;
          await this.zk.mkdirp(path.slice(0, path.lastIndexOf('/')));
          await this.zk.create(path, data, 'persistent');
        } else if (keep.size === 0) {
          await this.zk.multi([{ op: 'delete', path, version: node.stat.version }]);
        } else {
          await this.zk.setData(path, data, node.stat.version);
        }
        return;
      } catch (err) {
        // Another broker wrote first (version moved, node made or removed): read again.
        if (isNodeExists(err) || isNoNode(err) || isBadVersion(err)) continue;
        throw err;
      }
    }
  }

  private async announce(b: AclBinding): Promise<void> {
    if (b.patternType === PatternType.LITERAL) {
      await this.zk.create(`${LITERAL_CHANGES}/${CHANGE_PREFIX}`, Buffer.from(`${resourceTypeName(b.resourceType)}:${b.resourceName}`), 'persistent_sequential');
    } else {
      const event = { version: 1, resourceType: resourceTypeName(b.resourceType), name: b.resourceName, patternType: patternTypeName(b.patternType) };
      await this.zk.create(`${EXTENDED_CHANGES}/${CHANGE_PREFIX}`, Buffer.from(JSON.stringify(event)), 'persistent_sequential');
    }
  }

  onChange(listener: () => Promise<void>): void {
    this.listeners.push(listener);
  }

  /** Arms one-shot child watches on both change paths; each firing reloads and re-arms. */
  private async watchChanges(): Promise<void> {
    const watch = () => void this.changed();
    for (const path of [LITERAL_CHANGES, EXTENDED_CHANGES]) {
      const children = await this.zk.getChildren(path, watch);
      void this.purge(path, children);
    }
  }

  /** A change was announced: reload (once at a time; a change during a reload runs another). */
  private async changed(): Promise<void> {
    if (this.closed) return;
    return this.reloads.request();
  }

  /** Re-arms the watches and tells the listeners (which read the ACLs again). */
  private async reload(): Promise<void> {
    try {
      await this.watchChanges();
      for (const listener of this.listeners) await listener();
    } catch (err) {
      if (!this.closed) this.warn(`Reloading the ACLs after a change notification failed: ${(err as Error).message}`);
    }
  }

  /** Removes notifications older than Kafka's 15 minutes (every broker tries; losing races is fine). */
  private async purge(path: string, children: string[]): Promise<void> {
    for (const child of children) {
      try {
        const stat = await this.zk.exists(`${path}/${child}`);
        if (stat && this.now() - Number(stat.ctime) > CHANGE_EXPIRY_MS) await this.zk.deleteIfExists(`${path}/${child}`);
      } catch {
        // Deleted by another broker, or the session is away: the next change tries again.
      }
    }
  }

  private async children(path: string): Promise<string[]> {
    try {
      return await this.zk.getChildren(path);
    } catch (err) {
      if (isNoNode(err)) return [];
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reloads.running;
  }
}

function parseAcls(data: Buffer | null, path: string): JsonAce[] {
  if (!data || data.length === 0) return [];
  let doc: { acls?: unknown } | null;
  try {
    doc = JSON.parse(data.toString('utf8'));
  } catch {
    throw new Error(`${path}: the ACL znode is not JSON`);
  }
  if (!doc || !Array.isArray(doc.acls)) throw new Error(`${path}: the ACL znode has no "acls" array`);
  return doc.acls;
}

function isBadVersion(err: unknown): boolean {
  return err instanceof ZooKeeperError && err.code === ZkErrorCode.BadVersion;
}
