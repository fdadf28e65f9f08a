// `kts consumer-groups` on a KIP-848 consumer group, compared with Kafka 4.4's
// kafka-consumer-groups.sh run against the same kts broker. A live group (one member owning t:0-3
// and u:0, offsets committed with its member epoch): --list with --type/--state, --describe
// (offsets, --members) byte for byte; --members --verbose and --state in Kafka 3.9's text (kts's
// default, README: 4.4 adds epoch columns); --reset-offsets and --delete refused; then the member
// leaves and the empty group is described, reset and deleted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, runKafkaTool } from '../../helpers/real-kafka.js';
import { connectClients, consumerGroups, createTopic, produceEach } from './support.js';

const lib = kafkaLib(KAFKA_4);
const MEMBER = 'kip848-cli-member-000';

describe.skipIf(!lib)('kts consumer-groups on a KIP-848 consumer group, as Kafka 4.4 prints it', () => {
  let broker: SpawnedBroker;
  let raw: RawClient;
  let memberEpoch = 0;

  const heartbeat = (body: Record<string, unknown>) =>
    raw.request(68, 1, {
      groupId: 'cg',
      memberId: MEMBER,
      memberEpoch,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30000,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
      ...body,
    });

  /** Both tools against the kts broker: stdout, stderr and exit code. */
  async function both(args: string[]) {
    const full = ['--bootstrap-server', broker.bootstrap, ...args];
    const kafka = await runKafkaTool(KAFKA_4, 'consumer-groups', full);
    const kts = await consumerGroups(full);
    return { kafka: { code: kafka.code, stdout: kafka.stdout, stderr: kafka.stderr }, kts: { code: kts.code, stdout: kts.stdout, stderr: kts.stderr } };
  }

  beforeAll(async () => {
    // A session long enough for the whole file: the member heartbeats only when the test says.
    broker = await spawnBroker({ overrides: { 'group.consumer.session.timeout.ms': '600000', 'group.consumer.max.session.timeout.ms': '600000' } });
    const { admin, producer } = await connectClients(broker.bootstrap);
    await createTopic(admin, 't', 4);
    await createTopic(admin, 'u', 1);
    await produceEach(producer, 't', 4, 5);
    await produceEach(producer, 'u', 1, 2);
    await admin.disconnect();
    await producer.disconnect();
    raw = await RawClient.connect(broker.port);
    const joined = await heartbeat({ subscribedTopicNames: ['t', 'u'], topicPartitions: [] });
    expect(joined.errorCode).toBe(0);
    memberEpoch = joined.memberEpoch;
    const committed = await raw.request(8, 9, {
      groupId: 'cg',
      generationIdOrMemberEpoch: memberEpoch,
      memberId: MEMBER,
      groupInstanceId: null,
      topics: [
        { name: 't', partitions: [0, 1].map((p) => ({ partitionIndex: p, committedOffset: 3 + p, committedLeaderEpoch: -1, committedMetadata: null })) },
        { name: 'u', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] },
      ],
    });
    expect(committed.topics.flatMap((t: { partitions: { errorCode: number }[] }) => t.partitions.map((p) => p.errorCode))).toEqual([0, 0, 0]);
  }, 120_000);

  afterAll(async () => {
    raw?.close();
    await broker?.stop();
  });

  it('describes and lists a live consumer group as Kafka 4.4 does; reset and delete are refused', async () => {
    for (const args of [
      ['--list', '--type'],
      ['--list', '--type', 'consumer', '--state'],
      ['--describe', '--group', 'cg'],
      ['--describe', '--group', 'cg', '--members'],
    ]) {
      const { kafka, kts } = await both(args);
      expect(kts, args.join(' ')).toEqual(kafka);
    }
    // Kafka 3.9's forms, with the consumer group's member, assignment, assignor and state.
    const cg = (...args: string[]) => consumerGroups(['--bootstrap-server', broker.bootstrap, '--describe', '--group', 'cg', ...args]);
    expect((await cg('--members', '--verbose')).stdout).toMatch(new RegExp(`\\ncg +${MEMBER} +/127\\.0\\.0\\.1 +raw-test +5 +t\\(0,1,2,3\\), u\\(0\\)\\n`));
    expect((await cg('--state')).stdout).toMatch(/\ncg +127\.0\.0\.1:\d+ +\(\d+\) +uniform +Stable +1\n/);
    // Refused alike; kts names the exception as Kafka 3.9's tool does (wrapped in ExecutionException, README).
    const refused = await both(['--delete', '--group', 'cg']);
    expect({ ...refused.kts, stdout: refused.kts.stdout.replace('java.util.concurrent.ExecutionException: ', '') }).toEqual(refused.kafka);
    // The same refusal; the (empty) table header that follows is Kafka 3.9's in kts (README).
    const reset = await both(['--reset-offsets', '--group', 'cg', '--topic', 't', '--to-earliest', '--execute']);
    expect({ ...reset.kts, stdout: reset.kts.stdout.split('\n').slice(0, 3) }).toEqual({ ...reset.kafka, stdout: reset.kafka.stdout.split('\n').slice(0, 3) });
    expect(reset.kts.stdout).toContain("Error: Assignments can only be reset if the group 'cg' is inactive, but the current state is Stable.");
  }, 240_000);

  it('describes, resets and deletes the group once empty, as Kafka 4.4 does', async () => {
    expect((await heartbeat({ memberEpoch: -1 })).errorCode).toBe(0);
    for (const args of [
      ['--describe', '--group', 'cg'],
      ['--describe', '--group', 'cg', '--members'],
    ]) {
      const { kafka, kts } = await both(args);
      expect(kts, args.join(' ')).toEqual(kafka);
    }
    // The reset plans hold the same rows; kts prints them in Kafka 3.9's table (README).
    const rows = (out: string) => out.split('\n').slice(2).filter(Boolean).map((l) => l.trim().split(/\s+/).join(' ')).sort();
    for (const args of [
      ['--reset-offsets', '--group', 'cg', '--topic', 't', '--to-earliest', '--dry-run'],
      ['--reset-offsets', '--group', 'cg', '--all-topics', '--to-offset', '2', '--execute'],
    ]) {
      const { kafka, kts } = await both(args);
      expect(kts.code).toBe(kafka.code);
      expect(rows(kts.stdout), args.join(' ')).toEqual(rows(kafka.stdout));
      expect(rows(kts.stdout)).toHaveLength(args.includes('--all-topics') ? 3 : 4);
    }
    const after = await both(['--describe', '--group', 'cg', '--offsets']);
    expect(after.kts).toEqual(after.kafka);
    expect(after.kts.stdout).toContain('cg              u               0          2               2               0               -               -               -');
    const deleted = await consumerGroups(['--bootstrap-server', broker.bootstrap, '--delete', '--group', 'cg']);
    expect(deleted).toEqual({ code: 0, stdout: "Deletion of requested consumer groups ('cg') was successful.\n", stderr: '' });
    const { kafka, kts } = await both(['--list', '--type']);
    expect(kts).toEqual(kafka);
  }, 240_000);
});
