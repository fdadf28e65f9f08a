// kts streams-application-reset against Kafka 4.4's kafka-streams-application-reset (StreamsResetter):
// a real Kafka 4.4 and a kts broker prepared the same way (input and intermediate topics with
// records, each application's internal topics and committed offsets), then each scenario runs Kafka's
// tool against Kafka and kts's against kts with its own application id. Compared: exit code, stdout,
// the first line of stderr (Kafka follows an error with its Java stack trace and a usage error with
// its option table), the group's committed offsets afterwards and which of its topics are left.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../../src/client/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { ktsTool, type Outcome } from '../../helpers/oracle.js';
import { pollFor } from '../streams/support.js';
import { KAFKA_4, kafkaLib, runKafkaTool, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';

const APPS = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'];
const internal = (app: string) => [`${app}-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog`, `${app}-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition`, `${app}-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-0000000007-topic`];
/** Topics that start with the application id but are not internal, and an internal-looking one of no application. */
const appTopics = (app: string) => [...internal(app), `${app}-output`];
const PARTITIONS = [
  { topic: 'in', partition: 0 },
  { topic: 'in', partition: 1 },
  { topic: 'mid', partition: 0 },
];
const COMMITTED = [5, 7, 1];

interface Side {
  name: 'kafka' | 'kts';
  bootstrap: string;
  client: KafkaClient;
  run(args: string[]): Promise<Outcome>;
}

async function prepare(client: KafkaClient): Promise<void> {
  const topics = [
    { name: 'in', numPartitions: 2, replicationFactor: 1 },
    { name: 'mid', numPartitions: 1, replicationFactor: 1 },
    { name: 'lonely-changelog', numPartitions: 1, replicationFactor: 1 },
    ...APPS.flatMap((app) => appTopics(app).map((name) => ({ name, numPartitions: 1, replicationFactor: 1 }))),
  ];
  for (const c of await client.admin.createTopics(topics)) if (c.error) throw c.error;
  // A new topic's leaders reach the metadata a moment after CreateTopics answers (Kafka's KRaft too).
  await pollFor('leaders of in and mid', async () => {
    const md = await Promise.all(['in', 'mid'].map((t) => client.topic(t, true)));
    return md.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) ? true : undefined;
  }, 30_000);
  const producer = client.producer({ lingerMs: 0 });
  // Until the broker has made the partitions its own it may still answer NOT_LEADER_OR_FOLLOWER: retried.
  const send = (topic: string, partition: number, value: string, timestamp: number) =>
    pollFor(`a write to ${topic}-${partition}`, async () => {
      try {
        await producer.send(topic, { key: null, value: Buffer.from(value), partition, timestamp });
        return true;
      } catch (err) {
        if ((err as { retriable?: boolean }).retriable) return undefined;
        throw err;
      }
    }, 30_000);
  const t0 = Date.now() - 60_000;
  for (let i = 0; i < 10; i++) {
    await send('in', 0, `v${i}`, t0 + i);
    await send('in', 1, `v${i}`, t0 + i);
    if (i < 4) await send('mid', 0, `m${i}`, t0 + i);
  }
  producer.close();
  for (const app of APPS) {
    for (const r of await client.groups.commitOffsets(app, PARTITIONS.map((p, i) => ({ ...p, offset: COMMITTED[i] })))) if (r.error) throw r.error;
  }
}

/** What a run left behind: the group's committed offsets and which of the application's topics remain. */
async function state(client: KafkaClient, app: string): Promise<{ offsets: number[]; topics: string[] }> {
  const committed = await client.groups.fetchOffsets(app, PARTITIONS);
  const offsets = PARTITIONS.map((p) => committed.find((c) => c.topic === p.topic && c.partition === p.partition)?.offset ?? -1);
  const names = new Set((await client.admin.listTopics()).map((t) => t.name));
  return { offsets, topics: appTopics(app).filter((t) => names.has(t)) };
}

const ready = kafkaLib(KAFKA_4) !== null;

