// The Processor API (Kafka's org.apache.kafka.streams.processor.api): records, processors, their
// context, and the key-value store they keep state in. The DSL (dsl.ts) is built from these.
import type { Serde } from './serdes.js';

export interface Header {
  key: string;
  value: Buffer | null;
}

/** A record as processors see it: deserialized key and value, its timestamp, its headers. */
export interface StreamRecord<K, V> {
  key: K;
  value: V;
  timestamp: number;
  headers: Header[];
}

/** Where the record being processed came from (null for punctuations, as in Kafka). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

export interface ProcessorContext<KOut = unknown, VOut = unknown> {
  readonly applicationId: string;
  /** `<sub-topology>_<partition>`, Kafka's TaskId format. */
  readonly taskId: string;
  recordMetadata(): RecordMetadata | null;
  /** Passes a record to every child, or to the named one. */
  forward(record: StreamRecord<KOut, VOut>, childName?: string): void;
  getStateStore<S = KeyValueStore<any, any>>(name: string): S;
  /** The application's default serdes (default.key.serde, default.value.serde), as Kafka's context gives. */
  keySerde(): Serde<any>;
  valueSerde(): Serde<any>;
}

export interface Processor<KIn = unknown, VIn = unknown, KOut = KIn, VOut = VIn> {
  init?(context: ProcessorContext<KOut, VOut>): void;
  process(record: StreamRecord<KIn, VIn>): void;
  close?(): void;
}

export type ProcessorSupplier<KIn = any, VIn = any, KOut = any, VOut = any> = () => Processor<KIn, VIn, KOut, VOut>;

export interface KeyValue<K, V> {
  key: K;
  value: V;
}

export interface ReadOnlyKeyValueStore<K, V> {
  get(key: K): V | null;
  /** Every entry, in the byte order of the serialized keys (as Kafka's in-memory store sorts). */
  all(): KeyValue<K, V>[];
  /** Entries whose serialized keys are between those of `from` and `to`, both included (null: unbounded), in byte order (Kafka's range). */
  range(from: K | null, to: K | null): KeyValue<K, V>[];
  approximateNumEntries(): number;
}

export interface KeyValueStore<K, V> extends ReadOnlyKeyValueStore<K, V> {
  readonly name: string;
  put(key: K, value: V | null): void;
  putIfAbsent(key: K, value: V): V | null;
  delete(key: K): V | null;
}

/** What a store writes to its changelog: the bytes put (value null = deleted), with the record's headers if any. */
export type ChangeLogger = (key: Buffer, value: Buffer | null, headers?: Header[]) => void;

/**
 * An in-memory key-value store over serialized keys and values (Kafka's InMemoryKeyValueStore with
 * its metered and logged layers): every put goes to the changelog, and a restore replays the
 * changelog's bytes into it.
 */
export class InMemoryKeyValueStore<K, V> implements KeyValueStore<K, V> {
  protected readonly data = new Map<string, { key: Buffer; value: Buffer; timestamp?: number }>();
  logger: ChangeLogger | null = null;
  /**
   * The timestamp of the record being processed (set by the task): kept with each value, as Kafka's
   * timestamped stores do, because a table join's result carries the later of its two sides' times.
   */
  clock: () => number = () => -1;

  constructor(
    readonly name: string,
    private readonly keySerde: Serde<K>,
    private readonly valueSerde: Serde<V>,
    /** The topic name handed to the serdes (the changelog's, as Kafka's logged stores do). */
    private readonly serdeTopic: string = name,
  ) {}

  private keyBytes(key: K): Buffer {
    const b = this.keySerde.serialize(this.serdeTopic, key);
    if (b === null) throw new Error(`store ${this.name}: null keys are not allowed`);
    return b;
  }

  /** The entry of a key's bytes (a persistent store reads through to disk). */
  protected lookup(key: Buffer): { key: Buffer; value: Buffer; timestamp?: number } | undefined {
    return this.data.get(key.toString('latin1'));
  }

  /** Every entry, in no particular order. */
  protected entries(): Iterable<{ key: Buffer; value: Buffer; timestamp?: number }> {
    return this.data.values();
  }

