// The follower side of a partition log: appending batches as the leader wrote them, cutting a tail
// that diverged from the leader's (KIP-101), and starting over at the leader's log start. Each runs
// on the log's append chain (PartitionLog hands it a view of its state), never alongside an append.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { BatchOffset } from '../protocol/records/batch-header.js';
import { INT32_MAX, baseOffsetAt, batchSizeAt, lastOffsetAt, maxTimestampAt } from './batch-scan.js';
import { storageError } from './file-system.js';
import { LogSegment, floorSegment } from './log-segment.js';
import type { PartitionEpochs } from './partition-epochs.js';
import type { AppendResult, PartitionLog, PartitionLogHooks, StorageLogger } from './partition-log.js';
import { deleteProducerSnapshots } from './producer-snapshots.js';
import type { SegmentDeletions } from './segment-deletions.js';
import { indexAborted } from './txn-index.js';

/** @internal What PartitionLog lets these operations see and change. */
export interface ReplicaLogView {
  readonly log: PartitionLog;
  readonly epochs: PartitionEpochs;
  readonly deletions: SegmentDeletions;
  readonly hooks: PartitionLogHooks;
  readonly logger: StorageLogger;
  readonly now: () => number;
  segments: LogSegment[];
  setLogStartOffset(offset: number): void;
  setRecoveryPoint(offset: number): void;
  /** Adds to the count of records not yet flushed; a negative value resets it. */
  addUnflushed(records: number): void;
  unflushedMessages(): number;
  shouldRoll(seg: LogSegment, bytes: number, lastOffset: number, maxTimestamp: number, now: number): boolean;
  roll(now: number, baseOffset: number): Promise<LogSegment>;
  flushNow(): Promise<void>;
  notifyAppend(): void;
  /** Resolves once the producer snapshot a roll started has landed. */
  snapshotWritten(): Promise<void>;
}

/**
 * Appends validated batches with the leader's offsets and epochs, starting at or after the log end.
 * Each epoch new here is noted (and its checkpoint written) before its records, as on the leader.
 */
export async function appendReplicated(v: ReplicaLogView, records: Buffer, recordCount: number, now: number): Promise<AppendResult> {
  const { log } = v;
  const baseOffset = baseOffsetAt(records, 0);
  if (baseOffset < log.logEndOffset && log.logEndOffset === log.logStartOffset && lastOffsetAt(records, 0) >= log.logEndOffset) {
    // An empty log whose start lies inside the leader's first batch (DeleteRecords cut there):
    // Kafka starts the log over at that batch's base offset.
    await emptyLogAt(v, baseOffset);
  }
  const starts: Array<[number, number]> = [];
  let next = log.logEndOffset;
  let maxTimestamp = -1;
  for (let p = 0; p < records.length; p += batchSizeAt(records, p)) {
    const base = baseOffsetAt(records, p);
    if (base < next) throw new KafkaError(ErrorCode.INVALID_RECORD, `[${log.name}] replicated batch at offset ${base} does not follow ${next - 1}`);
    starts.push([records.readInt32BE(p + BatchOffset.partitionLeaderEpoch), base]);
    maxTimestamp = Math.max(maxTimestamp, maxTimestampAt(records, p));
    next = lastOffsetAt(records, p) + 1;
  }
  let segment = v.segments[v.segments.length - 1];
  if (v.shouldRoll(segment, records.length, next - 1, maxTimestamp, now) || next - 1 - segment.baseOffset > INT32_MAX) {
    segment = await v.roll(now, baseOffset);
  }
  await v.epochs.assignStarts(starts);
  const sync = v.unflushedMessages() + recordCount >= log.config.flushIntervalMessages;
  await segment.append(records, sync, now);
  // The leader's markers end transactions here too: the follower keeps the same LSO and index.
  const aborted = log.producerState.update(records);
  if (aborted) await indexAborted(segment, aborted, v.logger, log.name);
  v.addUnflushed(recordCount);
  if (sync) await v.flushNow().catch((err) => v.logger.warn(`[${log.name}] flush after append failed: ${String(err)}`));
  v.notifyAppend();
  return { baseOffset, lastOffset: next - 1, logAppendTime: -1, logStartOffset: log.logStartOffset, recordCount };
}

