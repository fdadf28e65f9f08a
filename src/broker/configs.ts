// DescribeConfigs / AlterConfigs / IncrementalAlterConfigs logic for topic and broker resources
// (broker loggers: broker-loggers.ts).
// Sources and synonyms follow Kafka: a topic override (TOPIC_CONFIG), then the broker keys that
// feed it (dynamic, then static, then default), cut as Kafka cuts them (brokerSynonymsOf).
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { BROKER_DEFAULTS } from '../config/broker-config.js';
import { BROKER_CONFIG_KEYS, isKnownBrokerKey } from '../config/broker-configs.js';
import { checkConfigValue } from '../config/config-def.js';
import { ConfigSource, ConfigType, TOPIC_CONFIGS, TOPIC_CONFIGS_BY_NAME, validateTopicConfigs } from '../config/topic-configs.js';
import type { BrokerContext } from './broker-context.js';
import { alterBrokerLoggers } from './broker-loggers.js';

export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;
export const AlterOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: number }[];
  configType: number;
  documentation: string | null;
}

const isSensitiveKey = (key: string) => /password|secret|sasl\.jaas/i.test(key);

export function describeTopicConfigs(
  broker: BrokerContext,
  overrides: ReadonlyMap<string, string>,
  names: string[] | null,
  includeSynonyms: boolean,
): ConfigEntry[] {
  const defs = names ? TOPIC_CONFIGS.filter((d) => names.includes(d.name)) : TOPIC_CONFIGS;
  return defs.map((d) => {
    const override = overrides.get(d.name);
    const fromBroker = broker.config.brokerValueFor(d);
    const synonyms: ConfigEntry['synonyms'] = [];
    if (includeSynonyms) {
      if (override !== undefined) synonyms.push({ name: d.name, value: override, source: ConfigSource.TOPIC_CONFIG });
      synonyms.push(...brokerSynonymsOf(broker, d));
    }
    const source = override !== undefined ? ConfigSource.TOPIC_CONFIG : fromBroker.source;
    return {
      name: d.name,
      value: override ?? fromBroker.value,
      readOnly: false,
      isDefault: source === ConfigSource.DEFAULT_CONFIG,
      configSource: source,
      isSensitive: false,
      synonyms,
      configType: d.type,
      documentation: null,
    };
  });
}

/**
 * Kafka's ConfigHelper.configSynonyms for a topic config: the broker keys it falls back to, by
 * source (dynamic, static, default), each source in synonym order; then everything before the
 * first entry for the main key (log.retention.ms for retention.ms) is dropped. So a topic config
 * whose main broker key is unset anywhere lists no broker synonyms at all, even when a secondary
 * key (log.retention.hours=168) supplies the value; one without broker keys lists none either.
 */
