// DescribeTopicPartitions v0 (KIP-966; Kafka 3.9 and 4.x serve v0): what kafka-topics --describe of
// Kafka 4.x asks. Kafka's paging: topics in name order (all of them when none is named), from the
// cursor's topic and partition, at most min(responsePartitionLimit, max.request.partition.size.limit)
// partitions; a topic cut short gets nextCursor at its next partition, a limit reached at a topic's
// end points nextCursor at the next topic's partition 0. kts has no eligible leader replicas (ELR is
// a KRaft feature it does not use): both lists are empty, as from a Kafka without ELR enabled.
import type { Encodable } from '../../protocol/codec/schema.js';
import type { DescribeTopicPartitionsResponsePartition } from '../../protocol/generated/75-describe-topic-partitions.js';
import { authorized, filterAuthorized, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { isInternalTopic, topicNameError } from '../../cluster/topic-names.js';
import type { TopicInfo } from '../../cluster/topic-registry.js';
import { defineHandler, type RequestContext } from '../api-handler.js';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

interface Cursor {
  topicName: string;
  partitionIndex: number;
}

export default defineHandler({
  apiKey: 75,
  minVersion: 0,
  maxVersion: 0,
  async handle(request, ctx) {
    const { broker } = ctx;
    const cursor: Cursor | null = request.cursor ?? null;
    const requested: string[] = request.topics.map((t: { name: string }) => t.name);
    const fetchAll = requested.length === 0;
    if (cursor && !fetchAll && !requested.includes(cursor.topicName)) {
      // Kafka throws InvalidRequestException: every requested topic carries the error.
      return { topics: requested.map((name) => ({ errorCode: ErrorCode.INVALID_REQUEST, name, topicId: ZERO_UUID, isInternal: false, partitions: [] })), nextCursor: null };
    }
    // As KafkaApis: listing all skips the topics the principal may not Describe; named ones are refused.
    let names = fetchAll ? filterAuthorized(ctx, Op.DESCRIBE, Resource.TOPIC, broker.topics.list().map((t) => t.name), (n) => n) : [...new Set(requested)];
    names.sort();
    if (cursor) names = names.filter((name) => name >= cursor.topicName);
    const startOf = (name: string) => (cursor && name === cursor.topicName ? cursor.partitionIndex : 0);

    let remaining = Math.min(request.responsePartitionLimit, broker.config.getNumber('max.request.partition.size.limit'));
    const topics = [];
    let nextCursor: Cursor | null = null;
    for (const name of names) {
      if (remaining <= 0) {
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      if (!fetchAll && !authorized(ctx, Op.DESCRIBE, Resource.TOPIC, name)) {
        topics.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, isInternal: false, partitions: [] });
        continue;
      }
      const topic = broker.topics.get(name);
      if (!topic) {
        // Listing all topics skips the ones that fail; named ones say why.
        if (!fetchAll) {
          const errorCode = topicNameError(name) ? ErrorCode.INVALID_TOPIC_EXCEPTION : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          topics.push({ errorCode, name, topicId: ZERO_UUID, isInternal: isInternalTopic(name), partitions: [] });
        }
        continue;
      }
      const start = startOf(name);
      const end = Math.min(topic.partitions, start + remaining);
      topics.push({ errorCode: 0, name, topicId: topic.topicId, isInternal: topic.internal, partitions: describePartitions(ctx, topic, start, end) });
      if (end < topic.partitions) {
        nextCursor = { topicName: name, partitionIndex: end };
        break;
      }
      remaining -= Math.max(0, end - start);
    }
    return { topics, nextCursor };
  },
});

function describePartitions(ctx: RequestContext, topic: TopicInfo, start: number, end: number): Encodable<DescribeTopicPartitionsResponsePartition>[] {
  const live = new Set(ctx.broker.topics.liveBrokers().map((b) => b.nodeId));
  const partitions = [];
  for (let partitionIndex = start; partitionIndex < end; partitionIndex++) {
    const state = ctx.broker.topics.partitionState(topic.name, partitionIndex);
    const leader = state?.leader ?? -1;
    const replicas = state?.replicas ?? [];
    const leaderAlive = leader >= 0 && live.has(leader);
    partitions.push({
      errorCode: leaderAlive ? 0 : ErrorCode.LEADER_NOT_AVAILABLE,
      partitionIndex,
      leaderId: leaderAlive ? leader : -1,
      leaderEpoch: state?.leaderEpoch ?? 0,
      replicaNodes: replicas,
      isrNodes: state?.isr ?? [],
      eligibleLeaderReplicas: [],
      lastKnownElr: [],
      offlineReplicas: replicas.filter((id) => !live.has(id)),
    });
  }
  return partitions;
}
