// One magic-2 record: the types every reader sees, plus the encoder and the decoder loop used by
// record-batch.ts. Decoded keys, values and header values are views into the input buffer (no
// copies): copy them if the buffer is reused.
import { ErrorCode, KafkaError } from '../errors.js';
import { readVarlong, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './varint.js';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface Record {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export type HeaderValueInput = string | Buffer | null;

export interface RecordInput {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  /** An array keeps order and duplicates; an object is read in key order (an array value repeats the key). */
  headers?: { key: string; value: HeaderValueInput }[] | { [k: string]: HeaderValueInput | HeaderValueInput[] };
  timestamp?: number;
}

/** A record measured and ready to write; strings stay strings until written (no extra copy). */
export interface PreparedRecord {
  timestamp: number;
  key: Buffer | string | null;
  keyLength: number;
  value: Buffer | string | null;
  valueLength: number;
  headers: PreparedHeader[];
}

interface PreparedHeader {
  key: string;
  keyLength: number;
  value: Buffer | string | null;
  valueLength: number;
}

const NO_HEADERS: PreparedHeader[] = [];

function byteLength(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return -1;
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

function prepareHeader(key: string, value: HeaderValueInput | undefined): PreparedHeader {
  const v = value === undefined ? null : value;
  return { key, keyLength: Buffer.byteLength(key, 'utf8'), value: v, valueLength: byteLength(v) };
}

function prepareHeaders(input: RecordInput['headers']): PreparedHeader[] {
  if (!input) return NO_HEADERS;
  const out: PreparedHeader[] = [];
  if (Array.isArray(input)) {
    for (const h of input) out.push(prepareHeader(h.key, h.value));
    return out;
  }
  for (const key of Object.keys(input)) {
    const v = input[key];
    if (Array.isArray(v)) for (const item of v) out.push(prepareHeader(key, item));
    else out.push(prepareHeader(key, v));
  }
  return out;
}

export function prepareRecord(input: RecordInput, defaultTimestamp: number): PreparedRecord {
  const key = input.key === undefined ? null : input.key;
  const value = input.value === undefined ? null : input.value;
  return {
    timestamp: input.timestamp ?? defaultTimestamp,
    key,
    keyLength: byteLength(key),
    value,
    valueLength: byteLength(value),
    headers: prepareHeaders(input.headers),
  };
}

/** Bytes of a record after its length varint, up to and including its header count (-1 length = null). */
export function recordBodySizeWithoutHeaders(keyLength: number, valueLength: number, offsetDelta: number, timestampDelta: number, headerCount: number): number {
  return (
    1 +
    sizeOfVarlong(timestampDelta) +
    sizeOfVarint(offsetDelta) +
    sizeOfVarint(keyLength) +
    Math.max(0, keyLength) +
    sizeOfVarint(valueLength) +
    Math.max(0, valueLength) +
    sizeOfVarint(headerCount)
  );
}

/** Bytes of the record after its length varint. */
export function recordBodySize(r: PreparedRecord, offsetDelta: number, timestampDelta: number): number {
  let size = recordBodySizeWithoutHeaders(r.keyLength, r.valueLength, offsetDelta, timestampDelta, r.headers.length);
  for (const h of r.headers) {
    size += sizeOfVarint(h.keyLength) + h.keyLength + sizeOfVarint(h.valueLength) + Math.max(0, h.valueLength);
  }
  return size;
}

function writeBytes(buf: Buffer, pos: number, v: Buffer | string | null, length: number): number {
  pos += writeVarint(buf, pos, length);
  if (v === null) return pos;
  if (typeof v === 'string') buf.write(v, pos, length, 'utf8');
  else v.copy(buf, pos);
  return pos + length;
}

/** Writes the record (length varint included) at `pos`; returns the position after it. */
export function writeRecord(
  buf: Buffer,
  pos: number,
  r: PreparedRecord,
  offsetDelta: number,
  timestampDelta: number,
  bodySize: number,
): number {
  pos += writeVarint(buf, pos, bodySize);
  buf[pos++] = 0; // attributes: unused
  pos += writeVarlong(buf, pos, timestampDelta);
  pos += writeVarint(buf, pos, offsetDelta);
  pos = writeBytes(buf, pos, r.key, r.keyLength);
  pos = writeBytes(buf, pos, r.value, r.valueLength);
  pos += writeVarint(buf, pos, r.headers.length);
  for (const h of r.headers) {
    pos = writeBytes(buf, pos, h.key, h.keyLength);
    pos = writeBytes(buf, pos, h.value, h.valueLength);
  }
  return pos;
}

// ---- decoding: a cursor over one buffer, kept in module state so the loop allocates nothing but
// the records themselves.
const EMPTY = Buffer.alloc(0);
let data: Buffer = EMPTY;
let at = 0;
let limit = 0;

function invalid(message: string): KafkaError {
  return new KafkaError(ErrorCode.INVALID_RECORD, message);
}

function varint(): number {
  let b = at < limit ? data[at++] : -1;
  if (b < 0) throw invalid('record truncated');
  if (b < 0x80) return (b >>> 1) ^ -(b & 1);
  let u = b & 0x7f;
  let shift = 7;
  for (;;) {
    if (at >= limit) throw invalid('record truncated');
    if (shift > 28) throw invalid('varint too long');
    b = data[at++];
    u |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  u >>>= 0;
  return (u >>> 1) ^ -(u & 1);
}

function varlong(): number {
  let u = 0;
  let mul = 1;
  let i = at;
  // Up to 7 bytes (49 bits) stay exact in a double; longer ones take the bigint path.
  for (let n = 0; n < 7; n++) {
    if (i >= limit) throw invalid('record truncated');
    const b = data[i++];
    u += (b & 0x7f) * mul;
    if (b < 0x80) {
      at = i;
      return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
    }
    mul *= 128;
  }
  const { value, size } = readVarlong(data, at);
  if (at + size > limit) throw invalid('record truncated');
  at += size;
  return value;
}

function bytes(): Buffer | null {
  const len = varint();
  if (len < 0) {
    if (len === -1) return null;
    throw invalid(`invalid length ${len}`);
  }
  if (at + len > limit) throw invalid('record truncated');
  const out = data.subarray(at, at + len);
  at += len;
  return out;
}

/** Header keys are short and nearly always ASCII: building them by hand is ~2x faster than toString. */
function shortString(buf: Buffer, start: number, end: number): string {
  if (end - start > 24) return buf.toString('utf8', start, end);
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c > 0x7f) return buf.toString('utf8', start, end);
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Decodes `count` records from buf[start, end) into `out`. The region must hold exactly those
 * records. `logAppendTime` (when not null) replaces every record's timestamp.
 */
export function readRecordsInto(
  out: Record[],
  buf: Buffer,
  start: number,
  end: number,
  count: number,
  baseOffset: number,
  baseTimestamp: number,
  logAppendTime: number | null,
): void {
  data = buf;
  at = start;
  limit = end;
  try {
    for (let n = 0; n < count; n++) {
      const length = varint();
      const recordEnd = at + length;
      if (length < 0 || recordEnd > end) throw invalid('record truncated');
      limit = recordEnd;
      at++; // attributes
      const timestampDelta = varlong();
      const offsetDelta = varint();
      const key = bytes();
      const value = bytes();
      const headerCount = varint();
      if (headerCount < 0) throw invalid(`invalid header count ${headerCount}`);
      if (headerCount > limit - at) throw invalid(`invalid header count ${headerCount}`);
      // Sized up front: push() on [] would reserve room for 17 and churn the GC.
      const headers: RecordHeader[] = headerCount === 0 ? [] : new Array<RecordHeader>(headerCount);
      for (let h = 0; h < headerCount; h++) {
        const keyLength = varint();
        if (keyLength < 0 || at + keyLength > limit) throw invalid('invalid header key');
        const hkey = shortString(buf, at, at + keyLength);
        at += keyLength;
        headers[h] = { key: hkey, value: bytes() };
      }
      if (at !== recordEnd) throw invalid(`record size ${length} does not match its contents`);
      limit = end;
      out.push({
        offset: baseOffset + offsetDelta,
        timestamp: logAppendTime ?? baseTimestamp + timestampDelta,
        key,
        value,
        headers,
      });
    }
    if (at !== end) throw invalid(`${end - at} bytes left after ${count} records`);
  } finally {
    data = EMPTY;
  }
}
