// What each op does once a session is open (ZooKeeper's PrepRequestProcessor for writes and
// FinalRequestProcessor for replies). Writes become transactions through prep.ts and are
// committed at once; reads answer from the tree. Every reply is queued on the connection with
// the zxid it depends on, so it leaves only after the log is durable that far.
import { createHash } from 'node:crypto';
import {
  type AuthRequest,
  type CreateRequest,
  ErrorCode,
  EventType,
  JuteReader,
  JuteWriter,
  type MultiRequest,
  type MultiResult,
  OpCode,
  type PathWatchRequest,
  type SetWatchesRequest,
  UnknownOpError,
  Xid,
  type ZkRequest,
  type ZkResponse,
  encodeReply,
  readRequest,
  readRequestHeader,
} from '../protocol/zookeeper/index.js';
import type { ClientConnection } from './connection.js';
import type { Database } from './database.js';
import type { TxnResult } from './data-tree.js';
import { KeeperError, type PrepContext, PrepView, prepMulti, prepOp } from './prep.js';
import type { SessionTracker } from './sessions.js';
import { NodeKind, type Txn } from './txn.js';
import type { WatchManager } from './watch-manager.js';

export interface CoordinatorCore {
  readonly db: Database;
  readonly watches: WatchManager;
  readonly sessions: SessionTracker;
  readonly extendedTypesEnabled: boolean;
  /** Logs and applies a txn for a session, fires the watches it triggers; returns its zxid and result. */
  commit(sessionId: bigint, cxid: number, txn: Txn): { zxid: number; result: TxnResult };
  /** Ends the connection after the reply (closeSession). */
  onCloseSession(conn: ClientConnection, zxid: number, xid: number, startedAt: number): void;
}

const WRITE_OPS = new Set<number>([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.setData,
  OpCode.setACL,
  OpCode.check,
]);

export class RequestProcessor {
  private readonly w = new JuteWriter(1024);

  constructor(private readonly core: CoordinatorCore) {}

  handle(conn: ClientConnection, frame: Buffer): void {
    const startedAt = performance.now();
    const r = new JuteReader(frame);
    const header = readRequestHeader(r);
    const session = conn.session;
    if (session) this.core.sessions.touch(session);
    let req: ZkRequest;
    try {
      req = readRequest(r, header.type);
    } catch (e) {
      if (e instanceof UnknownOpError) {
        // ZooKeeper answers Unimplemented with zxid -1, then drops the connection.
        conn.send(this.reply(header.xid, -1, ErrorCode.Unimplemented, header.type, null), this.core.db.lastZxid, startedAt, true);
        return;
      }
      throw e;
    }
    if (!session || session.closing) {
      conn.send(this.reply(header.xid, this.core.db.lastZxid, ErrorCode.SessionExpired, req.type, null), this.core.db.lastZxid, startedAt, true);
      return;
    }
    if (WRITE_OPS.has(req.type)) return this.write(conn, header.xid, req, startedAt);
    switch (req.type) {
      case OpCode.multi:
        return this.multi(conn, header.xid, req, startedAt);
      case OpCode.ping:
        return this.answer(conn, Xid.ping, OpCode.ping, ErrorCode.Ok, null, startedAt);
      case OpCode.closeSession: {
        const { zxid } = this.core.commit(session.id, header.xid, { type: OpCode.closeSession });
        this.core.onCloseSession(conn, zxid, header.xid, startedAt);
        return;
      }
      case OpCode.auth:
        return this.auth(conn, header.xid, req, startedAt);
      case OpCode.deleteContainer:
        return this.deleteContainer(conn, header.xid, req.path, startedAt);
      case OpCode.reconfig: {
        // Standalone, reconfig disabled: an error transaction, as in ZooKeeper.
        const { zxid } = this.core.commit(session.id, header.xid, { type: OpCode.error, err: ErrorCode.ReconfigDisabled });
        conn.send(this.reply(header.xid, zxid, ErrorCode.ReconfigDisabled, req.type, null), zxid, startedAt);
        return;
      }
      case OpCode.sasl:
        return this.answer(conn, header.xid, req.type, ErrorCode.Unimplemented, null, startedAt);
      default:
        break;
    }
    let err: number = ErrorCode.Ok;
    let body: ZkResponse | null = null;
    try {
      body = this.read(conn, req);
    } catch (e) {
      if (!(e instanceof KeeperError)) throw e;
      err = e.code;
    }
    this.answer(conn, header.xid, req.type, err, body, startedAt);
  }

