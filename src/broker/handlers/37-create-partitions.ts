// CreatePartitions v0-v3: grow a topic's partition count (never shrink).
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { checkPartitionLimit } from '../../cluster/topic-validation.js';
import { defineHandler } from '../api-handler.js';
import { authorized, Op, Resource } from '../auth/check.js';

export default defineHandler({
  apiKey: 37,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, ctx) {
    const { broker } = ctx;
    const results = [];
    for (const t of request.topics) {
      if (!authorized(ctx, Op.ALTER, Resource.TOPIC, t.name)) {
        results.push({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Topic authorization failed.' });
        continue;
      }
      try {
        const topic = broker.topics.get(t.name);
        if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${t.name}' does not exist.`);
        if (t.count <= topic.partitions) {
          throw new KafkaError(
            ErrorCode.INVALID_PARTITIONS,
            t.count === topic.partitions
              ? `Topic already has ${topic.partitions} partitions.`
              : `Topic currently has ${topic.partitions} partitions, which is higher than the requested ${t.count}.`,
          );
        }
        checkPartitionLimit(broker.topics.list(), t.count - topic.partitions, broker.config.getNumber('kts.max.partitions'));
        // Explicit replicas of the new partitions, in order from the current count; the store checks them.
        const assignment: Map<number, number[]> | undefined = t.assignments
          ? new Map((t.assignments as { brokerIds: number[] }[]).map((a, i) => [topic.partitions + i, a.brokerIds]))
          : undefined;
        if (!request.validateOnly) await broker.topics.addPartitions(t.name, t.count, assignment);
        results.push({ name: t.name, errorCode: 0, errorMessage: null });
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        results.push({ name: t.name, errorCode: err.code, errorMessage: err.message });
      }
    }
    return { results };
  },
});
