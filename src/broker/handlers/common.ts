// Small pieces every partition-level handler needs: find the partition's log, turn an exception
// into a Kafka error code (the one place where that mapping happens).
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { PartitionLog } from '../../storage/index.js';
import type { BrokerContext } from '../broker-context.js';
import type { RequestContext } from '../api-handler.js';
import { endpointOn, type BrokerEndpoint } from '../../cluster/cluster-metadata.js';

export type PartitionLookup = { log: PartitionLog; errorCode: 0; leaderEpoch: number } | { log: null; errorCode: number };

/**
 * The partition's log when this broker leads it; otherwise the error a client re-routes on. With
 * `currentLeaderEpoch` (a client's idea of the leader's epoch, -1 for none) the epoch is checked first,
 * as Kafka does: older is FENCED_LEADER_EPOCH, newer is UNKNOWN_LEADER_EPOCH (this broker has not
 * heard of it yet).
 */
export function lookupPartition(broker: BrokerContext, topic: string, partition: number, currentLeaderEpoch = -1): PartitionLookup {
  const state = broker.topics.partitionState(topic, partition);
  if (!state) return { log: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  const log = broker.logs.get(topic, partition);
  const leads = state.leader === broker.nodeId;
  // A broker without a replica does not judge epochs (Kafka answers NOT_LEADER_OR_FOLLOWER at once).
  if (!leads && !log) return { log: null, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
  const epochError = leaderEpochError(state.leaderEpoch, currentLeaderEpoch);
  if (epochError) return { log: null, errorCode: epochError };
  if (!leads) return { log: null, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
  // The leader by its cache, but the log is not made yet (a broker's cache shows a new partition's
  // state a moment before it has created the log): Kafka answers a partition its metadata knows
  // and it does not host NOT_LEADER_OR_FOLLOWER, which clients retry; not UNKNOWN_TOPIC_OR_PARTITION.
  if (!log) return { log: null, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER };
  return { log, errorCode: 0, leaderEpoch: state.leaderEpoch };
}

/** Kafka's check of a request's current leader epoch against the partition's (-1 skips it). */
export function leaderEpochError(partitionEpoch: number, requestEpoch: number | undefined): number {
  if (requestEpoch === undefined || requestEpoch < 0 || requestEpoch === partitionEpoch) return 0;
  return requestEpoch < partitionEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH;
}

/** KafkaError -> its code; anything else is logged and becomes UNKNOWN_SERVER_ERROR. */
export function errorCodeOf(broker: BrokerContext, err: unknown, what: string): { code: number; message: string } {
  if (err instanceof KafkaError) return { code: err.code, message: err.message };
  broker.log.error(`Unexpected error during ${what}: ${(err as Error)?.stack ?? err}`);
  return { code: ErrorCode.UNKNOWN_SERVER_ERROR, message: 'Unexpected error' };
}

/**
 * The live brokers as the client of this request's listener must dial them (Kafka answers each
 * listener with the endpoints of the same listener name; a broker without it is left out).
 */
export function brokersOnListener(ctx: RequestContext): BrokerEndpoint[] {
  const out: BrokerEndpoint[] = [];
  for (const b of ctx.broker.topics.liveBrokers()) {
    const at = endpointOn(b, ctx.connection.listenerName);
    if (at) out.push({ nodeId: b.nodeId, host: at.host, port: at.port, rack: b.rack });
  }
  return out;
}
