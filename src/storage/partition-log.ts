// One partition's log: an ordered list of segments, the last one active. Appends (and everything
// else that changes the segment list) run one at a time on a promise chain; reads take a snapshot of
// the segment list and pin the segments they touch, so they run in parallel with all of it.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { BatchOffset, setLogAppendTime } from '../protocol/records/batch-header.js';
import {
  INT32_MAX,
  batchSizeAt,
  maxTimestampAt,
  readInt64,
  validateAppend,
  withoutProducerIds,
  writeInt64,
} from './batch-scan.js';
import type { LogConfig } from './config.js';
import { type FileSystem, storageError } from './file-system.js';
import type { CorruptBatch } from './checked-batches.js';
import { LogSegment, type SegmentContext } from './log-segment.js';
import { ProducerStateManager } from './producer-state.js';
import { indexAborted } from './txn-index.js';
import { buildControlBatch } from '../protocol/records/control-batch.js';
import { restoreProducerState, writeProducerSnapshot } from './producer-snapshots.js';
import { type ReplicaLogView, appendReplicated, emptyLogAt, truncateLogTo } from './replica-log.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { PartitionEpochs } from './partition-epochs.js';
import { SegmentDeletions } from './segment-deletions.js';
import { swapInCleaned } from './cleaner/swap.js';
import { applyRetention, dropSegmentsBelowLogStart } from './log-retention.js';
import { legacyOffsetsBefore, maxTimestampOffset, offsetForTimestamp } from './timestamp-lookups.js';
import { type ReadOptions, type ReadResult, type ReadView, readLog } from './log-read.js';

export type { ReadResult } from './log-read.js';

export interface StorageLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The broker's time written into the batches, or -1 with CreateTime. */
  logAppendTime: number;
  logStartOffset: number;
  recordCount: number;
}

/** What a partition log asks of its manager. */
export interface PartitionLogHooks {
  /** Persist the log start offset (DeleteRecords must survive a restart). */
  logStartOffsetChanged(log: PartitionLog): Promise<void>;
  /** The recovery point moved in the background (a rolled or recovered segment is durable now). */
  recoveryPointChanged?(log: PartitionLog): Promise<void>;
}

/** @internal Built by the loader (LogManager.open / create), not by callers. */
export interface PartitionLogInit {
  fs: FileSystem;
  topic: string;
  partition: number;
  /** The log dir this partition lives in (a member of log.dirs). */
  logDir: string;
  dir: string;
  config: LogConfig;
  segments: LogSegment[];
  logStartOffset: number;
  recoveryPoint: number;
  now: () => number;
  logger: StorageLogger;
  hooks: PartitionLogHooks;
  /** From leader-epoch-checkpoint (checked against the log by the loader); empty for a new log. */
  leaderEpochs?: LeaderEpochCache;
  /** The loader repaired the cache: written with the next flush (nothing is written while loading). */
  leaderEpochsDirty?: boolean;
}

/** One write carries at most this many bytes of coalesced appends. */
const MAX_COALESCED_BYTES = 8 << 20;

/** An append waiting in a group (see PartitionLog.append). */
interface PendingAppend {
  records: Buffer;
  recordCount: number;
  opts: { now?: number; leaderEpoch?: number };
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
}

