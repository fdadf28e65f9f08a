// Fetches at the log end are served from the batches just written (recent-batches.ts): no file read,
// the same bytes as the file, bounded memory, and nothing stale after a roll, a failed append or a
// restart.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecentBatches, recentBatchBytes, recentBatchLimits } from '../../../src/storage/recent-batches.js';
import { freeReadBuffers, leaseReadBuffer, READ_BUFFER_BYTES, releaseReadBuffers, resetReadBuffers } from '../../../src/storage/read-buffers.js';
import type { LogManager } from '../../../src/storage/index.js';
import { countingFs, decodeBatches, faultyFs, makeTempDir, openManager, recordsOf, valuesBatch } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let manager: LogManager | undefined;
const limits = { ...recentBatchLimits };

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  // A segment nobody reads keeps nothing (the last test): the others test what a read one keeps.
  recentBatchLimits.unreadSegmentBytes = recentBatchLimits.perSegmentBytes;
});
afterEach(async () => {
  await manager?.close().catch(() => {});
  manager = undefined;
  Object.assign(recentBatchLimits, limits);
  await cleanup();
});

/** A batch with its offsets set as storage would. */
function stored(baseOffset: number, n: number, prefix = 'v'): Buffer {
  const b = valuesBatch(prefix, n);
  b.writeBigInt64BE(BigInt(baseOffset), 0);
  return b;
}

