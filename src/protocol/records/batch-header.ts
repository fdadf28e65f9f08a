// The 61-byte magic-2 record batch header (RECORDS.md). The hot path decodes only this header and
// moves the rest of the batch as bytes.
import { crc32c } from './crc.js';

export const BATCH_HEADER_SIZE = 61;
/** Bytes before batchLength's coverage starts: baseOffset (8) + batchLength (4). */
export const LOG_OVERHEAD = 12;

export const BatchOffset = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
  records: 61,
} as const;

export const Attr = {
  compressionMask: 0x07,
  logAppendTime: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizon: 0x40,
} as const;

export const enum Compression {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export interface BatchHeader {
  baseOffset: number;
  /** Bytes after the batchLength field; the whole batch is batchLength + 12 bytes. */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Reads the header of the magic-2 batch starting at `pos`. The caller checks there are 61 bytes. */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  return {
    baseOffset: Number(buf.readBigInt64BE(pos + BatchOffset.baseOffset)),
    batchLength: buf.readInt32BE(pos + BatchOffset.batchLength),
    partitionLeaderEpoch: buf.readInt32BE(pos + BatchOffset.partitionLeaderEpoch),
    magic: buf.readInt8(pos + BatchOffset.magic),
    crc: buf.readUInt32BE(pos + BatchOffset.crc),
    attributes: buf.readInt16BE(pos + BatchOffset.attributes),
    lastOffsetDelta: buf.readInt32BE(pos + BatchOffset.lastOffsetDelta),
    baseTimestamp: Number(buf.readBigInt64BE(pos + BatchOffset.baseTimestamp)),
    maxTimestamp: Number(buf.readBigInt64BE(pos + BatchOffset.maxTimestamp)),
    producerId: Number(buf.readBigInt64BE(pos + BatchOffset.producerId)),
    producerEpoch: buf.readInt16BE(pos + BatchOffset.producerEpoch),
    baseSequence: buf.readInt32BE(pos + BatchOffset.baseSequence),
    recordCount: buf.readInt32BE(pos + BatchOffset.recordCount),
  };
}

/** A magic-2 header's fields that sealBatch writes (batchLength, magic and CRC it works out). */
export type BatchHeaderFields = Omit<BatchHeader, 'batchLength' | 'magic' | 'crc'>;

/** Writes the magic-2 header of `batch` (its records already at BATCH_HEADER_SIZE) and its CRC-32C; returns it. */
export function sealBatch(batch: Buffer, h: BatchHeaderFields): Buffer {
  batch.writeBigInt64BE(BigInt(h.baseOffset), BatchOffset.baseOffset);
  batch.writeInt32BE(batch.length - LOG_OVERHEAD, BatchOffset.batchLength);
  batch.writeInt32BE(h.partitionLeaderEpoch, BatchOffset.partitionLeaderEpoch);
  batch.writeInt8(2, BatchOffset.magic);
  batch.writeInt16BE(h.attributes, BatchOffset.attributes);
  batch.writeInt32BE(h.lastOffsetDelta, BatchOffset.lastOffsetDelta);
  batch.writeBigInt64BE(BigInt(h.baseTimestamp), BatchOffset.baseTimestamp);
  batch.writeBigInt64BE(BigInt(h.maxTimestamp), BatchOffset.maxTimestamp);
  batch.writeBigInt64BE(BigInt(h.producerId), BatchOffset.producerId);
  batch.writeInt16BE(h.producerEpoch, BatchOffset.producerEpoch);
  batch.writeInt32BE(h.baseSequence, BatchOffset.baseSequence);
  batch.writeInt32BE(h.recordCount, BatchOffset.recordCount);
  batch.writeUInt32BE(crc32c(batch, BatchOffset.attributes, batch.length), BatchOffset.crc);
  return batch;
}

/** The stored CRC matches CRC-32C over attributes..end of the batch at `pos`. */
export function batchCrcIsValid(buf: Buffer, pos = 0): boolean {
  const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BatchOffset.batchLength);
  return buf.readUInt32BE(pos + BatchOffset.crc) === crc32c(buf, pos + BatchOffset.attributes, end);
}

/** Rewrites maxTimestamp/attributes for LogAppendTime and recomputes the CRC. */
export function setLogAppendTime(buf: Buffer, pos: number, now: number): void {
  const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BatchOffset.batchLength);
  buf.writeBigInt64BE(BigInt(now), pos + BatchOffset.maxTimestamp);
  buf.writeInt16BE(buf.readInt16BE(pos + BatchOffset.attributes) | Attr.logAppendTime, pos + BatchOffset.attributes);
  buf.writeUInt32BE(crc32c(buf, pos + BatchOffset.attributes, end), pos + BatchOffset.crc);
}