export class PartitionLog implements SegmentContext {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  readonly logDir: string;
  readonly fs: FileSystem;
  private _config: LogConfig;
  /** Replaced, never mutated, so a reader's snapshot stays valid. */
  private segments: LogSegment[];
  private _logStartOffset: number;
  private _recoveryPoint: number;
  private chain: Promise<unknown> = Promise.resolve();
  /** The group of appends queued last on the chain and not started yet: the next append joins it. */
  private openGroup: PendingAppend[] | undefined;
  private readonly listeners = new Set<() => void>();
  private replicatedHighWatermark: number | null = null;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  /** Segments on their way out (segment-deletions.ts). */
  private readonly deletions: SegmentDeletions;
  private closedWith: KafkaError | undefined;
  private _truncations = 0;
  private readonly now: () => number;
  private readonly logger: StorageLogger;
  private readonly hooks: PartitionLogHooks;
  /** Idempotent producers' epochs and last batches (producer-state.ts). */
  readonly producerState = new ProducerStateManager();
  /** The snapshot written in the background after a roll (close waits for it). */
  private snapshotWrite: Promise<void> = Promise.resolve();
  /** The background flush of segments no longer written (close waits for it). */
  private inactiveFlush: Promise<void> = Promise.resolve();
  /** Where each leader epoch's records start, mirrored to leader-epoch-checkpoint (partition-epochs.ts). */
  private readonly epochs: PartitionEpochs;

  /** @internal */
  constructor(init: PartitionLogInit) {
    this.fs = init.fs;
    this.topic = init.topic;
    this.partition = init.partition;
    this.logDir = init.logDir;
    this.dir = init.dir;
    this._config = init.config;
    this.segments = init.segments;
    this._logStartOffset = init.logStartOffset;
    this._recoveryPoint = init.recoveryPoint;
    this.now = init.now;
    this.logger = init.logger;
    this.hooks = init.hooks;
    this.lastFlushMs = init.now();
    const cache = init.leaderEpochs ?? new LeaderEpochCache();
    this.deletions = new SegmentDeletions(this.name, init.logger);
    this.epochs = new PartitionEpochs(init.fs, init.dir, cache, init.leaderEpochsDirty ?? false, init.logger, this.name);
  }

