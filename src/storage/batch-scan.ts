// What the storage engine needs to know about magic-2 batches without building objects: bounds and
// CRC checks for appends and recovery, 64-bit header fields as numbers, and a walk over the records
// of an uncompressed batch (timestamps and offset deltas are varints inside the records).
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { Attr, BATCH_HEADER_SIZE, BatchOffset, LOG_OVERHEAD, batchCrcIsValid } from '../protocol/records/batch-header.js';
import { decompress } from '../protocol/records/compression.js';
import { crc32c } from '../protocol/records/crc.js';

/** batchLength of a batch with no records: the header minus baseOffset and batchLength. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;
const TWO_32 = 4294967296;
export const INT32_MAX = 0x7fffffff;

/** A big-endian int64 as a number (exact below 2^53, which offsets and timestamps are). */
export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

export function writeInt64(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * TWO_32, pos + 4);
}

export const batchSizeAt = (buf: Buffer, pos: number): number => LOG_OVERHEAD + buf.readInt32BE(pos + BatchOffset.batchLength);
export const baseOffsetAt = (buf: Buffer, pos: number): number => readInt64(buf, pos + BatchOffset.baseOffset);
export const lastOffsetAt = (buf: Buffer, pos: number): number => baseOffsetAt(buf, pos) + buf.readInt32BE(pos + BatchOffset.lastOffsetDelta);
export const maxTimestampAt = (buf: Buffer, pos: number): number => readInt64(buf, pos + BatchOffset.maxTimestamp);
export const baseTimestampAt = (buf: Buffer, pos: number): number => readInt64(buf, pos + BatchOffset.baseTimestamp);
export const attributesAt = (buf: Buffer, pos: number): number => buf.readInt16BE(pos + BatchOffset.attributes);
export const recordCountAt = (buf: Buffer, pos: number): number => buf.readInt32BE(pos + BatchOffset.recordCount);

/**
 * Checks every batch of a produce payload, and nothing is written unless all pass. Kafka's order:
 * sizes, magic, message.max.bytes, CRC, then offset/count consistency and record structure.
 * As Kafka's LogValidator, an uncompressed CreateTime batch's header gets its records' own max
 * timestamp (some producers, e.g. sarama 1.22, write -1 there): the time index, time-based
 * retention and ListOffsets by time all read the header. (prepareBatch does it for compressed ones.)
 */