  get(key: K): V | null {
    const e = this.lookup(this.keyBytes(key));
    return e ? this.valueSerde.deserialize(this.serdeTopic, e.value) : null;
  }

  put(key: K, value: V | null): void {
    const k = this.keyBytes(key);
    const v = value === null || value === undefined ? null : this.valueSerde.serialize(this.serdeTopic, value);
    this.putBytes(k, v, this.clock());
    this.logger?.(k, v);
  }

  /** The value and the timestamp it was put with (Kafka's ValueAndTimestamp), or null. */
  getWithTimestamp(key: K): { value: V; timestamp: number } | null {
    const e = this.lookup(this.keyBytes(key));
    return e ? { value: this.valueSerde.deserialize(this.serdeTopic, e.value) as V, timestamp: e.timestamp ?? -1 } : null;
  }

  putIfAbsent(key: K, value: V): V | null {
    const old = this.get(key);
    if (old === null) this.put(key, value);
    return old;
  }

  delete(key: K): V | null {
    const old = this.get(key);
    this.put(key, null);
    return old;
  }

  all(): KeyValue<K, V>[] {
    return this.range(null, null);
  }

  range(from: K | null, to: K | null): KeyValue<K, V>[] {
    const lo = from === null ? null : this.keySerde.serialize(this.serdeTopic, from);
    const hi = to === null ? null : this.keySerde.serialize(this.serdeTopic, to);
    return [...this.entries()]
      .filter((e) => (lo === null || Buffer.compare(e.key, lo) >= 0) && (hi === null || Buffer.compare(e.key, hi) <= 0))
      .sort((a, b) => Buffer.compare(a.key, b.key))
      .map((e) => ({ key: this.keySerde.deserialize(this.serdeTopic, e.key) as K, value: this.valueSerde.deserialize(this.serdeTopic, e.value) as V }));
  }

  approximateNumEntries(): number {
    return this.data.size;
  }

  /** A restored (or logged) change, bytes as they are in the changelog, with the record's timestamp. */
  putBytes(key: Buffer, value: Buffer | null, timestamp = -1): void {
    const k = key.toString('latin1');
    if (value === null) this.data.delete(k);
    else this.data.set(k, { key, value, timestamp });
  }

  clear(): void {
    this.data.clear();
  }
}

/** Describes a store for Topology#addStateStore (Kafka's StoreBuilder, key-value only). */
export interface StoreBuilder {
  readonly name: string;
  readonly keySerde: Serde<any> | null;
  readonly valueSerde: Serde<any> | null;
  loggingEnabled: boolean;
  readonly logConfig: Record<string, string>;
  /** @internal set for a window store: its keys are Windowed<K>, serialized as Kafka's TimeWindowedSerde. */
  windowSizeMs?: number;
  /** On disk (Stores.persistentKeyValueStore), in memory, or undefined: the DSL's default (default.dsl.store). */
  readonly persistent?: boolean;
  /**
   * @internal Makes a store of another kind (window and session stores) from the resolved serdes,
   * on disk in `persistentDir` when the store is persistent (else null); without it the task makes a
   * key-value store.
   */
  build?(keySerde: Serde<any>, valueSerde: Serde<any>, changelogTopic: string, persistentDir: string | null): InMemoryKeyValueStore<any, any>;
  withLoggingDisabled(): StoreBuilder;
  withLoggingEnabled(config: Record<string, string>): StoreBuilder;
}

class KeyValueStoreBuilder implements StoreBuilder {
  loggingEnabled = true;
  windowSizeMs?: number;
  logConfig: Record<string, string> = {};
  constructor(
    readonly name: string,
    readonly keySerde: Serde<any> | null,
    readonly valueSerde: Serde<any> | null,
    readonly persistent: boolean | undefined,
  ) {}
  withLoggingDisabled(): StoreBuilder {
    this.loggingEnabled = false;
    return this;
  }
  withLoggingEnabled(config: Record<string, string>): StoreBuilder {
    this.loggingEnabled = true;
    this.logConfig = { ...config };
    return this;
  }
}

