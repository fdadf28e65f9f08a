import { describe, expect, it } from 'vitest';
import {
  decodeGroupMetadataValue,
  decodeKey,
  decodeOffsetCommitValue,
  groupMetadataKey,
  javaStringHash,
  offsetCommitKey,
  offsetCommitValue,
  partitionForGroup,
} from '../../../src/broker/groups/records.js';
import { MemoryCoordinatorLog } from '../../../src/broker/groups/store.js';
import { FakeClock, joinParams, startCoordinator } from './harness.js';

describe('__consumer_offsets records', () => {
  it('uses Kafka key layouts: OffsetCommitKey v1 and GroupMetadataKey v2', () => {
    expect(offsetCommitKey('g', 't', 3).toString('hex')).toBe('0001' + '0001' + '67' + '0001' + '74' + '00000003');
    expect(groupMetadataKey('grp').toString('hex')).toBe('0002' + '0003' + Buffer.from('grp').toString('hex'));
    expect(decodeKey(offsetCommitKey('g', 't', 3))).toEqual({ type: 'offset', legacy: false, group: 'g', topic: 't', partition: 3 });
    expect(decodeKey(offsetCommitKey('g', 't', 3, true))).toMatchObject({ legacy: true });
    // Kafka 4.4's subscription-metadata records (4) are not kept; a regex's resolution (16) is, by group and regex.
    expect(decodeKey(Buffer.from([0, 4, 0, 0]))).toBeNull();
    expect(decodeKey(Buffer.from([0, 16, 0, 1, 0x67, 0, 2, 0x61, 0x2a]))).toEqual({ type: 'consumer-record', recordType: 16, group: 'g', memberId: 'a*' });
    expect(decodeKey(Buffer.from([0, 5, 0, 1, 0x67, 0, 1, 0x6d]))).toEqual({ type: 'consumer-record', recordType: 5, group: 'g', memberId: 'm' });
  });

  it('writes OffsetCommitValue v4 with the topic id (v3 as Kafka 3.9, v1 when an expire timestamp is set) and reads v0-v4', () => {
    const committed = { offset: 42, leaderEpoch: 7, metadata: 'm', commitTimestamp: 1000, expireTimestamp: null };
    // v4: compact string, then one tagged field (tag 0, 16 bytes): the topic id.
    const topicId = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const v4 = offsetCommitValue(committed, topicId.toString('base64url'));
    expect(v4.toString('hex')).toBe('0004' + '000000000000002a' + '00000007' + '02' + '6d' + '00000000000003e8' + '01' + '00' + '10' + topicId.toString('hex'));
    expect(decodeOffsetCommitValue(v4)).toEqual(committed);
    // Without a topic id (the topic is unknown): no tagged field.
    expect(offsetCommitValue(committed).toString('hex')).toBe('0004' + '000000000000002a' + '00000007' + '02' + '6d' + '00000000000003e8' + '00');
    const v3 = offsetCommitValue(committed, topicId.toString('base64url'), 3);
    expect(v3.toString('hex')).toBe('0003' + '000000000000002a' + '00000007' + '0001' + '6d' + '00000000000003e8');
    expect(decodeOffsetCommitValue(v3)).toEqual({ offset: 42, leaderEpoch: 7, metadata: 'm', commitTimestamp: 1000, expireTimestamp: null });
    const v1 = offsetCommitValue({ offset: 1, leaderEpoch: -1, metadata: '', commitTimestamp: 5, expireTimestamp: 9 });
    expect(v1.readInt16BE(0)).toBe(1);
    expect(decodeOffsetCommitValue(v1)).toMatchObject({ offset: 1, commitTimestamp: 5, expireTimestamp: 9 });
    // v4 (flexible) as another writer may lay it out: compact string + empty tagged fields.
    const other = Buffer.from('0004' + '0000000000000005' + 'ffffffff' + '02' + '78' + '0000000000000006' + '00', 'hex');
    expect(decodeOffsetCommitValue(other)).toEqual({ offset: 5, leaderEpoch: -1, metadata: 'x', commitTimestamp: 6, expireTimestamp: null });
  });

  it('places groups by Java String.hashCode, abs, mod partitions', () => {
    expect(javaStringHash('hello')).toBe(99162322);
    expect(javaStringHash('polygenelubricants')).toBe(-2147483648);
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0);
    expect(partitionForGroup('hello', 50)).toBe(99162322 % 50);
    expect(partitionForGroup('console-consumer-1', 50)).toBe(Math.abs(javaStringHash('console-consumer-1')) % 50);
  });
});

describe('reloading the coordinator from its log', () => {
  it('restores committed offsets, simple groups, v0 offsets and stable groups with their members', async () => {
    const clock = new FakeClock();
    const store = new MemoryCoordinatorLog(50);
    const first = await startCoordinator({ clock, store });
    const c = first.coordinator;
    const j = await c.joinGroup(joinParams());
    await c.syncGroup({ groupId: 'g', generationId: 1, memberId: j.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [{ memberId: j.memberId, assignment: Buffer.from('A') }] });
    const part = (o: number) => [{ partitionIndex: 0, committedOffset: o, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null }];
    await c.commitOffsets({ groupId: 'g', generationId: 1, memberId: j.memberId, groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'orders', partitions: part(5) }] });
    await c.commitOffsets({ groupId: 'g', generationId: 1, memberId: j.memberId, groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'orders', partitions: part(8) }] });
    await c.commitOffsets({ groupId: 's', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'payments', partitions: part(2) }] });
    await c.commitOffsets({ groupId: 'kafka-node-group', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'orders', partitions: part(11) }] }, true);
    await c.commitOffsets({ groupId: 'gone', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'orders', partitions: part(1) }] });
    await c.deleteGroups(['gone']);
    await c.close();

    const p = partitionForGroup('g', 50);
    const keys = store.partitions[p].map((r) => decodeKey(r.key));
    expect(keys).toContainEqual({ type: 'group', group: 'g' });
    const meta = store.partitions[p].find((r) => decodeKey(r.key)?.type === 'group')!;
    expect(decodeGroupMetadataValue(meta.value!)).toMatchObject({ protocolType: 'consumer', generation: 1, protocol: 'range', leader: j.memberId });

    const second = await startCoordinator({ clock, store });
    const c2 = second.coordinator;
    expect(c2.fetchOffsets('g', null).topics[0].partitions[0].committedOffset).toBe(8);
    expect(c2.fetchOffsets('s', null).topics[0].partitions[0].committedOffset).toBe(2);
    expect(c2.fetchOffsets('kafka-node-group', [{ name: 'orders', partitionIndexes: [0] }], true).topics[0].partitions[0].committedOffset).toBe(11);
    expect(c2.fetchOffsets('gone', null).topics).toEqual([]);
    const d = c2.describeGroups(['g'])[0];
    expect(d).toMatchObject({ groupState: 'Stable', protocolData: 'range' });
    expect(d.members[0].memberId).toBe(j.memberId);
    expect(d.members[0].memberAssignment.toString()).toBe('A');
    // The member carries on with its generation after the restart...
    expect(c2.heartbeat({ groupId: 'g', generationId: 1, memberId: j.memberId, groupInstanceId: null })).toBe(0);
    // ...or, once silent for its session timeout, is removed.
    await second.clock.advance(6000);
    expect(c2.describeGroups(['g'])[0].groupState).toBe('Empty');
    expect(c2.listGroups().map((g) => g.groupId).sort()).toEqual(['g', 's']);
  });
});
