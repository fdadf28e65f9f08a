// The transaction coordinator and the API handlers that reach it. The broker starts it after the
// group coordinator (broker.ts) and the registry imports `transactionHandlers`.
import type { ApiHandler } from '../api-handler.js';
import type { BrokerContext } from '../broker-context.js';
import type { ClusterMetadata } from '../../cluster/cluster-metadata.js';
import type { BrokerConfig } from '../../config/broker-config.js';
import type { LogManager } from '../../storage/index.js';
import type { Logger } from '../logger.js';
import { leadsCoordinatorPartition, TopicCoordinatorLog, type LogManagerLike, type ReplicationLike, type TopicRegistryLike } from '../groups/topic-log.js';
import addPartitionsToTxn from '../handlers/24-add-partitions-to-txn.js';
import addOffsetsToTxn from '../handlers/25-add-offsets-to-txn.js';
import endTxn from '../handlers/26-end-txn.js';
import writeTxnMarkers from '../handlers/27-write-txn-markers.js';
import txnOffsetCommit from '../handlers/28-txn-offset-commit.js';
import describeProducers from '../handlers/61-describe-producers.js';
import describeTransactions from '../handlers/65-describe-transactions.js';
import listTransactions from '../handlers/66-list-transactions.js';
import { TransactionCoordinator, type MarkerWrite } from './coordinator.js';
import { TXN_TOPIC, transactionTopicConfigs } from './records.js';

export { TransactionCoordinator } from './coordinator.js';
export { TXN_TOPIC } from './records.js';

export const transactionHandlers: ApiHandler[] = [addPartitionsToTxn, addOffsetsToTxn, endTxn, writeTxnMarkers, txnOffsetCommit, describeProducers, describeTransactions, listTransactions];

export interface StartTransactionsOptions {
  logs: LogManager;
  topics: ClusterMetadata;
  config: BrokerConfig;
  now: () => number;
  log: Logger;
  nodeId: number;
  generateProducerId: () => Promise<number>;
  writeMarker: (m: MarkerWrite) => Promise<void>;
  /** The replica manager once it runs (it starts after the coordinators); absent on a lone broker. */
  replication?: () => ReplicationLike | undefined;
}

export function startTransactionCoordinator(o: StartTransactionsOptions): Promise<TransactionCoordinator> {
  const num = (key: string) => o.config.getNumber(key);
  const store = new TopicCoordinatorLog(
    o.logs as unknown as LogManagerLike,
    o.topics as unknown as TopicRegistryLike,
    num('transaction.state.log.num.partitions'),
    o.log,
    num('transaction.state.log.replication.factor'),
    TXN_TOPIC,
    transactionTopicConfigs(num('transaction.state.log.segment.bytes')),
    // Kafka appends to the transaction log with acks=-1 (TransactionLog.EnforcedRequiredAcks) and
    // request.timeout.ms: a state is answered only once the ISR has it, so a new coordinator elected
    // from the ISR knows every transition a client was told about.
    {
      replication: o.replication ?? (() => undefined),
      timeoutMs: num('request.timeout.ms'),
      minInsyncReplicas: num('transaction.state.log.min.isr'),
    },
  );
  const topics = o.topics;
  return TransactionCoordinator.start({
    store,
    settings: {
      // Kafka 3.9 writes TransactionLogValue v0; Kafka 4.x (transaction.version finalized >= 1) v1.
      logValueVersion: o.config.getString('kts.as.kafka') === '3.9' ? 0 : 1,
      maxTimeoutMs: num('transaction.max.timeout.ms'),
      abortTimedOutIntervalMs: num('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
      expirationMs: num('transactional.id.expiration.ms'),
      expirationIntervalMs: num('transaction.remove.expired.transaction.cleanup.interval.ms'),
    },
    now: o.now,
    log: o.log,
    generateProducerId: o.generateProducerId,
    writeMarker: o.writeMarker,
    ownsPartition: (p) => leadsCoordinatorPartition(topics as unknown as TopicRegistryLike, TXN_TOPIC, p, o.nodeId),
    leadsPartition: (topic, p) => topics.partitionState(topic, p)?.leader === o.nodeId,
    coordinatorEpoch: (p) => Math.max(0, topics.partitionState(TXN_TOPIC, p)?.leaderEpoch ?? 0),
    onStatesChanged: topics.onStatesChanged ? (l) => topics.onStatesChanged!(l) : undefined,
    haltBeforeComplete: haltHook(process.env.KTS_FAULT_TXN_HALT_BEFORE_COMPLETE),
  });
}

/**
 * KTS_FAULT_TXN_HALT_BEFORE_COMPLETE=<id>[,<id>...], a fault hook for crash tests only: the named
 * transactional ids stop between their markers and their Complete state (coordinator.ts).
 */
function haltHook(value: string | undefined): ((transactionalId: string) => boolean) | undefined {
  if (!value) return undefined;
  const ids = new Set(value.split(','));
  return (id) => ids.has(id);
}

/** The coordinator of a broker, or an answer for a broker without one. */
export function coordinatorOf(broker: BrokerContext): TransactionCoordinator | undefined {
  return broker.txnCoordinator;
}
