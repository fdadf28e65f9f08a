// All partition logs of this broker, across log.dirs. Each log dir holds one directory per partition
// plus, in its root, the recovery-point and log-start-offset checkpoints and the clean-shutdown marker.
import { randomUUID } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import {
  LOG_START_OFFSET_CHECKPOINT,
  RECOVERY_POINT_CHECKPOINT,
  partitionKey,
  readCheckpoint,
  writeCheckpoint,
} from './checkpoint.js';
import type { LogConfig } from './config.js';
import { type FileSystem, errnoOf, isNotFound, nodeFileSystem, readSmallFile, storageError, writeFileAtomic } from './file-system.js';
import { loadPartitionLog } from './log-loader.js';
import { LogSegment } from './log-segment.js';
import { MemoryFileSystem } from './memory-file-system.js';
import { checkTopicPartition, isDeletedPartitionDir, parsePartitionDirName, partitionDirName } from './names.js';
import { PartitionLog, type PartitionLogHooks, type StorageLogger } from './partition-log.js';
import { OpenFiles, type OpenFilesOptions, defaultMaxOpenFiles } from './open-files.js';
import { SealedSegmentScrub } from './scrub.js';
import { LogCleaner, type LogCleanerOptions } from './cleaner/log-cleaner.js';

/** Kafka 3.x's name; its presence at start-up means the previous run closed every log cleanly. */
export const CLEAN_SHUTDOWN_MARKER = '.kafka_cleanshutdown';
/** How often the scrub of sealed segments reads its share of kts.log.scrub.bytes.per.sec. */
const SCRUB_TICK_MS = 100;
/** How many partitions are loaded (and possibly recovered) at once. */
const LOAD_CONCURRENCY = 8;

export interface LogManagerOptions {
  logDirs: string[];
  defaults: LogConfig;
  now?: () => number;
  logger?: StorageLogger;
  fs?: FileSystem;
  /** The bound on descriptors held by segment files (open-files.ts); by default half the fd limit, idle 60 s. */
  openFiles?: Partial<OpenFilesOptions>;
}

const DEFAULT_IDLE_FILE_MS = 60_000;

