// The broker's frame reader fed as net's `onread` feeds it (socket-reads.ts): every read lands in the
// buffer readTarget() gave, the shared scratch is overwritten by the next read, and a frame up to
// DIRECT_FRAME_BYTES is read in place once its size is known. Frames come out byte for byte.
import { describe, expect, it } from 'vitest';
import { DIRECT_FRAME_BYTES, FrameReader, FrameTooLargeError } from '../../../src/broker/network/frame-reader.js';

function stream(sizes: number[]): { bytes: Buffer; frames: Buffer[] } {
  const frames = sizes.map((n, i) => Buffer.from(Array.from({ length: n }, (_, j) => (i * 31 + j * 7 + (j >> 8)) & 0xff)));
  const bytes = Buffer.concat(frames.flatMap((f) => [Buffer.from([f.length >>> 24, (f.length >>> 16) & 0xff, (f.length >>> 8) & 0xff, f.length & 0xff]), f]));
  return { bytes, frames };
}

/** Reads `bytes` as a socket would: each read fills at most `step` bytes of the target it is given. */
function feed(r: FrameReader, bytes: Buffer, step: (i: number) => number, onFrame: (f: Buffer) => void, targets?: Buffer[]): void {
  const scratch = r.readTarget(); // nothing pending yet: the shared scratch
  for (let p = 0, i = 0; p < bytes.length; i++) {
    const target = r.readTarget();
    targets?.push(target);
    const n = Math.min(target.length, step(i), bytes.length - p);
    bytes.copy(target, 0, p, p + n);
    p += n;
    for (const f of r.pushRead(n)) onFrame(f);
    if (target.buffer === scratch.buffer && target.byteOffset === scratch.byteOffset) target.fill(0xee); // anything kept from it must be a copy
  }
}

describe('FrameReader in place (onread)', () => {
  const sizes = [0, 1, 3, 4, 5, 100, 70_000, 2, 300_000, 0, 1_048_600, 9, DIRECT_FRAME_BYTES, DIRECT_FRAME_BYTES + 1, 7];

  it('gives the same frames whatever the read sizes, none of them left pointing into the scratch', () => {
    const { bytes, frames } = stream(sizes);
    const steps: [string, (i: number) => number][] = [
      ['64 KiB', () => 65_536],
      ['irregular', (i) => 1 + ((i * 7919) % 70_000)],
      ['a socket that returns a short read now and then', (i) => (i % 5 === 0 ? 3 : 65_536)],
    ];
    for (const [name, step] of steps) {
      const got: Buffer[] = [];
      feed(new FrameReader(64 << 20), bytes, step, (f) => got.push(f));
      expect(got.map((f) => f.length), name).toEqual(sizes);
      got.forEach((f, i) => expect(f.equals(frames[i]), `${name}: frame ${i}`).toBe(true));
    }
    // A byte or a few at a time, on a smaller stream (1 byte a read would be 8 M reads above).
    const small = stream([0, 1, 3, 4, 5, 100, 70_000, 2, 9]);
    for (const step of [1, 2, 3, 4, 5]) {
      const got: Buffer[] = [];
      feed(new FrameReader(1 << 20), small.bytes, () => step, (f) => got.push(f));
      got.forEach((f, i) => expect(f.equals(small.frames[i]), `step ${step}: frame ${i}`).toBe(true));
      expect(got.length).toBe(small.frames.length);
    }
  });

  it('reads a 1 MB frame into the frame itself after its first read, and a bigger one than DIRECT_FRAME_BYTES as the bytes received', () => {
    const { bytes, frames } = stream([1_048_600, DIRECT_FRAME_BYTES + 1]);
    const got: Buffer[] = [];
    const targets: Buffer[] = [];
    feed(new FrameReader(64 << 20), bytes, () => 65_536, (f) => got.push(f), targets);
    expect(got[0].equals(frames[0])).toBe(true);
    expect(got[1].equals(frames[1])).toBe(true);
    // Every read after the first of frame 0 went into frame 0's own memory.
    const inPlace = targets.filter((t) => t.buffer === got[0].buffer).length;
    expect(inPlace).toBe(Math.ceil((1_048_600 - (65_536 - 4)) / 65_536));
    // Frame 1 is too big to be allocated from its declared size: read into the scratch, then joined.
    expect(targets.filter((t) => t.buffer === got[1].buffer).length).toBe(0);
  });

  it('refuses a declared size above the limit, before reading any of it', () => {
    const r = new FrameReader(1000);
    const target = r.readTarget();
    target.writeInt32BE(1001, 0);
    expect(() => r.pushRead(4)).toThrow(FrameTooLargeError);
  });
});
