// What Produce does to a batch before storage sees it, in Kafka's LogValidator terms:
//  - an uncompressed batch whose topic keeps the producer's codec goes through untouched (storage
//    checks its CRC and record structure without building objects: the hot path);
//  - a compressed batch is decompressed (bounded) and its records checked: CRC first, then that it
//    holds exactly recordCount well-formed records with offset deltas 0..n-1;
//  - when the topic's compression.type names another codec ('uncompressed' = none), the records are
//    rebuilt into one batch with that codec, keeping timestamps, headers and the producer fields.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import {
  Attr,
  BatchOffset,
  LOG_OVERHEAD,
  batchCrcIsValid,
  buildRecordBatch,
  decodeRecordBatch,
} from '../protocol/records/index.js';

const CODEC_IDS: Readonly<Record<string, number>> = { uncompressed: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** The codec id a topic's compression.type asks for, or -1 for 'producer' (keep the batch's). */
export function targetCodec(compressionType: string): number {
  return CODEC_IDS[compressionType.trim().toLowerCase()] ?? -1;
}

/**
 * Returns the batch to store: `batch` itself, or a rebuilt one. Throws CORRUPT_MESSAGE (bad CRC,
 * undecodable stream) or INVALID_RECORD (records that do not match the header). One batch only.
 */
export function prepareBatch(batch: Buffer, target: number, maxDecompressedBytes?: number): Buffer {
  if (batch.length < LOG_OVERHEAD + 49) return batch; // storage rejects it with the right error
  const attributes = batch.readInt16BE(BatchOffset.attributes);
  const codec = attributes & Attr.compressionMask;
  const keep = target < 0 || target === codec || (attributes & Attr.control) !== 0;
  if (codec === 0 && keep) return batch;
  if (batch[BatchOffset.magic] !== 2 || LOG_OVERHEAD + batch.readInt32BE(BatchOffset.batchLength) !== batch.length) return batch;
  if (!batchCrcIsValid(batch, 0)) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC-32C mismatch');
  const { header, records } = decodeRecordBatch(batch, 0, { maxDecompressedBytes, verifyCrc: false });
  for (let i = 0; i < records.length; i++) {
    if (records[i].offset !== header.baseOffset + i) {
      throw new KafkaError(ErrorCode.INVALID_RECORD, `record ${i} of the batch has offset delta ${records[i].offset - header.baseOffset}`);
    }
  }
  if (keep) return batch;
  if (records.length === 0) return batch;
  const rebuilt = buildRecordBatch(records, {
    baseOffset: header.baseOffset,
    compression: target,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    transactional: (attributes & Attr.transactional) !== 0,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    timestampType: attributes & Attr.logAppendTime ? 'LogAppendTime' : 'CreateTime',
    now: attributes & Attr.logAppendTime ? header.maxTimestamp : undefined,
  });
  return rebuilt;
}
