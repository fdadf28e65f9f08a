// Admin calls: topics, partitions, configs, records deletion, offsets by time, cluster description.
// Every method returns per-item results with an `error` (KafkaClientError) instead of throwing for
// a per-item failure, so a tool can report each the way Kafka's does; transport failures throw.
import { ErrorCode } from '../protocol/errors.js';
import type { BrokerInfo, Cluster, TopicMetadata } from './cluster.js';
import { ZERO_ID } from './cluster.js';
import { KafkaClientError, check, kafkaError } from './errors.js';
import { routeToLeaders, tpKey, type TopicPartition } from './routing.js';
import { API } from './versions.js';
import type { Answer } from './connection.js';
import type { RequestBody } from '../protocol/generated/api-types.js';

export const ResourceType = { topic: 2, broker: 4, brokerLogger: 8 } as const;
export type ResourceTypeName = keyof typeof ResourceType;

/** DescribeConfigs config sources by id, with the names Kafka's tools print. */
export const CONFIG_SOURCES: Record<number, string> = {
  0: 'UNKNOWN',
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
  7: 'DYNAMIC_CLIENT_METRICS_CONFIG',
  8: 'DYNAMIC_GROUP_CONFIG',
};

export const ListOffsetsTime = { latest: -1, earliest: -2, maxTimestamp: -3, earliestLocal: -4, latestTiered: -5 } as const;

export interface NewTopic {
  name: string;
  /** -1: the broker's num.partitions. */
  numPartitions?: number;
  /** -1: the broker's default.replication.factor. */
  replicationFactor?: number;
  /** Partition index -> broker ids (excludes numPartitions/replicationFactor). */
  assignments?: Map<number, number[]>;
  configs?: Record<string, string>;
}

export interface CreatedTopic {
  name: string;
  topicId?: string;
  numPartitions?: number;
  replicationFactor?: number;
  error?: KafkaClientError;
  /** The broker's own error text, if it sent one. */
  errorMessage?: string | null;
}

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: string;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  source: string;
  isDefault: boolean;
  isSensitive: boolean;
  readOnly: boolean;
  synonyms: ConfigSynonym[];
}

export interface ConfigResourceResult {
  type: ResourceTypeName;
  name: string;
  entries: ConfigEntry[];
  error?: KafkaClientError;
}

export type AlterOp = 'set' | 'delete' | 'append' | 'subtract';
const OP_IDS: Record<AlterOp, number> = { set: 0, delete: 1, append: 2, subtract: 3 };

export interface PartitionResult {
  topic: string;
  partition: number;
  error?: KafkaClientError;
}

export interface ListedOffset extends PartitionResult {
  /** -1 when the broker has no answer (e.g. a timestamp after the last record). */
  offset: number;
  timestamp: number;
}

export interface DeletedRecords extends PartitionResult {
  lowWatermark: number;
}

/** One ACL as the ACL APIs carry it (Kafka's wire codes: resource type, pattern type, operation, permission). */
export interface AclEntry {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** A DescribeAcls / DeleteAcls filter: null strings and the ANY codes match everything. */
export interface AclFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

export class Admin {
  constructor(private readonly cluster: Cluster) {}

