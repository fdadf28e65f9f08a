// CreateTopics v0-v7. numPartitions/replicationFactor -1 take the broker defaults (v4+); explicit
// assignments must name live brokers (cluster/replica-assignment.ts). v5+ answers with the resulting configs; v7+ with topic ids.
import type { Encodable } from '../../protocol/codec/schema.js';

import type { CreatableTopic, CreatableTopicResult } from '../../protocol/generated/19-create-topics.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { describeTopicConfigs } from '../configs.js';
import { OFFSETS_TOPIC_CONFIGS } from '../groups/topic-log.js';
import { OFFSETS_TOPIC } from '../groups/types.js';
import { authorized, clusterAuthorized, Op, Resource } from '../auth/check.js';

export default defineHandler({
  apiKey: 19,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, ctx) {
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const topics = [];
    // As KafkaApis: Create on the cluster covers every topic, else Create on each topic.
    const clusterCreate = clusterAuthorized(ctx, Op.CREATE);
    // One deadline for the whole request, as Kafka's one delayed operation for all its topics.
    const deadline = Date.now() + request.timeoutMs;
    // The embedded store (Kafka's KRaft mode: the controller takes the request's timeout as its
    // deadline) with a timeout <= 0: the deadline has passed before any topic is looked at, so
    // each one the checks below let through is answered REQUEST_TIMED_OUT, with no message, and not
    // created, validateOnly or not (as Kafka 4.4). ZooKeeper mode creates the topic and answers
    // REQUEST_TIMED_OUT without waiting for its leaders (createTopic below).
    const expired = request.timeoutMs <= 0 && ctx.broker.config.getString('zookeeper.connect').trim() === '';
    // One at a time: creations go through the registry's single writer anyway.
    for (const t of request.topics) {
      if (counts.get(t.name)! > 1) {
        topics.push(failure(t.name, ErrorCode.INVALID_REQUEST, `Create topics request from client \`${ctx.clientId}\` contains multiple entries for the following topics: ${t.name}`));
        continue;
      }
      if (!clusterCreate && !authorized(ctx, Op.CREATE, Resource.TOPIC, t.name)) {
        topics.push(failure(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.'));
        continue;
      }
      if (expired) {
        topics.push(failure(t.name, ErrorCode.REQUEST_TIMED_OUT, null));
        continue;
      }
      // A timeout <= 0 stays one (no wait at all); else what is left of it, at least a moment.
      const timeoutMs = request.timeoutMs <= 0 ? request.timeoutMs : Math.max(1, deadline - Date.now());
      topics.push(await createTopic(ctx, t, request.validateOnly, timeoutMs));
    }
    return { topics };
  },
});

function failure(name: string, errorCode: number, errorMessage: string | null): Encodable<CreatableTopicResult> {
  return { name, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: null, topicConfigErrorCode: 0 };
}

async function createTopic(ctx: RequestContext, t: CreatableTopic, validateOnly: boolean, timeoutMs: number): Promise<Encodable<CreatableTopicResult>> {
  const { broker } = ctx;
  const configs: Record<string, string> = {};
  for (const c of t.configs) if (c.value !== null) configs[c.name] = c.value;
  try {
    const assignments = t.assignments;
    let partitions: number = t.numPartitions;
    let replicationFactor: number = t.replicationFactor;
    let assignment: Map<number, number[]> | undefined;
    if (assignments.length > 0) {
      if (partitions !== -1 || replicationFactor !== -1) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.');
      }
      assignment = new Map(assignments.map((a) => [a.partitionIndex, a.brokerIds]));
      if (assignment.size !== assignments.length) {
        throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Duplicate partition index in the replica assignment of ${t.name}.`);
      }
      partitions = assignments.length;
      replicationFactor = assignments[0]?.brokerIds.length ?? 1;
    }
    // __consumer_offsets asked for by a client gets the coordinator's layout (its partition count unless
    // the request names one, compacted) where the request leaves it open: Kafka creates exactly what is
    // asked, and a default-sized, uncompacted offsets topic loses committed offsets to retention.
    const offsetsTopic = t.name === OFFSETS_TOPIC;
    if (offsetsTopic) Object.assign(configs, { ...OFFSETS_TOPIC_CONFIGS, ...configs });
    if (partitions === -1) partitions = broker.config.getNumber(offsetsTopic ? 'offsets.topic.num.partitions' : 'num.partitions');
    if (replicationFactor === -1) replicationFactor = broker.config.getNumber('default.replication.factor');
    if (replicationFactor <= 0) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
    // The store places the replicas over its live brokers (one, in the embedded mode) or checks the
    // client's assignment against them: INVALID_REPLICATION_FACTOR / INVALID_REPLICA_ASSIGNMENT.
    const planned = broker.topics.validateCreate(t.name, partitions, configs, assignment ? { assignment } : { replicationFactor });
    const created = validateOnly ? null : await broker.topics.create(t.name, partitions, configs, { internal: offsetsTopic, assignment: planned, timeoutMs });
    if (created) broker.log.info(`Created topic ${t.name} with ${partitions} partition(s), replication factor ${replicationFactor}`);
    // The configs in the answer need DescribeConfigs on the topic.
    if (!authorized(ctx, Op.DESCRIBE_CONFIGS, Resource.TOPIC, t.name)) {
      return { name: t.name, topicId: created?.topicId, errorCode: 0, errorMessage: null, numPartitions: partitions, replicationFactor, configs: null, topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
    }
    return {
      name: t.name,
      topicId: created?.topicId,
      errorCode: 0,
      errorMessage: null,
      numPartitions: partitions,
      replicationFactor,
      configs: describeTopicConfigs(broker, new Map(Object.entries(configs)), null, false).map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        configSource: c.configSource,
        isSensitive: c.isSensitive,
      })),
    };
  } catch (err) {
    // Leaders not elected within the timeout: the topic is created all the same, and Kafka's
    // ZooKeeper mode says REQUEST_TIMED_OUT without a message.
    if (err instanceof KafkaError && err.code === ErrorCode.REQUEST_TIMED_OUT && !validateOnly) {
      broker.log.info(`Created topic ${t.name}; its leaders were not elected within the request's ${timeoutMs} ms: REQUEST_TIMED_OUT`);
      return failure(t.name, err.code, null);
    }
    if (err instanceof KafkaError) return failure(t.name, err.code, err.message);
    throw err;
  }
}
