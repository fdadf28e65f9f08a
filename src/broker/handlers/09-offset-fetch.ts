// OffsetFetch v0-v9. v0 reads the ZooKeeper-era namespace (unknown -> -1 with
// UNKNOWN_TOPIC_OR_PARTITION, as Kafka 3.9 answers from ZooKeeper); v1+ unknown -> -1, no error;
// v2+ null topics = all of the group's offsets and a top-level error; v5+ leader epoch; v8+ a
// batch of groups. require_stable (v7+) is accepted and needs nothing (no transactions yet).
import { defineHandler } from '../api-handler.js';

type TopicsIn = { name: string; partitionIndexes: number[] }[] | null;

export default defineHandler({
  apiKey: 9,
  minVersion: 0,
  maxVersion: 9,
  handle(request, ctx) {
    const v = ctx.apiVersion;
    const groups = ctx.broker.groups;
    if (v >= 8) {
      return {
        groups: request.groups.map((g: { groupId: string; topics: TopicsIn; memberId?: string | null; memberEpoch?: number }) => {
          // v9+: a consumer group's member says who it is (KIP-848); -1 = not a member (admin).
          const member = v >= 9 ? { memberId: g.memberId ?? null, memberEpoch: g.memberEpoch ?? -1 } : undefined;
          const r = groups.fetchOffsets(g.groupId, g.topics ?? null, false, member);
          return { groupId: g.groupId, topics: r.topics, errorCode: r.errorCode };
        }),
      };
    }
    const requested: TopicsIn = v >= 2 ? (request.topics ?? null) : (request.topics ?? []);
    const r = groups.fetchOffsets(request.groupId, requested, v === 0);
    if (v >= 2 || r.errorCode === 0) return { topics: r.topics, errorCode: r.errorCode };
    // v0-v1 have no top-level error: every partition carries it.
    const topics = (requested ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, metadata: '', errorCode: r.errorCode })),
    }));
    return { topics };
  },
});
