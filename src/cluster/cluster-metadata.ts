// What the broker needs to know about the cluster, whoever keeps it: the embedded store (one
// broker, no ZooKeeper) or ZooKeeper in Kafka's layout (several brokers). Handlers read leadership
// and brokers from here, so the same code answers in both modes.
import type { OngoingReassignment, ReassignmentRequest } from './partition-reassignment.js';
import type { TopicInfo } from './topic-registry.js';
import type { ElectionResult, ElectionType } from './zk-controller.js';

export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  /**
   * Where the broker is announced on each of its listeners (name -> host and port); host and port
   * above are its inter-broker listener's. Absent when it is not known (a registration without
   * endpoints): clients of every listener are then told host and port.
   */
  listeners?: Readonly<Record<string, { host: string; port: number }>>;
  /**
   * ZooKeeper mode: the broker epoch, the czxid of its /brokers/ids registration (as Kafka's ZK
   * mode): a restarted broker, or one that registered again after losing its session, has a newer one.
   */
  epoch?: number;
}

/** A broker's address for clients of one listener; undefined when it has no such listener (Kafka leaves it out). */
export function endpointOn(broker: BrokerEndpoint, listenerName: string): { host: string; port: number } | undefined {
  if (!broker.listeners) return broker;
  return broker.listeners[listenerName];
}

export interface PartitionState {
  /** -1 when the partition is offline (its leader's broker is gone). */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  /** ZooKeeper mode: the state node's version (ISR changes are conditioned on it) and its controller epoch. */
  zkVersion?: number;
  controllerEpoch?: number;
  /** ZooKeeper mode: the zxid of the state node's last change; orders two looks at one partition's state. */
  zxid?: number;
}

/** How CreateTopics says where replicas go: a factor (the store places them) or an explicit list. */
export interface TopicPlacement {
  replicationFactor?: number;
  /** Partition id -> replicas, preferred leader first. */
  assignment?: Map<number, number[]>;
}

export interface ClusterMetadata {
  readonly clusterId: string;
  get(name: string): TopicInfo | undefined;
  getById(topicId: string): TopicInfo | undefined;
  list(): TopicInfo[];
  liveBrokers(): BrokerEndpoint[];
  controllerId(): number;
  partitionState(topic: string, partition: number): PartitionState | undefined;
  /**
   * Throws KafkaError for anything CreateTopics refuses; no side effects. Answers the assignment
   * the topic would get (partition -> replicas), which `create` takes as its `assignment`.
   */
  validateCreate(name: string, partitions: number, configs: Record<string, string>, placement?: TopicPlacement): Map<number, number[]>;
  /**
   * `timeoutMs` (ZooKeeper mode): how long to wait for the controller to give every new partition
   * a leader before REQUEST_TIMED_OUT (the topic stays created), as CreateTopics' timeout in Kafka's
   * ZooKeeper mode; <= 0 answers REQUEST_TIMED_OUT without waiting. Unset: 15 s (auto-creation).
   */
  create(
    name: string,
    partitions: number,
    configs?: Record<string, string>,
    opts?: { internal?: boolean; replicationFactor?: number; assignment?: Map<number, number[]>; timeoutMs?: number },
  ): Promise<TopicInfo>;
  /**
   * `timeoutMs` (ZooKeeper mode): how long to wait for the controller to complete the deletion
   * before REQUEST_TIMED_OUT (the deletion goes on), as DeleteTopics' timeout in Kafka.
   */
  delete(name: string, opts?: { timeoutMs?: number }): Promise<TopicInfo>;
  /**
   * Calls `listener` once this broker learns that a topic is gone (deleted here or, with ZooKeeper,
   * by any broker; also a topic deleted and re-created under the same name between two looks).
   * Its promise is awaited; a rejection is logged.
   */
  onTopicDeleted(listener: (topic: string) => Promise<void>): void;
  /**
   * `assignment`: replicas of the new partitions (ids from the current count), else placed as Kafka
   * does. `timeoutMs`: as create's, for the new partitions' leaders (CreatePartitions' timeout).
   */
  addPartitions(name: string, total: number, assignment?: Map<number, number[]>, opts?: { timeoutMs?: number }): Promise<TopicInfo>;
  /**
   * ZooKeeper mode only (partitions with several replicas): the leader's change of a partition's ISR,
   * written only if the state node is still at `zkVersion` (a leader cut off from ZooKeeper, or one a
   * newer state superseded, cannot change it). Answers the new state, or null when the write was
   * refused (the cache is re-read).
   */
  alterIsr?(topic: string, partition: number, isr: number[], zkVersion: number): Promise<PartitionState | null>;
  /** ZooKeeper mode: brokers in a controlled shutdown (not to be added back to an ISR). */
  shuttingDownBrokers?(): ReadonlySet<number>;
  /**
   * ZooKeeper mode: hands leadership of this broker's partitions to other ISR members and leaves the
   * ISRs before a stop; resolves when done or after `timeoutMs` (`remaining`: partitions not moved).
   */
  controlledShutdown?(timeoutMs: number): Promise<{ moved: boolean; remaining: string[] }>;
  /**
   * ZooKeeper mode: ElectLeaders, run by the controller (KafkaError NOT_CONTROLLER on another
   * broker). `partitions` null: all of them.
   */
  electLeaders?(type: ElectionType, partitions: { topic: string; partition: number }[] | null): Promise<ElectionResult[]>;
  /** ZooKeeper mode: `listener` runs after every refresh of brokers and partition states. */
  onStatesChanged?(listener: () => void): void;
  /**
   * ZooKeeper mode, on the controller: starts, replaces or cancels (`replicas` null) reassignments
   * (KIP-455). Answers each partition's error (null: accepted), in the order asked. Without it the
   * store has one broker: a reassignment is either refused or changes nothing.
   */
  alterPartitionReassignments?(requests: ReassignmentRequest[]): Promise<(Error | null)[]>;
  /** ZooKeeper mode, on the controller: the ongoing reassignments (of `partitions`, or all). */
  listPartitionReassignments?(partitions: { topic: string; partition: number }[] | null): OngoingReassignment[];
  /** ZooKeeper mode: claims `size` producer ids no other broker of the cluster holds; resolves with the first. */
  claimProducerIdBlock?(size: number): Promise<number>;
  setTopicConfigs(name: string, configs: Map<string, string>): Promise<void>;
  /**
   * Replaces the dynamic broker configs: the cluster-wide default's, or with `brokerId` that broker's
   * own where the store keeps them apart (`perBrokerConfigs`; ZooKeeper's /config/brokers/<id>).
   */
  setBrokerConfigs(configs: Map<string, string>, brokerId?: number): Promise<void>;
  /** True when a broker's own dynamic configs are kept apart from the cluster-wide default's. */
  readonly perBrokerConfigs?: boolean;
  close(): Promise<void>;
}

/** The onTopicDeleted listeners of a ClusterMetadata: each is awaited, a failure is only logged. */
export class TopicDeletionListeners {
  private readonly listeners: ((topic: string) => Promise<void>)[] = [];

  constructor(private readonly log: { warn(message: string): void }) {}

  add(listener: (topic: string) => Promise<void>): void {
    this.listeners.push(listener);
  }

  async announce(topic: string): Promise<void> {
    for (const listener of this.listeners) {
      await listener(topic).catch((err: unknown) => this.log.warn(`Cleaning up after the deletion of topic ${topic} failed: ${(err as Error).message}`));
    }
  }
}
