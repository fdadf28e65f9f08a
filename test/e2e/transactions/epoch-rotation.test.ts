// Transaction version 2 (KIP-890 part 2) at the end of a producer id's epochs, and across coordinator
// restarts. Every EndTxn v5 bumps the epoch, so a busy transactional producer reaches the last
// usable epoch (32766) after 32k transactions: that end writes its markers at epoch 32767 and
// answers a new producer id at epoch 0 (Kafka's rotation). What a retry needs (the previous and
// next producer ids, the client's transaction version) is in __transaction_state as Kafka 4.4
// writes it (TransactionLogValue v1's tagged fields), so a retried EndTxn is answered the same
// after a kill -9, and a TV2 transaction open or just ended at a crash completes after the restart.
// The epochs are driven near the limit with pipelined InitProducerId requests (each bumps by one).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionForGroup } from '../../../src/broker/groups/records.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { KAFKA_4, kafkaLib, runKafkaTool } from '../../helpers/real-kafka.js';
import { RawClient } from '../../helpers/raw-client.js';
import { driveEpoch, pollUntil, RawTxnClient, storedBatches } from './support.js';

const LAST_USABLE_EPOCH = 32766;
const CONCURRENT_TRANSACTIONS = 51;

async function produceV12(raw: RawClient, transactionalId: string, producerId: number, producerEpoch: number, topic: string, baseSequence: number, values: string[]): Promise<number> {
  const records = buildRecordBatch(values.map((value) => ({ value })), { producerId, producerEpoch, baseSequence, transactional: true });
  const res = await raw.request(0, 12, { transactionalId, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
  return res.responses[0].partitionResponses[0].errorCode;
}

type EndAnswer = { errorCode: number; producerId: number; producerEpoch: number };
async function endTxnV5(raw: RawClient, transactionalId: string, producerId: number, producerEpoch: number, committed: boolean): Promise<EndAnswer> {
  const r = await pollUntil(() => raw.request(26, 5, { transactionalId, producerId, producerEpoch, committed }), (a: any) => a.errorCode !== CONCURRENT_TRANSACTIONS, 30_000, 'EndTxn');
  return { errorCode: r.errorCode, producerId: Number(r.producerId), producerEpoch: r.producerEpoch };
}

async function readCommittedEnd(port: number, topic: string): Promise<number> {
  const raw = await RawClient.connect(port);
  try {
    const res = await raw.request(2, 5, { replicaId: -1, isolationLevel: 1, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
    return Number(res.topics[0].partitions[0].offset);
  } finally {
    raw.close();
  }
}

describe('transaction version 2: producer id rotation and restarts', () => {
  let broker: SpawnedBroker;
  let rawPid = 0;
  let javaPid = 0;
  // Small __transaction_state segments: Kafka's decoder then reads the last ones only, not 32k InitProducerIds.
  const overrides = { 'transaction.state.log.segment.bytes': '65536' };
  const restart = async () => {
    await broker.kill9();
    broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir, overrides });
  };

  beforeAll(async () => {
    broker = await spawnBroker({ overrides });
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: ['rot', 'mid', 'rot-in', 'rot-out'].map((topic) => ({ topic, numPartitions: 1 })) });
    await admin.disconnect();
    [rawPid, javaPid] = await Promise.all([driveEpoch(broker.port, 'rot-raw', LAST_USABLE_EPOCH - 1), driveEpoch(broker.port, 'rot-java', LAST_USABLE_EPOCH - 1)]);
  }, 180_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it('the end at epoch 32766 writes its markers at 32767 and answers a new producer id at epoch 0; its retry is answered the same, also after a kill -9', async () => {
    let raw = await RawClient.connect(broker.port);
    let next: EndAnswer;
    try {
      // 32765 -> 32766: an ordinary bump.
      expect(await produceV12(raw, 'rot-raw', rawPid, LAST_USABLE_EPOCH - 1, 'rot', 0, ['a'])).toBe(0);
      expect(await endTxnV5(raw, 'rot-raw', rawPid, LAST_USABLE_EPOCH - 1, true)).toEqual({ errorCode: 0, producerId: rawPid, producerEpoch: LAST_USABLE_EPOCH });
      // 32766: the last usable epoch ends with a rotation.
      expect(await produceV12(raw, 'rot-raw', rawPid, LAST_USABLE_EPOCH, 'rot', 1, ['b'])).toBe(0);
      next = await endTxnV5(raw, 'rot-raw', rawPid, LAST_USABLE_EPOCH, true);
      expect(next.errorCode).toBe(0);
      expect(next.producerId).not.toBe(rawPid);
      expect(next.producerEpoch).toBe(0);
      const batches = await pollUntil(() => storedBatches(broker.port, 'rot'), (b) => b.filter((x) => x.marker).length === 2, 10_000, 'two COMMIT markers');
      expect(batches.map((b) => [b.producerId, b.producerEpoch, b.marker ?? b.values.join()])).toEqual([
        [rawPid, 32765, 'a'],
        [rawPid, 32766, 'COMMIT'],
        [rawPid, 32766, 'b'],
        [rawPid, 32767, 'COMMIT'],
      ]);
      // The retry (the old producer id at 32766) gets the same answer.
      expect(await endTxnV5(raw, 'rot-raw', rawPid, LAST_USABLE_EPOCH, true)).toEqual(next);
      expect(await endTxnV5(raw, 'rot-raw', rawPid, LAST_USABLE_EPOCH, false)).toMatchObject({ errorCode: 48 });
    } finally {
      raw.close();
    }

    await restart();
    raw = await RawClient.connect(broker.port);
    const txn = await RawTxnClient.connect(broker.port);
    try {
      expect(await txn.describe('rot-raw')).toMatchObject({ errorCode: 0, transactionState: 'CompleteCommit', producerId: next.producerId, producerEpoch: 0 });
      expect(await endTxnV5(raw, 'rot-raw', rawPid, LAST_USABLE_EPOCH, true)).toEqual(next);
      // The new producer id carries on from epoch 0 (its sequence from 0).
      expect(await produceV12(raw, 'rot-raw', next.producerId, 0, 'rot', 0, ['c'])).toBe(0);
      expect(await endTxnV5(raw, 'rot-raw', next.producerId, 0, true)).toEqual({ errorCode: 0, producerId: next.producerId, producerEpoch: 1 });
      // The old producer id is fenced for good.
      expect((await endTxnV5(raw, 'rot-raw', rawPid, LAST_USABLE_EPOCH, true)).errorCode).toBe(49);
      await pollUntil(() => storedBatches(broker.port, 'rot'), (b) => b.filter((x) => x.marker).length === 3, 10_000, 'the third COMMIT marker');
      expect(await readCommittedEnd(broker.port, 'rot')).toBe(6);
    } finally {
      raw.close();
      txn.close();
    }
    if (!kafkaLib(KAFKA_4)) return;
    // Kafka 4.4's own decoder reads the rotation from kts's __transaction_state segments (TransactionLogValue v1).
    const dir = join(broker.dataDir, `__transaction_state-${partitionForGroup('rot-raw', 50)}`);
    const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort().slice(-2).map((f) => join(dir, f));
    const dump = await runKafkaTool(KAFKA_4, 'dump-log', ['--files', files.join(','), '--transaction-log-decoder', '--print-data-log'], { timeoutMs: 60_000 });
    expect(dump.code, dump.stderr).toBe(0);
    const states = dump.stdout
      .split('\n')
      .filter((line) => line.includes('"transactionalId":"rot-raw"'))
      .map((line) => JSON.parse(line.slice(line.indexOf('payload: ') + 'payload: '.length)).data);
    const strip = ({ transactionLastUpdateTimestampMs: _u, transactionStartTimestampMs: _s, transactionTimeoutMs: _t, ...rest }: Record<string, unknown>) => rest;
    const rotation = states.findIndex((v) => v.producerEpoch === 32767);
    expect(states.slice(rotation).map(strip)).toEqual([
      { producerId: rawPid, previousProducerId: rawPid, nextProducerId: next.producerId, producerEpoch: 32767, transactionStatus: 'PrepareCommit', transactionPartitions: [{ topic: 'rot', partitionIds: [0] }], clientTransactionVersion: 2 },
      { producerId: next.producerId, previousProducerId: rawPid, producerEpoch: 0, transactionStatus: 'CompleteCommit', transactionPartitions: [], clientTransactionVersion: 2 },
      { producerId: next.producerId, previousProducerId: next.producerId, producerEpoch: 0, transactionStatus: 'Ongoing', transactionPartitions: [{ topic: 'rot', partitionIds: [0] }], clientTransactionVersion: 2 },
      { producerId: next.producerId, previousProducerId: next.producerId, producerEpoch: 1, transactionStatus: 'PrepareCommit', transactionPartitions: [{ topic: 'rot', partitionIds: [0] }], clientTransactionVersion: 2 },
      { producerId: next.producerId, previousProducerId: next.producerId, producerEpoch: 1, transactionStatus: 'CompleteCommit', transactionPartitions: [], clientTransactionVersion: 2 },
    ]);
  }, 120_000);

  it('a kill -9 in the middle of a TV2 transaction, and just after its EndTxn answer: after the restart it commits, the retry is answered, nothing hangs', async () => {
    let raw = await RawClient.connect(broker.port);
    let txn = await RawTxnClient.connect(broker.port);
    const { producerId } = await txn.initRetrying('mid-1');
    const pid = Number(producerId);
    try {
      expect(await produceV12(raw, 'mid-1', pid, 0, 'mid', 0, ['open-at-crash'])).toBe(0);
    } finally {
      raw.close();
      txn.close();
    }
    await restart();
    raw = await RawClient.connect(broker.port);
    txn = await RawTxnClient.connect(broker.port);
    try {
      expect(await txn.describe('mid-1')).toMatchObject({ errorCode: 0, transactionState: 'Ongoing', producerId: pid, producerEpoch: 0, topics: [{ topic: 'mid', partitions: [0] }] });
      expect(await endTxnV5(raw, 'mid-1', pid, 0, true)).toEqual({ errorCode: 0, producerId: pid, producerEpoch: 1 });
      await pollUntil(() => readCommittedEnd(broker.port, 'mid'), (end) => end === 2, 10_000, 'the LSO past the COMMIT marker');
      // The next transaction, killed right after its EndTxn was answered.
      expect(await produceV12(raw, 'mid-1', pid, 1, 'mid', 0, ['ended-at-crash'])).toBe(0);
      expect(await endTxnV5(raw, 'mid-1', pid, 1, true)).toEqual({ errorCode: 0, producerId: pid, producerEpoch: 2 });
    } finally {
      raw.close();
      txn.close();
    }
    await restart();
    raw = await RawClient.connect(broker.port);
    txn = await RawTxnClient.connect(broker.port);
    try {
      await pollUntil(() => txn.describe('mid-1'), (d) => d.transactionState === 'CompleteCommit', 10_000, 'CompleteCommit');
      expect(await txn.describe('mid-1')).toMatchObject({ producerId: pid, producerEpoch: 2, topics: [] });
      // The client did not hear the answer and retries with the epoch it ended with.
      expect(await endTxnV5(raw, 'mid-1', pid, 1, true)).toEqual({ errorCode: 0, producerId: pid, producerEpoch: 2 });
      // A crash between the markers and CompleteCommit leaves PrepareCommit in the log: the restarted
      // coordinator writes the markers again (as Kafka's does), a second COMMIT at the same epoch.
      const batches = await pollUntil(() => storedBatches(broker.port, 'mid'), (b) => b.filter((x) => x.marker).length >= 2, 10_000, 'two COMMIT markers');
      expect(batches.slice(0, 4).map((b) => [b.producerEpoch, b.marker ?? b.values.join()])).toEqual([
        [0, 'open-at-crash'],
        [1, 'COMMIT'],
        [1, 'ended-at-crash'],
        [2, 'COMMIT'],
      ]);
      expect(batches.slice(4).map((b) => [b.producerEpoch, b.marker])).toEqual(batches.slice(4).map(() => [2, 'COMMIT']));
      expect(await readCommittedEnd(broker.port, 'mid')).toBe(batches.at(-1)!.lastOffset + 1);
      const open = await raw.request(66, 0, { stateFilters: ['Ongoing', 'PrepareCommit', 'PrepareAbort'], producerIdFilters: [] });
      expect(open.transactionStates).toEqual([]);
    } finally {
      raw.close();
      txn.close();
    }
  }, 120_000);

  it.skipIf(!kafkaLib(KAFKA_4))('the Java client 4.4 (TransactionalMessageCopier) carries on across the rotation: every record once, the new producer id from epoch 0', async () => {
    const COUNT = 30;
    const producer = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'rot-in', messages: Array.from({ length: COUNT }, (_, i) => ({ value: `in-${i}` })) });
    await producer.disconnect();
    // InitProducerId takes 'rot-java' from 32765 to 32766: the copier's first commit rotates.
    const r = await runKafkaTool(
      KAFKA_4,
      'transactional-message-copier',
      ['--broker-list', broker.bootstrap, '--input-topic', 'rot-in', '--input-partition', '0', '--output-topic', 'rot-out', '--transactional-id', 'rot-java',
        '--consumer-group', 'rot-java', '--transaction-size', '10', '--use-group-metadata'],
      { timeoutMs: 120_000 },
    );
    expect(r.code, r.stdout.slice(-2000) + r.stderr.slice(-2000)).toBe(0);
    const batches = await pollUntil(() => storedBatches(broker.port, 'rot-out'), (b) => b.filter((x) => x.marker === 'COMMIT').length === COUNT / 10, 30_000, 'three COMMIT markers');
    const markers = batches.filter((b) => b.marker);
    expect(markers.map((b) => b.producerEpoch)).toEqual([32767, 1, 2]);
    expect(markers[0].producerId).toBe(javaPid);
    const rotatedTo = markers[1].producerId;
    expect(rotatedTo).not.toBe(javaPid);
    expect(markers[2].producerId).toBe(rotatedTo);
    // Record by record: the first transaction under the old producer id at 32766, the next two under the new one at 0 and 1.
    const shape = batches.flatMap((b) => (b.marker ? [] : b.values.map((v) => [v, b.producerId === javaPid ? 'old' : 'new', b.producerEpoch])));
    expect(shape).toEqual(Array.from({ length: COUNT }, (_, i) => [`in-${i}`, i < 10 ? 'old' : 'new', i < 10 ? 32766 : i < 20 ? 0 : 1]));
    expect(await readCommittedEnd(broker.port, 'rot-out')).toBe(COUNT + COUNT / 10);
  }, 180_000);
});
