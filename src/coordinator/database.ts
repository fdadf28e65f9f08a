// The durable state: the tree in memory, the transaction log and the snapshots on disk
// (ZooKeeper's ZKDatabase + FileTxnSnapLog).
//
// Recovery = the newest snapshot that reads back whole + every logged txn after its zxid, in
// order, up to the first bad record; a torn or corrupt tail is cut off (ZooKeeper does the same:
// nothing past it was acknowledged, because acknowledgement waits for the fsync).
//
// After recovery the tree runs ahead of the disk: commit() applies a txn at once and queues it
// for the log; callers hold every reply and notification until `durableZxid` covers it (see
// connection.ts), so nothing a client can observe is ever lost.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataTree, type TreeEvent, type TxnResult } from './data-tree.js';
import { listSnapshots, loadNewestSnapshot, removeFile, serializeSnapshot, writeSnapshot } from './snapshot.js';
import type { Txn, TxnHeader } from './txn.js';
import { TxnLog, listLogFiles, readLogFile, setAsideLogFile, truncateLogFile } from './txn-log.js';
import type { CoordinatorLogger } from './logger.js';

export interface DatabaseOptions {
  dataDir: string;
  /** No files: an empty tree at open, every txn durable as it is applied, no snapshots. */
  inMemory?: boolean;
  dataLogDir?: string;
  /** Txns between snapshots, as ZooKeeper's snapCount (randomized in [n/2, n)). */
  snapCount?: number;
  /** autopurge.snapRetainCount (minimum 3). */
  snapRetainCount?: number;
  forceSync?: boolean;
  preallocateBytes?: number;
  logger: CoordinatorLogger;
  onDurable: (zxid: number) => void;
  onFatal: (err: Error) => void;
}

export interface RecoveryReport {
  snapshotZxid: number;
  replayed: number;
  truncated: string[];
  ms: number;
}

export class Database {
  readonly snapDir: string;
  readonly logDir: string;
  tree!: DataTree;
  log!: TxnLog | MemoryTxnLog;
  private sinceSnapshot = 0;
  private nextSnapshotAt = 0;
  private snapshotting: Promise<void> | null = null;
  /** What recovery found and did. */
  report!: RecoveryReport;

  private constructor(private readonly opts: DatabaseOptions) {
    this.snapDir = join(opts.dataDir, 'version-2');
    this.logDir = join(opts.dataLogDir ?? opts.dataDir, 'version-2');
  }

  static async open(opts: DatabaseOptions): Promise<Database> {
    const db = new Database(opts);
    if (opts.inMemory) {
      db.tree = new DataTree();
      db.log = new MemoryTxnLog(opts.onDurable);
      db.nextSnapshotAt = Infinity;
      db.report = { snapshotZxid: 0, replayed: 0, truncated: [], ms: 0 };
      return db;
    }
    await mkdir(db.snapDir, { recursive: true });
    await mkdir(db.logDir, { recursive: true });
    await db.recover();
    return db;
  }

  get lastZxid(): number {
    return this.tree.lastZxid;
  }

  get durableZxid(): number {
    return this.log.durableZxid;
  }

  /** Applies a txn to the tree and queues it for the log. Returns the apply result. */
  commit(header: TxnHeader, txn: Txn, events: TreeEvent[]): TxnResult {
    const result = this.tree.apply(header, txn, events);
    this.log.append(header, txn);
    if (++this.sinceSnapshot >= this.nextSnapshotAt && !this.snapshotting) this.snapshotting = this.snapshot();
    return result;
  }

  /** The zxid the next txn gets. */
  nextZxid(): number {
    return this.tree.lastZxid + 1;
  }

  async close(): Promise<void> {
    await this.log.close();
    await this.snapshotSettled();
  }

  /** Resolves once the snapshot being written, if any, is on disk (or has failed and been logged). */
  async snapshotSettled(): Promise<void> {
    await this.snapshotting;
  }

  /** Deletes snapshots beyond the newest `snapRetainCount` and the logs only they needed. */
  async purge(): Promise<number> {
    if (this.opts.inMemory) return 0;
    const keep = Math.max(3, this.opts.snapRetainCount ?? 3);
    const snaps = await listSnapshots(this.snapDir);
    if (snaps.length <= keep) return 0;
    const oldestKept = snaps[snaps.length - keep].zxid;
    let removed = 0;
    for (const s of snaps.slice(0, snaps.length - keep)) {
      await removeFile(s.path);
      removed++;
    }
    const logs = await listLogFiles(this.logDir);
    // A log is still needed if it may hold txns after the oldest kept snapshot.
    for (let i = 0; i + 1 < logs.length; i++) {
      if (logs[i + 1].startZxid <= oldestKept + 1) {
        await removeFile(logs[i].path);
        removed++;
      }
    }
    return removed;
  }

