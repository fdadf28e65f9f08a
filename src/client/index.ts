// A small promise-based Kafka client over node:net, speaking the real wire protocol (so it works
// against Apache Kafka as well as kts). It is what the kafka-* tools use:
//
//   const client = await KafkaClient.connect('localhost:9092', { clientId: 'me' });
//   await client.admin.createTopics([{ name: 'orders', numPartitions: 3 }]);
//   const producer = client.producer({ acks: -1 });
//   await producer.send('orders', { key: Buffer.from('k'), value: Buffer.from('v') });
//   const [p0] = await client.fetch([{ topic: 'orders', partition: 0, offset: 0 }]);
//   const committed = await client.groups.fetchOffsets('my-group');
//   client.close();
//
// connect() resolves once a broker answered ApiVersions and Metadata, or rejects with
// BrokerUnreachableError after `bootstrapTimeoutMs`.
// The record codec (and snappy/lz4/zstd) is loaded by the first produce or fetch: an admin
// command (kts topics --list) never loads it.
import { Admin } from './admin.js';
import type { ClientSecurity } from './connection.js';
import { Cluster, parseBootstrap, type ClusterMetadata, type TopicMetadata } from './cluster.js';
import type { FetchOptions, FetchRequestPartition, FetchedPartition } from './fetch.js';
import { GroupMember, type GroupMemberOptions } from './group-member.js';
import { Groups } from './groups.js';
import { Producer, type ProducerOptions } from './producer.js';

export interface ClientOptions {
  clientId?: string;
  /** How long to keep trying to reach the first broker (default 10 s). */
  bootstrapTimeoutMs?: number;
  /** One TCP connect + handshake (default 5 s). */
  connectTimeoutMs?: number;
  /** Default wait for an answer (default 30 s). */
  requestTimeoutMs?: number;
  /** TLS and SASL settings (security.protocol other than PLAINTEXT). */
  security?: ClientSecurity;
}

export class KafkaClient {
  readonly admin: Admin;
  readonly groups: Groups;

  private constructor(readonly cluster: Cluster) {
    this.admin = new Admin(cluster);
    this.groups = new Groups(cluster);
  }

  static async connect(bootstrap: string, opts: ClientOptions = {}): Promise<KafkaClient> {
    const cluster = new Cluster(bootstrap, parseBootstrap(bootstrap), {
      clientId: opts.clientId ?? 'kts',
      bootstrapTimeoutMs: opts.bootstrapTimeoutMs ?? 10000,
      connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 30000,
      security: opts.security,
    });
    try {
      await cluster.refresh([]);
    } catch (err) {
      cluster.close();
      throw err;
    }
    return new KafkaClient(cluster);
  }

  /** Fresh metadata: `topics` null = all topics, [] = brokers only. */
  metadata(topics: string[] | null = null): Promise<ClusterMetadata> {
    return this.cluster.refresh(topics);
  }

  topic(name: string, refresh = false): Promise<TopicMetadata> {
    return this.cluster.topicMetadata(name, refresh);
  }

  producer(opts: ProducerOptions = {}): Producer {
    return new Producer(this.cluster, opts);
  }

  /** One fetch round: every partition from its leader, in parallel. */
  async fetch(partitions: FetchRequestPartition[], opts: FetchOptions = {}): Promise<FetchedPartition[]> {
    const { fetchPartitions } = await import('./fetch.js');
    return fetchPartitions(this.cluster, partitions, opts);
  }

  /** A member of a consumer group (join, heartbeat, commit, leave). */
  groupMember(opts: GroupMemberOptions): GroupMember {
    return new GroupMember(this.cluster, this.groups, opts);
  }

  close(): void {
    this.cluster.close();
  }
}

export { BrokerUnreachableError, KafkaClientError, RequestTimeoutError, kafkaError } from './errors.js';
export { ListOffsetsTime, CONFIG_SOURCES, ResourceType } from './admin.js';
export type { AlterOp, ConfigEntry, ConfigResourceResult, CreatedTopic, DeletedRecords, ListedOffset, NewTopic, ResourceTypeName } from './admin.js';
export type { BrokerInfo, ClusterMetadata, PartitionMetadata, TopicMetadata } from './cluster.js';
export { parseBootstrap, ZERO_ID } from './cluster.js';
export type { FetchedPartition, FetchedRecord, FetchOptions, FetchRequestPartition, TimestampType } from './fetch.js';
export type { CommittedOffset, GroupDescription, GroupListing, GroupMemberDescription } from './groups.js';
export { decodeAssignment } from './groups.js';
export type { GroupMember, GroupMemberOptions } from './group-member.js';
export type { Producer, ProduceRecord, ProducerOptions, RecordMetadata } from './producer.js';
export type { TopicPartition } from './routing.js';
export { murmur2, partitionForKey } from './partitioner.js';
export { rangeAssign } from './assignor.js';
