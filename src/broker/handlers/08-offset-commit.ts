// OffsetCommit v0-v10. v0 is the ZooKeeper-era commit (kafka-node's plain Consumer, sent to the
// partition leader): no generation, no group checks, its own namespace. v1 per-partition commit
// timestamp; v2-v4 retention time; v6+ leader epoch; v7+ group instance id. Commits from
// non-members with generation -1 are accepted for empty groups (simple consumers, admin tools).
// v10 names topics by id (KIP-848's consumer, Kafka 4.2+): an unknown id is UNKNOWN_TOPIC_ID for
// each of its partitions, nothing committed, as Kafka 4.4 answers.
import { authorized, refuseAll, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

interface PartitionIn {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch?: number;
  commitTimestamp?: number;
  committedMetadata: string | null;
}

export default defineHandler({
  apiKey: 8,
  minVersion: 0,
  maxVersion: 10,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    // As KafkaApis: Read on the group, then Read on each topic.
    if (!authorized(ctx, Op.READ, Resource.GROUP, request.groupId)) return refuseAll(ctx, 8, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const requested: { name: string; topicId?: string; partitions: PartitionIn[] }[] = request.topics;
    // v10: the names behind the ids; an unknown id is answered without reaching the coordinator.
    const resolved = v >= 10 ? requested.map((t) => ({ ...t, name: ctx.broker.topics.getById(t.topicId!)?.name })) : requested;
    const isDenied = (t: { name?: string }) => t.name !== undefined && !authorized(ctx, Op.READ, Resource.TOPIC, t.name);
    const denied = resolved.filter(isDenied).map((t) => ({
      name: v >= 10 ? '' : t.name!,
      topicId: t.topicId,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
    }));
    const named = resolved.filter((t) => !isDenied(t));
    const unknownIds = named.filter((t) => t.name === undefined);
    const topics = await ctx.broker.groups.commitOffsets(
      {
        groupId: request.groupId,
        generationId: v >= 1 ? request.generationIdOrMemberEpoch : -1,
        memberId: v >= 1 ? (request.memberId ?? '') : '',
        groupInstanceId: v >= 7 ? (request.groupInstanceId ?? null) : null,
        apiVersion: v,
        retentionTimeMs: v >= 2 && v <= 4 ? (request.retentionTimeMs ?? -1) : -1,
        topics: named.filter((t): t is typeof t & { name: string } => t.name !== undefined).map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            committedOffset: p.committedOffset,
            committedLeaderEpoch: v >= 6 ? (p.committedLeaderEpoch ?? -1) : -1,
            commitTimestamp: v === 1 ? (p.commitTimestamp ?? -1) : -1,
            committedMetadata: p.committedMetadata,
          })),
        })),
      },
      v === 0,
    );
    if (v < 10) return { topics: [...topics, ...denied] };
    const idOf = new Map(named.map((t) => [t.name, t.topicId]));
    return {
      topics: [
        ...topics.map((t) => ({ ...t, name: '', topicId: idOf.get(t.name) })),
        ...denied,
        ...unknownIds.map((t) => ({ name: '', topicId: t.topicId, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_ID })) })),
      ],
    };
  },
});
