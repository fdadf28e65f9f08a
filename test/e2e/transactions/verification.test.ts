// KIP-890 part 1 (transaction.partition.verification.enable, true by default as in Kafka 3.6+): a
// partition leader appends a producer's first transactional batch only once the transaction
// coordinator confirms that the partition is in the producer's ongoing transaction. A batch for a
// partition never added (which would open a transaction no marker ever ends) is refused with
// INVALID_TXN_STATE (Produce v10 and older) or TRANSACTION_ABORTABLE (v11+) and nothing is written.
// In a cluster the leader asks the coordinator on another broker with AddPartitionsToTxn verifyOnly.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, startBroker, startCluster, type BrokerHandle, type ClusterHandle } from '../../../src/index.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { RawClient } from '../../helpers/raw-client.js';
import { pollUntil, RawTxnClient, storedBatches } from './support.js';

const INVALID_PRODUCER_EPOCH = 47;
const INVALID_TXN_STATE = 48;
const INVALID_PRODUCER_ID_MAPPING = 49;
const TRANSACTION_ABORTABLE = 120;

async function produceAt(raw: RawClient, version: number, q: { transactionalId: string; producerId: number; producerEpoch: number; topic: string; partition: number; baseSequence: number; values: string[] }) {
  const records = buildRecordBatch(q.values.map((value) => ({ value })), { producerId: q.producerId, producerEpoch: q.producerEpoch, baseSequence: q.baseSequence, transactional: true });
  const res = await raw.request(0, version, { transactionalId: q.transactionalId, acks: -1, timeoutMs: 30_000, topicData: [{ name: q.topic, partitionData: [{ index: q.partition, records }] }] });
  return res.responses[0].partitionResponses[0].errorCode as number;
}

