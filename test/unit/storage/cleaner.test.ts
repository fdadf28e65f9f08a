// The log cleaner (src/storage/cleaner/) on real files: latest record per key kept with its offset,
// tombstones kept until their delete horizon, the active segment never touched, the last batch of
// a producer and of the round kept, the dirty ratio and lags obeyed, the checkpoint written, and
// the .cleaned/.swap protocol completed or undone by the loader after a crash at any rename.
import { readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Attr } from '../../../src/protocol/records/batch-header.js';
import { crc32c } from '../../../src/protocol/records/crc.js';
import { decodeRecordBatch, iterateBatches } from '../../../src/protocol/records/record-batch.js';
import { LogCleaner, cleanableRange } from '../../../src/storage/cleaner/log-cleaner.js';
import { nodeFileSystem } from '../../../src/storage/file-system.js';
import type { LogManager } from '../../../src/storage/log-manager.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import type { LogConfig } from '../../../src/storage/config.js';
import { buildBatch, captureLogger, makeTempDir, openManager, trackingFs } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let manager: LogManager | undefined;
let clock = 1_700_000_000_000;
const now = () => clock;
const HOUR = 3_600_000;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  clock = 1_700_000_000_000;
});
afterEach(async () => {
  await manager?.close().catch(() => {});
  manager = undefined;
  await cleanup();
});

const compactConfig = (overrides: Partial<LogConfig> = {}): Partial<LogConfig> => ({
  segmentBytes: 2048,
  compact: true,
  delete: false,
  deleteRetentionMs: HOUR,
  minCleanableRatio: 0.01,
  ...overrides,
});

function cleanerFor(m: LogManager, logs: () => PartitionLog[] = () => m.all()): LogCleaner {
  return new LogCleaner({
    fs: nodeFileSystem,
    logDirs: m.logDirs,
    logs,
    now,
    logger: captureLogger(),
    backoffMs: 60_000,
    dedupeBufferBytes: 64 << 20,
    maxIoBytesPerSecond: Infinity,
  });
}

interface Seen {
  offset: number;
  key: string | null;
  value: string | null;
}

/** Every record the log serves from its start, and the batches' headers. */
async function readAll(log: PartitionLog): Promise<{ records: Seen[]; batches: Array<{ base: number; last: number; count: number; attributes: number; baseTimestamp: number }> }> {
  const records: Seen[] = [];
  const batches: Array<{ base: number; last: number; count: number; attributes: number; baseTimestamp: number }> = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records: buf } = await log.read(offset, 1 << 20);
    if (buf.length === 0) break;
    for (const { position, header } of iterateBatches(buf)) {
      batches.push({ base: header.baseOffset, last: header.baseOffset + header.lastOffsetDelta, count: header.recordCount, attributes: header.attributes, baseTimestamp: header.baseTimestamp });
      if (header.recordCount > 0) {
        for (const r of decodeRecordBatch(buf, position).records) {
          records.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
        }
      }
      offset = header.baseOffset + header.lastOffsetDelta + 1;
    }
  }
  return { records, batches };
}

/** key -> [offset, value] of its latest record, over everything appended. */
function latestByKey(appended: Seen[]): Map<string, Seen> {
  const out = new Map<string, Seen>();
  for (const r of appended) if (r.key !== null) out.set(r.key, r);
  return out;
}

async function appendUpdates(log: PartitionLog, count: number, keys: number, appended: Seen[], opts: { perBatch?: number; tombstoneEvery?: number; prefix?: string } = {}): Promise<void> {
  const perBatch = opts.perBatch ?? 5;
  for (let i = 0; i < count; i += perBatch) {
    const recs: Array<{ key: string; value: string | null; timestamp: number }> = [];
    for (let j = i; j < Math.min(count, i + perBatch); j++) {
      const key = `${opts.prefix ?? 'k'}${j % keys}`;
      const value: string | null = opts.tombstoneEvery && j % opts.tombstoneEvery === 0 ? null : `v${appended.length + recs.length}-${'x'.repeat(20)}`;
      recs.push({ key, value, timestamp: clock });
    }
    const { baseOffset } = await log.append(buildBatch(recs));
    recs.forEach((r, k) => appended.push({ offset: baseOffset + k, key: r.key, value: r.value }));
  }
}

