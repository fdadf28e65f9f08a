// ListOffsets by time, as Apache Kafka 3.9 answers it (run here on the kts coordinator as oracle):
//  - batches written as sarama 1.22 writes them, max timestamp -1 in the header while the records
//    carry real timestamps: Kafka recomputes the batch's max timestamp from its records on append
//    (LogValidator) and stores it in the header, so lookups by time find the records;
//  - ListOffsets v0 (kafka-node's Offset.fetch, the seed article's client): Kafka's legacy answer
//    from segment modification times, `[]` for a time before any data.
// The kts answers are checked against fixed expectations; the same requests go to Kafka 3.9 when its
// jars are there (always in CI) and must get the same answers.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_3, kafkaLib, type RealKafka, startRealKafka } from '../../helpers/real-kafka.js';
import { type SpawnedCoordinator, spawnCoordinator } from '../../helpers/zookeeper.js';
import { BatchOffset, buildRecordBatch, crc32c } from '../../../src/protocol/records/index.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkaNode = require('kafka-node');

const T0 = Date.UTC(2026, 0, 1); // well in the past: retention is off on these topics
const NO_RETENTION = [{ name: 'retention.ms', value: '-1' }];

/** A magic-2 batch as sarama 1.22 sends it: the records' own timestamps, max timestamp -1 in the header. */
function saramaBatch(timestamps: number[], compression = 0): Buffer {
  const batch = buildRecordBatch(timestamps.map((timestamp, i) => ({ key: null, value: `v${i}`, timestamp })), { compression });
  batch.writeBigInt64BE(-1n, BatchOffset.maxTimestamp);
  batch.writeUInt32BE(crc32c(batch, BatchOffset.attributes, batch.length), BatchOffset.crc);
  return batch;
}

async function createTopic(raw: RawClient, name: string): Promise<void> {
  const res = await raw.request(19, 4, {
    topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: NO_RETENTION }],
    timeoutMs: 30000,
    validateOnly: false,
  });
  expect(res.topics[0].errorCode).toBe(0);
}

async function produce(raw: RawClient, topic: string, batch: Buffer): Promise<number> {
  // Produce v3: what sarama 1.22 uses against Kafka 0.11+.
  for (;;) {
    const res = await raw.request(0, 3, { transactionalId: null, acks: -1, timeoutMs: 10000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
    const p = res.responses[0].partitionResponses[0];
    // A just-created partition may not have its leader yet (Kafka): try again.
    if (p.errorCode === 6 || p.errorCode === 3) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    expect(p.errorCode).toBe(0);
    return Number(p.baseOffset);
  }
}

async function byTime(raw: RawClient, topic: string, timestamp: number, version = 1): Promise<[number, number]> {
  const res = await raw.request(2, version, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }] });
  const p = res.topics[0].partitions[0];
  expect(p.errorCode).toBe(0);
  return [Number(p.offset), Number(p.timestamp)];
}

async function v0(raw: RawClient, topic: string, timestamp: number, maxNumOffsets: number): Promise<number[]> {
  const res = await raw.request(2, 0, { replicaId: -1, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp, maxNumOffsets }] }] });
  const p = res.topics[0].partitions[0];
  expect(p.errorCode).toBe(0);
  return p.oldStyleOffsets.map(Number);
}

/** The max timestamp in the header of the first batch a Fetch v4 returns from `offset`. */
async function storedMaxTimestamp(raw: RawClient, topic: string, offset: number): Promise<number> {
  const res = await raw.request(1, 4, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
  });
  const records: Buffer = res.responses[0].partitions[0].records;
  return Number(records.readBigInt64BE(BatchOffset.maxTimestamp));
}

/** kafka-node's Offset.fetch (ListOffsets v0), as the article's client asks. */
async function kafkaNodeOffsets(bootstrap: string, topic: string, time: number, maxNum: number): Promise<number[]> {
  const client = new kafkaNode.KafkaClient({ kafkaHost: bootstrap, connectTimeout: 10000, requestTimeout: 20000 });
  try {
    const offset = new kafkaNode.Offset(client);
    const data = await new Promise<any>((resolve, reject) => offset.fetch([{ topic, partition: 0, time, maxNum }], (err: unknown, d: unknown) => (err ? reject(err) : resolve(d))));
    return data[topic]['0'];
  } finally {
    await new Promise((r) => client.close(r));
  }
}

interface Answers {
  sarama: Record<string, unknown>;
  v0: Record<string, unknown>;
}

