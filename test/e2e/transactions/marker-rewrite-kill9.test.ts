// kill -9 between a transaction's markers and its Complete state. The coordinator finds the
// transaction prepared in __transaction_state after the restart and writes its markers again, as
// Kafka 4.4 does (TransactionStateManager's load hands PrepareCommit/PrepareAbort to the marker
// channel; the partition accepts the second marker: at the same epoch for transaction versions 0-1,
// and for version 2 as KAFKA-19999's retry of a marker already written). So the partition holds a
// duplicate marker per transaction; what matters is that it changes nothing a reader sees: the LSO
// stays at the log end, read_committed sees each committed record once and no aborted one, the
// aborted-transactions list has the aborted transaction once, and the ids carry on.
//
// The crash point is reached with a fault hook (KTS_FAULT_TXN_HALT_BEFORE_COMPLETE): the coordinator
// writes the markers of the ids it names and stops before their Complete state; the test kills the
// broker once it has said so and the markers are readable (LSO at the log end).
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { pollUntil, RawTxnClient, stableAndEndOffsets, storedBatches } from './support.js';

const TOPIC = 'rw';
const COMMIT_ID = 'rw-commit';
const ABORT_ID = 'rw-abort';
const TV2_ID = 'rw-tv2';

describe('markers written again after a kill -9 before the Complete state', () => {
  let broker: SpawnedBroker;
  const kafka = () => new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100 } });

  beforeAll(async () => {
    broker = await spawnBroker({ env: { KTS_FAULT_TXN_HALT_BEFORE_COMPLETE: [COMMIT_ID, ABORT_ID, TV2_ID].join(',') } });
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
    await admin.disconnect();
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  const offsets = () => stableAndEndOffsets(broker.port, TOPIC);

  /** A read_committed Fetch from offset 0: the aborted transactions it lists. */
  async function abortedTransactions(): Promise<{ producerId: number; firstOffset: number }[]> {
    const raw = await RawClient.connect(broker.port);
    try {
      const res = await raw.request(1, 11, fetchBody(TOPIC, [{ partition: 0, offset: 0 }], { isolationLevel: 1 }));
      const p = res.responses[0].partitions[0];
      expect(p.errorCode).toBe(0);
      return (p.abortedTransactions ?? []).map((a: { producerId: bigint | number; firstOffset: bigint | number }) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) }));
    } finally {
      raw.close();
    }
  }

  /** What a read_committed consumer (kafkajs's default) reads from the start up to `last`, a plain record produced last. */
  async function readCommittedUntil(last: string): Promise<string[]> {
    const plain = kafka().producer();
    await plain.connect();
    await plain.send({ topic: TOPIC, acks: -1, messages: [{ value: last, partition: 0 }] });
    await plain.disconnect();
    const seen: string[] = [];
    const consumer = kafka().consumer({ groupId: `rw-${last}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await pollUntil(async () => seen, (s) => s.includes(last), 60_000, `read_committed up to ${last}`);
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }

  async function kafkajsTransaction(transactionalId: string, values: string[], commit: boolean): Promise<void> {
    const producer = kafka().producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: TOPIC, messages: values.map((value) => ({ value, partition: 0 })) });
    if (commit) await txn.commit();
    else await txn.abort();
    await producer.disconnect();
  }

  it('LSO, read_committed records and aborted transactions unchanged by the second markers; the ids carry on', async () => {
    // Transaction versions 0-1 (kafkajs: AddPartitionsToTxn, EndTxn v3): a commit and an abort.
    await kafkajsTransaction(COMMIT_ID, ['c1', 'c2', 'c3'], true);
    await kafkajsTransaction(ABORT_ID, ['a1', 'a2'], false);
    // Transaction version 2 (Produce v12 adds the partition, EndTxn v5 bumps the epoch).
    const raw = await RawTxnClient.connect(broker.port);
    let tv2ProducerId: number;
    try {
      const init = await raw.initRetrying(TV2_ID, 60_000);
      expect(init.errorCode).toBe(0);
      tv2ProducerId = Number(init.producerId);
      const records = buildRecordBatch(['t1', 't2'].map((value) => ({ value })), { producerId: tv2ProducerId, producerEpoch: init.producerEpoch, baseSequence: 0, transactional: true });
      const produced = await raw.raw.request(0, 12, { transactionalId: TV2_ID, acks: -1, timeoutMs: 30_000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records }] }] });
      expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
      const ended = await raw.raw.request(26, 5, { transactionalId: TV2_ID, producerId: tv2ProducerId, producerEpoch: init.producerEpoch, committed: true });
      expect(ended.errorCode).toBe(0);
      expect(ended.producerEpoch).toBe(init.producerEpoch + 1);
    } finally {
      raw.close();
    }

    // The crash point: every id said its markers are written, and they are (LSO at the log end: 7
    // records and 3 markers), while each id is still prepared in __transaction_state.
    await pollUntil(async () => broker.output(), (out) => [COMMIT_ID, ABORT_ID, TV2_ID].every((id) => out.includes(`markers of ${id} are written`)), 30_000, 'the fault hook at every id');
    expect(await offsets()).toEqual({ lso: 10, end: 10 });
    const describer = await RawTxnClient.connect(broker.port);
    try {
      expect((await describer.describe(COMMIT_ID)).transactionState).toBe('PrepareCommit');
      expect((await describer.describe(ABORT_ID)).transactionState).toBe('PrepareAbort');
      expect((await describer.describe(TV2_ID)).transactionState).toBe('PrepareCommit');
    } finally {
      describer.close();
    }
    const before = await storedBatches(broker.port, TOPIC);
    await broker.kill9();

    // Restarted without the hook: the prepared transactions complete.
    broker = await spawnBroker({ dataDir: broker.dataDir, port: broker.port });
    const states = await pollUntil(
      async () => {
        const c = await RawTxnClient.connect(broker.port);
        try {
          return await Promise.all([COMMIT_ID, ABORT_ID, TV2_ID].map(async (id) => (await c.describe(id)).transactionState));
        } finally {
          c.close();
        }
      },
      (s) => s.every((state) => state.startsWith('Complete')),
      60_000,
      'the prepared transactions completed after the restart',
    );
    expect(states).toEqual(['CompleteCommit', 'CompleteAbort', 'CompleteCommit']);

    // The markers again, one more per transaction (Kafka's behaviour), after what was there.
    const after = await storedBatches(broker.port, TOPIC);
    expect(after.slice(0, before.length)).toEqual(before);
    const added = after.slice(before.length);
    const markerOf = (b: { producerId: number; marker: string | null }) => `${b.producerId}:${b.marker}`;
    const producerOf = (values: string[]) => before.find((b) => b.values[0] === values[0])!.producerId;
    expect(added.map(markerOf).sort()).toEqual([`${producerOf(['c1'])}:COMMIT`, `${producerOf(['a1'])}:ABORT`, `${tv2ProducerId!}:COMMIT`].sort());
    // The second markers carry the epochs of the first ones (the TV2 one its bumped epoch).
    for (const b of added) expect(b.producerEpoch).toBe(before.find((x) => x.marker && x.producerId === b.producerId)!.producerEpoch);

    // Nothing a reader sees moved: LSO at the log end, the abort listed once, each committed record once.
    expect(await offsets()).toEqual({ lso: 13, end: 13 });
    expect(await abortedTransactions()).toEqual([{ producerId: producerOf(['a1']), firstOffset: 4 }]);
    expect(await readCommittedUntil('s1')).toEqual(['c1', 'c2', 'c3', 't1', 't2', 's1']);

    // The ids carry on: a new producer of each commits or aborts, and read_committed follows.
    await kafkajsTransaction(COMMIT_ID, ['c4'], true);
    await kafkajsTransaction(ABORT_ID, ['a3'], false);
    // (EndTxn is answered once the Prepare state is written; the markers follow.)
    await pollUntil(offsets, (o) => o.lso === 18 && o.end === 18, 30_000, 'the markers of the new transactions');
    expect(await readCommittedUntil('s2')).toEqual(['c1', 'c2', 'c3', 't1', 't2', 's1', 'c4', 's2']);
    expect((await abortedTransactions()).map((a) => a.firstOffset)).toEqual([4, 16]);
  }, 180_000);
});
