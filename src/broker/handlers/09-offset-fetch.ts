// OffsetFetch v0-v10. v0 reads the ZooKeeper-era namespace (unknown -> -1 with
// UNKNOWN_TOPIC_OR_PARTITION, as Kafka 3.9 answers from ZooKeeper); v1+ unknown -> -1, no error;
// v2+ null topics = all of the group's offsets and a top-level error; v5+ leader epoch; v8+ a
// batch of groups. require_stable (v7+): an offset an open transaction holds answers
// UNSTABLE_OFFSET_COMMIT (txn-offsets.ts).
// v10 names topics by id: an unknown id answers -1 with UNKNOWN_TOPIC_ID per partition (Kafka 4.4),
// and "all offsets" lists only topics that still exist (a deleted topic has no id to give).
import { authorized, refuseAll, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import type { FetchedOffsetsTopic } from '../groups/types.js';

type TopicsIn = { name: string; topicId?: string; partitionIndexes: number[] }[] | null;

export default defineHandler({
  apiKey: 9,
  minVersion: 0,
  maxVersion: 10,
  handle(request, ctx) {
    const v = ctx.apiVersion;
    const groups = ctx.broker.groups;
    const requireStable = v >= 7 && request.requireStable === true;
    if (v >= 8) {
      return {
        groups: request.groups.map((g: { groupId: string; topics: TopicsIn; memberId?: string | null; memberEpoch?: number }) => {
          // v9+: a consumer group's member says who it is (KIP-848); -1 = not a member (admin).
          if (!authorized(ctx, Op.DESCRIBE, Resource.GROUP, g.groupId)) return { groupId: g.groupId, topics: [], errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
          const member = v >= 9 ? { memberId: g.memberId ?? null, memberEpoch: g.memberEpoch ?? -1 } : undefined;
          if (v >= 10) return { groupId: g.groupId, ...fetchByTopicId(ctx, g.groupId, g.topics ?? null, member, requireStable) };
          const r = groups.fetchOffsets(g.groupId, g.topics ?? null, false, member, requireStable);
          return { groupId: g.groupId, topics: maskTopics(ctx, r.topics, g.topics == null), errorCode: r.errorCode };
        }),
      };
    }
    if (!authorized(ctx, Op.DESCRIBE, Resource.GROUP, request.groupId)) return refuseAll(ctx, 9, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const requested: TopicsIn = v >= 2 ? (request.topics ?? null) : (request.topics ?? []);
    const fetched = groups.fetchOffsets(request.groupId, requested, v === 0, undefined, requireStable);
    const r = { ...fetched, topics: maskTopics(ctx, fetched.topics, requested === null) };
    if (v >= 2 || r.errorCode === 0) return { topics: r.topics, errorCode: r.errorCode };
    // v0-v1 have no top-level error: every partition carries it.
    const topics = (requested ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, metadata: '', errorCode: r.errorCode })),
    }));
    return { topics };
  },
});

function fetchByTopicId(ctx: RequestContext, groupId: string, requested: TopicsIn, member: { memberId: string | null; memberEpoch: number } | undefined, requireStable: boolean) {
  const topics = ctx.broker.topics;
  const named = requested?.map((t) => ({ ...t, name: topics.getById(t.topicId!)?.name }));
  const known = named?.filter((t): t is typeof t & { name: string } => t.name !== undefined) ?? null;
  const fetched = ctx.broker.groups.fetchOffsets(groupId, known, false, member, requireStable);
  const r = { ...fetched, topics: maskTopics(ctx, fetched.topics, requested === null) };
  if (r.errorCode) return { topics: [], errorCode: r.errorCode };
  const withId = (t: FetchedOffsetsTopic) => ({ ...t, name: '', topicId: topics.get(t.name)?.topicId });
  if (!named) return { topics: r.topics.map(withId).filter((t) => t.topicId !== undefined), errorCode: 0 };
  const byName = new Map(r.topics.map((t) => [t.name, t]));
  return {
    errorCode: 0,
    topics: named.map((t) =>
      t.name !== undefined
        ? { ...withId(byName.get(t.name)!), topicId: t.topicId }
        : {
            name: '',
            topicId: t.topicId,
            partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNKNOWN_TOPIC_ID })),
          },
    ),
  };
}

/**
 * As KafkaApis: offsets of topics the principal may not Describe are left out of an "all topics"
 * answer, and answered TOPIC_AUTHORIZATION_FAILED when asked for by name.
 */
function maskTopics<T extends { name: string; partitions: object[] }>(ctx: RequestContext, topics: T[], all: boolean): T[] {
  if (!ctx.broker.authorizer) return topics;
  const out: T[] = [];
  for (const t of topics) {
    if (authorized(ctx, Op.DESCRIBE, Resource.TOPIC, t.name)) out.push(t);
    else if (!all) out.push({ ...t, partitions: t.partitions.map((p) => ({ ...p, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })) });
  }
  return out;
}