  private write(conn: ClientConnection, xid: number, req: ZkRequest, startedAt: number): void {
    const ctx = this.prepContext(conn);
    let txn: Txn;
    try {
      txn = prepOp(ctx, new PrepView(ctx.tree), req as CreateRequest);
    } catch (e) {
      if (!(e instanceof KeeperError)) throw e;
      txn = { type: OpCode.error, err: e.code };
    }
    const { zxid, result } = this.core.commit(conn.sessionId, xid, txn);
    const err = result.err;
    let body: ZkResponse | null = null;
    if (err === ErrorCode.Ok) {
      switch (req.type) {
        case OpCode.create:
          body = { path: result.path! };
          break;
        case OpCode.create2:
        case OpCode.createContainer:
        case OpCode.createTTL:
          body = { path: result.path!, stat: result.stat! };
          break;
        case OpCode.setData:
        case OpCode.setACL:
          body = { stat: result.stat! };
          break;
      }
    }
    conn.send(this.reply(xid, zxid, err, req.type, body), zxid, startedAt);
  }

  private multi(conn: ClientConnection, xid: number, req: MultiRequest, startedAt: number): void {
    let txn: Txn;
    if (req.ops.some((op) => !WRITE_OPS.has(op.type))) {
      // ZooKeeper refuses a multi that mixes reads into writes as a marshalling error.
      txn = { type: OpCode.error, err: ErrorCode.MarshallingError };
    } else {
      txn = prepMulti(this.prepContext(conn), req);
    }
    const { zxid, result } = this.core.commit(conn.sessionId, xid, txn);
    if (result.err !== ErrorCode.Ok) {
      conn.send(this.reply(xid, zxid, result.err, req.type, null), zxid, startedAt);
      return;
    }
    const results: MultiResult[] = result.results!.map((r, i) => {
      if (r.type === OpCode.error) return { type: OpCode.error, err: r.err };
      const op = req.ops[i];
      switch (op.type) {
        case OpCode.create:
          return { type: OpCode.create, path: r.path! };
        case OpCode.create2:
        case OpCode.createContainer:
        case OpCode.createTTL:
          return { type: OpCode.create2, path: r.path!, stat: r.stat! };
        case OpCode.setData:
          return { type: OpCode.setData, stat: r.stat! };
        case OpCode.delete:
          return { type: OpCode.delete };
        default:
          return { type: OpCode.check };
      }
    });
    conn.send(this.reply(xid, zxid, ErrorCode.Ok, req.type, { results }), zxid, startedAt);
  }

  private deleteContainer(conn: ClientConnection, xid: number, path: string, startedAt: number): void {
    const node = this.core.db.tree.get(path);
    let txn: Txn;
    if (!node) txn = { type: OpCode.error, err: ErrorCode.NoNode };
    else if (node.kind !== NodeKind.container && node.kind !== NodeKind.ttl) txn = { type: OpCode.error, err: ErrorCode.BadArguments };
    else if (node.children.size > 0) txn = { type: OpCode.error, err: ErrorCode.NotEmpty };
    else txn = { type: OpCode.delete, path };
    const { zxid, result } = this.core.commit(conn.sessionId, xid, txn);
    conn.send(this.reply(xid, zxid, result.err, OpCode.deleteContainer, null), zxid, startedAt);
  }

  private read(conn: ClientConnection, req: ZkRequest): ZkResponse | null {
    const { tree } = this.core.db;
    const watches = this.core.watches;
    switch (req.type) {
      case OpCode.exists: {
        if (req.path.includes('\0')) throw new KeeperError(ErrorCode.BadArguments);
        // exists sets its watch even on a missing node: it then fires on creation.
        if (req.watch) watches.addDataWatch(req.path, conn);
        const node = tree.get(req.path);
        if (!node) throw new KeeperError(ErrorCode.NoNode);
        return { stat: tree.stat(node) };
      }
      case OpCode.getData:
      case OpCode.getChildren:
      case OpCode.getChildren2:
        return this.readNode(conn, req);
      case OpCode.getACL: {
        const node = tree.get(req.path);
        if (!node) throw new KeeperError(ErrorCode.NoNode);
        return { acl: node.acl, stat: tree.stat(node) };
      }
      case OpCode.getAllChildrenNumber:
        if (!tree.get(req.path)) throw new KeeperError(ErrorCode.NoNode);
        return { totalNumber: tree.countDescendants(req.path) };
      case OpCode.getEphemerals: {
        const prefix = req.path.trim();
        const all = [...(tree.ephemerals.get(conn.sessionId) ?? [])];
        return { children: prefix === '' || prefix === '/' ? all : all.filter((p) => p.startsWith(req.path)) };
      }
      case OpCode.sync:
        return { path: req.path };
      case OpCode.multiRead: {
        if (req.ops.some((op) => op.type !== OpCode.getData && op.type !== OpCode.getChildren)) throw new KeeperError(ErrorCode.MarshallingError);
        const results: MultiResult[] = req.ops.map((op) => {
          try {
            const body = this.readNode(conn, op as PathWatchRequest);
            return op.type === OpCode.getData
              ? { type: OpCode.getData, ...(body as { data: Buffer | null; stat: ReturnType<typeof tree.stat> }) }
              : { type: OpCode.getChildren, children: (body as { children: string[] }).children };
          } catch (e) {
            if (!(e instanceof KeeperError)) throw e;
            return { type: OpCode.error, err: e.code };
          }
        });
        return { results };
      }
      case OpCode.setWatches:
      case OpCode.setWatches2:
        this.setWatches(conn, req);
        return null;
      case OpCode.addWatch:
        watches.addPersistentWatch(req.path, conn, req.mode === 1);
        return { err: 0 };
      case OpCode.checkWatches:
        if (!watches.contains(req.path, req.watcherType, conn)) throw new KeeperError(ErrorCode.NoWatcher);
        return null;
      case OpCode.removeWatches:
        if (!watches.remove(req.path, req.watcherType, conn)) throw new KeeperError(ErrorCode.NoWatcher);
        return null;
      case OpCode.whoAmI:
        return {
          clientInfo: [
            { authScheme: 'ip', user: conn.remoteAddress.replace(/^::ffff:/, '') },
            ...conn.authIds.map((a) => ({ authScheme: a.scheme, user: a.id.split(':')[0] })),
          ],
        };
      default:
        throw new KeeperError(ErrorCode.Unimplemented);
    }
  }

