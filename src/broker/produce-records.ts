// What Produce does to a batch before storage sees it, in Kafka's LogValidator terms:
//  - an uncompressed batch whose topic keeps the producer's codec goes through untouched (storage
//    checks its CRC and record structure without building objects: the hot path);
//  - a compressed batch is checked: CRC, then its record count against what a batch may decompress
//    to (before anything is inflated), then decompressed (bounded, off the event loop where the codec
//    allows) and walked as bytes (record-scan.ts): exactly recordCount well-formed records with
//    offset deltas 0..n-1, header counts the bytes can hold. No record or header becomes an object,
//    and the walk gives the event loop back every few MB, so a decompression bomb costs bounded
//    memory and time and other clients keep being served;
//  - when the topic's compression.type names another codec ('uncompressed' = none), the checked
//    records are recompressed as bytes into one batch with that codec; timestamps, headers and the
//    producer fields are unchanged.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import {
  Attr,
  BATCH_HEADER_SIZE,
  BatchOffset,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  LOG_OVERHEAD,
  batchCrcIsValid,
  compressAsync,
  crc32c,
  decompressAsync,
  upConversion,
} from '../protocol/records/index.js';
import { MIN_RECORD_BYTES, scanRecordsAsync, yieldToEventLoop } from '../protocol/records/record-scan.js';
import { setRecordsMaxTimestamp } from '../storage/batch-scan.js';

const CODEC_IDS: Readonly<Record<string, number>> = { uncompressed: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

/** The codec id a topic's compression.type asks for, or -1 for 'producer' (keep the batch's). */
export function targetCodec(compressionType: string): number {
  return CODEC_IDS[compressionType.trim().toLowerCase()] ?? -1;
}

export interface PrepareLimits {
  /** Bound on a batch's decompressed records (the broker passes socket.request.max.bytes). */
  maxDecompressedBytes?: number;
  /** A batch larger than this is left to storage, which refuses it (MESSAGE_TOO_LARGE) unread. */
  maxMessageBytes?: number;
}

/**
 * Resolves to the batch to store: `batch` itself, or a rebuilt one. Rejects with CORRUPT_MESSAGE
 * (bad CRC, undecodable stream) or INVALID_RECORD (records that do not match the header, or more
 * decompressed bytes than the bound). One batch only.
 */
export async function prepareBatch(batch: Buffer, target: number, limits: PrepareLimits = {}): Promise<Buffer> {
  if (batch.length < BATCH_HEADER_SIZE) return batch; // storage rejects it with the right error
  const attributes = batch.readInt16BE(BatchOffset.attributes);
  const codec = attributes & Attr.compressionMask;
  const keep = target < 0 || target === codec || (attributes & Attr.control) !== 0;
  if (codec === 0 && keep) return batch;
  if (batch[BatchOffset.magic] !== 2 || LOG_OVERHEAD + batch.readInt32BE(BatchOffset.batchLength) !== batch.length) return batch;
  if (limits.maxMessageBytes !== undefined && batch.length > limits.maxMessageBytes) return batch;
  if (!batchCrcIsValid(batch, 0)) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'record batch CRC-32C mismatch');
  const count = batch.readInt32BE(BatchOffset.recordCount);
  const lastOffsetDelta = batch.readInt32BE(BatchOffset.lastOffsetDelta);
  if (count <= 0 || lastOffsetDelta !== count - 1) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, `record count ${count} is inconsistent with lastOffsetDelta ${lastOffsetDelta}`);
  }
  const maxBytes = limits.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  // Counted before anything is allocated: the records could not fit in what the batch may inflate to.
  if (codec !== 0 && count > maxBytes / MIN_RECORD_BYTES) {
    throw new KafkaError(
      ErrorCode.INVALID_RECORD,
      `record count ${count} needs at least ${count * MIN_RECORD_BYTES} bytes, more than the ${maxBytes} a batch may decompress to`,
    );
  }
  return withInflationSlot(async () => {
    const plain = await decompressAsync(codec, batch.subarray(BATCH_HEADER_SIZE), maxBytes);
    const maxTimestampDelta = await scanRecordsAsync(plain, 0, plain.length, count);
    if (!keep) return await recompressed(batch, plain, target, maxTimestampDelta);
    // Kafka stores the records' own max timestamp in the header (some producers write -1 there).
    setRecordsMaxTimestamp(batch, 0, maxTimestampDelta);
    return batch;
  });
}

/**
 * Produce v0-v2: the legacy message set `set` up-converted into the one magic-2 batch to store,
 * compressed with `target` (-1: the wrappers' codec). Like a compressed batch it takes an inflation
 * slot: its wrappers inflate (off the event loop where the codec allows) within one bound for the
 * whole set, and the walk over their messages gives the event loop back every few MB
 * (conversion.ts upConversion). Rejects with CORRUPT_MESSAGE or INVALID_RECORD.
 */
export async function upConvertLegacySet(set: Buffer, target: number, limits: PrepareLimits & { logAppendTime?: number }): Promise<Buffer> {
  return withInflationSlot(async () => {
    const steps = upConversion(set, { logAppendTime: limits.logAppendTime, maxDecompressedBytes: limits.maxDecompressedBytes, targetCodec: target });
    let answer: Buffer | undefined;
    for (;;) {
      const step = steps.next(answer);
      if (step.done) return step.value;
      const ask = step.value;
      answer = undefined;
      if (ask.kind === 'pause') await yieldToEventLoop();
      else if (ask.kind === 'inflate') answer = await decompressAsync(ask.codec, ask.data, ask.maxBytes, ask.magic);
      else answer = await compressAsync(ask.codec, ask.data, 2);
    }
  });
}

/**
 * Batches inflated and checked at once. Each may hold up to maxDecompressedBytes until it is
 * checked, so many bombs sent together must queue rather than add up; a batch that inflates and is
 * checked without pausing (nearly all of them) takes and gives back its slot in the same tick.
 */
export const MAX_CONCURRENT_INFLATIONS = 2;
let inflating = 0;
const waitingForSlot: Array<() => void> = [];

async function withInflationSlot<T>(work: () => Promise<T>): Promise<T> {
  if (inflating < MAX_CONCURRENT_INFLATIONS) inflating++;
  else await new Promise<void>((resolve) => waitingForSlot.push(resolve)); // the slot is handed over, not freed
  try {
    return await work();
  } finally {
    const next = waitingForSlot.shift();
    if (next) next();
    else inflating--;
  }
}

/** `batch`'s header around `plain` (its checked records) compressed with `target`. */
async function recompressed(batch: Buffer, plain: Buffer, target: number, maxTimestampDelta: number): Promise<Buffer> {
  const packed = await compressAsync(target, plain, 2);
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + packed.length);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  packed.copy(out, BATCH_HEADER_SIZE);
  const attributes = batch.readInt16BE(BatchOffset.attributes);
  out.writeInt16BE((attributes & ~Attr.compressionMask) | target, BatchOffset.attributes);
  out.writeInt32BE(out.length - LOG_OVERHEAD, BatchOffset.batchLength);
  if (!(attributes & Attr.logAppendTime)) {
    // As Kafka's rebuilt batches: maxTimestamp is the records' own, whatever the producer wrote.
    const baseTimestamp = Number(batch.readBigInt64BE(BatchOffset.baseTimestamp));
    out.writeBigInt64BE(BigInt(baseTimestamp + maxTimestampDelta), BatchOffset.maxTimestamp);
  }
  out.writeUInt32BE(crc32c(out, BatchOffset.attributes, out.length), BatchOffset.crc);
  return out;
}