describe('transactional Produce verification (one broker)', () => {
  let broker: BrokerHandle;
  let unverified: BrokerHandle;
  beforeAll(async () => {
    [broker, unverified] = await Promise.all([
      startBroker({ port: 0, storage: 'memory' }),
      startBroker({ port: 0, storage: 'memory', overrides: { 'transaction.partition.verification.enable': 'false' } }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([broker?.close(), unverified?.close()]);
  });

  const createTopic = async (b: BrokerHandle, topic: string) => {
    const admin = new Kafka({ brokers: [b.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.disconnect();
  };

  it('a batch for a partition never added is refused (v8: INVALID_TXN_STATE, v11: TRANSACTION_ABORTABLE) and not written; once added, it is appended', async () => {
    await createTopic(broker, 'ver');
    const raw = await RawTxnClient.connect(broker.port);
    try {
      const { errorCode, producerId } = await raw.init('ver-1');
      expect(errorCode).toBe(0);
      const q = { transactionalId: 'ver-1', producerId: Number(producerId), producerEpoch: 0, topic: 'ver', partition: 0, baseSequence: 0, values: ['sneaked'] };
      expect(await produceAt(raw.raw, 8, q)).toBe(INVALID_TXN_STATE);
      expect(await produceAt(raw.raw, 11, q)).toBe(TRANSACTION_ABORTABLE);
      expect(await storedBatches(broker.port, 'ver', 0)).toEqual([]);
      // The transaction is known, with ver-1 only: ver-0 still refused, ver-1 accepted.
      expect(await raw.addPartitions('ver-1', q.producerId, 0, 'ver', [1])).toEqual([0]);
      expect(await produceAt(raw.raw, 9, q)).toBe(INVALID_TXN_STATE);
      expect(await produceAt(raw.raw, 9, { ...q, partition: 1, values: ['added'] })).toBe(0);
      // Later batches of the open transaction are not asked about again; a fenced epoch is refused.
      expect(await produceAt(raw.raw, 9, { ...q, partition: 1, baseSequence: 1, values: ['more'] })).toBe(0);
      expect(await raw.addPartitions('ver-1', q.producerId, 0, 'ver', [0])).toEqual([0]);
      expect(await produceAt(raw.raw, 9, { ...q, values: ['now-added'] })).toBe(0);
      expect(await raw.endTxn('ver-1', q.producerId, 0, true)).toBe(0);
      const batches = await pollUntil(() => storedBatches(broker.port, 'ver', 0), (b) => b.length === 2, 10_000, 'the COMMIT marker in ver-0');
      expect(batches.map((b) => b.marker ?? b.values.join())).toEqual(['now-added', 'COMMIT']);
      // After the commit no partition is in a transaction: the next first batch is refused again.
      expect(await produceAt(raw.raw, 9, { ...q, baseSequence: 1, values: ['after-commit'] })).toBe(INVALID_TXN_STATE);

      // A producer id the transactional id does not have, and an old epoch.
      expect(await produceAt(raw.raw, 9, { ...q, producerId: q.producerId + 1000 })).toBe(INVALID_PRODUCER_ID_MAPPING);
      const again = await raw.init('ver-1');
      expect(again.producerEpoch).toBe(1);
      expect(await raw.addPartitions('ver-1', q.producerId, 1, 'ver', [0])).toEqual([0]);
      expect(await produceAt(raw.raw, 9, { ...q, producerEpoch: 0, baseSequence: 2 })).toBe(INVALID_PRODUCER_EPOCH);
      expect(await produceAt(raw.raw, 9, { ...q, producerEpoch: 1, values: ['epoch-1'] })).toBe(0);
      expect(await raw.endTxn('ver-1', q.producerId, 1, false)).toBe(0);
    } finally {
      raw.close();
    }
  });

  it('transaction version 2 with raw requests: Produce v12 adds the partition, EndTxn v5 bumps the epoch (a retry gets the same answer), a late batch of the ended transaction is refused', async () => {
    await createTopic(broker, 'tv2');
    const raw = await RawTxnClient.connect(broker.port);
    try {
      const { producerId } = await raw.init('tv2-raw');
      const q = { transactionalId: 'tv2-raw', producerId: Number(producerId), producerEpoch: 0, topic: 'tv2', partition: 0, baseSequence: 0, values: ['a'] };
      expect(await produceAt(raw.raw, 12, q)).toBe(0);
      expect((await raw.describe('tv2-raw')).topics).toEqual([{ topic: 'tv2', partitions: [0] }]);
      const end = await raw.raw.request(26, 5, { transactionalId: 'tv2-raw', producerId: q.producerId, producerEpoch: 0, committed: true });
      expect(end).toMatchObject({ errorCode: 0, producerEpoch: 1 });
      expect(Number(end.producerId)).toBe(q.producerId);
      const retried = await pollUntil(() => raw.raw.request(26, 5, { transactionalId: 'tv2-raw', producerId: q.producerId, producerEpoch: 0, committed: true }), (r: any) => r.errorCode !== 51, 10_000, 'the retried EndTxn');
      expect(retried).toMatchObject({ errorCode: 0, producerEpoch: 1 });
      const batches = await pollUntil(() => storedBatches(broker.port, 'tv2', 0), (b) => b.length === 2, 10_000, 'the COMMIT marker');
      expect(batches.map((b) => [b.producerEpoch, b.marker ?? b.values.join()])).toEqual([[0, 'a'], [1, 'COMMIT']]);
      // A batch of the committed transaction arriving late: its epoch is older than the marker's.
      expect(await produceAt(raw.raw, 12, { ...q, baseSequence: 1, values: ['late'] })).toBe(INVALID_PRODUCER_EPOCH);
      // The next transaction at epoch 1; an abort bumps again.
      expect(await produceAt(raw.raw, 12, { ...q, producerEpoch: 1, values: ['b'] })).toBe(0);
      const abort = await raw.raw.request(26, 5, { transactionalId: 'tv2-raw', producerId: q.producerId, producerEpoch: 1, committed: false });
      expect(abort).toMatchObject({ errorCode: 0, producerEpoch: 2 });
      expect(await raw.raw.request(26, 5, { transactionalId: 'tv2-raw', producerId: q.producerId, producerEpoch: 0, committed: true })).toMatchObject({ errorCode: 90 });
    } finally {
      raw.close();
    }
  });

  it('transaction.partition.verification.enable=false: the unverified batch is appended (and left hanging), as Kafka allows', async () => {
    await createTopic(unverified, 'ver');
    const raw = await RawTxnClient.connect(unverified.port);
    try {
      const { producerId } = await raw.init('ver-off');
      expect(await produceAt(raw.raw, 11, { transactionalId: 'ver-off', producerId: Number(producerId), producerEpoch: 0, topic: 'ver', partition: 0, baseSequence: 0, values: ['hangs'] })).toBe(0);
      expect((await storedBatches(unverified.port, 'ver', 0)).map((b) => b.values.join())).toEqual(['hangs']);
    } finally {
      raw.close();
    }
  });

  it('kafkajs commits and aborts with every first batch verified', async () => {
    await createTopic(broker, 'ver-kjs');
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: 'ver-kjs', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const commit of [true, false, true]) {
        const t = await producer.transaction();
        for (const partition of [0, 1]) await t.send({ topic: 'ver-kjs', messages: [{ value: `${commit}-${partition}`, partition }] });
        await (commit ? t.commit() : t.abort());
      }
    } finally {
      await producer.disconnect();
    }
    for (const partition of [0, 1]) {
      const batches = await pollUntil(() => storedBatches(broker.port, 'ver-kjs', partition), (b) => b.length === 6, 10_000, 'three transactions');
      expect(batches.map((b) => b.marker ?? b.values.join())).toEqual([`true-${partition}`, 'COMMIT', `false-${partition}`, 'ABORT', `true-${partition}`, 'COMMIT']);
    }
  });
});

describe('transactional Produce verification across brokers', () => {
  let cluster: ClusterHandle;
  beforeAll(async () => {
    cluster = await startCluster({ brokers: 3, replicationFactor: 1 });
  });
  afterAll(() => cluster?.close());

  it('the leader asks the coordinator on another broker (AddPartitionsToTxn v5, verifyOnly): refused before AddPartitionsToTxn, appended after; kafkajs commits', async () => {
    const kafka = new Kafka({ brokers: cluster.bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'xver', numPartitions: 3 }], waitForLeaders: true });
    const { topics } = await admin.fetchTopicMetadata({ topics: ['xver'] });
    await admin.disconnect();
    // A transactional id whose coordinator is another broker than the leader of xver-0.
    const leader = topics[0].partitions.find((p) => p.partitionId === 0)!.leader;
    let transactionalId = '';
    let coordinator = -1;
    for (let i = 0; coordinator === leader || coordinator < 0; i++) {
      transactionalId = `xver-${i}`;
      const raw = await RawClient.connect(cluster.brokers[0].port);
      try {
        const res = await pollUntil(() => raw.request(10, 3, { key: transactionalId, keyType: 1 }), (r: any) => r.errorCode === 0, 30_000, 'FindCoordinator');
        coordinator = res.nodeId;
      } finally {
        raw.close();
      }
    }
    const coordinatorBroker = cluster.brokers.find((b) => b.nodeId === coordinator)!;
    const leaderBroker = cluster.brokers.find((b) => b.nodeId === leader)!;
    const txn = await RawTxnClient.connect(coordinatorBroker.port);
    const data = await RawClient.connect(leaderBroker.port);
    try {
      const init = await pollUntil(() => txn.init(transactionalId), (r) => r.errorCode === 0, 30_000, 'InitProducerId');
      const q = { transactionalId, producerId: Number(init.producerId), producerEpoch: 0, topic: 'xver', partition: 0, baseSequence: 0, values: ['x'] };
      expect(await produceAt(data, 11, q)).toBe(TRANSACTION_ABORTABLE);
      expect(await produceAt(data, 10, q)).toBe(INVALID_TXN_STATE);
      expect(await storedBatches(leaderBroker.port, 'xver', 0)).toEqual([]);
      expect(await txn.addPartitions(transactionalId, q.producerId, 0, 'xver', [0])).toEqual([0]);
      expect(await produceAt(data, 11, q)).toBe(0);
      expect(await txn.endTxn(transactionalId, q.producerId, 0, true)).toBe(0);
      await pollUntil(() => storedBatches(leaderBroker.port, 'xver', 0), (b) => b.at(-1)?.marker === 'COMMIT', 10_000, 'the COMMIT marker');
    } finally {
      txn.close();
      data.close();
    }
    const asked = coordinatorBroker.requests().filter((r) => r.apiKey === ApiKey.AddPartitionsToTxn && r.clientId === `broker-${leader}-txn-verifier`);
    expect(asked.length).toBeGreaterThanOrEqual(3);
    expect(asked.every((r) => r.apiVersion === 5 && (r.request as any).transactions.every((t: any) => t.verifyOnly === true))).toBe(true);

    // A real client across the three brokers: every leader verifies its first batch with the coordinator.
    const producer = kafka.producer({ transactionalId: `${transactionalId}-kjs`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const t = await producer.transaction();
      await t.send({ topic: 'xver', messages: [0, 1, 2].map((partition) => ({ value: `kjs-${partition}`, partition })) });
      await t.commit();
    } finally {
      await producer.disconnect();
    }
    for (const partition of [0, 1, 2]) {
      const b = cluster.brokers.find((x) => x.nodeId === topics[0].partitions.find((p) => p.partitionId === partition)!.leader)!;
      const batches = await pollUntil(() => storedBatches(b.port, 'xver', partition), (s) => s.at(-1)?.marker === 'COMMIT', 10_000, `the COMMIT in xver-${partition}`);
      expect(batches.at(-2)!.values).toEqual([`kjs-${partition}`]);
    }
  }, 120_000);
});
