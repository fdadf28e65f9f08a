// Cleaning one log, as Kafka's Cleaner does:
//  1. the offset map: every key of the dirty section [firstDirty, firstUncleanable) with the offset
//     of its latest record (a full map stops early: the round ends there);
//  2. the log's segments below the map's end are grouped (a group's total size fits in one segment)
//     and each group is rewritten into one `.cleaned` segment keeping, of each keyed record, only the
//     latest (tombstones until their delete horizon passed), then swapped in (swap.ts).
// Offsets never change: batches keep their base and last offsets. The last batch of each producer
// still active stays (as a bare header if empty), so its sequence and epoch survive; so does the
// round's last batch, so the log's end is where it was.
// The work is done in chunks of batches with the event loop given back between chunks; reads are
// preads of sealed segments (never written again), the output goes to a new file.
import { BATCH_HEADER_SIZE, batchCrcIsValid } from '../../protocol/records/batch-header.js';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from '../../protocol/records/compression.js';
import { INT32_MAX, batchSizeAt, storedBatchProblem } from '../batch-scan.js';
import { LogSegment } from '../log-segment.js';
import type { PartitionLog } from '../partition-log.js';
import { BatchRetention, type BatchInfo, type RecordCursor, batchInfoAt, filterBatch, forEachRecord, plainRecords } from './batch-filter.js';
import { OffsetMap, mapKey } from './offset-map.js';
import { CLEANED_SUFFIX, discardSegment } from './swap.js';
import { TransactionFilter, type TxnCheck } from './transactions.js';

/** Bytes read from a segment at a time (whole batches; one larger batch is read whole). */
const READ_CHUNK = 256 * 1024;
/** Bytes of output gathered before they are written to the cleaned segment. */
const WRITE_CHUNK = 1 << 20;

export class CleaningAbortedError extends Error {}

export interface CleanOptions {
  now: number;
  /** Memory the offset map may take (log.cleaner.dedupe.buffer.size). */
  maxMapBytes: number;
  /** Called between chunks: throw (CleaningAbortedError) to stop. */
  checkDone?: () => void;
  /** Called with the bytes read and written as they go (I/O throttling, log.cleaner.io.max.bytes.per.second). */
  throttle?: (bytes: number) => Promise<void>;
}

export interface CleanStats {
  /** The first offset not cleaned: the next round's first dirty offset. */
  endOffset: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsKept: number;
  segmentsBefore: number;
  segmentsAfter: number;
  mapEntries: number;
  durationMs: number;
}

/** Cleans `log` from `firstDirty` up to (not including) `firstUncleanable`, a segment boundary. */
export async function cleanLog(log: PartitionLog, firstDirty: number, firstUncleanable: number, opts: CleanOptions): Promise<CleanStats> {
  const started = Date.now();
  const truncations = log.truncations;
  const stats: CleanStats = {
    endOffset: firstDirty,
    bytesRead: 0,
    bytesWritten: 0,
    recordsRead: 0,
    recordsKept: 0,
    segmentsBefore: 0,
    segmentsAfter: 0,
    mapEntries: 0,
    durationMs: 0,
  };
  const sealed = log.sealedSegments;
  const map = new OffsetMap(opts.maxMapBytes);
  const txns = await TransactionFilter.forLog(log, sealed, 0, firstUncleanable, opts);
  await buildOffsetMap(sealed, firstDirty, firstUncleanable, map, txns.pass(firstDirty), opts, stats);
  const endOffset = map.latestOffset + 1;
  stats.endOffset = Math.max(firstDirty, endOffset);
  stats.mapEntries = map.size;
  if (map.latestOffset < 0) return { ...stats, durationMs: Date.now() - started };

  const producers = lastDataOffsets(log);
  const groups = groupSegmentsBySize(
    sealed.filter((s) => s.baseOffset < endOffset),
    log.config.segmentBytes,
    log.config.segmentIndexBytes,
    firstUncleanable,
  );
  const cleaning = txns.pass();
  for (const group of groups) {
    stats.segmentsBefore += group.length;
    await cleanSegments(log, group, map, producers, firstUncleanable, cleaning, truncations, opts, stats);
    stats.segmentsAfter++;
  }
  stats.durationMs = Date.now() - started;
  return stats;
}

/** Producer id -> the last offset of its last data batch (Kafka's lastRecordsOfActiveProducers). */
function lastDataOffsets(log: PartitionLog): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of log.producerState.entries()) {
    const last = entry.batches[entry.batches.length - 1];
    if (last) out.set(entry.producerId, last.lastOffset);
  }
  return out;
}

