import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { GroupCoordinator } from '../../../src/broker/groups/index.js';
import type { OffsetCommitParams } from '../../../src/broker/groups/types.js';
import { joinParams, protocols, startCoordinator } from './harness.js';

function commit(groupId: string, offsets: Record<string, Record<number, number>>, extra: Partial<OffsetCommitParams> = {}): OffsetCommitParams {
  return {
    groupId,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: Object.entries(offsets).map(([name, parts]) => ({
      name,
      partitions: Object.entries(parts).map(([p, o]) => ({ partitionIndex: Number(p), committedOffset: o, committedLeaderEpoch: 3, commitTimestamp: -1, committedMetadata: 'meta' })),
    })),
    ...extra,
  };
}

const codes = (r: { partitions: { errorCode: number }[] }[]) => r.flatMap((t) => t.partitions.map((p) => p.errorCode));

async function stableMember(c: GroupCoordinator, topics = ['orders']) {
  const j = await c.joinGroup(joinParams({ protocols: protocols(topics) }));
  await c.syncGroup({ groupId: 'g', generationId: j.generationId, memberId: j.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  return j;
}

describe('committed offsets', () => {
  it('stores commits of a simple consumer (generation -1) and answers unknown offsets with -1', async () => {
    const { coordinator: c } = await startCoordinator();
    const r = await c.commitOffsets(commit('simple', { orders: { 0: 10, 1: 20 }, nosuch: { 0: 1 }, payments: { 7: 1 } }));
    expect(r).toEqual([
      { name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 0 }] },
      { name: 'nosuch', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
      { name: 'payments', partitions: [{ partitionIndex: 7, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
    ]);
    const f = c.fetchOffsets('simple', [{ name: 'orders', partitionIndexes: [0, 1, 2] }]);
    expect(f.topics[0].partitions).toEqual([
      { partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: 3, metadata: 'meta', errorCode: 0 },
      { partitionIndex: 1, committedOffset: 20, committedLeaderEpoch: 3, metadata: 'meta', errorCode: 0 },
      { partitionIndex: 2, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
    ]);
    // null topics = everything the group has.
    expect(c.fetchOffsets('simple', null).topics).toEqual([{ name: 'orders', partitions: expect.any(Array) }]);
    expect(c.fetchOffsets('nobody', null).topics).toEqual([]);
    expect(c.fetchOffsets('nobody', [{ name: 'orders', partitionIndexes: [0] }]).topics[0].partitions[0].committedOffset).toBe(-1);
  });

  it('keeps v0 (ZooKeeper-era) commits apart; unknown v0 offsets come with UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const { coordinator: c } = await startCoordinator();
    await stableMember(c);
    // A v0 commit needs no membership even though group g is active.
    expect(codes(await c.commitOffsets(commit('g', { orders: { 0: 42 } }), true))).toEqual([0]);
    const legacy = c.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [0, 1] }], true);
    expect(legacy.topics[0].partitions.map((p) => [p.committedOffset, p.errorCode])).toEqual([
      [42, 0],
      [-1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    expect(c.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [0] }]).topics[0].partitions[0].committedOffset).toBe(-1);
  });

  it('checks membership and generation for commits to a managed group', async () => {
    const { coordinator: c } = await startCoordinator();
    const j = await stableMember(c);
    expect(codes(await c.commitOffsets(commit('g', { orders: { 0: 5 } }, { generationId: 1, memberId: j.memberId })))).toEqual([0]);
    expect(codes(await c.commitOffsets(commit('g', { orders: { 0: 6 } }, { generationId: 0, memberId: j.memberId })))).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(codes(await c.commitOffsets(commit('g', { orders: { 0: 6 } }, { generationId: 1, memberId: 'x' })))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    // generation -1 from outside is refused while the group has members (reset tools need an empty group).
    expect(codes(await c.commitOffsets(commit('g', { orders: { 0: 0 } })))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(codes(await c.commitOffsets(commit('other-group', { orders: { 0: 1 } }, { generationId: 4, memberId: 'm' })))).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(c.fetchOffsets('g', null).topics[0].partitions[0].committedOffset).toBe(5);
    const long = await c.commitOffsets(commit('g', { orders: { 1: 1 } }, { generationId: 1, memberId: j.memberId, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: 'x'.repeat(5000) }] }] }));
    expect(codes(long)).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE]);
  });

  it('refuses commits with a failed write and never applies them', async () => {
    const { coordinator: c, store } = await startCoordinator();
    store.failAppends = Object.assign(new Error('disk full'), { code: ErrorCode.KAFKA_STORAGE_ERROR });
    expect(codes(await c.commitOffsets(commit('s', { orders: { 0: 9 } })))).toEqual([ErrorCode.NOT_COORDINATOR]);
    store.failAppends = null;
    expect(c.fetchOffsets('s', null).topics).toEqual([]);
  });

  it('deletes groups only when empty, with tombstones for everything they had', async () => {
    const { coordinator: c } = await startCoordinator();
    await stableMember(c);
    await c.commitOffsets(commit('s', { orders: { 0: 1 } }));
    expect(await c.deleteGroups(['g', 's', 'nope'])).toEqual([
      { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 's', errorCode: 0 },
      { groupId: 'nope', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    expect(c.fetchOffsets('s', null).topics).toEqual([]);
    expect(c.listGroups().map((g) => g.groupId)).toEqual(['g']);
  });

  it('OffsetDelete: refused for subscribed topics of a live group, fine for others and for empty groups', async () => {
    const { coordinator: c } = await startCoordinator();
    const j = await stableMember(c, ['orders']);
    await c.commitOffsets(commit('g', { orders: { 0: 1 }, payments: { 0: 2 } }, { generationId: 1, memberId: j.memberId }));
    const r = await c.deleteOffsets('g', [{ name: 'orders', partitionIndexes: [0] }, { name: 'payments', partitionIndexes: [0] }, { name: 'nosuch', partitionIndexes: [0] }]);
    expect(r.errorCode).toBe(0);
    expect(codes(r.topics)).toEqual([ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    expect(c.fetchOffsets('g', null).topics.map((t) => t.name)).toEqual(['orders']);
    expect((await c.deleteOffsets('missing', [])).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    c.leaveGroup('g', [{ memberId: j.memberId, groupInstanceId: null }]);
    expect(codes((await c.deleteOffsets('g', [{ name: 'orders', partitionIndexes: [0] }])).topics)).toEqual([0]);
    // Nothing left: the empty group is gone.
    expect(c.listGroups()).toEqual([]);
  });

  it('expires offsets of a group empty for offsets.retention.minutes, and then the group', async () => {
    const { coordinator: c, clock } = await startCoordinator({ config: { 'offsets.retention.minutes': 1, 'offsets.retention.check.interval.ms': 10_000 } });
    const j = await stableMember(c);
    await c.commitOffsets(commit('g', { orders: { 0: 7 } }, { generationId: 1, memberId: j.memberId }));
    await c.commitOffsets(commit('simple', { orders: { 0: 3 } }));
    // A stable group keeps offsets of the topics it subscribes to however old.
    for (let i = 0; i < 12; i++) {
      await clock.advance(5000);
      c.heartbeat({ groupId: 'g', generationId: 1, memberId: j.memberId, groupInstanceId: null });
    }
    expect(c.fetchOffsets('g', null).topics).toHaveLength(1);
    expect(c.fetchOffsets('simple', null).topics).toHaveLength(0);
    c.leaveGroup('g', [{ memberId: j.memberId, groupInstanceId: null }]);
    await clock.advance(50_000);
    expect(c.fetchOffsets('g', null).topics).toHaveLength(1);
    await clock.advance(20_000);
    expect(c.fetchOffsets('g', null).topics).toHaveLength(0);
    expect(c.listGroups()).toEqual([]);
  });

  it('honours an explicit retention time from OffsetCommit v2-v4', async () => {
    const { coordinator: c, clock } = await startCoordinator({ config: { 'offsets.retention.check.interval.ms': 1000 } });
    await c.commitOffsets(commit('s', { orders: { 0: 3 } }, { retentionTimeMs: 5000 }));
    await clock.advance(4000);
    expect(c.fetchOffsets('s', null).topics).toHaveLength(1);
    await clock.advance(2000);
    expect(c.fetchOffsets('s', null).topics).toHaveLength(0);
  });

  it('removes the offsets of a deleted topic', async () => {
    const { coordinator: c } = await startCoordinator();
    await c.commitOffsets(commit('s', { orders: { 0: 3 }, payments: { 0: 4 } }));
    await c.commitOffsets(commit('s', { orders: { 0: 3 } }), true);
    await c.onTopicDeleted('orders');
    expect(c.fetchOffsets('s', null).topics.map((t) => t.name)).toEqual(['payments']);
    expect(c.fetchOffsets('s', null, true).topics).toEqual([]);
  });
});

describe('deleted topics and consumer-protocol groups (KIP-848)', () => {
  it('a live consumer-protocol group keeps existing when its only topic with offsets is deleted', async () => {
    const { coordinator: c } = await startCoordinator({ config: { 'group.consumer.session.timeout.ms': 45000, 'group.consumer.heartbeat.interval.ms': 5000 } });
    const joined = await c.consumerGroupHeartbeat({
      groupId: 'k',
      memberId: 'member-1',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30000,
      subscribedTopicNames: ['orders'],
      subscribedTopicRegex: null,
      serverAssignor: null,
      ownedTopicPartitions: [],
      clientId: 'c',
      clientHost: '/127.0.0.1',
      apiVersion: 1,
    });
    expect(joined.errorCode).toBe(0);
    const errors = await c.commitOffsets(commit('k', { orders: { 0: 3 } }, { memberId: joined.memberId!, generationId: joined.memberEpoch, apiVersion: 9 }));
    expect(errors[0].partitions[0].errorCode).toBe(0);
    await c.onTopicDeleted('orders');
    expect(c.fetchOffsets('k', null).topics).toEqual([]);
    const [described] = c.describeConsumerGroups(['k']);
    expect(described.errorCode).toBe(0);
    expect(described.members.map((m: { memberId: string }) => m.memberId)).toEqual([joined.memberId]);
  });
});
