// Damage done to a stopped broker's files, as a crash, a power cut or a careless hand leaves them:
// random bytes appended to a segment, a truncated .index, a missing .timeindex, a zero-filled tail
// (the file's size was extended but the data never reached the disk). Each kind hits its own topic;
// after a clean stop (the marker says "trust me") and after kill -9, the broker starts, serves every
// valid record, and takes new writes at the next offset. (Torn and bit-flipped batches:
// test/e2e/broker/restart-recovery.test.ts; the storage layer's own cases: test/unit/storage.)
import { appendFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { createTopic, figure, produce, readPartition } from './support.js';

const BATCHES = 40;
const PER_BATCH = 10;

const damages: Record<string, (dir: string) => string> = {
  garbage(dir) {
    const log = lastFile(dir, '.log');
    appendFileSync(log, randomBytes(3000));
    return '3000 random bytes appended to the active segment';
  },
  'truncated-index'(dir) {
    // The newest index that has entries (after kill -9 the active one may be empty: its entries
    // were still in memory), cut mid-entry.
    const index = readdirSync(dir)
      .filter((f) => f.endsWith('.index') && statSync(join(dir, f)).size >= 16)
      .sort()
      .map((f) => join(dir, f))
      .pop();
    if (!index) throw new Error(`no index with entries in ${dir}`);
    const size = statSync(index).size;
    truncateSync(index, size - 13);
    return `${index.slice(-26)} cut from ${size} to ${size - 13} bytes (mid-entry)`;
  },
  'missing-timeindex'(dir) {
    unlinkSync(lastFile(dir, '.timeindex'));
    return '.timeindex deleted';
  },
  'zero-tail'(dir) {
    appendFileSync(lastFile(dir, '.log'), Buffer.alloc(64 * 1024));
    return '64 KiB of zeros appended to the active segment';
  },
};

function lastFile(dir: string, suffix: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith(suffix)).sort();
  if (files.length === 0) throw new Error(`no ${suffix} in ${dir}`);
  return join(dir, files[files.length - 1]);
}

describe('a broker started on damaged files', () => {
  const brokers: SpawnedBroker[] = [];
  afterAll(async () => {
    for (const b of brokers) {
      await b.kill9();
      rmSync(b.dataDir, { recursive: true, force: true });
    }
  });

  for (const stop of ['clean stop', 'kill -9'] as const) {
    it(`serves every valid record and takes writes after a ${stop}`, async () => {
      const first = await spawnBroker();
      brokers.push(first);
      const raw = await RawClient.connect(first.port);
      for (const topic of Object.keys(damages)) {
        // Small index interval and segments: the indexes have entries and there are several segments.
        expect(await createTopic(raw, topic, 1, { 'index.interval.bytes': '200', 'segment.bytes': '8000' })).toBe(0);
        for (let b = 0; b < BATCHES; b++) {
          const res = await produce(raw, topic, Array.from({ length: PER_BATCH }, (_, i) => `${topic}-${b * PER_BATCH + i}`));
          expect(res.errorCode).toBe(0);
        }
      }
      raw.close();
      if (stop === 'clean stop') expect(await first.stop('SIGTERM')).toBe(0);
      else await first.kill9();

      const done: string[] = [];
      for (const [topic, damage] of Object.entries(damages)) done.push(`${topic}: ${damage(join(first.dataDir, `${topic}-0`))}`);

      const second = await spawnBroker({ dataDir: first.dataDir, port: first.port });
      brokers.push(second);
      const raw2 = await RawClient.connect(second.port);
      const results: string[] = [];
      for (const topic of Object.keys(damages)) {
        const { records } = await readPartition(second.port, topic);
        expect(records.map((r) => r.offset)).toEqual(Array.from({ length: BATCHES * PER_BATCH }, (_, i) => i));
        expect(records.every((r) => r.value === `${topic}-${r.offset}`)).toBe(true);
        const next = await produce(raw2, topic, ['after-1', 'after-2']);
        expect(next).toEqual({ errorCode: 0, baseOffset: BATCHES * PER_BATCH });
        const after = await readPartition(second.port, topic, 0, BATCHES * PER_BATCH);
        expect(after.records.map((r) => r.value)).toEqual(['after-1', 'after-2']);
        results.push(`${topic} ${records.length}/${BATCHES * PER_BATCH} served, next write at ${next.baseOffset}`);
      }
      raw2.close();
      figure('damaged-files', `after a ${stop}: ${done.join('; ')} -> ${results.join('; ')}`);
    }, 60_000);
  }
});
