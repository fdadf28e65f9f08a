// Metadata v0-v13 (v13: a top-level error code, KIP-1102's REBOOTSTRAP_REQUIRED; always 0 here). This broker leads every partition it holds. Auto-creation: v0-v3 requests carry
// no flag, so a named missing topic is created whenever `auto.create.topics.enable` is on (kafka-node's
// createTopics relies on it); from v4 the request's allowAutoTopicCreation decides too.
// v0 `topics = []` means all topics; v1+ `null` means all and `[]` none. v10+ carry topic ids.
import type { Encodable } from '../../protocol/codec/schema.js';
import type { MetadataResponseTopic } from '../../protocol/generated/03-metadata.js';
import { brokersOnListener } from './common.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { TopicInfo } from '../../cluster/topic-registry.js';
import { topicNameError } from '../../cluster/topic-names.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { OFFSETS_TOPIC } from '../groups/types.js';
import { authorized, authorizedOperations, clusterAuthorized, Op, Resource } from '../auth/check.js';
import { SUPPORTED_OPERATIONS } from '../auth/acl.js';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A topic of the answer: name and error always set, the rest left to the schema defaults where absent. */
type TopicAnswer = Encodable<MetadataResponseTopic> & { name: string | null; errorCode: number };

export default defineHandler({
  apiKey: 3,
  minVersion: 0,
  maxVersion: 13,
  async handle(request, ctx) {
    const { broker } = ctx;
    const requested: { name: string | null; topicId: string }[] | null = request.topics;
    const allTopics = requested === null || (ctx.apiVersion === 0 && requested.length === 0);
    // As KafkaApis: a topic the principal may not Describe is left out of "all topics", and named
    // (existing or not) it is answered TOPIC_AUTHORIZATION_FAILED.
    const topics = allTopics
      ? broker.topics
          .list()
          .filter((t) => authorized(ctx, Op.DESCRIBE, Resource.TOPIC, t.name))
          .map((t) => describeTopic(ctx, t))
      : await Promise.all(requested!.map((t) => resolveTopic(ctx, t, request.allowAutoTopicCreation)));
    if (broker.authorizer && request.includeTopicAuthorizedOperations) {
      for (const t of topics) if (t.errorCode === 0 && t.name) t.topicAuthorizedOperations = authorizedOperations(ctx, Resource.TOPIC, t.name, SUPPORTED_OPERATIONS[Resource.TOPIC]);
    }
    return {
      ...(broker.authorizer && request.includeClusterAuthorizedOperations
        ? { clusterAuthorizedOperations: authorizedOperations(ctx, Resource.CLUSTER, 'kafka-cluster', SUPPORTED_OPERATIONS[Resource.CLUSTER]) }
        : {}),
      errorCode: 0,
      brokers: brokersOnListener(ctx),
      clusterId: broker.clusterId,
      controllerId: broker.topics.controllerId(),
      topics,
    };
  },
});

async function resolveTopic(ctx: RequestContext, requested: { name: string | null; topicId: string }, allowAutoCreate: boolean): Promise<TopicAnswer> {
  const { broker } = ctx;
  // By id when there is no name: Kafka 4.4's consumer asks for the topic ids of its assignment
  // with the name empty, not null (a regex subscription's topics are known to it only by id).
  const byIdOnly = requested.name === null || requested.name === undefined || (requested.name === '' && !!requested.topicId && requested.topicId !== ZERO_UUID);
  if (byIdOnly) {
    const byId = requested.topicId && requested.topicId !== ZERO_UUID ? broker.topics.getById(requested.topicId) : undefined;
    if (byId && !authorized(ctx, Op.DESCRIBE, Resource.TOPIC, byId.name)) return topicError(null, ErrorCode.TOPIC_AUTHORIZATION_FAILED, requested.topicId);
    return byId ? describeTopic(ctx, byId) : topicError(null, ErrorCode.UNKNOWN_TOPIC_ID, requested.topicId);
  }
  const name = requested.name as string; // not null: byIdOnly above
  if (!authorized(ctx, Op.DESCRIBE, Resource.TOPIC, name)) return topicError(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  const existing = broker.topics.get(name);
  if (existing) return describeTopic(ctx, existing);
  if (topicNameError(name)) return topicError(name, ErrorCode.INVALID_TOPIC_EXCEPTION);
  const autoCreate = broker.config.getBoolean('auto.create.topics.enable') && (ctx.apiVersion < 4 || allowAutoCreate);
  if (!autoCreate) return topicError(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  // Auto-creation needs Create on the cluster or on the topic.
  if (!clusterAuthorized(ctx, Op.CREATE) && !authorized(ctx, Op.CREATE, Resource.TOPIC, name)) return topicError(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  try {
    if (name === OFFSETS_TOPIC) {
      // As Kafka's AutoTopicCreationManager: the offsets topic is created the coordinator's way.
      await broker.groups.ensureOffsetsTopic();
      const offsets = broker.topics.get(name);
      if (offsets) return describeTopic(ctx, offsets);
    }
    const created = await broker.topics.create(name, broker.config.getNumber('num.partitions'), {}, { replicationFactor: broker.config.getNumber('default.replication.factor') });
    broker.log.info(`Auto-created topic ${name} with ${created.partitions} partition(s) for ${ctx.clientId ?? 'a client'}`);
    return describeTopic(ctx, created);
  } catch (err) {
    // A concurrent request may have created it first.
    const raced = broker.topics.get(name);
    if (raced) return describeTopic(ctx, raced);
    const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
    // In a cluster another broker may have created it while this broker's cache does not show it
    // yet: as Kafka, answer the retriable LEADER_NOT_AVAILABLE so the client asks again (36 is not
    // retriable in a Metadata response, and clients gave up on the topic).
    return topicError(name, code === ErrorCode.TOPIC_ALREADY_EXISTS ? ErrorCode.LEADER_NOT_AVAILABLE : code);
  }
}

function describeTopic(ctx: RequestContext, topic: TopicInfo): TopicAnswer {
  const live = new Set(ctx.broker.topics.liveBrokers().map((b) => b.nodeId));
  return {
    errorCode: 0,
    name: topic.name,
    topicId: topic.topicId,
    isInternal: topic.internal,
    partitions: Array.from({ length: topic.partitions }, (_, partitionIndex) => {
      const state = ctx.broker.topics.partitionState(topic.name, partitionIndex);
      // As Kafka's metadata cache: a leader whose broker is not alive is no leader (-1,
      // LEADER_NOT_AVAILABLE). kts learns of a broker's death (/brokers/ids) before the controller
      // has moved its partitions: naming the dead broker in that gap made kafkajs keep it as the
      // leader with no connection to fetch through, so a group member never read that partition again.
      const leader = state && live.has(state.leader) ? state.leader : -1;
      return {
        errorCode: leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : 0,
        partitionIndex,
        leaderId: leader,
        leaderEpoch: state?.leaderEpoch ?? 0,
        replicaNodes: state?.replicas ?? [],
        isrNodes: state?.isr ?? [],
        offlineReplicas: (state?.replicas ?? []).filter((id) => !live.has(id)),
      };
    }),
  };
}

function topicError(name: string | null, errorCode: number, topicId = ZERO_UUID): TopicAnswer {
  return { errorCode, name, topicId, isInternal: false, partitions: [] };
}
