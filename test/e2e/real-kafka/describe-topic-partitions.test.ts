// DescribeTopicPartitions (API 75), which Kafka 4.x's kafka-topics --describe uses: Kafka 4.4's tool
// against kts prints what `kts topics --describe` prints, with the (empty) ELR lists of a broker
// that serves the API; raw requests page through partitions with Kafka's cursor, compared with a
// real Kafka 4.4 given the same topics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, type RealKafka, runKafkaTool, startRealKafka } from '../../helpers/real-kafka.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { kts } from '../cli/support.js';

const TOPICS: [string, number][] = [
  ['gamma', 1],
  ['alpha', 3],
  ['beta', 2],
];

async function createTopics(port: number): Promise<void> {
  const raw = await RawClient.connect(port);
  try {
    const res = await raw.request(19, 4, {
      topics: TOPICS.map(([name, numPartitions]) => ({ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] })),
      timeoutMs: 30000,
      validateOnly: false,
    });
    expect(res.topics.map((t: { errorCode: number }) => t.errorCode)).toEqual([0, 0, 0]);
  } finally {
    raw.close();
  }
}

type Cursor = { topicName: string; partitionIndex: number } | null;

/** Every page of DescribeTopicPartitions with this limit: [topic, partitions, error] per page, and the cursors. */
async function pages(port: number, names: string[], limit: number, first: Cursor = null) {
  const raw = await RawClient.connect(port);
  try {
    const out: { topics: [string, number[], number][]; nextCursor: Cursor }[] = [];
    let cursor = first;
    do {
      const res = await raw.request(75, 0, { topics: names.map((name) => ({ name })), responsePartitionLimit: limit, cursor });
      cursor = res.nextCursor ? { topicName: res.nextCursor.topicName, partitionIndex: res.nextCursor.partitionIndex } : null;
      out.push({
        topics: res.topics.map((t: any) => [t.name, t.partitions.map((p: any) => p.partitionIndex), t.errorCode]),
        nextCursor: cursor,
      });
      for (const t of res.topics) {
        for (const p of t.partitions) {
          expect(p.eligibleLeaderReplicas).toEqual([]);
          expect(p.lastKnownElr).toEqual([]);
          expect(p.isrNodes).toEqual(p.replicaNodes);
        }
      }
    } while (cursor && out.length < 20);
    return out;
  } finally {
    raw.close();
  }
}

async function scenarios(port: number) {
  return {
    'all, limit 2': await pages(port, [], 2),
    'all, limit 3': await pages(port, [], 3),
    'named with an unknown one, limit 2': await pages(port, ['beta', 'nope', 'alpha'], 2),
    'named, from a cursor': await pages(port, ['alpha', 'gamma'], 10, { topicName: 'alpha', partitionIndex: 1 }),
    'a cursor naming a topic not asked for': await pages(port, ['alpha'], 10, { topicName: 'beta', partitionIndex: 0 }),
  };
}

const EXPECTED = {
  'all, limit 2': [
    { topics: [['alpha', [0, 1], 0]], nextCursor: { topicName: 'alpha', partitionIndex: 2 } },
    { topics: [['alpha', [2], 0], ['beta', [0], 0]], nextCursor: { topicName: 'beta', partitionIndex: 1 } },
    { topics: [['beta', [1], 0], ['gamma', [0], 0]], nextCursor: null },
  ],
  'all, limit 3': [
    { topics: [['alpha', [0, 1, 2], 0]], nextCursor: { topicName: 'beta', partitionIndex: 0 } },
    { topics: [['beta', [0, 1], 0], ['gamma', [0], 0]], nextCursor: null },
  ],
  'named with an unknown one, limit 2': [
    { topics: [['alpha', [0, 1], 0]], nextCursor: { topicName: 'alpha', partitionIndex: 2 } },
    { topics: [['alpha', [2], 0], ['beta', [0], 0]], nextCursor: { topicName: 'beta', partitionIndex: 1 } },
    { topics: [['beta', [1], 0], ['nope', [], 3]], nextCursor: null },
  ],
  'named, from a cursor': [{ topics: [['alpha', [1, 2], 0], ['gamma', [0], 0]], nextCursor: null }],
  'a cursor naming a topic not asked for': [{ topics: [['alpha', [], 42]], nextCursor: null }],
};

describe('DescribeTopicPartitions on kts', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    broker = await spawnBroker();
    await createTopics(broker.port);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("pages through partitions with Kafka's cursor", async () => {
    expect(await scenarios(broker.port)).toEqual(EXPECTED);
  });

  it.skipIf(!kafkaLib(KAFKA_4))("Kafka 4.4's kafka-topics --describe prints what kts topics --describe prints", async () => {
    for (const args of [['--describe'], ['--describe', '--topic', 'alpha'], ['--describe', '--topic', 'alpha,gamma'], ['--describe', '--partition-size-limit-per-response', '1']]) {
      const theirs = await runKafkaTool(KAFKA_4, 'topics', ['--bootstrap-server', broker.bootstrap, ...args]);
      const ours = await kts(['topics', '--bootstrap-server', broker.bootstrap, ...args.filter((a, i, all) => a !== '--partition-size-limit-per-response' && all[i - 1] !== '--partition-size-limit-per-response')]);
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(theirs.stdout).toBe(ours.stdout);
      expect(theirs.stdout).toContain('\tElr: \tLastKnownElr: \n');
    }
  }, 120_000);
});

describe.skipIf(!kafkaLib(KAFKA_4))('DescribeTopicPartitions on Apache Kafka 4.4 (the oracle)', () => {
  let kafka: RealKafka;
  beforeAll(async () => {
    kafka = await startRealKafka(KAFKA_4);
    await createTopics(kafka.port);
    await waitFor('leaders of the new topics', async () => ((await pages(kafka.port, [], 100))[0].topics.length === 3 ? true : null));
  }, 180_000);
  afterAll(async () => {
    await kafka?.stop();
  }, 60_000);

  it('answers the same pages', async () => {
    expect(await scenarios(kafka.port)).toEqual(EXPECTED);
  });
});