/** What Stores' factories return: a store's name and where it lives (undefined: the DSL's default). */
export interface KeyValueBytesStoreSupplier {
  name: string;
  persistent?: boolean;
}

/** A window store's supplier (Kafka's WindowBytesStoreSupplier): how long it keeps windows, and their size. */
export interface WindowBytesStoreSupplier extends KeyValueBytesStoreSupplier {
  readonly kind: 'window';
  retentionMs: number;
  windowSizeMs: number;
  /** Kafka's segment interval: max(retention / 2, 60 s). */
  segmentIntervalMs: number;
  retainDuplicates: boolean;
}

/** A session store's supplier (Kafka's SessionBytesStoreSupplier). */
export interface SessionBytesStoreSupplier extends KeyValueBytesStoreSupplier {
  readonly kind: 'session';
  retentionMs: number;
  segmentIntervalMs: number;
}

function windowSupplier(name: string, retentionMs: number, windowSizeMs: number, retainDuplicates: boolean, persistent: boolean): WindowBytesStoreSupplier {
  if (!(retentionMs >= 0)) throw new Error('retentionPeriod cannot be negative');
  if (!(windowSizeMs >= 0)) throw new Error('windowSize cannot be negative');
  if (windowSizeMs > retentionMs) throw new Error(`The retention period of the window store ${name} must be no smaller than its window size. Got size=[${windowSizeMs}], retention=[${retentionMs}]`);
  if (retainDuplicates) throw new Error(`store ${name}: retainDuplicates (a stream-stream join's store) is not supported by kts's window stores`);
  return { kind: 'window', name, persistent, retentionMs, windowSizeMs, retainDuplicates, segmentIntervalMs: Math.max(Math.floor(retentionMs / 2), 60_000) };
}

function sessionSupplier(name: string, retentionMs: number, persistent: boolean): SessionBytesStoreSupplier {
  if (!(retentionMs >= 0)) throw new Error('retentionPeriod cannot be negative');
  return { kind: 'session', name, persistent, retentionMs, segmentIntervalMs: Math.max(Math.floor(retentionMs / 2), 60_000) };
}

/**
 * Kafka's Stores factory: key-value, window and session stores, in memory or persistent (on LMDB,
 * in state.dir). Kafka's timestamped stores keep each value's timestamp; every kts store does.
 * The window and session builders are in window-stores.ts (Stores.windowStoreBuilder, ...).
 */
export const Stores = {
  inMemoryKeyValueStore: (name: string): KeyValueBytesStoreSupplier => ({ name, persistent: false }),
  persistentKeyValueStore: (name: string): KeyValueBytesStoreSupplier => ({ name, persistent: true }),
  persistentTimestampedKeyValueStore: (name: string): KeyValueBytesStoreSupplier => ({ name, persistent: true }),
  keyValueStoreBuilder: (supplier: KeyValueBytesStoreSupplier, keySerde: Serde<any> | null = null, valueSerde: Serde<any> | null = null): StoreBuilder =>
    new KeyValueStoreBuilder(supplier.name, keySerde, valueSerde, supplier.persistent),
  persistentWindowStore: (name: string, retentionMs: number, windowSizeMs: number, retainDuplicates = false): WindowBytesStoreSupplier =>
    windowSupplier(name, retentionMs, windowSizeMs, retainDuplicates, true),
  persistentTimestampedWindowStore: (name: string, retentionMs: number, windowSizeMs: number, retainDuplicates = false): WindowBytesStoreSupplier =>
    windowSupplier(name, retentionMs, windowSizeMs, retainDuplicates, true),
  inMemoryWindowStore: (name: string, retentionMs: number, windowSizeMs: number, retainDuplicates = false): WindowBytesStoreSupplier =>
    windowSupplier(name, retentionMs, windowSizeMs, retainDuplicates, false),
  persistentSessionStore: (name: string, retentionMs: number): SessionBytesStoreSupplier => sessionSupplier(name, retentionMs, true),
  inMemorySessionStore: (name: string, retentionMs: number): SessionBytesStoreSupplier => sessionSupplier(name, retentionMs, false),
};
