// The broker's configuration: server.properties + --override, with Kafka's key names and defaults.
// Dynamic broker configs (AlterConfigs on a broker resource) sit on top and are persisted by the
// topic registry's metadata store.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { LogConfig } from '../storage/index.js';
import { ConfigSource, TOPIC_CONFIGS, TOPIC_CONFIGS_BY_NAME, type TopicConfigDef } from './topic-configs.js';

const LONG_MAX = '9223372036854775807';
const INT_MAX = '2147483647';

/** Broker keys kts reads, with Kafka 3.9's built-in defaults (except where kts is safer: see README). */
export const BROKER_DEFAULTS: Readonly<Record<string, string>> = {
  'broker.id': '0',
  // Kafka binds every interface by default; kts binds loopback unless told otherwise.
  listeners: 'PLAINTEXT://localhost:9092',
  'advertised.listeners': '',
  'log.dirs': join(homedir(), '.kts', 'data'),
  'num.partitions': '1',
  // Not a Kafka key: a ceiling on partitions hosted (about 11 KB of memory and a directory each), so
  // that no CreateTopics/CreatePartitions request can make the broker allocate without bound.
  'kts.max.partitions': '10000',
  // Not Kafka keys: segment files hold descriptors only while used (storage/open-files.ts). At most
  // this many at once (-1: half the process's descriptor limit), and none unused for idle.ms.
  'kts.log.open.files.max': '-1',
  'kts.log.open.files.idle.ms': '60000',
  'default.replication.factor': '1',
  'auto.create.topics.enable': 'true',
  'delete.topic.enable': 'true',
  'socket.request.max.bytes': '104857600',
  'message.max.bytes': '1048588',
  'log.segment.bytes': '1073741824',
  'log.roll.hours': '168',
  'log.retention.hours': '168',
  'log.retention.bytes': '-1',
  'log.retention.check.interval.ms': '300000',
  'log.index.interval.bytes': '4096',
  'log.index.size.max.bytes': '10485760',
  'log.message.timestamp.type': 'CreateTime',
  'log.flush.interval.messages': LONG_MAX,
  'log.flush.scheduler.interval.ms': LONG_MAX,
  'log.segment.delete.delay.ms': '60000',
  'log.cleanup.policy': 'delete',
  'compression.type': 'producer',
  'min.insync.replicas': '1',
  'offsets.topic.num.partitions': '50',
  'offsets.topic.replication.factor': '3',
  'offsets.retention.minutes': '10080',
  'offsets.retention.check.interval.ms': '600000',
  'offsets.commit.timeout.ms': '5000',
  'group.min.session.timeout.ms': '6000',
  'group.max.session.timeout.ms': '1800000',
  'group.initial.rebalance.delay.ms': '3000',
  'group.max.size': INT_MAX,
  // Not a Kafka key: the most one member's JoinGroup protocols (names and metadata) or one SyncGroup
  // assignment may take. Kafka holds whatever fits in socket.request.max.bytes (100 MB) and fails
  // later, when the group's record does not fit in __consumer_offsets (message.max.bytes, ~1 MB).
  'kts.group.member.metadata.max.bytes': '1048576',
  'max.connections': INT_MAX,
  'max.connections.per.ip': INT_MAX,
  'connections.max.idle.ms': '600000',
  'zookeeper.connect': '',
  'zookeeper.session.timeout.ms': '18000',
  'zookeeper.connection.timeout.ms': '18000',
  'transactional.id.expiration.ms': '604800000',
  'producer.id.expiration.ms': '86400000',
  'unclean.leader.election.enable': 'false',
};

export interface Listener {
  name: string;
  host: string;
  port: number;
}

export class BrokerConfig {
  /** Set by AlterConfigs on the broker resource; applied over the static values. */
  readonly dynamic = new Map<string, string>();

  constructor(readonly explicit: ReadonlyMap<string, string>) {}

  isSet(key: string): boolean {
    return this.dynamic.has(key) || this.explicit.has(key);
  }

  get(key: string): string | undefined {
    return this.dynamic.get(key) ?? this.explicit.get(key) ?? BROKER_DEFAULTS[key];
  }

  getString(key: string): string {
    return this.get(key) ?? '';
  }

  getNumber(key: string): number {
    const raw = this.get(key);
    if (raw === undefined || raw.trim() === '') return NaN;
    if (raw.trim() === LONG_MAX) return Number.MAX_SAFE_INTEGER;
    return Number(raw.trim());
  }

  getBoolean(key: string): boolean {
    return (this.get(key) ?? '').trim().toLowerCase() === 'true';
  }

  get nodeId(): number {
    const raw = this.explicit.get('node.id') ?? this.get('broker.id');
    return Number(raw);
  }

  get logDirs(): string[] {
    const dirs = this.explicit.get('log.dirs') ?? this.explicit.get('log.dir') ?? BROKER_DEFAULTS['log.dirs'];
    return dirs.split(',').map((d) => d.trim()).filter(Boolean);
  }

  get listeners(): Listener[] {
    return parseListeners(this.getString('listeners'));
  }

  get advertisedListeners(): Listener[] {
    const adv = this.getString('advertised.listeners');
    return adv ? parseListeners(adv) : this.listeners;
  }

  /** Where the broker's value for a topic config comes from: a broker synonym that is set, or the default. */
  brokerValueFor(d: TopicConfigDef): { value: string; source: number; synonym?: string } {
    for (const syn of d.synonyms) {
      if (!this.isSet(syn.key)) continue;
      const raw = this.get(syn.key)!;
      const value = syn.factor ? String(Number(raw) * syn.factor) : raw;
      return { value, source: this.dynamic.has(syn.key) ? ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG : ConfigSource.STATIC_BROKER_CONFIG, synonym: syn.key };
    }
    return { value: d.default, source: ConfigSource.DEFAULT_CONFIG };
  }

  /** A topic's effective config value. */
  topicValue(name: string, overrides: ReadonlyMap<string, string>): string {
    const override = overrides.get(name);
    if (override !== undefined) return override;
    const d = TOPIC_CONFIGS_BY_NAME.get(name);
    return d ? this.brokerValueFor(d).value : '';
  }

  /** The storage engine's view of a topic's config. */
  logConfig(overrides: ReadonlyMap<string, string> = new Map()): LogConfig {
    const num = (name: string) => {
      const v = this.topicValue(name, overrides).trim();
      return v === LONG_MAX ? Number.MAX_SAFE_INTEGER : Number(v);
    };
    return {
      segmentBytes: num('segment.bytes'),
      segmentMs: num('segment.ms'),
      retentionMs: num('retention.ms'),
      retentionBytes: num('retention.bytes'),
      indexIntervalBytes: num('index.interval.bytes'),
      segmentIndexBytes: num('segment.index.bytes'),
      messageTimestampType: this.topicValue('message.timestamp.type', overrides) === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
      maxMessageBytes: num('max.message.bytes'),
      flushIntervalMessages: num('flush.messages'),
      flushIntervalMs: num('flush.ms'),
      fileDeleteDelayMs: num('file.delete.delay.ms'),
    };
  }

  /** All topic config names, for DescribeConfigs. */
  static topicConfigNames(): string[] {
    return TOPIC_CONFIGS.map((d) => d.name);
  }
}

/** `PLAINTEXT://host:port,NAME://[::1]:port`; an empty host means every interface, as Kafka. */
export function parseListeners(value: string): Listener[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(entry);
      if (!m) throw new Error(`Invalid listener '${entry}': expected NAME://host:port`);
      return { name: m[1].toUpperCase(), host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]) };
    });
}
