// __consumer_offsets as Kafka 4.4 writes it: the same group operations on a live Kafka 4.4 and on
// kts (a classic group joined, synced and committing with kafkajs; a commit with a leader epoch and
// metadata, one with a retention time over OffsetCommit v2; an offset deleted; the group deleted),
// then Kafka's own DumpLogSegments --offsets-decoder reads both brokers' __consumer_offsets
// segments. The decoded keys and values (record versions, fields) must be the same, but for what
// differs by nature: timestamps, member ids, topic ids, positions and the CRC. Kafka 4.4 writes
// OffsetCommitValue v4 with the topic id (v1 for a commit with a retention time), and a classic
// group's first record when JoinGroup creates it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, runKafkaTool, startRealKafka, waitForTopicLeaders, type RealKafka } from '../../helpers/real-kafka.js';

interface Side {
  bootstrap: string;
  port: number;
  dataDir: string;
}

/** The same operations on one broker: what ends up in __consumer_offsets. */
async function exercise(side: Side): Promise<void> {
  const kafka = new Kafka({ clientId: 'offsets-log', brokers: [side.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] });
  await waitForTopicLeaders(side.bootstrap, [{ topic: 'orders', numPartitions: 2 }]);
  // Idempotent: a produce retried under load (seen on Kafka 4.4 at load ~15) must not store the
  // records twice, or the consumer below stops after 4 records with one partition unread and the two
  // brokers' commits differ.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: 'orders', messages: [0, 1, 2, 3].map((i) => ({ partition: i % 2, value: `v${i}` })) });
  await producer.disconnect();
  // A classic group: join, sync, commit what it read, leave.
  const consumer = kafka.consumer({ groupId: 'classic', sessionTimeout: 6000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  let read = 0;
  await consumer.run({ eachMessage: async () => void read++ });
  while (read < 4) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  // Simple commits (no group membership): with a leader epoch and metadata (v8), with a retention time (v2).
  const raw = await RawClient.connect(side.port);
  try {
    const coordinator = async (group: string) => {
      for (;;) {
        const found = await raw.request(10, 3, { key: group, keyType: 0 });
        if (found.errorCode === 0) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await coordinator('standalone');
    const v8 = await raw.request(8, 8, {
      groupId: 'standalone', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 2, committedLeaderEpoch: 0, committedMetadata: 'meta' }] }],
    });
    expect(v8.topics[0].partitions[0].errorCode).toBe(0);
    await coordinator('retained');
    const v2 = await raw.request(8, 2, {
      groupId: 'retained', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: 3_600_000,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 1, committedMetadata: null }] }],
    });
    expect(v2.topics[0].partitions[0].errorCode).toBe(0);
  } finally {
    raw.close();
  }
  await admin.deleteGroups(['standalone']);
  await admin.disconnect();
}

/** The topic's id on that broker (Metadata v12). */
async function topicId(port: number, topic: string): Promise<string> {
  const raw = await RawClient.connect(port);
  try {
    const md = await raw.request(3, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    return md.topics[0].topicId;
  } finally {
    raw.close();
  }
}

/** Kafka's decoder over every segment of the __consumer_offsets partitions that hold records. */
async function decoded(dataDir: string, ordersId: string): Promise<string[]> {
  const files = readdirSync(dataDir)
    .filter((d) => d.startsWith('__consumer_offsets-'))
    .flatMap((d) => readdirSync(join(dataDir, d)).filter((f) => f.endsWith('.log')).map((f) => join(dataDir, d, f)));
  const dump = await runKafkaTool(KAFKA_4, 'dump-log', ['--files', files.join(','), '--offsets-decoder', '--print-data-log'], { timeoutMs: 120_000 });
  expect(dump.code, dump.stderr).toBe(0);
  return dump.stdout
    .split('\n')
    .filter((l) => l.startsWith('| offset:') || l.includes(' key: '))
    .map((l) =>
      l
        .replace(/^.*?(key: )/, '$1')
        .replace(/"(commitTimestamp|expireTimestamp|currentStateTimestamp)":\d+/g, '"$1":T')
        .replace(/"(memberId|leader)":"[^"]*"/g, '"$1":M')
        // Each broker's own id of the topic 'orders'.
        .replaceAll(`"topicId":"${ordersId}"`, '"topicId":ORDERS'),
    )
    .sort();
}

describe.skipIf(!kafkaLib(KAFKA_4))('__consumer_offsets in the records Kafka 4.4 writes', () => {
  let kafka: RealKafka;
  let kts: SpawnedBroker;
  beforeAll(async () => {
    [kafka, kts] = await Promise.all([startRealKafka(KAFKA_4), spawnBroker()]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([kafka?.stop(), kts?.stop()]);
  });

  it("Kafka's DumpLogSegments decodes kts's records as it decodes Kafka's", async () => {
    await Promise.all([exercise(kafka), exercise(kts)]);
    const [theirs, ours] = await Promise.all([decoded(kafka.dataDir, await topicId(kafka.port, 'orders')), decoded(kts.dataDir, await topicId(kts.port, 'orders'))]);
    expect(ours).toEqual(theirs);
    expect(ours.filter((l) => l.includes('"version":"4"') && l.includes('"topicId":ORDERS'))).toHaveLength(3);
  }, 300_000);
});
