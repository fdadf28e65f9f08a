// What a handler may reach: the broker's services. Handlers get it as `ctx.broker`.
// Kept as an interface so handlers do not import the server (and tests can build one directly).
import type { BrokerConfig } from '../config/broker-config.js';
import type { LogManager } from '../storage/index.js';
import type { ClusterMetadata } from '../cluster/cluster-metadata.js';
import type { GroupCoordinator } from './groups/index.js';
import type { Logger } from './logger.js';
import type { ScramStore } from './security/scram-store.js';
import type { ReplicaManager } from './replication/replica-manager.js';
import type { TransactionCoordinator } from './transactions/coordinator.js';
import type { TxnVerifier } from './transactions/verification.js';
import type { Authorizer } from './auth/authorizer.js';
import type { BrokerMetrics } from './metrics/broker-metrics.js';
import type { ClientSecurity } from '../client/connection.js';

export interface BrokerContext {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly config: BrokerConfig;
  /** Partition logs on disk. */
  readonly logs: LogManager;
  /** Topics (names, ids, partition counts, config overrides), brokers and partition leadership. */
  readonly topics: ClusterMetadata;
  readonly groups: GroupCoordinator;
  /** Transactional ids whose __transaction_state partition this broker leads (absent in unit tests). */
  readonly txnCoordinator?: TransactionCoordinator;
  /** Asks transaction coordinators whether a partition is in a producer's transaction (KIP-890). */
  readonly txnVerifier?: TxnVerifier;
  /** ZooKeeper mode: followers, ISR and high watermarks of partitions with several replicas. */
  readonly replication?: ReplicaManager;
  /** The ACL authorizer, when authorizer.class.name names one (handlers ask it through auth/check.ts). */
  readonly authorizer?: Authorizer;
  /** SCRAM credentials (ZooKeeper /config/users, or the embedded store's file); absent in unit tests. */
  readonly scram?: ScramStore;
  readonly log: Logger;
  /** The counters behind kts.metrics.port; absent when metrics are off (handlers then count nothing). */
  readonly metrics?: BrokerMetrics;
  /** TLS/SASL settings of this broker's connections to other brokers (inter-broker listener); undefined: PLAINTEXT. */
  interBrokerSecurity?(): ClientSecurity | undefined;
  /** The advertised address of this broker (what Metadata returns). */
  readonly advertised: { host: string; port: number };
  /** Clock seam: every time-based decision reads this, so tests can move time. */
  now(): number;
}
