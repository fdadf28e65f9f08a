// KIP-848 consumer groups in __consumer_offsets: the records are Kafka 4.4's, byte for byte (the
// expected bytes were read back from a Kafka 4.4 broker's __consumer_offsets after the same
// ConsumerGroupHeartbeat requests), and a coordinator started on the log gets every group back
// with its members, epochs and assignments, so members carry on without rejoining.
import { describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../../src/broker/groups/index.js';
import { partitionForGroup } from '../../../src/broker/groups/records.js';
import { MemoryCoordinatorLog } from '../../../src/broker/groups/store.js';
import type { ConsumerHeartbeatParams } from '../../../src/broker/groups/consumer-heartbeat.js';
import { configOf, FakeClock, silentLog } from './harness.js';

const HT_ID = Buffer.from('5e6d397e4fcb4ccabd24176bf4a9badb', 'hex').toString('base64url');
const TOPICS = [
  { name: 'ht', topicId: HT_ID, partitions: 2 },
  { name: 'orders', topicId: Buffer.alloc(16, 7).toString('base64url'), partitions: 4 },
];
const topics = {
  get: (name: string) => TOPICS.find((t) => t.name === name),
  list: () => TOPICS,
  getById: (id: string) => TOPICS.find((t) => t.topicId === id),
};
const CONFIG = { 'group.consumer.session.timeout.ms': 45000, 'group.consumer.heartbeat.interval.ms': 5000 };

async function start(clock: FakeClock, store: MemoryCoordinatorLog) {
  return GroupCoordinator.start({ config: configOf(CONFIG), now: clock.now, log: silentLog, nodeId: 1, scheduler: clock, store, topics: topics as never });
}

function hb(overrides: Partial<ConsumerHeartbeatParams>): ConsumerHeartbeatParams {
  return {
    groupId: 'g',
    memberId: 'm',
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 30000,
    subscribedTopicNames: null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    ownedTopicPartitions: null,
    clientId: 'raw-test',
    clientHost: '/127.0.0.1',
    apiVersion: 1,
    ...overrides,
  };
}

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));

