// Legacy message sets (magic 0 and 1): read one entry, expand compressed wrappers into their inner
// messages, and build sets. Only old clients (Produce v0-v2, Fetch v0-v3) ever need this.
import { ErrorCode, KafkaError } from '../errors.js';
import { compress, decompress, DEFAULT_MAX_DECOMPRESSED_BYTES } from './compression.js';
import { crc32 } from './crc.js';
import type { Record, RecordInput } from './record.js';

/** offset int64 + size int32. */
export const LEGACY_LOG_OVERHEAD = 12;
/** crc + magic + attributes + key length + value length. */
export const LEGACY_RECORD_OVERHEAD_V0 = 14;
/** ... + timestamp. */
export const LEGACY_RECORD_OVERHEAD_V1 = 22;
export const LEGACY_TIMESTAMP_TYPE_MASK = 0x08;
const CODEC_MASK = 0x07;

/** One shallow entry of a message set, CRC-checked. */
export interface LegacyEntry {
  offset: number;
  magic: 0 | 1;
  attributes: number;
  /** -1 for magic 0. */
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Whole entry size, LEGACY_LOG_OVERHEAD included. */
  size: number;
}

function corrupt(message: string): KafkaError {
  return new KafkaError(ErrorCode.CORRUPT_MESSAGE, message);
}

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_RECORD, message);
}

/**
 * The fields of the last message checkLegacyMessage read, as positions in its buffer: one object
 * reused for every message, so walking millions of them builds nothing per message.
 */
export const legacyMessage = {
  offset: 0,
  magic: 0 as 0 | 1,
  attributes: 0,
  /** -1 for magic 0. */
  timestamp: -1,
  keyStart: 0,
  /** -1 for a null key. */
  keyLength: -1,
  valueStart: 0,
  /** -1 for a null value. */
  valueLength: -1,
};

/** A signed int64 as a number (exact within +-2^53), without a BigInt per read. */
function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 4294967296 + buf.readUInt32BE(pos + 4);
}

/**
 * Checks the complete legacy entry at `pos` (offset, size, message, before `end`) and leaves its
 * fields in `legacyMessage`; returns the position after it. Bad CRC or sizes the bytes cannot
 * hold -> CORRUPT_MESSAGE; wrong magic -> INVALID_RECORD.
 */
export function checkLegacyMessage(buf: Buffer, pos: number, end = buf.length): number {
  if (end - pos < LEGACY_LOG_OVERHEAD) throw corrupt('message truncated');
  const size = buf.readInt32BE(pos + 8);
  const msgStart = pos + LEGACY_LOG_OVERHEAD;
  const msgEnd = msgStart + size;
  if (size < LEGACY_RECORD_OVERHEAD_V0) throw corrupt(`message size ${size} is too small`);
  if (msgEnd > end) throw corrupt('message truncated');
  const magic = buf[msgStart + 4];
  if (magic !== 0 && magic !== 1) throw invalid(`message magic ${magic} is not 0 or 1`);
  if (magic === 1 && size < LEGACY_RECORD_OVERHEAD_V1) throw corrupt(`message size ${size} is too small`);
  const stored = buf.readUInt32BE(msgStart);
  if (stored !== crc32(buf, msgStart + 4, msgEnd)) throw corrupt('message fails its CRC');
  const m = legacyMessage;
  m.offset = readInt64(buf, pos);
  m.magic = magic;
  m.attributes = buf[msgStart + 5];
  let p = msgStart + 6;
  m.timestamp = -1;
  if (magic === 1) {
    m.timestamp = readInt64(buf, p);
    p += 8;
  }
  const keyLength = buf.readInt32BE(p);
  p += 4;
  if (keyLength < -1) throw corrupt(`invalid key length ${keyLength}`);
  if (keyLength > 0 && p + keyLength + 4 > msgEnd) throw corrupt('message key overruns the message');
  m.keyStart = p;
  m.keyLength = keyLength;
  if (keyLength > 0) p += keyLength;
  if (p + 4 > msgEnd) throw corrupt('message truncated');
  const valueLength = buf.readInt32BE(p);
  p += 4;
  if (valueLength < -1) throw corrupt(`invalid value length ${valueLength}`);
  if (valueLength > 0 && p + valueLength > msgEnd) throw corrupt('message value overruns the message');
  m.valueStart = p;
  m.valueLength = valueLength;
  if (valueLength > 0) p += valueLength;
  if (p !== msgEnd) throw corrupt(`message size ${size} does not match its contents`);
  return msgEnd;
}

