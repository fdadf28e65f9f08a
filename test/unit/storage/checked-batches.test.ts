// CheckedBatches: which byte ranges of a segment were checked against their CRC-32C, so that each
// batch is checked once per process and a corrupt one is refused (and reported once).
import { describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { CheckedBatches } from '../../../src/storage/checked-batches.js';

/** `n` batches back to back, with base offsets 0, 10, 20, ... */
function batches(n: number): { buf: Buffer; starts: number[] } {
  const parts: Buffer[] = [];
  const starts: number[] = [];
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const b = buildRecordBatch([{ key: null, value: Buffer.from(`value-${i}`) }]);
    b.writeBigInt64BE(BigInt(i * 10), 0);
    starts.push(pos);
    pos += b.length;
    parts.push(b);
  }
  return { buf: Buffer.concat(parts), starts };
}

describe('CheckedBatches', () => {
  it('merges adjacent ranges and joins the known-good tail', () => {
    const c = new CheckedBatches();
    c.tailFrom = 1000;
    c.add(100, 200);
    c.add(300, 400);
    expect(c.covers(100, 200)).toBe(true);
    expect(c.covers(150, 350)).toBe(false);
    expect(c.firstUnchecked(100, 1000)).toBe(200);
    c.add(200, 300);
    expect(c.covers(100, 400)).toBe(true);
    c.add(400, 1000);
    expect(c.tailFrom).toBe(100);
    expect(c.firstUnchecked(0, 2000)).toBe(0);
    expect(c.firstUnchecked(100, 2000)).toBe(-1);
  });

  it('serves the good batches before a corrupt one, reports it once, and checks nothing twice', () => {
    const { buf, starts } = batches(5);
    const bad = Buffer.from(buf);
    bad[starts[3] - 3] ^= 1; // inside batch 2's record
    const c = new CheckedBatches();
    const first = c.check(bad, 0);
    expect(first.good).toBe(starts[2]);
    expect(first.corrupt).toEqual({ position: starts[2], baseOffset: 20, lastOffset: 20, isNew: true });
    expect(c.covers(0, starts[2])).toBe(true);
    // Refused again at once, not reported as new.
    expect(c.check(bad.subarray(starts[2]), starts[2]).corrupt).toMatchObject({ position: starts[2], isNew: false });
    // The batches after it are served.
    expect(c.check(bad.subarray(starts[3]), starts[3])).toEqual({ good: bad.length - starts[3], corrupt: null });
    // Checked ranges are trusted: a later change there is not looked at again (one check per process).
    const changed = Buffer.from(bad);
    changed[starts[1] - 3] ^= 1;
    expect(c.check(changed.subarray(0, starts[2]), 0).corrupt).toBeNull();
  });

  it('trusts everything from tailFrom on', () => {
    const { buf } = batches(3);
    const bad = Buffer.from(buf);
    bad[bad.length - 3] ^= 1;
    const c = new CheckedBatches();
    c.tailFrom = 0;
    expect(c.check(bad, 0)).toEqual({ good: bad.length, corrupt: null });
  });
});
