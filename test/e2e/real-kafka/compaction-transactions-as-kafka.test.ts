// A compacted partition with transactions serves what Apache Kafka 4.4 serves for the same input
// (issue 14: "aborted transactional records and spent markers removed as Kafka does"): an aborted
// and a committed transaction among keyed updates, produced to kts and to a real Kafka 4.4 through
// the same raw requests (InitProducerId, AddPartitionsToTxn, transactional Produce, EndTxn); once each
// has cleaned everything below its active segment, the (offset, key, value) sequences a consumer
// reads from offset 0 are the same, the markers sit at the same offsets, and so do the segment
// boundaries. The aborted records are gone and the earlier committed value of their key is kept.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Attr } from '../../../src/protocol/records/batch-header.js';
import { buildRecordBatch, decodeRecordBatch, iterateBatches } from '../../../src/protocol/records/record-batch.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';

const TOPIC = 'txn-compacted';
const CONFIGS = { 'cleanup.policy': 'compact', 'segment.bytes': '1048576', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': '86400000', 'retention.ms': '-1' };
const T0 = Date.UTC(2026, 0, 1);
const PAD = 'p'.repeat(180);

interface Seen {
  offset: number;
  /** key=value for a record, COMMIT/ABORT for a marker. */
  what: string;
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function produce(raw: RawClient, batch: Buffer, transactionalId: string | null = null): Promise<void> {
  await until('a produce', async () => {
    const res = await raw.request(0, 8, { transactionalId, acks: -1, timeoutMs: 10000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: batch }] }] });
    const code = res.responses[0].partitionResponses[0].errorCode;
    if (code === 6 || code === 3) return null;
    expect(code).toBe(0);
    return true;
  });
}

const plain = (n: number, key: string, value: string) => buildRecordBatch([{ key, value, timestamp: T0 + n }], { now: T0 });

/** One transaction of `records` through the coordinator, committed or aborted; resolves once its marker is written. */
async function transaction(raw: RawClient, transactionalId: string, records: [string, string][], commit: boolean): Promise<void> {
  await until('the transaction coordinator', async () => ((await raw.request(10, 3, { key: transactionalId, keyType: 1 })).errorCode === 0 ? true : null));
  const init = await until('InitProducerId', async () => {
    const r = await raw.request(22, 4, { transactionalId, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    return r.errorCode === 0 ? r : null;
  });
  const producerId = Number(init.producerId);
  const added = await raw.request(24, 3, { v3AndBelowTransactionalId: transactionalId, v3AndBelowProducerId: producerId, v3AndBelowProducerEpoch: init.producerEpoch, v3AndBelowTopics: [{ name: TOPIC, partitions: [0] }] });
  expect(added.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(0);
  await produce(raw, buildRecordBatch(records.map(([key, value], i) => ({ key, value, timestamp: T0 + i })), { now: T0, producerId, producerEpoch: init.producerEpoch, baseSequence: 0, transactional: true }), transactionalId);
  expect((await raw.request(26, 3, { transactionalId, producerId, producerEpoch: init.producerEpoch, committed: commit })).errorCode).toBe(0);
  const done = commit ? 'CompleteCommit' : 'CompleteAbort';
  await until(done, async () => ((await raw.request(65, 0, { transactionalIds: [transactionalId] })).transactionStates[0].transactionState === done ? true : null));
}

async function readAll(raw: RawClient): Promise<{ seen: Seen[]; highWatermark: number }> {
  const seen: Seen[] = [];
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
      const records = header.recordCount > 0 ? decodeRecordBatch(buf, position).records : [];
      if (header.attributes & Attr.control) seen.push({ offset: header.baseOffset, what: records[0]?.key?.readInt16BE(2) === 1 ? 'COMMIT' : 'ABORT' });
      else for (const r of records) if (r.offset >= offset) seen.push({ offset: r.offset, what: `${r.key?.toString()}=${r.value?.toString().slice(0, 16) ?? 'null'}` });
      offset = last + 1;
    }
    if (offset === before || offset >= highWatermark) break;
  }
  return { seen, highWatermark };
}

function segmentBases(dataDir: string): number[] {
  return readdirSync(join(dataDir, `${TOPIC}-0`))
    .filter((f) => /^\d{20}\.log$/.test(f))
    .map((f) => Number(f.slice(0, 20)))
    .sort((a, b) => a - b);
}

/** Produces the input, then waits until everything below the active segment holds one record per key and no aborted record. */
async function compacted(port: number, dataDir: string): Promise<{ seen: Seen[]; bases: number[] }> {
  const raw = await RawClient.connect(port);
  try {
    const created = await raw.request(19, 4, {
      topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: Object.entries(CONFIGS).map(([name, value]) => ({ name, value })) }],
      timeoutMs: 30000,
      validateOnly: false,
    });
    expect(created.topics[0].errorCode).toBe(0);
    let n = 0;
    await produce(raw, plain(n++, 'a1', 'before'));
    await transaction(raw, 'aborting', [['a1', 'aborted-1'], ['a2', 'aborted-2']], false);
    await transaction(raw, 'committing', [['b1', 'committed-1'], ['b2', 'committed-2']], true);
    await produce(raw, plain(n++, 'b1', 'overwritten'));
    // Updates of 150 other keys past two segments of 1 MiB, 20 to a batch.
    for (let b = 0; b < 600; b++) {
      const records = Array.from({ length: 20 }, (_, j) => {
        const i = b * 20 + j;
        return { key: `key-${(i * 7919) % 150}`, value: `value-${i}-${PAD}`, timestamp: T0 + n++ };
      });
      await produce(raw, buildRecordBatch(records, { now: T0 }));
    }
    return await until('everything below the active segment compacted', async () => {
      const bases = segmentBases(dataDir);
      const { seen } = await readAll(raw);
      const sealed = seen.filter((r) => r.offset < bases[bases.length - 1] && !/^(COMMIT|ABORT)$/.test(r.what));
      const keys = sealed.map((r) => r.what.split('=')[0]);
      return bases.length > 2 && new Set(keys).size === keys.length && !sealed.some((r) => r.what.includes('aborted')) ? { seen, bases } : null;
    }, 240_000);
  } finally {
    raw.close();
  }
}

describe.skipIf(!kafkaLib(KAFKA_4))('compaction of transactions as Kafka 4.4 does it', () => {
  let kts: SpawnedBroker | undefined;
  let kafka: RealKafka | undefined;
  afterAll(async () => {
    await kts?.stop();
    await kafka?.stop();
  });

  it('the same records and markers at the same offsets, aborted records gone, after cleaning', async () => {
    const props = { 'log.cleaner.backoff.ms': '100', 'transaction.state.log.num.partitions': '1' };
    kafka = await startRealKafka(KAFKA_4, { props });
    kts = await spawnBroker({ overrides: props });
    const [theirs, ours] = await Promise.all([compacted(kafka.port, kafka.dataDir), compacted(kts.port, kts.dataDir)]);
    expect(ours.bases).toEqual(theirs.bases);
    expect(ours.seen.slice(0, 20)).toEqual(theirs.seen.slice(0, 20));
    expect(ours.seen).toEqual(theirs.seen);
    // The head of the log: a1 keeps its committed value, the aborted records are gone, both markers stay
    // (delete.retention.ms is a day), b1's first value is gone under its later one.
    expect(ours.seen.slice(0, 5).map((s) => s.what)).toEqual(['a1=before', 'ABORT', 'b2=committed-2', 'COMMIT', 'b1=overwritten']);
  }, 600_000);
});
