// Format conversion for old clients only: up-convert a Produce v0-v2 message set into the one
// magic-2 batch kts stores; down-convert stored batches for Fetch v0-v3. Modern requests never
// reach this file.
import { ErrorCode, KafkaError } from '../errors.js';
import { Attr, BATCH_HEADER_SIZE, Compression, sealBatch } from './batch-header.js';
import { compress, decompress, DEFAULT_MAX_DECOMPRESSED_BYTES } from './compression.js';
import {
  checkLegacyMessage,
  LEGACY_LOG_OVERHEAD,
  LEGACY_TIMESTAMP_TYPE_MASK,
  legacyMessage,
  writeMessageSet,
  type LegacyMessage,
} from './legacy-message-set.js';
import { decodeRecordBatch, iterateBatches } from './record-batch.js';
import { recordBodySizeWithoutHeaders } from './record.js';
import { sizeOfVarint, writeVarint, writeVarlong } from './varint.js';

export interface UpConversionOptions {
  /** Every record gets this time and the batch is LogAppendTime (the topic's timestamp type). */
  logAppendTime?: number;
  /** Bound on the bytes the set's wrappers may inflate to, together, and on the built batch's records. */
  maxDecompressedBytes?: number;
  /** The result's codec; -1 or absent: the wrappers' (like Kafka, the last compressed wrapper's). */
  targetCodec?: number;
  /** Work (bytes of messages walked, plus a little per message and per wrapper) between two pauses. */
  sliceBytes?: number;
}

/**
 * What an up-conversion asks of whoever drives it: give the event loop back, inflate a wrapper's
 * value (the answer: its bytes), or compress the built records with the result's codec (the answer:
 * the compressed bytes).
 */
export type UpConversionStep =
  | { kind: 'pause' }
  | { kind: 'inflate'; codec: number; data: Buffer; maxBytes: number; magic: 0 | 1 }
  | { kind: 'compress'; codec: number; data: Buffer };

/**
 * Work counted for each message and each wrapper besides their bytes: tiny messages cost more per
 * byte (~40 bytes' worth each), and a set of a million tiny wrappers must pause too.
 */
const MESSAGE_WORK = 40;
const WRAPPER_WORK = 1024;
const CODEC_MASK = 0x07;

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_RECORD, message);
}

/**
 * Up-converts a legacy message set (magic 0/1, possibly compressed wrappers) into ONE magic-2
 * batch, as bytes: base offset 0, producer id -1, no headers. Magic-0 records get timestamp -1;
 * with `logAppendTime` every record gets that time and the batch is LogAppendTime. Bad CRC or sizes
 * the bytes cannot hold -> CORRUPT_MESSAGE; more than the bound inflated or built, compressed
 * inner messages and other invalid input -> INVALID_RECORD.
 *
 * Every message is checked and written straight into the new batch's records (which grow by
 * doubling, never past the bound): nothing is built per message, a wrapper's inflated set is
 * dropped once walked, and the work pauses every `sliceBytes`. Inflating and the final compression
 * are the driver's (UpConversionStep), so a broker can do them off its event loop;
 * upConvertMessageSet drives it synchronously.
 */
