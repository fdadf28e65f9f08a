// Group metadata is capped (kts.group.member.metadata.max.bytes, 1 MiB by default): a JoinGroup
// whose protocols (names and metadata) take more, or a leader's SyncGroup with a larger assignment,
// is answered MESSAGE_TOO_LARGE and nothing of it is kept. Checked on every path that stores
// metadata: a new member (v3, v4 after MEMBER_ID_REQUIRED), a static member (new, and replacing its
// previous incarnation), a known member rejoining a stable group, and the leader's assignment.
// 90 MB JoinGroups (which Kafka would accept up to socket.request.max.bytes and hold) do not make
// the broker's RSS grow with their number (VmRSS from /proc). Normal groups (kafkajs, kcat -G, kafka-node)
// are covered by kafkajs-split, third-party-clients and the other group tests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { figure, mb, rssKb } from '../reliability/support.js';
import { GROUP_OVERRIDES } from './support.js';

const MESSAGE_TOO_LARGE = 10;
const MEMBER_ID_REQUIRED = 79;
const REBALANCE_IN_PROGRESS = 27;
const CAP = 1 << 20;
/** Metadata that, with its protocol's name and lengths, is just over the default cap. */
const OVER = Buffer.alloc(CAP, 7);

interface JoinArgs {
  groupId: string;
  memberId?: string;
  groupInstanceId?: string | null;
  metadata: Buffer;
  version?: number;
}

