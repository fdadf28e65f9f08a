// ListOffsets with timestamp -3 (KIP-734, `get-offsets --time -3`), as Apache Kafka 4.4 answers it,
// on the same produced batches: CreateTime records with timestamps out of order within batches,
// across batches (ties: the first record wins), compressed batches and several segments (rolled
// by segment.ms in record time and by segment.bytes); records without a timestamp (-1), alone
// (Kafka answers the first record, with timestamp -1) or among timestamped ones; LogAppendTime;
// after delete-records. kts's answers are fixed expectations, checked again after a clean restart
// and after SIGKILL; Kafka 4.4 must give the same (always in CI).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';

const T0 = Date.UTC(2026, 0, 1); // in the past: retention is off on these topics
const GZIP = 1;
const BIG = 'x'.repeat(700_000); // two of these do not fit in one 1 MiB segment

type Answer = [offset: number, timestamp: number | 'append time'];

async function produce(raw: RawClient, topic: string, batch: Buffer): Promise<number> {
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

/** ListOffsets v7 at -3: [offset, timestamp relative to T0 (-1 stays -1)]. */
async function maxTimestamp(raw: RawClient, topic: string, logAppendTime = false): Promise<Answer> {
  for (;;) {
    const res = await raw.request(2, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3 }] }] });
    const p = res.topics[0].partitions[0];
    if (p.errorCode === 6) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    expect(p.errorCode).toBe(0);
    const ts = Number(p.timestamp);
    return [Number(p.offset), logAppendTime && ts > 0 ? 'append time' : ts === -1 ? -1 : ts - T0];
  }
}

const batch = (timestamps: number[], compression = 0, value?: string) =>
  buildRecordBatch(timestamps.map((t, i) => ({ key: null, value: value ?? `v${i}`, timestamp: t === -1 ? -1 : T0 + t })), { compression });

async function createTopic(raw: RawClient, name: string, configs: Record<string, string> = {}): Promise<void> {
  const all = { 'retention.ms': '-1', ...configs };
  const res = await raw.request(19, 4, {
    topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: Object.entries(all).map(([n, value]) => ({ name: n, value })) }],
    timeoutMs: 30000,
    validateOnly: false,
  });
  expect(res.topics[0].errorCode).toBe(0);
}

// Timestamps relative to T0, codec, optional value; the answer after each produce.
const STEPS: [number[], number?, string?][] = [
  [[5000, 1000, 3000]],
  [[2000, 9000, 9000]], // the max moves to the middle of a batch: offset 4, the first of two
  [[9000, 100], GZIP], // a tie in a later (compressed) batch: still offset 4
  [[20000, 4000]], // 11 s after the first batch: a new segment (segment.ms 10 s)
  [[15000, 20000]], // a tie in the same segment: offset 8 stays
  [[31000]], // another segment
  [[40000], 0, BIG],
  [[1000], 0, BIG], // rolled by size: a later segment with a smaller max
  [[2000, 1500], GZIP],
  [[-1]], // no timestamp
  [[40000, 50000, 50000], GZIP],
];

interface Answers {
  steps: Answer[];
  noTimestamps: Answer[];
  mixed: Answer[];
  logAppendTime: Answer[];
  afterDeleteRecords: Answer;
}