/** The same scenario against any broker; returns every answer. */
async function scenario(bootstrap: string, port: number): Promise<Answers> {
  const raw = await RawClient.connect(port);
  try {
    await createTopic(raw, 'sarama');
    expect(await produce(raw, 'sarama', saramaBatch([T0, T0 + 1000, T0 + 2000]))).toBe(0);
    expect(await produce(raw, 'sarama', saramaBatch([T0 + 5000, T0 + 4000, T0 + 6000], 1))).toBe(3);
    const sarama = {
      headerMaxTimestamps: [await storedMaxTimestamp(raw, 'sarama', 0), await storedMaxTimestamp(raw, 'sarama', 3)],
      'v1 T0+500': await byTime(raw, 'sarama', T0 + 500),
      'v1 T0+1500': await byTime(raw, 'sarama', T0 + 1500),
      'v1 T0+3000': await byTime(raw, 'sarama', T0 + 3000),
      'v1 T0+7000': await byTime(raw, 'sarama', T0 + 7000),
      'v7 max timestamp': await byTime(raw, 'sarama', -3, 7),
    };

    await createTopic(raw, 'legacy-empty');
    await createTopic(raw, 'legacy');
    await produce(raw, 'legacy', buildRecordBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }]));
    const future = Date.now() + 3_600_000;
    const answers: Record<string, unknown> = {};
    for (const topic of ['legacy', 'legacy-empty']) {
      answers[`${topic} before any data`] = await v0(raw, topic, 1000, 10);
      answers[`${topic} latest`] = await v0(raw, topic, -1, 10);
      answers[`${topic} earliest`] = await v0(raw, topic, -2, 10);
      answers[`${topic} future, max 10`] = await v0(raw, topic, future, 10);
      answers[`${topic} future, max 1`] = await v0(raw, topic, future, 1);
      answers[`${topic} kafka-node before any data`] = await kafkaNodeOffsets(bootstrap, topic, 1000, 1);
      answers[`${topic} kafka-node latest`] = await kafkaNodeOffsets(bootstrap, topic, -1, 1);
    }
    return { sarama, v0: answers };
  } finally {
    raw.close();
  }
}

const EXPECTED: Answers = {
  sarama: {
    headerMaxTimestamps: [T0 + 2000, T0 + 6000],
    'v1 T0+500': [1, T0 + 1000],
    'v1 T0+1500': [2, T0 + 2000],
    'v1 T0+3000': [3, T0 + 5000],
    'v1 T0+7000': [-1, -1],
    'v7 max timestamp': [5, T0 + 6000],
  },
  v0: {
    'legacy before any data': [],
    'legacy latest': [3, 0],
    'legacy earliest': [0],
    'legacy future, max 10': [3, 0],
    'legacy future, max 1': [3],
    'legacy kafka-node before any data': [],
    'legacy kafka-node latest': [3],
    'legacy-empty before any data': [],
    'legacy-empty latest': [0],
    'legacy-empty earliest': [0],
    'legacy-empty future, max 10': [0],
    'legacy-empty future, max 1': [0],
    'legacy-empty kafka-node before any data': [],
    'legacy-empty kafka-node latest': [0],
  },
};

describe('ListOffsets by time: kts', () => {
  let broker: SpawnedBroker;
  let answers: Answers;
  beforeAll(async () => {
    broker = await spawnBroker();
    answers = await scenario(broker.bootstrap, broker.port);
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it("finds sarama 1.22's records (header max timestamp -1) by their own timestamps", () => {
    expect(answers.sarama).toEqual(EXPECTED.sarama);
  });

  it("answers ListOffsets v0 (raw and kafka-node's Offset.fetch) with Kafka's legacy offsets", () => {
    expect(answers.v0).toEqual(EXPECTED.v0);
  });
});

describe.skipIf(!kafkaLib(KAFKA_3))('ListOffsets by time: Apache Kafka 3.9 gives the same answers', () => {
  let zk: SpawnedCoordinator;
  let kafka: RealKafka;
  let answers: Answers;
  beforeAll(async () => {
    zk = await spawnCoordinator();
    kafka = await startRealKafka(KAFKA_3, { zookeeper: `127.0.0.1:${zk.port}/kafka` });
    answers = await scenario(kafka.bootstrap, kafka.port);
  }, 240_000);
  afterAll(async () => {
    await kafka?.stop();
    await zk?.stop();
  }, 60_000);

  it('sarama batches', () => {
    expect(answers.sarama).toEqual(EXPECTED.sarama);
  });

  it('ListOffsets v0', () => {
    expect(answers.v0).toEqual(EXPECTED.v0);
  });
});
