// Consumer-group APIs, thin and typed: coordinator lookup, the classic join/sync/heartbeat/leave
// protocol, committed offsets, and the admin views (list, describe, delete). GroupMember
// (group-member.ts) runs the membership loop on top of these.
import { decodeConsumerAssignment, decodeConsumerSubscription } from '../protocol/codec/frames.js';
import { ErrorCode } from '../protocol/errors.js';
import { type Cluster, ZERO_ID } from './cluster.js';
import type { BrokerConnection } from './connection.js';
import { KafkaClientError, check, isRetriable, kafkaError } from './errors.js';
import { groupByTopic } from './admin.js';
import type { TopicPartition } from './routing.js';
import { findCoordinatorOn } from './find-coordinator.js';
import { API } from './versions.js';
import type { OffsetFetchResponseTopic, OffsetFetchResponseTopics } from '../protocol/generated/09-offset-fetch.js';
import type { DescribedGroup } from '../protocol/generated/15-describe-groups.js';
import type { Assignment as ConsumerGroupAssignment, DescribedGroup as ConsumerGroupDescribeResponseGroup } from '../protocol/generated/69-consumer-group-describe.js';

/** The last versions of OffsetCommit and OffsetFetch that name topics (v10 of each takes ids only). */
const LAST_BY_NAME = { OffsetCommit: 9, OffsetFetch: 9 } as const;

export interface JoinGroupRequest {
  groupId: string;
  memberId: string;
  groupInstanceId?: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
}

export interface JoinGroupResult {
  errorCode: number;
  generationId: number;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
  /**
   * JoinGroup v9 (KIP-814): the leader is a static member that rejoined a stable group, whose
   * assignment stands; it syncs without computing one.
   */
  skipAssignment: boolean;
}

export interface MemberIdentity {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId?: string | null;
}

export interface CommittedOffset extends TopicPartition {
  /** -1: nothing committed. */
  offset: number;
  /** The leader epoch committed with the offset; -1 when none was (or before OffsetFetch v5). */
  leaderEpoch: number;
  metadata: string | null;
  error?: KafkaClientError;
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state?: string;
  type?: string;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Decoded when the group uses the consumer protocol. */
  assignment: TopicPartition[];
  metadata: Buffer;
  rawAssignment: Buffer;
  /** A consumer group's member (ConsumerGroupDescribe): its epoch and the assignment it is moving to. */
  memberEpoch?: number;
  targetAssignment?: TopicPartition[];
  /** ConsumerGroupDescribe v1: true for a consumer-protocol member, false for a classic one in a consumer group. */
  upgraded?: boolean;
}

export interface GroupDescription {
  groupId: string;
  /** classic (JoinGroup/SyncGroup) or consumer (KIP-848, described by ConsumerGroupDescribe). */
  type: 'classic' | 'consumer';
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberDescription[];
  error?: KafkaClientError;
  /** A consumer group's epoch and the epoch of its target assignment (ConsumerGroupDescribe). */
  groupEpoch?: number;
  targetAssignmentEpoch?: number;
}

/** A DescribeGroups answer: a classic group (or a missing one, state Dead). */
function describedClassicGroup(groupId: string, g: DescribedGroup): GroupDescription {
  return {
    groupId,
    type: 'classic',
    state: g.groupState,
    protocolType: g.protocolType,
    protocol: g.protocolData,
    error: g.errorCode ? kafkaError(g.errorCode) : undefined,
    members: (g.members ?? []).map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId ?? null,
      clientId: m.clientId,
      clientHost: m.clientHost,
      metadata: m.memberMetadata,
      rawAssignment: m.memberAssignment,
      assignment: g.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : [],
    })),
  };
}

