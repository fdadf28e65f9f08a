// Bounds-checked big-endian reader over untrusted bytes. Every length is checked against the bytes
// that remain before anything is allocated; every failure is a ProtocolError.
import { ProtocolError } from '../errors.js';

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
const TWO_32 = 4294967296;

export class Reader {
  constructor(
    public buf: Buffer,
    public pos: number,
    public end: number,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  underflow(need: number): never {
    throw new ProtocolError(`truncated input: need ${need} byte(s) at offset ${this.pos}, ${this.end - this.pos} left`);
  }

  skip(n: number): void {
    if (n > this.end - this.pos) this.underflow(n);
    this.pos += n;
  }

  bool(): boolean {
    const p = this.pos;
    if (p >= this.end) this.underflow(1);
    this.pos = p + 1;
    return this.buf[p] !== 0;
  }

  int8(): number {
    const p = this.pos;
    if (p >= this.end) this.underflow(1);
    this.pos = p + 1;
    return (this.buf[p] << 24) >> 24;
  }

  int16(): number {
    const p = this.pos;
    if (p + 2 > this.end) this.underflow(2);
    this.pos = p + 2;
    const b = this.buf;
    return ((b[p] << 24) | (b[p + 1] << 16)) >> 16;
  }

  uint16(): number {
    const p = this.pos;
    if (p + 2 > this.end) this.underflow(2);
    this.pos = p + 2;
    const b = this.buf;
    return (b[p] << 8) | b[p + 1];
  }

  int32(): number {
    const p = this.pos;
    if (p + 4 > this.end) this.underflow(4);
    this.pos = p + 4;
    const b = this.buf;
    return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
  }

  /** int64 as a JS number: exact up to 2^53, otherwise rounded to the nearest double (as Number(bigint)). */
  int64(): number {
    const p = this.pos;
    if (p + 8 > this.end) this.underflow(8);
    this.pos = p + 8;
    const b = this.buf;
    const hi = (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
    const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
    return hi * TWO_32 + lo;
  }

  float64(): number {
    const p = this.pos;
    if (p + 8 > this.end) this.underflow(8);
    this.pos = p + 8;
    return this.buf.readDoubleBE(p);
  }

  uuid(): string {
    const p = this.pos;
    if (p + 16 > this.end) this.underflow(16);
    this.pos = p + 16;
    const b = this.buf;
    for (let i = p; i < p + 16; i++) if (b[i] !== 0) return b.toString('base64url', p, p + 16);
    return ZERO_UUID;
  }

  /** Unsigned varint of at most 5 bytes (Kafka's limit), as a number in [0, 2^32). */
  uvarint(): number {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    if (p >= end) this.underflow(1);
    let byte = b[p++];
    if (byte < 0x80) {
      this.pos = p;
      return byte;
    }
    let value = byte & 0x7f;
    let mul = 0x80;
    for (let i = 1; i < 5; i++) {
      if (p >= end) {
        this.pos = p;
        this.underflow(1);
      }
      byte = b[p++];
      value += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        this.pos = p;
        return value;
      }
      mul *= 0x80;
    }
    throw new ProtocolError(`varint longer than 5 bytes at offset ${this.pos}`);
  }

  /** Signed zig-zag varint (used by record batches, not by the message schemas). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  private utf8(len: number): string {
    const p = this.pos;
    if (len > this.end - p) this.underflow(len);
    this.pos = p + len;
    const b = this.buf;
    // Short ASCII strings (topic names, client ids) are cheaper to build in JS than through C++.
    if (len <= 32) {
      let s = '';
      for (let i = p; i < p + len; i++) {
        const c = b[i];
        if (c >= 0x80) return b.toString('utf8', p, p + len);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return b.toString('utf8', p, p + len);
  }

  /** Classic string: int16 length, -1 = null. */
  string(nullable: boolean): string | null {
    const len = this.int16();
    if (len < 0) {
      if (len === -1 && nullable) return null;
      throw new ProtocolError(len === -1 ? `null in a non-nullable string at offset ${this.pos - 2}` : `negative string length ${len}`);
    }
    return this.utf8(len);
  }

  /** Compact string: unsigned varint length + 1, 0 = null. */
  compactString(nullable: boolean): string | null {
    const n = this.uvarint();
    if (n === 0) {
      if (nullable) return null;
      throw new ProtocolError(`null in a non-nullable compact string at offset ${this.pos - 1}`);
    }
    if (n - 1 > 0x7fff) throw new ProtocolError(`string length ${n - 1} exceeds 32767`);
    return this.utf8(n - 1);
  }

  private slice(len: number, copy: boolean): Buffer {
    const p = this.pos;
    if (len > this.end - p) this.underflow(len);
    this.pos = p + len;
    if (!copy) return this.buf.subarray(p, p + len);
    const out = Buffer.allocUnsafe(len);
    this.buf.copy(out, 0, p, p + len);
    return out;
  }

  /** Classic bytes / records: int32 length, -1 = null. `copy` false returns a view of the input. */
  bytes(nullable: boolean, copy: boolean): Buffer | null {
    const len = this.int32();
    if (len < 0) {
      if (len === -1 && nullable) return null;
      throw new ProtocolError(len === -1 ? `null in non-nullable bytes at offset ${this.pos - 4}` : `negative bytes length ${len}`);
    }
    return this.slice(len, copy);
  }

  /** Compact bytes / records: unsigned varint length + 1, 0 = null. */
  compactBytes(nullable: boolean, copy: boolean): Buffer | null {
    const n = this.uvarint();
    if (n === 0) {
      if (nullable) return null;
      throw new ProtocolError(`null in non-nullable compact bytes at offset ${this.pos - 1}`);
    }
    return this.slice(n - 1, copy);
  }

  /** Classic array count: int32, -1 = null (returned as -1). Bounded by the bytes that remain. */
  arrayLength(nullable: boolean): number {
    const n = this.int32();
    if (n < 0) {
      if (n === -1 && nullable) return -1;
      throw new ProtocolError(n === -1 ? `null in a non-nullable array at offset ${this.pos - 4}` : `negative array length ${n}`);
    }
    if (n > this.end - this.pos) throw new ProtocolError(`array length ${n} exceeds the ${this.end - this.pos} bytes left`);
    return n;
  }

  /** Compact array count: unsigned varint count + 1, 0 = null (returned as -1). */
  compactArrayLength(nullable: boolean): number {
    const n = this.uvarint();
    if (n === 0) {
      if (nullable) return -1;
      throw new ProtocolError(`null in a non-nullable compact array at offset ${this.pos - 1}`);
    }
    if (n - 1 > this.end - this.pos) throw new ProtocolError(`array length ${n - 1} exceeds the ${this.end - this.pos} bytes left`);
    return n - 1;
  }

  /** Skips a whole tagged-field section (headers, or structs whose tags are all unknown). */
  skipTaggedFields(): void {
    const count = this.uvarint();
    if (count > this.end - this.pos) throw new ProtocolError(`tagged field count ${count} exceeds the bytes left`);
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }
}