describe('RecentBatches', () => {
  it('finds batches and reads ranges within and across the buffers it keeps', () => {
    const r = new RecentBatches();
    const a = stored(10, 3);
    const b = stored(13, 2);
    const c = stored(15, 4);
    const ab = Buffer.concat([a, b]); // one append of two batches
    r.add(1000, ab);
    r.add(1000 + ab.length, c);
    expect(r.start).toBe(1000);
    const file = Buffer.concat([ab, c]);
    expect(r.findBatch(9, 1e9)).toBeNull(); // before what is kept: the file knows
    expect(r.findBatch(10, 1e9)).toEqual({ position: 1000, size: a.length, baseOffset: 10, lastOffset: 12 });
    expect(r.findBatch(14, 1e9)).toEqual({ position: 1000 + a.length, size: b.length, baseOffset: 13, lastOffset: 14 });
    expect(r.findBatch(16, 1e9)).toEqual({ position: 1000 + ab.length, size: c.length, baseOffset: 15, lastOffset: 18 });
    expect(r.findBatch(19, 1e9)).toBe('none');
    expect(r.findBatch(16, 1000 + ab.length)).toBe('none'); // past `end`
    for (const [pos, len] of [[1000, file.length], [1000 + 5, 20], [1000 + a.length, b.length + c.length], [1000 + ab.length - 3, 10]]) {
      expect(r.read(pos, len)).toEqual(file.subarray(pos - 1000, pos - 1000 + len));
    }
    expect(r.read(999, 10)).toBeNull();
    expect(r.read(1000, file.length + 1)).toBeNull();
    r.clear();
    expect(r.start).toBe(-1);
    expect(r.read(1000, 10)).toBeNull();
  });

  it('a read spanning two kept appends is a view of the first one when it holds enough, else one joined copy', () => {
    const r = new RecentBatches();
    const a = stored(0, 3);
    const b = stored(3, 2);
    r.add(0, a);
    r.add(a.length, b);
    const whole = Buffer.concat([a, b]);
    const short = r.read(5, whole.length - 5, a.length - 5)!;
    expect(short.length).toBe(a.length - 5);
    expect(short.buffer).toBe(a.buffer); // not copied
    expect(short).toEqual(a.subarray(5));
    const joined = r.read(5, whole.length - 5, a.length - 4)!;
    expect(joined).toEqual(whole.subarray(5));
    expect(joined.buffer).not.toBe(a.buffer);
    r.clear();
  });

  it('keeps a contiguous run: a gap drops what came before, an oversized batch drops everything', () => {
    const r = new RecentBatches();
    r.add(0, stored(0, 2));
    r.add(500_000, stored(2, 2));
    expect(r.start).toBe(500_000);
    recentBatchLimits.perSegmentBytes = 4096;
    const big = Buffer.concat(Array.from({ length: 60 }, (_, i) => stored(4 + i, 1)));
    expect(big.length).toBeGreaterThan(4096);
    r.add(500_000 + stored(2, 2).length, big);
    expect(r.start).toBe(-1);
  });

  it('stays within the per-segment and process-wide budgets, dropping the oldest first', () => {
    recentBatchLimits.perSegmentBytes = 2000;
    recentBatchLimits.processBytes = 3000;
    const before = recentBatchBytes();
    const one = new RecentBatches();
    const two = new RecentBatches();
    let posOne = 0;
    let posTwo = 0;
    for (let i = 0; i < 50; i++) {
      const b = stored(i * 3, 3);
      one.add(posOne, b);
      posOne += b.length;
      const c = stored(i * 3, 3);
      two.add(posTwo, c);
      posTwo += c.length;
      expect(recentBatchBytes() - before).toBeLessThanOrEqual(3000);
    }
    // Both still hold their newest batch, ending at their end.
    expect(one.findBatch(147, posOne)).toMatchObject({ baseOffset: 147, position: posOne - stored(0, 3).length });
    expect(two.findBatch(147, posTwo)).toMatchObject({ baseOffset: 147 });
    expect(one.findBatch(0, posOne)).toBeNull(); // long dropped: the file has it
    one.clear();
    two.clear();
    expect(recentBatchBytes()).toBe(before);
  });

  it('drops what it has kept longer than maxAgeMs, so an idle broker holds nothing', async () => {
    recentBatchLimits.maxAgeMs = 40;
    recentBatchLimits.sweepEveryMs = 20;
    const before = recentBatchBytes();
    const r = new RecentBatches();
    const b = stored(0, 2);
    r.add(0, b);
    expect(r.read(0, b.length)).toEqual(b);
    expect(recentBatchBytes()).toBeGreaterThan(before);
    for (const deadline = Date.now() + 10_000; r.start >= 0 && Date.now() < deadline; ) await new Promise((res) => setTimeout(res, 10));
    expect(r.start).toBe(-1);
    expect(r.read(0, b.length)).toBeNull();
    expect(recentBatchBytes()).toBe(before);
  });

  it('copies a small batch that is a view into a big buffer instead of pinning it', () => {
    const r = new RecentBatches();
    const chunk = Buffer.alloc(65536);
    const b = stored(0, 2);
    b.copy(chunk, 100);
    const view = chunk.subarray(100, 100 + b.length);
    const before = recentBatchBytes();
    r.add(0, view);
    expect(recentBatchBytes() - before).toBe(b.length);
    chunk.fill(0); // the broker never does this, but what is kept must not depend on it
    expect(r.read(0, b.length)).toEqual(b);
    r.clear();
  });
});

describe('RecentBatches and pooled produce frames (read-buffers.ts)', () => {
  afterEach(resetReadBuffers);

  /** A 1 MiB produce frame's batch, in a buffer leased from the pool as the frame reader leases it. */
  function leasedBatch(): { records: Buffer; copy: Buffer } {
    const frame = leaseReadBuffer(READ_BUFFER_BYTES);
    const b = stored(0, 3);
    const records = frame.subarray(200, 200 + b.length);
    b.copy(records);
    // Padded so that it is not a small view of a big buffer (those are copied, not kept as views).
    const big = frame.subarray(200, 200 + READ_BUFFER_BYTES / 2 + 1);
    big.fill(1, b.length);
    big.writeInt32BE(big.length - 12, 8); // one batch of that length
    return { records: big, copy: Buffer.from(big) };
  }

  it('a batch kept as a view takes its frame out of the pool: answering the request does not give it back', () => {
    resetReadBuffers();
    const r = new RecentBatches();
    r.noteReader();
    const { records, copy } = leasedBatch();
    r.add(0, records);
    releaseReadBuffers([records]); // the connection, once the produce request is answered
    expect(freeReadBuffers()).toBe(0);
    const next = leaseReadBuffer(READ_BUFFER_BYTES);
    expect(next.buffer).not.toBe(records.buffer);
    next.fill(0xee); // the next frame arriving
    expect(r.read(0, copy.length)).toEqual(copy);
    r.clear();
  });

  it('a batch of a segment nobody reads is not kept, and its frame goes back to the pool', () => {
    resetReadBuffers();
    recentBatchLimits.unreadSegmentBytes = 0;
    const r = new RecentBatches();
    const { records } = leasedBatch();
    r.add(0, records);
    expect(r.start).toBe(-1);
    releaseReadBuffers([records]);
    expect(freeReadBuffers()).toBe(1);
    expect(leaseReadBuffer(READ_BUFFER_BYTES).buffer).toBe(records.buffer);
  });
});

