// Splits a broker's byte stream into size-prefixed response frames, with one allocation per frame.
//
// Why: a follower's replica fetcher receives ~100 MB per million 100-byte records. Read through
// 'data' events, every socket read is a fresh 64 KiB Buffer and each 1 MiB fetch answer is then
// joined from sixteen of them: twice the bytes allocated, ~17 ArrayBuffers per answer, and V8 pays
// for each in garbage collection (a follower's CPU profile: 59% GC). A plain TCP socket can read
// into one reusable buffer instead (net's `onread`); the bytes are copied from it straight into a
// buffer of the frame's declared size, the one copy the join made anyway.
//
// The declared size is trusted up to FRAME_PREALLOCATE_LIMIT (a broker answers at most what was
// asked: fetch.max.bytes is 50 MiB by default); a bigger frame is held as the bytes actually received
// and joined once complete, so an absurd size prefix costs only what arrives.

/** Frames up to this size get their buffer when their size prefix arrives. */
export const FRAME_PREALLOCATE_LIMIT = 64 * 1024 * 1024;
/** The reusable read buffer of a socket read with `onread`. */
export const READ_BUFFER_BYTES = 128 * 1024;

export class ResponseFrames {
  private readonly sizePrefix = Buffer.alloc(4);
  private prefixHave = 0;
  /** The frame being filled (null between frames or while a big frame is held in parts). */
  private frame: Buffer | null = null;
  /** A frame above the preallocation limit: the bytes received so far. */
  private parts: Buffer[] | null = null;
  private frameSize = -1;
  private have = 0;

  /**
   * @param onFrame gets each complete frame (without its size prefix); it may keep it.
   * @param onBadSize a negative size prefix: the stream cannot be read further.
   */
  constructor(
    private readonly onFrame: (frame: Buffer) => void,
    private readonly onBadSize: (size: number) => void,
  ) {}

  /**
   * Feeds bytes [0, n) of `buf`. `reused`: the caller overwrites `buf` once this returns (an
   * `onread` buffer), so nothing of it is kept; otherwise frames wholly inside it are views of it.
   * Returns false once a bad size prefix was seen (nothing more is read).
   */
  feed(buf: Buffer, n: number, reused: boolean): boolean {
    let pos = 0;
    while (pos < n) {
      if (this.frameSize < 0) {
        let size: number;
        if (this.prefixHave === 0 && n - pos >= 4) {
          size = buf.readInt32BE(pos);
          pos += 4;
        } else {
          const take = Math.min(4 - this.prefixHave, n - pos);
          buf.copy(this.sizePrefix, this.prefixHave, pos, pos + take);
          this.prefixHave += take;
          pos += take;
          if (this.prefixHave < 4) return true;
          this.prefixHave = 0;
          size = this.sizePrefix.readInt32BE(0);
        }
        if (size < 0) {
          this.onBadSize(size);
          return false;
        }
        if (!reused && n - pos >= size) {
          this.onFrame(buf.subarray(pos, pos + size));
          pos += size;
          continue;
        }
        this.frameSize = size;
        this.have = 0;
        if (size <= FRAME_PREALLOCATE_LIMIT) this.frame = Buffer.allocUnsafe(size);
        else this.parts = [];
      }
      const take = Math.min(this.frameSize - this.have, n - pos);
      if (this.frame) buf.copy(this.frame, this.have, pos, pos + take);
      else this.parts!.push(reused ? Buffer.from(buf.subarray(pos, pos + take)) : buf.subarray(pos, pos + take));
      this.have += take;
      pos += take;
      if (this.have < this.frameSize) return true;
      const frame = this.frame ?? Buffer.concat(this.parts!, this.frameSize);
      this.frame = null;
      this.parts = null;
      this.frameSize = -1;
      this.onFrame(frame);
    }
    return true;
  }
}
