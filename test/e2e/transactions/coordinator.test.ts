// The transaction coordinator (KIP-98) with real clients and raw requests: commit and abort write
// COMMIT/ABORT control batches into every partition of the transaction; a second producer with the
// same transactional id fences the first (its ongoing transaction aborted, its epoch refused);
// __transaction_state survives a kill -9; a transaction past its timeout is aborted by the coordinator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { pollUntil, RawTxnClient, storedBatches } from './support.js';

const CONCURRENT_TRANSACTIONS = 51;
const INVALID_PRODUCER_EPOCH = 47;
const PRODUCER_FENCED = 90;
const INVALID_TRANSACTION_TIMEOUT = 50;
const INVALID_TXN_STATE = 48;
const INVALID_PRODUCER_ID_MAPPING = 49;

describe('transaction coordinator', () => {
  let broker: SpawnedBroker;
  let admin: ReturnType<Kafka['admin']>;
  const kafka = () => new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });

  beforeAll(async () => {
    broker = await spawnBroker({
      overrides: {
        // A short sweep so that the timeout test does not wait Kafka's 10 s.
        'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
        'transaction.max.timeout.ms': '120000',
      },
    });
    admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({
      topics: ['kjs', 'fence', 'timeout', 'reload'].map((topic) => ({ topic, numPartitions: 2 })),
    });
  });
  afterAll(async () => {
    await admin?.disconnect();
    await broker?.stop();
  });

  it('FindCoordinator for a transactional id: this broker, and __transaction_state created with 50 partitions', async () => {
    const raw = await RawClient.connect(broker.port);
    try {
      const v1 = await raw.request(10, 1, { key: 'my-txn', keyType: 1 });
      expect(v1).toMatchObject({ errorCode: 0, nodeId: 0, port: broker.port });
      const v4 = await raw.request(10, 4, { keyType: 1, coordinatorKeys: ['a', ''] });
      expect(v4.coordinators.map((c: { errorCode: number }) => c.errorCode)).toEqual([0, 42]);
    } finally {
      raw.close();
    }
    const [meta] = (await admin.fetchTopicMetadata({ topics: ['__transaction_state'] })).topics;
    expect(meta.partitions.length).toBe(50);
  });

  it('kafkajs: a committed and an aborted transaction over two partitions; every record and both markers in the log', async () => {
    const producer = kafka().producer({ transactionalId: 'kjs-1', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const t1 = await producer.transaction();
      await t1.send({ topic: 'kjs', messages: [{ value: 'c0', partition: 0 }, { value: 'c1', partition: 1 }, { value: 'c2', partition: 0 }] });
      await t1.commit();
      const t2 = await producer.transaction();
      await t2.send({ topic: 'kjs', messages: [{ value: 'a0', partition: 0 }, { value: 'a1', partition: 1 }] });
      await t2.abort();
    } finally {
      await producer.disconnect();
    }
    // The markers follow EndTxn's answer: poll until both are in each partition.
    const p0 = await pollUntil(() => storedBatches(broker.port, 'kjs', 0), (b) => b.filter((x) => x.marker).length === 2, 30_000, 'kjs-0 markers');
    const p1 = await pollUntil(() => storedBatches(broker.port, 'kjs', 1), (b) => b.filter((x) => x.marker).length === 2, 30_000, 'kjs-1 markers');
    const shape = (bs: typeof p0) => bs.map((b) => b.marker ?? b.values.join(','));
    expect(shape(p0)).toEqual(['c0,c2', 'COMMIT', 'a0', 'ABORT']);
    expect(shape(p1)).toEqual(['c1', 'COMMIT', 'a1', 'ABORT']);
    for (const b of [...p0, ...p1]) {
      expect(b.transactional).toBe(true);
      expect(b.producerId).toBe(p0[0].producerId);
      expect(b.producerEpoch).toBe(p0[0].producerEpoch);
    }
    // Offsets: records 0-1, COMMIT at 2, a0 at 3, ABORT at 4 (each marker takes one offset).
    expect(p0.map((b) => b.baseOffset)).toEqual([0, 2, 3, 4]);
    expect(p0.find((b) => b.marker)!.coordinatorEpoch).toBe(0);

    // read_uncommitted (kafkajs' readUncommitted) sees every record, aborted ones included.
    const consumer = kafka().consumer({ groupId: 'kjs-reader', readUncommitted: true });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'kjs', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await pollUntil(async () => seen.length, (n) => n >= 5, 60_000, 'the consumer');
    await consumer.disconnect();
    expect(seen.sort()).toEqual(['a0', 'a1', 'c0', 'c1', 'c2']);

    const raw = await RawTxnClient.connect(broker.port);
    try {
      const d = await raw.describe('kjs-1');
      expect(d).toMatchObject({ errorCode: 0, transactionState: 'CompleteAbort', producerId: p0[0].producerId, producerEpoch: p0[0].producerEpoch, topics: [] });
    } finally {
      raw.close();
    }
  });

  it('a second producer with the same transactional id fences the first: its transaction aborted, its epoch refused', async () => {
    const raw = await RawTxnClient.connect(broker.port);
    try {
      const first = await raw.init('fence-1');
      expect(first).toMatchObject({ errorCode: 0, producerEpoch: 0 });
      const { producerId } = first;
      expect(await raw.addPartitions('fence-1', producerId, 0, 'fence', [0, 1])).toEqual([0, 0]);
      expect((await raw.produce('fence-1', producerId, 0, 'fence', 0, 0, ['zombie'])).errorCode).toBe(0);

      // The newcomer: the ongoing transaction is aborted (the old producer fenced at epoch 1), it is told to retry, and gets epoch 2.
      expect((await raw.init('fence-1')).errorCode).toBe(CONCURRENT_TRANSACTIONS);
      const second = await raw.initRetrying('fence-1');
      expect(second).toMatchObject({ errorCode: 0, producerId, producerEpoch: 2 });

      // The zombie, at epoch 0: fenced everywhere (INVALID_PRODUCER_EPOCH for the old request versions).
      expect(await raw.endTxn('fence-1', producerId, 0, true, 3)).toBe(PRODUCER_FENCED);
      expect(await raw.endTxn('fence-1', producerId, 0, true, 1)).toBe(INVALID_PRODUCER_EPOCH);
      expect(await raw.addPartitions('fence-1', producerId, 0, 'fence', [0], 3)).toEqual([PRODUCER_FENCED]);
      expect(await raw.addPartitions('fence-1', producerId, 0, 'fence', [0], 1)).toEqual([INVALID_PRODUCER_EPOCH]);
      expect((await raw.init('fence-1', 60_000, { producerId, producerEpoch: 0 })).errorCode).toBe(PRODUCER_FENCED);
      expect((await raw.init('fence-1', 60_000, { producerId, producerEpoch: 0 }, 3)).errorCode).toBe(INVALID_PRODUCER_EPOCH);
      // A producer id the coordinator never gave this transactional id.
      expect(await raw.endTxn('fence-1', producerId + 1000, 2, true)).toBe(INVALID_PRODUCER_ID_MAPPING);
      // Nothing is open now: EndTxn is INVALID_TXN_STATE for a commit after the abort.
      expect(await raw.endTxn('fence-1', producerId, 2, true)).toBe(INVALID_TXN_STATE);

      // Both partitions of the aborted transaction got an ABORT marker at the fencing epoch 1.
      for (const partition of [0, 1]) {
        const batches = await pollUntil(() => storedBatches(broker.port, 'fence', partition), (b) => b.some((x) => x.marker), 30_000, `fence-${partition} marker`);
        expect(batches.filter((b) => b.marker).map((b) => [b.marker, b.producerEpoch])).toEqual([['ABORT', 1]]);
      }

      // The new producer works: a committed transaction at epoch 2.
      expect(await raw.addPartitions('fence-1', producerId, 2, 'fence', [0])).toEqual([0]);
      expect((await raw.produce('fence-1', producerId, 2, 'fence', 0, 0, ['fresh'])).errorCode).toBe(0);
      expect(await raw.endTxn('fence-1', producerId, 2, true)).toBe(0);
      // A retry of the same EndTxn once complete is answered 0; until then CONCURRENT_TRANSACTIONS.
      await pollUntil(() => raw.endTxn('fence-1', producerId, 2, true), (c) => c === 0, 30_000, 'the commit to complete');
      expect((await raw.describe('fence-1')).transactionState).toBe('CompleteCommit');
    } finally {
      raw.close();
    }
  });

  it('EndTxn answers after the Prepare state, as Kafka; the next AddPartitionsToTxn, EndTxn retry or InitProducerId waits for the local markers instead of CONCURRENT_TRANSACTIONS', async () => {
    const raw = await RawTxnClient.connect(broker.port);
    try {
      const { producerId } = await raw.init('quick-1');
      const codes: number[] = [];
      for (let i = 0; i < 20; i++) {
        codes.push(...(await raw.addPartitions('quick-1', producerId, 0, 'kjs', [0, 1])));
        // The previous transaction is complete by now, and this one is open.
        expect((await raw.describe('quick-1')).transactionState).toBe('Ongoing');
        expect((await raw.produce('quick-1', producerId, 0, 'kjs', 0, i, [`q${i}`])).errorCode).toBe(0);
        expect(await raw.endTxn('quick-1', producerId, 0, i % 2 === 0)).toBe(0);
        // A retry of the same EndTxn right away gets its outcome, not CONCURRENT_TRANSACTIONS.
        if (i % 5 === 0) expect(await raw.endTxn('quick-1', producerId, 0, i % 2 === 0)).toBe(0);
      }
      // Kafka would answer CONCURRENT_TRANSACTIONS to some of these (the markers are written after its EndTxn answer).
      expect(codes.every((c) => c === 0)).toBe(true);
      // InitProducerId right after an EndTxn: the new epoch, no CONCURRENT_TRANSACTIONS.
      expect(await raw.addPartitions('quick-1', producerId, 0, 'kjs', [0])).toEqual([0]);
      expect(await raw.endTxn('quick-1', producerId, 0, true)).toBe(0);
      const again = await raw.init('quick-1');
      expect([again.errorCode, again.producerEpoch]).toEqual([0, 1]);
      // Every transaction's markers in both partitions, in order.
      const expected = [...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'COMMIT' : 'ABORT')), 'COMMIT'];
      const markers = (await storedBatches(broker.port, 'kjs', 0)).filter((b) => b.marker && b.producerId === producerId).map((b) => b.marker);
      expect(markers).toEqual(expected);
    } finally {
      raw.close();
    }
  });

  it('transaction.max.timeout.ms bounds InitProducerId; a transaction past its timeout is aborted by the coordinator', async () => {
    const raw = await RawTxnClient.connect(broker.port);
    try {
      expect((await raw.init('slow', 120_001)).errorCode).toBe(INVALID_TRANSACTION_TIMEOUT);
      expect((await raw.init('slow', 0)).errorCode).toBe(INVALID_TRANSACTION_TIMEOUT);
      const { errorCode, producerId } = await raw.init('slow', 1000);
      expect(errorCode).toBe(0);
      expect(await raw.addPartitions('slow', producerId, 0, 'timeout', [1])).toEqual([0]);
      expect((await raw.produce('slow', producerId, 0, 'timeout', 1, 0, ['left-open'])).errorCode).toBe(0);
      const aborted = await pollUntil(() => raw.describe('slow'), (d) => d.transactionState === 'CompleteAbort', 60_000, 'the timeout abort');
      // Kafka fences the producer when it times out its transaction: epoch 0 -> 1.
      expect(aborted).toMatchObject({ producerId, producerEpoch: 1, transactionTimeoutMs: 1000 });
      const batches = await storedBatches(broker.port, 'timeout', 1);
      expect(batches.map((b) => b.marker ?? b.values.join())).toEqual(['left-open', 'ABORT']);
      expect(await raw.endTxn('slow', producerId, 0, true)).toBe(PRODUCER_FENCED);
    } finally {
      raw.close();
    }
  });

  it('__transaction_state survives a kill -9: an open transaction is found again, with its partitions, and commits', async () => {
    let raw = await RawTxnClient.connect(broker.port);
    const { producerId, producerEpoch } = await raw.init('reload-1');
    expect(await raw.addPartitions('reload-1', producerId, producerEpoch, 'reload', [0, 1])).toEqual([0, 0]);
    expect((await raw.produce('reload-1', producerId, producerEpoch, 'reload', 1, 0, ['before-crash'])).errorCode).toBe(0);
    const done = await raw.initRetrying('reload-done');
    raw.close();
    await admin.disconnect();

    await broker.kill9();
    broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir, overrides: { 'transaction.max.timeout.ms': '120000' } });
    admin = kafka().admin();
    await admin.connect();

    raw = await RawTxnClient.connect(broker.port);
    try {
      expect(await raw.describe('reload-1')).toMatchObject({
        errorCode: 0,
        transactionState: 'Ongoing',
        producerId,
        producerEpoch,
        topics: [{ topic: 'reload', partitions: [0, 1] }],
      });
      expect(await raw.describe('reload-done')).toMatchObject({ errorCode: 0, transactionState: 'Empty', producerId: done.producerId, producerEpoch: 0 });
      expect(await raw.endTxn('reload-1', producerId, producerEpoch, true)).toBe(0);
      for (const partition of [0, 1]) {
        const batches = await pollUntil(() => storedBatches(broker.port, 'reload', partition), (b) => b.some((x) => x.marker), 30_000, `reload-${partition} marker`);
        expect(batches.map((b) => b.marker ?? b.values.join())).toEqual(partition === 1 ? ['before-crash', 'COMMIT'] : ['COMMIT']);
      }
      // The next InitProducerId bumps the reloaded epoch.
      const again = await pollUntil(() => raw.init('reload-1'), (r) => r.errorCode !== CONCURRENT_TRANSACTIONS, 30_000, 'InitProducerId');
      expect(again).toMatchObject({ errorCode: 0, producerId, producerEpoch: producerEpoch + 1 });
    } finally {
      raw.close();
    }
  });
});

