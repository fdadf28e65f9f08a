// Online conversion between a classic group and a KIP-848 consumer group (group.consumer.migration.policy),
// request by request, on kts and on the real Apache Kafka 4.4 with the same sequence: a classic
// member (JoinGroup/SyncGroup with the consumer embedded protocol) owns four partitions; a
// ConsumerGroupHeartbeat member joins (upgrade, or GROUP_ID_NOT_FOUND when the policy forbids it);
// the classic member is told to rejoin, rejoins into the consumer group, is synced its half, commits
// with its generation; then the consumer-protocol member leaves (downgrade to a classic group that
// rebalances, or the group stays a consumer group). Each step's answer (error codes and messages,
// generations, epochs, group type and state, member types, assignments) is recorded; the two
// transcripts must be equal, for each of the four policy values.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { decodeConsumerAssignment, encodeConsumerAssignment, encodeConsumerSubscription } from '../../../src/protocol/codec/frames.js';

const lib = kafkaLib(KAFKA_4);
const POLICIES = ['bidirectional', 'upgrade', 'downgrade', 'disabled'] as const;
const TOPIC = 'mig';
const GROUP = 'mig-group';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function retrying<T extends { errorCode?: number }>(what: string, fn: () => Promise<T>, retryCodes = [14, 15, 16]): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const r = await fn();
    if (!retryCodes.includes(r.errorCode ?? 0) || Date.now() > deadline) return r;
    await sleep(200);
  }
}

