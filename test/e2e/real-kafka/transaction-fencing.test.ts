// Fencing an ongoing transaction on a broker with transaction.version 2 finalized, compared with
// Kafka 4.4: a transaction past its timeout, and one whose transactional id a new producer claims
// with InitProducerId. Kafka 4.4 ends a fenced transaction as its own version 2 end: the fence bumps
// the epoch and the abort bumps it again (the markers at epoch + 2), whatever the client's version.
// WriteTxnMarkers v2 (Kafka 4.4) names the transaction version of a marker: a version 2 marker must
// carry an epoch above the producer's current one in the partition (a stale second copy is refused).
// The same raw requests go to both brokers; the epochs, states and markers must match.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type BrokerHandle } from '../../../src/index.js';
import { KAFKA_4, kafkaLib, startRealKafka, waitForTopicLeaders, type RealKafka } from '../../helpers/real-kafka.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { pollUntil, RawTxnClient, storedBatches } from '../transactions/support.js';

const FAST_SWEEP = { 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200' };

describe.skipIf(!kafkaLib(KAFKA_4))('fencing a transaction with transaction version 2 finalized: kts as Kafka 4.4', () => {
  let kts: BrokerHandle;
  let kafka: RealKafka;
  beforeAll(async () => {
    [kts, kafka] = await Promise.all([startBroker({ port: 0, storage: 'memory', overrides: FAST_SWEEP }), startRealKafka(KAFKA_4, { props: FAST_SWEEP })]);
    for (const bootstrap of [kts.bootstrap, kafka.bootstrap]) {
      const admin = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      const topics = [{ topic: 'fenced', numPartitions: 4 }, { topic: 'markers', numPartitions: 1 }];
      await admin.createTopics({ topics });
      await waitForTopicLeaders(bootstrap, topics);
      await admin.disconnect();
    }
  }, 180_000);
  afterAll(async () => {
    await Promise.all([kts?.close(), kafka?.stop()]);
  });

  /** InitProducerId once the coordinator is ready (FindCoordinator creates __transaction_state). */
  async function init(raw: RawTxnClient, id: string, timeoutMs: number) {
    await pollUntil(() => raw.raw.request(10, 3, { key: id, keyType: 1 }), (r: any) => r.errorCode === 0, 60_000, 'FindCoordinator');
    // COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR, CONCURRENT_TRANSACTIONS: asked again.
    return pollUntil(() => raw.init(id, timeoutMs), (r) => ![14, 15, 16, 51].includes(r.errorCode), 60_000, `InitProducerId of ${id}`);
  }

  /**
   * Opens a transaction with a record in partition `partition` and returns its producer id: as a
   * transaction version 1 client (AddPartitionsToTxn v3, then Produce v8) or a version 2 one
   * (Produce v12: the leader adds the partition).
   */
  async function openTransaction(raw: RawTxnClient, id: string, timeoutMs: number, partition: number, version: 1 | 2, topic = 'fenced'): Promise<number> {
    const init0 = await init(raw, id, timeoutMs);
    expect(init0).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    const producerId = Number(init0.producerId);
    if (version === 1) {
      expect(await pollUntil(() => raw.addPartitions(id, producerId, 0, topic, [partition]), (c) => c[0] !== 51, 30_000, 'AddPartitionsToTxn')).toEqual([0]);
      expect((await raw.produce(id, producerId, 0, topic, partition, 0, ['open'])).errorCode).toBe(0);
    } else {
      const records = buildRecordBatch([{ value: 'open' }], { producerId, producerEpoch: 0, baseSequence: 0, transactional: true });
      const produce = () => raw.raw.request(0, 12, { transactionalId: id, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
      const res = await pollUntil(produce, (r: any) => r.responses[0].partitionResponses[0].errorCode !== 51, 30_000, 'Produce v12');
      expect(res.responses[0].partitionResponses[0].errorCode).toBe(0);
    }
    return producerId;
  }

  it.each([1, 2] as const)('transaction version %i: a transaction past its timeout is aborted and fenced, the same on both', async (version) => {
    const seen = [];
    const id = `timed-out-v${version}`;
    const partition = version === 1 ? 0 : 2;
    for (const port of [kts.port, kafka.port]) {
      const raw = await RawTxnClient.connect(port);
      try {
        const producerId = await openTransaction(raw, id, 1000, partition, version);
        const aborted = await pollUntil(() => raw.describe(id), (d) => d.transactionState === 'CompleteAbort', 60_000, 'the timeout abort');
        const batches = await pollUntil(() => storedBatches(port, 'fenced', partition), (b) => b.some((x) => x.marker), 10_000, 'the ABORT marker');
        const again = await init(raw, id, 1000);
        seen.push({
          state: aborted.transactionState,
          epoch: aborted.producerEpoch,
          batches: batches.map((b) => [b.producerEpoch, b.marker ?? b.values.join()]),
          zombieEnd: await raw.endTxn(id, producerId, 0, true),
          next: { errorCode: again.errorCode, sameProducerId: Number(again.producerId) === producerId, producerEpoch: again.producerEpoch },
        });
      } finally {
        raw.close();
      }
    }
    expect(seen[0]).toEqual(seen[1]);
  }, 120_000);

  it.each([1, 2] as const)('transaction version %i: a new producer claiming the transactional id fences the open transaction, the same on both', async (version) => {
    const seen = [];
    const id = `claimed-v${version}`;
    const partition = version === 1 ? 1 : 3;
    for (const port of [kts.port, kafka.port]) {
      const raw = await RawTxnClient.connect(port);
      try {
        const producerId = await openTransaction(raw, id, 60_000, partition, version);
        const first = await raw.init(id);
        const second = await init(raw, id, 60_000);
        const batches = await pollUntil(() => storedBatches(port, 'fenced', partition), (b) => b.some((x) => x.marker), 10_000, 'the ABORT marker');
        seen.push({
          first: first.errorCode,
          second: { errorCode: second.errorCode, sameProducerId: Number(second.producerId) === producerId, producerEpoch: second.producerEpoch },
          batches: batches.map((b) => [b.producerEpoch, b.marker ?? b.values.join()]),
          zombieEnd: await raw.endTxn(id, producerId, 0, true),
        });
      } finally {
        raw.close();
      }
    }
    expect(seen[0]).toEqual(seen[1]);
  }, 120_000);

  it('WriteTxnMarkers v2: a transaction version 2 marker at the epoch of an open transaction is refused, one at the same epoch after the transaction ended is a retry, as Kafka 4.4', async () => {
    const seen = [];
    for (const port of [kts.port, kafka.port]) {
      const raw = await RawTxnClient.connect(port);
      try {
        const producerId = await openTransaction(raw, 'marked', 60_000, 0, 2, 'markers');
        const marker = async (producerEpoch: number, transactionVersion: number, version = 2) => {
          const res = await raw.raw.request(27, version, {
            markers: [{ producerId, producerEpoch, transactionResult: true, coordinatorEpoch: 0, transactionVersion, topics: [{ name: 'markers', partitionIndexes: [0] }] }],
          });
          return res.markers[0].topics[0].partitions[0].errorCode;
        };
        const codes = [await marker(0, 2), await marker(0, 0), await marker(0, 0, 1), await marker(1, 2), await marker(1, 2)];
        // The client commits: the coordinator's own marker (epoch 1, version 2) meets the one written above.
        const end = await pollUntil(() => raw.raw.request(26, 5, { transactionalId: 'marked', producerId, producerEpoch: 0, committed: true }), (r: any) => r.errorCode !== 51, 30_000, 'EndTxn');
        const done = await pollUntil(() => raw.describe('marked'), (d) => d.transactionState === 'CompleteCommit', 30_000, 'CompleteCommit');
        const batches = await storedBatches(port, 'markers', 0);
        seen.push({
          codes,
          end: { errorCode: end.errorCode, producerEpoch: end.producerEpoch },
          done: { producerEpoch: done.producerEpoch },
          batches: batches.map((b) => [b.producerEpoch, b.marker ?? b.values.join()]),
        });
      } finally {
        raw.close();
      }
    }
    // Refused only while the transaction is open at that epoch; a second marker at the same epoch after it is a retry.
    expect(seen[0].codes).toEqual([47, 0, 0, 0, 0]);
    expect(seen[0]).toEqual(seen[1]);
  }, 120_000);
});
