// OffsetDelete v0: removes committed offsets of an empty group, or of topics a live consumer
// group does not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise).
import { ErrorCode } from '../../protocol/errors.js';
import { authorized, refuseAll, Op, Resource } from '../auth/check.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 47,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    // As KafkaApis: Delete on the group, then Read on each topic.
    if (!authorized(ctx, Op.DELETE, Resource.GROUP, request.groupId)) return refuseAll(ctx, 47, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const readable = (t: { name: string }) => authorized(ctx, Op.READ, Resource.TOPIC, t.name);
    const denied = request.topics
      .filter((t) => !readable(t))
      .map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })) }));
    const topics = request.topics.filter(readable).map((t) => ({
      name: t.name,
      partitionIndexes: t.partitions.map((p) => p.partitionIndex),
    }));
    const result = await ctx.broker.groups.deleteOffsets(request.groupId, topics);
    return denied.length === 0 || result.errorCode ? result : { ...result, topics: [...(result.topics ?? []), ...denied] };
  },
});
