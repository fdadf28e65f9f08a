// The DSL's option objects, with Kafka's names: Consumed, Produced, Grouped, Materialized, Named,
// Repartitioned, Branched. Each is a small immutable-looking value; `with*` returns a copy.
import type { KStream } from './dsl.js';
import { Serdes, type Serde } from './serdes.js';
import type { StreamPartitioner } from './topology.js';

export class Named {
  private constructor(readonly name: string | null) {}
  static as(name: string): Named {
    return new Named(name);
  }
}

export class Consumed<K = any, V = any> {
  private constructor(
    readonly keySerde: Serde<K> | null,
    readonly valueSerde: Serde<V> | null,
    readonly name: string | null,
  ) {}
  static with<K, V>(keySerde: Serde<K> | null, valueSerde: Serde<V> | null): Consumed<K, V> {
    return new Consumed(keySerde, valueSerde, null);
  }
  static as(name: string): Consumed {
    return new Consumed(null, null, name);
  }
  withName(name: string): Consumed<K, V> {
    return new Consumed(this.keySerde, this.valueSerde, name);
  }
}

export class Produced<K = any, V = any> {
  private constructor(
    readonly keySerde: Serde<K> | null,
    readonly valueSerde: Serde<V> | null,
    readonly partitioner: StreamPartitioner | null,
    readonly name: string | null,
  ) {}
  static with<K, V>(keySerde: Serde<K> | null, valueSerde: Serde<V> | null, partitioner: StreamPartitioner | null = null): Produced<K, V> {
    return new Produced(keySerde, valueSerde, partitioner, null);
  }
  static as(name: string): Produced {
    return new Produced(null, null, null, name);
  }
  static streamPartitioner(partitioner: StreamPartitioner): Produced {
    return new Produced(null, null, partitioner, null);
  }
  withName(name: string): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, this.partitioner, name);
  }
  withStreamPartitioner(partitioner: StreamPartitioner): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, partitioner, this.name);
  }
}

export class Grouped<K = any, V = any> {
  private constructor(
    readonly keySerde: Serde<K> | null,
    readonly valueSerde: Serde<V> | null,
    readonly name: string | null,
  ) {}
  static with<K, V>(keySerde: Serde<K> | null, valueSerde: Serde<V> | null): Grouped<K, V> {
    return new Grouped(keySerde, valueSerde, null);
  }
  static as(name: string): Grouped {
    return new Grouped(null, null, name);
  }
  withName(name: string): Grouped<K, V> {
    return new Grouped(this.keySerde, this.valueSerde, name);
  }
}

export class Materialized<K = any, V = any> {
  private constructor(
    readonly storeName: string | null,
    readonly keySerde: Serde<K> | null,
    readonly valueSerde: Serde<V> | null,
    readonly loggingEnabled: boolean,
    readonly logConfig: Record<string, string>,
    /** From Materialized.as(Stores.persistentKeyValueStore(name)): on disk or in memory; undefined: default.dsl.store. */
    readonly persistent?: boolean,
    /** A window store's retention (withRetention); null: the windows' size plus grace. */
    readonly retentionMs: number | null = null,
  ) {}
  /**
   * A store name (where it lives: default.dsl.store), or a store supplier: Stores.persistentKeyValueStore(name),
   * Stores.persistentWindowStore(name, retention, size), Stores.inMemorySessionStore(name, retention), ...
   * (a window or session supplier's retention is the store's).
   */
  static as<K = any, V = any>(store: string | { name: string; persistent?: boolean; kind?: 'window' | 'session'; retentionMs?: number; windowSizeMs?: number }): Materialized<K, V> {
    if (typeof store === 'string') return new Materialized<K, V>(store, null, null, true, {});
    const m = new Materialized<K, V>(store.name, null, null, true, {}, store.persistent, store.kind ? (store.retentionMs ?? null) : null);
    m.supplierKind = store.kind ?? 'keyValue';
    m.supplierWindowSizeMs = store.kind === 'window' ? (store.windowSizeMs ?? null) : null;
    return m;
  }
  /** @internal The kind of store supplier Materialized.as was given (null: a name), checked by the aggregation. */
  supplierKind: 'keyValue' | 'window' | 'session' | null = null;
  /** @internal A window store supplier's window size. */
  supplierWindowSizeMs: number | null = null;

