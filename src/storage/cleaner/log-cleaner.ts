// The broker's log cleaner (Kafka's LogCleaner + LogCleanerManager): one cleaning at a time, in the
// background. Each round picks the compacted log with the highest dirty ratio (dirty bytes / bytes
// from the log start to the first uncleanable offset) above its min.cleanable.dirty.ratio, or one
// whose oldest dirty segment waited past max.compaction.lag.ms, cleans it (cleaner.ts) and records
// where the clean section now ends in `cleaner-offset-checkpoint` of its log dir. Nothing to clean:
// it looks again after log.cleaner.backoff.ms. A log whose cleaning fails is left alone until the
// next start (Kafka's uncleanable partitions), with an error logged.
import { partitionKey, readCheckpoint, writeCheckpoint } from '../checkpoint.js';
import type { FileSystem } from '../file-system.js';
import type { LogSegment } from '../log-segment.js';
import type { PartitionLog, StorageLogger } from '../partition-log.js';
import { type CleanStats, CleaningAbortedError, cleanLog } from './cleaner.js';

export const CLEANER_OFFSET_CHECKPOINT = 'cleaner-offset-checkpoint';

export interface LogCleanerOptions {
  fs: FileSystem;
  logDirs: readonly string[];
  logs: () => PartitionLog[];
  now: () => number;
  logger: StorageLogger;
  /** log.cleaner.backoff.ms: the pause when no log needs cleaning. */
  backoffMs: number;
  /** log.cleaner.dedupe.buffer.size. */
  dedupeBufferBytes: number;
  /** log.cleaner.io.max.bytes.per.second (read + written); Infinity = no limit. */
  maxIoBytesPerSecond: number;
}

/** What a round would clean in one log (Kafka's LogToClean). */
export interface LogToClean {
  log: PartitionLog;
  firstDirty: number;
  firstUncleanable: number;
  cleanBytes: number;
  cleanableBytes: number;
  ratio: number;
  needCompactionNow: boolean;
  forceCheckpoint: boolean;
}

/** The log's segments as the cleaner sees them: sealed ones, then the active one's base offset. */
function segmentsOf(log: PartitionLog): { sealed: readonly LogSegment[]; activeBase: number } {
  const bases = log.segmentBaseOffsets();
  return { sealed: log.sealedSegments, activeBase: bases[bases.length - 1] };
}

/** Kafka's cleanableOffsets + calculateCleanableBytes + maxCompactionDelay, for one log. */
export function cleanableRange(log: PartitionLog, checkpointed: number | undefined, now: number): LogToClean {
  const { sealed, activeBase } = segmentsOf(log);
  const logStart = log.logStartOffset;
  let firstDirty = checkpointed ?? logStart;
  let forceCheckpoint = false;
  if (firstDirty < logStart || firstDirty > log.logEndOffset) {
    firstDirty = logStart;
    forceCheckpoint = true;
  }
  const config = log.config;
  // Not past: the last stable offset (an open transaction's records may still be aborted), the
  // active segment, a segment holding records younger than min.compaction.lag.ms.
  let uncleanable = Math.min(log.lastStableOffset, activeBase);
  if (config.minCompactionLagMs > 0) {
    for (const seg of sealed) {
      if (seg.nextOffset <= firstDirty && seg.baseOffset < firstDirty) continue;
      const largest = seg.maxTimestamp >= 0 ? seg.maxTimestamp : seg.lastModifiedMs;
      if (largest > now - config.minCompactionLagMs) {
        uncleanable = Math.min(uncleanable, seg.baseOffset);
        break;
      }
    }
  }
  uncleanable = Math.max(firstDirty, uncleanable);
  // Cleaning stops at a segment boundary: the base of the segment holding the uncleanable offset.
  let firstUncleanable = activeBase;
  for (let i = sealed.length - 1; i >= 0; i--) {
    if (sealed[i].baseOffset <= uncleanable) {
      const next = i + 1 < sealed.length ? sealed[i + 1].baseOffset : activeBase;
      firstUncleanable = uncleanable >= next ? next : sealed[i].baseOffset;
      break;
    }
  }
  let cleanBytes = 0;
  let cleanableBytes = 0;
  const from = Math.min(firstDirty, firstUncleanable);
  for (let i = 0; i < sealed.length; i++) {
    const seg = sealed[i];
    const end = i + 1 < sealed.length ? sealed[i + 1].baseOffset : activeBase;
    if (end > logStart && seg.baseOffset < firstDirty) cleanBytes += seg.size;
    if (end > from && seg.baseOffset < firstUncleanable) cleanableBytes += seg.size;
  }
  // Counted twice when firstDirty falls inside a segment, as Kafka's logSegments(from, to) does.
  const total = cleanBytes + cleanableBytes;
  let earliestDirty = Infinity;
  for (const seg of sealed) {
    if (seg.baseOffset >= firstDirty || seg.nextOffset > firstDirty) {
      if (seg.firstBatchTimestamp > 0) earliestDirty = Math.min(earliestDirty, seg.firstBatchTimestamp);
    }
  }
  const needCompactionNow = earliestDirty < now - Math.max(0, config.maxCompactionLagMs);
  return {
    log,
    firstDirty,
    firstUncleanable,
    cleanBytes,
    cleanableBytes,
    ratio: total === 0 ? 0 : cleanableBytes / total,
    needCompactionNow,
    forceCheckpoint,
  };
}

