// OffsetCommit v0-v9. v0 is the ZooKeeper-era commit (kafka-node's plain Consumer, sent to the
// partition leader): no generation, no group checks, its own namespace. v1 per-partition commit
// timestamp; v2-v4 retention time; v6+ leader epoch; v7+ group instance id. Commits from
// non-members with generation -1 are accepted for empty groups (simple consumers, admin tools).
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
  maxVersion: 9,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    const topics = await ctx.broker.groups.commitOffsets(
      {
        groupId: request.groupId,
        generationId: v >= 1 ? request.generationIdOrMemberEpoch : -1,
        memberId: v >= 1 ? (request.memberId ?? '') : '',
        groupInstanceId: v >= 7 ? (request.groupInstanceId ?? null) : null,
        apiVersion: v,
        retentionTimeMs: v >= 2 && v <= 4 ? (request.retentionTimeMs ?? -1) : -1,
        topics: request.topics.map((t: { name: string; partitions: PartitionIn[] }) => ({
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
    return { topics };
  },
});
