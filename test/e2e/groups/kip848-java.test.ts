// KIP-848 consumer groups from the Java client 4.4 (group.protocol=consumer) on kts: two members
// split four partitions (server-side `uniform` assignor), a member killed with SIGKILL has its
// partitions reassigned once its session times out, the group (members, epochs, assignments) and
// its committed offsets survive a broker restart, so a live member carries on without rejoining. The same two-member scenario runs on Apache Kafka 4.4 and the
// ConsumerGroupDescribe answers are compared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, tempDir, freePort, type SpawnedBroker } from '../../helpers/broker.js';
import { stopProcess } from '../../helpers/processes.js';
import { KAFKA_4, kafkaLib, kafkaTool, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { kts } from '../cli/support.js';
import { waitFor } from './support.js';
import { committedOffsets, compileJavaMember, describeConsumerGroup, partitionsOf, startJavaMember, type DescribedGroup, type Member } from './kip848-support.js';

const lib = kafkaLib(KAFKA_4);
const SESSION_TIMEOUT_MS = 6000;
const KTS_OVERRIDES = {
  'group.consumer.session.timeout.ms': String(SESSION_TIMEOUT_MS),
  'group.consumer.min.session.timeout.ms': '1000',
  'group.consumer.heartbeat.interval.ms': '500',
  'group.consumer.min.heartbeat.interval.ms': '100',
  'offsets.topic.num.partitions': '5',
};

async function createTopic(bootstrap: string, topic: string): Promise<void> {
  await kafkaTool(KAFKA_4, 'topics', ['--bootstrap-server', bootstrap, '--create', '--topic', topic, '--partitions', '4', '--replication-factor', '1']);
}

async function createTopicAndProduce(bootstrap: string, topic: string, count: number, prefix: string): Promise<void> {
  await createTopic(bootstrap, topic);
  await produce(bootstrap, topic, count, prefix);
}

async function produce(bootstrap: string, topic: string, count: number, prefix: string): Promise<void> {
  // Keys spread the records over the partitions (10 per partition for 40 records, whatever the hash).
  const lines = Array.from({ length: count }, (_, i) => `${prefix}${i}`).join('\n') + '\n';
  await kafkaTool(KAFKA_4, 'console-producer', ['--bootstrap-server', bootstrap, '--topic', topic, '--producer-property', 'partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner'], {
    input: lines,
  });
}

/** Two members on four partitions until each holds two and the group is Stable. */
async function twoMemberSplit(classDir: string, bootstrap: string, port: number, group: string, topic: string, members: Member[]): Promise<{ alone: DescribedGroup; pair: DescribedGroup }> {
  members.push(startJavaMember(classDir, lib!, bootstrap, group, topic));
  await waitFor('the first member to own all four partitions', () => members[0].assigned.length === 4, 90_000);
  const alone = await describeConsumerGroup(port, group);
  members.push(startJavaMember(classDir, lib!, bootstrap, group, topic));
  await waitFor(
    'a two-two split',
    () => members.every((m) => m.assigned.length === 2) && new Set(members.flatMap((m) => m.assigned)).size === 4,
    90_000,
  );
  let described: DescribedGroup | null = null;
  await waitFor(
    'the group to be Stable',
    async () => {
      described = await describeConsumerGroup(port, group);
      return described.groupState === 'Stable' && described.members.length === 2;
    },
    60_000,
  );
  return { alone, pair: described! };
}

describe.skipIf(!lib)('KIP-848 consumer groups: the Java client 4.4 with group.protocol=consumer', () => {
  let broker: SpawnedBroker;
  let classDir: string;
  let dataDir: string;
  const members: Member[] = [];
  let kafka: RealKafka | null = null;

  beforeAll(async () => {
    classDir = compileJavaMember(lib!);
    dataDir = tempDir('kts-kip848-');
    broker = await spawnBroker({ dataDir, overrides: KTS_OVERRIDES });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(members.map((m) => stopProcess(m.child, 'SIGKILL')));
    await broker?.stop();
    await kafka?.stop();
  }, 120_000);

  let ktsDescription: { alone: DescribedGroup; pair: DescribedGroup };

  it('two members split four partitions; every record is consumed once', async () => {
    await createTopic(broker.bootstrap, 'kip848-split');
    const split: Member[] = [];
    ktsDescription = await twoMemberSplit(classDir, broker.bootstrap, broker.port, 'kip848-split-group', 'kip848-split', split);
    members.push(...split);
    await produce(broker.bootstrap, 'kip848-split', 40, 'a-');
    await waitFor('all 40 records', () => split.flatMap((m) => m.records).length >= 40, 60_000);
    const values = split.flatMap((m) => m.records.map((r) => r.value)).sort();
    expect(values).toEqual(Array.from({ length: 40 }, (_, i) => `a-${i}`).sort());
    // Each member consumed from its own two partitions only.
    for (const m of split) expect(new Set(m.records.map((r) => r.partition))).toEqual(new Set(m.assigned));
    // Kafka 4.4's kafka-consumer-groups.sh shows the members through ConsumerGroupDescribe.
    const table = await kafkaTool(KAFKA_4, 'consumer-groups', ['--bootstrap-server', broker.bootstrap, '--describe', '--group', 'kip848-split-group', '--members', '--verbose']);
    const rows = table
      .split('\n')
      .filter((l) => l.startsWith('kip848-split-group '))
      .map((l) => l.trim().split(/\s+/));
    // GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS CURRENT-EPOCH CURRENT-ASSIGNMENT TARGET-EPOCH TARGET-ASSIGNMENT
    expect(rows.map((r) => [r[4], r[5], r[7]])).toEqual([
      ['2', '3', '3'],
      ['2', '3', '3'],
    ]);
    expect(rows.map((r) => r[6]).sort()).toEqual(['kip848-split:0,1', 'kip848-split:2,3']);
    // And kts's own tool shows the same members (ConsumerGroupDescribe, as Kafka's admin client).
    const ours = await kts(['consumer-groups', '--bootstrap-server', broker.bootstrap, '--describe', '--group', 'kip848-split-group', '--members', '--verbose']);
    expect(ours.code, ours.stderr).toBe(0);
    const ourRows = ours.stdout
      .split('\n')
      .filter((l) => l.startsWith('kip848-split-group '))
      .map((l) => l.trim().split(/\s+/));
    // GROUP CONSUMER-ID HOST CLIENT-ID #PARTITIONS ASSIGNMENT (Kafka 3.9's columns)
    expect(ourRows.map((r) => [r[4], r[5]]).sort()).toEqual([
      ['2', 'kip848-split(0,1)'],
      ['2', 'kip848-split(2,3)'],
    ]);
    expect(ktsDescription.pair.assignorName).toBe('uniform');
    // As Kafka 4.4: a new group's first member brings it to epoch 2, the second to 3.
    expect(ktsDescription.alone.groupEpoch).toBe(2);
    expect(ktsDescription.pair.groupEpoch).toBe(3);
    expect(ktsDescription.pair.assignmentEpoch).toBe(3);
    for (const m of ktsDescription.pair.members) {
      expect(m.memberEpoch).toBe(3);
      expect(m.subscribedTopicNames).toEqual(['kip848-split']);
      expect(partitionsOf(m.assignment)).toHaveLength(2);
      expect(partitionsOf(m.assignment)).toEqual(partitionsOf(m.targetAssignment));
    }
  }, 240_000);

  it('a member killed with SIGKILL has its partitions reassigned after the session timeout', async () => {
    await createTopicAndProduce(broker.bootstrap, 'kip848-kill', 8, 'k-');
    const pair: Member[] = [];
    await twoMemberSplit(classDir, broker.bootstrap, broker.port, 'kip848-kill-group', 'kip848-kill', pair);
    members.push(...pair);
    const [victim, survivor] = pair;
    await stopProcess(victim.child, 'SIGKILL');
    const killedAt = Date.now();
    await waitFor('the survivor to own all four partitions', () => survivor.assigned.length === 4, 60_000);
    // Not before the session timeout: nothing told the coordinator the member was gone.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 1000);
    const d = await describeConsumerGroup(broker.port, 'kip848-kill-group');
    expect(d.members).toHaveLength(1);
    expect(d.groupEpoch).toBe(4);
  }, 240_000);

  it('the group and its committed offsets survive broker restarts; a live member rides through one without rejoining', async () => {
    const group = 'kip848-restart-group';
    const topic = 'kip848-restart';
    await createTopicAndProduce(broker.bootstrap, topic, 40, 'r-');
    const first = startJavaMember(classDir, lib!, broker.bootstrap, group, topic);
    members.push(first);
    await waitFor('40 records consumed and committed', async () => {
      if (first.records.length < 40) return false;
      const offsets = await committedOffsets(broker.port, group, topic, 4);
      return [...offsets.values()].reduce((a, b) => a + b, 0) === 40;
    }, 90_000);
    const before = await describeConsumerGroup(broker.port, group);
    expect(before.members).toHaveLength(1);

    // The member stays up through the restart. The group comes back from __consumer_offsets as it
    // was (Kafka 4.4 does the same): same member, epochs and assignment, so the member's next
    // heartbeat is simply accepted (a rejoin would move the group to a new epoch).
    const port = broker.port;
    await broker.stop();
    broker = await spawnBroker({ dataDir, port, overrides: KTS_OVERRIDES });
    const restored = await describeConsumerGroup(broker.port, group);
    expect(restored).toEqual(before);
    expect([...(await committedOffsets(broker.port, group, topic, 4)).values()].reduce((a, b) => a + b, 0)).toBe(40);
    await produce(broker.bootstrap, topic, 8, 's-');
    await waitFor('the live member to read the 8 new records', () => first.records.length >= 48, 90_000);
    expect(first.records.slice(40).map((r) => r.value).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `s-${i}`).sort());
    const after = await describeConsumerGroup(broker.port, group);
    expect(after.groupEpoch).toBe(before.groupEpoch);
    expect(after.members.map((m) => [m.memberId, m.memberEpoch])).toEqual(before.members.map((m) => [m.memberId, m.memberEpoch]));
    await waitFor('48 committed', async () => [...(await committedOffsets(broker.port, group, topic, 4)).values()].reduce((a, b) => a + b, 0) === 48, 30_000);
    await stopProcess(first.child, 'SIGKILL');

    // A new member after a second restart resumes at the committed offsets: none of the first 48.
    await broker.stop();
    broker = await spawnBroker({ dataDir, port, overrides: KTS_OVERRIDES });
    await produce(broker.bootstrap, topic, 4, 't-');
    const second = startJavaMember(classDir, lib!, broker.bootstrap, group, topic);
    members.push(second);
    await waitFor('the 4 newest records', () => second.records.length >= 4, 90_000);
    expect(second.records.map((r) => r.value).sort()).toEqual(['t-0', 't-1', 't-2', 't-3']);
  }, 300_000);

  it('describes the two-member group as Apache Kafka 4.4 does', async () => {
    const port = await freePort();
    kafka = await startRealKafka(KAFKA_4, { port });
    await createTopic(kafka.bootstrap, 'kip848-split');
    const pair: Member[] = [];
    const real = await twoMemberSplit(classDir, kafka.bootstrap, kafka.port, 'kip848-split-group', 'kip848-split', pair);
    members.push(...pair);
    const shape = ({ alone, pair }: { alone: DescribedGroup; pair: DescribedGroup }) => ({
      errorCode: pair.errorCode,
      groupState: pair.groupState,
      aloneState: alone.groupState,
      aloneAssigned: alone.members.map((m) => partitionsOf(m.assignment)),
      aloneEpoch: alone.groupEpoch,
      groupEpoch: pair.groupEpoch,
      assignmentEpochIsGroupEpoch: pair.assignmentEpoch === pair.groupEpoch,
      assignorName: pair.assignorName,
      // Which partitions the first member keeps and which the second gets.
      split: pair.members.map((m) => partitionsOf(m.assignment).join()).sort(),
      members: pair.members
        .map((m) => ({
          memberEpochIsGroupEpoch: m.memberEpoch === pair.groupEpoch,
          subscribedTopicRegex: m.subscribedTopicRegex,
          clientId: m.clientId,
          memberType: m.memberType,
          subscribedTopicNames: m.subscribedTopicNames,
          assigned: partitionsOf(m.assignment).length,
          targetEqualsCurrent: partitionsOf(m.assignment).join() === partitionsOf(m.targetAssignment).join(),
        })),
    });
    expect(shape(ktsDescription)).toEqual(shape(real));
  }, 300_000);
});
