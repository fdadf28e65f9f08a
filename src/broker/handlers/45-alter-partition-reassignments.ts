// AlterPartitionReassignments v0 (KIP-455): start, replace or cancel (replicas null) partition
// reassignments. As a Kafka 3.9 broker in ZooKeeper mode, only the controller serves it (others
// answer NOT_CONTROLLER and the admin client goes to the controller); the controller's cluster
// metadata writes the new replica sets and finishes each move as the new replicas catch up.
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { planReassignment, type ReassignmentRequest } from '../../cluster/partition-reassignment.js';
import type { ClusterMetadata } from '../../cluster/cluster-metadata.js';
import { defineHandler } from '../api-handler.js';
import { clusterAuthorized, Op } from '../auth/check.js';

export const NOT_CONTROLLER_MESSAGE = 'This is not the correct controller for this cluster.';

export default defineHandler({
  apiKey: 45,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const { broker } = ctx;
    if (!clusterAuthorized(ctx, Op.ALTER)) return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', responses: [] };
    if (broker.topics.controllerId() !== broker.nodeId) {
      return { errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: NOT_CONTROLLER_MESSAGE, responses: [] };
    }
    const asked: ReassignmentRequest[] = [];
    for (const t of request.topics) {
      for (const p of t.partitions) asked.push({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas });
    }
    let errors: (Error | null)[];
    try {
      errors = broker.topics.alterPartitionReassignments
        ? await broker.topics.alterPartitionReassignments(asked)
        : asked.map((r) => withoutReassignmentSupport(broker.topics, r));
    } catch (err) {
      // The controller moved between the check above and the write.
      if (err instanceof KafkaError && err.code === ErrorCode.NOT_CONTROLLER) return { errorCode: err.code, errorMessage: err.message, responses: [] };
      throw err;
    }
    const byTopic = new Map<string, { partitionIndex: number; errorCode: number; errorMessage: string | null }[]>();
    asked.forEach((r, i) => {
      const err = errors[i];
      const code = err === null ? 0 : err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
      const list = byTopic.get(r.topic) ?? [];
      list.push({ partitionIndex: r.partition, errorCode: code, errorMessage: err === null ? null : err instanceof KafkaError ? err.message : null });
      byTopic.set(r.topic, list);
    });
    return { errorCode: 0, errorMessage: null, responses: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
  },
});

/**
 * One broker, no ZooKeeper: every replica list names this broker alone, so a target is either
 * refused by Kafka's checks or the current assignment (which completes at once, nothing to move).
 */
function withoutReassignmentSupport(topics: ClusterMetadata, r: ReassignmentRequest): Error | null {
  const state = topics.partitionState(r.topic, r.partition);
  const current = state ? { replicas: state.replicas, adding: [], removing: [] } : undefined;
  const plan = planReassignment(current, r.replicas, topics.liveBrokers().map((b) => b.nodeId));
  if ('error' in plan) return plan.error;
  if (plan.next.adding.length > 0 || plan.next.removing.length > 0) return new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'This broker cannot move replicas.');
  return null;
}