describe.skipIf(!ready)('streams-application-reset: kts vs Kafka 4.4', () => {
  let kafka: RealKafka;
  let broker: SpawnedBroker;
  let sides: Side[] = [];

  beforeAll(async () => {
    [kafka, broker] = await Promise.all([startRealKafka(KAFKA_4), spawnBroker()]);
    const [kc, tc] = await Promise.all([KafkaClient.connect(kafka.bootstrap), KafkaClient.connect(broker.bootstrap)]);
    sides = [
      { name: 'kafka', bootstrap: kafka.bootstrap, client: kc, run: (args) => runKafkaTool(KAFKA_4, 'streams-application-reset', ['--bootstrap-server', kafka.bootstrap, ...args], { timeoutMs: 90_000 }) },
      { name: 'kts', bootstrap: broker.bootstrap, client: tc, run: (args) => ktsTool('streams-application-reset', ['--bootstrap-server', broker.bootstrap, ...args]) },
    ];
    await Promise.all(sides.map((s) => prepare(s.client)));
  }, 180_000);

  afterAll(async () => {
    for (const s of sides) s.client.close();
    await Promise.all([kafka?.stop(), broker?.stop()]);
  });

  /** Runs both tools; returns Kafka's outcome and state after checking kts's are the same. */
  const both = async (app: string | null, args: string[]) => {
    const results = await Promise.all(
      sides.map(async (s) => {
        const o = await s.run(args);
        const after = app ? await state(s.client, app) : null;
        // Member ids are random, and the partitions of an assignment come in the assignor's order.
        const stderr = o.stderr
          .split('\n')[0]
          .replace(/memberId=[^,]+/g, 'memberId={id}')
          .replace(/topicPartitions=([^)]*)/g, (_m, tps: string) => `topicPartitions=${tps.split(',').sort().join(',')}`);
        return { code: o.code, stdout: o.stdout, stderr, after };
      }),
    );
    expect(results[1], `kafka:\n${JSON.stringify(results[0], null, 1)}`).toEqual(results[0]);
    return results[0];
  };

  it('a dry run changes nothing and lists the inferred internal topics', async () => {
    const r = await both('a1', ['--application-id', 'a1', '--input-topics', 'in', '--intermediate-topics', 'mid', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('----Dry run displays the actions which will be performed when running Streams Reset Tool----');
    expect(r.after).toEqual({ offsets: COMMITTED, topics: appTopics('a1') });
  });

  it('by default: input topics to the earliest, intermediate to the end, internal topics deleted', async () => {
    const r = await both('a2', ['--application-id', 'a2', '--input-topics', 'in', '--intermediate-topics', 'mid']);
    expect(r.code).toBe(0);
    expect(r.after).toEqual({ offsets: [0, 0, 4], topics: ['a2-output'] });
  });

  it('--to-offset past the end, and a missing input topic (exit 1, the rest still done)', async () => {
    const r = await both('a3', ['--application-id', 'a3', '--input-topics', 'in,missing', '--to-offset', '20']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('New offset (20) is higher than latest offset. Value will be set to 10');
    expect(r.after).toEqual({ offsets: [10, 10, 1], topics: ['a3-output'] });
  });

  it('--shift-by from the committed offsets, clamped at the earliest, deleting only the --internal-topics named', async () => {
    const r = await both('a4', ['--application-id', 'a4', '--input-topics', 'in', '--shift-by', '-6', '--internal-topics', internal('a4')[0]]);
    expect(r.code).toBe(0);
    expect(r.after).toEqual({ offsets: [0, 1, 1], topics: appTopics('a4').slice(1) });
  });

  it('--to-datetime and --by-duration (no record after now: the latest offset)', async () => {
    await both('a5', ['--application-id', 'a5', '--input-topics', 'in', '--to-datetime', '2020-01-01T00:00:00.000', '--dry-run']);
    const r = await both('a5', ['--application-id', 'a5', '--input-topics', 'in', '--by-duration', 'PT0S']);
    expect(r.stdout).toContain('is empty, without a committed record. Falling back to latest known offset.');
    expect(r.after?.offsets).toEqual([10, 10, 1]);
  });

  it('refuses while the group has members', async () => {
    const members = await Promise.all(
      sides.map(async (s) => {
        const m = s.client.groupMember({ groupId: 'a6', topics: async () => ['in'], sessionTimeoutMs: 30_000, heartbeatIntervalMs: 1000, rebalanceTimeoutMs: 30_000, groupInstanceId: null });
        await m.join();
        return m;
      }),
    );
    try {
      const r = await both('a6', ['--application-id', 'a6', '--input-topics', 'in']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^ERROR: java.lang.IllegalStateException: Consumer group 'a6' is still active and has following members: \[/);
    } finally {
      await Promise.all(members.map((m) => m.leave()));
    }
  });

  it('an --internal-topics entry that is not one of its internal topics', async () => {
    const r = await both('a7', ['--application-id', 'a7', '--internal-topics', 'a7-output']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^ERROR: java.lang.IllegalArgumentException: Invalid topic specified in the --internal-topics option/);
    expect(r.after?.topics).toEqual(appTopics('a7'));
  });

  it('usage errors: no --application-id, two reset options', async () => {
    const missing = await both(null, ['--input-topics', 'in']);
    expect(missing.code).toBe(1);
    const two = await both(null, ['--application-id', 'a8', '--input-topics', 'in', '--to-earliest', '--to-latest']);
    expect(two.code).toBe(1);
  });
});
