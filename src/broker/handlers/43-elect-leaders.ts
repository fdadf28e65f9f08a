// ElectLeaders v0-v2 (Kafka 3.9): a preferred (0) or unclean (1) leader election for the partitions
// named, or all (null). The controller decides (zk-controller.ts); a broker that is not the
// controller forwards the request to it and relays its answer (Kafka 3.9 in ZooKeeper mode answers
// NOT_CONTROLLER instead, and its admin client sends to the controller anyway). Without ZooKeeper
// (one broker) every partition is led by its only, preferred replica: nothing to elect.
import type { Encodable } from '../../protocol/codec/schema.js';

import type { ElectLeadersRequestData, ReplicaElectionResult } from '../../protocol/generated/43-elect-leaders.js';
import { BrokerConnection } from '../../client/connection.js';
import type { ElectionResult, ElectionType } from '../../cluster/zk-controller.js';
import { API } from '../../client/versions.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { clusterAuthorized, Op } from '../auth/check.js';
import { raceTimeout } from '../../util/timeout.js';

const ELECTION_TYPES: Record<number, ElectionType> = { 0: 'PREFERRED', 1: 'UNCLEAN' };

export default defineHandler({
  apiKey: 43,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    const type = ELECTION_TYPES[v >= 1 ? request.electionType : 0];
    const requested: { topic: string; partition: number }[] | null =
      request.topicPartitions === null ? null : request.topicPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
    const answer = (results: ElectionResult[], errorCode = 0) => ({ throttleTimeMs: 0, errorCode, replicaElectionResults: byTopic(results) });
    if (!clusterAuthorized(ctx, Op.ALTER)) {
      return answer((requested ?? []).map((p) => ({ ...p, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null })), ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    }
    if (!type) {
      return answer((requested ?? []).map((p) => ({ ...p, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown election type ${request.electionType}` })), ErrorCode.INVALID_REQUEST);
    }
    const topics = ctx.broker.topics;
    if (!topics.electLeaders) return answer(standalone(ctx, requested));
    try {
      return answer(await withTimeout(topics.electLeaders(type, requested), request.timeoutMs));
    } catch (err) {
      if (err instanceof KafkaError && err.code === ErrorCode.NOT_CONTROLLER) {
        const forwarded = await forwardToController(ctx, request).catch((e: Error) => {
          ctx.broker.log.warn(`Forwarding ElectLeaders to the controller failed: ${e.message}`);
          return null;
        });
        if (forwarded) return forwarded;
      }
      const code = err instanceof KafkaError ? err.code : ErrorCode.REQUEST_TIMED_OUT;
      const message = err instanceof KafkaError ? err.message : (err as Error).message;
      const partitions = requested ?? topics.list().flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition })));
      return answer(partitions.map((p) => ({ ...p, errorCode: code, errorMessage: message })));
    }
  },
});

/** One broker, no controller: each partition's only replica already leads it. */
function standalone(ctx: RequestContext, requested: { topic: string; partition: number }[] | null): ElectionResult[] {
  if (requested === null) return [];
  return requested.map(({ topic, partition }) => {
    const info = ctx.broker.topics.get(topic);
    if (!info || partition < 0 || partition >= info.partitions) return { topic, partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'The partition does not exist.' };
    return { topic, partition, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
  });
}

function byTopic(results: ElectionResult[]): Encodable<ReplicaElectionResult>[] {
  const topics = new Map<string, { partitionId: number; errorCode: number; errorMessage: string | null }[]>();
  for (const r of results) {
    const list = topics.get(r.topic) ?? [];
    list.push({ partitionId: r.partition, errorCode: r.errorCode, errorMessage: r.errorMessage });
    topics.set(r.topic, list);
  }
  return [...topics].map(([topic, partitionResult]) => ({ topic, partitionResult }));
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  return raceTimeout(work, Math.max(1, timeoutMs), () => {
    throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, 'Timed out waiting for the controller');
  });
}

/** The same request to the controller broker, its answer as ours (null: no controller known). */
async function forwardToController(ctx: RequestContext, request: ElectLeadersRequestData) {
  const controllerId = ctx.broker.topics.controllerId();
  const controller = ctx.broker.topics.liveBrokers().find((b) => b.nodeId === controllerId);
  if (!controller || controllerId === ctx.broker.nodeId) return null;
  const conn = await BrokerConnection.open(controller.host, controller.port, {
    clientId: `broker-${ctx.broker.nodeId}-forwarding`,
    security: ctx.broker.interBrokerSecurity?.(),
    connectTimeoutMs: 10_000,
    requestTimeoutMs: request.timeoutMs + 10_000,
  });
  try {
    return await conn.request(API.ElectLeaders, { electionType: request.electionType ?? 0, topicPartitions: request.topicPartitions, timeoutMs: request.timeoutMs });
  } finally {
    conn.close();
  }
}
