// Online conversion between classic and consumer groups across coordinator restarts (the log in
// memory, time by hand): a converted group comes back with the type it had last (the old type's
// record is tombstoned), classic members inside a consumer group keep their classic metadata
// (session timeout, protocols), a consumer-protocol member fenced by its session timeout
// downgrades the group, and an empty classic group with committed offsets becomes a consumer
// group on the first heartbeat whatever the policy, keeping its offsets.
import { describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../../src/broker/groups/index.js';
import type { ConsumerHeartbeatParams } from '../../../src/broker/groups/consumer-heartbeat.js';
import { MemoryCoordinatorLog } from '../../../src/broker/groups/store.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { decodeConsumerAssignment, encodeConsumerAssignment } from '../../../src/protocol/codec/frames.js';
import { FakeClock, joinParams, silentLog } from './harness.js';

const ORDERS = { name: 'orders', topicId: Buffer.alloc(16, 9).toString('base64url'), partitions: 4 };
const topics = { get: (n: string) => (n === 'orders' ? ORDERS : undefined), list: () => [ORDERS], getById: (id: string) => (id === ORDERS.topicId ? ORDERS : undefined) };

function config(policy: string, extra: Record<string, number> = {}) {
  const numbers: Record<string, number> = {
    'group.min.session.timeout.ms': 1000,
    'group.initial.rebalance.delay.ms': 0,
    'offsets.topic.num.partitions': 1,
    'group.consumer.session.timeout.ms': 20000,
    ...extra,
  };
  return { getNumber: (k: string) => numbers[k] ?? NaN, getString: (k: string) => (k === 'group.consumer.migration.policy' ? policy : '') };
}

const start = (clock: FakeClock, store: MemoryCoordinatorLog, policy = 'bidirectional', extra: Record<string, number> = {}) =>
  GroupCoordinator.start({ config: config(policy, extra), now: clock.now, log: silentLog, nodeId: 1, scheduler: clock, store, topics: topics as never });

const hb = (o: Partial<ConsumerHeartbeatParams>): ConsumerHeartbeatParams => ({
  groupId: 'g',
  memberId: 'kip848-member-b',
  memberEpoch: 0,
  instanceId: null,
  rackId: null,
  rebalanceTimeoutMs: 30000,
  subscribedTopicNames: null,
  subscribedTopicRegex: null,
  serverAssignor: null,
  ownedTopicPartitions: null,
  clientId: 'b',
  clientHost: '/127.0.0.1',
  apiVersion: 1,
  ...o,
});

const everything = encodeConsumerAssignment(0, { assignedPartitions: [{ topic: 'orders', partitions: [0, 1, 2, 3] }], userData: null });
const partitionsOf = (b: Buffer) => (b.length === 0 ? [] : decodeConsumerAssignment(b).assignedPartitions.flatMap((t: { partitions: number[] }) => t.partitions).sort());
const typeOf = (c: GroupCoordinator) => c.listGroups().find((g) => g.groupId === 'g');
const memberTypes = (c: GroupCoordinator) => c.describeConsumerGroups(['g'])[0].members.map((m) => [m.clientId, m.memberType]).sort();

/** A classic member alone in group g, owning every partition, with offsets committed. */
async function classicGroupWithOffsets(c: GroupCoordinator): Promise<{ memberId: string; generation: number }> {
  const joined = await c.joinGroup(joinParams({ clientId: 'a', sessionTimeoutMs: 10000 }));
  expect(joined.errorCode).toBe(0);
  const synced = await c.syncGroup({ groupId: 'g', generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: joined.memberId, assignment: everything }] });
  expect(synced.errorCode).toBe(0);
  const committed = await c.commitOffsets({
    groupId: 'g',
    generationId: joined.generationId,
    memberId: joined.memberId,
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: [{ name: 'orders', partitions: [0, 1, 2, 3].map((p) => ({ partitionIndex: p, committedOffset: 5 + p, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: '' })) }],
  });
  expect(committed[0].partitions.map((p) => p.errorCode)).toEqual([0, 0, 0, 0]);
  return { memberId: joined.memberId, generation: joined.generationId };
}

