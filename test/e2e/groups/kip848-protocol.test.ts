// ConsumerGroupHeartbeat (68) and ConsumerGroupDescribe (69) request by request: incremental
// reconciliation (a partition goes to its new member only after its owner acknowledged revoking
// it; the member epoch moves on only then), the range assignor, Kafka's error codes, and how the
// other group APIs (OffsetCommit/OffsetFetch v9, ListGroups v5, DescribeGroups, JoinGroup) treat a
// consumer group.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { connectClients, createTopic } from './support.js';

type Owned = { topicId: string; partitions: number[] }[];

describe('KIP-848 consumer group protocol, request by request', () => {
  let broker: SpawnedBroker;
  let client: RawClient;

  beforeAll(async () => {
    broker = await spawnBroker({ overrides: { 'offsets.topic.num.partitions': '3' } });
    const { admin, producer } = await connectClients(broker.bootstrap);
    await createTopic(admin, 'recon', 4);
    await createTopic(admin, 'ranged', 5);
    await admin.disconnect();
    await producer.disconnect();
    client = await RawClient.connect(broker.port);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  const heartbeat = (body: Record<string, unknown>) =>
    client.request(68, 1, {
      groupId: 'g',
      memberId: 'm',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30000,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
      ...body,
    });
  const parts = (r: { assignment: { topicPartitions: Owned } | null }) => (r.assignment?.topicPartitions ?? []).flatMap((t) => t.partitions).sort();

  it('revokes from the owner before assigning to the newcomer; epochs follow acknowledgements', async () => {
    const g = 'recon-group';
    const join1 = await heartbeat({ groupId: g, memberId: 'member-1', subscribedTopicNames: ['recon'], topicPartitions: [] });
    expect(join1).toMatchObject({ errorCode: 0, memberId: 'member-1', memberEpoch: 2, heartbeatIntervalMs: 5000 });
    expect(parts(join1)).toEqual([0, 1, 2, 3]);
    const topicId = join1.assignment.topicPartitions[0].topicId;

    const join2 = await heartbeat({ groupId: g, memberId: 'member-2', subscribedTopicNames: ['recon'], topicPartitions: [] });
    // Epoch 3, but nothing yet: every partition is still member-1's.
    expect(join2).toMatchObject({ errorCode: 0, memberEpoch: 3 });
    expect(parts(join2)).toEqual([]);

    // member-1 learns it must give up two partitions; it keeps epoch 1 until it has.
    const revoke = await heartbeat({ groupId: g, memberId: 'member-1', memberEpoch: 2 });
    expect(revoke.memberEpoch).toBe(2);
    const kept = parts(revoke);
    expect(kept).toHaveLength(2);
    const described = (await client.request(69, 1, { groupIds: [g], includeAuthorizedOperations: false })).groups[0];
    expect(described).toMatchObject({ errorCode: 0, groupState: 'Reconciling', groupEpoch: 3, assignmentEpoch: 3, assignorName: 'uniform' });

    const stillWaiting = await heartbeat({ groupId: g, memberId: 'member-2', memberEpoch: 3 });
    expect(stillWaiting.errorCode).toBe(0);
    expect(parts(stillWaiting)).toEqual([]);

    // Still owning all four (not acknowledged): no progress.
    const notYet = await heartbeat({ groupId: g, memberId: 'member-1', memberEpoch: 2, topicPartitions: [{ topicId, partitions: [0, 1, 2, 3] }] });
    expect(notYet.memberEpoch).toBe(2);
    const acked = await heartbeat({ groupId: g, memberId: 'member-1', memberEpoch: 2, topicPartitions: [{ topicId, partitions: kept }] });
    expect(acked.memberEpoch).toBe(3);

    const freed = await heartbeat({ groupId: g, memberId: 'member-2', memberEpoch: 3 });
    expect(parts(freed)).toEqual([0, 1, 2, 3].filter((p) => !kept.includes(p)));
    const stable = (await client.request(69, 1, { groupIds: [g], includeAuthorizedOperations: false })).groups[0];
    expect(stable.groupState).toBe('Stable');

    // OffsetCommit v9: the member's epoch, or (KIP-1251) an older one for partitions it has held
    // since then, else STALE_MEMBER_EPOCH; unknown member UNKNOWN_MEMBER_ID.
    const commit = (memberId: string, epoch: number, partition = kept[0]) =>
      client.request(8, 9, {
        groupId: g,
        generationIdOrMemberEpoch: epoch,
        memberId,
        groupInstanceId: null,
        topics: [{ name: 'recon', partitions: [{ partitionIndex: partition, committedOffset: 3, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
    expect((await commit('member-1', 3)).topics[0].partitions[0].errorCode).toBe(0);
    expect((await commit('member-1', 2)).topics[0].partitions[0].errorCode).toBe(0);
    expect((await commit('member-1', 2, [0, 1, 2, 3].find((p) => !kept.includes(p)))).topics[0].partitions[0].errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect((await commit('member-1', 4)).topics[0].partitions[0].errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect((await commit('nobody', 3)).topics[0].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const fetch = (memberId: string | null, memberEpoch: number) =>
      client.request(9, 9, { groups: [{ groupId: g, memberId, memberEpoch, topics: [{ name: 'recon', partitionIndexes: [kept[0]] }] }], requireStable: false });
    expect((await fetch('member-1', 3)).groups[0]).toMatchObject({ errorCode: 0, topics: [{ partitions: [{ committedOffset: 3 }] }] });
    expect((await fetch('member-1', 2)).groups[0].errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect((await fetch(null, -1)).groups[0].errorCode).toBe(0);

    // Epochs from the future, unknown members.
    expect((await heartbeat({ groupId: g, memberId: 'member-1', memberEpoch: 7 })).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect((await heartbeat({ groupId: g, memberId: 'ghost', memberEpoch: 3 })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

    // ListGroups v5 with types, DescribeGroups (classic API) on a consumer group, classic JoinGroup.
    const listed = await client.request(16, 5, { statesFilter: [], typesFilter: ['consumer'] });
    expect(listed.groups).toContainEqual({ groupId: g, protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' });
    expect((await client.request(16, 5, { statesFilter: [], typesFilter: ['classic'] })).groups.map((x: { groupId: string }) => x.groupId)).not.toContain(g);
    expect((await client.request(15, 5, { groups: [g], includeAuthorizedOperations: false })).groups[0].errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    // A classic member may join a live consumer group (it runs inside it: kip848-migration-protocol.test.ts),
    // with the consumer protocol type only.
    const classicJoin = (protocolType: string) =>
      client.request(11, 5, {
        groupId: g,
        sessionTimeoutMs: 10000,
        rebalanceTimeoutMs: 10000,
        memberId: '',
        groupInstanceId: null,
        protocolType,
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      });
    expect((await classicJoin('connect')).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await classicJoin('consumer')).errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);

    // Leaving (-1) moves the group on; the other member gets everything.
    expect(await heartbeat({ groupId: g, memberId: 'member-2', memberEpoch: -1 })).toMatchObject({ errorCode: 0, memberEpoch: -1 });
    const alone = await heartbeat({ groupId: g, memberId: 'member-1', memberEpoch: 3 });
    expect(alone.memberEpoch).toBe(4);
    expect(parts(alone)).toEqual([0, 1, 2, 3]);
  });

  it('range: consecutive ranges in member id order', async () => {
    const g = 'ranged-group';
    const a = await heartbeat({ groupId: g, memberId: 'a', subscribedTopicNames: ['ranged'], serverAssignor: 'range', topicPartitions: [] });
    expect(parts(a)).toEqual([0, 1, 2, 3, 4]);
    await heartbeat({ groupId: g, memberId: 'b', subscribedTopicNames: ['ranged'], serverAssignor: 'range', topicPartitions: [] });
    const described = (await client.request(69, 1, { groupIds: [g], includeAuthorizedOperations: false })).groups[0];
    expect(described.assignorName).toBe('range');
    const targets = Object.fromEntries(described.members.map((m: any) => [m.memberId, m.targetAssignment.topicPartitions[0]?.partitions ?? []]));
    expect(targets).toEqual({ a: [0, 1, 2], b: [3, 4] });
  });

  it('answers bad heartbeats with Kafka\'s error codes', async () => {
    const g = 'errors-group';
    expect((await heartbeat({ groupId: g, memberId: '', subscribedTopicNames: ['recon'], topicPartitions: [] })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await heartbeat({ groupId: g, memberId: 'x', topicPartitions: [] })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await heartbeat({ groupId: g, memberId: 'x', subscribedTopicNames: ['recon'], topicPartitions: [], serverAssignor: 'sticky' })).errorCode).toBe(
      ErrorCode.UNSUPPORTED_ASSIGNOR,
    );
    expect((await heartbeat({ groupId: g, memberId: 'x', subscribedTopicRegex: '(', topicPartitions: [] })).errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    // A regex subscription: matches whole topic names.
    const byRegex = await heartbeat({ groupId: 'regex-group', memberId: 'x', subscribedTopicRegex: 'rec.*', topicPartitions: [] });
    expect(parts(byRegex)).toEqual([0, 1, 2, 3]);
    // Static members: a second one with the same instance id is refused while the first is in.
    expect((await heartbeat({ groupId: 'static-group', memberId: 's1', instanceId: 'i', subscribedTopicNames: ['recon'], topicPartitions: [] })).errorCode).toBe(0);
    expect((await heartbeat({ groupId: 'static-group', memberId: 's2', instanceId: 'i', subscribedTopicNames: ['recon'], topicPartitions: [] })).errorCode).toBe(
      ErrorCode.UNRELEASED_INSTANCE_ID,
    );
    // Once it stepped out (-2) the new one takes its place, partitions and epoch.
    expect((await heartbeat({ groupId: 'static-group', memberId: 's1', instanceId: 'i', memberEpoch: -2 })).memberEpoch).toBe(-2);
    const back = await heartbeat({ groupId: 'static-group', memberId: 's2', instanceId: 'i', subscribedTopicNames: ['recon'], topicPartitions: [] });
    expect(back).toMatchObject({ errorCode: 0, memberEpoch: 2 });
    expect(parts(back)).toEqual([0, 1, 2, 3]);
    // ConsumerGroupDescribe of an unknown group.
    expect((await client.request(69, 1, { groupIds: ['nope'], includeAuthorizedOperations: false })).groups[0].errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });
});
