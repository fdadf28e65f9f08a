// A partition's leader-epoch cache together with its file: every change that must be durable before
// the log changes (a new epoch, before its records are written) is awaited; those a stale file
// cannot hurt (the log start moved: the loader cuts such entries again) are written in the background.
import { storageError, type FileSystem } from './file-system.js';
import { type EpochEntry, LeaderEpochCache, writeLeaderEpochCheckpoint } from './leader-epoch-cache.js';

interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export class PartitionEpochs {
  /** Writes of leader-epoch-checkpoint, one after another. */
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly fs: FileSystem,
    private readonly dir: string,
    readonly cache: LeaderEpochCache,
    /** The cache differs from the file (repaired by the loader, or a failed write): written with the next flush. */
    private dirty: boolean,
    private readonly logger: Logger,
    private readonly name: string,
  ) {}

  /**
   * Before records are written: notes where each new epoch starts and writes the checkpoint first (as
   * Kafka does), so the file never lacks an epoch the log has; an entry a crash left ahead of the log
   * is cut by the loader. If the file cannot be written the cache is put back and this throws.
   */
  async assignStarts(starts: ReadonlyArray<readonly [epoch: number, startOffset: number]>): Promise<void> {
    let before: EpochEntry[] | undefined;
    for (const [epoch, startOffset] of starts) {
      if (epoch < 0 || !this.cache.isUpdateNeeded(epoch, startOffset)) continue;
      before ??= this.cache.entries();
      this.cache.assign(epoch, startOffset);
      this.logger.info(`[${this.name}] leader epoch ${epoch} starts at offset ${startOffset}`);
    }
    if (!before) return;
    try {
      await this.persist();
    } catch (err) {
      this.cache.reset(before);
      throw err;
    }
  }

  /** The log start moved (DeleteRecords, retention): written in the background, as Kafka does. */
  truncateFromStart(logStartOffset: number): void {
    if (!this.cache.truncateFromStart(logStartOffset)) return;
    void this.persist().catch((err: unknown) => this.logger.warn(String(err)));
  }

  /** The log was cut at `logEndOffset`: the epochs from there go (awaited; a failure is retried by the next flush). */
  async truncateFromEnd(logEndOffset: number): Promise<void> {
    if (!this.cache.truncateFromEnd(logEndOffset)) return;
    await this.persist().catch((err: unknown) => this.logger.warn(String(err)));
  }

  /** The log was emptied (truncateFullyAndStartAt): no epoch is left; awaited, as Kafka's clearAndFlush. */
  async clear(): Promise<void> {
    this.cache.reset([]);
    await this.persist();
  }

  /** Writes the cache if the file is behind it (best effort). */
  async flushIfDirty(): Promise<void> {
    if (this.dirty) await this.persist().catch((err: unknown) => this.logger.warn(String(err)));
  }

  /** Resolves once every write started so far has finished. */
  settled(): Promise<void> {
    return this.writes;
  }

  private persist(): Promise<void> {
    const entries = this.cache.entries();
    this.dirty = false;
    const run = this.writes.then(() => writeLeaderEpochCheckpoint(this.fs, this.dir, entries));
    this.writes = run.catch(() => {
      this.dirty = true;
    });
    return run.catch((err: unknown) => {
      throw storageError(err, `[${this.name}] cannot write leader-epoch-checkpoint`);
    });
  }
}
