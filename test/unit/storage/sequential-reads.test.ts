// A consumer reading a partition in step asks each fetch for the offset right after the last batch
// it got. The segment remembers where that batch starts, so such a fetch is one file read (no index
// lookup and header walk before it), and serves exactly what the long way would.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogManager, PartitionLog } from '../../../src/storage/index.js';
import { countingFs, decodeBatches, makeTempDir, openManager, recordsOf, valuesBatch } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let manager: LogManager | undefined;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(async () => {
  await manager?.close().catch(() => {});
  manager = undefined;
  await cleanup();
});

/** `count` batches of 50 records (~6 KiB each, so every one gets its own index entry), then a restart: nothing is served from memory. */
async function loggedThenReopened(count: number, fs = countingFs()): Promise<{ log: PartitionLog; fs: ReturnType<typeof countingFs> }> {
  const first = await openManager(dir, { config: { segmentBytes: 1 << 30 } });
  const log = await first.create('seq', 0);
  for (let i = 0; i < count; i++) await log.append(valuesBatch(`b${i}-`, 50, { pad: 100 }));
  await first.close();
  manager = await openManager(dir, { fs, config: { segmentBytes: 1 << 30 } });
  return { log: manager.get('seq', 0)!, fs };
}

describe('reads in step', () => {
  it('cost one file read per fetch after the first, and return every record once, in order', async () => {
    const { log, fs } = await loggedThenReopened(100);
    const values: string[] = [];
    const readsPerFetch: number[] = [];
    for (let offset = 0; offset < log.logEndOffset; ) {
      const before = fs.reads;
      const { records } = await log.read(offset, 20_000);
      readsPerFetch.push(fs.reads - before);
      const batches = decodeBatches(records);
      expect(batches[0].baseOffset).toBe(offset);
      for (const r of recordsOf(records)) values.push(r.value!);
      offset = batches[batches.length - 1].lastOffset + 1;
    }
    expect(values).toEqual(Array.from({ length: 100 * 50 }, (_, i) => `b${Math.floor(i / 50)}-${i % 50}${'x'.repeat(100)}`));
    expect(readsPerFetch.length).toBeGreaterThan(20);
    // The first fetch finds its batch through the index; every later one reads once.
    expect(readsPerFetch.slice(1).every((n) => n === 1)).toBe(true);
  });

  it('keep maxOffset, maxBytes and minOneBatch as the long way does', async () => {
    const { log } = await loggedThenReopened(10);
    const first = await log.read(0, 1); // one batch: offsets 0-49, and the hint for 50
    expect(decodeBatches(first.records).map((b) => [b.baseOffset, b.lastOffset])).toEqual([[0, 49]]);
    const size = first.records.length;
    // maxOffset inside the next batch: nothing (a batch reaching past it is never served).
    expect((await log.read(50, 1 << 20, { maxOffset: 70 })).records.length).toBe(0);
    // maxOffset after two batches: those two.
    await log.read(0, 1);
    const two = await log.read(50, 1 << 20, { maxOffset: 150 });
    expect(decodeBatches(two.records).map((b) => b.baseOffset)).toEqual([50, 100]);
    // maxBytes below one batch: the batch whole, or nothing without minOneBatch.
    await log.read(0, 1);
    expect((await log.read(50, 10, { minOneBatch: false })).records.length).toBe(0);
    await log.read(0, 1);
    const one = await log.read(50, 10);
    expect(decodeBatches(one.records).map((b) => b.baseOffset)).toEqual([50]);
    expect(one.records.length).toBe(size);
    // maxBytes for two and a half batches: two.
    await log.read(0, 1);
    const whole = await log.read(50, Math.floor(size * 2.5));
    expect(decodeBatches(whole.records).map((b) => b.baseOffset)).toEqual([50, 100]);
  });

  it('forget where batches were once the log is cut and written again', async () => {
    const { log } = await loggedThenReopened(10);
    const { records } = await log.read(0, 1); // remembers that offset 50 starts the second batch
    const size = records.length;
    await log.truncateTo(25, { belowHighWatermark: true }); // cuts the whole first batch
    expect(log.logEndOffset).toBe(0);
    await log.append(valuesBatch('new-', 80, { pad: 10 })); // offsets 0-79, a different size
    await log.append(valuesBatch('next-', 5));
    const again = await log.read(50, 1 << 20);
    const got = recordsOf(again.records).filter((r) => r.offset >= 50);
    expect(got[0]).toEqual({ offset: 50, value: `new-50${'x'.repeat(10)}` });
    expect(got.map((r) => r.offset)).toEqual(Array.from({ length: 35 }, (_, i) => 50 + i));
    expect(size).not.toBe(again.records.length);
  });
});
