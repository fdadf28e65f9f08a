// Zigzag varints (int32) and varlongs (int64) as used inside magic-2 records. The protocol's
// unsigned varints (compact lengths, tagged fields) are the request codec's business, not ours.
// Varlongs are JavaScript numbers: exact up to 2^53, which timestamps and deltas stay within;
// the *Big variants cover the full int64 range.
import { ErrorCode, KafkaError } from '../errors.js';

function tooLong(what: string): KafkaError {
  return new KafkaError(ErrorCode.CORRUPT_MESSAGE, `${what} is too long or truncated`);
}

/** Reads a zigzag varint (at most 5 bytes) at `pos`. */
export function readVarint(buf: Uint8Array, pos: number): { value: number; size: number } {
  let u = 0;
  let shift = 0;
  let i = pos;
  for (;;) {
    if (i >= buf.length || shift > 28) throw tooLong('varint');
    const b = buf[i++];
    u |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return { value: (u >>> 1) ^ -(u & 1), size: i - pos };
}

/** Reads a zigzag varlong (at most 10 bytes) at `pos` as a number (exact within +-2^53). */
export function readVarlong(buf: Uint8Array, pos: number): { value: number; size: number } {
  let u = 0;
  let mul = 1;
  let i = pos;
  for (;;) {
    if (i >= buf.length || i - pos >= 10) throw tooLong('varlong');
    const b = buf[i++];
    if (i - pos > 7) {
      // More than 49 bits: finish exactly in bigint, round once.
      const { value, size } = readVarlongBig(buf, pos);
      return { value: Number(value), size };
    }
    u += (b & 0x7f) * mul;
    if (b < 0x80) break;
    mul *= 128;
  }
  return { value: u % 2 === 0 ? u / 2 : -(u + 1) / 2, size: i - pos };
}

/** Reads a zigzag varlong as a bigint (full int64 range). */
export function readVarlongBig(buf: Uint8Array, pos: number): { value: bigint; size: number } {
  let u = 0n;
  let shift = 0n;
  let i = pos;
  for (;;) {
    if (i >= buf.length || shift > 63n) throw tooLong('varlong');
    const b = buf[i++];
    u |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7n;
  }
  u = BigInt.asUintN(64, u);
  return { value: (u >> 1n) ^ -(u & 1n), size: i - pos };
}

/** Zigzag-encodes `value` (an int32) at `pos`; returns the bytes written (1-5). */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let u = ((value << 1) ^ (value >> 31)) >>> 0;
  let i = pos;
  while (u > 0x7f) {
    buf[i++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[i++] = u;
  return i - pos;
}

/** Zigzag-encodes `value` (an integer within +-2^53) at `pos`; returns the bytes written (1-10). */
export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if (value === (value | 0)) return writeVarint(buf, pos, value);
  if (value < -(2 ** 52)) return writeVarlongBig(buf, pos, BigInt(value));
  let u = value >= 0 ? value * 2 : -value * 2 - 1;
  let i = pos;
  while (u >= 128) {
    buf[i++] = (u % 128) | 0x80;
    u = Math.floor(u / 128);
  }
  buf[i++] = u;
  return i - pos;
}

/** Zigzag-encodes a bigint int64 at `pos`; returns the bytes written (1-10). */
export function writeVarlongBig(buf: Uint8Array, pos: number, value: bigint): number {
  let u = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  let i = pos;
  while (u > 0x7fn) {
    buf[i++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[i++] = Number(u);
  return i - pos;
}

/** Encoded size of a zigzag varint. */
export function sizeOfVarint(value: number): number {
  const u = ((value << 1) ^ (value >> 31)) >>> 0;
  if (u < 0x80) return 1;
  if (u < 0x4000) return 2;
  if (u < 0x20_0000) return 3;
  if (u < 0x1000_0000) return 4;
  return 5;
}

/** Encoded size of a zigzag varlong given as a number. */
export function sizeOfVarlong(value: number): number {
  if (value === (value | 0)) return sizeOfVarint(value);
  if (value < -(2 ** 52)) return sizeOfVarlongBig(BigInt(value));
  let u = value >= 0 ? value * 2 : -value * 2 - 1;
  let n = 5;
  u = Math.floor(u / 2 ** 35);
  while (u > 0) {
    n++;
    u = Math.floor(u / 128);
  }
  return n;
}

/** Encoded size of a zigzag varlong given as a bigint. */
export function sizeOfVarlongBig(value: bigint): number {
  let u = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  let n = 1;
  while (u > 0x7fn) {
    n++;
    u >>= 7n;
  }
  return n;
}
