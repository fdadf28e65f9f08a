// The broker's configuration: server.properties + --override, with Kafka's key names and defaults.
// Dynamic broker configs (AlterConfigs on a broker resource) sit on top and are persisted by the
// topic registry's metadata store.
import type { LogConfig } from '../storage/index.js';
import { BROKER_CONFIG_KEYS, BROKER_DEFAULTS, KAFKA_ONLY_KEYS, isKnownBrokerKey } from './broker-configs.js';
import { checkConfigValue } from './config-def.js';
import type { SecurityProtocol } from '../broker/security/principal.js';
import { ConfigSource, TOPIC_CONFIGS, TOPIC_CONFIGS_BY_NAME, type TopicConfigDef } from './topic-configs.js';

export { BROKER_DEFAULTS } from './broker-configs.js';

const LONG_MAX = '9223372036854775807';

export interface Listener {
  name: string;
  host: string;
  port: number;
}

/** A configuration the broker refuses to start with; the message is Kafka's where Kafka has one. */
export class ConfigError extends Error {}

/** Kafka's default listener.security.protocol.map: each protocol's own name maps to it. */
const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

export class BrokerConfig {
  /** Set by AlterConfigs on the broker resource; applied over the static values. */
  readonly dynamic = new Map<string, string>();
  /**
   * This broker's own dynamic configs (ZooKeeper's /config/brokers/<id>, where AlterConfigs on the
   * resource named by its id writes them, as kafka-reassign-partitions' throttles): over `dynamic`,
   * the cluster-wide default (/config/brokers/<default>).
   */
  readonly dynamicBroker = new Map<string, string>();

  constructor(readonly explicit: ReadonlyMap<string, string>) {}

  isSet(key: string): boolean {
    return this.dynamicBroker.has(key) || this.dynamic.has(key) || this.explicit.has(key);
  }

