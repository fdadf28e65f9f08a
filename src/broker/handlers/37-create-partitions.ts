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
    // One deadline for the whole request (Kafka's DelayedCreatePartitions covers all its topics).
    const deadline = Date.now() + request.timeoutMs;
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
          ? new Map(t.assignments.map((a, i) => [topic.partitions + i, a.brokerIds]))
          : undefined;
        // The new partitions' leaders are waited for up to the request's timeout: past it (or at once
        // for a timeout <= 0) REQUEST_TIMED_OUT without a message, the partitions created, as Kafka's
        // ZooKeeper mode.
        const timeoutMs = request.timeoutMs <= 0 ? request.timeoutMs : Math.max(1, deadline - Date.now());
        if (!request.validateOnly) await broker.topics.addPartitions(t.name, t.count, assignment, { timeoutMs });
        results.push({ name: t.name, errorCode: 0, errorMessage: null });
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        if (err.code === ErrorCode.REQUEST_TIMED_OUT && !request.validateOnly) {
          results.push({ name: t.name, errorCode: err.code, errorMessage: null });
          continue;
        }
        results.push({ name: t.name, errorCode: err.code, errorMessage: err.message });
      }
    }
    return { results };
  },
});