  private scheduleNextSnapshot(): void {
    const n = Math.max(2, this.opts.snapCount ?? 100_000);
    this.sinceSnapshot = 0;
    this.nextSnapshotAt = Math.floor(n / 2 + Math.random() * (n / 2));
  }

  private async snapshot(): Promise<void> {
    const zxid = this.tree.lastZxid;
    const started = Date.now();
    try {
      const bytes = serializeSnapshot(this.tree);
      this.scheduleNextSnapshot();
      this.log.roll();
      const path = await writeSnapshot(this.snapDir, zxid, bytes);
      this.opts.logger.info(`Snapshot ${path} (${bytes.length} bytes, ${this.tree.nodes.size} znodes) in ${Date.now() - started} ms`);
    } catch (e) {
      this.opts.logger.error(`Snapshot at zxid 0x${zxid.toString(16)} failed: ${(e as Error).message}`);
    } finally {
      this.snapshotting = null;
    }
  }

  private async recover(): Promise<void> {
    const started = Date.now();
    const log = this.opts.logger;
    const loaded = await loadNewestSnapshot(this.snapDir, (m) => log.warn(m));
    const logs = await listLogFiles(this.logDir);
    let tree: DataTree;
    if (loaded) {
      tree = loaded.tree;
    } else {
      if (logs.length > 0 && logs[0].startZxid > 1) {
        throw new Error(`No readable snapshot in ${this.snapDir} and the oldest log starts at zxid 0x${logs[0].startZxid.toString(16)}: refusing to start with missing history`);
      }
      tree = new DataTree();
    }
    const snapshotZxid = tree.lastZxid;
    // Replay from the newest log that starts at or before the first txn we need.
    let first = 0;
    for (let i = 0; i < logs.length; i++) if (logs[i].startZxid <= snapshotZxid + 1) first = i;
    let replayed = 0;
    const truncated: string[] = [];
    let prev = -1;
    for (let i = first; i < logs.length; i++) {
      const res = await readLogFile(logs[i].path, tree.lastZxid, prev);
      for (const rec of res.records) {
        if (rec.header.zxid !== tree.lastZxid + 1) {
          // Missing history (a deleted log file?), not a torn tail: cutting here could drop
          // acknowledged writes, so refuse rather than guess.
          throw new Error(`${logs[i].path}: zxid 0x${rec.header.zxid.toString(16)} follows 0x${tree.lastZxid.toString(16)}: transaction log history is missing`);
        }
        tree.apply(rec.header, rec.txn);
        replayed++;
      }
      prev = tree.lastZxid;
      if (res.corrupt) {
        log.warn(`Transaction log ${logs[i].path}: ${res.reason}; truncating at byte ${res.validEnd} (last good zxid 0x${tree.lastZxid.toString(16)})`);
        await truncateLogFile(logs[i].path, res.validEnd);
        truncated.push(logs[i].path);
        for (const later of logs.slice(i + 1)) {
          log.warn(`Setting aside ${later.path}: it follows a damaged log`);
          await setAsideLogFile(later.path);
          truncated.push(later.path);
        }
        break;
      }
    }
    this.tree = tree;
    this.log = new TxnLog(
      {
        dir: this.logDir,
        forceSync: this.opts.forceSync,
        preallocateBytes: this.opts.preallocateBytes,
        onDurable: this.opts.onDurable,
        onError: this.opts.onFatal,
      },
      tree.lastZxid,
    );
    this.scheduleNextSnapshot();
    // As ZooKeeper does at start-up: a snapshot now makes the next recovery short.
    if (replayed > 0 || !loaded) {
      const path = await writeSnapshot(this.snapDir, tree.lastZxid, serializeSnapshot(tree));
      log.info(`Snapshot ${path} taken at start-up`);
    }
    this.report = { snapshotZxid, replayed, truncated, ms: Date.now() - started };
  }
}

/**
 * The in-memory coordinator's log: nothing to write, so a txn is durable the moment it is applied
 * (replies are held until then, which is now). The counters keep mntr's shape.
 */
export class MemoryTxnLog {
  readonly syncs = 0;
  readonly synced = 0;
  durableZxid = 0;
  constructor(private readonly onDurable: (zxid: number) => void) {}

  append(header: TxnHeader, _txn: Txn): void {
    this.durableZxid = header.zxid;
    // Connections never wait on this log, but a waiting one would be released here.
    queueMicrotask(() => this.onDurable(header.zxid));
  }

  roll(): void {}

  async drain(): Promise<void> {}

  async close(): Promise<void> {}
}
