import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import type { GroupCoordinator } from '../../../src/broker/groups/index.js';
import { joinParams, protocols, startCoordinator, track, type FakeClock } from './harness.js';

const assignment = (s: string) => Buffer.from(s);

/** Joins one member through the v4+ MEMBER_ID_REQUIRED round trip and returns its JoinGroup answer promise. */
async function joinV4(c: GroupCoordinator, overrides = {}) {
  const first = await c.joinGroup(joinParams({ requireKnownMemberId: true, ...overrides }));
  expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
  expect(first.memberId).toMatch(/^client-[0-9a-f-]{36}$/);
  return c.joinGroup(joinParams({ requireKnownMemberId: true, memberId: first.memberId, ...overrides }));
}

async function stableGroupOfTwo(c: GroupCoordinator, clock: FakeClock) {
  const a = await c.joinGroup(joinParams());
  expect(a.errorCode).toBe(0);
  await c.syncGroup({ groupId: 'g', generationId: a.generationId, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [{ memberId: a.memberId, assignment: assignment('A1') }] });
  const bJoin = track(c.joinGroup(joinParams({ clientId: 'b' })));
  await clock.advance(0);
  expect(bJoin.done).toBe(false);
  expect(c.heartbeat({ groupId: 'g', generationId: a.generationId, memberId: a.memberId, groupInstanceId: null })).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  const aRejoin = await c.joinGroup(joinParams({ memberId: a.memberId }));
  const b = await bJoin.promise;
  return { a: aRejoin, b };
}

