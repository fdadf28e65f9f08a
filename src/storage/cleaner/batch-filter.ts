// The log cleaner's work on one magic-2 batch, as bytes: walk its records (decompressing when it is
// compressed), and write what is kept. Kafka's rules (MemoryRecords.filterTo):
//  - a batch whose records are all kept, and that needs no delete horizon, is copied as it is;
//  - otherwise it is rebuilt with the kept records only, keeping its base offset, its last offset
//    delta (so the producer's last sequence survives), producer fields, leader epoch and codec;
//  - a batch that keeps tombstones (or a marker that may go) and has no delete horizon yet gets one:
//    its base timestamp becomes now + delete.retention.ms and attribute bit 6 says so (KIP-534);
//    the records' timestamp deltas are rewritten against it, so their timestamps do not change;
//  - a batch left with no record is dropped, unless it must stay (the last batch of a producer, or
//    the last one of the cleaning round): then its 61-byte header stays, with no records.
// Nothing here does I/O.
import { Attr, BATCH_HEADER_SIZE, BatchOffset, LOG_OVERHEAD } from '../../protocol/records/batch-header.js';
import { compress, decompress } from '../../protocol/records/compression.js';
import { crc32c } from '../../protocol/records/crc.js';
import { attributesAt, baseOffsetAt, baseTimestampAt, batchSizeAt, maxTimestampAt, readInt64, recordCountAt, writeInt64 } from '../batch-scan.js';

/** What the cleaner reads from a batch header. */
export interface BatchInfo {
  baseOffset: number;
  lastOffset: number;
  size: number;
  attributes: number;
  isControl: boolean;
  isTransactional: boolean;
  producerId: number;
  producerEpoch: number;
  /** The delete horizon set by an earlier cleaning (attribute bit 6), else -1. */
  deleteHorizonMs: number;
  recordCount: number;
}

export function batchInfoAt(buf: Buffer, pos: number): BatchInfo {
  const attributes = attributesAt(buf, pos);
  const baseOffset = baseOffsetAt(buf, pos);
  return {
    baseOffset,
    lastOffset: baseOffset + buf.readInt32BE(pos + BatchOffset.lastOffsetDelta),
    size: batchSizeAt(buf, pos),
    attributes,
    isControl: (attributes & Attr.control) !== 0,
    isTransactional: (attributes & Attr.transactional) !== 0,
    producerId: readInt64(buf, pos + BatchOffset.producerId),
    producerEpoch: buf.readInt16BE(pos + BatchOffset.producerEpoch),
    deleteHorizonMs: attributes & Attr.deleteHorizon ? baseTimestampAt(buf, pos) : -1,
    recordCount: recordCountAt(buf, pos),
  };
}

/**
 * One record as the walk sees it (reused: valid only inside the visit). The key and tail are ranges
 * of `buf`, the batch's plain (decompressed) records.
 */
export interface RecordCursor {
  buf: Buffer;
  offset: number;
  timestamp: number;
  /** Key bytes [keyStart, keyEnd); keyStart -1 when the key is null. */
  keyStart: number;
  keyEnd: number;
  hasValue: boolean;
  /** The record's attributes byte. */
  attributes: number;
  offsetDelta: number;
  /** Bytes from the key length to the end of the record (key, value, headers): copied as they are. */
  tailStart: number;
  recordEnd: number;
}

export class CorruptBatchError extends Error {}

let cur = 0;
function varint(buf: Buffer, end: number): number {
  let raw = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (cur >= end) break;
    const b = buf[cur++];
    raw += (b & 0x7f) * mul;
    if (b < 0x80) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    mul *= 128;
  }
  throw new CorruptBatchError('malformed varint in a record');
}

/** The batch's records as plain bytes (decompressed when it is compressed), bounded by `maxBytes`. */
export function plainRecords(batch: Buffer, pos: number, maxBytes: number): Buffer {
  const end = pos + batchSizeAt(batch, pos);
  const codec = attributesAt(batch, pos) & Attr.compressionMask;
  const body = batch.subarray(pos + BATCH_HEADER_SIZE, end);
  return codec === 0 ? body : decompress(codec, body, maxBytes);
}