describe('PartitionLog reads at the log end', () => {
  it('are answered without a file read, with the same bytes the file holds', async () => {
    const fs = countingFs();
    manager = await openManager(dir, { fs, config: { segmentBytes: 1 << 20 } });
    const log = await manager.create('t', 0);
    const written: Array<{ offset: number; value: string | null }> = [];
    for (let i = 0; i < 50; i++) {
      const offset = log.logEndOffset;
      await log.append(valuesBatch(`b${i}-`, 3));
      fs.reads = 0;
      const { records } = await log.read(offset, 1 << 20);
      expect(fs.reads).toBe(0);
      const got = recordsOf(records);
      expect(got.map((r) => r.offset)).toEqual([offset, offset + 1, offset + 2]);
      written.push(...got);
    }
    // Reading everything from the start hits the file for what is no longer kept; same records.
    await manager.close();
    manager = await openManager(dir, { config: { segmentBytes: 1 << 20 } });
    const reopened = manager.get('t', 0)!;
    const { records } = await reopened.read(0, 1 << 20);
    expect(recordsOf(records)).toEqual(written);
  });

  it("keep a producer's largest batches: a follower's 1 MiB fetch of ~700 KB batches reads no file", async () => {
    // librdkafka's batch.size is 1 MB and kcat fills its batches: with a 512 KiB bound half of
    // them were not kept, and each follower's fetch of one read the file (replication bench).
    const fs = countingFs();
    manager = await openManager(dir, { fs, config: { segmentBytes: 64 << 20 } });
    const log = await manager.create('t', 0);
    for (let i = 0; i < 4; i++) {
      const offset = log.logEndOffset;
      await log.append(valuesBatch(`big${i}-`, 7000, { pad: 90 })); // ~700 KB
      fs.reads = 0;
      const { records } = await log.read(offset, 1 << 20, { minOneBatch: true, toLogEnd: true });
      expect(records.length).toBeGreaterThan(600_000);
      expect(fs.reads).toBe(0);
      expect(decodeBatches(records)[0].baseOffset).toBe(offset);
    }
  });

  it('keep nothing of a segment nobody reads, and up to 8 MiB once it is read (issue 13: peak RSS)', async () => {
    // A producer alone (kcat, no consumer yet): frames kept to be dropped unread cost the broker's
    // peak RSS (8 MiB ~13 MB; 2 MiB ~6 MB, bench/RESULTS.md). A reader in the last readerWindowMs
    // lifts the bound to perSegmentBytes.
    recentBatchLimits.unreadSegmentBytes = limits.unreadSegmentBytes;
    expect(limits.unreadSegmentBytes).toBe(0);
    manager = await openManager(dir, { config: { segmentBytes: 64 << 20 } });
    const log = await manager.create('t', 0);
    const before = recentBatchBytes();
    for (let i = 0; i < 16; i++) await log.append(valuesBatch(`u${i}-`, 3000, { pad: 90 })); // ~300 KB each
    expect(recentBatchBytes() - before).toBe(0);
    await log.read(log.logEndOffset - 1, 1 << 20, { minOneBatch: true, toLogEnd: true });
    for (let i = 0; i < 32; i++) await log.append(valuesBatch(`r${i}-`, 3000, { pad: 90 })); // ~10 MB
    const read = recentBatchBytes() - before;
    expect(read).toBeGreaterThan(6 * 2 ** 20);
    expect(read).toBeLessThanOrEqual(8 << 20);
  });

  it('a fetch waiting at the log end counts as a reader: what is appended next is kept for it', async () => {
    recentBatchLimits.unreadSegmentBytes = limits.unreadSegmentBytes;
    manager = await openManager(dir, { config: { segmentBytes: 64 << 20 } });
    const log = await manager.create('t', 0);
    const before = recentBatchBytes();
    await log.append(valuesBatch('a-', 100));
    expect(recentBatchBytes() - before).toBe(0);
    const waiting = await log.read(log.logEndOffset, 1 << 20, { minOneBatch: true, toLogEnd: true });
    expect(waiting.records.length).toBe(0);
    await log.append(valuesBatch('b-', 100));
    expect(recentBatchBytes() - before).toBeGreaterThan(0);
  });

  it("serve a follower lagging by megabytes from memory, a kept append at a time, without copying", async () => {
    // The replication bench's followers (kcat's ~300-700 KB appends, load ~20) lagged by more than
    // 2 MiB and half of their fetches read the file; a fetch spanning two appends was one fresh copy.
    const fs = countingFs();
    manager = await openManager(dir, { fs, config: { segmentBytes: 64 << 20 } });
    const log = await manager.create('t', 0);
    const appends: Buffer[] = [];
    for (let i = 0; i < 16; i++) {
      const batch = valuesBatch(`lag${i}-`, 3000, { pad: 90 }); // ~300 KB
      appends.push(batch);
      await log.append(batch);
      // The follower is at work (a segment nobody reads keeps 2 MiB): its first fetch comes now.
      if (i === 0) expect((await log.read(0, 1 << 20, { minOneBatch: true, toLogEnd: true })).records.length).toBe(batch.length);
    }
    fs.reads = 0;
    let offset = 0;
    for (let i = 0; i < 16; i++) {
      const { records } = await log.read(offset, 1 << 20, { minOneBatch: true, toLogEnd: true });
      expect(records.length).toBe(appends[i].length); // one append, not joined with the next
      const batches = decodeBatches(records);
      expect(batches[0].baseOffset).toBe(offset);
      offset = batches[batches.length - 1].lastOffset + 1;
    }
    expect(offset).toBe(log.logEndOffset);
    expect(fs.reads).toBe(0);
    // Small appends are still joined into one answer of up to the fetch size.
    const from = log.logEndOffset;
    for (let i = 0; i < 20; i++) await log.append(valuesBatch(`small${i}-`, 100, { pad: 90 })); // ~10 KB each
    const { records } = await log.read(from, 1 << 20, { minOneBatch: true, toLogEnd: true });
    expect(decodeBatches(records).length).toBe(20);
    expect(fs.reads).toBe(0);
  });

  it('after a roll the old segment is read from its file, and a failed append leaves nothing behind', async () => {
    const fs = faultyFs();
    const counting = countingFs(fs);
    manager = await openManager(dir, { fs: counting, config: { segmentBytes: 2048 } });
    const log = await manager.create('t', 0);
    for (let i = 0; i < 40; i++) await log.append(valuesBatch(`r${i}-`, 2, { pad: 20 }));
    expect(log.segmentCount).toBeGreaterThan(2);
    counting.reads = 0;
    const { records } = await log.read(0, 100);
    expect(counting.reads).toBeGreaterThan(0); // first segment: sealed, from the file
    expect(decodeBatches(records)[0].baseOffset).toBe(0);
    const end = log.logEndOffset;
    fs.fault = (op) => (op === 'pwrite' ? 'partial' : undefined);
    await expect(log.append(valuesBatch('lost-', 2))).rejects.toThrow();
    fs.fault = undefined;
    expect(log.logEndOffset).toBe(end);
    await log.append(valuesBatch('after-', 2));
    const tail = await log.read(end, 1 << 20);
    expect(recordsOf(tail.records).map((r) => r.value)).toEqual(['after-0', 'after-1']);
  });
});
