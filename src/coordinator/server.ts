// The coordinator: a standalone ZooKeeper-protocol server. It owns the listening socket, the
// connections, sessions and watches, and drives the database; op semantics live in
// request-processor.ts, validation in prep.ts, durability in database.ts.
import net from 'node:net';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ConnectRequest, OpCode } from '../protocol/zookeeper/index.js';
import { writeFileAtomic } from '../cluster/atomic-file.js';
import { type DirLock, lockDirs } from '../storage/dir-lock.js';
import { ClientConnection, type ConnectionHost } from './connection.js';
import { Database } from './database.js';
import { FOUR_LETTER_WORDS, type ServerView, fourLetterAnswer, isWhitelisted } from './four-letter-words.js';
import { type CoordinatorLogger, silentLogger } from './logger.js';
import { type CoordinatorCore, RequestProcessor } from './request-processor.js';
import { type LiveSession, SessionTracker, newSecret } from './sessions.js';
import { NodeKind, type Txn } from './txn.js';
import { WatchManager } from './watch-manager.js';
import type { TreeEvent, TxnResult } from './data-tree.js';

export interface CoordinatorOptions {
  /** 0 = any free port. */
  port: number;
  /** Default 127.0.0.1 (ZooKeeper binds every interface; kts does not by default). */
  host?: string;
  /** With storage 'memory' only a name (four-letter words show it). */
  dataDir: string;
  dataLogDir?: string;
  /**
   * 'files' (the default): a transaction log and snapshots under dataDir, as ZooKeeper keeps them.
   * 'memory': the tree lives in this process only (the startCluster kit's coordinator): nothing is
   * read or written on disk, no directory is locked, and everything is gone at close().
   */
  storage?: 'files' | 'memory';
  /** Default 3000 ms, as ZooKeeper when tickTime is missing from the config. */
  tickTime?: number;
  /** Default 2 * tickTime. */
  minSessionTimeout?: number;
  /** Default 20 * tickTime. */
  maxSessionTimeout?: number;
  /** Connections per client IP; default 60, 0 = unlimited. */
  maxClientCnxns?: number;
  /** 4lw.commands.whitelist; default ['srvr'] ('srvr' is always allowed, '*' allows all). */
  fourLetterWhitelist?: string[];
  logger?: CoordinatorLogger;
  /** Txns between snapshots (snapCount, default 100000). */
  snapCount?: number;
  /** autopurge.snapRetainCount (default 3, minimum 3). */
  snapRetainCount?: number;
  /** autopurge.purgeInterval in hours; 0 (default) = no automatic purge. */
  purgeIntervalHours?: number;
  /** zookeeper.forceSync: fdatasync the log before replying (default true). */
  forceSync?: boolean;
  /** jute.maxbuffer (default 0xfffff). */
  juteMaxBuffer?: number;
  /** zookeeper.extendedTypesEnabled: allow TTL nodes (default false). */
  extendedTypesEnabled?: boolean;
  /** How often empty containers and expired TTL nodes are removed (default 60000 ms). */
  containerCheckIntervalMs?: number;
  /** The log could not be written: the server has stopped serving. Default: log it. */
  onFatal?: (err: Error) => void;
}

export interface CoordinatorHandle {
  port: number;
  host: string;
  close(): Promise<void>;
}

export class Coordinator implements ConnectionHost, CoordinatorCore {
  readonly watches = new WatchManager();
  readonly maxBuffer: number;
  readonly extendedTypesEnabled: boolean;
  sessions!: SessionTracker;
  db!: Database;
  private server: net.Server | null = null;
  private readonly connections = new Set<ClientConnection>();
  private readonly perIp = new Map<string, number>();
  private readonly waitingConns = new Set<ClientConnection>();
  /** Connections accepted while the database loads (see acceptEarly). */
  private readonly early = new Set<net.Socket>();
  private readonly processor = new RequestProcessor(this);
  private readonly whitelist: Set<string>;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly log: CoordinatorLogger;
  private readonly tickTime: number;
  private readonly minTimeout: number;
  private readonly maxTimeout: number;
  private readonly maxCnxns: number;
  private readonly startedAt = Date.now();
  private fatal: Error | null = null;
  private locks: DirLock[] = [];
  private closing: Promise<void> | null = null;
  private stats = newStats();
  port = 0;
  host: string;

  constructor(private readonly opts: CoordinatorOptions) {
    this.log = opts.logger ?? silentLogger;
    this.tickTime = opts.tickTime ?? 3000;
    this.minTimeout = opts.minSessionTimeout ?? 2 * this.tickTime;
    this.maxTimeout = opts.maxSessionTimeout ?? 20 * this.tickTime;
    this.maxCnxns = opts.maxClientCnxns ?? 60;
    this.maxBuffer = opts.juteMaxBuffer ?? 0xfffff;
    this.extendedTypesEnabled = opts.extendedTypesEnabled ?? false;
    this.whitelist = new Set((opts.fourLetterWhitelist ?? ['srvr']).map((w) => w.trim()).filter(Boolean));
    this.host = opts.host ?? '127.0.0.1';
  }