describe('group membership (classic protocol)', () => {
  it('takes a new member through MEMBER_ID_REQUIRED, join, sync and heartbeats', async () => {
    const { coordinator: c } = await startCoordinator();
    const joined = await joinV4(c);
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', protocolType: 'consumer' });
    expect(joined.leader).toBe(joined.memberId);
    expect(joined.members.map((m) => m.memberId)).toEqual([joined.memberId]);
    expect(c.describeGroups(['g'])[0].groupState).toBe('CompletingRebalance');
    const synced = await c.syncGroup({ groupId: 'g', generationId: 1, memberId: joined.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: joined.memberId, assignment: assignment('mine') }] });
    expect(synced).toMatchObject({ errorCode: 0, protocolName: 'range' });
    expect(synced.assignment.toString()).toBe('mine');
    expect(c.heartbeat({ groupId: 'g', generationId: 1, memberId: joined.memberId, groupInstanceId: null })).toBe(0);
    expect(c.heartbeat({ groupId: 'g', generationId: 0, memberId: joined.memberId, groupInstanceId: null })).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(c.heartbeat({ groupId: 'g', generationId: 1, memberId: 'nobody', groupInstanceId: null })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const d = c.describeGroups(['g'])[0];
    expect(d).toMatchObject({ groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(d.members[0]).toMatchObject({ clientId: 'client', clientHost: '/127.0.0.1' });
    expect(d.members[0].memberAssignment.toString()).toBe('mine');
  });

  it('rejects bad session timeouts, empty group ids and unknown members', async () => {
    const { coordinator: c } = await startCoordinator();
    expect((await c.joinGroup(joinParams({ sessionTimeoutMs: 10 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await c.joinGroup(joinParams({ groupId: '' }))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await c.joinGroup(joinParams({ memberId: 'ghost' }))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.listGroups()).toEqual([]);
  });

  it('waits group.initial.rebalance.delay.ms for a new group and takes latecomers into the same generation', async () => {
    const { coordinator: c, clock } = await startCoordinator({ config: { 'group.initial.rebalance.delay.ms': 3000 } });
    const a = track(c.joinGroup(joinParams({ clientId: 'a' })));
    await clock.advance(2000);
    const b = track(c.joinGroup(joinParams({ clientId: 'b' })));
    await clock.advance(999);
    expect(a.done || b.done).toBe(false);
    // b arrived during the delay: the wait is extended by another delay.
    await clock.advance(1);
    expect(a.done).toBe(false);
    await clock.advance(3000);
    expect(a.done && b.done).toBe(true);
    expect(a.value!.generationId).toBe(1);
    expect(b.value!.generationId).toBe(1);
    const leader = [a.value!, b.value!].find((r) => r.leader === r.memberId)!;
    expect(leader.members).toHaveLength(2);
  });

  it('rebalances when a member joins a stable group; the leader gets every member, followers wait for its sync', async () => {
    const { coordinator: c, clock } = await startCoordinator();
    const { a, b } = await stableGroupOfTwo(c, clock);
    expect(a.generationId).toBe(2);
    expect(b.generationId).toBe(2);
    expect(a.leader).toBe(a.memberId);
    expect(a.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    expect(b.members).toEqual([]);
    const bSync = track(c.syncGroup({ groupId: 'g', generationId: 2, memberId: b.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }));
    await clock.advance(0);
    expect(bSync.done).toBe(false);
    // Commits between JoinGroup and SyncGroup are refused: the member has no assignment yet.
    const early = await c.commitOffsets({ groupId: 'g', generationId: 2, memberId: b.memberId, groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: '' }] }] });
    expect(early[0].partitions[0].errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const aSync = await c.syncGroup({
      groupId: 'g', generationId: 2, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null,
      assignments: [{ memberId: a.memberId, assignment: assignment('A') }, { memberId: b.memberId, assignment: assignment('B') }],
    });
    await clock.advance(0);
    expect(aSync.assignment.toString()).toBe('A');
    expect(bSync.done).toBe(true);
    expect(bSync.value!.assignment.toString()).toBe('B');
    expect(c.describeGroups(['g'])[0].groupState).toBe('Stable');
  });

  it('removes a member whose session expires and rebalances the rest', async () => {
    const { coordinator: c, clock } = await startCoordinator();
    const { a, b } = await stableGroupOfTwo(c, clock);
    await Promise.all([
      c.syncGroup({ groupId: 'g', generationId: 2, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }),
      c.syncGroup({ groupId: 'g', generationId: 2, memberId: b.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }),
    ]);
    // a keeps heartbeating, b goes silent.
    for (let t = 0; t < 6; t++) {
      await clock.advance(1000);
      const code = c.heartbeat({ groupId: 'g', generationId: 2, memberId: a.memberId, groupInstanceId: null });
      if (t < 5) expect(code).toBe(0);
      else expect(code).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    expect(c.describeGroups(['g'])[0].members.map((m) => m.memberId)).toEqual([a.memberId]);
    const rejoined = await c.joinGroup(joinParams({ memberId: a.memberId }));
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: 3, leader: a.memberId });
    expect(c.heartbeat({ groupId: 'g', generationId: 2, memberId: b.memberId, groupInstanceId: null })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('drops members that do not rejoin within the rebalance timeout', async () => {
    const { coordinator: c, clock } = await startCoordinator();
    const { a, b } = await stableGroupOfTwo(c, clock);
    await c.syncGroup({ groupId: 'g', generationId: 2, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    await c.syncGroup({ groupId: 'g', generationId: 2, memberId: b.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    // b re-joins with a new subscription: rebalance; a heartbeats but never rejoins.
    const bJoin = track(c.joinGroup(joinParams({ memberId: b.memberId, protocols: protocols(['orders', 'payments']) })));
    for (let i = 0; i < 9; i++) {
      await clock.advance(1000);
      expect(c.heartbeat({ groupId: 'g', generationId: 2, memberId: a.memberId, groupInstanceId: null })).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    expect(bJoin.done).toBe(false);
    await clock.advance(1000);
    expect(bJoin.done).toBe(true);
    expect(bJoin.value).toMatchObject({ errorCode: 0, generationId: 3, leader: b.memberId });
    expect(c.describeGroups(['g'])[0].members).toHaveLength(1);
  });

  it('removes members that never send SyncGroup after the join phase', async () => {
    const { coordinator: c, clock } = await startCoordinator();
    const { a, b } = await stableGroupOfTwo(c, clock);
    const aSync = track(c.syncGroup({ groupId: 'g', generationId: 2, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }));
    await clock.advance(0);
    expect(aSync.done).toBe(true);
    for (let i = 0; i < 5; i++) {
      await clock.advance(2000);
      c.heartbeat({ groupId: 'g', generationId: 2, memberId: a.memberId, groupInstanceId: null });
    }
    const group = c.describeGroups(['g'])[0];
    expect(group.members.map((m) => m.memberId)).toEqual([a.memberId]);
    expect(group.groupState).toBe('PreparingRebalance');
    expect(c.heartbeat({ groupId: 'g', generationId: 2, memberId: b.memberId, groupInstanceId: null })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('lets members leave (v0-v2 single, v3+ batch) and an emptied group bumps its generation', async () => {
    const { coordinator: c, clock } = await startCoordinator();
    const { a, b } = await stableGroupOfTwo(c, clock);
    const r1 = c.leaveGroup('g', [{ memberId: b.memberId, groupInstanceId: null }, { memberId: 'ghost', groupInstanceId: null }]);
    expect(r1.errorCode).toBe(0);
    expect(r1.members.map((m) => m.errorCode)).toEqual([0, ErrorCode.UNKNOWN_MEMBER_ID]);
    // a was waiting in CompletingRebalance: its next JoinGroup completes the round alone.
    const again = await c.joinGroup(joinParams({ memberId: a.memberId }));
    expect(again.generationId).toBe(3);
    expect(c.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null }]).members[0].errorCode).toBe(0);
    const d = c.describeGroups(['g'])[0];
    expect(d.groupState).toBe('Empty');
    expect(c.listGroups()).toEqual([{ groupId: 'g', protocolType: 'consumer', groupState: 'Empty', groupType: 'classic' }]);
    expect(c.leaveGroup('nope', [{ memberId: 'x', groupInstanceId: null }]).members[0].errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('selects the protocol every member supports, by votes, and refuses members with none in common', async () => {
    const { coordinator: c, clock } = await startCoordinator({ config: { 'group.initial.rebalance.delay.ms': 100 } });
    const p = (names: string[]) => protocols(['orders'], names);
    const j1 = track(c.joinGroup(joinParams({ protocols: p(['roundrobin', 'range']) })));
    const j2 = track(c.joinGroup(joinParams({ protocols: p(['range', 'roundrobin']) })));
    const j3 = track(c.joinGroup(joinParams({ protocols: p(['range', 'sticky', 'roundrobin']) })));
    await clock.advance(0);
    expect((await c.joinGroup(joinParams({ protocols: p(['sticky']) }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.joinGroup(joinParams({ protocolType: 'connect', protocols: p(['range']) }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    await clock.advance(300);
    expect([j1, j2, j3].map((j) => j.value!.protocolName)).toEqual(['range', 'range', 'range']);
  });

  it('mixes JoinGroup versions: a v0 member (no member id round trip) and a v5 member share a generation', async () => {
    const { coordinator: c, clock } = await startCoordinator({ config: { 'group.initial.rebalance.delay.ms': 100 } });
    const old = track(c.joinGroup(joinParams({ clientId: 'kafka-node', rebalanceTimeoutMs: 6000 })));
    const first = await c.joinGroup(joinParams({ clientId: 'kafkajs', requireKnownMemberId: true }));
    const modern = track(c.joinGroup(joinParams({ clientId: 'kafkajs', requireKnownMemberId: true, memberId: first.memberId })));
    // The second member extended the initial delay by another 100 ms.
    await clock.advance(100);
    expect(old.done).toBe(false);
    await clock.advance(100);
    expect(old.value!.generationId).toBe(1);
    expect(modern.value!.generationId).toBe(1);
    expect(old.value!.leader).toBe(old.value!.memberId);
    expect(old.value!.members).toHaveLength(2);
  });

  it('forgets a MEMBER_ID_REQUIRED id that never comes back, after the session timeout', async () => {
    const { coordinator: c, clock } = await startCoordinator();
    const a = await c.joinGroup(joinParams());
    await c.syncGroup({ groupId: 'g', generationId: 1, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    const pending = await c.joinGroup(joinParams({ requireKnownMemberId: true }));
    expect(pending.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    await clock.advance(6000);
    const late = await c.joinGroup(joinParams({ requireKnownMemberId: true, memberId: pending.memberId }));
    expect(late.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('enforces group.max.size', async () => {
    const { coordinator: c } = await startCoordinator({ config: { 'group.max.size': 1 } });
    const a = await c.joinGroup(joinParams());
    await c.syncGroup({ groupId: 'g', generationId: 1, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    const refused = await c.joinGroup(joinParams({ clientId: 'b' }));
    expect(refused.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
    expect(c.describeGroups(['g'])[0].members).toHaveLength(1);
  });

  it('static members: a restarted instance takes over its slot without a rebalance and fences the old id', async () => {
    const { coordinator: c, clock } = await startCoordinator({ config: { 'group.initial.rebalance.delay.ms': 100 } });
    const x = track(c.joinGroup(joinParams({ groupInstanceId: 'inst-x', clientId: 'x' })));
    const y = track(c.joinGroup(joinParams({ groupInstanceId: 'inst-y', clientId: 'y' })));
    await clock.advance(200);
    expect(x.value!.memberId).toMatch(/^inst-x-/);
    const leader = x.value!.leader;
    await Promise.all(
      [x.value!, y.value!].map((j) =>
        c.syncGroup({ groupId: 'g', generationId: 1, memberId: j.memberId, groupInstanceId: j.memberId.startsWith('inst-x') ? 'inst-x' : 'inst-y', protocolType: null, protocolName: null,
          assignments: j.memberId === leader ? [{ memberId: x.value!.memberId, assignment: assignment('X') }, { memberId: y.value!.memberId, assignment: assignment('Y') }] : [] }),
      ),
    );
    const oldY = y.value!.memberId;
    const restarted = await c.joinGroup(joinParams({ groupInstanceId: 'inst-y', clientId: 'y' }));
    expect(restarted.errorCode).toBe(0);
    expect(restarted.generationId).toBe(1);
    expect(restarted.memberId).not.toBe(oldY);
    expect(restarted.leader).toBe(leader);
    expect(c.describeGroups(['g'])[0].groupState).toBe('Stable');
    expect(c.heartbeat({ groupId: 'g', generationId: 1, memberId: oldY, groupInstanceId: 'inst-y' })).toBe(ErrorCode.FENCED_INSTANCE_ID);
    const sync = await c.syncGroup({ groupId: 'g', generationId: 1, memberId: restarted.memberId, groupInstanceId: 'inst-y', protocolType: null, protocolName: null, assignments: [] });
    expect(sync.assignment.toString()).toBe('Y');
    // Admin removal by instance id alone.
    const removed = c.leaveGroup('g', [{ memberId: '', groupInstanceId: 'inst-x' }]);
    expect(removed.members[0].errorCode).toBe(0);
    expect(c.describeGroups(['g'])[0].groupState).toBe('PreparingRebalance');
  });

  it('an unknown group is described as Dead without error', async () => {
    const { coordinator: c } = await startCoordinator();
    expect(c.describeGroups(['missing'])[0]).toMatchObject({ errorCode: 0, groupState: 'Dead', protocolType: '', members: [] });
  });

  it('lists groups with state and type filters', async () => {
    const { coordinator: c } = await startCoordinator();
    const a = await c.joinGroup(joinParams({ groupId: 'live' }));
    await c.syncGroup({ groupId: 'live', generationId: 1, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    await c.commitOffsets({ groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }] }] });
    expect(c.listGroups().map((g) => [g.groupId, g.groupState, g.protocolType]).sort()).toEqual([['live', 'Stable', 'consumer'], ['simple', 'Empty', '']]);
    expect(c.listGroups(['stable']).map((g) => g.groupId)).toEqual(['live']);
    expect(c.listGroups([], ['consumer'])).toEqual([]);
    expect(c.listGroups([], ['Classic'])).toHaveLength(2);
  });
});