export function* upConversion(buf: Buffer, opts: UpConversionOptions = {}): Generator<UpConversionStep, Buffer, Buffer | undefined> {
  const maxBytes = opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES;
  const sliceBytes = opts.sliceBytes ?? 1 << 20;
  const lat = opts.logAppendTime;
  let inflateBudget = maxBytes;
  let work = 0;
  let codec = 0;
  // The batch being built: its header's room, then records written as they are checked.
  let out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + Math.min(maxBytes, Math.max(256, buf.length)));
  let at = BATCH_HEADER_SIZE;
  let count = 0;
  let baseTimestamp = 0;
  let maxTimestamp = -1;

  /** Appends the message legacyMessage holds (in `from`) as record `count`, with `timestamp`. */
  const append = (from: Buffer, timestamp: number) => {
    const m = legacyMessage;
    if (count === 0) baseTimestamp = maxTimestamp = timestamp;
    else if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const delta = timestamp - baseTimestamp;
    const body = recordBodySizeWithoutHeaders(m.keyLength, m.valueLength, count, delta, 0);
    const need = sizeOfVarint(body) + body;
    if (at + need > out.length) {
      if (at + need - BATCH_HEADER_SIZE > maxBytes) throw invalid(`the up-converted records take more than ${maxBytes} bytes`);
      const grown = Buffer.allocUnsafe(Math.min(BATCH_HEADER_SIZE + maxBytes, Math.max(at + need, 2 * out.length)));
      out.copy(grown, 0, 0, at);
      out = grown;
    }
    at += writeVarint(out, at, body);
    out[at++] = 0; // attributes
    at += writeVarlong(out, at, delta);
    at += writeVarint(out, at, count);
    at += writeVarint(out, at, m.keyLength);
    if (m.keyLength > 0) at += from.copy(out, at, m.keyStart, m.keyStart + m.keyLength);
    at += writeVarint(out, at, m.valueLength);
    if (m.valueLength > 0) at += from.copy(out, at, m.valueStart, m.valueStart + m.valueLength);
    out[at++] = 0; // no headers
    count++;
  };

  let pos = 0;
  while (pos < buf.length) {
    const next = checkLegacyMessage(buf, pos, buf.length);
    work += next - pos + MESSAGE_WORK;
    pos = next;
    const wrapperCodec = legacyMessage.attributes & CODEC_MASK;
    if (wrapperCodec === 0) {
      append(buf, lat ?? legacyMessage.timestamp);
    } else {
      const w = { ...legacyMessage };
      if (wrapperCodec > 3) throw invalid(`compression id ${wrapperCodec} is not allowed in a magic ${w.magic} message`);
      if (w.valueLength < 0) throw invalid('compressed message has a null value');
      codec = wrapperCodec;
      work += WRAPPER_WORK;
      const data = buf.subarray(w.valueStart, w.valueStart + w.valueLength);
      const inner = yield { kind: 'inflate', codec: wrapperCodec, data, maxBytes: inflateBudget, magic: w.magic };
      if (!inner) throw new Error('upConversion: the driver did not inflate the wrapper');
      inflateBudget -= inner.length;
      // A v1 LogAppendTime wrapper's timestamp wins over its magic-1 inner messages'.
      const wrapperTime = w.magic === 1 && w.attributes & LEGACY_TIMESTAMP_TYPE_MASK ? w.timestamp : null;
      const first = count;
      let lastInnerOffset = 0;
      for (let p = 0; p < inner.length; ) {
        if (inner.length - p < LEGACY_LOG_OVERHEAD || p + LEGACY_LOG_OVERHEAD + inner.readInt32BE(p + 8) > inner.length) {
          throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'compressed message set ends with a truncated message');
        }
        const after = checkLegacyMessage(inner, p);
        work += after - p + MESSAGE_WORK;
        p = after;
        // Kafka refuses compression inside compression without looking further.
        if ((legacyMessage.attributes & CODEC_MASK) !== 0) throw invalid('inner messages must not be compressed');
        lastInnerOffset = legacyMessage.offset;
        // Kafka reads inner messages by their own magic (kafka-node puts magic-1 messages in magic-0 wrappers).
        append(inner, lat ?? (legacyMessage.magic === 1 && wrapperTime !== null ? wrapperTime : legacyMessage.timestamp));
        if (work >= sliceBytes) {
          work = 0;
          yield { kind: 'pause' };
        }
      }
      if (count === first) throw invalid('compressed message set has no inner messages');
      // v1 inner offsets are relative and the wrapper carries the last one's absolute offset (0 from some producers).
      if (w.magic === 1 && w.offset !== 0 && w.offset < lastInnerOffset) {
        throw invalid(`wrapper offset ${w.offset} is below its last inner offset ${lastInnerOffset}`);
      }
    }
    if (work >= sliceBytes) {
      work = 0;
      yield { kind: 'pause' };
    }
  }
  if (count === 0) throw invalid('message set holds no messages');
  const target = opts.targetCodec === undefined || opts.targetCodec < 0 ? codec : opts.targetCodec;
  let batch = out.subarray(0, at);
  if (target !== 0) {
    const packed = yield { kind: 'compress', codec: target, data: out.subarray(BATCH_HEADER_SIZE, at) };
    if (!packed) throw new Error('upConversion: the driver did not compress the records');
    batch = Buffer.allocUnsafe(BATCH_HEADER_SIZE + packed.length);
    packed.copy(batch, BATCH_HEADER_SIZE);
  }
  return sealBatch(batch, {
    baseOffset: 0,
    partitionLeaderEpoch: -1,
    attributes: target | (lat === undefined ? 0 : Attr.logAppendTime),
    lastOffsetDelta: count - 1,
    baseTimestamp,
    maxTimestamp,
    producerId: -1,
    producerEpoch: -1,
    baseSequence: -1,
    recordCount: count,
  });
}

/** upConversion driven synchronously (tools and tests; the broker drives it off its event loop). */
export function upConvertMessageSet(buf: Buffer, opts: UpConversionOptions = {}): Buffer {
  const steps = upConversion(buf, opts);
  let answer: Buffer | undefined;
  for (;;) {
    const step = steps.next(answer);
    if (step.done) return step.value;
    const ask = step.value;
    if (ask.kind === 'inflate') answer = decompress(ask.codec, ask.data, ask.maxBytes, ask.magic);
    else answer = ask.kind === 'compress' ? compress(ask.codec, ask.data, 2) : undefined;
  }
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
