// Compacted topics on the real binary (issue 14, must-show 5): 1M keyed updates over 1,000 keys shrink
// to at most one live record per key plus the active segment, with every key's latest value; tombstones
// outlive their first cleaning by delete.retention.ms and then go; __consumer_offsets stays bounded
// under a storm of commits; a kill -9 at random points while the cleaner works loses nothing.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { iterateBatches, decodeRecordBatch, buildRecordBatch } from '../../../src/protocol/records/record-batch.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { createTopic, figure, sleep } from './support.js';

const CLEANER = { 'log.cleaner.backoff.ms': '200' };
const COMPACTED = {
  'cleanup.policy': 'compact',
  'segment.bytes': String(1 << 20),
  'min.cleanable.dirty.ratio': '0.01',
  'delete.retention.ms': '3000',
};

interface Seen {
  offset: number;
  key: string | null;
  value: string | null;
}

/** Everything a consumer reads from offset 0 to the high watermark (cleaned batches may be empty headers). */
async function readAll(raw: RawClient, topic: string, partition = 0): Promise<{ records: Seen[]; highWatermark: number; logStartOffset: number }> {
  const records: Seen[] = [];
  let offset = 0;
  let highWatermark = 0;
  let logStartOffset = 0;
  for (;;) {
    const res = await raw.request(1, 11, fetchBody(topic, [{ partition, offset }], { maxBytes: 8 << 20 }));
    const p = res.responses[0].partitions[0];
    if (p.errorCode !== 0) throw new Error(`fetch ${topic}-${partition} at ${offset}: error ${p.errorCode}`);
    highWatermark = Number(p.highWatermark);
    logStartOffset = Number(p.logStartOffset);
    const buf = p.records as Buffer | null;
    if (!buf || buf.length === 0) break;
    const before = offset;
    for (const { position, header } of iterateBatches(buf)) {
      const last = header.baseOffset + header.lastOffsetDelta;
      if (last < offset) continue;
      if (header.recordCount > 0) {
        for (const r of decodeRecordBatch(buf, position).records) {
          if (r.offset >= offset) records.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
        }
      }
      offset = last + 1;
    }
    if (offset === before || offset >= highWatermark) break;
  }
  return { records, highWatermark, logStartOffset };
}

async function produceKeyed(raw: RawClient, topic: string, records: Array<{ key: string; value: string | null }>): Promise<number> {
  const res = await raw.request(0, 7, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 10000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records: buildRecordBatch(records.map((r) => ({ key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) }))) }] }],
  });
  const p = res.responses[0].partitionResponses[0];
  if (p.errorCode !== 0) throw new Error(`produce to ${topic}: error ${p.errorCode}`);
  return Number(p.baseOffset);
}

/**
 * The .log files of a partition dir, oldest first, and their total bytes. The cleaner works while
 * this looks: a segment listed can be gone (swapped for its cleaned copy, or deleted) before its
 * size is read (ENOENT in full run 5 at load ~9), so the dir is listed again then.
 */