async function scenario(port: number): Promise<Answers> {
  const raw = await RawClient.connect(port);
  try {
    await createTopic(raw, 'mt', { 'segment.ms': '10000', 'segment.bytes': '1048576' });
    const steps: Answer[] = [];
    for (const [timestamps, codec, value] of STEPS) {
      await produce(raw, 'mt', batch(timestamps, codec, value));
      steps.push(await maxTimestamp(raw, 'mt'));
    }
    await createTopic(raw, 'no-timestamps');
    const noTimestamps: Answer[] = [];
    for (const timestamps of [[-1, -1], [-1]]) {
      await produce(raw, 'no-timestamps', batch(timestamps));
      noTimestamps.push(await maxTimestamp(raw, 'no-timestamps'));
    }
    await createTopic(raw, 'mixed');
    const mixed: Answer[] = [];
    for (const timestamps of [[-1, 5000, -1], [3000, 5000]]) {
      await produce(raw, 'mixed', batch(timestamps));
      mixed.push(await maxTimestamp(raw, 'mixed'));
    }
    await createTopic(raw, 'append-time', { 'message.timestamp.type': 'LogAppendTime' });
    const logAppendTime: Answer[] = [];
    for (let i = 0; i < 3; i++) {
      await produce(raw, 'append-time', batch([9000, 1000]));
      logAppendTime.push(await maxTimestamp(raw, 'append-time', true));
      // Each batch is stamped with the broker's clock: two in one millisecond tie, and the first wins
      // (as in Kafka), so the next produce waits for the clock to move past this batch's stamp.
      const stamped = Date.now();
      while (Date.now() <= stamped) await new Promise((r) => setTimeout(r, 1));
    }
    await createTopic(raw, 'deleted');
    await produce(raw, 'deleted', batch([1000, 9000, 2000]));
    await produce(raw, 'deleted', batch([3000, 4000]));
    const d = await raw.request(21, 1, { topics: [{ name: 'deleted', partitions: [{ partitionIndex: 0, offset: 3 }] }], timeoutMs: 10000 });
    expect(d.topics[0].partitions[0].errorCode).toBe(0);
    return { steps, noTimestamps, mixed, logAppendTime, afterDeleteRecords: await maxTimestamp(raw, 'deleted') };
  } finally {
    raw.close();
  }
}

const EXPECTED: Answers = {
  steps: [[0, 5000], [4, 9000], [4, 9000], [8, 20000], [8, 20000], [12, 31000], [13, 40000], [13, 40000], [13, 40000], [13, 40000], [19, 50000]],
  noTimestamps: [[0, -1], [0, -1]],
  mixed: [[1, 5000], [1, 5000]],
  logAppendTime: [[0, 'append time'], [2, 'append time'], [4, 'append time']],
  // Kafka answers from the segment's records, even below the log start offset (3).
  afterDeleteRecords: [1, 9000],
};

async function restartedAnswers(port: number): Promise<Answer[]> {
  const raw = await RawClient.connect(port);
  try {
    return [await maxTimestamp(raw, 'mt'), await maxTimestamp(raw, 'no-timestamps'), await maxTimestamp(raw, 'mixed'), await maxTimestamp(raw, 'deleted')];
  } finally {
    raw.close();
  }
}

describe('ListOffsets -3 (max timestamp): kts', () => {
  let broker: SpawnedBroker;
  let answers: Answers;
  beforeAll(async () => {
    broker = await spawnBroker();
    answers = await scenario(broker.port);
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  it('answers the first record with the largest timestamp, over batches and segments', () => {
    expect(answers.steps).toEqual(EXPECTED.steps);
    expect(answers.mixed).toEqual(EXPECTED.mixed);
    expect(answers.logAppendTime).toEqual(EXPECTED.logAppendTime);
    expect(answers.afterDeleteRecords).toEqual(EXPECTED.afterDeleteRecords);
  });

  it('answers the first record, timestamp -1, when no record has a timestamp', () => {
    expect(answers.noTimestamps).toEqual(EXPECTED.noTimestamps);
  });

  it('answers the same after a clean restart and after SIGKILL', async () => {
    const want = [EXPECTED.steps.at(-1), EXPECTED.noTimestamps.at(-1), EXPECTED.mixed.at(-1), EXPECTED.afterDeleteRecords];
    const { dataDir, port } = broker;
    await broker.stop();
    broker = await spawnBroker({ dataDir, port });
    expect(await restartedAnswers(broker.port)).toEqual(want);
    await broker.kill9();
    broker = await spawnBroker({ dataDir, port });
    expect(await restartedAnswers(broker.port)).toEqual(want);
  }, 60_000);
});

describe.skipIf(!kafkaLib(KAFKA_4))('ListOffsets -3 (max timestamp): Apache Kafka 4.4 gives the same answers', () => {
  let kafka: RealKafka;
  let answers: Answers;
  beforeAll(async () => {
    kafka = await startRealKafka(KAFKA_4);
    answers = await scenario(kafka.port);
  }, 240_000);
  afterAll(async () => {
    await kafka?.stop();
  }, 60_000);

  it('the same answers', () => {
    expect(answers).toEqual(EXPECTED);
  });
});