/**
 * Removes every record at and after `offset` (the whole batch holding it, as Kafka does); returns the
 * new log end offset. Refused below the log start, and below the high watermark unless
 * `belowHighWatermark` (a follower may have to, after an unclean election). Crash-safe: the recovery
 * point moves back first (a crash from there on re-validates what is cut), later segments go newest
 * first (the files on disk are always a prefix of the log), then the segment holding the offset is
 * cut and rescanned, then the epochs and the producer state follow the new end.
 */
export async function truncateLogTo(v: ReplicaLogView, offset: number, belowHighWatermark: boolean): Promise<number> {
  const { log } = v;
  const end = log.logEndOffset;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, `cannot truncate ${log.name} to ${offset}`);
  if (offset >= end) {
    // No record to cut, but an epoch this log noted at its end while it led and never wrote in goes
    // (Kafka's truncateTo does the same): kept, it would be the follower's last fetched epoch, which
    // its new leader never had, and every fetch would be answered with the same divergence.
    await v.epochs.truncateFromEnd(end);
    return end;
  }
  if (offset < log.logStartOffset || (offset < log.highWatermark && !belowHighWatermark)) {
    const bound = offset < log.logStartOffset ? `log start offset ${log.logStartOffset}` : `high watermark ${log.highWatermark}`;
    throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `refusing to truncate ${log.name} to ${offset}: below its ${bound}`);
  }
  try {
    const keep = floorSegment(v.segments, offset);
    // The holding segment's base: never past the new end (a checkpoint past the end would cost a
    // recovery of every segment), and everything from there is rescanned anyway.
    const recoverFrom = v.segments[keep].baseOffset;
    if (log.recoveryPoint > recoverFrom) {
      v.setRecoveryPoint(recoverFrom);
      await v.hooks.recoveryPointChanged?.(log);
    }
    while (v.segments.length > keep + 1) {
      const last = v.segments[v.segments.length - 1];
      await last.markDeleted();
      v.segments = v.segments.slice(0, -1);
      v.deletions.schedule(last, log.config.fileDeleteDelayMs, true);
    }
    const seg = v.segments[v.segments.length - 1];
    seg.offsetIndex.keepOpen = true;
    seg.timeIndex.keepOpen = true;
    const cut = await seg.truncateTo(offset);
    await v.epochs.truncateFromEnd(log.logEndOffset);
    // A snapshot a roll started may still be on its way: it must land before the ones past the new end go.
    await v.snapshotWritten();
    await log.loadProducerState(); // drops the snapshots past the new end, replays the rest
    v.logger.info(`[${log.name}] truncated to offset ${offset}: log end offset ${end} -> ${log.logEndOffset} (${cut} bytes cut from segment ${seg.baseOffset})`);
    return log.logEndOffset;
  } catch (err) {
    throw storageError(err, `[${log.name}] truncation to ${offset} failed`);
  }
}

/**
 * Empties the log and starts it at `offset`: a follower whose leader's log starts past this log's end
 * (Kafka's truncateFullyAndStartAt). The old segments go newest first, then the empty segment at
 * `offset` is created, then the log start is checkpointed: a crash in between leaves an empty log or
 * the new one, never a gap with records on both sides.
 */
export async function emptyLogAt(v: ReplicaLogView, offset: number): Promise<void> {
  const { log } = v;
  const end = log.logEndOffset;
  try {
    for (const seg of [...v.segments].reverse()) await seg.markDeleted();
    const fresh = await LogSegment.create(log, log.dir, offset, v.now());
    for (const seg of v.segments) v.deletions.schedule(seg, log.config.fileDeleteDelayMs, true);
    v.segments = [fresh];
    v.setLogStartOffset(offset);
    v.setRecoveryPoint(offset);
    v.addUnflushed(-1);
    await v.epochs.clear();
    log.producerState.clear();
    await v.snapshotWritten(); // one landing after the deletion would bring old producers back
    await deleteProducerSnapshots(log.fs, log.dir);
    await v.hooks.logStartOffsetChanged(log);
    v.logger.info(`[${log.name}] emptied (log end offset was ${end}); starts at offset ${offset}`);
  } catch (err) {
    throw storageError(err, `[${log.name}] cannot empty the log and start it at ${offset}`);
  }
}