const offsets = (c: GroupCoordinator) => c.fetchOffsets('g', null).topics[0]?.partitions.map((p) => p.committedOffset);

describe('online conversion between classic and consumer groups, over restarts', () => {
  it('upgrade, restart, downgrade by a session timeout, restart: each time the group comes back as it was', async () => {
    const clock = new FakeClock();
    const store = new MemoryCoordinatorLog(1);
    let c = await start(clock, store);
    const a = await classicGroupWithOffsets(c);

    const b = await c.consumerGroupHeartbeat(hb({ subscribedTopicNames: ['orders'], ownedTopicPartitions: [] }));
    expect(b).toMatchObject({ errorCode: 0, memberEpoch: a.generation + 1 });
    expect(typeOf(c)).toMatchObject({ groupType: 'consumer' });
    await c.close();

    // The classic record was tombstoned: the group comes back a consumer group, a classic member inside.
    c = await start(clock, store);
    expect(typeOf(c)).toMatchObject({ groupType: 'consumer', protocolType: 'consumer' });
    expect(memberTypes(c)).toEqual([
      ['a', 0],
      ['b', 1],
    ]);
    expect(offsets(c)).toEqual([5, 6, 7, 8]);
    expect(c.heartbeat({ groupId: 'g', generationId: a.generation, memberId: a.memberId, groupInstanceId: null })).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await c.joinGroup(joinParams({ clientId: 'a', memberId: a.memberId, sessionTimeoutMs: 10000 }));
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: a.generation + 1, leader: '', members: [] });
    const synced = await c.syncGroup({ groupId: 'g', generationId: rejoined.generationId, memberId: a.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] });
    expect(partitionsOf(synced.assignment)).toHaveLength(2);

    // The consumer-protocol member goes silent while the classic one heartbeats (its own 10 s
    // session): when the 20 s consumer session ends, the group turns classic and rebalances.
    for (let i = 0; i < 5; i++) {
      await clock.advance(5000);
      c.heartbeat({ groupId: 'g', generationId: rejoined.generationId, memberId: a.memberId, groupInstanceId: null });
    }
    expect(typeOf(c)).toMatchObject({ groupType: 'classic', groupState: 'PreparingRebalance' });
    expect(c.heartbeat({ groupId: 'g', generationId: rejoined.generationId, memberId: a.memberId, groupInstanceId: null })).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const classic = await c.joinGroup(joinParams({ clientId: 'a', memberId: a.memberId, sessionTimeoutMs: 10000 }));
    expect(classic).toMatchObject({ errorCode: 0, generationId: rejoined.generationId + 1, leader: a.memberId });
    expect(classic.members).toHaveLength(1);
    await c.syncGroup({ groupId: 'g', generationId: classic.generationId, memberId: a.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: a.memberId, assignment: everything }] });
    await c.close();

    c = await start(clock, store);
    expect(typeOf(c)).toMatchObject({ groupType: 'classic', groupState: 'Stable' });
    expect(c.describeGroups(['g'])[0].members.map((m) => m.memberId)).toEqual([a.memberId]);
    expect(offsets(c)).toEqual([5, 6, 7, 8]);
    await c.close();
  });

  it('a full group is not converted: the joining member is refused and the group stays classic', async () => {
    const clock = new FakeClock();
    const c = await start(clock, new MemoryCoordinatorLog(1), 'bidirectional', { 'group.consumer.max.size': 1 });
    const a = await classicGroupWithOffsets(c);
    const refused = await c.consumerGroupHeartbeat(hb({ subscribedTopicNames: ['orders'], ownedTopicPartitions: [] }));
    expect(refused).toMatchObject({ errorCode: ErrorCode.GROUP_MAX_SIZE_REACHED, errorMessage: 'The consumer group has reached its maximum capacity of 1 members.' });
    expect(typeOf(c)).toMatchObject({ groupType: 'classic', groupState: 'Stable' });
    expect(c.heartbeat({ groupId: 'g', generationId: a.generation, memberId: a.memberId, groupInstanceId: null })).toBe(ErrorCode.NONE);
    await c.close();
  });

  it('an empty classic group with committed offsets becomes a consumer group on the first heartbeat, even with the policy disabled', async () => {
    const clock = new FakeClock();
    const store = new MemoryCoordinatorLog(1);
    let c = await start(clock, store, 'disabled');
    const a = await classicGroupWithOffsets(c);
    // With a member, the policy forbids it.
    const refused = await c.consumerGroupHeartbeat(hb({ subscribedTopicNames: ['orders'], ownedTopicPartitions: [] }));
    expect(refused).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Cannot upgrade classic group g to consumer group because online upgrade is disabled.' });
    c.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null }]);
    expect(typeOf(c)).toMatchObject({ groupType: 'classic', groupState: 'Empty' });

    const joined = await c.consumerGroupHeartbeat(hb({ subscribedTopicNames: ['orders'], ownedTopicPartitions: [] }));
    expect(joined.errorCode).toBe(0);
    expect(joined.assignment?.topicPartitions[0].partitions).toEqual([0, 1, 2, 3]);
    expect(typeOf(c)).toMatchObject({ groupType: 'consumer' });
    expect(offsets(c)).toEqual([5, 6, 7, 8]);
    await c.close();

    c = await start(clock, store, 'disabled');
    expect(typeOf(c)).toMatchObject({ groupType: 'consumer' });
    expect(offsets(c)).toEqual([5, 6, 7, 8]);
    // The consumer member leaves: the group is empty, and a classic member turns it classic again.
    await c.consumerGroupHeartbeat(hb({ memberEpoch: -1 }));
    const back = await c.joinGroup(joinParams({ clientId: 'a2' }));
    expect(back.errorCode).toBe(0);
    expect(typeOf(c)).toMatchObject({ groupType: 'classic' });
    expect(offsets(c)).toEqual([5, 6, 7, 8]);
    await c.close();
  });
});