const quietLogger: StorageLogger = {
  info() {},
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

export class LogManager {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly creating = new Map<string, Promise<PartitionLog>>();
  private readonly checkpointWrites = new Map<string, Promise<void>>();
  private readonly lastCheckpoint = new Map<string, string>();
  private maintenance: Promise<void> | undefined;
  private scrubTimer: NodeJS.Timeout | undefined;
  private scrubbing: Promise<void> | undefined;
  /** The log cleaner, once started (startCleaner). */
  cleaner: LogCleaner | undefined;
  private closed = false;
  private readonly hooks: PartitionLogHooks = {
    logStartOffsetChanged: (log) => this.checkpoint(log.logDir),
    // Not while its dir is loading: a checkpoint written then would lack the partitions not loaded yet
    // (the one written when loading ends includes this recovery point).
    recoveryPointChanged: (log) => (this.closed || !this.loadedDirs.has(log.logDir) ? Promise.resolve() : this.checkpoint(log.logDir)),
  };
  private readonly loadedDirs = new Set<string>();

  private constructor(
    readonly logDirs: string[],
    private readonly defaults: LogConfig,
    private readonly fs: OpenFiles,
    private readonly now: () => number,
    private readonly logger: StorageLogger,
    /** Whether the files live in this process only (kts.storage=memory): log dirs are then only names. */
    private readonly inMemory: boolean,
  ) {}

  /** The storage every file of this broker goes through (the disk, or memory with kts.storage=memory). */
  get fileSystem(): FileSystem {
    return this.fs;
  }

  static async open(opts: LogManagerOptions): Promise<LogManager> {
    if (opts.logDirs.length === 0) throw new Error('log.dirs is empty');
    const fs = new OpenFiles(opts.fs ?? nodeFileSystem, {
      maxOpen: opts.openFiles?.maxOpen ?? (await defaultMaxOpenFiles()),
      idleMs: opts.openFiles?.idleMs ?? DEFAULT_IDLE_FILE_MS,
    });
    const logDirs = opts.logDirs.map((d) => resolve(d));
    const manager = new LogManager(logDirs, opts.defaults, fs, opts.now ?? Date.now, opts.logger ?? quietLogger, opts.fs instanceof MemoryFileSystem);
    try {
      // Every dir is loaded before anything is written in any: a dir whose files contradict each other
      // stops the start with the others' markers, checkpoints and leftovers as they were.
      const loaded: LoadedLogDir[] = [];
      for (const logDir of logDirs) loaded.push(await manager.loadLogDir(logDir));
      for (const dir of loaded) await manager.startLogDir(dir);
    } catch (err) {
      await Promise.allSettled(manager.all().map((l) => l.close({ flush: false, reason: closedError() })));
      fs.close();
      throw err;
    }
    return manager;
  }

  private async loadLogDir(logDir: string): Promise<LoadedLogDir> {
    const { fs, logger } = this;
    await fs.mkdir(logDir, { recursive: true });
    const hadCleanShutdown = (await readSmallFile(fs, `${logDir}/${CLEAN_SHUTDOWN_MARKER}`).catch(() => undefined)) !== undefined;
    const recovery = await readCheckpoint(fs, logDir, RECOVERY_POINT_CHECKPOINT);
    if (recovery.problem) {
      logger.warn(`${logDir}/${RECOVERY_POINT_CHECKPOINT} ${recovery.problem}; ignoring it: every segment of every log in ${logDir} is recovered`);
    }
    const start = await readCheckpoint(fs, logDir, LOG_START_OFFSET_CHECKPOINT);
    if (start.problem) {
      // Falling back to each log's first segment would serve again the records DeleteRecords removed.
      throw new Error(
        `${logDir}/${LOG_START_OFFSET_CHECKPOINT} ${start.problem}. It says where each partition's records start; ` +
          `refusing to start rather than guess. Restore the file, or remove it to start every partition at its oldest segment`,
      );
    }
    const recoveryPoints = recovery.offsets;
    const startOffsets = start.offsets;

    const toLoad: Array<{ topic: string; partition: number; dir: string }> = [];
    const beingDeleted: string[] = [];
    for (const entry of await fs.readdir(logDir)) {
      if (!entry.isDirectory) continue;
      const path = `${logDir}/${entry.name}`;
      if (isDeletedPartitionDir(entry.name)) {
        beingDeleted.push(path);
        continue;
      }
      const parsed = parsePartitionDirName(entry.name);
      if (!parsed) {
        logger.warn(`ignoring ${path}: not a partition directory`);
        continue;
      }
      const key = partitionKey(parsed.topic, parsed.partition);
      if (this.logs.has(key) || toLoad.some((t) => t.topic === parsed.topic && t.partition === parsed.partition)) {
        logger.error(`ignoring ${path}: ${entry.name} is also in another log dir`);
        continue;
      }
      toLoad.push({ ...parsed, dir: path });
    }

    // A dir with no marker, no checkpoints and no partitions has never held logs: nothing to recover.
    const isNew = !hadCleanShutdown && !recovery.problem && recoveryPoints === undefined && startOffsets === undefined && toLoad.length === 0;
    const where = this.inMemory ? `memory (${logDir} is only a name: nothing is read from or written to disk)` : logDir;
    logger.info(`loading logs from ${where} (${isNew ? 'new log dir' : hadCleanShutdown ? 'clean shutdown before' : 'unclean shutdown before'})`);

    let next = 0;
    const worker = async () => {
      while (next < toLoad.length) {
        const { topic, partition, dir } = toLoad[next++];
        const key = partitionKey(topic, partition);
        const log = await loadPartitionLog({
          fs,
          logDir,
          dir,
          topic,
          partition,
          config: this.defaults,
          now: this.now,
          logger,
          hooks: this.hooks,
          hadCleanShutdown,
          recoveryPoint: recoveryPoints?.get(key),
          logStartOffset: startOffsets?.get(key),
        });
        this.logs.set(key, log);
      }
    };
    // One failure stops the others from taking more, and every load under way is waited for.
    const loads = await Promise.allSettled(
      Array.from({ length: Math.min(LOAD_CONCURRENCY, toLoad.length) }, () =>
        worker().catch((err: unknown) => {
          next = toLoad.length;
          throw err;
        }),
      ),
    );
    const failed = loads.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return { logDir, loadedCount: toLoad.length, beingDeleted, recoveryPoints, startOffsets, checkpointsReadable: !recovery.problem };
  }

  /** After every dir loaded: the leftovers of deletes go, checkpoints describe this run, the marker goes. */
  private async startLogDir(loaded: LoadedLogDir): Promise<void> {
    const { fs, logger } = this;
    const { logDir } = loaded;
    for (const path of loaded.beingDeleted) {
      await fs.rmTree(path).catch((err) => logger.warn(`cannot remove deleted partition dir ${path}: ${String(err)}`));
    }
    this.loadedDirs.add(logDir);
    // Checkpoint files that already say what would be written are left alone (no fsyncs on the start
    // path of a broker whose logs loaded as checkpointed, nor of one with an empty data dir).
    if (loaded.checkpointsReadable) {
      this.lastCheckpoint.set(logDir, checkpointSignature(entriesOf(loaded.recoveryPoints), entriesOf(loaded.startOffsets)));
    }

    // From here on a crash must be detectable: the marker goes, and checkpoints describe this run
    // (best effort: on a full disk the old checkpoints only mean more recovery next time).
    await this.checkpoint(logDir).catch((err) => logger.warn(`cannot write checkpoints in ${logDir}: ${String(err)}`));
    try {
      await fs.unlink(`${logDir}/${CLEAN_SHUTDOWN_MARKER}`);
      await fs.syncDir(logDir);
    } catch (err) {
      if (!isNotFound(err)) throw storageError(err, `cannot remove ${logDir}/${CLEAN_SHUTDOWN_MARKER}`);
    }
    logger.info(`loaded ${loaded.loadedCount} partition(s) from ${logDir}`);
  }

  get(topic: string, partition: number): PartitionLog | undefined {
    return this.logs.get(partitionKey(topic, partition));
  }

  all(): PartitionLog[] {
    return [...this.logs.values()];
  }

  /** Descriptors the segment files hold right now. */
  get openFileCount(): number {
    return this.fs.openCount;
  }

  async create(topic: string, partition: number, config?: LogConfig): Promise<PartitionLog> {
    checkTopicPartition(topic, partition);
    if (this.closed) throw closedError();
    const key = partitionKey(topic, partition);
    const existing = this.logs.get(key);
    if (existing) {
      if (config) existing.updateConfig(config);
      return existing;
    }
    // No await before `creating` is set: a concurrent create of the same partition must find it.
    let creation = this.creating.get(key);
    if (!creation) {
      creation = this.createNow(topic, partition, config ?? this.defaults).then(
        (log) => {
          this.creating.delete(key);
          this.logs.set(key, log);
          return log;
        },
        (err: unknown) => {
          this.creating.delete(key);
          throw err;
        },
      );
      this.creating.set(key, creation);
      return creation;
    }
    const log = await creation;
    if (config) log.updateConfig(config);
    return log;
  }

  private async createNow(topic: string, partition: number, config: LogConfig): Promise<PartitionLog> {
    // The least loaded log dir, as Kafka picks.
    const counts = new Map(this.logDirs.map((d) => [d, 0]));
    for (const log of this.logs.values()) counts.set(log.logDir, (counts.get(log.logDir) ?? 0) + 1);
    const logDir = [...counts].sort((a, b) => a[1] - b[1])[0][0];
    const dir = resolve(logDir, partitionDirName(topic, partition));
    if (dirname(dir) !== logDir || basename(dir) !== partitionDirName(topic, partition)) {
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `'${topic}' would leave the log directory`);
    }
    const now = this.now();
    try {
      try {
        await this.fs.mkdir(dir);
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err;
        // Left by an interrupted create (or put there by hand): open it like any other.
        this.logger.warn(`[${topic}-${partition}] directory already exists; loading it`);
        return await loadPartitionLog({
          fs: this.fs,
          logDir,
          dir,
          topic,
          partition,
          config,
          now: this.now,
          logger: this.logger,
          hooks: this.hooks,
          hadCleanShutdown: false,
        });
      }
      const ctx = { fs: this.fs, config };
      let segment: LogSegment | undefined;
      try {
        segment = await LogSegment.create(ctx, dir, 0, now);
        await this.fs.syncDir(dir);
        await this.fs.syncDir(logDir);
      } catch (err) {
        // A create that fails leaves no directory (a half-made one would be loaded at the next start).
        await segment?.close().catch(() => {});
        await this.fs.rmTree(dir).catch((e) => this.logger.warn(`cannot remove ${dir} after a failed create: ${String(e)}`));
        throw err;
      }
      this.logger.info(`[${topic}-${partition}] created log in ${logDir}`);
      return new PartitionLog({
        fs: this.fs,
        topic,
        partition,
        logDir,
        dir,
        config,
        segments: [segment],
        logStartOffset: 0,
        recoveryPoint: 0,
        now: this.now,
        logger: this.logger,
        hooks: this.hooks,
      });
    } catch (err) {
      throw storageError(err, `cannot create the log of ${topic}-${partition}`);
    }
  }

  async delete(topic: string, partition: number): Promise<void> {
    const key = partitionKey(topic, partition);
    const log = this.logs.get(key) ?? (await this.creating.get(key)?.catch(() => undefined));
    if (!log) return;
    this.logs.delete(key);
    await log
      .close({ flush: false, reason: new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${log.name} was deleted`) })
      .catch((err) => this.logger.warn(`[${log.name}] closing for deletion: ${String(err)}`));
    const doomed = `${log.dir}.${randomUUID().replace(/-/g, '')}-delete`;
    try {
      await this.fs.rename(log.dir, doomed);
      await this.fs.syncDir(log.logDir);
    } catch (err) {
      throw storageError(err, `cannot delete the log of ${log.name}`);
    }
    await this.fs.rmTree(doomed).catch((err) => this.logger.warn(`removing ${doomed} failed (retried at start-up): ${String(err)}`));
    await this.checkpoint(log.logDir).catch((err) => this.logger.warn(`checkpoint after deleting ${log.name}: ${String(err)}`));
    this.logger.info(`[${log.name}] deleted`);
  }

  /** Retention and flush.ms for every log, then checkpoints that changed. One run at a time. */
  runMaintenance(): Promise<void> {
    this.maintenance ??= (async () => {
      try {
        const now = this.now();
        for (const log of this.all()) {
          try {
            await log.runMaintenance(now);
          } catch (err) {
            if (this.logs.get(partitionKey(log.topic, log.partition)) === log) {
              this.logger.warn(`[${log.name}] maintenance failed: ${err instanceof Error ? err.message : String(err)}`);
            }
          }
        }
        for (const logDir of this.logDirs) {
          await this.checkpoint(logDir).catch((err) => this.logger.warn(`checkpoint of ${logDir} failed: ${String(err)}`));
        }
      } finally {
        this.maintenance = undefined;
      }
    })();
    return this.maintenance;
  }

  /**
   * Starts the background scrub of the sealed segments loaded at start-up (scrub.ts): about
   * `bytesPerSecond` read and CRC-checked per second, a tick at a time, until none is left unchecked.
   */
  startScrub(bytesPerSecond: number): void {
    if (this.closed || this.scrubTimer || bytesPerSecond <= 0) return;
    const scrub = new SealedSegmentScrub(() => this.all(), this.logger);
    const budget = Math.max(1, Math.floor((bytesPerSecond * SCRUB_TICK_MS) / 1000));
    const started = this.now();
    const stop = () => {
      clearInterval(this.scrubTimer);
      this.scrubTimer = undefined;
    };
    this.scrubTimer = setInterval(() => {
      if (this.scrubbing) return; // a slow disk: the next tick waits for this one
      this.scrubbing = scrub
        .tick(budget)
        .then((read) => {
          if (read > 0 || this.closed) return;
          stop();
          const { bytes, segments, corrupt } = scrub.totals;
          if (bytes === 0 && corrupt === 0) return; // nothing was left unchecked: nothing to say
          this.logger.info(
            `scrub of sealed segments done: ${bytes} bytes of ${segments} segment(s) checked in ${this.now() - started} ms, ${corrupt} corrupt batch(es)`,
          );
        })
        .catch((err) => this.logger.warn(`scrub of sealed segments failed: ${err instanceof Error ? err.message : String(err)}`))
        .finally(() => (this.scrubbing = undefined));
    }, SCRUB_TICK_MS);
    this.scrubTimer.unref();
  }

  /**
   * Starts the log cleaner (cleaner/log-cleaner.ts): compacted logs are cleaned in the background,
   * one at a time. Resolves once its checkpoints are read.
   */
  async startCleaner(opts: Omit<LogCleanerOptions, 'fs' | 'logDirs' | 'logs' | 'now' | 'logger'>): Promise<LogCleaner> {
    if (this.closed) throw closedError();
    if (this.cleaner) return this.cleaner;
    const cleaner = new LogCleaner({ ...opts, fs: this.fs, logDirs: this.logDirs, logs: () => this.all(), now: this.now, logger: this.logger });
    this.cleaner = cleaner;
    await cleaner.load();
    if (!this.closed) cleaner.start();
    return cleaner;
  }

  /** Writes both checkpoint files of a log dir if they changed; writes to one dir never overlap. */
  private checkpoint(logDir: string): Promise<void> {
    const write = async () => {
      const logs = this.all()
        .filter((l) => l.logDir === logDir)
        .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
      const recovery = logs.map((l) => ({ topic: l.topic, partition: l.partition, offset: l.recoveryPoint }));
      const start = logs.map((l) => ({ topic: l.topic, partition: l.partition, offset: l.logStartOffset }));
      const signature = checkpointSignature(recovery, start);
      if (this.lastCheckpoint.get(logDir) === signature) return;
      await writeCheckpoint(this.fs, logDir, RECOVERY_POINT_CHECKPOINT, recovery);
      await writeCheckpoint(this.fs, logDir, LOG_START_OFFSET_CHECKPOINT, start);
      this.lastCheckpoint.set(logDir, signature);
    };
    const prev = this.checkpointWrites.get(logDir) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(write);
    this.checkpointWrites.set(logDir, next);
    return next;
  }

  /**
   * Clean shutdown: flush and close every log, write the checkpoints, then the clean-shutdown
   * marker of each log dir whose logs all closed cleanly (a dir that failed is recovered next time).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.scrubTimer);
    this.scrubTimer = undefined;
    await this.scrubbing;
    await this.cleaner?.close();
    await this.maintenance?.catch(() => {});
    await Promise.allSettled([...this.creating.values()]);
    const failedDirs = new Set<string>();
    let firstError: unknown;
    await Promise.all(
      this.all().map(async (log) => {
        try {
          await log.close({ flush: true, reason: closedError() });
        } catch (err) {
          failedDirs.add(log.logDir);
          firstError ??= err;
          this.logger.error(`[${log.name}] did not close cleanly: ${String(err)}`);
        }
      }),
    );
    for (const logDir of this.logDirs) {
      if (failedDirs.has(logDir)) continue;
      try {
        await this.checkpoint(logDir);
        await writeFileAtomic(this.fs, logDir, CLEAN_SHUTDOWN_MARKER, Buffer.from('{"version":0,"brokerEpoch":-1}\n'));
      } catch (err) {
        firstError ??= err;
        this.logger.error(`cannot mark ${logDir} as cleanly shut down: ${String(err)}`);
      }
    }
    this.fs.close();
    if (firstError) throw storageError(firstError, 'log manager close');
  }
}

type CheckpointEntry = { topic: string; partition: number; offset: number };

/** A log dir whose partitions are loaded but in which nothing has been written yet. */
interface LoadedLogDir {
  logDir: string;
  loadedCount: number;
  /** `*-delete` partition dirs, removed once every dir loaded. */
  beingDeleted: string[];
  recoveryPoints: Map<string, number> | undefined;
  startOffsets: Map<string, number> | undefined;
  checkpointsReadable: boolean;
}

function checkpointSignature(recovery: CheckpointEntry[], start: CheckpointEntry[]): string {
  return JSON.stringify([recovery, start]);
}

/** A checkpoint file's entries (none when it is missing) in the order checkpoint() writes them. */
function entriesOf(offsets: Map<string, number> | undefined): CheckpointEntry[] {
  const out: CheckpointEntry[] = [];
  for (const [key, offset] of offsets ?? []) {
    const at = key.lastIndexOf(' ');
    out.push({ topic: key.slice(0, at), partition: Number(key.slice(at + 1)), offset });
  }
  return out.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

function closedError(): KafkaError {
  return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, 'the log manager is closed');
}