/** A ConsumerGroupDescribe answer: a KIP-848 group, its assignor the broker's. */
function describedConsumerGroup(groupId: string, g: ConsumerGroupDescribeResponseGroup): GroupDescription {
  const partitions = (a: ConsumerGroupAssignment | undefined): TopicPartition[] =>
    (a?.topicPartitions ?? []).flatMap((t) => t.partitions.map((partition) => ({ topic: t.topicName, partition })));
  return {
    groupId,
    type: 'consumer',
    state: g.groupState,
    protocolType: 'consumer',
    protocol: g.assignorName,
    error: g.errorCode ? kafkaError(g.errorCode, g.errorMessage) : undefined,
    groupEpoch: g.groupEpoch,
    targetAssignmentEpoch: g.assignmentEpoch,
    members: (g.members ?? []).map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.instanceId ?? null,
      clientId: m.clientId,
      clientHost: m.clientHost,
      metadata: Buffer.alloc(0),
      rawAssignment: Buffer.alloc(0),
      assignment: partitions(m.assignment),
      memberEpoch: m.memberEpoch,
      targetAssignment: partitions(m.targetAssignment),
      // v1's MemberType: 0 classic, 1 consumer, -1 (or v0) unknown.
      upgraded: m.memberType === 1 ? true : m.memberType === 0 ? false : undefined,
    })),
  };
}

const COORDINATOR_RETRY = new Set<number>([ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NOT_COORDINATOR]);

export class Groups {
  private readonly coordinators = new Map<string, number>();

  constructor(private readonly cluster: Cluster) {}

  /** The coordinator's node id for `groupId` (FindCoordinator, retried while it is loading). */
  async findCoordinator(groupId: string, timeoutMs = 30000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      const conn = await this.cluster.any();
      const body = await findCoordinatorOn(conn, groupId, 0);
      if (body.errorCode === 0) {
        this.coordinators.set(groupId, body.nodeId);
        if (!this.cluster.metadata.brokers.some((b) => b.nodeId === body.nodeId)) await this.cluster.refresh([]);
        return body.nodeId;
      }
      if (!COORDINATOR_RETRY.has(body.errorCode) || Date.now() + delay > deadline) throw kafkaError(body.errorCode, body.errorMessage);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /**
   * Runs `fn` against the group's coordinator, finding it again if it moved, and retrying while the
   * coordinator is loading or unavailable until `timeoutMs` (Kafka's clients wait as long: a fresh
   * Kafka 4 broker loading __consumer_offsets on a busy machine answers LOAD_IN_PROGRESS for seconds).
   */
  private async withCoordinator<T>(groupId: string, fn: (conn: BrokerConnection) => Promise<T & { errorCode?: number }>, timeoutMs = 30000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      let nodeId = this.coordinators.get(groupId);
      if (nodeId === undefined) nodeId = await this.findCoordinator(groupId);
      let conn: BrokerConnection;
      try {
        conn = await this.cluster.coordinator(nodeId);
      } catch (err) {
        this.coordinators.delete(groupId);
        if (attempt >= 3) throw err;
        continue;
      }
      const result = await fn(conn);
      const delay = Math.min(200 * (attempt + 1), 1000);
      if (result.errorCode !== undefined && COORDINATOR_RETRY.has(result.errorCode) && Date.now() + delay <= deadline) {
        this.coordinators.delete(groupId);
        await new Promise((r) => setTimeout(r, delay));
        continue;
      }
      return result;
    }
  }