  get name(): string {
    return `${this.topic}-${this.partition}`;
  }
  /** Where each leader epoch's records start (leader-epoch-cache.ts); read-only for callers. */
  get leaderEpochs(): LeaderEpochCache {
    return this.epochs.cache;
  }
  get config(): LogConfig {
    return this._config;
  }
  /** New values apply to the next append, roll and retention check (index sizes to new segments). */
  updateConfig(config: LogConfig): void {
    this._config = config;
  }
  get logStartOffset(): number {
    return this._logStartOffset;
  }
  get logEndOffset(): number {
    return this.active.nextOffset;
  }
  /**
   * The offset below which consumers may read. A partition with one replica: its log end. A
   * replicated one: what replication last set (every in-sync replica has the records below it).
   */
  get highWatermark(): number {
    return this.replicatedHighWatermark === null ? this.logEndOffset : Math.min(this.replicatedHighWatermark, this.logEndOffset);
  }
  /**
   * The last stable offset: read_committed consumers read below it. The first offset of the oldest
   * open transaction (or of a closed one whose marker the high watermark has not passed), else the
   * high watermark.
   */
  get lastStableOffset(): number {
    const hw = this.highWatermark;
    return Math.min(this.producerState.firstUnstableOffset(hw), hw);
  }
  /** Replication's high watermark (null: the log end); readers waiting on the log are woken when it moves. */
  setHighWatermark(offset: number | null): void {
    const before = this.highWatermark;
    this.replicatedHighWatermark = offset;
    if (this.highWatermark !== before) this.notifyAppend();
  }
  /** Offsets below this are known to be on disk (fdatasync'ed). */
  get recoveryPoint(): number {
    return this._recoveryPoint;
  }
  /** Bytes of all segments. */
  get size(): number {
    let total = 0;
    for (const seg of this.segments) total += seg.size;
    return total;
  }
  get segmentCount(): number {
    return this.segments.length;
  }
  /** Base offsets of the segments, oldest first (for tools and tests). */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }
  /** The segments before the active one (scrub.ts), none once the log is closed. */
  get sealedSegments(): readonly LogSegment[] {
    return this.closedWith ? [] : this.segments.slice(0, -1);
  }
  private get active(): LogSegment {
    return this.segments[this.segments.length - 1];
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs `fn` after everything queued before it; a failure does not stop what comes after. */
  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    this.openGroup = undefined; // an append after this must not be written before it
    const run = this.chain.then(() => {
      if (this.closedWith) throw this.closedWith;
      return fn();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  private checkOpen(): void {
    if (this.closedWith) throw this.closedWith;
  }

  // ---- append ----

  async append(records: Buffer, opts: { now?: number; leaderEpoch?: number } = {}): Promise<AppendResult> {
    this.checkOpen();
    const { records: recordCount } = validateAppend(records, this._config.maxMessageBytes, this._config.segmentBytes);
    if (recordCount === 0) {
      return { baseOffset: -1, lastOffset: -1, logAppendTime: -1, logStartOffset: this._logStartOffset, recordCount: 0 };
    }
    if (!withoutProducerIds(records)) return this.enqueue(() => this.appendNow(records, recordCount, opts));
    // Appends that arrive while the chain is busy (overlapping produce requests, other clients) join
    // one group, written with one pwrite and, with flush.messages, one fdatasync: a group commit.
    return new Promise<AppendResult>((resolve, reject) => {
      const item: PendingAppend = { records, recordCount, opts, resolve, reject };
      if (this.openGroup) {
        this.openGroup.push(item);
        return;
      }
      const group = [item];
      this.enqueue(() => this.appendGroup(group)).catch((err: unknown) => {
        // The log closed before the group ran.
        if (this.openGroup === group) this.openGroup = undefined;
        for (const it of group) it.reject(err);
      });
      this.openGroup = group;
    });
  }

  /**
   * Writes a group of appends in order: as many as fit in one write (same segment, no roll needed,
   * MAX_COALESCED_BYTES) at a time. Each append gets the result a lone append would have had; a
   * failed write fails the appends it carried, and the ones after it are tried on their own.
   */
  private async appendGroup(group: PendingAppend[]): Promise<void> {
    if (this.openGroup === group) this.openGroup = undefined;
    const config = this._config;
    const logAppendTime = config.messageTimestampType === 'LogAppendTime';
    let i = 0;
    while (i < group.length) {
      const run: PendingAppend[] = [];
      const results: AppendResult[] = [];
      let segment = this.active;
      let next = this.logEndOffset;
      let bytes = 0;
      let records = 0;
      let now = 0;
      try {
        while (i < group.length) {
          const item = group[i];
          const itemNow = item.opts.now ?? this.now();
          const baseOffset = next;
          let last = next;
          let maxTimestamp = -1;
          const buf = item.records;
          for (let p = 0; p < buf.length; ) {
            writeInt64(buf, p + BatchOffset.baseOffset, last);
            // The leader's epoch goes into every batch (a producer sends -1); the CRC does not cover it.
            buf.writeInt32BE(item.opts.leaderEpoch ?? this.defaultEpoch(), p + BatchOffset.partitionLeaderEpoch);
            if (logAppendTime) setLogAppendTime(buf, p, itemNow);
            maxTimestamp = Math.max(maxTimestamp, maxTimestampAt(buf, p));
            last += buf.readInt32BE(p + BatchOffset.lastOffsetDelta) + 1;
            p += batchSizeAt(buf, p);
          }
          if (run.length === 0) {
            if (this.shouldRoll(segment, buf.length, last - 1, maxTimestamp, itemNow)) segment = await this.roll(itemNow);
          } else if (
            bytes + buf.length > MAX_COALESCED_BYTES ||
            segment.size + bytes + buf.length > config.segmentBytes ||
            last - 1 - segment.baseOffset > INT32_MAX ||
            this.shouldRoll(segment, bytes + buf.length, last - 1, maxTimestamp, itemNow)
          ) {
            break; // the next write starts with it (its offsets are assigned again then; it may roll)
          }
          run.push(item);
          results.push({
            baseOffset,
            lastOffset: last - 1,
            logAppendTime: logAppendTime ? itemNow : -1,
            logStartOffset: this._logStartOffset,
            recordCount: item.recordCount,
          });
          bytes += buf.length;
          records += item.recordCount;
          now = Math.max(now, itemNow);
          next = last;
          i++;
        }
        await this.epochs.assignStarts(run.map((it, k) => [it.opts.leaderEpoch ?? this.defaultEpoch(), results[k].baseOffset]));
        const sync = this.unflushedMessages + records >= config.flushIntervalMessages;
        await segment.append(run.map((it) => it.records), sync, now);
        for (const it of run) this.producerState.update(it.records);
        this.unflushedMessages += records;
        if (sync) {
          await this.flushNow().catch((err) => this.logger.warn(`[${this.name}] flush after append failed: ${String(err)}`));
        }
      } catch (err) {
        if (run.length === 0) group[i++].reject(err); // its roll failed
        for (const it of run) it.reject(err);
        continue;
      }
      this.notifyAppend();
      for (let k = 0; k < run.length; k++) run[k].resolve(results[k]);
    }
  }

  private notifyAppend(): void {
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (err) {
        this.logger.warn(`[${this.name}] append listener threw: ${String(err)}`);
      }
    }
  }

  private async appendNow(records: Buffer, recordCount: number, opts: { now?: number; leaderEpoch?: number }): Promise<AppendResult> {
    const config = this._config;
    const now = opts.now ?? this.now();
    const logAppendTime = config.messageTimestampType === 'LogAppendTime';
    const leaderEpoch = opts.leaderEpoch ?? this.defaultEpoch();
    // Idempotent producers: a retry of a batch already in the log gets that batch's offsets and is
    // not written again; a sequence gap or a stale epoch throws (producer-state.ts).
    const duplicate = this.producerState.checkAppend(records);
    if (duplicate) {
      return {
        baseOffset: duplicate.firstOffset,
        lastOffset: duplicate.lastOffset,
        logAppendTime: logAppendTime ? duplicate.timestamp : -1,
        logStartOffset: this._logStartOffset,
        recordCount: 0,
      };
    }
    const baseOffset = this.logEndOffset;
    let next = baseOffset;
    let maxTimestamp = -1;
    for (let p = 0; p < records.length; ) {
      writeInt64(records, p + BatchOffset.baseOffset, next);
      records.writeInt32BE(leaderEpoch, p + BatchOffset.partitionLeaderEpoch);
      if (logAppendTime) setLogAppendTime(records, p, now);
      maxTimestamp = Math.max(maxTimestamp, maxTimestampAt(records, p));
      next += records.readInt32BE(p + BatchOffset.lastOffsetDelta) + 1;
      p += batchSizeAt(records, p);
    }
    const lastOffset = next - 1;
    let segment = this.active;
    if (this.shouldRoll(segment, records.length, lastOffset, maxTimestamp, now)) segment = await this.roll(now);
    await this.epochs.assignStarts([[leaderEpoch, baseOffset]]);
    const sync = this.unflushedMessages + recordCount >= config.flushIntervalMessages;
    await segment.append(records, sync, now);
    const aborted = this.producerState.update(records);
    if (aborted) await indexAborted(segment, aborted, this.logger, this.name);
    this.unflushedMessages += recordCount;
    if (sync) {
      // The data is durable already; this persists the indexes and moves the recovery point.
      await this.flushNow().catch((err) => this.logger.warn(`[${this.name}] flush after append failed: ${String(err)}`));
    }
    this.notifyAppend();
    return {
      baseOffset,
      lastOffset,
      logAppendTime: logAppendTime ? now : -1,
      logStartOffset: this._logStartOffset,
      recordCount,
    };
  }

  /**
   * Writes a transaction marker (a COMMIT or ABORT control batch) for the transaction coordinator
   * (src/broker/transactions/markers.ts): it ends the producer's open transaction here, which moves
   * the last stable offset, and an ABORT of a transaction with records here goes into the active
   * segment's transaction index. A marker with an older producer epoch is refused with
   * INVALID_PRODUCER_EPOCH, one from an older coordinator epoch with TRANSACTION_COORDINATOR_FENCED.
   */
  appendControlMarker(m: { producerId: number; producerEpoch: number; coordinatorEpoch: number; commit: boolean; leaderEpoch?: number; now?: number; transactionVersion?: number }): Promise<AppendResult> {
    this.checkOpen();
    return this.enqueue(() => {
      this.producerState.checkMarker(m.producerId, m.producerEpoch, m.coordinatorEpoch, m.transactionVersion ?? 0);
      const now = m.now ?? this.now();
      const batch = buildControlBatch(m.commit ? 'COMMIT' : 'ABORT', { producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch, timestamp: now });
      return this.appendNow(batch, 1, { now, leaderEpoch: m.leaderEpoch });
    });
  }

  // ---- leader epochs ----

  /** The epoch stamped into appended batches when the caller names none: the latest one here, else 0. */
  private defaultEpoch(): number {
    return this.leaderEpochs.latestEpoch() ?? 0;
  }

  /**
   * A leader that takes over at `epoch` notes it at the log end at once (Kafka does so when it becomes
   * leader), so OffsetForLeaderEpoch and ListOffsets answer the new epoch before anything is written
   * in it. Older or equal epochs change nothing.
   */
  maybeAssignEpochStartOffset(epoch: number): Promise<void> {
    const latest = this.leaderEpochs.latestEpoch();
    if (epoch < 0 || (latest !== undefined && epoch <= latest)) return Promise.resolve();
    return this.enqueue(async () => {
      const now = this.leaderEpochs.latestEpoch();
      if (now === undefined || epoch > now) await this.epochs.assignStarts([[epoch, this.logEndOffset]]);
    });
  }

  /** Where `requestedEpoch` ended here (OffsetForLeaderEpoch); (-1, -1) when this log cannot say. */
  endOffsetForEpoch(requestedEpoch: number): { epoch: number; endOffset: number } {
    return this.leaderEpochs.endOffsetFor(requestedEpoch, this.logEndOffset);
  }

  private shouldRoll(seg: LogSegment, bytes: number, lastOffset: number, maxTimestamp: number, now: number): boolean {
    if (seg.isEmpty) return false;
    const c = this._config;
    if (seg.size + bytes > c.segmentBytes) return true;
    if (seg.offsetIndex.isFull || seg.timeIndex.isFull) return true;
    if (lastOffset - seg.baseOffset > INT32_MAX) return true;
    // segment.ms counts in record time when the segment's first batch has one (as Kafka does).
    const waited = seg.firstBatchTimestamp >= 0 ? maxTimestamp - seg.firstBatchTimestamp : now - seg.createdMs;
    return waited > c.segmentMs;
  }

  /** Starts a new active segment at the log end offset. */
  private async roll(now: number, baseOffset = this.logEndOffset): Promise<LogSegment> {
    const old = this.active;
    let seg: LogSegment;
    try {
      seg = await LogSegment.create(this, this.dir, baseOffset, now);
    } catch (err) {
      throw storageError(err, `[${this.name}] cannot roll a new segment at ${baseOffset}`);
    }
    this.segments = [...this.segments, seg];
    try {
      await old.seal();
    } catch (err) {
      this.logger.warn(`[${this.name}] writing the indexes of segment ${old.baseOffset} failed (flush retries): ${String(err)}`);
    }
    this.logger.info(`[${this.name}] rolled new segment at offset ${seg.baseOffset}`);
    void this.snapshotProducerState(); // off the append path: its fsyncs would delay the produce
    void this.flushInactiveSegments(); // as Kafka: the old segment is flushed, the recovery point moves
    return seg;
  }

  // ---- read ----

  async read(fetchOffset: number, maxBytes: number, opts: ReadOptions = {}): Promise<ReadResult> {
    this.checkOpen();
    return readLog(this.readView(), fetchOffset, maxBytes, opts);
  }

  private readView(): ReadView {
    return {
      name: this.name,
      segments: this.segments,
      logStartOffset: this._logStartOffset,
      highWatermark: this.highWatermark,
      lastStableOffset: this.lastStableOffset,
      logEndOffset: this.logEndOffset,
      corruptBatchError: (seg, batch) => this.corruptBatchError(seg, batch),
    };
  }

  /**
   * A batch whose CRC-32C does not match is never served: the fetch of it answers
   * KAFKA_STORAGE_ERROR (the batches before and after it are still served). Logged once per batch.
   */
  corruptBatchError(seg: LogSegment, batch: CorruptBatch): KafkaError {
    const where = `offsets ${batch.baseOffset}..${batch.lastOffset} at byte ${batch.position} of ${seg.logPath}`;
    if (batch.isNew) this.logger.error(`[${this.name}] CRC-32C mismatch in the batch of ${where}: corrupt on disk, not served (KAFKA_STORAGE_ERROR)`);
    return Object.assign(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `[${this.name}] corrupt batch (CRC-32C mismatch) of ${where}`), {
      corruptLastOffset: batch.lastOffset,
    });
  }

  async offsetForTimestamp(timestamp: number): Promise<{ offset: number; timestamp: number } | null> {
    this.checkOpen();
    return offsetForTimestamp(this.segments, this._logStartOffset, timestamp, this.name);
  }

  async maxTimestampOffset(): Promise<{ offset: number; timestamp: number } | null> {
    this.checkOpen();
    return maxTimestampOffset(this.segments, this._logStartOffset, this.name);
  }

  /** ListOffsets v0's answer: see legacyOffsetsBefore in timestamp-lookups.ts. */
  legacyOffsetsBefore(timestamp: number, maxNumOffsets: number, now: number): number[] {
    this.checkOpen();
    return legacyOffsetsBefore(this.segments, this._logStartOffset, this.logEndOffset, timestamp, maxNumOffsets, now);
  }

  // ---- log start offset, retention ----

  /**
   * Moves the log start offset to `offset` (never back); `reason` is logged: a client's DeleteRecords
   * on the leader, or a follower following its leader's log start (which retention may have moved).
   */
  deleteRecordsBefore(offset: number, reason = 'DeleteRecords'): Promise<number> {
    return this.enqueue(async () => {
      if (!Number.isInteger(offset) || offset < 0 || offset > this.highWatermark) {
        throw new KafkaError(
          ErrorCode.OFFSET_OUT_OF_RANGE,
          `cannot delete records before ${offset}: the high watermark of ${this.name} is ${this.highWatermark}`,
        );
      }
      if (offset <= this._logStartOffset) return this._logStartOffset;
      // The records below the new start are made durable before the checkpoint says they are gone: a
      // power cut can then never leave a checkpointed log start past the log end, and the loader can
      // refuse one as damage instead of deleting the partition (as Kafka does).
      if (offset > this._recoveryPoint) await this.flushNow();
      this._logStartOffset = offset;
      this.logger.info(`[${this.name}] log start offset moved to ${offset} (${reason})`);
      this.epochs.truncateFromStart(this._logStartOffset);
      dropSegmentsBelowLogStart(this.replicaView());
      try {
        await this.hooks.logStartOffsetChanged(this);
      } catch (err) {
        throw storageError(err, `[${this.name}] cannot checkpoint the log start offset`);
      }
      return this._logStartOffset;
    });
  }

  /** Retention (time, size, log start offset; log-retention.ts) and flush.ms. Returns whether the log start offset moved. */
  runMaintenance(now: number): Promise<boolean> {
    return this.enqueue(async () => {
      const c = this._config;
      const before = this._logStartOffset;
      await applyRetention(this.replicaView(), now);
      if (this.unflushedMessages > 0 && now - this.lastFlushMs >= c.flushIntervalMs) await this.flushNow();
      this.producerState.expire(now); // idempotent producers silent for a day are forgotten, as in Kafka
      return this._logStartOffset !== before;
    });
  }

  /**
   * A follower's append: whole batches as its leader wrote them, offsets and leader epochs kept,
   * starting at or after the log end (replica-log.ts).
   */
  appendAsFollower(records: Buffer, opts: { now?: number } = {}): Promise<AppendResult> {
    this.checkOpen();
    const { records: recordCount } = validateAppend(records, this._config.maxMessageBytes, this._config.segmentBytes, true);
    return this.enqueue(() => appendReplicated(this.replicaView(), records, recordCount, opts.now ?? this.now()));
  }

  /**
   * Removes every record at and after `offset` (the whole batch holding it) and returns the new log
   * end offset; refused below the log start, and below the high watermark unless
   * `belowHighWatermark`. Crash-safe (replica-log.ts).
   */
  truncateTo(offset: number, opts: { belowHighWatermark?: boolean } = {}): Promise<number> {
    this._truncations++; // a cleaning that read the segments before this must not swap its result in
    return this.enqueue(() => truncateLogTo(this.replicaView(), offset, opts.belowHighWatermark ?? false));
  }

  /**
   * Resolves once everything queued on the log so far (appends, truncations) has run. A follower asks
   * its leader about its log only after this: an append the broker queued in its previous role
   * (a produce it accepted as leader, the previous fetcher's batch) counts in the question.
   */
  settled(): Promise<void> {
    return this.enqueue(async () => {}).catch(() => {});
  }

  /** Empties the log and starts it at `offset` (Kafka's truncateFullyAndStartAt; replica-log.ts). */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || offset < 0) return Promise.reject(new KafkaError(ErrorCode.INVALID_REQUEST, `cannot start ${this.name} at ${offset}`));
    this._truncations++;
    return this.enqueue(() => emptyLogAt(this.replicaView(), offset));
  }

  /** Truncations so far: the cleaner swaps its work in only if none happened while it read. */
  get truncations(): number {
    return this._truncations;
  }

  /** @internal The cleaner's swap of a cleaned segment for the ones it replaces (cleaner/swap.ts), on the chain. */
  replaceSegments(cleaned: LogSegment, old: readonly LogSegment[], truncationsSeen: number): Promise<boolean> {
    return this.enqueue(() => swapInCleaned(this.replicaView(), cleaned, old, truncationsSeen === this._truncations));
  }

  /** What the follower-side operations (replica-log.ts) may see and change; used on the chain only. */
  private replicaView(): ReplicaLogView {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const log = this;
    return {
      log,
      epochs: this.epochs,
      deletions: this.deletions,
      hooks: this.hooks,
      logger: this.logger,
      now: this.now,
      get segments() {
        return log.segments;
      },
      set segments(v) {
        log.segments = v;
      },
      setLogStartOffset: (v) => (this._logStartOffset = v),
      setRecoveryPoint: (v) => (this._recoveryPoint = v),
      addUnflushed: (n) => (this.unflushedMessages = n < 0 ? 0 : this.unflushedMessages + n),
      unflushedMessages: () => this.unflushedMessages,
      shouldRoll: (seg, bytes, lastOffset, maxTimestamp, now) => this.shouldRoll(seg, bytes, lastOffset, maxTimestamp, now),
      roll: (now, baseOffset) => this.roll(now, baseOffset),
      flushNow: () => this.flushNow(),
      notifyAppend: () => this.notifyAppend(),
      snapshotWritten: () => this.snapshotWrite,
    };
  }

  // ---- producer state (idempotence) ----

  /** @internal The loader calls this once the segments are recovered. */
  loadProducerState(): Promise<void> {
    return restoreProducerState(this.fs, this.dir, this.producerState, this.segments, this.logger, this.name);
  }

  /**
   * Snapshots the state as of now (serialized at once, written after any earlier snapshot). Best
   * effort: without a snapshot the next load replays more batch headers, nothing worse.
   */
  private snapshotProducerState(): Promise<void> {
    const snapshot = this.producerState.serialize();
    const offset = this.logEndOffset;
    this.snapshotWrite = this.snapshotWrite.then(() =>
      writeProducerSnapshot(this.fs, this.dir, snapshot, offset).catch((err) => {
        this.logger.warn(`[${this.name}] writing the producer state snapshot at ${offset} failed: ${String(err)}`);
      }),
    );
    return this.snapshotWrite;
  }

  // ---- flush, close ----

  flush(): Promise<void> {
    return this.enqueue(() => this.flushNow());
  }

  /**
   * Flushes, off the append chain, every segment before the active one (nothing appends to them any
   * more), then moves the recovery point to the active segment's base offset and reports it, so a
   * crash later only re-validates the active segment. Runs after a roll and after loading a log that
   * needed recovery. Segments taken out of the log meanwhile (renamed for deletion) are skipped
   * (LogSegment.needsFlush). Best effort: a failure, or a truncation that took that active segment away
   * meanwhile (what was below its base may be cut and rewritten, unflushed), leaves it where it was.
   */
  flushInactiveSegments(): Promise<void> {
    this.inactiveFlush = this.inactiveFlush.then(async () => {
      const segments = this.segments;
      const active = segments[segments.length - 1];
      const upTo = active.baseOffset;
      if (this.closedWith || upTo <= this._recoveryPoint) return;
      try {
        for (const seg of segments.slice(0, -1)) {
          if (seg.closed || !seg.needsFlush) continue;
          seg.pin(); // a segment deleted meanwhile keeps its files until this is done
          try {
            await seg.flush();
          } finally {
            seg.unpin();
          }
        }
      } catch (err) {
        if (!this.closedWith) this.logger.warn(`[${this.name}] background flush up to ${upTo} failed: ${String(err)}`);
        return;
      }
      if (this.closedWith || upTo <= this._recoveryPoint || !this.segments.includes(active)) return;
      this._recoveryPoint = upTo;
      await this.hooks.recoveryPointChanged?.(this).catch((err: unknown) => {
        this.logger.warn(`[${this.name}] checkpointing recovery point ${upTo} failed: ${String(err)}`);
      });
    });
    return this.inactiveFlush;
  }

  private async flushNow(): Promise<void> {
    const upTo = this.logEndOffset;
    try {
      for (const seg of this.segments) if (seg.needsFlush) await seg.flush();
    } catch (err) {
      throw storageError(err, `[${this.name}] flush failed`);
    }
    this._recoveryPoint = Math.max(this._recoveryPoint, upTo);
    this.unflushedMessages = 0;
    await this.epochs.flushIfDirty();
    this.lastFlushMs = this.now();
  }

  /**
   * @internal Flushes and closes the files; later calls fail with `reason`. `flush: false` is for a
   * partition being deleted. Rejects if the final flush failed (the log is closed anyway).
   */
  close(opts: { flush: boolean; reason: KafkaError }): Promise<void> {
    this.openGroup = undefined; // appends after this fail with `reason`
    const done = this.chain.then(async () => {
      if (this.closedWith) return;
      this.closedWith = opts.reason;
      let failure: unknown;
      await this.inactiveFlush;
      if (opts.flush) {
        try {
          this.active.timeIndex.maybeAppend(this.active.maxTimestamp, this.active.offsetOfMaxTimestamp);
          await this.flushNow();
        } catch (err) {
          failure = err;
        }
        await this.snapshotProducerState();
      }
      await this.snapshotWrite; // a snapshot from a roll may still be on its way
      await this.epochs.settled();
      await this.deletions.finish();
      const closes = await Promise.allSettled(this.segments.map((s) => s.close()));
      for (const r of closes) if (r.status === 'rejected') failure ??= r.reason;
      this.listeners.clear();
      if (failure) throw storageError(failure, `[${this.name}] close failed`);
    });
    this.chain = done.catch(() => {});
    return done;
  }
}