  async start(): Promise<CoordinatorHandle> {
    // As ZooKeeper does, the port is open before the database is loaded: `ruok` is answered at
    // once, other four-letter words say the server is not serving yet, and a client's connection
    // waits (unread) until recovery is done.
    // Before that, the data dirs are locked: a second coordinator on a live dataDir would append to
    // the same transaction log. A refused start, or one that cannot bind, writes nothing there.
    const inMemory = this.opts.storage === 'memory';
    const dirs = [this.opts.dataDir, ...(this.opts.dataLogDir && resolve(this.opts.dataLogDir) !== resolve(this.opts.dataDir) ? [this.opts.dataLogDir] : [])];
    this.locks = inMemory ? [] : await lockDirs(dirs, 'coordinator', this.log);
    const server = net.createServer((socket) => (this.db ? this.accept(socket) : this.acceptEarly(socket)));
    this.server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: this.opts.port, host: this.host }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await this.releaseLocks();
      throw err;
    }
    const addr = server.address() as net.AddressInfo;
    this.port = addr.port;
    this.host = addr.address;

    try {
      // The secret's first-start write (write, fsync, rename, fsync dir) overlaps recovery.
      // In memory, sessions cannot outlive the process: a fresh secret each start is enough.
      const secretLoaded = inMemory ? Promise.resolve(newSecret()) : this.loadSecret();
      secretLoaded.catch(() => {});
      this.db = await Database.open({
        inMemory,
        dataDir: this.opts.dataDir,
        dataLogDir: this.opts.dataLogDir,
        snapCount: this.opts.snapCount,
        snapRetainCount: this.opts.snapRetainCount,
        forceSync: this.opts.forceSync,
        logger: this.log,
        onDurable: (zxid) => this.onDurable(zxid),
        onFatal: (err) => this.onFatal(err),
      });
      const r = this.db.report;
      this.log.info(
        `Loaded database in ${r.ms} ms: snapshot zxid 0x${r.snapshotZxid.toString(16)}, ${r.replayed} txns replayed, ` +
          `last zxid 0x${this.db.lastZxid.toString(16)}, ${this.db.tree.nodes.size} znodes, ${this.db.tree.sessions.size} sessions`,
      );
      this.sessions = new SessionTracker(await secretLoaded, (s) => this.expireSession(s));
      // Sessions survive a restart: each gets a full timeout from now to reconnect.
      for (const [id, timeout] of this.db.tree.sessions) this.sessions.add(id, timeout);
    } catch (e) {
      this.db = undefined as unknown as Database;
      for (const socket of this.early) socket.destroy();
      this.early.clear();
      await new Promise<void>((r) => server.close(() => r()));
      await this.releaseLocks();
      throw e;
    }
    // Logged once sessions are served (scripts and tests wait for this line).
    this.log.info(`binding to port /${this.host}:${this.port}`);
    const early = [...this.early];
    this.early.clear();
    for (const socket of early) {
      if (socket.destroyed) continue;
      socket.removeAllListeners('data'); // acceptEarly's; the connection reads from here on
      this.accept(socket);
      socket.resume();
    }

    this.every(this.opts.containerCheckIntervalMs ?? 60_000, () => this.removeEmptyContainers());
    if ((this.opts.purgeIntervalHours ?? 0) > 0) {
      this.every(this.opts.purgeIntervalHours! * 3600_000, () => {
        this.db.purge().then(
          (n) => n && this.log.info(`Purged ${n} old snapshot and log files`),
          (e) => this.log.warn(`Purge failed: ${(e as Error).message}`),
        );
      });
    }
    return { port: this.port, host: this.host, close: () => this.close() };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const t of this.timers) clearInterval(t);
      this.sessions?.close();
      const server = this.server;
      const stopped = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
      // Let replies already committed reach their clients, then drop the sockets (sessions
      // stay in the database and can resume after a restart).
      await this.db?.log.drain();
      for (const c of this.connections) c.destroy();
      for (const socket of this.early) socket.destroy();
      await stopped;
      try {
        await this.db?.close();
      } finally {
        await this.releaseLocks();
      }
      this.log.info('shutdown complete');
    })();
    return this.closing;
  }

  // ---- CoordinatorCore ----

  commit(sessionId: bigint, cxid: number, txn: Txn): { zxid: number; result: TxnResult } {
    const zxid = this.db.nextZxid();
    const events: TreeEvent[] = [];
    const result = this.db.commit({ sessionId, cxid, zxid, time: Date.now() }, txn, events);
    if (txn.type === OpCode.createSession) this.sessions.add(sessionId, txn.timeout);
    else if (txn.type === OpCode.closeSession) this.sessions.remove(sessionId);
    if (events.length > 0) this.watches.trigger(events, zxid);
    return { zxid, result };
  }

  onCloseSession(conn: ClientConnection, zxid: number, xid: number, startedAt: number): void {
    conn.session = null;
    conn.state = 'closing';
    const reply = Buffer.alloc(20);
    reply.writeInt32BE(16, 0);
    reply.writeInt32BE(xid, 4);
    reply.writeBigInt64BE(BigInt(zxid), 8);
    conn.send(reply, zxid, startedAt, true);
  }

  // ---- ConnectionHost ----

  durableZxid(): number {
    return this.db.durableZxid;
  }

  waiting(conn: ClientConnection): void {
    this.waitingConns.add(conn);
  }

  packetSent(startedAt: number): void {
    this.stats.sent++;
    if (startedAt > 0) {
      const ms = performance.now() - startedAt;
      this.stats.count++;
      this.stats.totalLatency += ms;
      if (ms < this.stats.minLatency) this.stats.minLatency = ms;
      if (ms > this.stats.maxLatency) this.stats.maxLatency = ms;
    }
  }

  connect(conn: ClientConnection, req: ConnectRequest): void {
    if (this.fatal) return conn.destroy();
    if (req.lastZxidSeen > this.db.lastZxid) {
      this.log.info(
        `Refusing session request for client /${conn.remote} as it has seen zxid 0x${req.lastZxidSeen.toString(16)} ` +
          `our last zxid is 0x${this.db.lastZxid.toString(16)} client must try another server`,
      );
      return conn.destroy();
    }
    const timeout = Math.min(this.maxTimeout, Math.max(this.minTimeout, req.timeOut));
    if (req.sessionId === 0n) {
      const id = this.sessions.allocateId();
      const { zxid } = this.commit(id, 0, { type: OpCode.createSession, timeout });
      const s = this.sessions.get(id)!;
      s.conn = conn;
      conn.session = s;
      this.log.info(`Established session 0x${id.toString(16)} with negotiated timeout ${timeout} for client /${conn.remote}`);
      conn.send(ClientConnection.connectResponse(req, timeout, id, this.sessions.password(id)), zxid);
      return;
    }
    const s = this.sessions.get(req.sessionId);
    if (!s || s.closing || !this.sessions.checkPassword(req.sessionId, req.passwd)) {
      this.log.info(`Invalid session 0x${req.sessionId.toString(16)} for client /${conn.remote}, probably expired`);
      conn.send(ClientConnection.connectResponse(req, 0, 0n, Buffer.alloc(16)), this.db.lastZxid, 0, true);
      conn.state = 'closing';
      return;
    }
    if (s.conn && s.conn !== conn) s.conn.closeForSession('session moved to a new connection');
    s.conn = conn;
    conn.session = s;
    this.sessions.touch(s);
    this.log.info(`Renewed session 0x${s.id.toString(16)} with negotiated timeout ${timeout} for client /${conn.remote}`);
    conn.send(ClientConnection.connectResponse(req, timeout, s.id, this.sessions.password(s.id)), this.db.lastZxid);
  }

  request(conn: ClientConnection, frame: Buffer): void {
    this.stats.received++;
    if (this.fatal) return conn.destroy();
    this.processor.handle(conn, frame);
  }

  closed(conn: ClientConnection): void {
    this.connections.delete(conn);
    this.waitingConns.delete(conn);
    this.watches.removeWatcher(conn);
    if (conn.session?.conn === conn) conn.session.conn = null;
    const ip = conn.remoteAddress;
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }

  fourLetterWord(word: string, conn: ClientConnection): Promise<string> | null {
    if (!FOUR_LETTER_WORDS.has(word)) return null;
    this.connections.delete(conn);
    if (!isWhitelisted(word, this.whitelist)) {
      return Promise.resolve(`${word} is not executed because it is not in the whitelist.\n`);
    }
    return fourLetterAnswer(word, this.view(conn));
  }

  // ---- internals ----

  /**
   * A connection made before the database is loaded: a four-letter word is answered now (`ruok`
   * with imok, as ZooKeeper does; the others need the database), anything else is kept unread
   * until start() hands the socket to accept().
   */
  private acceptEarly(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.early.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => this.early.delete(socket));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      const word = chunk.length >= 4 ? chunk.subarray(0, 4).toString('latin1') : '';
      if (this.db || !FOUR_LETTER_WORDS.has(word)) {
        // A ConnectRequest (or a word split across packets): read again once the server is up.
        socket.unshift(chunk);
        return;
      }
      this.early.delete(socket);
      if (!isWhitelisted(word, this.whitelist)) socket.end(`${word} is not executed because it is not in the whitelist.\n`);
      else socket.end(word === 'ruok' ? 'imok' : 'This ZooKeeper instance is not currently serving requests\n');
    });
  }

  private accept(socket: net.Socket): void {
    const ip = socket.remoteAddress ?? '?';
    const count = this.perIp.get(ip) ?? 0;
    if (this.closing || this.fatal) {
      socket.destroy();
      return;
    }
    if (this.maxCnxns > 0 && count >= this.maxCnxns) {
      this.log.warn(`Too many connections from /${ip} - max is ${this.maxCnxns}`);
      socket.destroy();
      return;
    }
    this.perIp.set(ip, count + 1);
    this.connections.add(new ClientConnection(socket, this));
  }

  private onDurable(zxid: number): void {
    if (this.waitingConns.size === 0) return;
    const conns = [...this.waitingConns];
    this.waitingConns.clear();
    for (const c of conns) c.flush(zxid);
  }

  private onFatal(err: Error): void {
    if (this.fatal) return;
    this.fatal = err;
    this.log.error(`Transaction log write failed, no further writes can be acknowledged: ${err.message}`);
    // Held replies and notifications are dropped: they depended on txns that are not durable.
    for (const c of this.connections) c.destroy();
    this.server?.close();
    (this.opts.onFatal ?? (() => {}))(err);
  }

  /** A session's deadline passed (SessionTracker's timer): closed as ZooKeeper's expirer does. */
  private expireSession(s: LiveSession): void {
    if (this.fatal || this.closing) return;
    s.closing = true;
    this.log.info(`Expiring session 0x${s.id.toString(16)}, timeout of ${s.timeout}ms exceeded`);
    const conn = s.conn;
    this.commit(s.id, 0, { type: OpCode.closeSession });
    conn?.closeForSession('session expired');
  }

  /** ContainerManager: empty containers that once had children, and expired TTL nodes. */
  private removeEmptyContainers(): void {
    if (this.fatal) return;
    const tree = this.db.tree;
    const now = Date.now();
    const doomed: string[] = [];
    for (const p of tree.containers) {
      const n = tree.get(p)!;
      if (n.children.size === 0 && n.cversion > 0) doomed.push(p);
    }
    for (const p of tree.ttls) {
      const n = tree.get(p)!;
      if (n.kind === NodeKind.ttl && n.children.size === 0 && now - n.mtime > n.ttl) doomed.push(p);
    }
    for (const path of doomed) this.commit(0n, 0, { type: OpCode.delete, path });
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  /** The session-password secret: created once per data directory, so passwords survive restarts. */
  private async releaseLocks(): Promise<void> {
    await Promise.allSettled(this.locks.splice(0).map((l) => l.release()));
  }

  private async loadSecret(): Promise<Buffer> {
    const dir = join(this.opts.dataDir, 'version-2');
    const path = join(dir, 'kts-session-secret');
    try {
      const b = await readFile(path);
      if (b.length === 32) return b;
    } catch {
      // first start
    }
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    const secret = newSecret();
    await writeFileAtomic(path, secret);
    return secret;
  }

  private view(self: ClientConnection): ServerView {
    const info = (c: ClientConnection) => ({
      remote: c.remote,
      queued: c.queuedCount,
      received: c.received,
      sent: c.sent,
      sessionId: c.sessionId,
      watches: this.watches.countFor(c),
    });
    const tree = this.db.tree;
    return {
      clientPort: this.port,
      dataDir: this.db.snapDir,
      dataLogDir: this.db.logDir,
      tickTime: this.tickTime,
      maxClientCnxns: this.maxCnxns,
      minSessionTimeout: this.minTimeout,
      maxSessionTimeout: this.maxTimeout,
      startedAt: this.startedAt,
      stats: { ...this.stats, fsyncs: this.db.log.syncs, fsyncedTxns: this.db.log.synced },
      lastZxid: this.db.lastZxid,
      nodeCount: tree.nodes.size,
      dataSize: tree.dataSize,
      ephemeralCount: tree.ephemeralCount(),
      watchCount: this.watches.count(),
      sessions: tree.sessions,
      ephemeralsBySession: tree.ephemerals,
      connections: [...this.connections].map(info),
      self: { ...info(self), received: 1 },
      resetStats: () => {
        this.stats = newStats();
      },
    };
  }
}

function newStats() {
  return { received: 0, sent: 0, minLatency: Infinity, maxLatency: 0, totalLatency: 0, count: 0 };
}
