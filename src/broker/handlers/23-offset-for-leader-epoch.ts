// OffsetForLeaderEpoch v0-v4 (KIP-101, KIP-320): where a leader epoch ended in the leader's log. A
// follower truncates to that offset after a leader change; a consumer (replica id -1) checks that
// the records it has read were not truncated away. As in Kafka: the request's current leader epoch
// is checked first (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH), only the leader answers
// (NOT_LEADER_OR_FOLLOWER), and an epoch this log cannot place answers (-1, -1) without an error.
import { defineHandler } from '../api-handler.js';
import { lookupPartition } from './common.js';
import { ErrorCode } from '../../protocol/errors.js';
import { authorized, clusterAuthorized, Op, Resource } from '../auth/check.js';

export default defineHandler({
  apiKey: 23,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, ctx) {
    // As KafkaApis: a follower (replicaId >= 0, v3+) needs ClusterAction, a client Describe on each topic.
    const follower = (request.replicaId ?? -1) >= 0;
    const followerAllowed = follower && clusterAuthorized(ctx, Op.CLUSTER_ACTION);
    const topics = await Promise.all(
      request.topics.map(async (topic) => ({
        topic: topic.topic,
        partitions: await Promise.all(
          topic.partitions.map(async (p) => {
            if (follower ? !followerAllowed : !authorized(ctx, Op.DESCRIBE, Resource.TOPIC, topic.topic)) {
              return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
            }
            const found = lookupPartition(ctx.broker, topic.topic, p.partition, p.currentLeaderEpoch ?? -1);
            if (!found.log) return { errorCode: found.errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1 };
            // Kafka's leader notes its epoch at the log end when it takes over; kts does it on first use.
            await found.log.maybeAssignEpochStartOffset(found.leaderEpoch);
            const { epoch, endOffset } = found.log.endOffsetForEpoch(p.leaderEpoch);
            return { errorCode: 0, partition: p.partition, leaderEpoch: epoch, endOffset };
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
});