function segmentsOf(dataDir: string, topic: string, partition = 0): { bases: number[]; bytes: number } {
  const dir = join(dataDir, `${topic}-${partition}`);
  for (;;) {
    const logs = readdirSync(dir).filter((f) => /^\d{20}\.log$/.test(f));
    const sizes = logs.map((f) => statSync(join(dir, f), { throwIfNoEntry: false })?.size);
    if (sizes.some((size) => size === undefined)) continue;
    return { bases: logs.map((f) => Number(f.slice(0, 20))).sort((a, b) => a - b), bytes: sizes.reduce((n: number, size) => n + size!, 0) };
  }
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** key -> latest value (null = deleted) over what was produced. */
function expectedLatest(produced: Map<string, string | null>, seen: Seen[]): void {
  const got = new Map<string, string | null>();
  for (const r of seen) if (r.key !== null) got.set(r.key, r.value);
  for (const [key, value] of produced) {
    if (value === null) expect(got.get(key) ?? null, key).toBeNull();
    else expect(got.get(key), key).toBe(value);
  }
}

describe('compacted topics on the real broker', () => {
  let broker: SpawnedBroker | undefined;
  afterAll(async () => {
    await broker?.kill9();
  });

  it('1M updates over 1,000 keys compact to <= 1,000 live records plus the active segment; tombstones go after delete.retention.ms', async () => {
    broker = await spawnBroker({ overrides: CLEANER });
    const raw = await RawClient.connect(broker.port);
    try {
      expect(await createTopic(raw, 'updates', 1, COMPACTED)).toBe(0);
      const KEYS = 1000;
      const TOTAL = 1_000_000;
      const PER_BATCH = 2000;
      const latest = new Map<string, string | null>();
      const started = Date.now();
      for (let i = 0; i < TOTAL; i += PER_BATCH) {
        const batch = Array.from({ length: PER_BATCH }, (_, j) => {
          const n = i + j;
          return { key: `key-${n % KEYS}`, value: `value-${n}` };
        });
        await produceKeyed(raw, 'updates', batch);
        for (const r of batch) latest.set(r.key, r.value);
      }
      const produceMs = Date.now() - started;
      // Cleaned while it was being written; wait for the last sealed segments to be cleaned too.
      let seen = await readAll(raw, 'updates');
      await until('the sealed segments to be cleaned', async () => {
        const { bases } = segmentsOf(broker!.dataDir, 'updates');
        const activeBase = bases[bases.length - 1];
        seen = await readAll(raw, 'updates');
        return seen.records.filter((r) => r.offset < activeBase).length <= KEYS;
      });
      const { bases, bytes } = segmentsOf(broker.dataDir, 'updates');
      const activeBase = bases[bases.length - 1];
      expect(seen.highWatermark).toBe(TOTAL);
      expect(seen.records.filter((r) => r.offset < activeBase).length).toBeLessThanOrEqual(KEYS);
      expect(seen.records.length).toBeLessThanOrEqual(KEYS + (TOTAL - activeBase));
      expectedLatest(latest, seen.records);
      // Offsets are those the records were written at (value-n was written at offset n).
      for (const r of seen.records) expect(r.value).toBe(`value-${r.offset}`);
      figure('compaction', `1M updates/1,000 keys: produced in ${produceMs} ms; ${seen.records.length} live records in ${bases.length} segments (${bytes} bytes)`);

      // Tombstones for 100 keys, then other keys' updates to seal them and make the log dirty.
      await produceKeyed(raw, 'updates', Array.from({ length: 100 }, (_, k) => ({ key: `key-${k}`, value: null })));
      for (let k = 0; k < 100; k++) latest.set(`key-${k}`, null);
      const dirty = async (tag: string) => {
        for (let i = 0; i < 40; i++) await produceKeyed(raw, 'updates', Array.from({ length: 1000 }, (_, j) => ({ key: `other-${j}`, value: `${tag}-${i}-${j}-${'x'.repeat(20)}` })));
      };
      await dirty('a');
      const tombstoneSegment = async () => {
        const { bases: b } = segmentsOf(broker!.dataDir, 'updates');
        return b[b.length - 1] > TOTAL + 100;
      };
      await until('the tombstones to be sealed', tombstoneSegment);
      await until('the tombstones to be cleaned (kept, with a delete horizon)', async () => {
        seen = await readAll(raw, 'updates');
        return seen.records.filter((r) => r.key !== null && /^key-\d\d?$/.test(r.key) && r.offset < TOTAL).length === 0;
      });
      const tombstones = seen.records.filter((r) => r.value === null);
      expect(tombstones.length).toBe(100); // kept until delete.retention.ms after their first cleaning
      expectedLatest(latest, seen.records);
      // After delete.retention.ms, another cleaning (more dirt) removes them.
      await sleep(3500);
      await dirty('b');
      await until('the tombstones to be removed', async () => {
        seen = await readAll(raw, 'updates');
        return seen.records.every((r) => r.value !== null);
      });
      expectedLatest(latest, seen.records);
      expect(seen.records.some((r) => r.key !== null && /^key-\d$|^key-\d\d$/.test(r.key))).toBe(false);
    } finally {
      raw.close();
      await broker.stop();
      broker = undefined;
    }
  }, 600_000);

  it('a kill -9 at random points while the cleaner works loses nothing', async () => {
    const KILLS = 5;
    const KEYS = 500;
    const overrides = { ...CLEANER, 'log.cleaner.backoff.ms': '50' };
    broker = await spawnBroker({ overrides });
    const { dataDir, port } = broker;
    let raw = await RawClient.connect(port);
    const latest = new Map<string, string | null>();
    let n = 0;
    try {
      expect(await createTopic(raw, 'churn', 1, { ...COMPACTED, 'segment.bytes': String(128 * 1024) })).toBe(0);
      for (let kill = 0; kill < KILLS; kill++) {
        for (let b = 0; b < 60; b++) {
          const batch = Array.from({ length: 1000 }, () => {
            const key = `key-${Math.floor(Math.random() * KEYS)}`;
            const value = Math.random() < 0.02 ? null : `value-${n}`;
            n++;
            return { key, value };
          });
          const base = await produceKeyed(raw, 'churn', batch);
          batch.forEach((r, i) => latest.set(r.key, r.value === null ? null : `value-${base + i}`));
          // values carry their offsets: value-n is written at offset n
          if (b === 0) expect(base).toBe(n - 1000);
        }
        raw.close();
        await sleep(Math.floor(Math.random() * 1500)); // the cleaner is at work somewhere in there
        await broker.kill9();
        broker = await spawnBroker({ dataDir, port, overrides });
        raw = await RawClient.connect(port);
        const seen = await readAll(raw, 'churn');
        expect(seen.highWatermark).toBe(n);
        expectedLatest(latest, seen.records);
        for (const r of seen.records) expect(r.value === null || r.value === `value-${r.offset}`).toBe(true);
        const offsets = seen.records.map((r) => r.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
        expect(new Set(offsets).size).toBe(offsets.length);
      }
      // Listed once the broker has stopped: under load the cleaner falls behind the producer, so the
      // restarted one goes on cleaning (backoff 50 ms), and each of its swaps has the base-0 segment's
      // .swap files in the dir between its renames: listed so in full run 12 and in 1 of 7 runs of this
      // test at load ~20. Stopping waits for the round under way, so what is left now a recovery left.
      raw.close();
      expect(await broker.stop()).toBe(0);
      broker = undefined;
      const leftovers = readdirSync(join(dataDir, 'churn-0')).filter((f) => /\.(cleaned|swap)$/.test(f));
      expect(leftovers).toEqual([]);
      figure('compaction', `kill -9 x${KILLS} while cleaning: ${n} updates over ${KEYS} keys, every key's latest value kept`);
    } finally {
      raw.close();
      await broker?.stop();
      broker = undefined;
    }
  }, 600_000);

  it('__consumer_offsets stays bounded under a commit storm, and the last commit of every partition is kept', async () => {
    broker = await spawnBroker({
      overrides: { ...CLEANER, 'offsets.topic.num.partitions': '1', 'offsets.topic.replication.factor': '1', 'offsets.topic.segment.bytes': String(256 * 1024) },
    });
    const raw = await RawClient.connect(broker.port);
    try {
      expect(await createTopic(raw, 'input', 10)).toBe(0);
      const COMMITS = 4000;
      let written = 0;
      for (let c = 0; c < COMMITS; c++) {
        const res = await raw.request(8, 8, {
          groupId: `storm-${c % 5}`,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          topics: [{ name: 'input', partitions: Array.from({ length: 10 }, (_, p) => ({ partitionIndex: p, committedOffset: c * 10 + p, committedLeaderEpoch: -1, committedMetadata: 'm'.repeat(40) })) }],
        });
        expect(res.topics[0].partitions.every((p: { errorCode: number }) => p.errorCode === 0)).toBe(true);
        written += 10;
      }
      await until('__consumer_offsets to be cleaned', () => segmentsOf(broker!.dataDir, '__consumer_offsets').bytes < 4 * 256 * 1024);
      const { bytes, bases } = segmentsOf(broker.dataDir, '__consumer_offsets');
      const seen = await readAll(raw, '__consumer_offsets');
      figure('compaction', `__consumer_offsets after ${written} offset commits: ${bytes} bytes in ${bases.length} segments, ${seen.records.length} records served`);
      // The committed offsets survive cleaning and a restart.
      await broker.stop();
      broker = await spawnBroker({ dataDir: broker.dataDir, port: broker.port, overrides: { ...CLEANER, 'offsets.topic.num.partitions': '1', 'offsets.topic.replication.factor': '1' } });
      const raw2 = await RawClient.connect(broker.port);
      try {
        for (let g = 0; g < 5; g++) {
          const res = await raw2.request(9, 7, { groupId: `storm-${g}`, topics: [{ name: 'input', partitionIndexes: Array.from({ length: 10 }, (_, p) => p) }], requireStable: false });
          const lastC = COMMITS - 5 + g;
          expect(res.topics[0].partitions.map((p: { committedOffset: bigint | number }) => Number(p.committedOffset))).toEqual(Array.from({ length: 10 }, (_, p) => lastC * 10 + p));
        }
      } finally {
        raw2.close();
      }
    } finally {
      raw.close();
      await broker.stop();
      broker = undefined;
    }
  }, 600_000);
});