/** Runs the sequence against a broker and returns what it answered, normalised (member ids by role). */
async function transcript(port: number): Promise<unknown[]> {
  const client = await RawClient.connect(port);
  const out: unknown[] = [];
  const note = (step: string, value: unknown) => out.push({ step, ...(value as object) });
  try {
    const created = await client.request(19, 5, { topics: [{ name: TOPIC, numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30000, validateOnly: false });
    expect(created.topics[0].errorCode).toBe(0);
    await retrying('the coordinator', async () => (await client.request(10, 4, { keyType: 0, coordinatorKeys: [GROUP] })).coordinators[0]);
    const subscription = encodeConsumerSubscription(0, { topics: [TOPIC], userData: null });
    const protocols = [{ name: 'range', metadata: subscription }];
    const join = (memberId: string) =>
      retrying('JoinGroup', () =>
        client.request(11, 7, { groupId: GROUP, sessionTimeoutMs: 30000, rebalanceTimeoutMs: 30000, memberId, groupInstanceId: null, protocolType: 'consumer', protocols, reason: null }),
      );
    const sync = (memberId: string, generationId: number, assignments: { memberId: string; assignment: Buffer }[] = []) =>
      client.request(14, 5, { groupId: GROUP, generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments });
    const heartbeat = (memberId: string, generationId: number) => client.request(12, 4, { groupId: GROUP, generationId, memberId, groupInstanceId: null });
    const consumerHeartbeat = (memberId: string, memberEpoch: number, extra: object = {}) =>
      client.request(68, 1, {
        groupId: GROUP,
        memberId,
        memberEpoch,
        instanceId: null,
        rackId: null,
        rebalanceTimeoutMs: 30000,
        subscribedTopicNames: memberEpoch === 0 ? [TOPIC] : null,
        subscribedTopicRegex: null,
        serverAssignor: null,
        topicPartitions: memberEpoch === 0 ? [] : null,
        ...extra,
      });
    const group = async () => {
      const listed = (await client.request(16, 5, { statesFilter: [], typesFilter: [] })).groups.find((g: { groupId: string }) => g.groupId === GROUP);
      const described = (await client.request(69, 1, { groupIds: [GROUP], includeAuthorizedOperations: false })).groups[0];
      return {
        type: listed?.groupType,
        protocolType: listed?.protocolType,
        state: listed?.groupState,
        describe: described.errorCode === 0
          ? { groupEpoch: described.groupEpoch, assignmentEpoch: described.assignmentEpoch, members: described.members.map((m: { memberType: number; memberEpoch: number }) => ({ type: m.memberType, epoch: m.memberEpoch })).sort((a: { type: number }, b: { type: number }) => a.type - b.type) }
          : { errorCode: described.errorCode },
      };
    };
    const partitions = (assignment: Buffer) => (assignment.length === 0 ? [] : decodeConsumerAssignment(assignment).assignedPartitions.flatMap((t: { partitions: number[] }) => t.partitions).sort());
    const joined = (r: { errorCode: number; generationId: number; protocolName: string | null; leader: string; memberId: string; members: unknown[] }) => ({
      errorCode: r.errorCode,
      generationId: r.generationId,
      protocolName: r.protocolName,
      leader: r.leader === '' ? '' : r.leader === r.memberId ? 'self' : 'other',
      members: r.members.length,
    });

    // A classic group: member A owns every partition at generation 1.
    const required = await join('');
    note('classic join (v7, unknown id)', { errorCode: required.errorCode });
    const a = required.memberId as string;
    const first = await join(a);
    note('classic join', joined(first));
    const generation = first.generationId as number;
    const everything = encodeConsumerAssignment(0, { assignedPartitions: [{ topic: TOPIC, partitions: [0, 1, 2, 3] }], userData: null });
    const synced = await sync(a, generation, [{ memberId: a, assignment: everything }]);
    note('classic sync', { errorCode: synced.errorCode, partitions: partitions(synced.assignment) });
    note('classic group', await group());
    const committed = await client.request(8, 9, {
      groupId: GROUP,
      generationIdOrMemberEpoch: generation,
      memberId: a,
      groupInstanceId: null,
      topics: [{ name: TOPIC, partitions: [0, 1, 2, 3].map((p) => ({ partitionIndex: p, committedOffset: 10 + p, committedLeaderEpoch: -1, committedMetadata: null })) }],
    });
    note('classic commit', { errorCodes: committed.topics[0].partitions.map((p: { errorCode: number }) => p.errorCode) });

    // A ConsumerGroupHeartbeat member: upgrade, or refused.
    const stray = await consumerHeartbeat(randomUUID(), 5);
    note('consumer heartbeat at epoch 5 to the classic group', { errorCode: stray.errorCode, errorMessage: stray.errorMessage });
    const b = randomUUID();
    const bJoin = await consumerHeartbeat(b, 0);
    note('consumer join', { errorCode: bJoin.errorCode, errorMessage: bJoin.errorMessage, memberEpoch: bJoin.memberEpoch, partitions: (bJoin.assignment?.topicPartitions ?? []).flatMap((t: { partitions: number[] }) => t.partitions).sort() });
    note('after the consumer join', await group());
    if (bJoin.errorCode !== 0) return out;

    // The classic member learns it must rejoin, and rejoins into the consumer group.
    note('classic heartbeat', { errorCode: await heartbeat(a, generation).then((r) => r.errorCode) });
    const rejoin = await join(a);
    note('classic rejoin', joined(rejoin));
    const stale = await sync(a, rejoin.generationId - 1);
    note('classic sync, old generation', { errorCode: stale.errorCode });
    const resynced = await sync(a, rejoin.generationId);
    note('classic sync', { errorCode: resynced.errorCode, protocolName: resynced.protocolName, partitions: partitions(resynced.assignment) });
    note('classic heartbeat after sync', { errorCode: (await heartbeat(a, rejoin.generationId)).errorCode });
    // It has given up two partitions: the consumer-protocol member gets them once it heartbeats again.
    const bNext = await consumerHeartbeat(b, bJoin.memberEpoch, { topicPartitions: [] });
    note('consumer heartbeat', { errorCode: bNext.errorCode, memberEpoch: bNext.memberEpoch, partitions: (bNext.assignment?.topicPartitions ?? []).flatMap((t: { partitions: number[] }) => t.partitions).sort() });
    note('both members', await group());
    const aCommit = async (gen: number) =>
      (await client.request(8, 9, {
        groupId: GROUP,
        generationIdOrMemberEpoch: gen,
        memberId: a,
        groupInstanceId: null,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: 20, committedLeaderEpoch: -1, committedMetadata: null }] }],
      })).topics[0].partitions[0].errorCode;
    note('classic member commits', { current: await aCommit(rejoin.generationId), stale: await aCommit(rejoin.generationId - 1) });
    const fetched = await client.request(9, 8, { groups: [{ groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0, 1, 2, 3] }] }], requireStable: false });
    note('offsets carried over', { offsets: fetched.groups[0].topics[0].partitions.map((p: { committedOffset: number }) => p.committedOffset) });

    // The consumer-protocol member leaves: downgrade, or the group stays a consumer group.
    const left = await consumerHeartbeat(b, -1, { subscribedTopicNames: null, topicPartitions: null, rebalanceTimeoutMs: -1 });
    note('consumer leave', { errorCode: left.errorCode, memberEpoch: left.memberEpoch });
    note('after the consumer leave', await group());
    note('classic heartbeat after the leave', { errorCode: (await heartbeat(a, rejoin.generationId)).errorCode });
    const last = await join(a);
    note('classic rejoin after the leave', joined(last));
    const lastSync = await sync(a, last.generationId, last.leader === a ? [{ memberId: a, assignment: everything }] : []);
    note('classic sync after the leave', { errorCode: lastSync.errorCode, partitions: partitions(lastSync.assignment) });
    note('at the end', await group());
    return out;
  } finally {
    client.close();
  }
}

describe.skipIf(!lib)('online upgrade and downgrade between classic and consumer groups, compared with Kafka 4.4', () => {
  const started: { stop(): Promise<unknown> }[] = [];
  afterAll(async () => {
    for (const s of started) await s.stop();
  }, 120_000);

  for (const policy of POLICIES) {
    it(`group.consumer.migration.policy=${policy}: the same answers as Kafka 4.4`, async () => {
      // Kafka 4.3+ batches target assignments (group.consumer.assignment.interval.ms); kts computes
      // each at once, so the oracle runs with batching off (README: a difference kept).
      const props = { 'group.consumer.migration.policy': policy, 'offsets.topic.num.partitions': 1, 'group.consumer.assignment.interval.ms': 0 };
      const kafka: RealKafka = await startRealKafka(KAFKA_4, { props });
      started.push(kafka);
      const expected = await transcript(kafka.port);
      await kafka.stop();
      started.pop();
      const kts: SpawnedBroker = await spawnBroker({ overrides: { 'group.consumer.migration.policy': policy, 'offsets.topic.num.partitions': '1', 'group.initial.rebalance.delay.ms': '0' } });
      started.push(kts);
      const actual = await transcript(kts.port);
      expect(actual).toEqual(expected);
    }, 240_000);
  }
});
