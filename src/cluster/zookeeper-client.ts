// A promise-based ZooKeeper client for the kts broker (ZK mode), speaking the same protocol as
// Apache ZooKeeper's Java client, so it works against `kts zookeeper-server-start` and against
// an Apache ZooKeeper 3.5+ ensemble alike.
//
//   const zk = await ZooKeeperClient.connect('h1:2181,h2:2181/kafka', { sessionTimeoutMs: 18000 });
//   await zk.create('/brokers/ids/1', json, { mode: 'ephemeral' });
//   const { data, stat } = await zk.getData('/controller', (e) => ...);   // one-shot watch
//   zk.on('expired', () => ...);                                          // session lost for good
//
// Connection handling follows ClientCnxn: the session survives dropped connections (the client
// moves on through the host list, resumes with its id and password, re-sends its watches with
// setWatches and its auth); requests in flight when a connection drops fail with ConnectionLoss,
// requests made while disconnected wait for the next connection. A server answering the resume
// with timeOut 0 means the session expired: 'expired' is emitted and the client is finished
// (as with the Java client, make a new one).
import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  type ACL,
  CreateFlags,
  ErrorCode,
  EventType,
  FrameDecoder,
  JuteError,
  JuteWriter,
  type MultiOp,
  type MultiResult,
  OpCode,
  OPEN_ACL_UNSAFE,
  type Stat,
  type ZkRequest,
  type ZkResponse,
  Xid,
  decodeConnectResponse,
  decodeReply,
  encodeConnectRequest,
  encodeRequest,
} from '../protocol/zookeeper/index.js';
import { parseConnectString, prependChroot, stripChroot } from './zookeeper/connect-string.js';
import { MultiError, type OpResult, ZooKeeperError } from './zookeeper/errors.js';
import { raceTimeout } from '../util/timeout.js';

export { MultiError, ZooKeeperError, isNoNode, isNodeExists, type OpResult } from './zookeeper/errors.js';
export { ErrorCode, type ACL, type Stat } from '../protocol/zookeeper/index.js';

export type CreateMode = 'persistent' | 'ephemeral' | 'persistent_sequential' | 'ephemeral_sequential' | 'container';

export interface WatchEvent {
  type: 'created' | 'deleted' | 'dataChanged' | 'childrenChanged';
  /** The znode, relative to the chroot. */
  path: string;
}
export type Watcher = (event: WatchEvent) => void;

/** An operation of multi(): all succeed or none is applied. */
export type Op =
  | { op: 'create'; path: string; data?: Buffer | string | null; mode?: CreateMode; acl?: ACL[] }
  | { op: 'delete'; path: string; version?: number }
  | { op: 'setData'; path: string; data: Buffer | string | null; version?: number }
  | { op: 'check'; path: string; version: number };

export interface ZooKeeperClientOptions {
  /** Requested session timeout; the server clamps it (default 30000, as zkCli). */
  sessionTimeoutMs?: number;
  /** How long connect() waits for a first session before giving up (default 15000). */
  connectTimeoutMs?: number;
  /** Resume an existing session instead of creating one. */
  sessionId?: bigint;
  sessionPassword?: Buffer;
  /** Try the hosts in the given order rather than from a random one (default false). */
  orderedHosts?: boolean;
}

type State = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

interface Call {
  req: ZkRequest;
  resolve(reply: { err: number; body: ZkResponse | null }): void;
  reject(err: Error): void;
}

interface InFlight extends Call {
  xid: number;
}

const MODE_FLAGS: Record<CreateMode, number> = {
  persistent: CreateFlags.persistent,
  ephemeral: CreateFlags.ephemeral,
  persistent_sequential: CreateFlags.persistentSequential,
  ephemeral_sequential: CreateFlags.ephemeralSequential,
  container: CreateFlags.container,
};