export class LogCleaner {
  private readonly checkpoints = new Map<string, Map<string, number>>();
  private readonly uncleanable = new Set<PartitionLog>();
  private readonly checkpointWrites = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Totals since the start, for tools, tests and the bench. */
  readonly totals = { rounds: 0, bytesRead: 0, bytesWritten: 0, recordsRead: 0, recordsKept: 0, cleaningMs: 0 };
  lastStats: (CleanStats & { log: string }) | undefined;

  constructor(private readonly opts: LogCleanerOptions) {}

  /** Reads every log dir's checkpoint (a damaged one: every compacted log there is cleaned from its start). */
  async load(): Promise<void> {
    for (const dir of this.opts.logDirs) {
      const { offsets, problem } = await readCheckpoint(this.opts.fs, dir, CLEANER_OFFSET_CHECKPOINT);
      if (problem) this.opts.logger.warn(`${dir}/${CLEANER_OFFSET_CHECKPOINT} ${problem}; compacted logs there are cleaned from their start`);
      this.checkpoints.set(dir, offsets ?? new Map());
    }
  }

  /** Where the clean section of `log` ends (its first dirty offset), if a cleaning recorded it. */
  checkpointed(log: PartitionLog): number | undefined {
    return this.checkpoints.get(log.logDir)?.get(partitionKey(log.topic, log.partition));
  }

  start(): void {
    if (this.stopped || this.timer) return;
    const loop = () => {
      this.timer = undefined;
      if (this.stopped) return;
      this.running = this.runOnce()
        .then((cleaned) => {
          if (!this.stopped) this.timer = setTimeout(loop, cleaned ? 0 : this.opts.backoffMs);
          this.timer?.unref();
        })
        .catch((err) => {
          this.opts.logger.error(`log cleaner round failed: ${err instanceof Error ? err.message : String(err)}`);
          if (!this.stopped) this.timer = setTimeout(loop, this.opts.backoffMs);
          this.timer?.unref();
        });
    };
    this.timer = setTimeout(loop, 0);
    this.timer.unref();
  }

  /** The log a round would clean now, if any. */
  filthiest(now = this.opts.now()): LogToClean | undefined {
    let best: LogToClean | undefined;
    for (const log of this.opts.logs()) {
      if (!log.config.compact || this.uncleanable.has(log) || log.sealedSegments.length === 0) continue;
      const candidate = cleanableRange(log, this.checkpointed(log), now);
      if (candidate.cleanBytes + candidate.cleanableBytes === 0) continue;
      const due = (candidate.needCompactionNow && candidate.cleanableBytes > 0) || candidate.ratio > log.config.minCleanableRatio;
      if (!due || candidate.firstUncleanable <= candidate.firstDirty) continue;
      if (!best || candidate.ratio > best.ratio) best = candidate;
    }
    return best;
  }

