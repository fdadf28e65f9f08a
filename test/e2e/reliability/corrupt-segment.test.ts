// A value byte flipped in an old, sealed segment while the broker was stopped (a disk or a hand
// damaged it; recovery does not look there after a clean stop): after the restart the batch is
// checked against its CRC-32C the first time it is read, and never served. The fetch of it answers
// KAFKA_STORAGE_ERROR (56) for that partition, the broker logs the segment file and the offsets,
// the batches before and after it and the other partition keep being served, the broker stays up,
// and a kafkajs consumer gets the error instead of the corrupt records.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../groups/support.js';
import { createTopic, produce, readPartition } from './support.js';

const KAFKA_STORAGE_ERROR = 56;
const BATCHES = 60;
const PER_BATCH = 5;
const TOTAL = BATCHES * PER_BATCH;
const value = (partition: number, i: number) => `p${partition}-v${i}-`.padEnd(200, 'x');

describe('a flipped byte in a sealed segment', () => {
  let broker: SpawnedBroker | undefined;
  afterAll(async () => {
    await broker?.kill9();
  });

  it('is refused with KAFKA_STORAGE_ERROR, logged with its segment and offsets; everything else is served', async () => {
    const overrides = { 'group.min.session.timeout.ms': '1000' };
    broker = await spawnBroker({ overrides });
    const dataDir = broker.dataDir;
    let raw = await RawClient.connect(broker.port);
    // ~1 KB batches, 16 KiB segments with an index entry every KiB: several sealed segments.
    expect(await createTopic(raw, 'crc', 2, { 'segment.bytes': '16384', 'index.interval.bytes': '1024' })).toBe(0);
    for (let b = 0; b < BATCHES; b++) {
      for (const partition of [0, 1]) {
        const values = Array.from({ length: PER_BATCH }, (_, k) => value(partition, b * PER_BATCH + k));
        expect((await produce(raw, 'crc', values, partition)).errorCode).toBe(0);
      }
    }
    raw.close();
    expect(await broker.stop()).toBe(0);

    // The first batch of the second segment (sealed, before its last index entry, so the start
    // does not read it): one byte of its last record's value flipped.
    const dir = join(dataDir, 'crc-0');
    const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    expect(logs.length).toBeGreaterThanOrEqual(3);
    const segmentFile = join(dir, logs[1]);
    const bytes = readFileSync(segmentFile);
    const size = 12 + bytes.readInt32BE(8);
    const base = Number(bytes.readBigInt64BE(0));
    const last = base + bytes.readInt32BE(23);
    expect(bytes.subarray(size - 10, size - 2).toString()).toBe('xxxxxxxx');
    bytes[size - 5] ^= 0x01;
    writeFileSync(segmentFile, bytes);

    broker = await spawnBroker({ dataDir, overrides });
    const port = broker.port;

    // From the start: every record before the batch, then the error at it.
    const before = await readPartition(port, 'crc', 0, 0);
    expect(before.errorCode).toBe(KAFKA_STORAGE_ERROR);
    expect(before.records.map((r) => r.offset)).toEqual(Array.from({ length: base }, (_, i) => i));
    expect(before.records.every((r) => r.value === value(0, r.offset))).toBe(true);
    // Again (now from memory: refused at once, logged once).
    expect((await readPartition(port, 'crc', 0, base)).errorCode).toBe(KAFKA_STORAGE_ERROR);
    // After it: served to the end.
    const after = await readPartition(port, 'crc', 0, last + 1);
    expect(after.errorCode).toBe(0);
    expect(after.records.map((r) => r.offset)).toEqual(Array.from({ length: TOTAL - last - 1 }, (_, i) => last + 1 + i));
    expect(after.records.every((r) => r.value === value(0, r.offset))).toBe(true);
    // The other partition: whole.
    const other = await readPartition(port, 'crc', 1, 0);
    expect(other.errorCode).toBe(0);
    expect(other.records.length).toBe(TOTAL);
    expect(other.records.every((r) => r.value === value(1, r.offset))).toBe(true);

    // One Fetch for both partitions: the error for partition 0 only.
    raw = await RawClient.connect(port);
    const fetch = await raw.request(1, 11, fetchBody('crc', [{ partition: 0, offset: base }, { partition: 1, offset: 0 }]));
    const [p0, p1] = fetch.responses[0].partitions;
    expect(p0.errorCode).toBe(KAFKA_STORAGE_ERROR);
    expect(Number(p0.highWatermark)).toBe(TOTAL);
    expect(p1.errorCode).toBe(0);
    expect(p1.records.length).toBeGreaterThan(0);
    // Still up and taking writes.
    expect((await produce(raw, 'crc', ['after the damage'], 0)).baseOffset).toBe(TOTAL);
    raw.close();

    const errors = broker.output().split('\n').filter((l) => l.includes('CRC-32C mismatch'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(segmentFile);
    expect(errors[0]).toContain(`offsets ${base}..${last}`);

    // A kafkajs consumer: the records before the batch, then the error, never the batch's records.
    const seen: { partition: number; offset: number }[] = [];
    const logged: string[] = [];
    const kafka = new Kafka({
      clientId: 'crc-test',
      brokers: [broker.bootstrap],
      logLevel: logLevel.ERROR,
      retry: { retries: 2, initialRetryTime: 100 },
      logCreator: () => (entry) => logged.push(`${entry.log.message} ${entry.log.error ?? ''} ${entry.log.type ?? ''}`),
    });
    const consumer = kafka.consumer({ groupId: 'crc-reader', sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: 'crc', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push({ partition, offset: Number(message.offset) }) });
      await waitFor('the consumer to report the storage error', () => logged.some((l) => /KAFKA_STORAGE_ERROR|Disk error/i.test(l)), 30_000);
      await waitFor('the records before the batch', () => seen.filter((s) => s.partition === 0).length >= base, 30_000);
    } finally {
      await consumer.disconnect();
    }
    expect(seen.filter((s) => s.partition === 0 && s.offset >= base && s.offset <= last)).toEqual([]);
  }, 120_000);
});