/** Calls `visit` for each record of the plain records `buf` of a batch (count records). */
export function forEachRecord(buf: Buffer, count: number, baseOffset: number, baseTimestamp: number, logAppendTime: number, visit: (r: RecordCursor) => void): void {
  const r: RecordCursor = {
    buf,
    offset: 0,
    timestamp: 0,
    keyStart: -1,
    keyEnd: -1,
    hasValue: false,
    attributes: 0,
    offsetDelta: 0,
    tailStart: 0,
    recordEnd: 0,
  };
  cur = 0;
  const end = buf.length;
  for (let i = 0; i < count; i++) {
    const length = varint(buf, end);
    const recordEnd = cur + length;
    if (length < 0 || recordEnd > end) throw new CorruptBatchError(`record ${i} runs past its batch`);
    r.attributes = buf[cur++];
    const tsDelta = varint(buf, recordEnd);
    r.offsetDelta = varint(buf, recordEnd);
    r.tailStart = cur;
    const keyLen = varint(buf, recordEnd);
    if (keyLen >= 0) {
      r.keyStart = cur;
      r.keyEnd = cur + keyLen;
      cur += keyLen;
    } else {
      r.keyStart = -1;
      r.keyEnd = -1;
    }
    const valueLen = varint(buf, recordEnd);
    if (cur > recordEnd) throw new CorruptBatchError(`record ${i} runs past its length`);
    r.hasValue = valueLen >= 0;
    r.offset = baseOffset + r.offsetDelta;
    r.timestamp = logAppendTime >= 0 ? logAppendTime : baseTimestamp + tsDelta;
    r.recordEnd = recordEnd;
    visit(r);
    cur = recordEnd;
  }
}

export const enum BatchRetention {
  /** Drop the batch without looking at its records. */
  Delete,
  /** Keep the batch, as a bare header if no record is kept. */
  RetainEmpty,
  /** Drop the batch if no record is kept. */
  DeleteEmpty,
}

export interface FilterOptions {
  now: number;
  deleteRetentionMs: number;
  /** Bound on one decompressed batch. */
  maxDecompressedBytes: number;
  retention: BatchRetention;
  /** A transaction marker that may go once its horizon passed (it gets a horizon when first kept). */
  markerForEmptyTxn: boolean;
  /** Whether the record stays; called for every record unless the batch is dropped outright. */
  keep(r: RecordCursor): boolean;
}

export interface FilterResult {
  /** The bytes to write for this batch: the original subarray, a rebuilt batch, or null (dropped). */
  out: Buffer | null;
  recordsRead: number;
  recordsKept: number;
}

/** Applies the cleaner's filter to the whole batch at `pos` of `buf`. */
export function filterBatch(buf: Buffer, pos: number, info: BatchInfo, opts: FilterOptions): FilterResult {
  const original = buf.subarray(pos, pos + info.size);
  if (opts.retention === BatchRetention.Delete) return { out: null, recordsRead: 0, recordsKept: 0 };
  const logAppendTime = info.attributes & Attr.logAppendTime ? maxTimestampAt(buf, pos) : -1;
  const plain = plainRecords(buf, pos, opts.maxDecompressedBytes);
  const kept: Array<{ start: number; end: number; timestamp: number; offsetDelta: number; attributes: number }> = [];
  let read = 0;
  let tombstones = false;
  forEachRecord(plain, info.recordCount, info.baseOffset, baseTimestampAt(buf, pos), logAppendTime, (r) => {
    read++;
    if (!opts.keep(r)) return;
    if (!r.hasValue) tombstones = true;
    kept.push({ start: r.tailStart, end: r.recordEnd, timestamp: r.timestamp, offsetDelta: r.offsetDelta, attributes: r.attributes });
  });
  if (kept.length === 0) {
    if (opts.retention !== BatchRetention.RetainEmpty) return { out: null, recordsRead: read, recordsKept: 0 };
    return { out: emptyBatch(buf, pos, info), recordsRead: read, recordsKept: 0 };
  }
  const needHorizon = (tombstones || opts.markerForEmptyTxn) && info.deleteHorizonMs < 0;
  if (kept.length === read && !needHorizon) return { out: original, recordsRead: read, recordsKept: read };
  const horizon = needHorizon ? opts.now + opts.deleteRetentionMs : info.deleteHorizonMs;
  return { out: rebuild(buf, pos, info, plain, kept, horizon, logAppendTime), recordsRead: read, recordsKept: kept.length };
}