  private readNode(conn: ClientConnection, req: PathWatchRequest): ZkResponse {
    const { tree } = this.core.db;
    const node = tree.get(req.path);
    if (!node) throw new KeeperError(ErrorCode.NoNode);
    if (req.type === OpCode.getData) {
      if (req.watch) this.core.watches.addDataWatch(req.path, conn);
      return { data: node.data, stat: tree.stat(node) };
    }
    if (req.watch) this.core.watches.addChildWatch(req.path, conn);
    const children = [...node.children];
    return req.type === OpCode.getChildren2 ? { children, stat: tree.stat(node) } : { children };
  }

  /** Re-arms a reconnecting client's watches, firing at once what changed since relativeZxid. */
  private setWatches(conn: ClientConnection, req: SetWatchesRequest): void {
    const { tree } = this.core.db;
    const watches = this.core.watches;
    const zxid = this.core.db.lastZxid;
    const rel = req.relativeZxid;
    for (const path of req.dataWatches) {
      const node = tree.get(path);
      if (!node) conn.notify(EventType.NodeDeleted, path, zxid);
      else if (node.mzxid > rel) conn.notify(EventType.NodeDataChanged, path, zxid);
      else watches.addDataWatch(path, conn);
    }
    for (const path of req.existWatches) {
      if (tree.get(path)) conn.notify(EventType.NodeCreated, path, zxid);
      else watches.addDataWatch(path, conn);
    }
    for (const path of req.childWatches) {
      const node = tree.get(path);
      if (!node) conn.notify(EventType.NodeDeleted, path, zxid);
      else if (node.pzxid > rel) conn.notify(EventType.NodeChildrenChanged, path, zxid);
      else watches.addChildWatch(path, conn);
    }
    for (const path of req.persistentWatches ?? []) watches.addPersistentWatch(path, conn, false);
    for (const path of req.persistentRecursiveWatches ?? []) watches.addPersistentWatch(path, conn, true);
  }

  /** addauth: digest is accepted (and recorded for the `auth` ACL scheme); ACLs are not enforced. */
  private auth(conn: ClientConnection, xid: number, req: AuthRequest, startedAt: number): void {
    if (req.scheme !== 'digest' || !req.auth) {
      // ZooKeeper: AuthFailed for an unknown scheme, then the connection is dropped.
      conn.send(this.reply(xid, 0, ErrorCode.AuthFailed, OpCode.auth, null), this.core.db.lastZxid, startedAt, true);
      return;
    }
    const text = req.auth.toString('utf8');
    const colon = text.indexOf(':');
    const user = colon < 0 ? text : text.slice(0, colon);
    const id = `${user}:${createHash('sha1').update(text).digest('base64')}`;
    if (!conn.authIds.some((a) => a.scheme === 'digest' && a.id === id)) conn.authIds.push({ scheme: 'digest', id });
    // The auth reply carries zxid 0 (observed).
    conn.send(this.reply(Xid.auth, 0, ErrorCode.Ok, OpCode.auth, null), this.core.db.lastZxid, startedAt);
  }

  private answer(conn: ClientConnection, xid: number, type: number, err: number, body: ZkResponse | null, startedAt: number): void {
    const zxid = this.core.db.lastZxid;
    conn.send(this.reply(xid, zxid, err, type, body), zxid, startedAt);
  }

  private reply(xid: number, zxid: number, err: number, type: number, body: ZkResponse | null): Buffer {
    return Buffer.from(encodeReply({ xid, zxid, err }, type, body, this.w));
  }

  private prepContext(conn: ClientConnection): PrepContext {
    return { tree: this.core.db.tree, authIds: conn.authIds, extendedTypesEnabled: this.core.extendedTypesEnabled };
  }
}