describe('group metadata cap', () => {
  let broker: SpawnedBroker;
  let raw: RawClient;

  const join = (a: JoinArgs) =>
    raw.request(11, a.version ?? 5, {
      groupId: a.groupId,
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      memberId: a.memberId ?? '',
      groupInstanceId: a.groupInstanceId ?? null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: a.metadata }],
      reason: null,
    });
  const sync = (groupId: string, generationId: number, memberId: string, assignments: { memberId: string; assignment: Buffer }[], groupInstanceId: string | null = null) =>
    raw.request(14, 3, { groupId, generationId, memberId, groupInstanceId, assignments });
  const heartbeat = (groupId: string, generationId: number, memberId: string, groupInstanceId: string | null = null) =>
    raw.request(12, 3, { groupId, generationId, memberId, groupInstanceId });
  const describeGroup = async (groupId: string) => (await raw.request(15, 0, { groups: [groupId] })).groups[0];

  /** A JoinGroup v5, with the MEMBER_ID_REQUIRED round trip a dynamic member makes first. */
  async function joinFully(a: JoinArgs) {
    const first = await join(a);
    return first.errorCode === MEMBER_ID_REQUIRED ? join({ ...a, memberId: first.memberId }) : first;
  }

  /** A one-member stable group; returns the member id and generation. */
  async function stableGroup(groupId: string, groupInstanceId: string | null = null): Promise<{ memberId: string; generationId: number }> {
    const joined = await joinFully({ groupId, groupInstanceId, metadata: Buffer.from('small') });
    expect(joined.errorCode).toBe(0);
    const synced = await sync(groupId, joined.generationId, joined.memberId, [{ memberId: joined.memberId, assignment: Buffer.from('mine') }], groupInstanceId);
    expect(synced.errorCode).toBe(0);
    return { memberId: joined.memberId, generationId: joined.generationId };
  }

  beforeAll(async () => {
    broker = await spawnBroker({ overrides: GROUP_OVERRIDES });
    raw = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    raw?.close();
    await broker?.stop();
  });

  it('JoinGroups with 90 MB of metadata are refused and RSS does not grow with their number', async () => {
    const pid = broker.process.pid!;
    expect((await raw.request(18, 3, { clientSoftwareName: 'cap', clientSoftwareVersion: '1' })).errorCode).toBe(0);
    const baseline = rssKb(pid);
    const big = Buffer.alloc(90 << 20, 1);
    // A static member is added at once (no MEMBER_ID_REQUIRED round trip), as an attacker would.
    const hugeJoin = async (i: number) => {
      const res = await join({ groupId: `huge-${i}`, groupInstanceId: `huge-instance-${i}`, metadata: big });
      expect(res.errorCode).toBe(MESSAGE_TOO_LARGE);
      return rssKb(pid);
    };
    // Receiving and decoding one such frame costs a few times its size until the garbage collector
    // runs (which it does as the next large buffers arrive): two requests set that level. Three more
    // must not raise it by even one request's metadata; before the cap each stayed held (~90 MB).
    await hugeJoin(0);
    const warm = await hugeJoin(1);
    let last = warm;
    for (let i = 2; i < 5; i++) last = await hugeJoin(i);
    figure('group-metadata-cap', `RSS ${mb(baseline)} before, ${mb(warm)} after two refused 90 MB JoinGroups, ${mb(last)} after five`);
    expect(last - warm).toBeLessThan(90 * 1024);
    for (let i = 0; i < 5; i++) expect((await describeGroup(`huge-${i}`)).members).toEqual([]);
  }, 120_000);

  it('a new member is refused with MESSAGE_TOO_LARGE, with or without the MEMBER_ID_REQUIRED round trip', async () => {
    expect((await join({ groupId: 'new-v3', metadata: OVER, version: 3 })).errorCode).toBe(MESSAGE_TOO_LARGE);
    expect((await join({ groupId: 'new-v4', metadata: OVER, version: 4 })).errorCode).toBe(MESSAGE_TOO_LARGE);
    const first = await join({ groupId: 'new-v4', metadata: Buffer.from('small'), version: 4 });
    expect(first.errorCode).toBe(MEMBER_ID_REQUIRED);
    expect((await join({ groupId: 'new-v4', memberId: first.memberId, metadata: OVER, version: 4 })).errorCode).toBe(MESSAGE_TOO_LARGE);
    expect((await describeGroup('new-v3')).members).toEqual([]);
    expect((await describeGroup('new-v4')).members).toEqual([]);
    // Just under the cap is a normal member (the protocol's name and lengths count too).
    const fits = await join({ groupId: 'new-v3', metadata: Buffer.alloc(CAP - 100, 1), version: 3 });
    expect(fits.errorCode).toBe(0);
  });

  it('a known member rejoining, and a static member replacing itself, are refused and keep what they had', async () => {
    const known = await stableGroup('rejoin');
    expect((await join({ groupId: 'rejoin', memberId: known.memberId, metadata: OVER })).errorCode).toBe(MESSAGE_TOO_LARGE);
    expect(await heartbeat('rejoin', known.generationId, known.memberId)).toMatchObject({ errorCode: 0 });
    const rejoin = await describeGroup('rejoin');
    expect(rejoin.groupState).toBe('Stable');
    expect(rejoin.members.map((m: { memberMetadata: Buffer }) => m.memberMetadata.toString())).toEqual(['small']);

    const stat = await stableGroup('static', 'instance-1');
    expect((await join({ groupId: 'static', groupInstanceId: 'instance-1', metadata: OVER })).errorCode).toBe(MESSAGE_TOO_LARGE);
    // The old incarnation was not fenced: it still heartbeats in the same generation.
    expect(await heartbeat('static', stat.generationId, stat.memberId, 'instance-1')).toMatchObject({ errorCode: 0 });
    const described = await describeGroup('static');
    expect(described.members.map((m: { memberId: string }) => m.memberId)).toEqual([stat.memberId]);
  });

  it("a leader's SyncGroup with an oversized assignment is refused and the group rebalances", async () => {
    const joined = await joinFully({ groupId: 'assign', metadata: Buffer.from('small') });
    expect(joined.errorCode).toBe(0);
    const res = await sync('assign', joined.generationId, joined.memberId, [{ memberId: joined.memberId, assignment: Buffer.alloc(CAP + 1) }]);
    expect(res.errorCode).toBe(MESSAGE_TOO_LARGE);
    expect(await heartbeat('assign', joined.generationId, joined.memberId)).toMatchObject({ errorCode: REBALANCE_IN_PROGRESS });
    const described = await describeGroup('assign');
    expect(described.members.every((m: { memberAssignment: Buffer }) => m.memberAssignment.length === 0)).toBe(true);
    // The member rejoins and a normal assignment goes through.
    const again = await join({ groupId: 'assign', memberId: joined.memberId, metadata: Buffer.from('small') });
    expect(again.errorCode).toBe(0);
    const ok = await sync('assign', again.generationId, again.memberId, [{ memberId: again.memberId, assignment: Buffer.from('fine') }]);
    expect(ok.errorCode).toBe(0);
    expect(ok.assignment.toString()).toBe('fine');
  });
});
