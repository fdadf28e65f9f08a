// PartitionLog.truncateTo (a follower cutting a diverged tail) and appendAsFollower: the records,
// segments, indexes, leader epochs and producer state after a cut, and a crash at every single
// file operation of a truncation (as kill -9 leaves it: the page cache survives, the process does
// not): the reopened log is always a valid prefix of the old one, its epochs match its batches, and
// truncating again finishes the job.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileHandle, FileSystem } from '../../../src/storage/file-system.js';
import { nodeFileSystem } from '../../../src/storage/file-system.js';
import type { LogManager, PartitionLog } from '../../../src/storage/index.js';
import { buildBatch, captureLogger, decodeBatches, makeTempDir, openManager, recordsOf, valuesBatch } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const managers: LogManager[] = [];
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close().catch(() => {});
  await cleanup();
});

const config = { segmentBytes: 2048, indexIntervalBytes: 128, fileDeleteDelayMs: 60_000 };

/** A file system whose mutating calls can be made to fail from the n-th on, and whose handles can all be dropped (a crash). */
function crashableFs(inner: FileSystem = nodeFileSystem) {
  const open = new Set<FileHandle>();
  const state = { armed: false, ops: 0, failAt: Infinity, log: [] as string[] };
  const step = (what: string) => {
    if (!state.armed) return;
    state.ops++;
    state.log.push(what);
    if (state.ops >= state.failAt) throw Object.assign(new Error(`crash before ${what}`), { code: 'EIO' });
  };
  const fs: FileSystem & { state: typeof state; closeAll(): Promise<void> } = {
    ...inner,
    state,
    async open(path, flags) {
      if (flags !== 'r') step(`open ${flags} ${path}`);
      const h = await inner.open(path, flags);
      open.add(h);
      return {
        pread: h.pread.bind(h),
        stat: h.stat.bind(h),
        async pwrite(buffer, offset, length, position) {
          step(`pwrite ${path}`);
          return h.pwrite(buffer, offset, length, position);
        },
        async fdatasync() {
          step(`fdatasync ${path}`);
          return h.fdatasync();
        },
        async truncate(len) {
          step(`truncate ${path} ${len}`);
          return h.truncate(len);
        },
        async close() {
          open.delete(h);
          return h.close();
        },
      };
    },
    async rename(from, to) {
      step(`rename ${from}`);
      return inner.rename(from, to);
    },
    async unlink(path) {
      step(`unlink ${path}`);
      return inner.unlink(path);
    },
    async syncDir(path) {
      step(`syncDir ${path}`);
      return inner.syncDir(path);
    },
    async closeAll() {
      const all = [...open];
      open.clear();
      await Promise.allSettled(all.map((h) => h.close()));
    },
  };
  return fs;
}

async function openWith(fs?: FileSystem, logger = captureLogger()): Promise<LogManager> {
  const m = await openManager(dir, { config, fs, logger });
  managers.push(m);
  return m;
}

/** 40 batches of 1-3 records over several segments, in epochs 0, 1, 3 and 4. */
async function writeHistory(log: PartitionLog): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const leaderEpoch = i < 10 ? 0 : i < 20 ? 1 : i < 30 ? 3 : 4;
    await log.append(valuesBatch(`m${i}-`, 1 + (i % 3), { pad: 40 }), { leaderEpoch });
  }
}

async function allBatches(log: PartitionLog) {
  const out = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const batches = decodeBatches((await log.read(offset, 1 << 20)).records);
    out.push(...batches);
    offset = batches[batches.length - 1].lastOffset + 1;
  }
  return out;
}

/** The epoch entries the batches themselves imply (the first batch of each newer epoch). */
function epochsOf(batches: Array<{ baseOffset: number; leaderEpoch: number }>) {
  const out: Array<{ epoch: number; startOffset: number }> = [];
  for (const b of batches) if (out.length === 0 || b.leaderEpoch > out[out.length - 1].epoch) out.push({ epoch: b.leaderEpoch, startOffset: b.baseOffset });
  return out;
}

