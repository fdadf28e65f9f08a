// The background scrub (kts.log.scrub.bytes.per.sec): after a clean stop, recovery reads nothing
// before a sealed segment's last index entry, so a byte flipped there would be found only when a
// fetch reads it. The scrub finds it on its own, with no client connected: one ERROR line naming
// the segment file and offsets, a summary line when the pass is over (every sealed segment checked),
// and the first fetch of the batch answers KAFKA_STORAGE_ERROR at once, logging nothing more.
// With the key at 0 no scrub runs (no summary line), and the first fetch finds the batch instead.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../groups/support.js';
import { createTopic, figure, produce, readPartition } from './support.js';

const KAFKA_STORAGE_ERROR = 56;
const BATCHES = 60;
const PER_BATCH = 5;
const TOTAL = BATCHES * PER_BATCH;
const value = (i: number) => `v${i}-`.padEnd(200, 'x');

describe('the background scrub of sealed segments', () => {
  const brokers: SpawnedBroker[] = [];
  afterAll(async () => {
    for (const b of brokers) await b.kill9();
  });

  it('finds a flipped byte no fetch has read, logs it once, and the fetch of it is refused', async () => {
    const first = await spawnBroker();
    brokers.push(first);
    const dataDir = first.dataDir;
    const raw = await RawClient.connect(first.port);
    expect(await createTopic(raw, 'scrubbed', 1, { 'segment.bytes': '16384', 'index.interval.bytes': '1024' })).toBe(0);
    for (let b = 0; b < BATCHES; b++) {
      const values = Array.from({ length: PER_BATCH }, (_, k) => value(b * PER_BATCH + k));
      expect((await produce(raw, 'scrubbed', values)).errorCode).toBe(0);
    }
    raw.close();
    expect(await first.stop()).toBe(0);

    // The first batch of the second segment: before its last index entry, not read at start-up.
    const dir = join(dataDir, 'scrubbed-0');
    const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    expect(logs.length).toBeGreaterThanOrEqual(4);
    const segmentFile = join(dir, logs[1]);
    const bytes = readFileSync(segmentFile);
    const size = 12 + bytes.readInt32BE(8);
    const base = Number(bytes.readBigInt64BE(0));
    const last = base + bytes.readInt32BE(23);
    bytes[size - 5] ^= 0x01;
    writeFileSync(segmentFile, bytes);

    // Scrub off: the start logs nothing about it and no pass runs; the first fetch finds it.
    const off = await spawnBroker({ dataDir, overrides: { 'kts.log.scrub.bytes.per.sec': '0' } });
    brokers.push(off);
    expect((await readPartition(off.port, 'scrubbed', 0, base)).errorCode).toBe(KAFKA_STORAGE_ERROR);
    expect(off.output()).not.toContain('scrub of sealed segments done');
    expect(off.output().split('\n').filter((l) => l.includes('CRC-32C mismatch'))).toHaveLength(1);
    expect(await off.stop()).toBe(0);

    // Scrub on (64 KiB a second: the ~80 KB of sealed segments take a few ticks, not one).
    const on = await spawnBroker({ dataDir, overrides: { 'kts.log.scrub.bytes.per.sec': '65536' } });
    brokers.push(on);
    await waitFor('the scrub to finish its pass', () => on.output().includes('scrub of sealed segments done'), 60_000);
    const found = on.output().split('\n').filter((l) => l.includes('CRC-32C mismatch'));
    expect(found, on.output()).toHaveLength(1);
    expect(found[0]).toContain(segmentFile);
    expect(found[0]).toContain(`offsets ${base}..${last}`);
    const summary = on.output().split('\n').find((l) => l.includes('scrub of sealed segments done'))!;
    expect(summary).toMatch(new RegExp(`of ${logs.length - 1} segment\\(s\\) checked in \\d+ ms, 1 corrupt batch`));

    // The fetch is refused; nothing more is logged. Everything else is served.
    const before = await readPartition(on.port, 'scrubbed', 0, 0);
    expect(before.errorCode).toBe(KAFKA_STORAGE_ERROR);
    expect(before.records.map((r) => r.offset)).toEqual(Array.from({ length: base }, (_, i) => i));
    const after = await readPartition(on.port, 'scrubbed', 0, last + 1);
    expect(after.errorCode).toBe(0);
    expect(after.records.length).toBe(TOTAL - last - 1);
    expect(after.records.every((r) => r.value === value(r.offset))).toBe(true);
    expect(on.output().split('\n').filter((l) => l.includes('CRC-32C mismatch'))).toHaveLength(1);
    figure('scrub', summary.replace(/^.*(scrub of sealed segments done.*?)( \(.*)?$/, '$1'));
  }, 120_000);
});