describe('KIP-848 consumer groups in __consumer_offsets', () => {
  it("writes Kafka 4.4's records for a member joining a new group", async () => {
    const clock = new FakeClock();
    const store = new MemoryCoordinatorLog(1);
    const c = await start(clock, store);
    // Kafka 4.4: a member subscribing to a topic that does not exist, at this time.
    clock.time = 0x1a24943c199;
    const joined = await c.consumerGroupHeartbeat(hb({ groupId: 'probe', memberId: 'P'.repeat(22), subscribedTopicNames: ['zz'], ownedTopicPartitions: [] }));
    expect(joined).toMatchObject({ errorCode: 0, memberEpoch: 2 });
    // And one owning both partitions of `ht`.
    clock.time = 0x1a24943c215;
    const owner = await c.consumerGroupHeartbeat(hb({ groupId: 'hg', memberId: 'A'.repeat(22), subscribedTopicNames: ['ht'], ownedTopicPartitions: [] }));
    expect(owner).toMatchObject({ errorCode: 0, memberEpoch: 2, assignment: { topicPartitions: [{ topicId: HT_ID, partitions: [0, 1] }] } });
    await c.close();
    const records = store.partitions[0].map((r) => [hex(r.key), hex(r.value)]);
    const probe = '000570726f6265';
    const p = '0016' + '50'.repeat(22);
    const hg = '00026867';
    const a = '0016' + '41'.repeat(22);
    expect(records).toEqual([
      [`0005${probe}${p}`, '00000000097261772d746573740b2f3132372e302e302e3102037a7a01000075300001000100'],
      [`0003${probe}`, '00000000000200'],
      [`0007${probe}${p}`, '00000100'],
      [`0006${probe}`, '000000000002010008000001a24943c199'],
      [`0008${probe}${p}`, '0000000000020000000000010100'],
      [`0005${hg}${a}`, '00000000097261772d746573740b2f3132372e302e302e310203687401000075300001000100'],
      // Kafka 4.4 also writes the subscribed topics' metadata hash (tag 0, KIP-1101); kts does not (README).
      [`0003${hg}`, '00000000000200'],
      [`0007${hg}${a}`, '0000025e6d397e4fcb4ccabd24176bf4a9badb0300000000000000010000'],
      [`0006${hg}`, '000000000002010008000001a24943c215'],
      [`0008${hg}${a}`, '0000000000020000000000025e6d397e4fcb4ccabd24176bf4a9badb0300000000000000010100090300000002000000020100'],
    ]);
  });

  it('tombstones a member that leaves, then writes the new epochs', async () => {
    const clock = new FakeClock();
    const store = new MemoryCoordinatorLog(1);
    const c = await start(clock, store);
    await c.consumerGroupHeartbeat(hb({ memberId: 'A'.repeat(22), subscribedTopicNames: ['ht'], ownedTopicPartitions: [] }));
    const before = store.partitions[0].length;
    await c.consumerGroupHeartbeat(hb({ memberId: 'A'.repeat(22), memberEpoch: -1 }));
    await c.close();
    const written = store.partitions[0].slice(before).map((r) => [r.key.readInt16BE(0), r.value === null ? 'tombstone' : r.value.readInt32BE(2)]);
    // Kafka 4.4's order: current assignment, target and subscription go, then the group epoch and
    // the assignment epoch move on (3, for an empty target).
    expect(written).toEqual([
      [8, 'tombstone'],
      [7, 'tombstone'],
      [5, 'tombstone'],
      [3, 3],
      [6, 3],
    ]);
    expect(hex(store.partitions[0].at(-1)!.value)).toBe('00000000000300');
  });

  it('brings members, epochs and assignments back after a restart; members carry on, silent ones time out', async () => {
    const clock = new FakeClock();
    const store = new MemoryCoordinatorLog(3);
    const first = await start(clock, store);
    const one = await first.consumerGroupHeartbeat(hb({ memberId: 'member-1', subscribedTopicNames: ['orders'], ownedTopicPartitions: [], rackId: 'r1', instanceId: 'i1' }));
    const owned1 = one.assignment!.topicPartitions;
    const two = await first.consumerGroupHeartbeat(hb({ memberId: 'member-2', subscribedTopicNames: ['orders'], ownedTopicPartitions: [], serverAssignor: 'uniform' }));
    // member-1 is asked to give up two partitions and has not yet: mid-reconciliation.
    const revoking = await first.consumerGroupHeartbeat(hb({ memberId: 'member-1', memberEpoch: one.memberEpoch, ownedTopicPartitions: owned1 }));
    expect(revoking.memberEpoch).toBe(one.memberEpoch);
    const [before] = first.describeConsumerGroups(['g']);
    expect(before.groupState).toBe('Reconciling');
    await first.close();

    const second = await start(clock, store);
    const [after] = second.describeConsumerGroups(['g']);
    expect(after).toEqual(before);
    // The group partition holds no record of another group's, and Kafka's types only.
    const types = new Set(store.partitions[partitionForGroup('g', 3)].map((r) => r.key.readInt16BE(0)));
    expect([...types].sort()).toEqual([3, 5, 6, 7, 8]);

    // member-1 acknowledges the revocation with the epoch it had before the restart.
    const kept = revoking.assignment?.topicPartitions ?? owned1.map((t) => ({ ...t, partitions: t.partitions.slice(0, 2) }));
    const ack = await second.consumerGroupHeartbeat(hb({ memberId: 'member-1', memberEpoch: one.memberEpoch, ownedTopicPartitions: kept }));
    expect(ack.errorCode).toBe(0);
    expect(ack.memberEpoch).toBe(after.assignmentEpoch);
    expect(two.errorCode).toBe(0);
    // member-2 keeps silent: its session (45 s) runs out as it would have without the restart.
    await clock.advance(44_000);
    expect(second.describeConsumerGroups(['g'])[0].members.map((m) => m.memberId).sort()).toEqual(['member-1', 'member-2']);
    await second.consumerGroupHeartbeat(hb({ memberId: 'member-1', memberEpoch: ack.memberEpoch, ownedTopicPartitions: ack.assignment?.topicPartitions ?? kept }));
    await clock.advance(2_000);
    const [later] = second.describeConsumerGroups(['g']);
    expect(later.members.map((m) => m.memberId)).toEqual(['member-1']);
    expect(later.groupEpoch).toBe(after.groupEpoch + 1);
    await second.close();

    // A third start sees member-2 gone too (its records were tombstoned).
    const third = await start(clock, store);
    expect(third.describeConsumerGroups(['g'])[0].members.map((m) => m.memberId)).toEqual(['member-1']);
    await third.close();
  });

  it('a deleted consumer group does not come back', async () => {
    const clock = new FakeClock();
    const store = new MemoryCoordinatorLog(1);
    const c = await start(clock, store);
    await c.consumerGroupHeartbeat(hb({ memberId: 'A'.repeat(22), subscribedTopicNames: ['ht'], ownedTopicPartitions: [] }));
    await c.consumerGroupHeartbeat(hb({ memberId: 'A'.repeat(22), memberEpoch: -1 }));
    expect(await c.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: 0 }]);
    await c.close();
    const again = await start(clock, store);
    expect(again.describeConsumerGroups(['g'])[0].errorCode).toBe(69);
    await again.close();
  });
});