describe('log cleaner', () => {
  it('keeps the latest record of each key at its offset, leaves the active segment alone, and checkpoints', async () => {
    manager = await openManager(dir, { now, config: compactConfig() });
    const log = await manager.create('c', 0);
    const appended: Seen[] = [];
    await appendUpdates(log, 2000, 20, appended);
    const activeBase = log.segmentBaseOffsets().at(-1)!;
    const before = await readAll(log);
    const cleaner = cleanerFor(manager);
    await cleaner.load();
    expect(await cleaner.runOnce()).toBe(true);
    expect(cleaner.lastStats!.endOffset).toBe(activeBase);

    const after = await readAll(log);
    const latest = latestByKey(appended.filter((r) => r.offset < activeBase));
    const cleanedPart = after.records.filter((r) => r.offset < activeBase);
    // Exactly the latest record of each key, in offset order, with its offset.
    expect(cleanedPart).toEqual([...latest.values()].sort((a, b) => a.offset - b.offset));
    // The active segment: byte for byte what it held.
    expect(after.records.filter((r) => r.offset >= activeBase)).toEqual(before.records.filter((r) => r.offset >= activeBase));
    expect(log.logEndOffset).toBe(appended.length);
    expect(log.segmentBaseOffsets().at(-1)).toBe(activeBase);
    // The round's last batch stays (so does what follows it): the offsets below the active segment still end there.
    const lastCleaned = after.batches.filter((b) => b.base < activeBase).at(-1)!;
    expect(lastCleaned.last).toBe(activeBase - 1);
    expect(await readFile(`${dir}/cleaner-offset-checkpoint`, 'utf8')).toBe(`0\n1\nc 0 ${activeBase}\n`);
    const files = await readdir(log.dir);
    expect(files.filter((f) => /cleaned|swap/.test(f))).toEqual([]);
    // Consumers keep working: the log reads on from any offset, including offsets cleaned away.
    const gap = appended.find((r) => !after.records.some((a) => a.offset === r.offset))!;
    const { records } = await log.read(gap.offset, 1 << 20);
    expect(records.length).toBeGreaterThan(0);
  });

  it('survives a restart: the cleaned segments load, and the next round cleans only new dirt', async () => {
    manager = await openManager(dir, { now, config: compactConfig() });
    let log = await manager.create('c', 0);
    const appended: Seen[] = [];
    await appendUpdates(log, 1500, 10, appended);
    let cleaner = cleanerFor(manager);
    await cleaner.load();
    await cleaner.runOnce();
    const firstEnd = cleaner.lastStats!.endOffset;
    const snapshot = await readAll(log);
    await manager.close();
    manager = await openManager(dir, { now, config: compactConfig() });
    log = manager.get('c', 0)!;
    expect(await readAll(log)).toEqual(snapshot);
    await appendUpdates(log, 1500, 10, appended);
    cleaner = cleanerFor(manager);
    await cleaner.load();
    expect(cleaner.checkpointed(log)).toBe(firstEnd);
    expect(cleanableRange(log, firstEnd, clock).firstDirty).toBe(firstEnd);
    await cleaner.runOnce();
    const activeBase = log.segmentBaseOffsets().at(-1)!;
    const after = await readAll(log);
    const latest = latestByKey(appended.filter((r) => r.offset < activeBase));
    expect(after.records.filter((r) => r.offset < activeBase)).toEqual([...latest.values()].sort((a, b) => a.offset - b.offset));
  });

  it('keeps tombstones until delete.retention.ms after their first cleaning, then removes them', async () => {
    manager = await openManager(dir, { now, config: compactConfig() });
    const log = await manager.create('t', 0);
    const appended: Seen[] = [];
    await appendUpdates(log, 600, 10, appended);
    // k3 and k7 deleted
    for (const key of ['k3', 'k7']) {
      const { baseOffset } = await log.append(buildBatch([{ key, value: null, timestamp: clock }]));
      appended.push({ offset: baseOffset, key, value: null });
    }
    await appendUpdates(log, 600, 10, appended, { perBatch: 5 });
    // the later updates bring k3 and k7 back; delete them again at the end, then fill the active segment past them
    for (const key of ['k3', 'k7']) {
      const { baseOffset } = await log.append(buildBatch([{ key, value: null, timestamp: clock }]));
      appended.push({ offset: baseOffset, key, value: null });
    }
    await appendUpdates(log, 100, 1000, appended, { perBatch: 5, prefix: 'other' }); // the tombstones get sealed
    const cleaner = cleanerFor(manager);
    await cleaner.load();
    await cleaner.runOnce();
    let after = await readAll(log);
    const tombstones = after.records.filter((r) => r.value === null);
    expect(tombstones.map((t) => t.key).sort()).toEqual(['k3', 'k7']);
    // Their batches carry a delete horizon now (attribute bit 6), an hour from the cleaning.
    const horizonBatches = after.batches.filter((b) => b.attributes & Attr.deleteHorizon);
    expect(horizonBatches.length).toBeGreaterThan(0);
    expect(horizonBatches.every((b) => b.baseTimestamp === clock + HOUR)).toBe(true);

    // Before the horizon, another round keeps them.
    clock += HOUR - 1;
    await appendUpdates(log, 400, 1000, appended, { prefix: 'other' });
    await cleaner.runOnce();
    after = await readAll(log);
    expect(after.records.filter((r) => r.value === null && r.offset < log.segmentBaseOffsets().at(-1)!).length).toBe(2);
    // Past it, they go.
    clock += 2;
    await appendUpdates(log, 400, 1000, appended, { prefix: 'other' });
    await cleaner.runOnce();
    after = await readAll(log);
    expect(after.records.filter((r) => r.value === null)).toEqual([]);
    expect(after.records.some((r) => r.key === 'k3' || r.key === 'k7')).toBe(false);
  });

  it('keeps the last batch of each active producer, emptied to its header when nothing in it is the latest', async () => {
    manager = await openManager(dir, { now, config: compactConfig() });
    const log = await manager.create('p', 0);
    const appended: Seen[] = [];
    // An idempotent producer writes k0 once...
    const { baseOffset: pBase } = await log.append(buildBatch([{ key: 'k0', value: 'from-producer', timestamp: clock }], { producerId: 42 }));
    // ...then plain producers overwrite k0 many times.
    await appendUpdates(log, 800, 1, appended);
    const cleaner = cleanerFor(manager);
    await cleaner.load();
    await cleaner.runOnce();
    const after = await readAll(log);
    const kept = after.batches.find((b) => b.base === pBase)!;
    expect(kept).toBeDefined();
    expect(kept.count).toBe(0);
    expect(kept.last).toBe(pBase);
    expect(after.records.some((r) => r.value === 'from-producer')).toBe(false);
    // The producer's state still knows its last batch after a restart.
    await manager.close();
    manager = await openManager(dir, { now, config: compactConfig() });
    expect(manager.get('p', 0)!.producerState.entry(42)?.batches.at(-1)?.lastOffset).toBe(pBase);
  });

  it('obeys min.cleanable.dirty.ratio, min.compaction.lag.ms and max.compaction.lag.ms', async () => {
    manager = await openManager(dir, { now, config: compactConfig({ minCleanableRatio: 0.99 }) });
    const log = await manager.create('r', 0);
    const appended: Seen[] = [];
    await appendUpdates(log, 400, 10, appended);
    const cleaner = cleanerFor(manager);
    await cleaner.load();
    await cleaner.runOnce();
    // The first round: everything is dirty (ratio 1 > 0.99).
    const end = cleaner.lastStats!.endOffset;
    await appendUpdates(log, 60, 10, appended);
    const range = cleanableRange(log, end, clock);
    expect(range.ratio).toBeLessThan(0.99);
    expect(cleaner.filthiest()).toBeUndefined();
    // max.compaction.lag.ms makes it due whatever the ratio.
    log.updateConfig({ ...log.config, maxCompactionLagMs: HOUR });
    clock += 2 * HOUR;
    expect(cleaner.filthiest()?.log).toBe(log);
    // min.compaction.lag.ms holds back segments with records younger than it.
    log.updateConfig({ ...log.config, maxCompactionLagMs: Number.MAX_SAFE_INTEGER, minCleanableRatio: 0, minCompactionLagMs: HOUR });
    await appendUpdates(log, 200, 10, appended);
    const young = cleanableRange(log, end, clock);
    const firstYoung = log.sealedSegments.find((s) => s.maxTimestamp > clock - HOUR)!;
    expect(young.firstUncleanable).toBe(firstYoung.baseOffset);
  });

  it('does not touch a log without cleanup.policy=compact, and never cleans across a truncation', async () => {
    manager = await openManager(dir, { now, config: compactConfig({ compact: false, delete: true }) });
    const log = await manager.create('d', 0);
    await appendUpdates(log, 400, 10, []);
    const cleaner = cleanerFor(manager);
    await cleaner.load();
    expect(await cleaner.runOnce()).toBe(false);
    log.updateConfig({ ...log.config, compact: true });
    const sealed = log.sealedSegments;
    const truncations = log.truncations;
    await log.truncateTo(log.logEndOffset, { belowHighWatermark: true });
    // A swap prepared before the truncation is refused.
    expect(truncations).not.toBe(log.truncations);
    expect(sealed.length).toBeGreaterThan(0);
  });

  // Five managers' worth of appends, flushes and a cleaning each: ~4 s idle, 38 s in a full run at
  // load (run 28); the default 60 s left less than 2x. The timeout only catches a hang.
  it('completes a swap interrupted by a crash at each step, and drops an unfinished cleaning', { timeout: 240_000 }, async () => {
    // Drive a real cleaning, then rebuild each intermediate on-disk state from its files.
    for (const step of ['cleaned', 'swap-log-only', 'swapped-old-present', 'old-renamed', 'swap-index-left'] as const) {
      const t = await makeTempDir();
      try {
        const fs = trackingFs();
        let m = await openManager(t.dir, { now, fs, config: compactConfig() });
        const log = await m.create('s', 0);
        const appended: Seen[] = [];
        await appendUpdates(log, 1200, 10, appended);
        await log.flush();
        const before = await readAll(log);
        const activeBase = log.segmentBaseOffsets().at(-1)!;
        const oldFiles = (await readdir(log.dir)).filter((f) => /^\d{20}\.(log|index|timeindex)$/.test(f));
        const cleaner = cleanerFor(m);
        await cleaner.load();
        await cleaner.runOnce();
        const cleanedFiles = (await readdir(log.dir)).filter((f) => /^\d{20}\.(log|index|timeindex)$/.test(f));
        const cleanedBases = new Set(cleanedFiles.map((f) => f.slice(0, 20)));
        const cleanedBytes = new Map<string, Buffer>();
        for (const f of cleanedFiles) cleanedBytes.set(f, await readFile(`${log.dir}/${f}`));
        // "Crash": close every fd, write nothing more.
        await fs.closeAll();
        m = undefined as unknown as LogManager;
        // Put the files back as they were at the chosen step. The old segments are gone from disk
        // (deleted after the swap): rebuild them by re-appending into a fresh manager elsewhere.
        const o = await makeTempDir();
        const om = await openManager(o.dir, { now, config: compactConfig() });
        const olog = await om.create('s', 0);
        await appendUpdates(olog, 1200, 10, []);
        await om.close();
        const odir = `${o.dir}/s-0`;
        for (const f of await readdir(log.dir)) if (/^\d{20}\./.test(f)) await rmFile(`${log.dir}/${f}`);
        for (const f of oldFiles) await writeFile(`${log.dir}/${f}`, await readFile(`${odir}/${f}`));
        await o.cleanup();
        const cleanedOf = (f: string) => cleanedBytes.get(f)!;
        for (const f of cleanedFiles) {
          if (Number(f.slice(0, 20)) >= activeBase) continue;
          const isLog = f.endsWith('.log');
          if (step === 'cleaned') await writeFile(`${log.dir}/${f}.cleaned`, cleanedOf(f));
          if (step === 'swap-log-only') await writeFile(`${log.dir}/${f}${isLog ? '.swap' : '.cleaned'}`, cleanedOf(f));
          if (step === 'swapped-old-present') await writeFile(`${log.dir}/${f}.swap`, cleanedOf(f));
          if (step === 'old-renamed' || step === 'swap-index-left') {
            if (await exists(`${log.dir}/${f}`)) await rename(`${log.dir}/${f}`, `${log.dir}/${f}.deleted`);
            await writeFile(`${log.dir}/${f}${step === 'swap-index-left' && !isLog ? '.swap' : step === 'old-renamed' ? '.swap' : ''}`, cleanedOf(f));
          }
        }
        if (step === 'old-renamed' || step === 'swap-index-left') {
          // the replaced segments that were not the first of their group
          for (const f of oldFiles) {
            if (!cleanedBases.has(f.slice(0, 20)) && Number(f.slice(0, 20)) < activeBase && (await exists(`${log.dir}/${f}`))) {
              await rename(`${log.dir}/${f}`, `${log.dir}/${f}.deleted`);
            }
          }
        }
        m = await openManager(t.dir, { now, config: compactConfig() });
        const reloaded = m.get('s', 0)!;
        const seen = await readAll(reloaded);
        const files = await readdir(reloaded.dir);
        expect(files.filter((f) => /\.(cleaned|swap|deleted)$/.test(f)), step).toEqual([]);
        if (step === 'cleaned') {
          expect(seen.records, step).toEqual(before.records); // the cleaning never happened
        } else {
          const latest = latestByKey(appended.filter((r) => r.offset < activeBase));
          expect(seen.records.filter((r) => r.offset < activeBase), step).toEqual([...latest.values()].sort((a, b) => a.offset - b.offset));
          expect(seen.records.filter((r) => r.offset >= activeBase), step).toEqual(before.records.filter((r) => r.offset >= activeBase));
        }
        await m.close();
      } finally {
        await t.cleanup();
      }
    }
  });
});

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(
    () => true,
    () => false,
  );
}

