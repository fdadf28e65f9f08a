// Reading a partition log: whole batches from the one holding the fetch offset, up to the high
// watermark (consumers), the last stable offset (read_committed consumers) or the log end (followers).
// A read_committed read also answers the aborted transactions of the range it returns, from the
// segments' transaction indexes (txn-index.ts), as Kafka's: from the fetch offset's segment on, every
// transaction aborted at or after the fetch offset that began before the read's upper bound.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { CorruptBatch } from './checked-batches.js';
import { storageError } from './file-system.js';
import { type LogSegment, floorSegment } from './log-segment.js';
import type { AbortedRange } from './txn-index.js';

export interface ReadResult {
  /** Whole batches, the first one containing the fetch offset; empty at the log end. */
  records: Buffer;
  highWatermark: number;
  logStartOffset: number;
  /** min(first offset of the open transactions, high watermark): what read_committed may read below. */
  lastStableOffset: number;
  /** read_committed only: the aborted transactions in the range read (Fetch's abortedTransactions). */
  abortedTransactions?: AbortedRange[];
}

export interface ReadOptions {
  /** Read no batch holding this offset or later. */
  maxOffset?: number;
  /** Return the first batch whole even when it is bigger than maxBytes (default true). */
  minOneBatch?: boolean;
  /** A follower replica: up to the log end. */
  toLogEnd?: boolean;
  /** A read_committed consumer: up to the last stable offset, with the aborted transactions. */
  readCommitted?: boolean;
}

/** What a read sees of its log, taken at once when the read starts. */
export interface ReadView {
  name: string;
  segments: LogSegment[];
  logStartOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  logEndOffset: number;
  corruptBatchError(seg: LogSegment, batch: CorruptBatch): KafkaError;
}

const EMPTY = Buffer.alloc(0);

export async function readLog(v: ReadView, fetchOffset: number, maxBytes: number, opts: ReadOptions): Promise<ReadResult> {
  const { segments, logStartOffset, highWatermark, lastStableOffset, logEndOffset } = v;
  if (fetchOffset < logStartOffset || fetchOffset > logEndOffset) {
    throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${fetchOffset} is outside [${logStartOffset}, ${logEndOffset}] of ${v.name}`);
  }
  const readCommitted = opts.readCommitted === true && !opts.toLogEnd;
  const empty: ReadResult = { records: EMPTY, highWatermark, logStartOffset, lastStableOffset };
  if (readCommitted) empty.abortedTransactions = [];
  // Consumers read below the high watermark (read_committed ones below the last stable offset); a
  // follower replica (toLogEnd) reads everything.
  const limitOffset = opts.toLogEnd ? logEndOffset : readCommitted ? lastStableOffset : highWatermark;
  const maxOffset = Math.min(opts.maxOffset ?? limitOffset, limitOffset);
  if (fetchOffset >= maxOffset) {
    // A reader caught up: the next appends are kept in memory for it (a segment nobody reads keeps none).
    segments[segments.length - 1]?.noteReader();
    return empty;
  }
  const minOneBatch = opts.minOneBatch ?? true;
  const first = floorSegment(segments, fetchOffset);
  const used = segments.slice(first);
  for (const seg of used) seg.pin();
  try {
    for (let i = 0; i < used.length; i++) {
      const seg = used[i];
      const got = await seg.readBatches(fetchOffset, maxBytes, maxOffset, minOneBatch);
      if (!got) {
        // Offsets lost behind damage in a sealed segment are refused, not skipped in silence.
        if (seg.unreadable && fetchOffset <= seg.unreadable.lastOffset) throw unreadableError(v.name, seg);
        continue;
      }
      if (got.records.length === 0) return empty;
      // Batches read from disk for the first time since the start are checked before they are
      // served (those this process wrote or recovery validated are not checked again).
      const { good, corrupt } = seg.checked.check(got.records, got.position, got.records.length);
      if (corrupt && good === 0) throw v.corruptBatchError(seg, corrupt);
      const result: ReadResult = { records: got.records.subarray(0, good), highWatermark, logStartOffset, lastStableOffset };
      if (readCommitted) {
        // Kafka's upper bound: the offset of the first index entry past the bytes read, else the
        // next segment's base (the log end for the last segment).
        const upperBound = seg.offsetIndex.upperBoundOffset(got.position + got.readLength) ?? (used[i + 1]?.baseOffset ?? logEndOffset);
        result.abortedTransactions = collectAborted(used.slice(i), fetchOffset, upperBound);
      }
      return result;
    }
    return empty;
  } catch (err) {
    throw storageError(err, `[${v.name}] read at offset ${fetchOffset} failed`);
  } finally {
    for (const seg of used) seg.unpin();
  }
}

/** Kafka's collectAbortedTransactions: segment by segment until an entry's last stable offset reaches the bound. */
export function collectAborted(segments: readonly LogSegment[], fetchOffset: number, upperBoundOffset: number): AbortedRange[] {
  const out: AbortedRange[] = [];
  for (const seg of segments) {
    if (seg.txnIndex.collect(fetchOffset, upperBoundOffset, out)) break;
  }
  return out;
}

/** Offsets a sealed segment lost behind damage (logged once, by recovery, when it found it). */
export function unreadableError(name: string, seg: LogSegment): KafkaError {
  const { position, firstOffset, lastOffset, problem } = seg.unreadable!;
  const where = `offsets ${firstOffset}..${lastOffset} behind damage (${problem}) at byte ${position} of ${seg.logPath}`;
  return Object.assign(new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `[${name}] unreadable: ${where}`), { corruptLastOffset: lastOffset });
}