describe('KIP-1251: a commit with an older member epoch', () => {
  it('is accepted for the partitions the member has held since that epoch, by OffsetCommit and TxnOffsetCommit alike', async () => {
    const clock = new FakeClock();
    const c = await start(clock, new MemoryCoordinatorLog(1));
    const b = await c.consumerGroupHeartbeat(hb({ subscribedTopicNames: ['orders'], ownedTopicPartitions: [] }));
    const all = b.assignment!.topicPartitions;
    await c.consumerGroupHeartbeat(hb({ memberId: 'kip848-member-c', clientId: 'c', subscribedTopicNames: ['orders'], ownedTopicPartitions: [] }));
    const revoking = await c.consumerGroupHeartbeat(hb({ memberEpoch: b.memberEpoch, ownedTopicPartitions: all }));
    const kept = revoking.assignment!.topicPartitions[0].partitions;
    const acked = await c.consumerGroupHeartbeat(hb({ memberEpoch: b.memberEpoch, ownedTopicPartitions: [{ topicId: ORDERS.topicId, partitions: kept }] }));
    expect(acked.memberEpoch).toBe(b.memberEpoch + 1);
    const given = [0, 1, 2, 3].find((p) => !kept.includes(p))!;
    const commit = async (partition: number) =>
      (await c.commitOffsets({ groupId: 'g', generationId: b.memberEpoch, memberId: 'kip848-member-b', groupInstanceId: null, apiVersion: 9, retentionTimeMs: -1, topics: [{ name: 'orders', partitions: [{ partitionIndex: partition, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: '' }] }] }))[0].partitions[0].errorCode;
    const txnCommit = async (partition: number) =>
      (await c.commitTransactionalOffsets({ transactionalId: 't', groupId: 'g', producerId: 7, producerEpoch: 0, generationId: b.memberEpoch, memberId: 'kip848-member-b', groupInstanceId: null, topics: [{ name: 'orders', partitions: [{ partitionIndex: partition, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] }] }))[0].partitions[0].errorCode;
    expect(await commit(kept[0])).toBe(ErrorCode.NONE);
    expect(await commit(given)).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(await txnCommit(kept[0])).toBe(ErrorCode.NONE);
    expect(await txnCommit(given)).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    await c.close();
  });
});