/** Reads the whole batches of `seg` from `position` on, a chunk at a time, calling `visit` for each. */
async function forEachBatch(
  seg: LogSegment,
  position: number,
  opts: CleanOptions,
  stats: CleanStats,
  visit: (buf: Buffer, at: number, info: BatchInfo) => boolean | void,
  afterChunk?: () => Promise<void>,
): Promise<void> {
  seg.pin();
  try {
    const end = seg.size;
    let pos = position;
    while (pos < end) {
      opts.checkDone?.();
      let buf = await seg.read(pos, Math.min(READ_CHUNK, end - pos));
      if (buf.length < BATCH_HEADER_SIZE) throw new Error(`${seg.logPath}: ${end - pos} bytes at ${pos} are not a batch`);
      const first = batchSizeAt(buf, 0);
      if (first > buf.length) buf = await seg.read(pos, first); // a batch larger than the chunk
      let at = 0;
      while (at + BATCH_HEADER_SIZE <= buf.length) {
        const problem = storedBatchProblem(buf, at, buf.length - at);
        if (problem) {
          if (at > 0 && batchSizeAt(buf, at) > buf.length - at) break; // continues in the next chunk
          throw new Error(`${seg.logPath}: batch at byte ${pos + at}: ${problem}`);
        }
        if (seg.checked.isBad(pos + at) || !batchCrcIsValid(buf, at)) throw new Error(`${seg.logPath}: batch at byte ${pos + at} fails its CRC-32C`);
        const info = batchInfoAt(buf, at);
        if (visit(buf, at, info) === true) return;
        at += info.size;
      }
      if (at === 0) throw new Error(`${seg.logPath}: no whole batch at byte ${pos}`);
      pos += at;
      stats.bytesRead += at;
      await opts.throttle?.(at);
      await afterChunk?.();
      await yieldToEventLoop();
    }
  } finally {
    seg.unpin();
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Kafka's buildOffsetMap: the keys of [start, end), until the map is full. */
async function buildOffsetMap(
  sealed: readonly LogSegment[],
  start: number,
  end: number,
  map: OffsetMap,
  txns: TxnCheck,
  opts: CleanOptions,
  stats: CleanStats,
): Promise<void> {
  const dirty = sealed.filter((s, i) => s.baseOffset < end && (sealed[i + 1]?.baseOffset ?? s.nextOffset) > start);
  let full = false;
  for (let i = 0; i < dirty.length && !full; i++) {
    const seg = dirty[i];
    const nextStart = i + 1 < dirty.length ? dirty[i + 1].baseOffset : end;
    await forEachBatch(seg, start > seg.baseOffset ? seg.offsetIndex.lookup(start) : 0, opts, stats, (buf, at, info) => {
      if (info.baseOffset >= end) return true;
      const aborted = txns.check(info, buf, at); // markers too: they end their transactions
      if (!info.isControl && !aborted && info.lastOffset >= start) {
        const plain = plainRecords(buf, at, DEFAULT_MAX_DECOMPRESSED_BYTES);
        const logAppendTime = -1; // timestamps do not matter here
        try {
          forEachRecord(plain, info.recordCount, info.baseOffset, 0, logAppendTime, (r) => {
            if (full || r.keyStart < 0 || r.offset < start) return;
            if (!map.hasRoomFor(r.keyEnd - r.keyStart)) {
              full = true;
              return;
            }
            map.put(mapKey(r.buf, r.keyStart, r.keyEnd), r.offset);
          });
        } catch (err) {
          throw new Error(`batch at offset ${info.baseOffset} of ${seg.logPath}: ${(err as Error).message}`);
        }
        if (full) return true;
      }
      if (info.lastOffset >= start) map.updateLatestOffset(info.lastOffset);
      return false;
    });
    if (!full) map.updateLatestOffset(nextStart - 1);
  }
}

/**
 * Kafka's groupSegmentsBySize: consecutive segments whose .log bytes (and index bytes) fit in one
 * segment, their offsets within one segment's int32 range.
 */
export function groupSegmentsBySize<S extends { size: number; baseOffset: number; offsetIndex: { sizeInBytes: number }; timeIndex: { sizeInBytes: number } }>(
  segments: readonly S[],
  maxSize: number,
  maxIndexSize: number,
  firstUncleanable: number,
): S[][] {
  const groups: S[][] = [];
  let i = 0;
  while (i < segments.length) {
    const group = [segments[i]];
    let logSize = segments[i].size;
    let indexSize = segments[i].offsetIndex.sizeInBytes;
    let timeIndexSize = segments[i].timeIndex.sizeInBytes;
    i++;
    while (i < segments.length) {
      const next = segments[i];
      const lastOffsetOfNext = i + 1 < segments.length ? segments[i + 1].baseOffset - 1 : firstUncleanable - 1;
      if (
        logSize + next.size > maxSize ||
        indexSize + next.offsetIndex.sizeInBytes > maxIndexSize ||
        timeIndexSize + next.timeIndex.sizeInBytes > maxIndexSize ||
        (next.size > 0 && lastOffsetOfNext - group[0].baseOffset > INT32_MAX)
      ) {
        break;
      }
      group.push(next);
      logSize += next.size;
      indexSize += next.offsetIndex.sizeInBytes;
      timeIndexSize += next.timeIndex.sizeInBytes;
      i++;
    }
    groups.push(group);
  }
  return groups;
}

/** Rewrites one group of segments into a `.cleaned` segment and swaps it in (Kafka's cleanSegments/cleanInto). */
async function cleanSegments(
  log: PartitionLog,
  group: readonly LogSegment[],
  map: OffsetMap,
  producers: ReadonlyMap<number, number>,
  upperBound: number,
  txns: TxnCheck,
  truncations: number,
  opts: CleanOptions,
  stats: CleanStats,
): Promise<void> {
  const { now } = opts;
  const deleteRetentionMs = log.config.deleteRetentionMs;
  const cleaned = await LogSegment.create(log, log.dir, group[0].baseOffset, now, CLEANED_SUFFIX);
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const writePending = async () => {
    if (pendingBytes === 0) return;
    await cleaned.append(pending, false, now);
    stats.bytesWritten += pendingBytes;
    await opts.throttle?.(pendingBytes);
    pending = [];
    pendingBytes = 0;
  };
  try {
    for (const seg of group) {
      const keptMarkers = new Set<number>();
      await forEachBatch(seg, 0, opts, stats, (buf, at, info) => {
        const discard = txns.check(info, buf, at);
        const discardRecords = info.isControl ? discard && info.deleteHorizonMs >= 0 && info.deleteHorizonMs <= now : discard;
        const lastOfProducer = info.producerId >= 0 && !info.isControl && producers.get(info.producerId) === info.lastOffset;
        const retention =
          lastOfProducer || info.lastOffset + 1 === upperBound
            ? BatchRetention.RetainEmpty
            : discardRecords
              ? BatchRetention.Delete
              : BatchRetention.DeleteEmpty;
        const keep = (r: RecordCursor): boolean => {
          if (discardRecords) return false;
          if (info.isControl) return true;
          return retainRecord(map, r, info, now);
        };
        const result = filterBatch(buf, at, info, {
          now,
          deleteRetentionMs,
          maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
          retention,
          markerForEmptyTxn: discard && info.isControl,
          keep,
        });
        stats.recordsRead += result.recordsRead;
        stats.recordsKept += result.recordsKept;
        if (result.out && info.isControl) keptMarkers.add(info.lastOffset);
        if (result.out) {
          // Each chunk is a new buffer (seg.read), so a subarray of it stays valid until written.
          pending.push(result.out);
          pendingBytes += result.out.length;
        }
      }, async () => {
        if (pendingBytes >= WRITE_CHUNK) await writePending();
      });
      // The aborted transactions whose marker stays keep their .txnindex entry (read_committed needs it).
      for (const txn of seg.txnIndex.all()) if (keptMarkers.has(txn.lastOffset)) cleaned.txnIndex.append(txn);
    }
    await writePending();
    await cleaned.seal();
    await cleaned.flush(); // durable before it is swapped in
    cleaned.lastModifiedMs = group[group.length - 1].lastModifiedMs;
    const swapped = await log.replaceSegments(cleaned, group, truncations);
    if (!swapped) throw new CleaningAbortedError(`${log.name}: the segments changed while they were being cleaned`);
  } catch (err) {
    if (cleaned.logPath.endsWith(CLEANED_SUFFIX)) await discardSegment(cleaned);
    throw err;
  }
}

/** Kafka's shouldRetainRecord: the latest record of its key, a tombstone only until its horizon. */
function retainRecord(map: OffsetMap, r: RecordCursor, info: BatchInfo, now: number): boolean {
  if (r.offset > map.latestOffset) return true;
  if (r.keyStart < 0) return false; // a keyless record in a compacted log: Kafka drops it too
  const latest = r.offset >= map.get(mapKey(r.buf, r.keyStart, r.keyEnd));
  if (!latest) return false;
  if (r.hasValue) return true;
  return info.deleteHorizonMs < 0 || now < info.deleteHorizonMs;
}
