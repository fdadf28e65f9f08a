import { describe, expect, it } from 'vitest';
import { FRAME_PREALLOCATE_LIMIT, ResponseFrames } from '../../../src/client/response-frames.js';

/** A size-prefixed stream of frames whose bytes tell them apart. */
function stream(sizes: number[]): { bytes: Buffer; frames: Buffer[] } {
  const frames = sizes.map((n, i) => Buffer.from(Array.from({ length: n }, (_, j) => (i * 31 + j * 7) & 0xff)));
  const bytes = Buffer.concat(frames.flatMap((f) => [Buffer.from([f.length >>> 24, (f.length >>> 16) & 0xff, (f.length >>> 8) & 0xff, f.length & 0xff]), f]));
  return { bytes, frames };
}

/** Feeds `bytes` in pieces of `step` as a socket's `onread` would: one buffer, overwritten after each call. */
function feedReused(r: ResponseFrames, bytes: Buffer, step: number): void {
  const scratch = Buffer.alloc(step);
  for (let p = 0; p < bytes.length; p += step) {
    const n = bytes.copy(scratch, 0, p, Math.min(bytes.length, p + step));
    r.feed(scratch, n, true);
    scratch.fill(0xee); // anything kept from the read buffer would now be garbage
  }
}

describe('ResponseFrames', () => {
  const sizes = [0, 1, 3, 4, 5, 100, 70_000, 2, 300_000, 0, 9];

  it('gives the same frames whatever the read boundaries, from a reused read buffer', () => {
    const { bytes, frames } = stream(sizes);
    for (const step of [1, 2, 3, 4, 5, 7, 64, 1000, 65_536, bytes.length]) {
      const got: Buffer[] = [];
      feedReused(new ResponseFrames((f) => got.push(f), () => expect.fail('bad size')), bytes, step);
      expect(got.map((f) => f.length), `step ${step}`).toEqual(sizes);
      got.forEach((f, i) => expect(f.equals(frames[i]), `step ${step} frame ${i}`).toBe(true));
    }
  });

  it('gives frames wholly inside a kept chunk as views of it, and the others whole', () => {
    const { bytes, frames } = stream(sizes);
    for (const step of [1, 5, 4096, bytes.length]) {
      const got: Buffer[] = [];
      const r = new ResponseFrames((f) => got.push(f), () => expect.fail('bad size'));
      for (let p = 0; p < bytes.length; p += step) {
        const chunk = Buffer.from(bytes.subarray(p, p + step));
        r.feed(chunk, chunk.length, false);
      }
      got.forEach((f, i) => expect(f.equals(frames[i]), `step ${step} frame ${i}`).toBe(true));
      expect(got.length).toBe(sizes.length);
    }
    const views: Buffer[] = [];
    new ResponseFrames((f) => views.push(f), () => {}).feed(bytes, bytes.length, false);
    expect(views.every((f) => f.buffer === bytes.buffer)).toBe(true);
  });

  it('holds a frame above the preallocation limit as the bytes received, not its declared size', () => {
    const got: Buffer[] = [];
    const r = new ResponseFrames((f) => got.push(f), () => expect.fail('bad size'));
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(FRAME_PREALLOCATE_LIMIT + 10);
    const before = process.memoryUsage().arrayBuffers;
    r.feed(prefix, 4, true);
    r.feed(Buffer.alloc(10, 1), 10, true);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
    expect(got).toEqual([]);
  });

  it('stops at a negative size prefix', () => {
    const sizesSeen: number[] = [];
    const got: Buffer[] = [];
    const r = new ResponseFrames((f) => got.push(f), (n) => sizesSeen.push(n));
    const { bytes } = stream([3]);
    const bad = Buffer.concat([bytes, Buffer.from([0xff, 0xff, 0xff, 0xfe]), bytes]);
    expect(r.feed(bad, bad.length, true)).toBe(false);
    expect(got.length).toBe(1);
    expect(sizesSeen).toEqual([-2]);
  });
});