  /** One round: cleans the filthiest log if one is due. Returns whether it cleaned. */
  async runOnce(): Promise<boolean> {
    const now = this.opts.now();
    const target = this.filthiest(now);
    if (!target) return false;
    const { log } = target;
    try {
      const stats = await cleanLog(log, target.firstDirty, target.firstUncleanable, {
        now,
        maxMapBytes: this.opts.dedupeBufferBytes,
        checkDone: () => {
          if (this.stopped) throw new CleaningAbortedError('the log cleaner is stopping');
        },
        throttle: (bytes) => this.throttle(bytes),
      });
      this.totals.rounds++;
      this.totals.bytesRead += stats.bytesRead;
      this.totals.bytesWritten += stats.bytesWritten;
      this.totals.recordsRead += stats.recordsRead;
      this.totals.recordsKept += stats.recordsKept;
      this.totals.cleaningMs += stats.durationMs;
      this.lastStats = { ...stats, log: log.name };
      await this.saveCheckpoint(log, stats.endOffset);
      this.opts.logger.info(
        `[${log.name}] cleaned offsets ${target.firstDirty}..${stats.endOffset - 1} (dirty ratio ${target.ratio.toFixed(2)}): ` +
          `${stats.segmentsBefore} segment(s) -> ${stats.segmentsAfter}, ${stats.bytesRead} bytes read, ${stats.bytesWritten} written, ` +
          `${stats.recordsKept} of ${stats.recordsRead} records kept, ${stats.mapEntries} keys, ${stats.durationMs} ms`,
      );
      return true;
    } catch (err) {
      if (err instanceof CleaningAbortedError) {
        if (!this.stopped) this.opts.logger.info(`[${log.name}] cleaning abandoned: ${err.message}`);
        return false;
      }
      if (this.opts.logs().includes(log) && !this.stopped) {
        this.uncleanable.add(log);
        this.opts.logger.error(`[${log.name}] cleaning failed, not cleaned again until the next start: ${err instanceof Error ? err.message : String(err)}`);
      }
      return false;
    }
  }

  private ioWindowStart = 0;
  private ioWindowBytes = 0;

  /** Keeps read + written bytes under log.cleaner.io.max.bytes.per.second (one-second windows). */
  private async throttle(bytes: number): Promise<void> {
    const limit = this.opts.maxIoBytesPerSecond;
    if (!Number.isFinite(limit) || limit <= 0) return;
    const now = Date.now();
    if (now - this.ioWindowStart >= 1000) {
      this.ioWindowStart = now;
      this.ioWindowBytes = 0;
    }
    this.ioWindowBytes += bytes;
    if (this.ioWindowBytes > limit) {
      const wait = this.ioWindowStart + 1000 - now;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  private saveCheckpoint(log: PartitionLog, offset: number): Promise<void> {
    const dir = log.logDir;
    let offsets = this.checkpoints.get(dir);
    if (!offsets) this.checkpoints.set(dir, (offsets = new Map()));
    offsets.set(partitionKey(log.topic, log.partition), offset);
    const write = async () => {
      // Partitions gone from this dir (deleted, moved) drop out of the file.
      const live = new Set(this.opts.logs().filter((l) => l.logDir === dir).map((l) => partitionKey(l.topic, l.partition)));
      const entries = [...offsets]
        .filter(([key]) => live.has(key))
        .map(([key, value]) => {
          const at = key.lastIndexOf(' ');
          return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)), offset: value };
        })
        .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
      await writeCheckpoint(this.opts.fs, dir, CLEANER_OFFSET_CHECKPOINT, entries);
    };
    const next = (this.checkpointWrites.get(dir) ?? Promise.resolve()).catch(() => {}).then(write);
    this.checkpointWrites.set(dir, next);
    return next;
  }

  /** Stops after the chunk under way (its cleaned files are removed), and waits for it. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => {});
    await Promise.allSettled([...this.checkpointWrites.values()]);
  }
}