describe('truncateTo', () => {
  it('cuts records, segments, epochs and producer snapshots at the offset, and the log takes appends after it', async () => {
    const m = await openWith();
    const log = await m.create('t', 0);
    await writeHistory(log);
    const before = await allBatches(log);
    expect(log.segmentCount).toBeGreaterThan(3);
    const cutBatch = before.find((b) => b.leaderEpoch === 3)!; // the first batch of epoch 3
    const target = cutBatch.baseOffset;

    await expect(log.truncateTo(target)).rejects.toThrow(/below its high watermark/);
    await expect(log.truncateTo(-1 + log.logStartOffset, { belowHighWatermark: true })).rejects.toThrow();
    expect(await log.truncateTo(target, { belowHighWatermark: true })).toBe(target);
    expect(log.logEndOffset).toBe(target);
    const after = await allBatches(log);
    expect(after).toEqual(before.filter((b) => b.lastOffset < target));
    expect(log.leaderEpochs.entries()).toEqual(epochsOf(after));
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: target }); // the latest epoch ends at the log end
    expect(log.endOffsetForEpoch(3)).toEqual({ epoch: -1, endOffset: -1 }); // newer than any here
    expect(await readFile(join(log.dir, 'leader-epoch-checkpoint'), 'utf8')).toBe(`0\n2\n0 0\n1 ${epochsOf(after)[1].startOffset}\n`);
    expect(log.segmentBaseOffsets().every((b) => b <= target)).toBe(true);
    const files = await readdir(log.dir);
    expect(files.filter((f) => f.endsWith('.log')).length).toBe(log.segmentCount);
    expect(files.filter((f) => f.endsWith('.snapshot')).every((f) => Number(f.slice(0, 20)) <= target)).toBe(true);

    // A cut inside a batch takes the whole batch, as Kafka does.
    const inside = after[after.length - 1];
    if (inside.count > 1) {
      expect(await log.truncateTo(inside.baseOffset + 1, { belowHighWatermark: true })).toBe(inside.baseOffset);
    }
    const end = log.logEndOffset;
    const res = await log.append(valuesBatch('new', 2), { leaderEpoch: 5 });
    expect(res.baseOffset).toBe(end);
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: end });

    await managers.pop()!.close();
    const reopened = (await openWith()).get('t', 0)!;
    expect(reopened.logEndOffset).toBe(end + 2);
    expect(recordsOf((await reopened.read(end, 1 << 20)).records).map((r) => r.value)).toEqual(['new0', 'new1']);
    expect(reopened.leaderEpochs.entries()).toEqual(epochsOf(await allBatches(reopened)));
  });

  it("forgets an idempotent producer's batches that were cut (their retry is a new write, not a duplicate)", async () => {
    const m = await openWith();
    const log = await m.create('t', 0);
    const batch = (seq: number) => {
      const b = buildBatch([{ value: `p${seq}` }], { producerId: 7 });
      b.writeInt16BE(0, 51); // producer epoch
      b.writeInt32BE(seq, 53); // base sequence
      return b;
    };
    const fixCrc = async (b: Buffer) => {
      const { crc32c } = await import('../../../src/protocol/records/crc.js');
      b.writeUInt32BE(crc32c(b, 21, b.length), 17);
      return b;
    };
    for (let seq = 0; seq < 4; seq++) await log.append(await fixCrc(batch(seq)));
    await log.truncateTo(2, { belowHighWatermark: true });
    const again = await log.append(await fixCrc(batch(2)));
    expect(again).toMatchObject({ baseOffset: 2, recordCount: 1 });
  });
});

describe('appendAsFollower', () => {
  it('keeps the leader offsets and epochs and notes each new epoch', async () => {
    const m = await openWith();
    const log = await m.create('t', 0);
    const replicated = (base: number, epoch: number, n: number) => {
      const b = valuesBatch(`r${base}-`, n);
      b.writeBigInt64BE(BigInt(base), 0);
      b.writeInt32BE(epoch, 12); // not covered by the CRC
      return b;
    };
    await log.appendAsFollower(Buffer.concat([replicated(0, 0, 2), replicated(2, 2, 3)]));
    await log.appendAsFollower(replicated(5, 4, 1));
    await expect(log.appendAsFollower(replicated(3, 4, 1))).rejects.toThrow(/does not follow 5/);
    expect(log.logEndOffset).toBe(6);
    expect(log.leaderEpochs.entries()).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 2, startOffset: 2 },
      { epoch: 4, startOffset: 5 },
    ]);
    expect(decodeBatches((await log.read(0, 1 << 20)).records).map((b) => [b.baseOffset, b.leaderEpoch])).toEqual([
      [0, 0],
      [2, 2],
      [5, 4],
    ]);
  });
});

describe('a crash during truncateTo', () => {
  it('at any file operation leaves a valid prefix of the log whose epochs match its batches; truncating again finishes', async () => {
    let failAt = 1;
    let crashes = 0;
    for (;;) {
      await cleanup();
      ({ dir, cleanup } = await makeTempDir());
      const fs = crashableFs();
      const m = await openWith(fs);
      const log = await m.create('t', 0);
      await writeHistory(log);
      const before = await allBatches(log);
      const target = before.find((b) => b.leaderEpoch === 1)!.baseOffset + 1; // inside a batch, several segments back
      const expectedEnd = before.filter((b) => b.lastOffset < target).at(-1)!.lastOffset + 1;
      fs.state.armed = true;
      fs.state.failAt = failAt;
      const outcome = await log.truncateTo(target, { belowHighWatermark: true }).then(
        () => 'done',
        (err: Error) => err.message,
      );
      // The crash: no close, no flush, no checkpoint; every descriptor dropped.
      managers.splice(managers.indexOf(m), 1);
      await fs.closeAll();
      if (outcome === 'done') break;
      expect(outcome).toMatch(/crash before/);
      crashes++;

      const logger = captureLogger();
      const reopened = (await openWith(undefined, logger)).get('t', 0)!;
      const end = reopened.logEndOffset;
      expect(end, `crash before op ${failAt} (${fs.state.log.at(-1)})`).toBeGreaterThanOrEqual(expectedEnd);
      expect(end).toBeLessThanOrEqual(before.at(-1)!.lastOffset + 1);
      const after = await allBatches(reopened);
      expect(after).toEqual(before.filter((b) => b.lastOffset < end));
      expect(reopened.leaderEpochs.entries()).toEqual(epochsOf(after));
      expect(await reopened.truncateTo(target, { belowHighWatermark: true })).toBe(expectedEnd);
      expect(await allBatches(reopened)).toEqual(before.filter((b) => b.lastOffset < expectedEnd));
      await managers.pop()!.close();
      failAt++;
    }
    console.log(`truncateTo crash test: ${crashes} crash points, each reopened and checked`);
    expect(crashes).toBeGreaterThan(5);
  }, 120_000);
});
