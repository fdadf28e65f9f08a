// Jute binary primitives (org.apache.jute.BinaryInputArchive / BinaryOutputArchive): big-endian
// ints and longs, one-byte booleans, length-prefixed buffers and UTF-8 strings where length -1
// means null, and count-prefixed vectors. Pure bytes: no sockets, no files.
//
// Longs come in two flavours. Session ids use all 64 bits (0x01000066dbe70000), so they are
// bigint. Zxids and timestamps are read as numbers: exact below 2^53, which a zxid reaches only
// after 2^21 leader epochs.

export class JuteError extends RangeError {
  override name = 'JuteError';
}

const TWO_32 = 4294967296;

export class JuteReader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new JuteError(`jute: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
  }

  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A long as a number (zxids, times, TTLs). */
  long(): number {
    this.need(8);
    const hi = this.buf.readInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return hi * TWO_32 + lo;
  }

  /** A long as a bigint (session ids, ephemeral owners). */
  bigint(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  bool(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }

  /** A view into the frame (no copy); -1 decodes to null. */
  buffer(): Buffer | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < 0) throw new JuteError(`jute: negative buffer length ${len}`);
    this.need(len);
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }

  string(): string | null {
    const len = this.int();
    if (len === -1) return null;
    if (len < 0) throw new JuteError(`jute: negative string length ${len}`);
    this.need(len);
    const s = this.buf.toString('utf8', this.pos, this.pos + len);
    this.pos += len;
    return s;
  }

  /** A string that must not be null (paths, schemes). */
  text(): string {
    const s = this.string();
    if (s === null) throw new JuteError('jute: unexpected null string');
    return s;
  }

  /** A vector; -1 decodes to null. The count is checked against the bytes left before looping. */
  vector<T>(item: (r: JuteReader) => T): T[] | null {
    const count = this.int();
    if (count === -1) return null;
    if (count < 0 || count > this.remaining) throw new JuteError(`jute: bad vector length ${count}`);
    const out: T[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = item(this);
    return out;
  }

  strings(): string[] {
    return this.vector((r) => r.text()) ?? [];
  }
}

export class JuteWriter {
  buf: Buffer;
  pos = 0;
  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  long(v: number): this {
    this.ensure(8);
    const hi = Math.floor(v / TWO_32);
    this.buf.writeInt32BE(hi, this.pos);
    this.buf.writeUInt32BE(v - hi * TWO_32, this.pos + 4);
    this.pos += 8;
    return this;
  }

  bigint(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  buffer(b: Uint8Array | null): this {
    if (b === null) return this.int(-1);
    this.int(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  string(s: string | null): this {
    if (s === null) return this.int(-1);
    const len = Buffer.byteLength(s);
    this.int(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
    return this;
  }

  vector<T>(items: readonly T[] | null, item: (w: JuteWriter, v: T) => void): this {
    if (items === null) return this.int(-1);
    this.int(items.length);
    for (const v of items) item(this, v);
    return this;
  }

  strings(items: readonly string[]): this {
    return this.vector(items, (w, s) => w.string(s));
  }

  raw(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** Bytes written so far (a view: copy it if the writer is reused). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** Starts a length-prefixed frame: call before writing the packet, then finishFrame(). */
  beginFrame(): this {
    this.pos = 0;
    return this.int(0);
  }

  finishFrame(): Buffer {
    this.buf.writeInt32BE(this.pos - 4, 0);
    return this.bytes();
  }
}
