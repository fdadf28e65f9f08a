// Big-endian writer producing a list of chunks: small fields go into a scratch buffer that is
// copied out once; large `records` Buffers are passed through as their own chunks (never copied).
import { ZERO_UUID } from './reader.js';

const TWO_32 = 4294967296;
const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;
/** Records at least this large become their own chunk instead of being copied. */
const PASS_THROUGH_MIN = 4096;
const SCRATCH_SIZE = 64 * 1024;
const SCRATCH_KEEP_MAX = 1024 * 1024;

let sharedScratch: Buffer | null = Buffer.allocUnsafe(SCRATCH_SIZE);

export function uvarintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  return 5;
}

export class Writer {
  buf: Buffer;
  pos = 0;
  private readonly chunks: Buffer[] = [];
  private flushed = 0;
  /** > 0 while inside a length-prefixed region (tagged field): no pass-through there. */
  private sized = 0;
  private readonly ownsShared: boolean;
  private released = false;

  constructor() {
    if (sharedScratch) {
      this.buf = sharedScratch;
      sharedScratch = null; // re-entrant use (a nested encode) gets its own buffer
      this.ownsShared = true;
    } else {
      this.buf = Buffer.allocUnsafe(1024);
      this.ownsShared = false;
    }
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.flushed + this.pos;
  }

  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private flush(): void {
    if (this.pos > 0) {
      const out = Buffer.allocUnsafe(this.pos);
      this.buf.copy(out, 0, 0, this.pos);
      this.chunks.push(out);
      this.flushed += out.length;
    }
    this.pos = 0;
  }

  /** Finishes and returns the chunks; the writer must not be used afterwards. */
  finish(): Buffer[] {
    this.flush();
    this.release();
    return this.chunks;
  }

  /** Finishes into one contiguous Buffer. */
  finishBuffer(): Buffer {
    const chunks = this.finish();
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  }

  /** Returns the scratch buffer to the pool (also call on failure). */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.ownsShared) sharedScratch = this.buf.length <= SCRATCH_KEEP_MAX ? this.buf : Buffer.allocUnsafe(SCRATCH_SIZE);
  }

  pushChunk(chunk: Buffer): void {
    if (this.sized > 0 || chunk.length < PASS_THROUGH_MIN || !Buffer.isBuffer(chunk)) {
      this.raw(chunk);
      return;
    }
    this.flush();
    this.chunks.push(chunk);
    this.flushed += chunk.length;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  int16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 8) & 0xff;
    b[p + 1] = v & 0xff;
    this.pos = p + 2;
  }

  uint16(v: number): void {
    this.int16(v);
  }

  int32(v: number): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = (v >>> 24) & 0xff;
    b[p + 1] = (v >>> 16) & 0xff;
    b[p + 2] = (v >>> 8) & 0xff;
    b[p + 3] = v & 0xff;
    this.pos = p + 4;
  }

  /** int64 from a number (out-of-range values clamp to int64 bounds) or a bigint. */
  int64(v: number | bigint): void {
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      const hi = Math.floor(v / TWO_32);
      this.int32(hi | 0);
      this.int32((v - hi * TWO_32) | 0);
      return;
    }
    let big = typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
    if (big > INT64_MAX) big = INT64_MAX;
    else if (big < INT64_MIN) big = INT64_MIN;
    this.ensure(8);
    this.buf.writeBigInt64BE(big, this.pos);
    this.pos += 8;
  }

  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  /** A uuid as Kafka's 22-character base64url string (or its 16 bytes). */
  uuid(v: string | Uint8Array): void {
    this.ensure(16);
    if (v === ZERO_UUID) {
      this.buf.fill(0, this.pos, this.pos + 16);
    } else if (typeof v === 'string' && v.length === 22 && /^[A-Za-z0-9_-]{21}[AQgw]$/.test(v)) {
      this.buf.write(v, this.pos, 16, 'base64url');
    } else if (v instanceof Uint8Array && v.length === 16) {
      this.buf.set(v, this.pos);
    } else {
      throw new TypeError(`not a uuid (22-character base64url string or 16 bytes): ${String(v)}`);
    }
    this.pos += 16;
  }

  uvarint(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
    this.pos = p;
  }

  /** Writes `s` as UTF-8 at `at` (capacity already ensured for 3 bytes per UTF-16 unit); returns bytes written. */
  private utf8At(s: string, at: number): number {
    const n = s.length;
    if (n <= 64) {
      const b = this.buf;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[at + i] = c;
      }
      if (i === n) return n;
    }
    return this.buf.write(s, at, 'utf8');
  }

  /** Classic string: int16 length (-1 = null). */
  string(s: string | null): void {
    if (s === null) {
      this.int16(-1);
      return;
    }
    this.ensure(2 + s.length * 3);
    const len = this.utf8At(s, this.pos + 2);
    if (len > 0x7fff) throw new RangeError(`string of ${len} bytes exceeds 32767`);
    this.int16(len);
    this.pos += len;
  }

  /** Compact string: unsigned varint length + 1 (0 = null). */
  compactString(s: string | null): void {
    if (s === null) {
      this.uvarint(0);
      return;
    }
    if (s.length * 3 < 0x7f) {
      // The length prefix is certainly one byte: write the text straight after it.
      this.ensure(1 + s.length * 3);
      const len = this.utf8At(s, this.pos + 1);
      this.buf[this.pos] = len + 1;
      this.pos += 1 + len;
      return;
    }
    const len = Buffer.byteLength(s, 'utf8');
    if (len > 0x7fff) throw new RangeError(`string of ${len} bytes exceeds 32767`);
    this.uvarint(len + 1);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  private raw(v: Uint8Array): void {
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** Classic bytes: int32 length (-1 = null). */
  bytes(v: Buffer | Uint8Array | null): void {
    if (v === null) return this.int32(-1);
    this.int32(v.length);
    this.raw(v);
  }

  compactBytes(v: Buffer | Uint8Array | null): void {
    if (v === null) return this.uvarint(0);
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  /** Records: one Buffer or a list of Buffers written back to back; large ones are not copied. */
  records(v: Buffer | readonly Buffer[] | null, compact: boolean): void {
    if (v === null) return compact ? this.uvarint(0) : this.int32(-1);
    if (Array.isArray(v)) {
      let size = 0;
      for (const c of v) size += c.length;
      if (compact) this.uvarint(size + 1);
      else this.int32(size);
      for (const c of v) this.pushChunk(c);
      return;
    }
    const b = v as Buffer;
    if (compact) this.uvarint(b.length + 1);
    else this.int32(b.length);
    this.pushChunk(b);
  }

  /** Starts a region prefixed by its unsigned-varint byte size (tagged field values). */
  beginSized(): number {
    this.sized++;
    this.ensure(1);
    return this.pos++;
  }

  endSized(mark: number): void {
    this.sized--;
    const size = this.pos - mark - 1;
    const n = uvarintSize(size);
    if (n > 1) {
      this.ensure(n - 1);
      this.buf.copyWithin(mark + n, mark + 1, this.pos);
      this.pos += n - 1;
    }
    const b = this.buf;
    let p = mark;
    let v = size;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p] = v;
  }
}
