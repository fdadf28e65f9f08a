// Offsets inside a transaction (AddOffsetsToTxn + TxnOffsetCommit, KIP-98/KIP-447): invisible until
// the transaction commits (OffsetFetch requireStable answers UNSTABLE_OFFSET_COMMIT meanwhile),
// dropped when it aborts, and found again after a kill -9 — both those a COMMIT marker ended before
// the crash and those of a transaction still open, which commit after the restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { pollUntil, RawTxnClient, storedBatches } from './support.js';

const UNSTABLE_OFFSET_COMMIT = 88;

/** The group's committed offset of in-0 through OffsetFetch v7, with or without requireStable. */
async function committed(port: number, groupId: string, requireStable: boolean): Promise<{ offset: number; errorCode: number }> {
  const raw = await RawClient.connect(port);
  try {
    const res = await raw.request(9, 7, { groupId, topics: [{ name: 'in', partitionIndexes: [0] }], requireStable });
    const p = res.topics[0].partitions[0];
    return { offset: Number(p.committedOffset), errorCode: p.errorCode };
  } finally {
    raw.close();
  }
}

describe('transactional offsets', () => {
  let broker: SpawnedBroker;
  const kafka = () => new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });

  beforeAll(async () => {
    broker = await spawnBroker();
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'in', numPartitions: 1 }, { topic: 'out', numPartitions: 1 }] });
    await admin.disconnect();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('kafkajs sendOffsets: pending until commit, dropped on abort', async () => {
    const producer = kafka().producer({ transactionalId: 'ctp-1', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const t1 = await producer.transaction();
      await t1.send({ topic: 'out', messages: [{ value: 'x' }] });
      await t1.sendOffsets({ consumerGroupId: 'ctp', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '5' }] }] });
      // Before the commit: nothing committed, and a stable fetch is told to wait.
      expect(await committed(broker.port, 'ctp', false)).toEqual({ offset: -1, errorCode: 0 });
      expect(await committed(broker.port, 'ctp', true)).toEqual({ offset: -1, errorCode: UNSTABLE_OFFSET_COMMIT });
      await t1.commit();
      await pollUntil(() => committed(broker.port, 'ctp', true), (c) => c.offset === 5 && c.errorCode === 0, 30_000, 'the committed offset');

      const t2 = await producer.transaction();
      await t2.send({ topic: 'out', messages: [{ value: 'y' }] });
      await t2.sendOffsets({ consumerGroupId: 'ctp', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '9' }] }] });
      await t2.abort();
      await pollUntil(() => committed(broker.port, 'ctp', true), (c) => c.errorCode === 0, 30_000, 'the abort to end');
      expect(await committed(broker.port, 'ctp', true)).toEqual({ offset: 5, errorCode: 0 });
    } finally {
      await producer.disconnect();
    }
    // kafkajs' admin sees the same.
    const admin = kafka().admin();
    await admin.connect();
    try {
      const [topic] = await admin.fetchOffsets({ groupId: 'ctp', topics: ['in'] });
      expect(topic.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '5' })]);
    } finally {
      await admin.disconnect();
    }
  });

  it('after a kill -9: committed transactional offsets are reloaded, an open transaction keeps its offsets pending and commits them', async () => {
    let raw = await RawTxnClient.connect(broker.port);
    const txnOffsetCommit = (pid: number, epoch: number, offset: number) =>
      raw.raw.request(28, 3, {
        transactionalId: 'ctp-2',
        groupId: 'ctp-crash',
        producerId: pid,
        producerEpoch: epoch,
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: 'in', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: 'm' }] }],
      });
    const { producerId: pid, producerEpoch: epoch } = await raw.init('ctp-2');
    // Transaction 1: offsets 3, committed before the crash.
    expect((await raw.raw.request(25, 3, { transactionalId: 'ctp-2', producerId: pid, producerEpoch: epoch, groupId: 'ctp-crash' })).errorCode).toBe(0);
    expect((await txnOffsetCommit(pid, epoch, 3)).topics[0].partitions[0].errorCode).toBe(0);
    expect(await raw.endTxn('ctp-2', pid, epoch, true)).toBe(0);
    await pollUntil(() => committed(broker.port, 'ctp-crash', true), (c) => c.offset === 3, 30_000, 'offset 3');
    // Transaction 2: offsets 7, still open at the crash.
    await pollUntil(() => raw.raw.request(25, 3, { transactionalId: 'ctp-2', producerId: pid, producerEpoch: epoch, groupId: 'ctp-crash' }), (r) => r.errorCode === 0, 30_000, 'AddOffsetsToTxn');
    expect((await txnOffsetCommit(pid, epoch, 7)).topics[0].partitions[0].errorCode).toBe(0);
    raw.close();

    await broker.kill9();
    broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir });
    raw = await RawTxnClient.connect(broker.port);
    try {
      expect(await committed(broker.port, 'ctp-crash', false)).toEqual({ offset: 3, errorCode: 0 });
      expect(await committed(broker.port, 'ctp-crash', true)).toEqual({ offset: -1, errorCode: UNSTABLE_OFFSET_COMMIT });
      expect((await raw.describe('ctp-2')).transactionState).toBe('Ongoing');
      expect(await raw.endTxn('ctp-2', pid, epoch, true)).toBe(0);
      await pollUntil(() => committed(broker.port, 'ctp-crash', true), (c) => c.offset === 7 && c.errorCode === 0, 30_000, 'offset 7');
    } finally {
      raw.close();
    }
    // The markers are in the group's __consumer_offsets partition, as Kafka writes them.
    const markers = [];
    for (let p = 0; p < 50 && markers.length === 0; p++) {
      const batches = await storedBatches(broker.port, '__consumer_offsets', p);
      markers.push(...batches.filter((b) => b.marker && b.producerId === pid).map((b) => b.marker));
    }
    expect(markers).toEqual(['COMMIT', 'COMMIT']);
  });
});