  /** Every topic with its partitions (sorted by name). */
  async listTopics(opts: { includeInternal?: boolean } = {}): Promise<TopicMetadata[]> {
    const md = await this.cluster.refresh(null);
    return md.topics
      .filter((t) => t.errorCode === 0 && (opts.includeInternal !== false || !t.isInternal))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Metadata of the named topics; a missing one has errorCode UNKNOWN_TOPIC_OR_PARTITION. */
  async describeTopics(names: string[]): Promise<TopicMetadata[]> {
    if (names.length === 0) return [];
    const md = await this.cluster.refresh(names);
    return names.map(
      (n) => md.topics.find((t) => t.name === n) ?? { name: n, topicId: '', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, isInternal: false, partitions: [] },
    );
  }

  /**
   * Each partition's eligible leader replicas (KIP-966), by topic then partition, from
   * DescribeTopicPartitions; null when the broker does not serve it (ZooKeeper mode, kts), which
   * Kafka's tools print as N/A. Pages through the broker's per-response partition limit.
   */
  async eligibleLeaderReplicas(names: string[]): Promise<Map<string, Map<number, { elr: number[]; lastKnownElr: number[] }>> | null> {
    const conn = await this.cluster.any();
    if (!conn.supports(API.DescribeTopicPartitions)) return null;
    const out = new Map<string, Map<number, { elr: number[]; lastKnownElr: number[] }>>();
    let cursor: { topicName: string; partitionIndex: number } | null = null;
    do {
      const body: Answer<typeof API.DescribeTopicPartitions> = await conn.request(API.DescribeTopicPartitions, { topics: names.map((name) => ({ name })), responsePartitionLimit: 2000, cursor });
      for (const t of body.topics) {
        if (t.errorCode !== 0 || t.name === null) continue;
        const partitions = out.get(t.name) ?? new Map();
        for (const p of t.partitions) partitions.set(p.partitionIndex, { elr: p.eligibleLeaderReplicas ?? [], lastKnownElr: p.lastKnownElr ?? [] });
        out.set(t.name, partitions);
      }
      cursor = body.nextCursor ?? null;
    } while (cursor);
    return out;
  }

  async describeCluster(): Promise<{ clusterId: string | null; controllerId: number; brokers: BrokerInfo[] }> {
    const conn = await this.cluster.any();
    if (conn.supports(API.DescribeCluster)) {
      const body = await conn.request(API.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: false });
      check(body.errorCode, body.errorMessage);
      return {
        clusterId: body.clusterId,
        controllerId: body.controllerId,
        brokers: body.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack ?? null })),
      };
    }
    const md = await this.cluster.refresh([]);
    return { clusterId: md.clusterId, controllerId: md.controllerId, brokers: md.brokers };
  }

  async createTopics(topics: NewTopic[], opts: { validateOnly?: boolean; timeoutMs?: number } = {}): Promise<CreatedTopic[]> {
    const conn = await this.cluster.controller();
    const body = await conn.request(API.CreateTopics, (v: number) => ({
      topics: topics.map((t) => {
        const assigned = t.assignments && t.assignments.size > 0;
        let numPartitions = assigned ? -1 : (t.numPartitions ?? -1);
        let replicationFactor = assigned ? -1 : (t.replicationFactor ?? -1);
        if (v < 4 && !assigned) {
          // Before v4 the broker has no defaults to fill in: Kafka's tool would fail, we pick Kafka's.
          if (numPartitions < 0) numPartitions = 1;
          if (replicationFactor < 0) replicationFactor = 1;
        }
        return {
          name: t.name,
          numPartitions,
          replicationFactor,
          assignments: assigned ? [...t.assignments!].map(([partitionIndex, brokerIds]) => ({ partitionIndex, brokerIds })) : [],
          configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        };
      }),
      timeoutMs: opts.timeoutMs ?? 30000,
      validateOnly: opts.validateOnly ?? false,
    }));
    return body.topics.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      numPartitions: t.numPartitions,
      replicationFactor: t.replicationFactor,
      error: t.errorCode ? kafkaError(t.errorCode, t.errorMessage) : undefined,
      errorMessage: t.errorMessage ?? null,
    }));
  }

  async deleteTopics(names: string[], opts: { timeoutMs?: number } = {}): Promise<{ name: string; error?: KafkaClientError }[]> {
    if (names.length === 0) return [];
    const conn = await this.cluster.controller();
    // v6+ takes names or ids (names here: what the tools are given); before, names only.
    const body = await conn.request(API.DeleteTopics, (v: number) =>
      v >= 6 ? { topics: names.map((name) => ({ name, topicId: ZERO_ID })), timeoutMs: opts.timeoutMs ?? 30000 } : { topicNames: names, timeoutMs: opts.timeoutMs ?? 30000 },
    );
    return body.responses.map((r, i) => ({ name: r.name ?? names[i], error: r.errorCode ? kafkaError(r.errorCode, r.errorMessage) : undefined }));
  }

  /**
   * ElectLeaders, sent to the controller: PREFERRED or UNCLEAN for the partitions given, or for all
   * (null; the answer then names only the partitions elected or failed).
   */
  async electLeaders(type: 'PREFERRED' | 'UNCLEAN', partitions: TopicPartition[] | null, opts: { timeoutMs?: number } = {}): Promise<{ topic: string; partition: number; error?: KafkaClientError }[]> {
    const conn = await this.cluster.controller();
    const body = await conn.request(API.ElectLeaders, {
      electionType: type === 'PREFERRED' ? 0 : 1,
      topicPartitions: partitions === null ? null : groupByTopic(partitions).map(([topic, items]) => ({ topic, partitions: items.map((i) => i.partition) })),
      timeoutMs: opts.timeoutMs ?? 30000,
    });
    check(body.errorCode ?? 0);
    return body.replicaElectionResults.flatMap((t) =>
      t.partitionResult.map((p) => ({ topic: t.topic, partition: p.partitionId, error: p.errorCode ? kafkaError(p.errorCode, p.errorMessage) : undefined })),
    );
  }

  /** Raises each topic's partition count to `count`. */
  async createPartitions(
    requests: { topic: string; count: number; assignments?: number[][] }[],
    opts: { validateOnly?: boolean; timeoutMs?: number } = {},
  ): Promise<{ name: string; error?: KafkaClientError }[]> {
    const conn = await this.cluster.controller();
    const body = await conn.request(API.CreatePartitions, {
      topics: requests.map((r) => ({ name: r.topic, count: r.count, assignments: r.assignments ? r.assignments.map((brokerIds) => ({ brokerIds })) : null })),
      timeoutMs: opts.timeoutMs ?? 30000,
      validateOnly: opts.validateOnly ?? false,
    });
    return body.results.map((r) => ({ name: r.name, error: r.errorCode ? kafkaError(r.errorCode, r.errorMessage) : undefined }));
  }

  /**
   * Configs of topics and brokers. A broker's own configs are asked from that broker (its static
   * file is only known there); an empty broker name is the cluster-wide default entity.
   */
  async describeConfigs(
    resources: { type: ResourceTypeName; name: string; keys?: string[] }[],
    opts: { includeSynonyms?: boolean } = {},
  ): Promise<ConfigResourceResult[]> {
    const out: ConfigResourceResult[] = [];
    for (const r of resources) {
      const conn = r.type !== 'topic' && /^\d+$/.test(r.name) ? await this.cluster.node(Number(r.name)) : await this.cluster.any();
      const body = await conn.request(API.DescribeConfigs, {
        resources: [{ resourceType: ResourceType[r.type], resourceName: r.name, configurationKeys: r.keys ?? null }],
        includeSynonyms: opts.includeSynonyms ?? false,
        includeDocumentation: false,
      });
      const res = body.results[0];
      if (!res) throw new KafkaClientError(`No DescribeConfigs answer for ${r.type} ${r.name}`);
      const isTopic = r.type === 'topic';
      out.push({
        type: r.type,
        name: r.name,
        error: res.errorCode ? kafkaError(res.errorCode, res.errorMessage) : undefined,
        entries: (res.configs ?? []).map((c) => {
          const source =
            c.configSource !== undefined && c.configSource >= 0
              ? (CONFIG_SOURCES[c.configSource] ?? 'UNKNOWN')
              : c.isDefault
                ? 'DEFAULT_CONFIG'
                : isTopic
                  ? 'DYNAMIC_TOPIC_CONFIG'
                  : 'STATIC_BROKER_CONFIG';
          return {
            name: c.name,
            value: c.value ?? null,
            source,
            isDefault: source === 'DEFAULT_CONFIG',
            isSensitive: Boolean(c.isSensitive),
            readOnly: Boolean(c.readOnly),
            synonyms: (c.synonyms ?? []).map((s) => ({ name: s.name, value: s.value ?? null, source: CONFIG_SOURCES[s.source] ?? 'UNKNOWN' })),
          };
        }),
      });
    }
    return out;
  }

  /** IncrementalAlterConfigs (set/delete/append/subtract per key). */
  async incrementalAlterConfigs(
    resources: { type: ResourceTypeName; name: string; ops: { name: string; op: AlterOp; value?: string | null }[] }[],
    opts: { validateOnly?: boolean } = {},
  ): Promise<{ type: ResourceTypeName; name: string; error?: KafkaClientError }[]> {
    const out = [];
    for (const r of resources) {
      const conn = r.type !== 'topic' && /^\d+$/.test(r.name) ? await this.cluster.node(Number(r.name)) : await this.cluster.any();
      const body = await conn.request(API.IncrementalAlterConfigs, {
        resources: [
          {
            resourceType: ResourceType[r.type],
            resourceName: r.name,
            configs: r.ops.map((o) => ({ name: o.name, configOperation: OP_IDS[o.op], value: o.value ?? null })),
          },
        ],
        validateOnly: opts.validateOnly ?? false,
      });
      const res = body.responses[0];
      out.push({ type: r.type, name: r.name, error: res?.errorCode ? kafkaError(res.errorCode, res.errorMessage) : undefined });
    }
    return out;
  }

  /** Legacy AlterConfigs: replaces the entity's whole dynamic config with `configs`. */
  async alterConfigs(
    resources: { type: ResourceTypeName; name: string; configs: Record<string, string> }[],
    opts: { validateOnly?: boolean } = {},
  ): Promise<{ type: ResourceTypeName; name: string; error?: KafkaClientError }[]> {
    const out = [];
    for (const r of resources) {
      const conn = r.type !== 'topic' && /^\d+$/.test(r.name) ? await this.cluster.node(Number(r.name)) : await this.cluster.any();
      const body = await conn.request(API.AlterConfigs, {
        resources: [
          { resourceType: ResourceType[r.type], resourceName: r.name, configs: Object.entries(r.configs).map(([name, value]) => ({ name, value })) },
        ],
        validateOnly: opts.validateOnly ?? false,
      });
      const res = body.responses[0];
      out.push({ type: r.type, name: r.name, error: res?.errorCode ? kafkaError(res.errorCode, res.errorMessage) : undefined });
    }
    return out;
  }

  /**
   * AlterPartitionReassignments at the controller: `replicas` null cancels that partition's
   * reassignment. Per-partition errors in the answer; a top-level error throws.
   */
  async alterPartitionReassignments(
    requests: (TopicPartition & { replicas: number[] | null })[],
    opts: { timeoutMs?: number } = {},
  ): Promise<PartitionResult[]> {
    const body = await this.atController(API.AlterPartitionReassignments, {
      timeoutMs: opts.timeoutMs ?? 60000,
      topics: groupByTopic(requests).map(([name, items]) => ({ name, partitions: items.map((i) => ({ partitionIndex: i.partition, replicas: i.replicas })) })),
    });
    const answers = new Map<string, { errorCode: number; errorMessage: string | null }>();
    for (const t of body.responses) for (const p of t.partitions) answers.set(tpKey(t.name, p.partitionIndex), p);
    return requests.map((r) => {
      const a = answers.get(tpKey(r.topic, r.partition));
      const error = !a ? kafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'No answer for this partition') : a.errorCode ? kafkaError(a.errorCode, a.errorMessage) : undefined;
      return { topic: r.topic, partition: r.partition, error };
    });
  }

  /** Ongoing reassignments at the controller: all of them, or of the partitions named. */
  async listPartitionReassignments(
    partitions?: TopicPartition[],
    opts: { timeoutMs?: number } = {},
  ): Promise<(TopicPartition & { replicas: number[]; addingReplicas: number[]; removingReplicas: number[] })[]> {
    const body = await this.atController(API.ListPartitionReassignments, {
      timeoutMs: opts.timeoutMs ?? 60000,
      topics: partitions ? groupByTopic(partitions).map(([name, items]) => ({ name, partitionIndexes: items.map((i) => i.partition) })) : null,
    });
    return body.topics.flatMap((t) =>
      t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas })),
    );
  }

  /**
   * A request only the controller serves: on NOT_CONTROLLER (the controller moved, or this client's
   * metadata is old) the metadata is read again and the request retried, as Kafka's admin client does.
   */
  private async atController<K extends typeof API.AlterPartitionReassignments | typeof API.ListPartitionReassignments>(apiKey: K, request: RequestBody<K>): Promise<Answer<K>> {
    for (let attempt = 0; ; attempt++) {
      const conn = await this.cluster.controller();
      const body = await conn.request(apiKey, request);
      if (body.errorCode === ErrorCode.NOT_CONTROLLER && attempt < 20) {
        await new Promise((r) => setTimeout(r, Math.min(100 * (attempt + 1), 1000)));
        await this.cluster.refresh([]);
        continue;
      }
      check(body.errorCode, body.errorMessage);
      return body;
    }
  }

  /** DescribeAcls: the ACLs a filter matches (any broker answers; ACLs are cluster-wide). */
  async describeAcls(filter: AclFilter): Promise<AclEntry[]> {
    const conn = await this.cluster.any();
    const body = await conn.request(API.DescribeAcls, {
      resourceTypeFilter: filter.resourceType,
      resourceNameFilter: filter.resourceName,
      patternTypeFilter: filter.patternType,
      principalFilter: filter.principal,
      hostFilter: filter.host,
      operation: filter.operation,
      permissionType: filter.permissionType,
    });
    check(body.errorCode, body.errorMessage);
    return body.resources.flatMap((r) =>
      r.acls.map((a) => ({ resourceType: r.resourceType, resourceName: r.resourceName, patternType: r.patternType, principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType })),
    );
  }

  /** CreateAcls: throws the first binding's error, as the admin client's all() does. */
  async createAcls(bindings: AclEntry[]): Promise<void> {
    if (bindings.length === 0) return;
    const conn = await this.cluster.any();
    const body = await conn.request(API.CreateAcls, { creations: bindings.map((b) => ({ ...b, resourcePatternType: b.patternType })) });
    for (const r of body.results) check(r.errorCode, r.errorMessage);
  }

  /** DeleteAcls: the bindings each filter removed; throws the first filter's error. */
  async deleteAcls(filters: AclFilter[]): Promise<AclEntry[][]> {
    const conn = await this.cluster.any();
    const body = await conn.request(API.DeleteAcls, {
      filters: filters.map((f) => ({
        resourceTypeFilter: f.resourceType,
        resourceNameFilter: f.resourceName,
        patternTypeFilter: f.patternType,
        principalFilter: f.principal,
        hostFilter: f.host,
        operation: f.operation,
        permissionType: f.permissionType,
      })),
    });
    return body.filterResults.map((r) => {
      check(r.errorCode, r.errorMessage);
      return r.matchingAcls.map((a) => ({ resourceType: a.resourceType, resourceName: a.resourceName, patternType: a.patternType, principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permissionType }));
    });
  }

  /** Deletes records before `offset` (-1: the high watermark) of each partition, via its leader. */
  async deleteRecords(requests: (TopicPartition & { offset: number })[], opts: { timeoutMs?: number } = {}): Promise<DeletedRecords[]> {
    const answers = await routeToLeaders(this.cluster, requests, async (conn, batch) => {
      const body = await conn.request(API.DeleteRecords, {
        topics: groupByTopic(batch).map(([name, items]) => ({
          name,
          partitions: items.map((i) => ({ partitionIndex: i.partition, offset: i.offset })),
        })),
        timeoutMs: opts.timeoutMs ?? 30000,
      });
      const m = new Map<string, { errorCode: number; lowWatermark: number }>();
      for (const t of body.topics) {
        for (const p of t.partitions) m.set(tpKey(t.name, p.partitionIndex), { errorCode: p.errorCode, lowWatermark: p.lowWatermark });
      }
      return m;
    });
    return requests.map((r) => {
      const a = answers.get(tpKey(r.topic, r.partition)) as { errorCode: number; lowWatermark?: number };
      return { topic: r.topic, partition: r.partition, lowWatermark: a?.lowWatermark ?? -1, error: a?.errorCode ? kafkaError(a.errorCode) : undefined };
    });
  }

  /**
   * ListOffsets: per partition the offset for `timestamp` (-1 latest, -2 earliest, -3 max
   * timestamp, or epoch ms: the first offset whose timestamp is at or after it).
   */
  async listOffsets(
    requests: (TopicPartition & { timestamp: number })[],
    opts: { isolationLevel?: 0 | 1 } = {},
  ): Promise<ListedOffset[]> {
    const answers = await routeToLeaders(this.cluster, requests, async (conn, batch) => {
      const body = await conn.request(API.ListOffsets, {
        replicaId: -1,
        isolationLevel: opts.isolationLevel ?? 0,
        // v10+: how long the broker may wait on remote (tiered) storage (Kafka's request.timeout.ms).
        timeoutMs: 30_000,
        topics: groupByTopic(batch).map(([name, items]) => ({
          name,
          partitions: items.map((i) => ({ partitionIndex: i.partition, currentLeaderEpoch: -1, timestamp: i.timestamp, maxNumOffsets: 1 })),
        })),
      });
      const m = new Map<string, { errorCode: number; offset: number; timestamp: number }>();
      for (const t of body.topics) {
        for (const p of t.partitions) {
          m.set(tpKey(t.name, p.partitionIndex), { errorCode: p.errorCode, offset: p.offset ?? p.oldStyleOffsets?.[0] ?? -1, timestamp: p.timestamp ?? -1 });
        }
      }
      return m;
    });
    return requests.map((r) => {
      const a = answers.get(tpKey(r.topic, r.partition)) as { errorCode: number; offset?: number; timestamp?: number };
      return {
        topic: r.topic,
        partition: r.partition,
        offset: a?.offset ?? -1,
        timestamp: a?.timestamp ?? -1,
        error: a?.errorCode ? kafkaError(a.errorCode) : undefined,
      };
    });
  }
}

export function groupByTopic<T extends TopicPartition>(items: T[]): [string, T[]][] {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const list = m.get(i.topic) ?? [];
    list.push(i);
    m.set(i.topic, list);
  }
  return [...m];
}
