// Format conversion for old clients only: up-convert a Produce v0-v2 message set into the one
// magic-2 batch kts stores; down-convert stored batches for Fetch v0-v3. Modern requests never
// reach this file.
import { ErrorCode, KafkaError } from '../errors.js';
import { Attr, Compression } from './batch-header.js';
import { expandLegacyEntries, writeMessageSet, type LegacyMessage } from './legacy-message-set.js';
import { decodeRecordBatch, encodeBatch, iterateBatches } from './record-batch.js';
import type { PreparedRecord, Record } from './record.js';

/**
 * Up-converts a legacy message set (magic 0/1, possibly compressed wrappers) into ONE magic-2
 * batch: base offset 0, producer id -1, no headers, recompressed with the wrappers' codec.
 * Magic-0 records get timestamp -1; with `logAppendTime` every record gets that time and the batch
 * is LogAppendTime. Bad CRC / truncation -> CORRUPT_MESSAGE; other invalid input -> INVALID_RECORD.
 */
export function upConvertMessageSet(buf: Buffer, opts: { logAppendTime?: number; maxDecompressedBytes?: number } = {}): Buffer {
  const records: Record[] = [];
  let codec = 0;
  expandLegacyEntries(records, buf, 0, buf.length, {
    truncated: 'throw',
    maxDecompressedBytes: opts.maxDecompressedBytes,
    onWrapper: (c) => {
      codec = c; // like Kafka: the (last) compressed wrapper's codec is the source codec
    },
  });
  if (records.length === 0) throw new KafkaError(ErrorCode.INVALID_RECORD, 'message set holds no messages');
  const lat = opts.logAppendTime;
  const prepared = records.map((r): PreparedRecord => ({
    timestamp: lat ?? r.timestamp,
    key: r.key,
    keyLength: r.key ? r.key.length : -1,
    value: r.value,
    valueLength: r.value ? r.value.length : -1,
    headers: [],
  }));
  return encodeBatch(
    prepared,
    {
      compression: codec,
      timestampType: lat === undefined ? 'CreateTime' : 'LogAppendTime',
      now: lat,
    },
    0,
  );
}

/**
 * Down-converts stored magic-2 batches (a Fetch slice; a truncated tail is dropped) into a legacy
 * set of `magic`: headers dropped, timestamps dropped for magic 0, control batches skipped. An
 * uncompressed batch becomes one message per record at or after `fetchOffset`; a compressed batch
 * becomes one wrapper of the same codec with all its records. zstd -> UNSUPPORTED_COMPRESSION_TYPE.
 * Call it only for Fetch v0-v3.
 */
export function downConvertBatches(buf: Buffer, magic: 0 | 1, fetchOffset: number): Buffer {
  const parts: Buffer[] = [];
  for (const { position, header } of iterateBatches(buf)) {
    if (header.attributes & Attr.control) continue;
    if (header.baseOffset + header.lastOffsetDelta < fetchOffset) continue; // wholly before the fetch
    const codec = header.attributes & Attr.compressionMask;
    if (codec === Compression.Zstd) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 'zstd batches cannot be down-converted for this Fetch version');
    }
    const { records } = decodeRecordBatch(buf, position);
    const lat = magic === 1 && header.attributes & Attr.logAppendTime ? header.maxTimestamp : null;
    const messages: LegacyMessage[] = [];
    for (const r of records) {
      if (codec === 0 && r.offset < fetchOffset) continue;
      messages.push({ offset: r.offset, timestamp: magic === 0 ? -1 : r.timestamp, key: r.key, value: r.value });
    }
    if (messages.length === 0) continue;
    parts.push(writeMessageSet(messages, magic, codec, lat));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
