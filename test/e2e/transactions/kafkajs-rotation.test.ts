// kafkajs (transaction version 1: only InitProducerId bumps the epoch) at the end of a producer id's
// epochs. As Kafka's TransactionCoordinator: an InitProducerId meeting epoch 32766 or more
// (isProducerEpochExhausted) gives a new producer id at epoch 0 instead of a bump. Here the last
// usable epoch is reached by a kafkajs producer whose open transaction another kafkajs producer of
// the same id fences: the fence aborts it at epoch 32767 (its ABORT marker carries it), and the
// retried InitProducerId rotates. The fenced producer can no longer commit; read_committed sees
// exactly the committed transactions of both producer ids, and the new id's epochs go on from 0.
// The epoch is driven near the limit with pipelined raw InitProducerId requests (support.ts).
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { driveEpoch, pollUntil, RawTxnClient, stableAndEndOffsets, storedBatches } from './support.js';

const TOPIC = 'rot-js';
const ID = 'rot-kafkajs';

describe('kafkajs through a producer id rotation on epoch exhaustion', () => {
  let broker: SpawnedBroker;
  const kafka = () => new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100 } });

  beforeAll(async () => {
    broker = await spawnBroker();
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
    await admin.disconnect();
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  async function describeId(): Promise<{ transactionState: string; producerId: number; producerEpoch: number }> {
    const raw = await RawTxnClient.connect(broker.port);
    try {
      return await raw.describe(ID);
    } finally {
      raw.close();
    }
  }

  const offsets = () => stableAndEndOffsets(broker.port, TOPIC);

  it('the fence at 32766 aborts at 32767, the retried InitProducerId rotates, the zombie cannot commit, read_committed is exact', async () => {
    const oldProducerId = await driveEpoch(broker.port, ID, 32765);
    const first = kafka().producer({ transactionalId: ID, idempotent: true, maxInFlightRequests: 1 });
    await first.connect();
    // kafkajs's transactional InitProducerId comes with its first transaction: an ordinary bump to the last usable epoch.
    const committed = await first.transaction();
    expect(await describeId()).toMatchObject({ producerId: oldProducerId, producerEpoch: 32766 });
    await committed.send({ topic: TOPIC, messages: [{ value: 'a1', partition: 0 }] });
    await committed.commit();
    const open = await first.transaction();
    await open.send({ topic: TOPIC, messages: [{ value: 'a2', partition: 0 }] });

    // A second producer of the id: its InitProducerId fences the first (the open transaction is
    // aborted at epoch 32767, CONCURRENT_TRANSACTIONS meanwhile, which kafkajs retries), then rotates.
    const second = kafka().producer({ transactionalId: ID, idempotent: true, maxInFlightRequests: 1 });
    await second.connect();
    const b1 = await second.transaction();
    const rotated = await describeId();
    expect(rotated.producerId).not.toBe(oldProducerId);
    expect(rotated).toMatchObject({ transactionState: 'Empty', producerEpoch: 0 });
    expect(broker.output()).toContain(`with producerId ${rotated.producerId} and producer epoch 0`);

    // The zombie's commit is refused: its producer id is no longer the id's (Kafka's EndTxn answer).
    const zombie = await open.commit().then(() => null, (err: Error & { type?: string }) => err);
    expect(zombie?.type).toBe('INVALID_PRODUCER_ID_MAPPING');
    await first.disconnect();

    await b1.send({ topic: TOPIC, messages: [{ value: 'b1', partition: 0 }] });
    await b1.commit();
    const b2 = await second.transaction();
    await b2.send({ topic: TOPIC, messages: [{ value: 'b2', partition: 0 }] });
    await b2.abort();
    await second.disconnect();
    // a1 + COMMIT, a2 + ABORT, b1 + COMMIT, b2 + ABORT: the markers follow the EndTxn answers.
    await pollUntil(offsets, (o) => o.lso === 8 && o.end === 8, 30_000, 'every marker written');
    const stored = await storedBatches(broker.port, TOPIC);
    expect(stored.map((b) => [b.producerId === oldProducerId ? 'old' : b.producerId === rotated.producerId ? 'new' : b.producerId, b.producerEpoch, b.marker ?? b.values.join()])).toEqual([
      ['old', 32766, 'a1'],
      ['old', 32766, 'COMMIT'],
      ['old', 32766, 'a2'],
      ['old', 32767, 'ABORT'],
      ['new', 0, 'b1'],
      ['new', 0, 'COMMIT'],
      ['new', 0, 'b2'],
      ['new', 0, 'ABORT'],
    ]);

    // read_committed (kafkajs's default) up to a plain record produced last.
    const plain = kafka().producer();
    await plain.connect();
    await plain.send({ topic: TOPIC, acks: -1, messages: [{ value: 'end', partition: 0 }] });
    await plain.disconnect();
    const seen: string[] = [];
    const consumer = kafka().consumer({ groupId: 'rot-kafkajs-reader', maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await pollUntil(async () => seen, (s) => s.includes('end'), 60_000, 'read_committed up to the last record');
    } finally {
      await consumer.disconnect();
    }
    expect(seen).toEqual(['a1', 'b1', 'end']);

    // The new producer id's epochs go on as any: the next InitProducerId is an ordinary bump.
    const third = kafka().producer({ transactionalId: ID, idempotent: true, maxInFlightRequests: 1 });
    await third.connect();
    await (await third.transaction()).abort();
    await third.disconnect();
    expect(await describeId()).toMatchObject({ producerId: rotated.producerId, producerEpoch: 1 });
  }, 180_000);
});