/** Reads the complete legacy entry at `pos` as an object (checkLegacyMessage's checks and errors). */
export function readLegacyEntry(buf: Buffer, pos: number, end = buf.length): LegacyEntry {
  const next = checkLegacyMessage(buf, pos, end);
  const m = legacyMessage;
  return {
    offset: m.offset,
    magic: m.magic,
    attributes: m.attributes,
    timestamp: m.timestamp,
    key: m.keyLength < 0 ? null : buf.subarray(m.keyStart, m.keyStart + m.keyLength),
    value: m.valueLength < 0 ? null : buf.subarray(m.valueStart, m.valueStart + m.valueLength),
    size: next - pos,
  };
}

export interface ExpandOptions {
  /** What to do when the set ends mid-entry: Fetch data may ('stop'); a Produce may not ('throw'). */
  truncated: 'stop' | 'throw';
  maxDecompressedBytes?: number;
  /** Receives the codec of each compressed wrapper (up-conversion recompresses with it). */
  onWrapper?: (codec: number, entry: LegacyEntry) => void;
}

/**
 * Appends the deep records of the legacy set buf[start, end) to `out`, with absolute offsets
 * (v1 wrappers: relative inner offsets resolved against the wrapper's) and timestamps as readers
 * see them (-1 for magic 0; a LogAppendTime wrapper's timestamp overrides its inner ones).
 */