  get(key: string): string | undefined {
    return this.dynamicBroker.get(key) ?? this.dynamic.get(key) ?? this.explicit.get(key) ?? BROKER_DEFAULTS[key];
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

  /**
   * Kafka's start-up checks: every value parses as its key's type and is within its bounds; the
   * listeners name distinct, known security protocols on distinct ports. Throws ConfigError with one line;
   * returns the keys kts does not know (a misspelling, usually), for a warning.
   */
  validate(): string[] {
    const unknown: string[] = [];
    for (const [name, value] of this.explicit) {
      const key = BROKER_CONFIG_KEYS.get(name);
      if (!key) {
        if (!isKnownBrokerKey(name)) unknown.push(name);
        continue;
      }
      const error = checkConfigValue(key, value);
      if (error) throw new ConfigError(error);
    }
    this.checkRetention();
    this.checkReplicaTimeouts();
    this.checkListeners();
    return unknown;
  }

  /** The keys given that are Kafka's but that kts does not act on (accepted and checked only). */
  withoutEffect(): string[] {
    return [...this.explicit.keys()].filter((name) => KAFKA_ONLY_KEYS.has(name));
  }

  private checkRetention(): void {
    // KafkaConfig: the effective broker retention (ms, else minutes, else hours; negative = -1) is -1 or >= 1.
    const ms = this.explicit.has('log.retention.ms')
      ? this.getNumber('log.retention.ms')
      : this.explicit.has('log.retention.minutes')
        ? this.getNumber('log.retention.minutes') * 60_000
        : this.getNumber('log.retention.hours') * 3_600_000;
    if (ms === 0) throw new ConfigError('log.retention.ms must be unlimited (-1) or, greater than or equal to 1');
  }

  private checkReplicaTimeouts(): void {
    // KafkaConfig: the fetcher's requests (its long polls included) time out after replica.socket.timeout.ms.
    if (this.getNumber('replica.fetch.wait.max.ms') > this.getNumber('replica.socket.timeout.ms')) {
      throw new ConfigError('replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent unnecessary socket timeouts');
    }
    // KafkaConfig: a follower's long poll longer than the lag bound would take an idle follower out
    // of the ISR between two of its fetches.
    if (this.getNumber('replica.fetch.wait.max.ms') > this.getNumber('replica.lag.time.max.ms')) {
      throw new ConfigError('replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms to prevent frequent changes in ISR');
    }
  }

  /** listener.security.protocol.map, as Kafka reads it (names upper-cased). */
  securityProtocolMap(): Map<string, string> {
    const raw = this.explicit.get('listener.security.protocol.map');
    const map = new Map<string, string>();
    if (raw === undefined) {
      for (const p of SECURITY_PROTOCOLS) map.set(p, p);
      return map;
    }
    for (const entry of raw.split(',').map((e) => e.trim()).filter(Boolean)) {
      const colon = entry.indexOf(':');
      if (colon <= 0) throw new ConfigError(`Error parsing configuration property 'listener.security.protocol.map': Malformed entry '${entry}', expected LISTENER_NAME:SECURITY_PROTOCOL`);
      const protocol = entry.slice(colon + 1).trim().toUpperCase();
      if (!SECURITY_PROTOCOLS.includes(protocol)) {
        throw new ConfigError(`Invalid security protocol \`${entry.slice(colon + 1).trim()}\` defined in listener.security.protocol.map`);
      }
      map.set(entry.slice(0, colon).trim().toUpperCase(), protocol);
    }
    return map;
  }

  private checkListeners(): void {
    const protocols = this.securityProtocolMap();
    const listeners = this.listeners;
    if (listeners.length === 0) throw new ConfigError('listeners must name at least one listener, e.g. PLAINTEXT://localhost:9092');
    const names = new Set(listeners.map((l) => l.name));
    if (names.size !== listeners.length) throw new ConfigError(`Each listener must have a different name, listeners: ${this.getString('listeners')}`);
    for (const l of listeners) {
      const protocol = protocols.get(l.name);
      if (protocol === undefined) throw new ConfigError(`No security protocol defined for listener ${l.name}`);
    }
    const ports = listeners.filter((l) => l.port !== 0).map((l) => l.port);
    if (new Set(ports).size !== ports.length) throw new ConfigError(`Each listener must have a different port, listeners: ${this.getString('listeners')}`);
    if (this.explicit.has('inter.broker.listener.name') && this.explicit.has('security.inter.broker.protocol')) {
      throw new ConfigError('Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.');
    }
    const inter = this.explicit.get('inter.broker.listener.name')?.trim().toUpperCase();
    if (inter !== undefined && !names.has(inter)) {
      throw new ConfigError(`inter.broker.listener.name must be a listener name defined in advertised.listeners. The valid options based on currently configured listeners are ${[...names].join(',')}`);
    }
    const interProtocol = this.explicit.get('security.inter.broker.protocol')?.trim().toUpperCase();
    if (interProtocol !== undefined && !names.has(interProtocol)) {
      throw new ConfigError(`Listener with name ${interProtocol} defined in security.inter.broker.protocol not found in listeners ${[...names].join(',')}`);
    }
    // Without advertised.listeners a wildcard listener is announced by host name (advertised-host.ts);
    // Kafka refuses that case, kts serves it. An explicit 0.0.0.0 is refused, as Kafka does.
    if (!this.getString('advertised.listeners')) return;
    for (const a of this.advertisedListeners) {
      if (a.host === '0.0.0.0') throw new ConfigError('advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP address.');
      if (!names.has(a.name)) {
        throw new ConfigError(
          `advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found ${a.name}. The valid options based on the current configuration are ${[...names].join(',')}`,
        );
      }
    }
  }

  /** The security protocol of a listener (listener.security.protocol.map). */
  listenerProtocol(listenerName: string): SecurityProtocol {
    return (this.securityProtocolMap().get(listenerName.toUpperCase()) ?? 'PLAINTEXT') as SecurityProtocol;
  }

  /**
   * The listener other brokers reach this one on: inter.broker.listener.name, else the listener named
   * by security.inter.broker.protocol (Kafka's default PLAINTEXT), else (kts) the first listener.
   */
  get interBrokerListenerName(): string {
    const names = this.listeners.map((l) => l.name);
    const named = this.explicit.get('inter.broker.listener.name') ?? this.explicit.get('security.inter.broker.protocol') ?? 'PLAINTEXT';
    return names.includes(named.trim().toUpperCase()) ? named.trim().toUpperCase() : names[0];
  }

  /** A key's value for one listener: listener.name.<listener>.<key> before <key>, as Kafka reads per-listener configs. */
  listenerValue(listenerName: string, key: string): string | undefined {
    return this.get(`listener.name.${listenerName.toLowerCase()}.${key}`) ?? this.get(key);
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
      const source = this.dynamicBroker.has(syn.key)
        ? ConfigSource.DYNAMIC_BROKER_CONFIG
        : this.dynamic.has(syn.key) ? ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG : ConfigSource.STATIC_BROKER_CONFIG;
      return { value, source, synonym: syn.key };
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
      ...cleanupPolicy(this.topicValue('cleanup.policy', overrides)),
      deleteRetentionMs: num('delete.retention.ms'),
      minCompactionLagMs: num('min.compaction.lag.ms'),
      maxCompactionLagMs: num('max.compaction.lag.ms'),
      minCleanableRatio: num('min.cleanable.dirty.ratio'),
    };
  }

  /** All topic config names, for DescribeConfigs. */
  static topicConfigNames(): string[] {
    return TOPIC_CONFIGS.map((d) => d.name);
  }
}

/** cleanup.policy (a list: `delete`, `compact`, or both) as the two switches the storage engine reads. */
function cleanupPolicy(value: string): { compact: boolean; delete: boolean } {
  const policies = value.split(',').map((p) => p.trim().toLowerCase());
  return { compact: policies.includes('compact'), delete: policies.includes('delete') };
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
