// Splits a TCP byte stream into size-prefixed frames. A frame's declared size is checked against the
// limit first, and nothing is ever allocated from a declared size: a partial frame is held as the
// chunks actually received and joined once complete, so a client that announces 100 MiB and sends
// 10 bytes costs 10 bytes. Frames wholly inside one socket chunk are zero-copy views.
export class FrameTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(size < 0 ? `Invalid negative frame size ${size}` : `Frame size ${size} larger than ${limit}`);
  }
}

export class FrameReader {
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
    return this.heldBytes;
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