describe('transactional id expiry and ListTransactions', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    // The ids are made and listed under the default expiration (7 days), then the broker restarts
    // with 1.5 s: with 1.5 s from the start, a loaded machine (load 30) could let idle-1 expire
    // between its InitProducerId and the first ListTransactions, which then missed it.
    broker = await spawnBroker();
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'exp', numPartitions: 1 }] });
    await admin.disconnect();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('an idle transactional id is forgotten after transactional.id.expiration.ms (a tombstone: still gone after a restart); an open one is not', async () => {
    let raw = await RawTxnClient.connect(broker.port);
    const idle = await raw.init('idle-1');
    const open = await raw.init('open-1', 60_000);
    expect(await raw.addPartitions('open-1', open.producerId, 0, 'exp', [0])).toEqual([0]);
    const list = async (states: string[] = []) => {
      const res = await raw.raw.request(66, 1, { stateFilters: states, producerIdFilters: [], durationFilter: -1 });
      return { ...res, transactionStates: res.transactionStates.map((s: { transactionalId: string; transactionState: string }) => `${s.transactionalId}:${s.transactionState}`).sort() };
    };
    expect((await list()).transactionStates).toEqual(['idle-1:Empty', 'open-1:Ongoing']);
    expect(await list(['Ongoing', 'Nope'])).toMatchObject({ errorCode: 0, unknownStateFilters: ['Nope'], transactionStates: ['open-1:Ongoing'] });
    raw.close();

    // Both ids come back from __transaction_state with their last update times, and now expire.
    await broker.stop();
    broker = await spawnBroker({
      port: broker.port,
      dataDir: broker.dataDir,
      overrides: { 'transactional.id.expiration.ms': '1500', 'transaction.remove.expired.transaction.cleanup.interval.ms': '200' },
    });
    raw = await RawTxnClient.connect(broker.port);
    const gone = await pollUntil(() => raw.describe('idle-1'), (d) => d.errorCode === 105, 60_000, 'idle-1 to expire');
    expect(gone.errorCode).toBe(105); // TRANSACTIONAL_ID_NOT_FOUND
    expect((await list()).transactionStates).toEqual(['open-1:Ongoing']);
    raw.close();

    await broker.kill9();
    broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir, overrides: { 'transactional.id.expiration.ms': '3600000' } });
    raw = await RawTxnClient.connect(broker.port);
    try {
      expect((await raw.describe('idle-1')).errorCode).toBe(105);
      expect(await raw.describe('open-1')).toMatchObject({ errorCode: 0, transactionState: 'Ongoing', producerId: open.producerId });
      // A new producer for the expired id starts over with a new producer id.
      const fresh = await raw.init('idle-1');
      expect(fresh).toMatchObject({ errorCode: 0, producerEpoch: 0 });
      expect(fresh.producerId).not.toBe(idle.producerId);
    } finally {
      raw.close();
    }
  });
});