const EVENT_NAMES: Record<number, WatchEvent['type']> = {
  [EventType.NodeCreated]: 'created',
  [EventType.NodeDeleted]: 'deleted',
  [EventType.NodeDataChanged]: 'dataChanged',
  [EventType.NodeChildrenChanged]: 'childrenChanged',
};

/** Registered for `watch: true`: the event still reaches 'watch' listeners. */
const NO_WATCHER: Watcher = () => {};
/** setWatches batches stay far below jute.maxbuffer (the Java client uses 128 KB too). */
const SET_WATCHES_MAX_BYTES = 128 * 1024;

export class ZooKeeperClient extends EventEmitter {
  private readonly hosts: { host: string; port: number }[];
  private readonly chroot: string;
  private readonly requestedTimeout: number;
  private hostIndex: number;
  private state: State = 'connecting';
  private socket: net.Socket | null = null;
  private xid = 1;
  private readonly inFlight: InFlight[] = [];
  private readonly waiting: Call[] = [];
  private readonly auth: { scheme: string; auth: Buffer }[] = [];
  private readonly dataWatchers = new Map<string, Set<Watcher>>();
  private readonly existWatchers = new Map<string, Set<Watcher>>();
  private readonly childWatchers = new Map<string, Set<Watcher>>();
  private readonly writer = new JuteWriter(1024);
  private timer: NodeJS.Timeout | null = null;
  private lastSend = 0;
  private lastRecv = 0;
  private reconnectDelay = 0;
  private closing: Promise<void> | null = null;
  /** The session, once the first connection is up (0n before). */
  sessionId = 0n;
  sessionPassword = Buffer.alloc(16);
  /** The timeout the server granted. */
  sessionTimeoutMs = 0;
  /** The highest zxid this client has seen (sent on reconnect, and used by setWatches). */
  lastZxid = 0;

  private constructor(connectString: string, opts: ZooKeeperClientOptions) {
    super();
    const parsed = parseConnectString(connectString);
    this.hosts = parsed.hosts;
    this.chroot = parsed.chroot;
    this.requestedTimeout = opts.sessionTimeoutMs ?? 30_000;
    this.hostIndex = opts.orderedHosts ? 0 : Math.floor(Math.random() * this.hosts.length);
    if (opts.sessionId) {
      this.sessionId = opts.sessionId;
      this.sessionPassword = Buffer.from(opts.sessionPassword ?? Buffer.alloc(16));
    }
  }

