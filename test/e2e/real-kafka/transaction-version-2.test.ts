// Transaction version 2 (KIP-890 part 2) with the Java client 4.4, on kts and on a real Kafka 4.4:
// kts advertises the finalized feature transaction.version=2, so Kafka's TransactionalMessageCopier
// (consume-transform-produce, its offsets in each transaction) uses Produce v12 (the leader adds
// the partition), TxnOffsetCommit v5 (the group coordinator adds the offsets partition) and EndTxn
// v5 (the epoch bumped at every commit), and no AddPartitionsToTxn/AddOffsetsToTxn. The output
// partition holds the same records and markers on both brokers: each transaction's records at epoch n and its
// COMMIT marker at epoch n + 1 (the epoch the next transaction writes with).
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, startBroker, type BrokerHandle } from '../../../src/index.js';
import { KAFKA_4, kafkaLib, runKafkaTool, startRealKafka, waitForTopicLeaders, type RealKafka } from '../../helpers/real-kafka.js';
import { RawClient } from '../../helpers/raw-client.js';
import { pollUntil, storedBatches } from '../transactions/support.js';

const COUNT = 100;

describe.skipIf(!kafkaLib(KAFKA_4))('transaction version 2: the Java client 4.4 on kts and on Kafka 4.4', () => {
  let kts: BrokerHandle;
  let kafka: RealKafka;
  beforeAll(async () => {
    [kts, kafka] = await Promise.all([startBroker({ port: 0, storage: 'memory', recordRequests: 100_000 }), startRealKafka(KAFKA_4)]);
    for (const bootstrap of [kts.bootstrap, kafka.bootstrap]) {
      const client = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10 } });
      const admin = client.admin();
      await admin.connect();
      const topics = [{ topic: 'tv2-in', numPartitions: 1 }, { topic: 'tv2-out', numPartitions: 1 }];
      await admin.createTopics({ topics });
      await waitForTopicLeaders(bootstrap, topics);
      await admin.disconnect();
      const producer = client.producer();
      await producer.connect();
      await producer.send({ topic: 'tv2-in', messages: Array.from({ length: COUNT }, (_, i) => ({ value: `in-${i}`, partition: 0 })) });
      await producer.disconnect();
    }
  }, 180_000);
  afterAll(async () => {
    await Promise.all([kts?.close(), kafka?.stop()]);
  });

  it('ApiVersions finalizes transaction.version 2 on both', async () => {
    for (const port of [kts.port, kafka.port]) {
      const raw = await RawClient.connect(port);
      try {
        const res = await raw.request(18, 4, { clientSoftwareName: 'tv2-test', clientSoftwareVersion: '1' });
        expect(res.finalizedFeatures.find((f: { name: string }) => f.name === 'transaction.version')).toMatchObject({ minVersionLevel: 2, maxVersionLevel: 2 });
        expect(res.supportedFeatures.find((f: { name: string }) => f.name === 'transaction.version')).toMatchObject({ minVersion: 0, maxVersion: 2 });
      } finally {
        raw.close();
      }
    }
  });

  it('the copier commits 10 transactions of 10 with TV2 requests; the output holds the same records and markers, epoch bumped per transaction', async () => {
    const copy = async (bootstrap: string) => {
      const r = await runKafkaTool(
        KAFKA_4,
        'transactional-message-copier',
        ['--broker-list', bootstrap, '--input-topic', 'tv2-in', '--input-partition', '0', '--output-topic', 'tv2-out', '--transactional-id', 'tv2-copier',
          '--consumer-group', 'tv2-copier', '--transaction-size', '10', '--use-group-metadata'],
        { timeoutMs: 180_000 },
      );
      expect(r.code, r.stdout.slice(-2000) + r.stderr.slice(-2000)).toBe(0);
    };
    await Promise.all([copy(kts.bootstrap), copy(kafka.bootstrap)]);

    const requests = kts.requests();
    const count = (apiKey: number) => requests.filter((r) => r.apiKey === apiKey);
    expect(count(ApiKey.AddPartitionsToTxn)).toEqual([]);
    expect(count(ApiKey.AddOffsetsToTxn)).toEqual([]);
    const endTxns = count(ApiKey.EndTxn);
    expect(endTxns.length).toBe(COUNT / 10);
    expect(endTxns.every((r) => r.apiVersion === 5 && r.errorCode === 0)).toBe(true);
    // Each EndTxn answers the bumped epoch the client carries on with.
    expect(endTxns.map((r) => (r.response as { producerEpoch: number }).producerEpoch)).toEqual(Array.from({ length: COUNT / 10 }, (_, i) => i + 1));
    const txnProduces = count(ApiKey.Produce).filter((r) => (r.request as { transactionalId: string | null }).transactionalId === 'tv2-copier');
    expect(txnProduces.length).toBeGreaterThan(0);
    expect(txnProduces.every((r) => r.apiVersion >= 12)).toBe(true);
    const offsetCommits = count(ApiKey.TxnOffsetCommit);
    expect(offsetCommits.length).toBe(COUNT / 10);
    // Kafka 4.4's TxnOffsetCommit v6 names the input topic by id (as Kafka 4.4 serves it), answered by id.
    expect(offsetCommits.map((r) => [r.apiVersion, r.errorCode])).toEqual(offsetCommits.map(() => [6, 0]));
    const metadata = await RawClient.connect(kts.port);
    const inId = (await metadata.request(3, 12, { topics: [{ name: 'tv2-in', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).topics[0].topicId;
    metadata.close();
    for (const r of offsetCommits) {
      expect((r.request as { topics: { topicId: string }[] }).topics.map((t) => t.topicId)).toEqual([inId]);
      expect((r.response as { topics: { topicId: string }[] }).topics.map((t) => t.topicId)).toEqual([inId]);
    }

    // Record by record (how the client splits them into batches depends on its timing).
    const shape = (batches: Awaited<ReturnType<typeof storedBatches>>) => batches.flatMap((b) => (b.marker ? [`${b.producerEpoch} ${b.marker}`] : b.values.map((v) => `${b.producerEpoch} ${v}`)));
    const [ours, theirs] = await Promise.all([kts.port, kafka.port].map((port) => pollUntil(() => storedBatches(port, 'tv2-out'), (b) => b.filter((x) => x.marker === 'COMMIT').length === COUNT / 10, 30_000, 'ten COMMIT markers')));
    expect(shape(ours)).toEqual(shape(theirs));
    expect(ours.filter((b) => b.marker).map((b) => b.producerEpoch)).toEqual(Array.from({ length: COUNT / 10 }, (_, i) => i + 1));

    // read_committed sees every input record once; the group's offset is the input's end.
    for (const bootstrap of [kts.bootstrap]) {
      const client = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING });
      const seen: string[] = [];
      const consumer = client.consumer({ groupId: 'tv2-reader', maxWaitTimeInMs: 200 });
      await consumer.connect();
      await consumer.subscribe({ topic: 'tv2-out', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await pollUntil(async () => seen.length, (n) => n >= COUNT, 60_000, 'tv2-out read_committed');
      await consumer.disconnect();
      expect(seen).toEqual(Array.from({ length: COUNT }, (_, i) => `in-${i}`));
      const admin = client.admin();
      await admin.connect();
      const offsets = await admin.fetchOffsets({ groupId: 'tv2-copier', topics: ['tv2-in'] });
      await admin.disconnect();
      expect(offsets[0].partitions[0].offset).toBe(String(COUNT));
    }
  }, 300_000);

  it('TxnOffsetCommit v6 with a topic id the broker does not know: the same answer from kts as from Kafka 4.4', async () => {
    const answers = [];
    for (const port of [kts.port, kafka.port]) {
      const raw = await RawClient.connect(port);
      try {
        const init = await raw.request(22, 5, { transactionalId: 'v6-probe', transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
        expect(init.errorCode).toBe(0);
        const commit = async (topicId: string) =>
          raw.request(28, 6, {
            transactionalId: 'v6-probe',
            groupId: 'v6-group',
            producerId: init.producerId,
            producerEpoch: init.producerEpoch,
            generationId: -1,
            memberId: '',
            groupInstanceId: null,
            topics: [{ topicId, partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: '' }] }],
          });
        const unknown = await commit('AAAAAAAAAAAAAAAAAAAAAQ');
        answers.push(unknown.topics.map((t: { topicId: string; partitions: unknown[] }) => [t.topicId, t.partitions]));
      } finally {
        raw.close();
      }
    }
    expect(answers[0]).toEqual([['AAAAAAAAAAAAAAAAAAAAAQ', [{ partitionIndex: 0, errorCode: 100 }]]]);
    expect(answers[0]).toEqual(answers[1]);
  }, 60_000);
});
