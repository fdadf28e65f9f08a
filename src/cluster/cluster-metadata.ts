// What the broker needs to know about the cluster, whoever keeps it: the embedded store (one
// broker, no ZooKeeper) or ZooKeeper in Kafka's layout (several brokers). Handlers read leadership
// and brokers from here, so the same code answers in both modes.
import type { TopicInfo } from './topic-registry.js';

export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
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
  create(
    name: string,
    partitions: number,
    configs?: Record<string, string>,
    opts?: { internal?: boolean; replicationFactor?: number; assignment?: Map<number, number[]> },
  ): Promise<TopicInfo>;
  delete(name: string): Promise<TopicInfo>;
  /**
   * Calls `listener` once this broker learns that a topic is gone (deleted here or, with ZooKeeper,
   * by any broker; also a topic deleted and re-created under the same name between two looks).
   * Its promise is awaited; a rejection is logged.
   */
  onTopicDeleted(listener: (topic: string) => Promise<void>): void;
  /** `assignment`: replicas of the new partitions (ids from the current count), else placed as Kafka does. */
  addPartitions(name: string, total: number, assignment?: Map<number, number[]>): Promise<TopicInfo>;
  /**
   * ZooKeeper mode only (partitions with several replicas): the leader's change of a partition's ISR,
   * written only if the state node is still at `zkVersion` (a leader cut off from ZooKeeper, or one a
   * newer state superseded, cannot change it). Answers the new state, or null when the write was
   * refused (the cache is re-read).
   */
  alterIsr?(topic: string, partition: number, isr: number[], zkVersion: number): Promise<PartitionState | null>;
  /** ZooKeeper mode: `listener` runs after every refresh of brokers and partition states. */
  onStatesChanged?(listener: () => void): void;
  setTopicConfigs(name: string, configs: Map<string, string>): Promise<void>;
  setBrokerConfigs(configs: Map<string, string>): Promise<void>;
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
