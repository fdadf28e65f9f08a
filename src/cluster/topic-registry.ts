// Topic metadata for the embedded coordinator (no zookeeper.connect): names, ids, partition counts
// and config overrides, plus dynamic broker configs. Persisted as one JSON document replaced
// atomically under the first log dir; `meta.properties` (meta-properties.ts) carries the cluster id as Kafka's does.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { type FileSystem, nodeFileSystem } from '../storage/file-system.js';
import type { LogManager } from '../storage/index.js';
import { writeFileAtomic } from './atomic-file.js';
import { METADATA_FILE, type StoredState, readStoredState } from './stored-metadata.js';
import { TopicDeletionListeners, type BrokerEndpoint, type ClusterMetadata, type PartitionState, type TopicPlacement } from './cluster-metadata.js';
import { assignReplicasToBrokers, validateReplicaAssignment } from './replica-assignment.js';
import { createPartitionLogs, type NewPartitionLogs } from './new-partition-logs.js';
import { isInternalTopic } from './topic-names.js';
import { checkPartitionLimit, validateConfigs, validateNewTopic } from './topic-validation.js';

export interface TopicInfo {
  name: string;
  /** Kafka's base64url form of the 16-byte topic id. */
  topicId: string;
  partitions: number;
  /** Per-topic config overrides. */
  configs: Map<string, string>;
  internal: boolean;
}

export interface RegistryLogger {
  warn(message: string): void;
}

export function randomTopicId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    // Kafka never hands out ids that look like command-line options.
    if (!id.startsWith('-')) return id;
  }
}

export function randomClusterId(): string {
  return randomTopicId();
}