  async joinGroup(req: JoinGroupRequest): Promise<JoinGroupResult> {
    return this.withCoordinator(req.groupId, async (conn) => {
      const body = await conn.request(
        API.JoinGroup,
        {
          groupId: req.groupId,
          sessionTimeoutMs: req.sessionTimeoutMs,
          rebalanceTimeoutMs: req.rebalanceTimeoutMs,
          memberId: req.memberId,
          groupInstanceId: req.groupInstanceId ?? null,
          protocolType: req.protocolType,
          protocols: req.protocols,
          reason: null,
        },
        { timeoutMs: req.rebalanceTimeoutMs + 5000 },
      );
      return {
        errorCode: body.errorCode,
        generationId: body.generationId,
        protocolName: body.protocolName ?? null,
        leader: body.leader,
        memberId: body.memberId,
        members: body.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId ?? null, metadata: m.metadata })),
        skipAssignment: Boolean(body.skipAssignment),
      };
    });
  }

  async syncGroup(
    member: MemberIdentity & { protocolType: string; protocolName: string | null },
    assignments: { memberId: string; assignment: Buffer }[],
    timeoutMs = 60000,
  ): Promise<{ errorCode: number; assignment: Buffer }> {
    return this.withCoordinator(member.groupId, async (conn) => {
      const body = await conn.request(
        API.SyncGroup,
        {
          groupId: member.groupId,
          generationId: member.generationId,
          memberId: member.memberId,
          groupInstanceId: member.groupInstanceId ?? null,
          protocolType: member.protocolType,
          protocolName: member.protocolName,
          assignments,
        },
        { timeoutMs },
      );
      return { errorCode: body.errorCode, assignment: body.assignment ?? Buffer.alloc(0) };
    });
  }

  async heartbeat(member: MemberIdentity): Promise<number> {
    const r = await this.withCoordinator(member.groupId, async (conn) => {
      const body = await conn.request(API.Heartbeat, {
        groupId: member.groupId,
        generationId: member.generationId,
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId ?? null,
      });
      return { errorCode: body.errorCode };
    });
    return r.errorCode;
  }

  async leaveGroup(groupId: string, memberId: string, groupInstanceId: string | null = null): Promise<void> {
    const r = await this.withCoordinator(groupId, async (conn) => {
      const body = await conn.request(API.LeaveGroup, (v: number) =>
        v >= 3 ? { groupId, members: [{ memberId, groupInstanceId, reason: null }] } : { groupId, memberId },
      );
      return { errorCode: body.errorCode };
    });
    if (r.errorCode !== 0 && r.errorCode !== ErrorCode.UNKNOWN_MEMBER_ID) throw kafkaError(r.errorCode);
  }

  /** Commits offsets; `member` is omitted for a standalone (simple) commit. Per-partition errors. */
  async commitOffsets(
    groupId: string,
    offsets: (TopicPartition & { offset: number; metadata?: string | null })[],
    member?: Omit<MemberIdentity, 'groupId'>,
  ): Promise<(TopicPartition & { error?: KafkaClientError })[]> {
    if (offsets.length === 0) return [];
    const r = await this.withCoordinator(groupId, async (conn) => {
      const topics = groupByTopic(offsets);
      const ids = await this.topicIds(topics.map(([name]) => name));
      // v10 names topics by id only: sent when every topic has one (as Kafka's consumer), else v9.
      const version = Math.min(conn.version(API.OffsetCommit), ids ? LAST_BY_NAME.OffsetCommit + 1 : LAST_BY_NAME.OffsetCommit);
      const byId = version > LAST_BY_NAME.OffsetCommit;
      const body = await conn.send(API.OffsetCommit, version, {
        groupId,
        generationIdOrMemberEpoch: member?.generationId ?? -1,
        memberId: member?.memberId ?? '',
        groupInstanceId: member?.groupInstanceId ?? null,
        retentionTimeMs: -1,
        topics: topics.map(([name, items]) => ({
          ...(byId ? { topicId: ids!.get(name) } : { name }),
          partitions: items.map((i) => ({ partitionIndex: i.partition, committedOffset: i.offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: i.metadata ?? '' })),
        })),
      });
      const nameOf = new Map([...(ids ?? [])].map(([name, id]) => [id, name]));
      for (const t of body.topics) if (byId) t.name = nameOf.get(t.topicId) ?? t.topicId;
      const results: (TopicPartition & { error?: KafkaClientError })[] = [];
      let coordinatorError: number | undefined;
      for (const t of body.topics) {
        for (const p of t.partitions) {
          if (COORDINATOR_RETRY.has(p.errorCode)) coordinatorError = p.errorCode;
          results.push({ topic: t.name, partition: p.partitionIndex, error: p.errorCode ? kafkaError(p.errorCode) : undefined });
        }
      }
      return Object.assign(results, { errorCode: coordinatorError });
    });
    return [...r];
  }

  /** Committed offsets of the group; `partitions` null = every partition it has offsets for. */
  async fetchOffsets(groupId: string, partitions: TopicPartition[] | null = null): Promise<CommittedOffset[]> {
    const r = await this.withCoordinator(groupId, async (conn) => {
      const body = await this.offsetFetch(conn, groupId, partitions);
      const out: CommittedOffset[] = [];
      for (const t of body.topics) {
        for (const p of t.partitions) {
          out.push({
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.committedOffset,
            leaderEpoch: p.committedLeaderEpoch ?? -1,
            metadata: p.metadata ?? null,
            error: p.errorCode ? kafkaError(p.errorCode) : undefined,
          });
        }
      }
      return Object.assign(out, { errorCode: body.errorCode });
    });
    if (r.errorCode) check(r.errorCode);
    return [...r];
  }

  /**
   * Topic ids by name from metadata (refreshed once for names not known yet), or null when one of
   * them has none (a broker without topic ids, or a topic that is gone).
   */
  private async topicIds(names: string[]): Promise<Map<string, string> | null> {
    const missing = names.filter((n) => !this.cluster.topic(n));
    if (missing.length > 0) await this.cluster.refresh(missing).catch(() => undefined);
    const ids = new Map<string, string>();
    for (const n of names) {
      const id = this.cluster.topic(n)?.topicId;
      if (!id || id === ZERO_ID) return null;
      ids.set(n, id);
    }
    return ids;
  }

  /**
   * OffsetFetch for one group, answered in v0-7's shape ({ topics: [{ name, partitions }], errorCode }):
   * v8+ asks in the batched form, v10 by topic id (when every topic asked for has one; for all of
   * the group's topics the ids answered are named from a metadata refresh, and offsets of a topic
   * no longer in metadata are left out).
   */
  private async offsetFetch(conn: BrokerConnection, groupId: string, partitions: TopicPartition[] | null): Promise<{ topics: OffsetFetchResponseTopic[]; errorCode: number }> {
    const topics = partitions === null ? null : groupByTopic(partitions);
    let version = conn.version(API.OffsetFetch);
    const ids = topics && version > LAST_BY_NAME.OffsetFetch ? await this.topicIds(topics.map(([name]) => name)) : null;
    if (topics && !ids) version = Math.min(version, LAST_BY_NAME.OffsetFetch);
    if (version < 8) {
      return conn.send(API.OffsetFetch, version, {
        groupId,
        topics: topics === null ? null : topics.map(([name, items]) => ({ name, partitionIndexes: items.map((i) => i.partition) })),
        requireStable: false,
      });
    }
    const byId = version > LAST_BY_NAME.OffsetFetch;
    const body = await conn.send(API.OffsetFetch, version, {
      groups: [
        {
          groupId,
          memberId: null,
          memberEpoch: -1,
          topics: topics === null ? null : topics.map(([name, items]) => ({ ...(byId ? { topicId: ids!.get(name) } : { name }), partitionIndexes: items.map((i) => i.partition) })),
        },
      ],
      requireStable: false,
    });
    const group = body.groups.find((g) => g.groupId === groupId) ?? { topics: [], errorCode: ErrorCode.UNKNOWN_SERVER_ERROR };
    let answered: OffsetFetchResponseTopics[] = group.topics;
    if (byId) {
      const nameOf = new Map([...(ids ?? [])].map(([name, id]) => [id, name]));
      if (answered.some((t) => !nameOf.has(t.topicId))) {
        const md = await this.cluster.refresh(null);
        for (const t of md.topics) if (t.topicId !== ZERO_ID) nameOf.set(t.topicId, t.name);
      }
      answered = answered.filter((t) => nameOf.has(t.topicId)).map((t) => ({ ...t, name: nameOf.get(t.topicId)! }));
    }
    return { topics: answered, errorCode: group.errorCode };
  }

  /** Every group known to every broker. */
  async listGroups(opts: { states?: string[] } = {}): Promise<GroupListing[]> {
    const md = await this.cluster.refresh([]);
    const seen = new Map<string, GroupListing>();
    for (const b of md.brokers) {
      const conn = await this.cluster.node(b.nodeId);
      const body = await conn.request(API.ListGroups, { statesFilter: opts.states ?? [], typesFilter: [] });
      check(body.errorCode);
      for (const g of body.groups) {
        seen.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType });
      }
    }
    return [...seen.values()];
  }

  /**
   * Describes each group as Kafka's admin client does: ConsumerGroupDescribe first where the broker
   * offers it (a KIP-848 group is only described so: Kafka 4 answers DescribeGroups for it with an
   * error), DescribeGroups for the classic groups it does not know (GROUP_ID_NOT_FOUND) and for
   * brokers without it.
   */
  async describeGroups(groupIds: string[]): Promise<GroupDescription[]> {
    const out: GroupDescription[] = [];
    for (const groupId of groupIds) {
      const r = await this.withCoordinator(groupId, async (conn) => {
        if (conn.supports(API.ConsumerGroupDescribe)) {
          const body = await conn.request(API.ConsumerGroupDescribe, { groupIds: [groupId], includeAuthorizedOperations: false });
          const g = body.groups[0];
          if (g?.errorCode !== ErrorCode.GROUP_ID_NOT_FOUND) return { description: g && describedConsumerGroup(groupId, g), errorCode: g?.errorCode };
        }
        const body = await conn.request(API.DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false });
        const g = body.groups[0];
        return { description: describedClassicGroup(groupId, g), errorCode: g?.errorCode };
      });
      out.push(r.description);
    }
    return out;
  }

  async deleteGroups(groupIds: string[]): Promise<{ groupId: string; error?: KafkaClientError }[]> {
    const out: { groupId: string; error?: KafkaClientError }[] = [];
    for (const groupId of groupIds) {
      const r = await this.withCoordinator(groupId, async (conn) => {
        const body = await conn.request(API.DeleteGroups, { groupsNames: [groupId] });
        const res = body.results[0];
        return { errorCode: res?.errorCode ?? 0 };
      });
      out.push({ groupId, error: r.errorCode ? kafkaError(r.errorCode) : undefined });
    }
    return out;
  }

  /** OffsetDelete: removes committed offsets of an empty group (or of unsubscribed topics). */
  async deleteOffsets(groupId: string, partitions: TopicPartition[]): Promise<{ error?: KafkaClientError; partitions: (TopicPartition & { error?: KafkaClientError })[] }> {
    const r = await this.withCoordinator(groupId, async (conn) => {
      const body = await conn.request(API.OffsetDelete, {
        groupId,
        topics: groupByTopic(partitions).map(([name, items]) => ({ name, partitions: items.map((i) => ({ partitionIndex: i.partition })) })),
      });
      return { body, errorCode: body.errorCode };
    });
    const results: (TopicPartition & { error?: KafkaClientError })[] = [];
    for (const t of (r.body.topics ?? [])) {
      for (const p of t.partitions) results.push({ topic: t.name, partition: p.partitionIndex, error: p.errorCode ? kafkaError(p.errorCode) : undefined });
    }
    return { error: r.errorCode ? kafkaError(r.errorCode) : undefined, partitions: results };
  }
}

/** Topic-partitions of a consumer-protocol assignment (empty for empty or undecodable bytes). */
export function decodeAssignment(buf: Buffer | null | undefined): TopicPartition[] {
  if (!buf || buf.length === 0) return [];
  try {
    const a = decodeConsumerAssignment(buf);
    return a.assignedPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
  } catch {
    return [];
  }
}

/** Topics of a consumer-protocol subscription. */
export function decodeSubscriptionTopics(buf: Buffer | null | undefined): string[] {
  if (!buf || buf.length === 0) return [];
  try {
    return decodeConsumerSubscription(buf).topics;
  } catch {
    return [];
  }
}

export { isRetriable, KafkaClientError };
