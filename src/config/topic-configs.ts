// Topic-level configs and their broker-level synonyms (Kafka's LogConfig / ServerTopicConfigSynonyms).
// A topic's effective value is: the topic override, else the first broker synonym that is set, else
// the default. Synonyms in minutes/hours are converted to the topic key's unit. Types and bounds are
// Kafka 3.9's LogConfig ConfigDef; a bad value is refused with INVALID_CONFIG and Kafka's message.
import { COMPRESSION_TYPES, MIN_SEGMENT_BYTES, TIMESTAMP_TYPES } from './broker-configs.js';
import { atLeast, between, checkConfigValue, ConfigType, custom, eachOneOf, oneOf, parseConfigValue, type ConfigTypeName, type Validator } from './config-def.js';

export { ConfigType } from './config-def.js';

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
  /** DescribeConfigs' type id (ConfigType). */
  type: number;
  typeName: ConfigTypeName;
  default: string;
  synonyms: BrokerSynonym[];
  validator?: Validator;
}

const def = (name: string, typeName: ConfigTypeName, dflt: string, synonyms: (string | BrokerSynonym)[], validator?: Validator): TopicConfigDef => ({
  name,
  type: ConfigType[typeName],
  typeName,
  default: dflt,
  synonyms: synonyms.map((s) => (typeof s === 'string' ? { key: s } : s)),
  validator,
});

/** ThrottledReplicaListValidator: `*`, or partition:broker pairs. */
const throttledReplicas = custom((v, name) => {
  const items = (v as string[]).map((s) => s.trim());
  if (items.every((s) => /^(\d+:\d+)?$/.test(s)) || items.join('') === '*') return null;
  return `${name} must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],...`;
});

/** kts has no tiered storage: as Kafka with remote.log.storage.system.enable=false. */
const noRemoteStorage = custom((v) => (v === true ? 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.' : null));

export const TOPIC_CONFIGS: TopicConfigDef[] = [
  def('cleanup.policy', 'LIST', 'delete', ['log.cleanup.policy'], eachOneOf('compact', 'delete')),
  def('compression.type', 'STRING', 'producer', ['compression.type'], oneOf(...COMPRESSION_TYPES)),
  def('delete.retention.ms', 'LONG', '86400000', ['log.cleaner.delete.retention.ms'], atLeast(0)),
  def('file.delete.delay.ms', 'LONG', '60000', ['log.segment.delete.delay.ms'], atLeast(0)),
  def('flush.messages', 'LONG', LONG_MAX, ['log.flush.interval.messages'], atLeast(1)),
  def('flush.ms', 'LONG', LONG_MAX, ['log.flush.interval.ms'], atLeast(0)),
  def('follower.replication.throttled.replicas', 'LIST', '', ['follower.replication.throttled.replicas'], throttledReplicas),
  def('index.interval.bytes', 'INT', '4096', ['log.index.interval.bytes'], atLeast(0)),
  def('leader.replication.throttled.replicas', 'LIST', '', ['leader.replication.throttled.replicas'], throttledReplicas),
  def('local.retention.bytes', 'LONG', '-2', ['log.local.retention.bytes'], atLeast(-2)),
  def('local.retention.ms', 'LONG', '-2', ['log.local.retention.ms'], atLeast(-2)),
  def('max.compaction.lag.ms', 'LONG', LONG_MAX, ['log.cleaner.max.compaction.lag.ms'], atLeast(1)),
  def('max.message.bytes', 'INT', '1048588', ['message.max.bytes'], atLeast(0)),
  def('message.downconversion.enable', 'BOOLEAN', 'true', ['log.message.downconversion.enable']),
  def('message.timestamp.after.max.ms', 'LONG', LONG_MAX, ['log.message.timestamp.after.max.ms'], atLeast(0)),
  def('message.timestamp.before.max.ms', 'LONG', LONG_MAX, ['log.message.timestamp.before.max.ms'], atLeast(0)),
  def('message.timestamp.difference.max.ms', 'LONG', LONG_MAX, ['log.message.timestamp.difference.max.ms'], atLeast(0)),
  def('message.timestamp.type', 'STRING', 'CreateTime', ['log.message.timestamp.type'], oneOf(...TIMESTAMP_TYPES)),
  def('min.cleanable.dirty.ratio', 'DOUBLE', '0.5', ['log.cleaner.min.cleanable.ratio'], between(0, 1)),
  def('min.compaction.lag.ms', 'LONG', '0', ['log.cleaner.min.compaction.lag.ms'], atLeast(0)),
  def('min.insync.replicas', 'INT', '1', ['min.insync.replicas'], atLeast(1)),
  def('preallocate', 'BOOLEAN', 'false', ['log.preallocate']),
  def('remote.storage.enable', 'BOOLEAN', 'false', [], noRemoteStorage),
  def('retention.bytes', 'LONG', '-1', ['log.retention.bytes']),
  def('retention.ms', 'LONG', '604800000', ['log.retention.ms', { key: 'log.retention.minutes', factor: 60_000 }, { key: 'log.retention.hours', factor: 3_600_000 }], atLeast(-1)),
  def('segment.bytes', 'INT', '1073741824', ['log.segment.bytes'], atLeast(MIN_SEGMENT_BYTES)),
  def('segment.index.bytes', 'INT', '10485760', ['log.index.size.max.bytes'], atLeast(4)),
  def('segment.jitter.ms', 'LONG', '0', ['log.roll.jitter.ms', { key: 'log.roll.jitter.hours', factor: 3_600_000 }], atLeast(0)),
  def('segment.ms', 'LONG', '604800000', ['log.roll.ms', { key: 'log.roll.hours', factor: 3_600_000 }], atLeast(1)),
  def('unclean.leader.election.enable', 'BOOLEAN', 'false', ['unclean.leader.election.enable']),
];

export const TOPIC_CONFIGS_BY_NAME = new Map(TOPIC_CONFIGS.map((d) => [d.name, d]));

/** Checks a topic config override; returns Kafka's error message, or null when it is fine. */
export function validateTopicConfig(name: string, value: string): string | null {
  const d = TOPIC_CONFIGS_BY_NAME.get(name);
  if (!d) return `Unknown topic config name: ${name}`;
  return checkConfigValue({ name, type: d.typeName, default: d.default, validator: d.validator }, value);
}

/**
 * Checks a topic's whole set of overrides: each value, then what LogConfig.validateValues checks
 * across keys (the compaction lags, with the defaults for the one not set).
 */
export function validateTopicConfigs(overrides: Iterable<[string, string]>): string | null {
  const all = new Map(overrides);
  for (const [name, value] of all) {
    const error = validateTopicConfig(name, value);
    if (error) return error;
  }
  const lag = (name: string) => {
    const parsed = parseConfigValue(name, 'LONG', all.get(name) ?? TOPIC_CONFIGS_BY_NAME.get(name)!.default);
    return 'value' in parsed ? (parsed.value as bigint) : 0n;
  };
  const min = lag('min.compaction.lag.ms');
  const max = lag('max.compaction.lag.ms');
  if (min > max) return `conflict topic config setting min.compaction.lag.ms (${min}) > max.compaction.lag.ms (${max})`;
  return null;
}
