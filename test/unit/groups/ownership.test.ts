// A broker coordinates the groups of the __consumer_offsets partitions it leads, and follows that
// leadership: elected, it reads the partition's groups from its replica (what it copied as a
// follower); deposed, it drops them and writes nothing more there. (Before, a new coordinator knew
// only what it had loaded at its start: found by test/e2e/cluster/failover.test.ts.)
import { describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../../src/broker/groups/coordinator.js';
import { offsetCommitKey, offsetCommitValue, partitionForGroup } from '../../../src/broker/groups/records.js';
import { MemoryCoordinatorLog } from '../../../src/broker/groups/store.js';
import { leadsCoordinatorPartition } from '../../../src/broker/groups/topic-log.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { FakeClock, configOf, settle, silentLog, TOPICS } from './harness.js';

/**
 * A coordinator on broker 1 of a cluster (its states are followed: onStatesChanged) with `partitions`
 * __consumer_offsets partitions whose states `stateOf` gives; `statesChanged()` tells it they moved.
 */
async function coordinatorInCluster(partitions: number, stateOf: (partition: number) => { leader: number; leaderEpoch: number } | undefined) {
  const store = new MemoryCoordinatorLog(partitions);
  let changed = () => {};
  const clock = new FakeClock();
  const coordinator = await GroupCoordinator.start({
    config: configOf(),
    now: clock.now,
    log: silentLog,
    nodeId: 1,
    scheduler: clock,
    store,
    topics: {
      get: (name: string) => (TOPICS[name] ? { partitions: TOPICS[name] } : name === '__consumer_offsets' ? { partitions } : undefined),
      partitionState: (_topic: string, partition: number) => stateOf(partition),
      onStatesChanged: (listener: () => void) => (changed = listener),
      create: async () => undefined,
    } as never,
  });
  await settle();
  return { coordinator, store, statesChanged: () => changed() };
}

describe('coordinator of the __consumer_offsets partitions this broker leads', () => {
  it('loads a partition when elected its leader, drops it when deposed, and never writes to it then', async () => {
    const p = partitionForGroup('g', 50);
    const leaders = new Map<number, number>();
    const { coordinator, store, statesChanged: changed } = await coordinatorInCluster(50, (partition) => ({ leader: leaders.get(partition) ?? 2, leaderEpoch: 0 }));
    const fetch = () => coordinator.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [0] }]);
    expect(fetch().errorCode).toBe(ErrorCode.NOT_COORDINATOR);

    // Broker 2 led it and committed; this broker's replica has the record.
    await store.append(p, [{ key: offsetCommitKey('g', 'orders', 0), value: offsetCommitValue({ offset: 42, leaderEpoch: -1, metadata: '', commitTimestamp: 1, expireTimestamp: null }) }]);
    leaders.set(p, 1);
    // Elected, but the load has not started (the metadata says so before the listener runs): the
    // groups are not in memory yet, so nothing is answered from it (it answered -1, errorCode 0).
    expect(fetch().errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    changed();
    await settle();
    const fetched = fetch();
    expect(fetched.errorCode).toBe(0);
    expect(fetched.topics[0].partitions[0]).toMatchObject({ partitionIndex: 0, committedOffset: 42 });

    // Deposed: the group is dropped and a commit is refused without touching the replica.
    leaders.set(p, 3);
    changed();
    await settle();
    expect(fetch().errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    const before = store.partitions[p].length;
    const commit = await coordinator.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 50, committedLeaderEpoch: -1, committedMetadata: '' }] }] } as never);
    expect(commit[0].partitions[0].errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(store.partitions[p].length).toBe(before);
    await coordinator.close();
  });
  it('in a cluster, owns no partition whose state it has not read yet: a commit then is NOT_COORDINATOR and writes nothing', async () => {
    // A broker learns of __consumer_offsets (and creates its logs) a moment before the partition's
    // state; it answered a commit then from its own replica alone, followers included.
    let state: { leader: number; leaderEpoch: number } | undefined;
    const { coordinator, store, statesChanged: changed } = await coordinatorInCluster(1, () => state);
    const commit = async (offset: number) =>
      (await coordinator.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: '' }] }] } as never))[0].partitions[0].errorCode;
    expect(await commit(10)).toBe(ErrorCode.NOT_COORDINATOR);
    expect(store.partitions[0].length).toBe(0);
    expect(coordinator.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [0] }]).errorCode).toBe(ErrorCode.NOT_COORDINATOR);

    state = { leader: 1, leaderEpoch: 0 };
    changed();
    await settle();
    expect(await commit(10)).toBe(0);
    expect(store.partitions[0].length).toBe(1);
    await coordinator.close();
  });

  it('the same rule for every coordinator topic; a lone broker leads every partition, also of a topic not created yet', () => {
    const cluster = (state?: { leader: number }) => ({ get: () => ({ partitions: 1 }), partitionState: () => state, onStatesChanged: () => {}, create: async () => undefined });
    expect(leadsCoordinatorPartition(cluster(), '__transaction_state', 0, 1)).toBe(false);
    expect(leadsCoordinatorPartition(cluster({ leader: 2 }), '__transaction_state', 0, 1)).toBe(false);
    expect(leadsCoordinatorPartition(cluster({ leader: 1 }), '__transaction_state', 0, 1)).toBe(true);
    const lone = { get: () => undefined, partitionState: () => undefined, create: async () => undefined };
    expect(leadsCoordinatorPartition(lone, '__consumer_offsets', 0, 1)).toBe(true);
  });
});