  private copy(m: Materialized<any, any>): Materialized<any, any> {
    m.supplierKind = this.supplierKind;
    m.supplierWindowSizeMs = this.supplierWindowSizeMs;
    return m;
  }
  static with<K, V>(keySerde: Serde<K> | null, valueSerde: Serde<V> | null): Materialized<K, V> {
    return new Materialized(null, keySerde, valueSerde, true, {});
  }
  withKeySerde<K2>(keySerde: Serde<K2>): Materialized<K2, V> {
    return this.copy(new Materialized(this.storeName, keySerde, this.valueSerde, this.loggingEnabled, this.logConfig, this.persistent, this.retentionMs));
  }
  withValueSerde<V2>(valueSerde: Serde<V2>): Materialized<K, V2> {
    return this.copy(new Materialized(this.storeName, this.keySerde, valueSerde, this.loggingEnabled, this.logConfig, this.persistent, this.retentionMs));
  }
  withLoggingDisabled(): Materialized<K, V> {
    return this.copy(new Materialized(this.storeName, this.keySerde, this.valueSerde, false, {}, this.persistent, this.retentionMs));
  }
  withLoggingEnabled(config: Record<string, string>): Materialized<K, V> {
    return this.copy(new Materialized(this.storeName, this.keySerde, this.valueSerde, true, { ...config }, this.persistent, this.retentionMs));
  }
  /** How long a window store keeps windows (Kafka's withRetention, in ms): at least the windows' size plus grace. */
  withRetention(retentionMs: number): Materialized<K, V> {
    if (!(retentionMs >= 0)) throw new Error(`Retention must not be negative: ${retentionMs}`);
    return this.copy(new Materialized(this.storeName, this.keySerde, this.valueSerde, this.loggingEnabled, this.logConfig, this.persistent, retentionMs));
  }
}

/** count's store: the caller's Materialized, its values Longs unless it names a value serde (as Kafka's count). */
export function countMaterialized<K>(materialized: Materialized<K, number> | undefined): Materialized<K, number> {
  return materialized?.valueSerde ? materialized : (materialized ?? Materialized.with<K, number>(null, null)).withValueSerde(Serdes.Long());
}

export class Repartitioned<K = any, V = any> {
  private constructor(
    readonly name: string | null,
    readonly keySerde: Serde<K> | null,
    readonly valueSerde: Serde<V> | null,
    readonly numberOfPartitions: number | null,
    readonly partitioner: StreamPartitioner | null,
  ) {}
  static as(name: string): Repartitioned {
    return new Repartitioned(name, null, null, null, null);
  }
  static with<K, V>(keySerde: Serde<K> | null, valueSerde: Serde<V> | null): Repartitioned<K, V> {
    return new Repartitioned(null, keySerde, valueSerde, null, null);
  }
  static numberOfPartitions(n: number): Repartitioned {
    return new Repartitioned(null, null, null, n, null);
  }
  withName(name: string): Repartitioned<K, V> {
    return new Repartitioned(name, this.keySerde, this.valueSerde, this.numberOfPartitions, this.partitioner);
  }
  withNumberOfPartitions(n: number): Repartitioned<K, V> {
    return new Repartitioned(this.name, this.keySerde, this.valueSerde, n, this.partitioner);
  }
  withStreamPartitioner(partitioner: StreamPartitioner): Repartitioned<K, V> {
    return new Repartitioned(this.name, this.keySerde, this.valueSerde, this.numberOfPartitions, partitioner);
  }
}

export class Branched<K = any, V = any> {
  private constructor(
    readonly name: string | null,
    readonly chain: ((s: KStream<K, V>) => KStream<any, any> | void) | null,
  ) {}
  static as(name: string): Branched {
    return new Branched(name, null);
  }
  /** The branch's stream goes to `fn`; what it returns (if anything) is the branch in the result map. */
  static withFunction<K, V>(fn: (s: KStream<K, V>) => KStream<any, any>, name: string | null = null): Branched<K, V> {
    return new Branched(name, fn);
  }
  static withConsumer<K, V>(fn: (s: KStream<K, V>) => void, name: string | null = null): Branched<K, V> {
    return new Branched(name, fn);
  }
}
