// Framing: every packet in both directions is a 4-byte big-endian length and that many bytes.
// The decoder checks each length against jute.maxbuffer as soon as its 4 bytes arrive, so an
// oversized or negative length is refused before anything is allocated or buffered for it.
import { JuteError } from './jute.js';

export class FrameTooLargeError extends JuteError {
  constructor(readonly length: number, readonly max: number) {
    super(`frame length ${length} outside [0, ${max}]`);
  }
}

export class FrameDecoder {
  private chunks: Buffer[] = [];
  private offset = 0; // read position in chunks[0]
  private size = 0; // unread bytes over all chunks

  constructor(readonly maxFrame: number) {}

  get buffered(): number {
    return this.size;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** The first n unread bytes without consuming them, or null if fewer have arrived. */
  peek(n: number): Buffer | null {
    if (this.size < n) return null;
    const first = this.chunks[0];
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    return this.copyOut(Buffer.allocUnsafe(n), n, false);
  }

  /** Consumes and returns the next frame body, or null when it has not fully arrived. */
  next(): Buffer | null {
    if (this.size < 4) return null;
    const first = this.chunks[0];
    const len =
      first.length - this.offset >= 4 ? first.readInt32BE(this.offset) : this.copyOut(Buffer.allocUnsafe(4), 4, false).readInt32BE(0);
    if (len < 0 || len > this.maxFrame) throw new FrameTooLargeError(len, this.maxFrame);
    if (this.size < 4 + len) return null;
    if (first.length - this.offset >= 4 + len) {
      const frame = first.subarray(this.offset + 4, this.offset + 4 + len);
      this.skip(4 + len);
      return frame;
    }
    this.skip(4);
    return this.copyOut(Buffer.allocUnsafe(len), len, true);
  }

  /** Consumes everything buffered (e.g. the rest of a four-letter word). */
  drain(): Buffer {
    const all = this.copyOut(Buffer.allocUnsafe(this.size), this.size, true);
    return all;
  }

  private skip(n: number): void {
    this.size -= n;
    while (n > 0) {
      const first = this.chunks[0];
      const avail = first.length - this.offset;
      if (n < avail) {
        this.offset += n;
        return;
      }
      n -= avail;
      this.chunks.shift();
      this.offset = 0;
    }
  }

  private copyOut(dst: Buffer, n: number, consume: boolean): Buffer {
    let copied = 0;
    let i = 0;
    let off = this.offset;
    while (copied < n) {
      const c = this.chunks[i];
      const take = Math.min(n - copied, c.length - off);
      c.copy(dst, copied, off, off + take);
      copied += take;
      off += take;
      if (off === c.length) {
        i++;
        off = 0;
      }
    }
    if (consume) this.skip(n);
    return dst;
  }
}
