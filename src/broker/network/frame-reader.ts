// Splits a TCP byte stream into size-prefixed frames. A frame's declared size is checked against the
// limit first, and nothing is ever allocated from a declared size: a partial frame is held as the
// chunks actually received and joined once complete, so a client that announces 100 MiB and sends
// 10 bytes costs 10 bytes. Frames wholly inside one socket chunk are zero-copy views.
//
// A plain TCP socket may instead read into buffers the reader gives (readTarget / pushRead, for net's
// `onread`, socket-reads.ts): a 64 KiB scratch buffer shared by every connection, whose bytes are
// copied out before the read returns, until a frame is known to be bigger than what arrived: then
// into a buffer of the frame's size, so the rest of it is read in place. That buffer is allocated
// from the declared size only up to DIRECT_FRAME_BYTES and once its first bytes are here; a bigger
// frame is held as the bytes received, as above. A Produce frame of 128 KiB-1 MiB is read into a
// buffer leased from storage/read-buffers.ts (the one a fetch answer's log read comes from), which
// the connection gives back once the request has been answered: kcat's 1 MB frames, one fresh
// Buffer each, were freed only at the next scavenge and from glibc's brk heap, leaving holes there.
import { leaseReadBuffer } from '../../storage/read-buffers.js';

const PRODUCE_API_KEY = 0;

export class FrameTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(size < 0 ? `Invalid negative frame size ${size}` : `Frame size ${size} larger than ${limit}`);
  }
}

/** Frames up to this size are read in place once their size is known (a 1 MB produce request). */
export const DIRECT_FRAME_BYTES = 2 * 1024 * 1024;
/** Where reads without a frame to fill go; shared: pushRead copies out what it keeps. */
const SCRATCH = Buffer.allocUnsafe(64 * 1024);

export class FrameReader {
  /** The frame being read in place, and how much of it has arrived. */
  private direct: Buffer | null = null;
  private directHave = 0;
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** Declared size of the frame being assembled, or -1 while its size prefix is incomplete. */
  private frameSize = -1;

  constructor(private maxFrameSize: number) {}

  /** A new limit for the frames after the current one (SASL: the pre-authentication limit is lifted). */
  setMaxFrameSize(limit: number): void {
    this.maxFrameSize = limit;
  }

  /** Bytes held for an incomplete frame. */
  get pendingBytes(): number {
    return this.heldBytes + this.directHave;
  }

  /** Where the socket should read next (onread mode). */
  readTarget(): Buffer {
    return this.direct ? this.direct.subarray(this.directHave) : SCRATCH;
  }

  /** `n` bytes were read into readTarget(); returns the complete frames. Throws FrameTooLargeError. */
  pushRead(n: number): Buffer[] {
    if (this.direct) {
      this.directHave += n;
      if (this.directHave < this.direct.length) return [];
      const frame = this.direct;
      this.direct = null;
      this.directHave = 0;
      return [frame];
    }
    const frames = this.push(Buffer.from(SCRATCH.subarray(0, n)));
    // A frame still arriving, its size known and not too big: the rest is read into it in place.
    if (this.frameSize >= 0 && this.frameSize <= DIRECT_FRAME_BYTES && this.heldBytes >= 4) {
      const first = this.held[0];
      const produce = first.length >= 6 && first.readInt16BE(4) === PRODUCE_API_KEY;
      const frame = produce ? leaseReadBuffer(this.frameSize) : Buffer.allocUnsafe(this.frameSize);
      let at = 0;
      let skip = 4; // the size prefix
      for (const part of this.held) {
        const from = Math.min(skip, part.length);
        skip -= from;
        at += part.copy(frame, at, from);
      }
      this.held = [];
      this.heldBytes = 0;
      this.frameSize = -1;
      this.direct = frame;
      this.directHave = at;
    }
    return frames;
  }

  /** Feeds a chunk; returns the complete frames (without their size prefix). Throws FrameTooLargeError. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    if (this.heldBytes > 0) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      if (this.frameSize < 0) {
        if (this.heldBytes < 4) return frames;
        const joined = Buffer.concat(this.held);
        this.held = [];
        this.heldBytes = 0;
        return this.scan(joined, frames);
      }
      if (this.heldBytes < 4 + this.frameSize) return frames;
      const joined = Buffer.concat(this.held);
      this.held = [];
      this.heldBytes = 0;
      this.frameSize = -1;
      return this.scan(joined, frames);
    }
    return this.scan(chunk, frames);
  }

  private scan(buf: Buffer, frames: Buffer[]): Buffer[] {
    let pos = 0;
    while (buf.length - pos >= 4) {
      const size = buf.readInt32BE(pos);
      if (size < 0 || size > this.maxFrameSize) throw new FrameTooLargeError(size, this.maxFrameSize);
      if (buf.length - pos - 4 < size) {
        this.frameSize = size;
        break;
      }
      frames.push(buf.subarray(pos + 4, pos + 4 + size));
      pos += 4 + size;
    }
    if (pos < buf.length) {
      this.held.push(buf.subarray(pos));
      this.heldBytes = buf.length - pos;
      if (this.heldBytes < 4) this.frameSize = -1;
    }
    return frames;
  }
}
