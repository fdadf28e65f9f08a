// A compacted partition serves what Apache Kafka 4.4 serves for the same input (issue 14, must-show 6):
// the same keyed batches (single and multi-record, gzip, tombstones, keys updated in and across
// segments) produced to kts and to a real Kafka 4.4 with 1 MiB segments and an eager cleaner; once
// each has cleaned everything below its active segment, the (offset, key, value) sequences a consumer
// reads from offset 0 are the same, and so are the segment boundaries.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRecordBatch, decodeRecordBatch, iterateBatches } from '../../../src/protocol/records/record-batch.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';

const TOPIC = 'compacted';
const CONFIGS = { 'cleanup.policy': 'compact', 'segment.bytes': '1048576', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': '86400000', 'retention.ms': '-1' };
const T0 = Date.UTC(2026, 0, 1);

interface Seen {
  offset: number;
  key: string | null;
  value: string | null;
}

/** The same input for both: deterministic keys, values and timestamps. */
function inputBatches(): Buffer[] {
  const batches: Buffer[] = [];
  let n = 0;
  const pad = 'p'.repeat(180);
  for (let b = 0; b < 900; b++) {
    const count = b % 7 === 0 ? 1 : 20;
    const records = Array.from({ length: count }, () => {
      const k = (n * 7919) % 150;
      const tombstone = n % 97 === 13;
      const r = { key: `key-${k}`, value: tombstone ? null : `value-${n}-${pad}`, timestamp: T0 + n };
      n++;
      return r;
    });
    batches.push(buildRecordBatch(records, { compression: b % 5 === 0 ? 1 : 0, now: T0 }));
  }
  return batches;
}

async function produce(raw: RawClient, batch: Buffer): Promise<void> {
  for (;;) {
    const res = await raw.request(0, 3, { transactionalId: null, acks: -1, timeoutMs: 10000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: batch }] }] });
    const p = res.responses[0].partitionResponses[0];
    if (p.errorCode === 6 || p.errorCode === 3) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    expect(p.errorCode).toBe(0);
    return;
  }
}

async function readAll(raw: RawClient): Promise<{ records: Seen[]; highWatermark: number }> {
  const records: Seen[] = [];
  let offset = 0;
  let highWatermark = 0;
  for (;;) {
    const res = await raw.request(1, 11, fetchBody(TOPIC, [{ partition: 0, offset }], { maxBytes: 8 << 20 }));
    const p = res.responses[0].partitions[0];
    expect(p.errorCode).toBe(0);
    highWatermark = Number(p.highWatermark);
    const buf = p.records as Buffer | null;
    if (!buf || buf.length === 0) break;
    const before = offset;
    for (const { position, header } of iterateBatches(buf)) {
      const last = header.baseOffset + header.lastOffsetDelta;
      if (last < offset) continue;
      if (header.recordCount > 0) {
        for (const r of decodeRecordBatch(buf, position).records) {
          if (r.offset >= offset) records.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString().slice(0, 24) ?? null });
        }
      }
      offset = last + 1;
    }
    if (offset === before || offset >= highWatermark) break;
  }
  return { records, highWatermark };
}

function segmentBases(dataDir: string): number[] {
  return readdirSync(join(dataDir, `${TOPIC}-0`))
    .filter((f) => /^\d{20}\.log$/.test(f))
    .map((f) => Number(f.slice(0, 20)))
    .sort((a, b) => a - b);
}

/** Produces the input, then waits until everything below the active segment holds one record per key. */
async function compacted(port: number, dataDir: string): Promise<{ records: Seen[]; bases: number[] }> {
  const raw = await RawClient.connect(port);
  try {
    const created = await raw.request(19, 4, {
      topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: Object.entries(CONFIGS).map(([name, value]) => ({ name, value })) }],
      timeoutMs: 30000,
      validateOnly: false,
    });
    expect(created.topics[0].errorCode).toBe(0);
    for (const batch of inputBatches()) await produce(raw, batch);
    const deadline = Date.now() + 180_000;
    for (;;) {
      const bases = segmentBases(dataDir);
      const { records } = await readAll(raw);
      const sealed = records.filter((r) => r.offset < bases[bases.length - 1]);
      if (bases.length > 2 && new Set(sealed.map((r) => r.key)).size === sealed.length) return { records, bases };
      if (Date.now() > deadline) throw new Error(`not compacted within 180 s: ${sealed.length} records below ${bases.at(-1)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    raw.close();
  }
}

describe.skipIf(!kafkaLib(KAFKA_4))('compaction as Kafka 4.4 does it', () => {
  let kts: SpawnedBroker | undefined;
  let kafka: RealKafka | undefined;
  afterAll(async () => {
    await kts?.stop();
    await kafka?.stop();
  });

  it('serves the same (offset, key, value) sequence and segment boundaries after cleaning', async () => {
    kafka = await startRealKafka(KAFKA_4, { props: { 'log.cleaner.backoff.ms': 100, 'log.retention.check.interval.ms': 1000 } });
    kts = await spawnBroker({ overrides: { 'log.cleaner.backoff.ms': '100', 'log.retention.check.interval.ms': '1000' } });
    const [theirs, ours] = await Promise.all([compacted(kafka.port, kafka.dataDir), compacted(kts.port, kts.dataDir)]);
    expect(ours.bases).toEqual(theirs.bases);
    expect(ours.records.length).toBe(theirs.records.length);
    expect(ours.records).toEqual(theirs.records);
    // Something was cleaned: fewer records than were produced, tombstones kept (delete.retention.ms is a day).
    expect(ours.records.length).toBeLessThan(900 * 15);
    expect(ours.records.some((r) => r.value === null)).toBe(true);
  }, 600_000);
});