/** The embedded coordinator: one broker that leads every partition. */
export class TopicRegistry implements ClusterMetadata {
  private readonly topics = new Map<string, TopicInfo>();
  private readonly byId = new Map<string, TopicInfo>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly clusterId: string,
    private readonly dir: string,
    private readonly config: BrokerConfig,
    private readonly logs: LogManager,
    private readonly log: RegistryLogger,
  ) {
    this.deletionListeners = new TopicDeletionListeners(log);
  }

  private readonly deletionListeners: TopicDeletionListeners;
  private self: BrokerEndpoint | null = null;

  /** The advertised address, known once the listener is bound. */
  setSelf(endpoint: BrokerEndpoint): void {
    this.self = endpoint;
  }

  liveBrokers(): BrokerEndpoint[] {
    return this.self ? [this.self] : [];
  }

  controllerId(): number {
    return this.config.nodeId;
  }

  partitionState(topic: string, partition: number): PartitionState | undefined {
    const info = this.topics.get(topic);
    if (!info || partition < 0 || partition >= info.partitions) return undefined;
    const id = this.config.nodeId;
    return { leader: id, leaderEpoch: 0, replicas: [id], isr: [id] };
  }

  async close(): Promise<void> {
    await this.writes;
  }

  /** `metaClusterId`: what meta.properties says (checked against the stored id before this). */
  static async open(config: BrokerConfig, logs: LogManager, log: RegistryLogger = { warn: (m) => console.warn(m) }, metaClusterId?: string): Promise<TopicRegistry> {
    const dir = config.logDirs[0];
    await logs.fileSystem.mkdir(dir, { recursive: true });
    // Shape checked here; checked against the disk before the logs were opened (checkStoredMetadata).
    const state = await readStoredState(dir, logs.fileSystem);
    const clusterId = state?.clusterId ?? metaClusterId ?? randomClusterId();
    const registry = new TopicRegistry(clusterId, dir, config, logs, log);
    for (const [key, value] of Object.entries(state?.brokerConfigs ?? {})) config.dynamic.set(key, value);
    for (const [name, t] of Object.entries(state?.topics ?? {})) {
      registry.index({ name, topicId: t.topicId, partitions: t.partitions, configs: new Map(Object.entries(t.configs)), internal: t.internal });
    }
    // Without a metadata file nothing says which logs belong (a first start, or an older data dir):
    // then nothing is removed.
    if (state) await registry.removeStrayLogs();
    // A partition dir could be missing (deleted by hand, or a data dir from before logs came first).
    for (const topic of registry.topics.values()) await registry.ensureLogs(topic);
    // A first start with nothing to keep writes no state file (the cluster id is in meta.properties).
    if (!state && (registry.topics.size > 0 || config.dynamic.size > 0)) await registry.persist();
    return registry;
  }

  get(name: string): TopicInfo | undefined {
    return this.topics.get(name);
  }

  getById(topicId: string): TopicInfo | undefined {
    return this.byId.get(topicId);
  }

  list(): TopicInfo[] {
    return [...this.topics.values()];
  }

  /** Checks everything CreateTopics checks, without side effects. Throws KafkaError. */
  validateCreate(name: string, partitions: number, configs: Record<string, string>, placement: TopicPlacement = {}): Map<number, number[]> {
    validateNewTopic(name, partitions, configs, this.topics.keys());
    // Here, not in a handler: auto-created and internal topics count against the ceiling too.
    checkPartitionLimit(this.topics.values(), partitions, this.config.getNumber('kts.max.partitions'));
    return this.placeOnSelf(partitions, placement.replicationFactor ?? 1, placement.assignment);
  }

  /** One broker: every replica is this one; a factor above 1 or another broker id is refused as Kafka would. */
  private placeOnSelf(partitions: number, replicationFactor: number, assignment: Map<number, number[]> | undefined, firstPartition = 0): Map<number, number[]> {
    const self = [this.config.nodeId];
    if (assignment) {
      validateReplicaAssignment(assignment, self, firstPartition);
      return assignment;
    }
    return assignReplicasToBrokers([{ nodeId: this.config.nodeId, rack: null }], partitions, replicationFactor, { firstPartition });
  }

  async create(
    name: string,
    partitions: number,
    configs: Record<string, string> = {},
    opts: { internal?: boolean; replicationFactor?: number; assignment?: Map<number, number[]> } = {},
  ): Promise<TopicInfo> {
    return this.mutate(async () => {
      this.validateCreate(name, partitions, configs, opts);
      const topic: TopicInfo = {
        name,
        topicId: randomTopicId(),
        partitions,
        configs: new Map(Object.entries(configs)),
        internal: opts.internal ?? isInternalTopic(name),
      };
      // All or nothing: the logs first, then the metadata; a failure on the way removes the logs made
      // (a crash in between leaves stray partition dirs, which open() removes).
      const made = await this.createLogs(topic, 0, partitions);
      this.index(topic);
      try {
        await this.persist();
      } catch (err) {
        this.unindex(topic);
        await made.rollback();
        throw err;
      }
      return topic;
    });
  }

  async delete(name: string): Promise<TopicInfo> {
    const deleted = await this.mutate(async () => {
      const topic = this.require(name);
      this.topics.delete(name);
      this.byId.delete(topic.topicId);
      await this.persist();
      for (let p = 0; p < topic.partitions; p++) await this.logs.delete(name, p);
      return topic;
    });
    // Outside mutate(): a listener writing to __consumer_offsets may need the registry itself.
    await this.deletionListeners.announce(name);
    return deleted;
  }

  onTopicDeleted(listener: (topic: string) => Promise<void>): void {
    this.deletionListeners.add(listener);
  }

  async addPartitions(name: string, total: number, assignment?: Map<number, number[]>): Promise<TopicInfo> {
    return this.mutate(async () => {
      const topic = this.require(name);
      if (total <= topic.partitions) {
        throw new KafkaError(
          ErrorCode.INVALID_PARTITIONS,
          total === topic.partitions
            ? `Topic already has ${topic.partitions} partitions.`
            : `Topic currently has ${topic.partitions} partitions, which is higher than the requested ${total}.`,
        );
      }
      this.placeOnSelf(total - topic.partitions, 1, assignment, topic.partitions);
      const before = topic.partitions;
      const made = await this.createLogs(topic, before, total);
      topic.partitions = total;
      try {
        await this.persist();
      } catch (err) {
        topic.partitions = before;
        await made.rollback();
        throw err;
      }
      return topic;
    });
  }

  /** Replaces a topic's overrides (AlterConfigs) and applies them to its open logs. */
  async setTopicConfigs(name: string, configs: Map<string, string>): Promise<void> {
    return this.mutate(async () => {
      const topic = this.require(name);
      validateConfigs(configs);
      topic.configs = new Map(configs);
      await this.persist();
      this.applyLogConfig(topic);
    });
  }

  /** Replaces the dynamic broker configs and re-applies topic configs (broker synonyms changed). */
  async setBrokerConfigs(configs: Map<string, string>): Promise<void> {
    return this.mutate(async () => {
      this.config.dynamic.clear();
      for (const [k, v] of configs) this.config.dynamic.set(k, v);
      await this.persist();
      for (const topic of this.topics.values()) this.applyLogConfig(topic);
    });
  }

  private applyLogConfig(topic: TopicInfo): void {
    const logConfig = this.config.logConfig(topic.configs);
    for (let p = 0; p < topic.partitions; p++) this.logs.get(topic.name, p)?.updateConfig(logConfig);
  }

  private require(name: string): TopicInfo {
    const topic = this.topics.get(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    return topic;
  }

  private index(topic: TopicInfo): void {
    this.topics.set(topic.name, topic);
    this.byId.set(topic.topicId, topic);
  }

  private unindex(topic: TopicInfo): void {
    this.topics.delete(topic.name);
    this.byId.delete(topic.topicId);
  }

  private async ensureLogs(topic: TopicInfo): Promise<void> {
    const logConfig = this.config.logConfig(topic.configs);
    for (let p = 0; p < topic.partitions; p++) await this.logs.create(topic.name, p, logConfig);
  }

  /** The logs of partitions [from, to), all or nothing (new-partition-logs.ts). */
  private createLogs(topic: TopicInfo, from: number, to: number): Promise<NewPartitionLogs> {
    const partitions = Array.from({ length: to - from }, (_, i) => from + i);
    return createPartitionLogs(this.logs, topic.name, partitions, this.config.logConfig(topic.configs), (m) => this.log.warn(m));
  }

  /** Partition logs the metadata does not know (a crash between creating them and saving the topic). */
  private async removeStrayLogs(): Promise<void> {
    for (const log of this.logs.all()) {
      const topic = this.topics.get(log.topic);
      if (topic && log.partition < topic.partitions) continue;
      this.log.warn(`deleting stray log ${log.dir}: ${log.topic}-${log.partition} is not in ${METADATA_FILE}`);
      await this.logs.delete(log.topic, log.partition);
    }
  }

  /** Metadata changes run one at a time so the persisted document is never written concurrently. */
  private mutate<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.writes.then(fn);
    this.writes = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async persist(): Promise<void> {
    const state: StoredState = {
      version: 1,
      clusterId: this.clusterId,
      topics: Object.fromEntries(
        [...this.topics.values()].map((t) => [t.name, { topicId: t.topicId, partitions: t.partitions, configs: Object.fromEntries(t.configs), internal: t.internal }]),
      ),
      brokerConfigs: Object.fromEntries(this.config.dynamic),
    };
    await writeFileAtomic(join(this.dir, METADATA_FILE), JSON.stringify(state, null, 2), this.logs.fileSystem);
  }
}

/** The cluster id the stored metadata holds, if there is any (read before the logs are opened). */
export async function readStoredClusterId(config: BrokerConfig, fs: FileSystem = nodeFileSystem): Promise<string | undefined> {
  return (await readStoredState(config.logDirs[0], fs))?.clusterId;
}
