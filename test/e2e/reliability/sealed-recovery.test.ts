// A byte flipped in a sealed segment (one with later segments after it) of a broker killed with -9:
// recovery must not take that for a torn tail. A torn tail can only be in the active segment;
// cutting a sealed one there and deleting every later segment would throw away acknowledged records
// that pass their CRC-32C. The broker starts, keeps every segment file, answers
// KAFKA_STORAGE_ERROR (56) for the corrupt batch only (logged once, with its file and offsets),
// serves every record before and after it, and takes the next write at the old log end.
// Partition 0: the damage is in the segment's last batch, past its last index entry (checked at
// start-up even for a segment below the recovery point). Partition 1: the recovery point is 0, so
// every segment is recovered in full, and the damage is in a sealed segment's first batch.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { createTopic, figure, produce, readPartition, sleep } from './support.js';

const KAFKA_STORAGE_ERROR = 56;
const BATCHES = 60;
const PER_BATCH = 5;
const TOTAL = BATCHES * PER_BATCH;
const value = (partition: number, i: number) => `p${partition}-v${i}-`.padEnd(200, 'x');

/** [position, size, baseOffset, lastOffset] of every batch of a segment file. */
function batchesOf(bytes: Buffer): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  for (let p = 0; p + 61 <= bytes.length; ) {
    const size = 12 + bytes.readInt32BE(p + 8);
    const base = Number(bytes.readBigInt64BE(p));
    out.push([p, size, base, base + bytes.readInt32BE(p + 23)]);
    p += size;
  }
  return out;
}

describe('a flipped byte in a sealed segment after kill -9', () => {
  let broker: SpawnedBroker | undefined;
  afterAll(async () => {
    await broker?.kill9();
  });

  it('deletes no later segment: the corrupt batch alone answers KAFKA_STORAGE_ERROR, the rest is served', async () => {
    broker = await spawnBroker();
    const dataDir = broker.dataDir;
    const raw = await RawClient.connect(broker.port);
    // ~1 KB batches, 16 KiB segments with an index entry every KiB: several sealed segments.
    expect(await createTopic(raw, 'sealed', 2, { 'segment.bytes': '16384', 'index.interval.bytes': '1024' })).toBe(0);
    for (let b = 0; b < BATCHES; b++) {
      for (const partition of [0, 1]) {
        const values = Array.from({ length: PER_BATCH }, (_, k) => value(partition, b * PER_BATCH + k));
        expect((await produce(raw, 'sealed', values, partition)).errorCode).toBe(0);
      }
    }
    raw.close();
    // Partition 0's case is a segment below the recovery point: wait until the checkpoint (written as
    // the background flush after each roll completes, and not at all on an empty start) is past its
    // second segment. A loaded machine got to the kill before any was written (ENOENT below).
    const checkpoint = join(dataDir, 'recovery-point-offset-checkpoint');
    const thirdSegment = Number(readdirSync(join(dataDir, 'sealed-0')).filter((f) => f.endsWith('.log')).sort()[2]?.slice(0, -4));
    const recoveryPoint0 = () => {
      const line = (existsSync(checkpoint) ? readFileSync(checkpoint, 'utf8') : '').split('\n').find((l) => l.startsWith('sealed 0 '));
      return line === undefined ? -1 : Number(line.split(' ')[2]);
    };
    for (const deadline = Date.now() + 30_000; !(recoveryPoint0() >= thirdSegment) && Date.now() < deadline; ) await sleep(20);
    expect(recoveryPoint0(), `partition 0's recovery point in ${checkpoint}, against its third segment's base ${thirdSegment}`).toBeGreaterThanOrEqual(thirdSegment);
    await broker.kill9();

    const damaged: Array<{ partition: number; file: string; files: string[]; base: number; last: number }> = [];
    for (const [partition, which] of [[0, 'last'], [1, 'first']] as const) {
      const dir = join(dataDir, `sealed-${partition}`);
      const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
      expect(logs.length).toBeGreaterThanOrEqual(3);
      const file = join(dir, logs[1]);
      const bytes = readFileSync(file);
      const batches = batchesOf(bytes);
      const [position, size, base, last] = which === 'last' ? batches[batches.length - 1] : batches[0];
      expect(bytes.subarray(position + size - 10, position + size - 2).toString()).toBe('xxxxxxxx');
      bytes[position + size - 5] ^= 0x01; // a value byte of the batch's last record
      writeFileSync(file, bytes);
      damaged.push({ partition, file, files: readdirSync(dir).sort(), base, last });
    }
    // Partition 1 recovers every segment in full: its recovery point goes back to 0.
    const lines = readFileSync(checkpoint, 'utf8').split('\n');
    writeFileSync(checkpoint, lines.map((l) => (l.startsWith('sealed 1 ') ? 'sealed 1 0' : l)).join('\n'));

    broker = await spawnBroker({ dataDir });
    const port = broker.port;
    const results: string[] = [];
    for (const { partition, file, files, base, last } of damaged) {
      // Every segment file is still there.
      expect(readdirSync(join(dataDir, `sealed-${partition}`)).filter((f) => /\.(log|index|timeindex)$/.test(f)).sort()).toEqual(
        files.filter((f) => /\.(log|index|timeindex)$/.test(f)),
      );
      const before = await readPartition(port, 'sealed', partition, 0);
      expect(before.errorCode).toBe(KAFKA_STORAGE_ERROR);
      expect(before.records.map((r) => r.offset)).toEqual(Array.from({ length: base }, (_, i) => i));
      expect(before.records.every((r) => r.value === value(partition, r.offset))).toBe(true);
      expect((await readPartition(port, 'sealed', partition, base)).errorCode).toBe(KAFKA_STORAGE_ERROR);
      const after = await readPartition(port, 'sealed', partition, last + 1);
      expect(after.errorCode).toBe(0);
      expect(after.highWatermark).toBe(TOTAL);
      expect(after.records.map((r) => r.offset)).toEqual(Array.from({ length: TOTAL - last - 1 }, (_, i) => last + 1 + i));
      expect(after.records.every((r) => r.value === value(partition, r.offset))).toBe(true);
      const errors = broker.output().split('\n').filter((l) => l.includes('CRC-32C mismatch') && l.includes(file));
      expect(errors, broker.output()).toHaveLength(1);
      expect(errors[0]).toContain(`offsets ${base}..${last}`);
      results.push(`p${partition}: ${before.records.length} before + ${after.records.length} after of ${TOTAL}, batch ${base}..${last} refused`);
    }
    expect(broker.output()).not.toContain('deleting segments');
    const raw2 = await RawClient.connect(port);
    for (const partition of [0, 1]) expect(await produce(raw2, 'sealed', ['next'], partition)).toEqual({ errorCode: 0, baseOffset: TOTAL });
    raw2.close();
    figure('sealed-recovery', results.join('; '));
  }, 120_000);
});
