// OffsetDelete v0: removes committed offsets of an empty group, or of topics a live consumer
// group does not subscribe to (GROUP_SUBSCRIBED_TO_TOPIC otherwise).
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 47,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const topics = request.topics.map((t: { name: string; partitions: { partitionIndex: number }[] }) => ({
      name: t.name,
      partitionIndexes: t.partitions.map((p) => p.partitionIndex),
    }));
    return ctx.broker.groups.deleteOffsets(request.groupId, topics);
  },
});