export function validateAppend(buf: Buffer, maxMessageBytes: number, segmentBytes: number, replicated = false): { batches: number; records: number } {
  if (buf.length > segmentBytes) {
    throw new KafkaError(ErrorCode.RECORD_LIST_TOO_LARGE, `${buf.length} bytes of records exceed segment.bytes ${segmentBytes}`);
  }
  let pos = 0;
  let batches = 0;
  let records = 0;
  while (pos < buf.length) {
    const remaining = buf.length - pos;
    if (remaining < BATCH_HEADER_SIZE) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${remaining} trailing bytes are not a whole record batch`);
    }
    const batchLength = buf.readInt32BE(pos + BatchOffset.batchLength);
    if (batchLength < MIN_BATCH_LENGTH) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch length ${batchLength} is too small`);
    const size = LOG_OVERHEAD + batchLength;
    if (size > remaining) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch of ${size} bytes is truncated to ${remaining}`);
    const magic = buf.readInt8(pos + BatchOffset.magic);
    if (magic === 0 || magic === 1) {
      throw new KafkaError(ErrorCode.INVALID_RECORD, `magic ${magic} messages must be up-converted before they are stored`);
    }
    if (magic !== 2) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `unknown record batch magic ${magic}`);
    if (size > maxMessageBytes) {
      throw new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `record batch of ${size} bytes exceeds max.message.bytes ${maxMessageBytes}`);
    }
    if (!batchCrcIsValid(buf, pos)) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC-32C mismatch');
    const count = recordCountAt(buf, pos);
    const lastOffsetDelta = buf.readInt32BE(pos + BatchOffset.lastOffsetDelta);
    // A leader's compacted batches (replicated) keep their offset range with fewer records, even none.
    const compacted = replicated && count >= 0 && count < lastOffsetDelta + 1;
    if (!compacted && (count <= 0 || lastOffsetDelta !== count - 1)) {
      throw new KafkaError(ErrorCode.INVALID_RECORD, `record count ${count} is inconsistent with lastOffsetDelta ${lastOffsetDelta}`);
    }
    // A follower checks what Kafka's follower checks (sizes, magic, CRC, offsets): the records inside
    // were validated by the leader and the CRC says they are the leader's bytes, so walking every
    // record again would only cost each follower as much CPU as the leader.
    if (!replicated && (attributesAt(buf, pos) & Attr.compressionMask) === 0) {
      const problem = checkRecords(buf, pos + BATCH_HEADER_SIZE, pos + size, count);
      if (problem) throw new KafkaError(ErrorCode.INVALID_RECORD, problem);
      setRecordsMaxTimestamp(buf, pos, maxTimestampDeltaOfCheck);
    }
    records += count;
    batches++;
    pos += size;
  }
  return { batches, records };
}

/** Why the batch at `pos` (with `avail` bytes readable from pos) cannot be part of a stored log, or null. */
export function storedBatchProblem(buf: Buffer, pos: number, avail: number): string | null {
  if (avail < BATCH_HEADER_SIZE) return `${avail} bytes left, less than a batch header`;
  const batchLength = buf.readInt32BE(pos + BatchOffset.batchLength);
  if (batchLength < MIN_BATCH_LENGTH) return `batch length ${batchLength} is too small`;
  if (LOG_OVERHEAD + batchLength > avail) return `batch of ${LOG_OVERHEAD + batchLength} bytes runs past the end of the file`;
  const magic = buf.readInt8(pos + BatchOffset.magic);
  if (magic !== 2) return `magic ${magic}`;
  if (buf.readInt32BE(pos + BatchOffset.lastOffsetDelta) < 0) return 'negative lastOffsetDelta';
  if (baseOffsetAt(buf, pos) < 0) return 'negative base offset';
  return null;
}

// ---- records (uncompressed batches) ----
// A module-level cursor keeps varint decoding free of allocations; -1 means "malformed".
let cur = 0;

function readVarlong(buf: Buffer, end: number, maxBytes: number): number {
  let raw = 0;
  let mul = 1;
  let p = cur;
  for (let i = 0; i < maxBytes; i++) {
    if (p >= end) break;
    const b = buf[p++];
    raw += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      cur = p;
      return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
    mul *= 128;
  }
  cur = -1;
  return 0;
}

const readVarint = (buf: Buffer, end: number): number => readVarlong(buf, end, 5);

/** Parses one record starting at `cur`; returns its timestampDelta and leaves offsetDelta in `lastOffsetDelta`. */
let lastOffsetDelta = 0;
function readRecord(buf: Buffer, end: number): number {
  const length = readVarint(buf, end);
  if (cur < 0 || length < 0) return (cur = -1);
  const recordEnd = cur + length;
  if (recordEnd > end) return (cur = -1);
  cur += 1; // attributes
  const timestampDelta = readVarlong(buf, recordEnd, 10);
  if (cur < 0) return 0;
  lastOffsetDelta = readVarint(buf, recordEnd);
  if (cur < 0) return 0;
  for (let field = 0; field < 2; field++) {
    const len = readVarint(buf, recordEnd);
    if (cur < 0 || len < -1) return (cur = -1);
    if (len > 0) cur += len;
  }
  if (cur > recordEnd) return (cur = -1);
  const headers = readVarint(buf, recordEnd);
  if (cur < 0 || headers < 0) return (cur = -1);
  for (let h = 0; h < headers && cur >= 0; h++) {
    const keyLen = readVarint(buf, recordEnd);
    if (cur < 0 || keyLen < 0) return (cur = -1);
    cur += keyLen;
    const valueLen = readVarint(buf, recordEnd);
    if (cur < 0 || valueLen < -1) return (cur = -1);
    if (valueLen > 0) cur += valueLen;
    if (cur > recordEnd) return (cur = -1);
  }
  if (cur !== recordEnd) return (cur = -1);
  return timestampDelta;
}

/** The largest timestampDelta the last successful checkRecords saw. */
let maxTimestampDeltaOfCheck = 0;

/**
 * Sets the header max timestamp of the CreateTime batch at `pos` to baseTimestamp + maxTimestampDelta
 * (its records' largest), recomputing the CRC, when the producer wrote something else. Kafka stores
 * the records' own max timestamp whatever the producer wrote (LogValidator, for CreateTime).
 */
export function setRecordsMaxTimestamp(buf: Buffer, pos: number, maxTimestampDelta: number): void {
  if (attributesAt(buf, pos) & Attr.logAppendTime) return;
  const maxTimestamp = baseTimestampAt(buf, pos) + maxTimestampDelta;
  if (maxTimestampAt(buf, pos) === maxTimestamp) return;
  writeInt64(buf, pos + BatchOffset.maxTimestamp, maxTimestamp);
  buf.writeUInt32BE(crc32c(buf, pos + BatchOffset.attributes, pos + batchSizeAt(buf, pos)), pos + BatchOffset.crc);
}

/** Checks that `count` well-formed records with offset deltas 0..count-1 exactly fill [start, end). */
export function checkRecords(buf: Buffer, start: number, end: number, count: number): string | null {
  cur = start;
  let maxDelta = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < count; i++) {
    const delta = readRecord(buf, end);
    if (cur < 0) return `record ${i} of ${count} is malformed`;
    if (delta > maxDelta) maxDelta = delta;
    if (lastOffsetDelta !== i) return `record ${i} has offset delta ${lastOffsetDelta}`;
  }
  if (cur !== end) return `${end - cur} bytes follow the last record of the batch`;
  maxTimestampDeltaOfCheck = maxDelta;
  return null;
}

/**
 * The first record of the whole batch at `pos` whose offset is >= minOffset and whose timestamp
 * satisfies `wanted` (>= target, or == target). Compressed batches are decompressed and walked, as
 * Kafka does (only those whose max timestamp can match). LogAppendTime batches give every record
 * the batch maxTimestamp.
 */
export function findRecord(
  buf: Buffer,
  pos: number,
  minOffset: number,
  target: number,
  match: 'atLeast' | 'equal',
): { offset: number; timestamp: number } | null {
  const base = baseOffsetAt(buf, pos);
  const attributes = attributesAt(buf, pos);
  const maxTimestamp = maxTimestampAt(buf, pos);
  const ok = (ts: number) => (match === 'atLeast' ? ts >= target : ts === target);
  const last = lastOffsetAt(buf, pos);
  if (last < minOffset) return null;
  if (attributes & Attr.logAppendTime) {
    return ok(maxTimestamp) ? { offset: Math.max(base, minOffset), timestamp: maxTimestamp } : null;
  }
  if (maxTimestamp < target) return null;
  const end = pos + batchSizeAt(buf, pos);
  const count = recordCountAt(buf, pos);
  const baseTimestamp = baseTimestampAt(buf, pos);
  const codec = attributes & Attr.compressionMask;
  if (codec === 0) return walkRecords(buf, pos + BATCH_HEADER_SIZE, end, count, base, baseTimestamp, minOffset, ok);
  let plain: Buffer;
  try {
    plain = decompress(codec, buf.subarray(pos + BATCH_HEADER_SIZE, end));
  } catch {
    // Checked when it was written; should it not inflate now, its first eligible offset stands for it.
    return ok(maxTimestamp) ? { offset: Math.max(base, minOffset), timestamp: maxTimestamp } : null;
  }
  return walkRecords(plain, 0, plain.length, count, base, baseTimestamp, minOffset, ok);
}

function walkRecords(
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  base: number,
  baseTimestamp: number,
  minOffset: number,
  ok: (timestamp: number) => boolean,
): { offset: number; timestamp: number } | null {
  cur = start;
  for (let i = 0; i < count; i++) {
    const delta = readRecord(buf, end);
    if (cur < 0) return null;
    const offset = base + lastOffsetDelta;
    const timestamp = baseTimestamp + delta;
    if (offset >= minOffset && ok(timestamp)) return { offset, timestamp };
  }
  return null;
}

/** Whether no batch of the payload belongs to an idempotent producer (those are appended one by one). */
export function withoutProducerIds(records: Buffer): boolean {
  for (let p = 0; p + BATCH_HEADER_SIZE <= records.length; p += batchSizeAt(records, p)) {
    if (records.readInt32BE(p + BatchOffset.producerId) >= 0) return false;
  }
  return true;
}

/** Length of the whole batches at the start of `buf` (a read may end inside a batch). */
export function wholeBatchesLength(buf: Buffer): number {
  let p = 0;
  while (p + 12 <= buf.length) {
    const size = 12 + buf.readInt32BE(p + BatchOffset.batchLength);
    if (size < 12 || p + size > buf.length) break;
    p += size;
  }
  return p;
}
