// CreateTopics' timeoutMs on a single broker without ZooKeeper, against Kafka 4.4 (KRaft, one node):
// a timeout <= 0 is a deadline already passed, so every topic is answered REQUEST_TIMED_OUT with no
// message and none is created, validateOnly or not, even one that would be refused; a positive
// timeout creates (30 s here: Kafka's controller holds even 1 ms to it, and on a loaded machine
// 1 ms could pass before it looks). (kts's ZooKeeper mode answers as Kafka 3.9's: created, then REQUEST_TIMED_OUT;
// test/e2e/cluster/create-topics-timeout.test.ts.) Both brokers get the same requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';

const topic = (name: string, numPartitions = 1) => ({ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] });

const CASES = [
  { topic: topic('zero'), timeoutMs: 0, validateOnly: false },
  { topic: topic('negative'), timeoutMs: -1, validateOnly: false },
  { topic: topic('validate-zero'), timeoutMs: 0, validateOnly: true },
  { topic: topic('no-partitions', 0), timeoutMs: 0, validateOnly: false },
  { topic: topic('positive'), timeoutMs: 30_000, validateOnly: false },
];

/** Each case's answer (what both brokers must agree on) and whether the topic exists afterwards. */
async function answers(port: number): Promise<unknown[]> {
  const c = await RawClient.connect(port);
  try {
    const out: unknown[] = [];
    for (const k of CASES) {
      const res = await c.request(19, 5, { topics: [k.topic], timeoutMs: k.timeoutMs, validateOnly: k.validateOnly });
      const t = res.topics[0];
      out.push({ case: `${k.topic.name} timeoutMs=${k.timeoutMs}${k.validateOnly ? ' validateOnly' : ''}`, errorCode: t.errorCode, errorMessage: t.errorMessage, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor });
    }
    // Kafka's broker learns of a created topic from its controller a moment after the answer: the
    // topics that exist are read once the created one shows (or after 15 s).
    let exists: string[] = [];
    for (const t0 = Date.now(); !exists.includes('positive') && Date.now() - t0 < 15_000; await new Promise((r) => setTimeout(r, 100))) {
      const md = await c.request(3, 9, { topics: CASES.map((k) => ({ name: k.topic.name })), allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      exists = (md.topics as any[]).filter((t) => t.errorCode === 0).map((t) => t.name).sort();
    }
    out.push({ exists });
    return out;
  } finally {
    c.close();
  }
}

describe.skipIf(!kafkaLib(KAFKA_4))('CreateTopics timeoutMs on one broker: kts answers as Kafka 4.4', () => {
  let kafka: RealKafka;
  let kts: SpawnedBroker;
  beforeAll(async () => {
    [kafka, kts] = await Promise.all([startRealKafka(KAFKA_4), spawnBroker()]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([kafka?.stop(), kts?.stop()]);
  }, 60_000);

  it('a timeout <= 0 answers REQUEST_TIMED_OUT and creates nothing; a positive one creates', async () => {
    const [theirs, ours] = await Promise.all([answers(kafka.port), answers(kts.port)]);
    expect(ours).toEqual(theirs);
    expect(theirs.at(-1)).toEqual({ exists: ['positive'] });
    expect(theirs[0]).toMatchObject({ errorCode: 7, errorMessage: null });
  }, 60_000);
});