function brokerSynonymsOf(broker: BrokerContext, d: (typeof TOPIC_CONFIGS)[number]): ConfigEntry['synonyms'] {
  const all: ConfigEntry['synonyms'] = [];
  for (const syn of d.synonyms) {
    if (broker.config.dynamicBroker.has(syn.key)) all.push({ name: syn.key, value: broker.config.dynamicBroker.get(syn.key)!, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
  }
  for (const syn of d.synonyms) {
    if (broker.config.dynamic.has(syn.key)) all.push({ name: syn.key, value: broker.config.dynamic.get(syn.key)!, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
  }
  for (const syn of d.synonyms) {
    if (broker.config.explicit.has(syn.key)) all.push({ name: syn.key, value: broker.config.explicit.get(syn.key)!, source: ConfigSource.STATIC_BROKER_CONFIG });
  }
  for (const syn of d.synonyms) {
    const value = kafkaBrokerDefault(d, syn.key);
    if (value !== undefined) all.push({ name: syn.key, value, source: ConfigSource.DEFAULT_CONFIG });
  }
  const first = all.findIndex((s) => s.name === d.synonyms[0]?.key);
  return first < 0 ? [] : all.slice(first);
}

// Broker keys Kafka defines without a default although they have a topic config of their own.
const NO_KAFKA_DEFAULT = new Set(['log.flush.interval.ms']);

/**
 * The default Kafka's broker config gives a topic config's broker key. kts leaves a broker key
 * without a default when the topic config's own default is what applies; for a topic config with
 * one broker key, that is the key's default in Kafka too.
 */
function kafkaBrokerDefault(d: (typeof TOPIC_CONFIGS)[number], key: string): string | undefined {
  if (BROKER_DEFAULTS[key] !== undefined) return BROKER_DEFAULTS[key];
  if (d.synonyms.length !== 1 || !isKnownBrokerKey(key) || NO_KAFKA_DEFAULT.has(key)) return undefined;
  return d.default;
}

export function describeBrokerConfigs(broker: BrokerContext, resourceName: string, names: string[] | null, includeSynonyms: boolean): ConfigEntry[] {
  checkBrokerResource(broker, resourceName);
  // The default entity ('') shows the cluster-wide dynamic configs; a broker's id shows its own over them.
  const own = resourceName !== '' ? broker.config.dynamicBroker : new Map<string, string>();
  const keys = new Set([...Object.keys(BROKER_DEFAULTS), ...broker.config.explicit.keys(), ...broker.config.dynamic.keys(), ...own.keys()]);
  const selected = [...keys].filter((k) => !names || names.includes(k)).sort();
  return selected.map((key) => {
    const ownValue = own.get(key);
    const clusterValue = broker.config.dynamic.get(key);
    const dynamic = ownValue ?? clusterValue;
    const explicit = broker.config.explicit.get(key);
    // Without separate stores (one broker, embedded metadata) the one dynamic map is both.
    const clusterSource = resourceName === '' || broker.topics.perBrokerConfigs ? ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG : ConfigSource.DYNAMIC_BROKER_CONFIG;
    const source =
      ownValue !== undefined
        ? ConfigSource.DYNAMIC_BROKER_CONFIG
        : clusterValue !== undefined ? clusterSource : explicit !== undefined ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
    const sensitive = isSensitiveKey(key);
    const value = broker.config.get(key) ?? null;
    const synonyms: ConfigEntry['synonyms'] = [];
    if (includeSynonyms) {
      if (ownValue !== undefined) synonyms.push({ name: key, value: ownValue, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
      if (clusterValue !== undefined) synonyms.push({ name: key, value: clusterValue, source: clusterSource });
      if (explicit !== undefined) synonyms.push({ name: key, value: explicit, source: ConfigSource.STATIC_BROKER_CONFIG });
      if (BROKER_DEFAULTS[key] !== undefined) synonyms.push({ name: key, value: BROKER_DEFAULTS[key], source: ConfigSource.DEFAULT_CONFIG });
    }
    return {
      name: key,
      value: sensitive ? null : value,
      readOnly: dynamic === undefined && !isDynamicBrokerKey(key),
      isDefault: source === ConfigSource.DEFAULT_CONFIG,
      configSource: source,
      isSensitive: sensitive,
      synonyms,
      configType: ConfigType[BROKER_CONFIG_KEYS.get(key)?.type ?? 'STRING'],
      documentation: null,
    };
  });
}

/** Broker keys that may be changed at run time: the log.* defaults behind topic configs, and a few more. */
/**
 * Kafka's replication throttles, dynamic per broker: kafka-reassign-partitions sets and clears them.
 * kts stores them and does not throttle.
 */
const THROTTLE_RATES = ['leader.replication.throttled.rate', 'follower.replication.throttled.rate', 'replica.alter.log.dirs.io.max.bytes.per.second'];

function isDynamicBrokerKey(key: string): boolean {
  return TOPIC_CONFIGS.some((d) => d.synonyms.some((s) => s.key === key)) || key === 'max.connections' || key === 'max.connections.per.ip' || THROTTLE_RATES.includes(key);
}

function checkBrokerResource(broker: BrokerContext, resourceName: string): void {
  if (resourceName !== '' && resourceName !== String(broker.nodeId)) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${resourceName}`);
  }
}

export interface AlterEntry {
  name: string;
  value: string | null;
  /** IncrementalAlterConfigs op; AlterConfigs replaces the whole set instead. */
  op?: number;
}

/** Applies one resource's changes; `incremental` false = AlterConfigs (replace all overrides). */
export async function alterConfigs(
  broker: BrokerContext,
  resourceType: number,
  resourceName: string,
  entries: AlterEntry[],
  incremental: boolean,
  validateOnly: boolean,
): Promise<void> {
  if (resourceType === ResourceType.TOPIC) {
    const topic = broker.topics.get(resourceName);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic ${resourceName} does not exist.`);
    const next = applyEntries(incremental ? new Map(topic.configs) : new Map(), entries, incremental, (name) => {
      if (!TOPIC_CONFIGS_BY_NAME.has(name)) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${name}`);
      return TOPIC_CONFIGS_BY_NAME.get(name)!.type === ConfigType.LIST;
    });
    const error = validateTopicConfigs(next);
    if (error) throw new KafkaError(ErrorCode.INVALID_CONFIG, error);
    if (!validateOnly) await broker.topics.setTopicConfigs(resourceName, next);
    return;
  }
  if (resourceType === ResourceType.BROKER) {
    checkBrokerResource(broker, resourceName);
    // The resource named by this broker's id is its own configs (kept apart in ZooKeeper mode); '' the cluster's default.
    const own = resourceName !== '' && broker.topics.perBrokerConfigs === true;
    const current = own ? broker.config.dynamicBroker : broker.config.dynamic;
    const next = applyEntries(incremental ? new Map(current) : new Map(), entries, incremental, (name) => {
      if (!isDynamicBrokerKey(name)) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Cannot update these configs dynamically: Set(${name})`);
      return BROKER_CONFIG_KEYS.get(name)?.type === 'LIST';
    });
    // The same types and bounds as at start-up: a value the broker would refuse to start with is refused here.
    for (const [name, value] of next) {
      const key = BROKER_CONFIG_KEYS.get(name);
      const error = key && checkConfigValue(key, value);
      if (error) throw new KafkaError(ErrorCode.INVALID_CONFIG, error);
    }
    if (!validateOnly) await broker.topics.setBrokerConfigs(next, own ? broker.nodeId : undefined);
    return;
  }
  if (resourceType === ResourceType.BROKER_LOGGER && incremental) {
    alterBrokerLoggers(broker, resourceName, entries, validateOnly);
    return;
  }
  // As Kafka: legacy AlterConfigs does not support BROKER_LOGGER either.
  throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown resource type ${resourceType}`);
}

function applyEntries(current: Map<string, string>, entries: AlterEntry[], incremental: boolean, isList: (name: string) => boolean): Map<string, string> {
  for (const e of entries) {
    const list = isList(e.name);
    const op = incremental ? (e.op ?? AlterOp.SET) : AlterOp.SET;
    if (op === AlterOp.DELETE || e.value === null) {
      current.delete(e.name);
    } else if (op === AlterOp.SET) {
      current.set(e.name, e.value);
    } else if (op === AlterOp.APPEND || op === AlterOp.SUBTRACT) {
      if (!list) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Config value append is not allowed for config key: ${e.name}`);
      const items = (current.get(e.name) ?? '').split(',').filter(Boolean);
      const changes = e.value.split(',').filter(Boolean);
      const result = op === AlterOp.APPEND ? [...items, ...changes.filter((c) => !items.includes(c))] : items.filter((i) => !changes.includes(i));
      current.set(e.name, result.join(','));
    } else {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown config operation ${op}`);
    }
  }
  return current;
}