export function expandLegacyEntries(out: Record[], buf: Buffer, start: number, end: number, opts: ExpandOptions): void {
  let pos = start;
  while (pos < end) {
    if (end - pos < LEGACY_LOG_OVERHEAD || pos + LEGACY_LOG_OVERHEAD + buf.readInt32BE(pos + 8) > end) {
      if (opts.truncated === 'stop') return;
      throw corrupt('message set ends with a truncated message');
    }
    const entry = readLegacyEntry(buf, pos, end);
    pos += entry.size;
    const codec = entry.attributes & CODEC_MASK;
    if (codec === 0) {
      out.push({ offset: entry.offset, timestamp: entry.timestamp, key: entry.key, value: entry.value, headers: [] });
    } else {
      opts.onWrapper?.(codec, entry);
      expandWrapper(out, entry, codec, opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
    }
  }
}

function expandWrapper(out: Record[], wrapper: LegacyEntry, codec: number, maxBytes: number): void {
  if (codec > 3) throw invalid(`compression id ${codec} is not allowed in a magic ${wrapper.magic} message`);
  if (wrapper.value === null) throw invalid('compressed message has a null value');
  const inner = decompress(codec, wrapper.value, maxBytes, wrapper.magic);
  const first = out.length;
  let pos = 0;
  while (pos < inner.length) {
    if (inner.length - pos < LEGACY_LOG_OVERHEAD || pos + LEGACY_LOG_OVERHEAD + inner.readInt32BE(pos + 8) > inner.length) {
      throw corrupt('compressed message set ends with a truncated message');
    }
    const entry = readLegacyEntry(inner, pos);
    pos += entry.size;
    if ((entry.attributes & CODEC_MASK) !== 0) throw invalid('inner messages must not be compressed');
    // Kafka reads inner messages by their own magic (kafka-node puts magic-1 messages inside
    // magic-0 wrappers); a v1 LogAppendTime wrapper's timestamp wins.
    let timestamp = entry.timestamp;
    if (wrapper.magic === 1 && entry.magic === 1 && wrapper.attributes & LEGACY_TIMESTAMP_TYPE_MASK) {
      timestamp = wrapper.timestamp;
    }
    out.push({ offset: entry.offset, timestamp, key: entry.key, value: entry.value, headers: [] });
  }
  if (out.length === first) throw invalid('compressed message set has no inner messages');
  if (wrapper.magic === 1) {
    // Inner offsets are relative; the wrapper carries the absolute offset of the last one.
    // Producers may send wrapper offset 0 (base 0, as Kafka tolerates).
    const lastInner = out[out.length - 1].offset;
    if (wrapper.offset !== 0 && wrapper.offset < lastInner) {
      throw invalid(`wrapper offset ${wrapper.offset} is below its last inner offset ${lastInner}`);
    }
    const base = wrapper.offset === 0 ? 0 : wrapper.offset - lastInner;
    for (let i = first; i < out.length; i++) out[i].offset += base;
  }
}

/** Size of one legacy entry with the given key/value byte lengths (-1 = null). */
export function legacyEntrySize(magic: 0 | 1, keyLength: number, valueLength: number): number {
  return (
    LEGACY_LOG_OVERHEAD +
    (magic === 0 ? LEGACY_RECORD_OVERHEAD_V0 : LEGACY_RECORD_OVERHEAD_V1) +
    Math.max(0, keyLength) +
    Math.max(0, valueLength)
  );
}

/** Writes one legacy entry at `pos` (CRC-32 filled in); returns the position after it. */
export function writeLegacyEntry(
  buf: Buffer,
  pos: number,
  offset: number,
  magic: 0 | 1,
  attributes: number,
  timestamp: number,
  key: Buffer | null,
  value: Buffer | null,
): number {
  const size = legacyEntrySize(magic, key ? key.length : -1, value ? value.length : -1);
  buf.writeBigInt64BE(BigInt(offset), pos);
  buf.writeInt32BE(size - LEGACY_LOG_OVERHEAD, pos + 8);
  const msgStart = pos + LEGACY_LOG_OVERHEAD;
  let p = msgStart + 4;
  buf[p++] = magic;
  buf[p++] = attributes;
  if (magic === 1) {
    buf.writeBigInt64BE(BigInt(timestamp), p);
    p += 8;
  }
  for (const field of [key, value]) {
    if (field === null) {
      buf.writeInt32BE(-1, p);
      p += 4;
    } else {
      buf.writeInt32BE(field.length, p);
      field.copy(buf, p + 4);
      p += 4 + field.length;
    }
  }
  buf.writeUInt32BE(crc32(buf, msgStart + 4, p), msgStart);
  return p;
}

/** A message for writeMessageSet: the caller has already chosen offsets and timestamps. */
export interface LegacyMessage {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
}

/**
 * Writes `messages` as a set of `magic`; with a codec, as one wrapper holding them (v1: relative
 * inner offsets; v0: absolute) whose offset is the last message's. `logAppendTime` (v1 only) sets
 * the timestamp-type bit and is the wrapper's timestamp; otherwise the wrapper has the max one.
 */
export function writeMessageSet(messages: LegacyMessage[], magic: 0 | 1, codec: number, logAppendTime: number | null): Buffer {
  const tsAttr = magic === 1 && logAppendTime !== null ? LEGACY_TIMESTAMP_TYPE_MASK : 0;
  const baseOffset = messages.length > 0 ? messages[0].offset : 0;
  let size = 0;
  for (const m of messages) size += legacyEntrySize(magic, m.key ? m.key.length : -1, m.value ? m.value.length : -1);
  const plain = Buffer.allocUnsafe(size);
  let pos = 0;
  let maxTimestamp = -1;
  for (const m of messages) {
    const offset = codec !== 0 && magic === 1 ? m.offset - baseOffset : m.offset;
    if (m.timestamp > maxTimestamp) maxTimestamp = m.timestamp;
    pos = writeLegacyEntry(plain, pos, offset, magic, tsAttr, m.timestamp, m.key, m.value);
  }
  if (codec === 0 || messages.length === 0) return plain;
  const packed = compress(codec, plain, magic);
  const wrapper = Buffer.allocUnsafe(legacyEntrySize(magic, -1, packed.length));
  const wrapperTimestamp = logAppendTime ?? maxTimestamp;
  writeLegacyEntry(wrapper, 0, messages[messages.length - 1].offset, magic, codec | tsAttr, wrapperTimestamp, null, packed);
  return wrapper;
}

function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/**
 * Builds a legacy message set (tests, kafka-node compatibility). Offsets run from baseOffset
 * (default 0); headers are ignored (the format has none); magic-1 records without a timestamp
 * get `now` (default Date.now()).
 */
export function buildMessageSet(
  records: RecordInput[],
  opts: { magic: 0 | 1; compression?: number; baseOffset?: number; now?: number },
): Buffer {
  const codec = opts.compression ?? 0;
  if (codec > 3 || codec < 0) {
    throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `compression id ${codec} is not allowed with magic ${opts.magic}`);
  }
  const base = opts.baseOffset ?? 0;
  const now = opts.now ?? Date.now();
  const messages = records.map((r, i) => ({
    offset: base + i,
    timestamp: opts.magic === 0 ? -1 : (r.timestamp ?? now),
    key: toBuffer(r.key),
    value: toBuffer(r.value),
  }));
  return writeMessageSet(messages, opts.magic, codec, null);
}
