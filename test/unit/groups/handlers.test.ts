// The group API handlers through the real codec, at every version they advertise: request bytes
// in, handler, response bytes out and decoded again. Catches field names, nullability per
// version and answers that the encoder would refuse.
import { describe, expect, it } from 'vitest';
import { decodeRequestBody, decodeRequestHeader, decodeResponse, encodeRequest, encodeResponse, encodeConsumerSubscription } from '../../../src/protocol/index.js';
import { groupHandlers, type GroupCoordinator } from '../../../src/broker/groups/index.js';
import type { ApiHandler } from '../../../src/broker/api-handler.js';
import { ANONYMOUS } from '../../../src/broker/security/principal.js';
import { startCoordinator, silentLog } from './harness.js';

const byKey = new Map(groupHandlers.map((h) => [h.apiKey, h]));

// The cluster view of one broker (node 1) that leads every partition, as the embedded registry answers.
const singleBroker = {
  partitionState: () => ({ leader: 1 }),
  liveBrokers: () => [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
};

function makeCall(groups: GroupCoordinator) {
  return async (apiKey: number, version: number, body: object): Promise<any> => {
    const handler = byKey.get(apiKey) as ApiHandler;
    expect(version).toBeGreaterThanOrEqual(handler.minVersion);
    expect(version).toBeLessThanOrEqual(handler.maxVersion);
    const frame = Buffer.concat(encodeRequest(apiKey, version, 7, 'test-client', body)).subarray(4);
    const { header, bodyOffset } = decodeRequestHeader(frame);
    const request = decodeRequestBody(apiKey, version, frame, bodyOffset);
    const ctx = {
      apiVersion: version,
      correlationId: header.correlationId,
      clientId: header.clientId,
      broker: { nodeId: 1, advertised: { host: 'localhost', port: 9092 }, groups, log: silentLog, topics: singleBroker },
      connection: { id: 1, remoteAddress: '::ffff:127.0.0.1', principal: ANONYMOUS, listenerName: 'PLAINTEXT', securityProtocol: 'PLAINTEXT' },
    } as any;
    const response = await handler.handle(request, ctx);
    const out = Buffer.concat(encodeResponse(apiKey, version, 7, response!)).subarray(4);
    return decodeResponse(apiKey, version, out).body;
  };
}

const meta = encodeConsumerSubscription(0, { topics: ['orders'], userData: null });

describe('group handlers through the codec', () => {
  for (let v = 0; v <= 9; v++) {
    it(`JoinGroup v${v} with the matching SyncGroup, Heartbeat, OffsetCommit/Fetch, Describe, List and LeaveGroup`, async () => {
      const { coordinator } = await startCoordinator();
      const call = makeCall(coordinator);
      const groupId = `group-v${v}`;
      const join = (memberId: string) =>
        call(11, v, { groupId, sessionTimeoutMs: 6000, rebalanceTimeoutMs: 6000, memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: meta }], reason: null });
      let j = await join('');
      if (v >= 4) {
        expect(j.errorCode).toBe(79);
        j = await join(j.memberId);
      }
      expect(j).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', leader: j.memberId });
      expect(j.memberId).toMatch(/^test-client-/);
      expect(j.members).toHaveLength(1);
      if (v >= 7) expect(j.protocolType).toBe('consumer');

      const sv = Math.min(v, 5);
      const s = await call(14, sv, { groupId, generationId: 1, memberId: j.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: j.memberId, assignment: Buffer.from('abc') }] });
      expect(s.errorCode).toBe(0);
      expect(Buffer.from(s.assignment).toString()).toBe('abc');

      expect((await call(12, Math.min(v, 4), { groupId, generationId: 1, memberId: j.memberId, groupInstanceId: null })).errorCode).toBe(0);

      const ov = Math.min(v, 9);
      const c = await call(8, ov, {
        groupId, generationIdOrMemberEpoch: 1, memberId: j.memberId, groupInstanceId: null, retentionTimeMs: -1,
        topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 17, committedLeaderEpoch: 2, commitTimestamp: -1, committedMetadata: 'm' }] }],
      });
      expect(c.topics[0].partitions[0]).toMatchObject({ partitionIndex: 1, errorCode: 0 });
      const fetched = ov >= 8
        ? (await call(9, ov, { groups: [{ groupId, topics: [{ name: 'orders', partitionIndexes: [1, 2] }] }], requireStable: false })).groups[0]
        : await call(9, ov, { groupId, topics: [{ name: 'orders', partitionIndexes: [1, 2] }], requireStable: false });
      const parts = fetched.topics[0].partitions;
      // v0 commits and fetches both use the ZooKeeper-era namespace.
      if (ov === 0) expect(parts[0].committedOffset).toBe(17);
      else expect(parts.map((p: any) => p.committedOffset)).toEqual([17, -1]);
      if (ov >= 6) expect(parts[0].committedLeaderEpoch).toBe(2);
      if (ov === 0) expect(parts[1].errorCode).toBe(3);

      const d = await call(15, Math.min(v, 5), { groups: [groupId, 'nope'], includeAuthorizedOperations: true });
      expect(d.groups[0]).toMatchObject({ groupId, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
      expect(d.groups[0].members[0]).toMatchObject({ memberId: j.memberId, clientId: 'test-client', clientHost: '/127.0.0.1' });
      expect(d.groups[1]).toMatchObject({ errorCode: 0, groupState: 'Dead' });

      const l = await call(16, Math.min(v, 5), { statesFilter: [], typesFilter: [] });
      expect(l.groups.map((g: any) => g.groupId)).toEqual([groupId]);
      if (v >= 4) expect(l.groups[0].groupState).toBe('Stable');

      const lv = Math.min(v, 5);
      const leave = await call(13, lv, lv >= 3 ? { groupId, members: [{ memberId: j.memberId, groupInstanceId: null, reason: null }] } : { groupId, memberId: j.memberId });
      expect(leave.errorCode).toBe(0);
      if (lv >= 3) expect(leave.members[0]).toMatchObject({ memberId: j.memberId, errorCode: 0 });
    });
  }

  for (let v = 0; v <= 6; v++) {
    it(`FindCoordinator v${v}`, async () => {
      const { coordinator, store } = await startCoordinator();
      const call = makeCall(coordinator);
      const r = await call(10, v, { key: 'g', keyType: 0, coordinatorKeys: ['g', 'h'] });
      if (v >= 4) {
        expect(r.coordinators).toEqual([
          expect.objectContaining({ key: 'g', nodeId: 1, host: 'localhost', port: 9092, errorCode: 0 }),
          expect.objectContaining({ key: 'h', nodeId: 1, errorCode: 0 }),
        ]);
      } else expect(r).toMatchObject({ errorCode: 0, nodeId: 1, host: 'localhost', port: 9092 });
      expect(store.created).toBe(true);
      if (v >= 1) {
        // This context has no transaction coordinator: COORDINATOR_NOT_AVAILABLE (the e2e tests cover key type 1).
        const t = await call(10, v, { key: 'tx', keyType: 1, coordinatorKeys: ['tx'] });
        expect(v >= 4 ? t.coordinators[0].errorCode : t.errorCode).toBe(15);
      }
    });
  }

  it('OffsetFetch v2+ with null topics returns everything; DeleteGroups v0-v2; OffsetDelete v0', async () => {
    const { coordinator } = await startCoordinator();
    const call = makeCall(coordinator);
    await call(8, 2, { groupId: 's', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: -1, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 4, committedMetadata: null }, { partitionIndex: 2, committedOffset: 6, committedMetadata: '' }] }] });
    for (const v of [2, 5, 7]) {
      const all = await call(9, v, { groupId: 's', topics: null, requireStable: true });
      expect(all.errorCode).toBe(0);
      expect(all.topics[0].partitions.map((p: any) => p.committedOffset)).toEqual([4, 6]);
    }
    const batch = await call(9, 8, { groups: [{ groupId: 's', topics: null }, { groupId: 'x', topics: null }], requireStable: false });
    expect(batch.groups.map((g: any) => g.topics.length)).toEqual([1, 0]);
    const od = await call(47, 0, { groupId: 's', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0 }] }] });
    expect(od).toMatchObject({ errorCode: 0, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] });
    for (const v of [0, 1, 2]) {
      const del = await call(42, v, { groupsNames: ['s'] });
      expect(del.results[0]).toMatchObject({ groupId: 's', errorCode: v === 0 ? 0 : 69 });
    }
  });
});
