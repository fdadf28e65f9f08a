// Topic-level configs and their broker-level synonyms (Kafka's LogConfig / ServerTopicConfigSynonyms).
// A topic's effective value is: the topic override, else the first broker synonym that is set, else
// the default. Synonyms in minutes/hours are converted to the topic key's unit.

export const ConfigType = { BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9 } as const;
/** DescribeConfigs `configSource`. */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

const LONG_MAX = '9223372036854775807';

export interface BrokerSynonym {
  key: string;
  /** Multiply the broker value by this to get the topic key's unit (minutes/hours -> ms). */
  factor?: number;
}

export interface TopicConfigDef {
  name: string;
  type: number;
  default: string;
  synonyms: BrokerSynonym[];
  /** Accepted values, for validation of enum-like keys. */
  allowed?: string[];
}

const def = (name: string, type: number, dflt: string, synonyms: (string | BrokerSynonym)[], allowed?: string[]): TopicConfigDef => ({
  name,
  type,
  default: dflt,
  synonyms: synonyms.map((s) => (typeof s === 'string' ? { key: s } : s)),
  allowed,
});

export const TOPIC_CONFIGS: TopicConfigDef[] = [
  def('cleanup.policy', ConfigType.LIST, 'delete', ['log.cleanup.policy'], ['delete', 'compact', 'compact,delete', 'delete,compact']),
  def('compression.type', ConfigType.STRING, 'producer', ['compression.type'], ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer']),
  def('delete.retention.ms', ConfigType.LONG, '86400000', ['log.cleaner.delete.retention.ms']),
  def('file.delete.delay.ms', ConfigType.LONG, '60000', ['log.segment.delete.delay.ms']),
  def('flush.messages', ConfigType.LONG, LONG_MAX, ['log.flush.interval.messages']),
  def('flush.ms', ConfigType.LONG, LONG_MAX, ['log.flush.interval.ms']),
  def('follower.replication.throttled.replicas', ConfigType.LIST, '', ['follower.replication.throttled.replicas']),
  def('index.interval.bytes', ConfigType.INT, '4096', ['log.index.interval.bytes']),
  def('leader.replication.throttled.replicas', ConfigType.LIST, '', ['leader.replication.throttled.replicas']),
  def('local.retention.bytes', ConfigType.LONG, '-2', ['log.local.retention.bytes']),
  def('local.retention.ms', ConfigType.LONG, '-2', ['log.local.retention.ms']),
  def('max.compaction.lag.ms', ConfigType.LONG, LONG_MAX, ['log.cleaner.max.compaction.lag.ms']),
  def('max.message.bytes', ConfigType.INT, '1048588', ['message.max.bytes']),
  def('message.downconversion.enable', ConfigType.BOOLEAN, 'true', ['log.message.downconversion.enable']),
  def('message.timestamp.after.max.ms', ConfigType.LONG, LONG_MAX, ['log.message.timestamp.after.max.ms']),
  def('message.timestamp.before.max.ms', ConfigType.LONG, LONG_MAX, ['log.message.timestamp.before.max.ms']),
  def('message.timestamp.difference.max.ms', ConfigType.LONG, LONG_MAX, ['log.message.timestamp.difference.max.ms']),
  def('message.timestamp.type', ConfigType.STRING, 'CreateTime', ['log.message.timestamp.type'], ['CreateTime', 'LogAppendTime']),
  def('min.cleanable.dirty.ratio', ConfigType.DOUBLE, '0.5', ['log.cleaner.min.cleanable.ratio']),
  def('min.compaction.lag.ms', ConfigType.LONG, '0', ['log.cleaner.min.compaction.lag.ms']),
  def('min.insync.replicas', ConfigType.INT, '1', ['min.insync.replicas']),
  def('preallocate', ConfigType.BOOLEAN, 'false', ['log.preallocate']),
  def('remote.storage.enable', ConfigType.BOOLEAN, 'false', []),
  def('retention.bytes', ConfigType.LONG, '-1', ['log.retention.bytes']),
  def('retention.ms', ConfigType.LONG, '604800000', [
    'log.retention.ms',
    { key: 'log.retention.minutes', factor: 60_000 },
    { key: 'log.retention.hours', factor: 3_600_000 },
  ]),
  def('segment.bytes', ConfigType.INT, '1073741824', ['log.segment.bytes']),
  def('segment.index.bytes', ConfigType.INT, '10485760', ['log.index.size.max.bytes']),
  def('segment.jitter.ms', ConfigType.LONG, '0', ['log.roll.jitter.ms', { key: 'log.roll.jitter.hours', factor: 3_600_000 }]),
  def('segment.ms', ConfigType.LONG, '604800000', ['log.roll.ms', { key: 'log.roll.hours', factor: 3_600_000 }]),
  def('unclean.leader.election.enable', ConfigType.BOOLEAN, 'false', ['unclean.leader.election.enable']),
];

export const TOPIC_CONFIGS_BY_NAME = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

/** Checks a topic config override; returns an error message (Kafka's wording where known) or null. */
export function validateTopicConfig(name: string, value: string): string | null {
  const d = TOPIC_CONFIGS_BY_NAME.get(name);
  if (!d) return `Unknown topic config name: ${name}`;
  if (d.allowed && !d.allowed.includes(value)) {
    return `Invalid value ${value} for configuration ${name}: String must be one of: ${d.allowed.join(', ')}`;
  }
  switch (d.type) {
    case ConfigType.INT:
    case ConfigType.LONG:
    case ConfigType.SHORT:
      if (!/^-?\d+$/.test(value.trim())) return `Invalid value ${value} for configuration ${name}: Not a number of type ${d.type === ConfigType.INT ? 'INT' : 'LONG'}`;
      break;
    case ConfigType.DOUBLE:
      if (Number.isNaN(Number(value))) return `Invalid value ${value} for configuration ${name}: Not a number of type DOUBLE`;
      break;
    case ConfigType.BOOLEAN:
      if (!/^(true|false)$/i.test(value.trim())) return `Invalid value ${value} for configuration ${name}: Expected value to be either true or false`;
      break;
  }
  return null;
}