  /** Connects and establishes (or resumes) a session; rejects if none within connectTimeoutMs. */
  static async connect(connectString: string, opts: ZooKeeperClientOptions = {}): Promise<ZooKeeperClient> {
    const client = new ZooKeeperClient(connectString, opts);
    const timeoutMs = opts.connectTimeoutMs ?? 15_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        void client.close();
        reject(new ZooKeeperError(ErrorCode.ConnectionLoss, undefined, `Timed out connecting to ZooKeeper at ${connectString} after ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = () => {
        cleanup();
        resolve();
      };
      const onExpired = () => {
        cleanup();
        reject(new ZooKeeperError(ErrorCode.SessionExpired));
      };
      const cleanup = () => {
        clearTimeout(timer);
        client.off('connected', onConnected);
        client.off('expired', onExpired);
      };
      client.once('connected', onConnected);
      client.once('expired', onExpired);
      client.openNext();
    });
    return client;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  get currentState(): State {
    return this.state;
  }

  // ---- operations ----

  /** Creates a znode; returns its actual path (with the sequence suffix for sequential modes). */
  async create(path: string, data: Buffer | string | null = null, opts: { mode?: CreateMode; acl?: ACL[] } = {}): Promise<string> {
    const req = this.createRequest(OpCode.create, path, data, opts.mode, opts.acl);
    const body = (await this.call(req, path)) as { path: string };
    return this.fromServer(body.path);
  }

  /** create2: the new znode's path and Stat in one round trip (czxid, e.g. a broker epoch). */
  async createWithStat(path: string, data: Buffer | string | null = null, opts: { mode?: CreateMode; acl?: ACL[] } = {}): Promise<{ path: string; stat: Stat }> {
    const type = opts.mode === 'container' ? OpCode.createContainer : OpCode.create2;
    const body = (await this.call(this.createRequest(type, path, data, opts.mode, opts.acl), path)) as { path: string; stat: Stat };
    return { path: this.fromServer(body.path), stat: body.stat };
  }

  async getData(path: string, watch?: Watcher | boolean): Promise<{ data: Buffer | null; stat: Stat }> {
    const body = (await this.call({ type: OpCode.getData, path: this.toServer(path), watch: !!watch }, path, () => this.register(this.dataWatchers, path, watch))) as {
      data: Buffer | null;
      stat: Stat;
    };
    return { data: body.data === null ? null : Buffer.from(body.data), stat: body.stat };
  }

  async setData(path: string, data: Buffer | string | null, version = -1): Promise<Stat> {
    const body = (await this.call({ type: OpCode.setData, path: this.toServer(path), data: toBuffer(data), version }, path)) as { stat: Stat };
    return body.stat;
  }

  /** The node's Stat, or null when it does not exist (a watch is set either way). */
  async exists(path: string, watch?: Watcher | boolean): Promise<Stat | null> {
    // Registered as the reply is read, not after the await: the event of a change made right after
    // this read may be in the same chunk, and would find no watcher a microtask later.
    const reply = await this.submit({ type: OpCode.exists, path: this.toServer(path), watch: !!watch }, (err) => {
      if (err === ErrorCode.NoNode) this.register(this.existWatchers, path, watch);
      else if (err === ErrorCode.Ok) this.register(this.dataWatchers, path, watch);
    });
    if (reply.err === ErrorCode.NoNode) return null;
    if (reply.err !== ErrorCode.Ok) throw new ZooKeeperError(reply.err, path);
    return (reply.body as { stat: Stat }).stat;
  }

  async getChildren(path: string, watch?: Watcher | boolean): Promise<string[]> {
    return (await this.getChildrenWithStat(path, watch)).children;
  }

  async getChildrenWithStat(path: string, watch?: Watcher | boolean): Promise<{ children: string[]; stat: Stat }> {
    const body = (await this.call({ type: OpCode.getChildren2, path: this.toServer(path), watch: !!watch }, path, () =>
      this.register(this.childWatchers, path, watch),
    )) as { children: string[]; stat: Stat };
    return body;
  }

  async delete(path: string, version = -1): Promise<void> {
    await this.call({ type: OpCode.delete, path: this.toServer(path), version }, path);
  }

  async getACL(path: string): Promise<{ acl: ACL[]; stat: Stat }> {
    return (await this.call({ type: OpCode.getACL, path: this.toServer(path) }, path)) as { acl: ACL[]; stat: Stat };
  }

  async setACL(path: string, acl: ACL[], version = -1): Promise<Stat> {
    return ((await this.call({ type: OpCode.setACL, path: this.toServer(path), acl, version }, path)) as { stat: Stat }).stat;
  }

  /** Waits until this server has every write the leader had when sync was received. */
  async sync(path: string): Promise<void> {
    await this.call({ type: OpCode.sync, path: this.toServer(path) }, path);
  }

  /** All ops or none. On failure throws MultiError (code of the failing op, all results). */
  async multi(ops: Op[]): Promise<OpResult[]> {
    const reqOps: MultiOp[] = ops.map((o) => {
      switch (o.op) {
        case 'create':
          return this.createRequest(OpCode.create, o.path, o.data ?? null, o.mode, o.acl);
        case 'delete':
          return { type: OpCode.delete, path: this.toServer(o.path), version: o.version ?? -1 };
        case 'setData':
          return { type: OpCode.setData, path: this.toServer(o.path), data: toBuffer(o.data), version: o.version ?? -1 };
        case 'check':
          return { type: OpCode.check, path: this.toServer(o.path), version: o.version };
      }
    });
    const body = (await this.call({ type: OpCode.multi, ops: reqOps })) as { results: MultiResult[] };
    const results: OpResult[] = body.results.map((r) => {
      switch (r.type) {
        case OpCode.create:
        case OpCode.create2:
          return { op: 'create', path: this.fromServer(r.path) };
        case OpCode.delete:
          return { op: 'delete' };
        case OpCode.setData:
          return { op: 'setData', stat: r.stat };
        case OpCode.check:
          return { op: 'check' };
        case OpCode.error:
          return { op: 'error', code: r.err };
        default:
          return { op: 'error', code: ErrorCode.MarshallingError };
      }
    });
    const failed = results.findIndex((r) => r.op === 'error' && r.code !== ErrorCode.Ok && r.code !== ErrorCode.RuntimeInconsistency);
    if (failed >= 0) throw new MultiError((results[failed] as { code: number }).code, results, failed);
    return results;
  }

  /** addauth (e.g. 'digest', 'user:password'); re-sent after every reconnect. */
  addAuth(scheme: string, auth: Buffer | string): void {
    const entry = { scheme, auth: toBuffer(auth)! };
    this.auth.push(entry);
    if (this.state === 'connected') this.sendAuth(entry);
  }

  /** Closes the session (its ephemerals go) and the connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.state === 'connected') {
        const done = this.submit({ type: OpCode.closeSession }).catch(() => undefined);
        await raceTimeout(done, Math.max(1000, this.sessionTimeoutMs / 3), () => undefined, { unref: true });
      }
      this.finish('closed', ErrorCode.ConnectionLoss);
    })();
    return this.closing;
  }

  // ---- requests ----

  private createRequest(type: 1 | 15 | 19, path: string, data: Buffer | string | null, mode: CreateMode = 'persistent', acl: ACL[] = OPEN_ACL_UNSAFE as ACL[]): MultiOp {
    return { type: mode === 'container' ? OpCode.createContainer : type, path: this.toServer(path), data: toBuffer(data), acl, flags: MODE_FLAGS[mode] };
  }

  /** Submits and maps a non-zero err to ZooKeeperError; `onOk` runs before later replies are seen. */
  private async call(req: ZkRequest, path?: string, onOk?: () => void): Promise<ZkResponse> {
    const reply = await this.submit(req, onOk && ((err) => err === ErrorCode.Ok && onOk()));
    if (reply.err !== ErrorCode.Ok) throw new ZooKeeperError(reply.err, path);
    return reply.body ?? {};
  }

  /** `onReply` runs as the reply is read (before any later reply or notification is looked at). */
  private submit(req: ZkRequest, onReply?: (err: number) => void): Promise<{ err: number; body: ZkResponse | null }> {
    if (this.state === 'closed' || this.state === 'expired') {
      return Promise.reject(new ZooKeeperError(this.state === 'expired' ? ErrorCode.SessionExpired : ErrorCode.ConnectionLoss));
    }
    return new Promise((resolve, reject) => {
      const call: Call = {
        req,
        resolve: (r) => {
          // Watch registration happens here, in reply order, before any later notification.
          onReply?.(r.err);
          resolve(r);
        },
        reject,
      };
      if (this.state === 'connected' && this.waiting.length === 0) this.send(call);
      else this.waiting.push(call);
    });
  }

  private send(call: Call): void {
    const xid = this.xid++;
    if (this.xid > 0x7ffffff0) this.xid = 1;
    this.inFlight.push({ ...call, xid });
    this.write(Buffer.from(encodeRequest(xid, call.req, this.writer)));
  }

  private write(frame: Buffer): void {
    this.lastSend = Date.now();
    this.socket!.write(frame);
  }

  private sendAuth(a: { scheme: string; auth: Buffer }): void {
    this.write(Buffer.from(encodeRequest(Xid.auth, { type: OpCode.auth, authType: 0, scheme: a.scheme, auth: a.auth }, this.writer)));
  }

  // ---- connection ----

  private openNext(): void {
    if (this.state === 'closed' || this.state === 'expired') return;
    const { host, port } = this.hosts[this.hostIndex];
    this.hostIndex = (this.hostIndex + 1) % this.hosts.length;
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    this.socket = socket;
    const decoder = new FrameDecoder(0xfffff + 1024);
    let handshaken = false;
    const attemptTimeout = Math.max(1000, Math.floor(this.requestedTimeout / this.hosts.length));
    socket.setTimeout(attemptTimeout, () => socket.destroy(new Error('connect timeout')));
    socket.on('connect', () => {
      socket.write(
        encodeConnectRequest({
          protocolVersion: 0,
          lastZxidSeen: this.lastZxid,
          timeOut: this.requestedTimeout,
          sessionId: this.sessionId,
          passwd: this.sessionPassword,
          readOnly: false,
        }),
      );
    });
    socket.on('data', (chunk) => {
      if (this.socket !== socket) return;
      this.lastRecv = Date.now();
      decoder.push(chunk);
      try {
        for (let frame = decoder.next(); frame; frame = decoder.next()) {
          if (!handshaken) {
            handshaken = true;
            socket.setTimeout(0);
            this.onConnectResponse(frame);
            if (this.socket !== socket) return;
          } else {
            this.onPacket(frame);
          }
        }
      } catch (e) {
        if (e instanceof JuteError) socket.destroy(e);
        else throw e;
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.socket === socket) this.onDisconnect();
    });
  }

  private onConnectResponse(frame: Buffer): void {
    const res = decodeConnectResponse(frame);
    if (res.timeOut <= 0) {
      this.finish('expired', ErrorCode.SessionExpired);
      return;
    }
    this.sessionId = res.sessionId;
    this.sessionPassword = Buffer.from(res.passwd);
    this.sessionTimeoutMs = res.timeOut;
    this.state = 'connected';
    this.reconnectDelay = 0;
    this.startTimer();
    for (const a of this.auth) this.sendAuth(a);
    this.resendWatches();
    const queued = this.waiting.splice(0);
    for (const call of queued) this.send(call);
    this.emit('connected');
  }

  private onPacket(frame: Buffer): void {
    const head = this.inFlight[0];
    const reply = decodeReply(frame, (xid) => (head && head.xid === xid ? head.req.type : undefined));
    if (reply.kind === 'notification') {
      this.onNotification(reply.event.type, this.fromServer(reply.event.path));
      return;
    }
    const { xid, zxid, err } = reply.header;
    if (zxid > 0) this.lastZxid = Math.max(this.lastZxid, zxid);
    if (xid === Xid.ping) return;
    if (xid === Xid.auth) {
      if (err !== ErrorCode.Ok) this.emit('authFailed', new ZooKeeperError(err));
      return;
    }
    if (!head || head.xid !== xid) {
      // Replies come in request order; anything else means the stream cannot be trusted.
      this.socket?.destroy(new Error(`xid out of order: got ${xid}, expected ${head?.xid}`));
      return;
    }
    this.inFlight.shift();
    head.resolve({ err, body: reply.body });
  }

  private onNotification(type: number, path: string): void {
    const name = EVENT_NAMES[type];
    if (!name) return;
    const event: WatchEvent = { type: name, path };
    const targets = new Set<Watcher>();
    const take = (m: Map<string, Set<Watcher>>) => {
      const set = m.get(path);
      if (!set) return;
      m.delete(path);
      for (const w of set) targets.add(w);
    };
    if (type === EventType.NodeChildrenChanged) take(this.childWatchers);
    else {
      take(this.dataWatchers);
      take(this.existWatchers);
      if (type === EventType.NodeDeleted) take(this.childWatchers);
    }
    for (const w of targets) {
      try {
        w(event);
      } catch (e) {
        // A throwing watcher must not stop the others, nor the connection's read loop.
        if (this.listenerCount('error') > 0) this.emit('error', e);
        else setImmediate(() => {
          throw e;
        });
      }
    }
    this.emit('watch', event);
  }

  private onDisconnect(): void {
    this.socket = null;
    this.stopTimer();
    for (const call of this.inFlight.splice(0)) call.reject(new ZooKeeperError(ErrorCode.ConnectionLoss));
    if (this.state === 'closed' || this.state === 'expired') return;
    const wasConnected = this.state === 'connected';
    this.state = 'disconnected';
    if (wasConnected) this.emit('disconnected');
    // Quick retry after a drop, then back off while every host keeps failing.
    this.reconnectDelay = wasConnected ? 0 : Math.min(1000, this.reconnectDelay ? this.reconnectDelay * 2 : 50);
    setTimeout(() => this.openNext(), this.reconnectDelay).unref();
  }

  private finish(state: 'closed' | 'expired', code: number): void {
    if (this.state === 'closed' || this.state === 'expired') return;
    this.state = state;
    this.stopTimer();
    const err = new ZooKeeperError(code);
    for (const call of this.inFlight.splice(0)) call.reject(err);
    for (const call of this.waiting.splice(0)) call.reject(err);
    this.dataWatchers.clear();
    this.existWatchers.clear();
    this.childWatchers.clear();
    this.socket?.destroy();
    this.socket = null;
    this.emit(state);
  }

  /** Pings after T/3 without sending; drops a connection silent for 2T/3 (ClientCnxn's read timeout). */
  private startTimer(): void {
    this.stopTimer();
    const t = this.sessionTimeoutMs;
    this.lastRecv = this.lastSend = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastRecv > (2 * t) / 3) {
        this.socket?.destroy(new Error('read timeout'));
        return;
      }
      if (now - this.lastSend >= t / 3) this.write(Buffer.from(encodeRequest(Xid.ping, { type: OpCode.ping }, this.writer)));
    }, Math.max(10, Math.floor(t / 10)));
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  // ---- watches ----

  private register(map: Map<string, Set<Watcher>>, path: string, watch: Watcher | boolean | undefined): void {
    if (!watch) return;
    let set = map.get(path);
    if (!set) map.set(path, (set = new Set()));
    set.add(watch === true ? NO_WATCHER : watch);
  }

  /** setWatches after a reconnect: the server fires at once what changed since lastZxid. */
  private resendWatches(): void {
    const paths = (m: Map<string, Set<Watcher>>) => [...m.keys()].map((p) => this.toServer(p));
    const data = paths(this.dataWatchers);
    const exist = paths(this.existWatchers);
    const child = paths(this.childWatchers);
    let batch = { data: [] as string[], exist: [] as string[], child: [] as string[] };
    let bytes = 0;
    const flush = () => {
      if (batch.data.length + batch.exist.length + batch.child.length === 0) return;
      const req: ZkRequest = { type: OpCode.setWatches, relativeZxid: this.lastZxid, dataWatches: batch.data, existWatches: batch.exist, childWatches: batch.child };
      this.send({ req, resolve: () => {}, reject: () => {} });
      batch = { data: [], exist: [], child: [] };
      bytes = 0;
    };
    for (const [list, into] of [
      [data, 'data'],
      [exist, 'exist'],
      [child, 'child'],
    ] as const) {
      for (const p of list) {
        if (bytes + p.length + 4 > SET_WATCHES_MAX_BYTES) flush();
        batch[into].push(p);
        bytes += Buffer.byteLength(p) + 4;
      }
    }
    flush();
  }

  private toServer(path: string): string {
    return prependChroot(this.chroot, path);
  }

  private fromServer(path: string): string {
    return stripChroot(this.chroot, path);
  }
}

function toBuffer(data: Buffer | string | null | undefined): Buffer | null {
  if (data === null || data === undefined) return null;
  return typeof data === 'string' ? Buffer.from(data) : data;
}