/** The 61-byte header Kafka keeps for a batch whose records all went (DefaultRecordBatch.writeEmptyHeader). */
function emptyBatch(buf: Buffer, pos: number, info: BatchInfo): Buffer {
  const out = Buffer.alloc(BATCH_HEADER_SIZE);
  buf.copy(out, 0, pos, pos + BATCH_HEADER_SIZE);
  out.writeInt32BE(BATCH_HEADER_SIZE - LOG_OVERHEAD, BatchOffset.batchLength);
  // No codec, no delete horizon: the timestamp type, transactional and control bits stay.
  out.writeInt16BE(info.attributes & (Attr.logAppendTime | Attr.transactional | Attr.control), BatchOffset.attributes);
  writeInt64(out, BatchOffset.baseTimestamp, -1);
  out.writeInt32BE(0, BatchOffset.recordCount);
  out.writeUInt32BE(crc32c(out, BatchOffset.attributes, out.length), BatchOffset.crc);
  return out;
}

function varlongBytes(n: number, out: number[]): void {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 128) | 0x80);
    z = Math.floor(z / 128);
  }
  out.push(z);
}

/** A batch holding only the kept records, as Kafka's MemoryRecordsBuilder writes it. */
function rebuild(
  buf: Buffer,
  pos: number,
  info: BatchInfo,
  plain: Buffer,
  kept: ReadonlyArray<{ start: number; end: number; timestamp: number; offsetDelta: number; attributes: number }>,
  horizon: number,
  logAppendTime: number,
): Buffer {
  const baseTimestamp = horizon >= 0 ? horizon : kept[0].timestamp;
  let maxTimestamp = -1;
  const parts: Buffer[] = [];
  let size = 0;
  const head: number[] = [];
  for (const k of kept) {
    if (k.timestamp > maxTimestamp) maxTimestamp = k.timestamp;
    head.length = 0;
    head.push(k.attributes);
    varlongBytes(k.timestamp - baseTimestamp, head);
    varlongBytes(k.offsetDelta, head);
    const bodyLength = head.length + (k.end - k.start);
    const lengthBytes: number[] = [];
    varlongBytes(bodyLength, lengthBytes);
    const prefix = Buffer.from([...lengthBytes, ...head]);
    parts.push(prefix, plain.subarray(k.start, k.end));
    size += prefix.length + (k.end - k.start);
  }
  const codec = info.attributes & Attr.compressionMask;
  let body: Buffer = Buffer.concat(parts, size);
  if (codec !== 0) body = compress(codec, body);
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + body.length);
  buf.copy(out, 0, pos, pos + BATCH_HEADER_SIZE);
  body.copy(out, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchOffset.batchLength);
  let attributes = info.attributes & ~Attr.deleteHorizon;
  if (horizon >= 0) attributes |= Attr.deleteHorizon;
  out.writeInt16BE(attributes, BatchOffset.attributes);
  writeInt64(out, BatchOffset.baseTimestamp, baseTimestamp);
  writeInt64(out, BatchOffset.maxTimestamp, logAppendTime >= 0 ? logAppendTime : maxTimestamp);
  out.writeInt32BE(kept.length, BatchOffset.recordCount);
  out.writeUInt32BE(crc32c(out, BatchOffset.attributes, out.length), BatchOffset.crc);
  return out;
}
