// Magic-2 record batches: build one, walk concatenated ones by header only, decode one fully.
// The broker's produce/fetch path needs only iterateBatches (headers); decoding is for tools,
// conversion and tests.
import { ErrorCode, KafkaError } from '../errors.js';
import { Attr, BATCH_HEADER_SIZE, BatchOffset, LOG_OVERHEAD, readBatchHeader, sealBatch, type BatchHeader } from './batch-header.js';
import { compress, decompress, DEFAULT_MAX_DECOMPRESSED_BYTES } from './compression.js';
import { crc32c } from './crc.js';
import {
  prepareRecord,
  readRecordsInto,
  recordBodySize,
  writeRecord,
  type PreparedRecord,
  type Record,
  type RecordInput,
} from './record.js';
import { sizeOfVarint } from './varint.js';

export interface RecordBatchOptions {
  baseOffset?: number;
  /** 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  compression?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  timestampType?: 'CreateTime' | 'LogAppendTime';
  partitionLeaderEpoch?: number;
  /** Timestamp for records without one, and the append time with LogAppendTime. Default Date.now(). */
  now?: number;
}

/** Builds one magic-2 batch (CRC-32C filled in). Records get offset deltas 0..n-1. */
export function buildRecordBatch(records: RecordInput[], opts: RecordBatchOptions = {}): Buffer {
  const now = opts.now ?? Date.now();
  const prepared = new Array<PreparedRecord>(records.length);
  for (let i = 0; i < records.length; i++) prepared[i] = prepareRecord(records[i], now);
  return encodeBatch(prepared, opts, 0);
}

/** @internal Encodes prepared records; `extraAttributes` carries the control bit. */
export function encodeBatch(records: PreparedRecord[], opts: RecordBatchOptions, extraAttributes: number): Buffer {
  const count = records.length;
  if (count === 0) throw new KafkaError(ErrorCode.INVALID_RECORD, 'a record batch needs at least one record');
  const codec = opts.compression ?? 0;
  if (!Number.isInteger(codec) || codec < 0 || codec > 4) {
    throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `unknown compression id ${codec}`);
  }
  const logAppendTime = opts.timestampType === 'LogAppendTime';

  // Like Kafka's builder: the first record's timestamp is the base; deltas may be negative.
  const baseTimestamp = records[0].timestamp;
  let maxTimestamp = baseTimestamp;
  const bodySizes = new Array<number>(count);
  let recordsSize = 0;
  for (let i = 0; i < count; i++) {
    const r = records[i];
    if (r.timestamp > maxTimestamp) maxTimestamp = r.timestamp;
    const body = recordBodySize(r, i, r.timestamp - baseTimestamp);
    bodySizes[i] = body;
    recordsSize += sizeOfVarint(body) + body;
  }
  if (logAppendTime) maxTimestamp = opts.now ?? Date.now();

  let out: Buffer;
  if (codec === 0) {
    out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + recordsSize);
    writeAllRecords(out, BATCH_HEADER_SIZE, records, bodySizes, baseTimestamp);
  } else {
    const plain = Buffer.allocUnsafe(recordsSize);
    writeAllRecords(plain, 0, records, bodySizes, baseTimestamp);
    const packed = compress(codec, plain, 2);
    out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + packed.length);
    packed.copy(out, BATCH_HEADER_SIZE);
  }

  let attributes = codec | extraAttributes;
  if (logAppendTime) attributes |= Attr.logAppendTime;
  if (opts.transactional) attributes |= Attr.transactional;
  return sealBatch(out, {
    baseOffset: opts.baseOffset ?? 0,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? -1,
    attributes,
    lastOffsetDelta: count - 1,
    baseTimestamp,
    maxTimestamp,
    producerId: opts.producerId ?? -1,
    producerEpoch: opts.producerEpoch ?? -1,
    baseSequence: opts.baseSequence ?? -1,
    recordCount: count,
  });
}

function writeAllRecords(
  buf: Buffer,
  pos: number,
  records: PreparedRecord[],
  bodySizes: number[],
  baseTimestamp: number,
): void {
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    pos = writeRecord(buf, pos, r, i, r.timestamp - baseTimestamp, bodySizes[i]);
  }
}

/**
 * Walks concatenated magic-2 batches by their headers. Stops silently at a truncated tail (a Fetch
 * may end mid-batch); throws CORRUPT_MESSAGE on an impossible size and INVALID_RECORD on a
 * non-magic-2 entry. Does not check CRCs (batchCrcIsValid does).
 */
export function* iterateBatches(buf: Buffer): Generator<{ position: number; size: number; header: BatchHeader }> {
  let pos = 0;
  while (buf.length - pos >= LOG_OVERHEAD) {
    const batchLength = buf.readInt32BE(pos + BatchOffset.batchLength);
    if (batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD) {
      throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch size ${batchLength} at ${pos} is too small`);
    }
    const size = batchLength + LOG_OVERHEAD;
    if (pos + size > buf.length) return;
    const magic = buf[pos + BatchOffset.magic];
    if (magic !== 2) throw new KafkaError(ErrorCode.INVALID_RECORD, `expected a magic-2 batch at ${pos}, found magic ${magic}`);
    yield { position: pos, size, header: readBatchHeader(buf, pos) };
    pos += size;
  }
}

export interface DecodeOptions {
  /** Bound on the decompressed records of a batch. */
  maxDecompressedBytes?: number;
  /** Default true: a bad CRC-32C throws CORRUPT_MESSAGE. */
  verifyCrc?: boolean;
}

/** Decodes every record of the complete magic-2 batch at `position`, decompressing if needed. */
export function decodeRecordBatch(
  buf: Buffer,
  position = 0,
  opts: DecodeOptions = {},
): { header: BatchHeader; isControl: boolean; records: Record[] } {
  const records: Record[] = [];
  const header = decodeBatchInto(records, buf, position, opts, false);
  return { header, isControl: (header.attributes & Attr.control) !== 0, records };
}

/**
 * @internal Appends the records of the batch at `position` to `out` (nothing for a control batch
 * when `skipControl`, which still checks its CRC); returns the header.
 */
export function decodeBatchInto(out: Record[], buf: Buffer, position: number, opts: DecodeOptions, skipControl: boolean): BatchHeader {
  if (buf.length - position < BATCH_HEADER_SIZE) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record batch truncated');
  const header = readBatchHeader(buf, position);
  const end = position + LOG_OVERHEAD + header.batchLength;
  if (header.batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD || end > buf.length) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record batch truncated');
  }
  if (header.magic !== 2) throw new KafkaError(ErrorCode.INVALID_RECORD, `expected magic 2, found ${header.magic}`);
  if (opts.verifyCrc !== false && header.crc !== crc32c(buf, position + BatchOffset.attributes, end)) {
    throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, `record batch at offset ${header.baseOffset} fails its CRC`);
  }
  if (skipControl && header.attributes & Attr.control) return header;
  const count = header.recordCount;
  if (count < 0) throw new KafkaError(ErrorCode.INVALID_RECORD, `invalid record count ${count}`);
  const codec = header.attributes & Attr.compressionMask;
  const logAppendTime = header.attributes & Attr.logAppendTime ? header.maxTimestamp : null;
  const start = position + BATCH_HEADER_SIZE;
  if (codec === 0) {
    readRecordsInto(out, buf, start, end, count, header.baseOffset, header.baseTimestamp, logAppendTime);
  } else {
    const plain = decompress(codec, buf.subarray(start, end), opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
    readRecordsInto(out, plain, 0, plain.length, count, header.baseOffset, header.baseTimestamp, logAppendTime);
  }
  return header;
}