async function rmFile(path: string): Promise<void> {
  await nodeFileSystem.unlink(path).catch(() => {});
}

describe('a follower of a compacted leader', () => {
  it('appends the cleaned batches as they are: gaps in offsets, emptied headers', async () => {
    manager = await openManager(dir, { now, config: compactConfig() });
    const leader = await manager.create('lead', 0);
    const appended: Seen[] = [];
    const { baseOffset: pBase } = await leader.append(buildBatch([{ key: 'k0', value: 'from-producer', timestamp: clock }], { producerId: 7 }));
    await appendUpdates(leader, 800, 5, appended);
    const cleaner = cleanerFor(manager);
    await cleaner.load();
    await cleaner.runOnce();
    const expected = await readAll(leader);
    expect(expected.batches.find((b) => b.base === pBase)?.count).toBe(0);
    const follower = await manager.create('follow', 0);
    for (let offset = 0; offset < leader.logEndOffset; ) {
      const { records } = await leader.read(offset, 64 * 1024, { toLogEnd: true });
      await follower.appendAsFollower(records);
      offset = follower.logEndOffset;
    }
    expect(await readAll(follower)).toEqual(expected);
    // A batch whose count does not fit its offset range is still refused.
    const bad = buildBatch([{ key: 'a', value: 'b' }, { key: 'c', value: 'd' }]);
    bad.writeInt32BE(1, 23); // lastOffsetDelta 1 -> fine; count 3 > 2 offsets:
    bad.writeInt32BE(3, 57);
    bad.writeUInt32BE(crc32c(bad, 21, bad.length), 17);
    await expect((async () => follower.appendAsFollower(bad))()).rejects.toThrow(/inconsistent/);
  });
});
