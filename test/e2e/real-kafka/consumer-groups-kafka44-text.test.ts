// `kts consumer-groups --kafka-text 4.4` (and $KTS_KAFKA_TEXT=4.4) against Kafka 4.4's own
// kafka-consumer-groups.sh, both run against the same kts broker: --describe --members --verbose,
// --state, --state --verbose and --offsets --verbose, byte for byte (stdout, stderr, exit code),
// for a classic group (a kafkajs member) and a KIP-848 consumer group (a member over raw
// ConsumerGroupHeartbeat, its offsets committed with leader epochs) described together with
// --all-groups. Kafka 3.9's text, kts's default, is compared in oracle-admin.test.ts and
// kts-tools-on-kafka4.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, runKafkaTool } from '../../helpers/real-kafka.js';
import { connectClients, consumerGroups, createTopic, FAST_CONSUMER, produceEach, waitFor } from '../groups/support.js';

const MEMBER = 'kafka44-text-member-0000';

describe.skipIf(!kafkaLib(KAFKA_4))("kts consumer-groups --kafka-text 4.4 prints Kafka 4.4's text", () => {
  let broker: SpawnedBroker;
  let raw: RawClient;
  let classic: Consumer;

  beforeAll(async () => {
    // A session long enough for the whole file: the raw member heartbeats only once.
    broker = await spawnBroker({ overrides: { 'group.consumer.session.timeout.ms': '600000', 'group.consumer.max.session.timeout.ms': '600000' } });
    const { kafka, admin, producer } = await connectClients(broker.bootstrap);
    await createTopic(admin, 'orders', 4);
    await createTopic(admin, 'payments', 1);
    await produceEach(producer, 'orders', 4, 3);
    await produceEach(producer, 'payments', 1, 2);
    await admin.disconnect();
    await producer.disconnect();

    // The consumer group: one member owning orders 0-3 and payments 0; offsets with leader epoch 0 on
    // two partitions, none on a third.
    raw = await RawClient.connect(broker.port);
    const joined = await raw.request(68, 1, {
      groupId: 'g848', memberId: MEMBER, memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000,
      subscribedTopicNames: ['orders', 'payments'], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [],
    });
    expect(joined.errorCode).toBe(0);
    const committed = await raw.request(8, 9, {
      groupId: 'g848', generationIdOrMemberEpoch: joined.memberEpoch, memberId: MEMBER, groupInstanceId: null,
      topics: [
        { name: 'orders', partitions: [0, 1].map((p) => ({ partitionIndex: p, committedOffset: 1 + p, committedLeaderEpoch: 0, committedMetadata: null })) },
        { name: 'payments', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] },
      ],
    });
    expect(committed.topics.flatMap((t: { partitions: { errorCode: number }[] }) => t.partitions.map((p) => p.errorCode))).toEqual([0, 0, 0]);

    // The classic group: a kafkajs consumer that reads orders to the end and commits.
    classic = kafka.consumer({ groupId: 'gcl', ...FAST_CONSUMER });
    await classic.connect();
    await classic.subscribe({ topic: 'orders', fromBeginning: true });
    let seen = 0;
    await classic.run({ autoCommitInterval: 100, eachMessage: async () => void seen++ });
    await waitFor('the classic member read everything', () => seen === 12, 60_000);
    const cg = (...args: string[]) => consumerGroups(['--bootstrap-server', broker.bootstrap, ...args]);
    await waitFor('the classic group committed everything', async () => !/\ngcl +orders +\d +\d+ +\d+ +[1-9]/.test((await cg('--describe', '--group', 'gcl')).stdout), 60_000);
  }, 120_000);

  afterAll(async () => {
    raw?.close();
    await classic?.disconnect();
    await broker?.stop();
  });

  it('--members --verbose, --state, --state --verbose and --offsets --verbose, for both groups at once', async () => {
    const differences: string[] = [];
    for (const view of [['--members', '--verbose'], ['--state'], ['--state', '--verbose'], ['--offsets', '--verbose']]) {
      const args = ['--bootstrap-server', broker.bootstrap, '--describe', '--all-groups', ...view];
      const [kafka, ours] = await Promise.all([runKafkaTool(KAFKA_4, 'consumer-groups', args, { timeoutMs: 120_000 }), consumerGroups([...args, '--kafka-text', '4.4'])]);
      const [k, t] = [JSON.stringify({ code: kafka.code, stdout: kafka.stdout, stderr: kafka.stderr }), JSON.stringify(ours)];
      if (k !== t) differences.push(`${view.join(' ')}:\n  kafka: ${k}\n  kts:   ${t}`);
      // What the 4.4 text is there to show.
      if (view[0] === '--members') expect(ours.stdout).toMatch(new RegExp(`\\ng848 +${MEMBER} +/127\\.0\\.0\\.1 +raw-test +5 +\\d+ +orders:0,1,2,3;payments:0 +\\d+ +orders:0,1,2,3;payments:0 *\\n`));
      if (view[1] === '--verbose' && view[0] === '--offsets') expect(ours.stdout).toMatch(/\ng848 +orders +1 +0 +2 +3 +1 /);
    }
    expect(differences.join('\n')).toBe('');
  }, 300_000);

  it('$KTS_KAFKA_TEXT=4.4 does the same; a release kts does not print is a usage error', async () => {
    const args = ['--bootstrap-server', broker.bootstrap, '--describe', '--group', 'g848', '--state', '--verbose'];
    const byOption = await consumerGroups([...args, '--kafka-text', '4.4']);
    process.env.KTS_KAFKA_TEXT = '4.4';
    let byEnv;
    try {
      byEnv = await consumerGroups(args);
    } finally {
      delete process.env.KTS_KAFKA_TEXT;
    }
    expect(byEnv).toEqual(byOption);
    expect(byOption.stdout).toMatch(/GROUP-EPOCH +TARGET-ASSIGNMENT-EPOCH +#MEMBERS\ng848 /);
    const bad = await consumerGroups([...args, '--kafka-text', '3.0']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Invalid value '3.0' for option kafka-text: expected one of 3.9, 4.4");
  }, 60_000);
});
