// ListPartitionReassignments v0 (KIP-455): the ongoing reassignments, with their full replica set
// and the replicas being added and removed. Only the controller serves it, as in Kafka 3.9's
// ZooKeeper mode; without ZooKeeper (one broker) nothing is ever being reassigned.
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { clusterAuthorized, Op } from '../auth/check.js';
import { NOT_CONTROLLER_MESSAGE } from './45-alter-partition-reassignments.js';

export default defineHandler({
  apiKey: 46,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const { broker } = ctx;
    if (!clusterAuthorized(ctx, Op.DESCRIBE)) return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', topics: [] };
    if (broker.topics.controllerId() !== broker.nodeId) {
      return { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: NOT_CONTROLLER_MESSAGE, topics: [] };
    }
    const asked = request.topics
      ? request.topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })))
      : null;
    let ongoing;
    try {
      ongoing = broker.topics.listPartitionReassignments?.(asked) ?? [];
    } catch (err) {
      if (err instanceof KafkaError && err.code === ErrorCode.NOT_CONTROLLER) return { errorCode: err.code, errorMessage: err.message, topics: [] };
      throw err;
    }
    const byTopic = new Map<string, object[]>();
    for (const r of ongoing) {
      const list = byTopic.get(r.topic) ?? [];
      list.push({ partitionIndex: r.partition, replicas: r.replicas, addingReplicas: r.adding, removingReplicas: r.removing });
      byTopic.set(r.topic, list);
    }
    return { errorCode: 0, errorMessage: null, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
  },
});
