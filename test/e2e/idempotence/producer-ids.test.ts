// Idempotence through raw requests and kafkajs against the real binary:
//  - InitProducerId v0-v5 hands out fresh ids with epoch 0, never the same id twice, also across a
//    kill -9 (the id block is claimed on disk first); a transactional id draws from the same blocks.
//  - Produce with a producer id: a retry is answered SUCCESS with the original base offset, also
//    after a kill -9 (state rebuilt from the log); a gap is OUT_OF_ORDER_SEQUENCE_NUMBER; an older
//    epoch INVALID_PRODUCER_EPOCH; nothing is stored for any of them.
//  - kafkajs 2.2.4 with `idempotent: true` sends InitProducerId and idempotent batches.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { storedBatches } from '../compression/disk.js';

describe('idempotent producers', () => {
  let broker: SpawnedBroker;
  let client: RawClient;
  beforeAll(async () => {
    broker = await spawnBroker();
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'seq', numPartitions: 1 }, { topic: 'kjs-idem', numPartitions: 2 }] });
    await admin.disconnect();
    client = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  const initPid = async (version: number, body: object = {}) =>
    client.request(22, version, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1, ...body });
  const produce = async (batch: Buffer) =>
    (
      await client.request(0, 8, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: 'seq', partitionData: [{ index: 0, records: batch }] }],
      })
    ).responses[0].partitionResponses[0];
  const batch = (pid: number, epoch: number, seq: number, n: number) =>
    buildRecordBatch(
      Array.from({ length: n }, (_, i) => ({ value: `s${seq + i}` })),
      { producerId: pid, producerEpoch: epoch, baseSequence: seq },
    );

  it('InitProducerId v0-v5: fresh ids, epoch 0, unique across a kill -9; a transactional id from the same blocks', async () => {
    const ids: number[] = [];
    for (let v = 0; v <= 5; v++) {
      const res = await initPid(v);
      expect(res).toMatchObject({ errorCode: 0, producerEpoch: 0 });
      ids.push(res.producerId);
    }
    // v3+ with the current id/epoch (a bump request): like Kafka without a transactional id, a new id
    const bumped = await initPid(4, { producerId: ids[5], producerEpoch: 0 });
    expect(bumped).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    ids.push(bumped.producerId);
    // A transactional id draws from the same durable blocks (the transaction coordinator's epoch 0).
    const transactional = await initPid(3, { transactionalId: 'tx-1' });
    expect(transactional).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    ids.push(transactional.producerId);

    client.close();
    await broker.kill9();
    broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir });
    client = await RawClient.connect(broker.port);
    for (let i = 0; i < 3; i++) ids.push((await initPid(2)).producerId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.slice(8).every((id) => id > Math.max(...ids.slice(0, 8)))).toBe(true);
  });

  it('sequence rules on Produce, and a duplicate answered with the original offset after a kill -9', async () => {
    const { producerId: pid } = await initPid(4);
    expect(await produce(batch(pid, 0, 0, 10))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(batch(pid, 0, 10, 10))).toMatchObject({ errorCode: 0, baseOffset: 10 });
    // a retry of either of them: SUCCESS with the first write's offset (Kafka 3.x), nothing stored
    expect(await produce(batch(pid, 0, 0, 10))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(batch(pid, 0, 10, 10))).toMatchObject({ errorCode: 0, baseOffset: 10 });
    expect((await produce(batch(pid, 0, 25, 1))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await produce(batch(pid, 1, 0, 5))).toMatchObject({ errorCode: 0, baseOffset: 20 }); // new epoch from 0
    expect((await produce(batch(pid, 0, 20, 1))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await produce(batch(pid, 2, 3, 1))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);

    client.close();
    await broker.kill9();
    broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir });
    client = await RawClient.connect(broker.port);
    expect(await produce(batch(pid, 1, 0, 5))).toMatchObject({ errorCode: 0, baseOffset: 20 });
    expect((await produce(batch(pid, 1, 6, 1))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await produce(batch(pid, 1, 5, 5))).toMatchObject({ errorCode: 0, baseOffset: 25 });

    // and after a clean restart (from the snapshot written at shutdown)
    client.close();
    expect(await broker.stop()).toBe(0);
    broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir });
    client = await RawClient.connect(broker.port);
    expect(await produce(batch(pid, 1, 5, 5))).toMatchObject({ errorCode: 0, baseOffset: 25 });
    expect(await produce(batch(pid, 1, 10, 5))).toMatchObject({ errorCode: 0, baseOffset: 30 });
    const stored = storedBatches(broker.dataDir, 'seq', 0);
    expect(stored.map((b) => [b.baseOffset, b.producerEpoch, b.baseSequence, b.recordCount])).toEqual([
      [0, 0, 0, 10],
      [10, 0, 10, 10],
      [20, 1, 0, 5],
      [25, 1, 5, 5],
      [30, 1, 10, 5],
    ]);
  });

  it('kafkajs idempotent producer: 1,000 records in 50 sends, stored with its producer id and sequences 0..n-1', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let s = 0; s < 50; s++) {
      await producer.send({
        topic: 'kjs-idem',
        acks: -1,
        messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${(s * 20 + i) % 2}`, value: `v${s * 20 + i}`, partition: (s * 20 + i) % 2 })),
      });
    }
    await producer.disconnect();
    for (const p of [0, 1]) {
      const stored = storedBatches(broker.dataDir, 'kjs-idem', p);
      expect(stored.length).toBe(50);
      expect(new Set(stored.map((b) => b.producerId)).size).toBe(1);
      expect(stored[0].producerId).toBeGreaterThanOrEqual(0);
      expect(stored.every((b) => b.producerEpoch === 0)).toBe(true);
      let seq = 0;
      for (const b of stored) {
        expect(b.baseSequence).toBe(seq);
        seq += b.recordCount;
      }
      expect(seq).toBe(500);
    }
  });
});
