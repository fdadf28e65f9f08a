// The Streams DSL (Kafka's StreamsBuilder, KStream, KTable, KGroupedStream, BranchedKStream), built
// on the Processor API: every operation adds named processors to one Topology. Names follow Kafka's
// (KSTREAM-MAPVALUES-0000000002 ...) so a topology reads the same in describe(). Operations that
// change the key mark the stream; a later grouping then goes through a repartition topic
// (`<application.id>-<name>-repartition`), as Kafka does.
import { Branched, Consumed, countMaterialized, Grouped, Materialized, Named, Produced, Repartitioned } from './options.js';
import { Stores, type KeyValueStore, type Processor, type ProcessorContext, type ProcessorSupplier, type StreamRecord } from './processor.js';
import type { Serde } from './serdes.js';
import { Topology, type TopicNameExtractor } from './topology.js';
import { GlobalKTable, globalTable, globalTableJoin } from './globals.js';
import { deriveValueGetter, streamStreamJoin, streamTableJoin, tableTableJoin, JoinWindows, type AnyJoiner, type Joined, type StreamJoined, type ValueJoiner, type ValueJoinerWithKey } from './joins.js';
import { suppressSupplier, timeWindowedSerde, windowAggregateSupplier, type TimeWindows, type Windowed } from './windows.js';
import { SessionWindowedKStream, SessionWindows } from './session-windows.js';
import { SlidingWindowedKStream, SlidingWindows } from './sliding-windows.js';
import { checkWindowSupplier, windowedStoreBuilder } from './persistent-window-store.js';
import { SuppressionBuffer } from './suppress-buffer.js';

export type KeyValuePair<K, V> = { key: K; value: V } | [K, V];
export const KeyValue = {
  pair: <K, V>(key: K, value: V): { key: K; value: V } => ({ key, value }),
};

function unpair<K, V>(kv: KeyValuePair<K, V>): { key: K; value: V } {
  return Array.isArray(kv) ? { key: kv[0], value: kv[1] } : kv;
}

/** A KTable's update: the new value and the one it replaced (null when there was none). */
export interface Change<V> {
  newValue: V | null;
  oldValue: V | null;
}

/**
 * Kafka's ValueMapper (value) => VR and ValueMapperWithKey (readOnlyKey, value) => VR. Java tells them
 * apart by type; here a mapper declared with two parameters is a ValueMapperWithKey (the key first,
 * as in Kafka), one with one parameter a ValueMapper. (A mapper with rest or default parameters only
 * counts its leading plain ones, as Function#length does.)
 */
export type ValueMapper<V, VR> = (value: V) => VR;
export type ValueMapperWithKey<K, V, VR> = (readOnlyKey: K, value: V) => VR;
function withKey<K, V, VR>(fn: ValueMapper<V, VR> | ValueMapperWithKey<K, V, VR>): (key: K, value: V) => VR {
  if (typeof fn !== 'function') throw new TypeError("mapper can't be null");
  if (fn.length >= 2) return fn as ValueMapperWithKey<K, V, VR>;
  const valueOnly = fn as ValueMapper<V, VR>;
  return (_k, v) => valueOnly(v);
}

/** A stateless processor from a per-record function that calls `emit` for each output. */
function stateless<K, V>(fn: (r: StreamRecord<K, V>, emit: (r: StreamRecord<any, any>) => void) => void): ProcessorSupplier {
  return () => {
    let ctx!: ProcessorContext<any, any>;
    const emit = (r: StreamRecord<any, any>) => ctx.forward(r);
    return {
      init: (c) => (ctx = c),
      process: (r) => fn(r as StreamRecord<K, V>, emit),
    } satisfies Processor<any, any, any, any>;
  };
}

export class StreamsBuilder {
  /** @internal */ readonly topology = new Topology();
  private index = 0;

  /** @internal Kafka's name: `<prefix><10-digit index>`, the index shared by every generated name. */
  newName(prefix: string): string {
    return `${prefix}${String(this.index++).padStart(10, '0')}`;
  }

  stream<K = string, V = string>(topics: string | string[], consumed?: Consumed<K, V>): KStream<K, V> {
    const name = consumed?.name ?? this.newName('KSTREAM-SOURCE-');
    const list = Array.isArray(topics) ? topics : [topics];
    this.topology.addSource({ name, keySerde: consumed?.keySerde, valueSerde: consumed?.valueSerde }, ...list);
    return new KStream<K, V>(this, name, consumed?.keySerde ?? null, consumed?.valueSerde ?? null, false);
  }

  /** A table over a topic: each record is an update of its key (null value deletes), kept in a store. */
  table<K = string, V = string>(topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): KTable<K, V> {
    // The store's name takes its index first, as Kafka's MaterializedInternal does: the changelog is
    // then `<application.id>-<topic>-STATE-STORE-0000000000-changelog` for a first table, as in Kafka.
    const storeName = materialized?.storeName ?? `${topic}-STATE-STORE-${String(this.index++).padStart(10, '0')}`;
    const sourceName = consumed?.name ?? this.newName('KSTREAM-SOURCE-');
    const keySerde = materialized?.keySerde ?? consumed?.keySerde ?? null;
    const valueSerde = materialized?.valueSerde ?? consumed?.valueSerde ?? null;
    this.topology.addSource({ name: sourceName, keySerde: consumed?.keySerde, valueSerde: consumed?.valueSerde }, topic);
    const tableName = this.newName('KTABLE-SOURCE-');
    this.topology.addProcessor(
      tableName,
      () => {
        let ctx!: ProcessorContext<K, Change<V>>;
        let store!: KeyValueStore<K, V>;
        return {
          init(c) {
            ctx = c;
            store = c.getStateStore(storeName);
          },
          process(r: StreamRecord<K, V>) {
            if (r.key === null || r.key === undefined) return;
            const oldValue = store.get(r.key);
            store.put(r.key, r.value);
            ctx.forward({ ...r, value: { newValue: r.value ?? null, oldValue } });
          },
        };
      },
      sourceName,
    );
    this.addStore(storeName, keySerde, valueSerde, materialized, tableName);
    return new KTable<K, V>(this, tableName, keySerde, valueSerde, storeName);
  }

  /** A table every instance reads in full from all of the topic's partitions (Kafka's GlobalKTable). */
  globalTable<K = string, V = string>(topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): GlobalKTable<K, V> {
    return globalTable(this, topic, consumed, materialized);
  }

  /** Adds a state store for Processor API processors (KStream#process). */
  addStateStore(builder: ReturnType<typeof Stores.keyValueStoreBuilder>): this {
    this.topology.addStateStore(builder);
    return this;
  }

  /** @internal */
  addStore(name: string, keySerde: Serde<any> | null, valueSerde: Serde<any> | null, materialized: Materialized<any, any> | undefined, processor: string): void {
    // Where the store lives: what Materialized.as(supplier) said, else default.dsl.store when the app starts.
    const b = Stores.keyValueStoreBuilder({ name, persistent: materialized?.persistent }, keySerde, valueSerde);
    if (materialized && !materialized.loggingEnabled) b.withLoggingDisabled();
    else if (materialized) b.withLoggingEnabled(materialized.logConfig);
    this.topology.addStateStore(b, processor);
  }

  build(): Topology {
    return this.topology;
  }
}

export class KStream<K, V> {
  /** @internal */
  constructor(
    readonly builder: StreamsBuilder,
    /** @internal the node whose output this stream is */ readonly nodeName: string,
    readonly keySerde: Serde<K> | null,
    readonly valueSerde: Serde<V> | null,
    /** @internal the key was changed: grouping needs a repartition */ readonly repartitionRequired: boolean,
  ) {}

  private add<K2, V2>(prefix: string, supplier: ProcessorSupplier, named: Named | undefined, keySerde: Serde<K2> | null, valueSerde: Serde<V2> | null, keyChanged: boolean): KStream<K2, V2> {
    const name = named?.name ?? this.builder.newName(prefix);
    this.builder.topology.addProcessor(name, supplier, this.nodeName);
    return new KStream<K2, V2>(this.builder, name, keySerde, valueSerde, this.repartitionRequired || keyChanged);
  }

  filter(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-FILTER-', stateless<K, V>((r, emit) => predicate(r.key, r.value) && emit(r)), named, this.keySerde, this.valueSerde, false);
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-FILTER-', stateless<K, V>((r, emit) => !predicate(r.key, r.value) && emit(r)), named, this.keySerde, this.valueSerde, false);
  }

  map<K2, V2>(mapper: (key: K, value: V) => KeyValuePair<K2, V2>, named?: Named): KStream<K2, V2> {
    return this.add('KSTREAM-MAP-', stateless<K, V>((r, emit) => emit({ ...r, ...unpair(mapper(r.key, r.value)) })), named, null, null, true);
  }

  mapValues<V2>(mapper: ValueMapper<V, V2>, named?: Named): KStream<K, V2>;
  mapValues<V2>(mapper: ValueMapperWithKey<K, V, V2>, named?: Named): KStream<K, V2>;
  mapValues<V2>(mapper: ValueMapper<V, V2> | ValueMapperWithKey<K, V, V2>, named?: Named): KStream<K, V2> {
    const fn = withKey(mapper);
    return this.add('KSTREAM-MAPVALUES-', stateless<K, V>((r, emit) => emit({ ...r, value: fn(r.key, r.value) })), named, this.keySerde, null, false);
  }

  flatMap<K2, V2>(mapper: (key: K, value: V) => Iterable<KeyValuePair<K2, V2>>, named?: Named): KStream<K2, V2> {
    return this.add('KSTREAM-FLATMAP-', stateless<K, V>((r, emit) => {
      for (const kv of mapper(r.key, r.value)) emit({ ...r, ...unpair(kv) });
    }), named, null, null, true);
  }

  flatMapValues<V2>(mapper: ValueMapper<V, Iterable<V2>>, named?: Named): KStream<K, V2>;
  flatMapValues<V2>(mapper: ValueMapperWithKey<K, V, Iterable<V2>>, named?: Named): KStream<K, V2>;
  flatMapValues<V2>(mapper: ValueMapper<V, Iterable<V2>> | ValueMapperWithKey<K, V, Iterable<V2>>, named?: Named): KStream<K, V2> {
    const fn = withKey(mapper);
    return this.add('KSTREAM-FLATMAPVALUES-', stateless<K, V>((r, emit) => {
      for (const v of fn(r.key, r.value)) emit({ ...r, value: v });
    }), named, this.keySerde, null, false);
  }

  selectKey<K2>(mapper: (key: K, value: V) => K2, named?: Named): KStream<K2, V> {
    return this.add('KSTREAM-KEY-SELECT-', stateless<K, V>((r, emit) => emit({ ...r, key: mapper(r.key, r.value) })), named, null, this.valueSerde, true);
  }

  peek(action: (key: K, value: V) => void, named?: Named): KStream<K, V> {
    return this.add('KSTREAM-PEEK-', stateless<K, V>((r, emit) => {
      action(r.key, r.value);
      emit(r);
    }), named, this.keySerde, this.valueSerde, false);
  }

  foreach(action: (key: K, value: V) => void, named?: Named): void {
    this.add('KSTREAM-FOREACH-', stateless<K, V>((r) => action(r.key, r.value)), named, null, null, false);
  }

  merge(other: KStream<K, V>, named?: Named): KStream<K, V> {
    const name = named?.name ?? this.builder.newName('KSTREAM-MERGE-');
    this.builder.topology.addProcessor(name, stateless((r, emit) => emit(r)), this.nodeName, other.nodeName);
    return new KStream<K, V>(this.builder, name, this.keySerde, this.valueSerde, this.repartitionRequired || other.repartitionRequired);
  }

  /** Kafka's split(): branches by predicate, each record to the first branch that matches. */
  split(named?: Named): BranchedKStream<K, V> {
    const name = named?.name ?? this.builder.newName('KSTREAM-BRANCH-');
    return new BranchedKStream<K, V>(this, name, named?.name != null ? named.name : name);
  }

  /** The older branch(): one stream per predicate. */
  branch(...predicates: ((key: K, value: V) => boolean)[]): KStream<K, V>[] {
    const name = this.builder.newName('KSTREAM-BRANCH-');
    const children = predicates.map(() => this.builder.newName('KSTREAM-BRANCHCHILD-'));
    this.builder.topology.addProcessor(name, branchSupplier(predicates, children), this.nodeName);
    return children.map((c) => {
      this.builder.topology.addProcessor(c, stateless((r, emit) => emit(r)), name);
      return new KStream<K, V>(this.builder, c, this.keySerde, this.valueSerde, this.repartitionRequired);
    });
  }

  to(topic: string | TopicNameExtractor, produced?: Produced<K, V>): void {
    const name = produced?.name ?? this.builder.newName('KSTREAM-SINK-');
    this.builder.topology.addSink(
      { name, keySerde: produced?.keySerde ?? this.keySerde, valueSerde: produced?.valueSerde ?? this.valueSerde, partitioner: produced?.partitioner ?? null },
      topic,
      this.nodeName,
    );
  }

  /** Writes to a repartition topic the library creates and reads it back (Kafka's repartition()). */
  repartition(repartitioned?: Repartitioned<K, V>): KStream<K, V> {
    const base = repartitioned?.name ?? this.builder.newName('KSTREAM-REPARTITION-');
    const keySerde = repartitioned?.keySerde ?? this.keySerde;
    const valueSerde = repartitioned?.valueSerde ?? this.valueSerde;
    const source = repartitionThrough(this.builder, this.nodeName, base, keySerde, valueSerde, repartitioned?.numberOfPartitions ?? null, repartitioned?.partitioner ?? null, false);
    return new KStream<K, V>(this.builder, source, keySerde, valueSerde, false);
  }

  /** Runs a Processor API processor; `stores` are the names of stores added with addStateStore. */
  process<K2 = K, V2 = V>(supplier: ProcessorSupplier<K, V, K2, V2>, ...stores: string[]): KStream<K2, V2> {
    const name = this.builder.newName('KSTREAM-PROCESSOR-');
    this.builder.topology.addProcessor(name, supplier, this.nodeName);
    if (stores.length) this.builder.topology.connectProcessorAndStateStores(name, ...stores);
    return new KStream<K2, V2>(this.builder, name, null, null, true);
  }

  /**
   * Joins (joins.ts): with a KStream over JoinWindows (StreamJoined for serdes and names), with a
   * KTable (Joined), or with a GlobalKTable through a key selector. The joiner is Kafka's ValueJoiner
   * (value, otherValue) or, with three parameters, ValueJoinerWithKey (readOnlyKey, value, otherValue).
   */
  join<VO, VR>(other: KStream<K, VO>, joiner: ValueJoiner<V, VO, VR>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  join<VO, VR>(other: KStream<K, VO>, joiner: ValueJoinerWithKey<K, V, VO, VR>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  join<VO, VR>(table: KTable<K, VO>, joiner: ValueJoiner<V, VO, VR>, joined?: Joined<K, V, VO>): KStream<K, VR>;
  join<VO, VR>(table: KTable<K, VO>, joiner: ValueJoinerWithKey<K, V, VO, VR>, joined?: Joined<K, V, VO>): KStream<K, VR>;
  join<KG, VG, VR>(globalTable: GlobalKTable<KG, VG>, keySelector: (key: K, value: V) => KG, joiner: ValueJoiner<V, VG, VR>, named?: Named): KStream<K, VR>;
  join<KG, VG, VR>(globalTable: GlobalKTable<KG, VG>, keySelector: (key: K, value: V) => KG, joiner: ValueJoinerWithKey<K, V, VG, VR>, named?: Named): KStream<K, VR>;
  join(other: unknown, a: any, b?: any, c?: any): KStream<K, any> {
    return this.doJoin(other, a, b, c, false, false);
  }

  leftJoin<VO, VR>(other: KStream<K, VO>, joiner: ValueJoiner<V, VO | null, VR>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  leftJoin<VO, VR>(other: KStream<K, VO>, joiner: ValueJoinerWithKey<K, V, VO | null, VR>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  leftJoin<VO, VR>(table: KTable<K, VO>, joiner: ValueJoiner<V, VO | null, VR>, joined?: Joined<K, V, VO>): KStream<K, VR>;
  leftJoin<VO, VR>(table: KTable<K, VO>, joiner: ValueJoinerWithKey<K, V, VO | null, VR>, joined?: Joined<K, V, VO>): KStream<K, VR>;
  leftJoin<KG, VG, VR>(globalTable: GlobalKTable<KG, VG>, keySelector: (key: K, value: V) => KG, joiner: ValueJoiner<V, VG | null, VR>, named?: Named): KStream<K, VR>;
  leftJoin<KG, VG, VR>(globalTable: GlobalKTable<KG, VG>, keySelector: (key: K, value: V) => KG, joiner: ValueJoinerWithKey<K, V, VG | null, VR>, named?: Named): KStream<K, VR>;
  leftJoin(other: unknown, a: any, b?: any, c?: any): KStream<K, any> {
    return this.doJoin(other, a, b, c, true, false);
  }

  outerJoin<VO, VR>(other: KStream<K, VO>, joiner: ValueJoiner<V | null, VO | null, VR>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  outerJoin<VO, VR>(other: KStream<K, VO>, joiner: ValueJoinerWithKey<K, V | null, VO | null, VR>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR>;
  outerJoin<VO, VR>(other: KStream<K, VO>, joiner: AnyJoiner<K, any, any, VR>, windows: JoinWindows, streamJoined?: StreamJoined<K, V, VO>): KStream<K, VR> {
    if (!(other instanceof KStream)) throw new TypeError('outerJoin joins two KStreams');
    return streamStreamJoin(this, other, joiner, windows, streamJoined, true, true);
  }

  private doJoin(other: unknown, a: any, b: any, c: any, left: boolean, _outer: boolean): KStream<K, any> {
    if (other instanceof KStream) return streamStreamJoin(this, other, a, b, c, left, false);
    if (other instanceof KTable) return streamTableJoin(this, other, a, b, left);
    if (other instanceof GlobalKTable) return globalTableJoin(this, other, a, b, c, left);
    throw new TypeError('join: the other side must be a KStream, a KTable or a GlobalKTable');
  }

  groupByKey(grouped?: Grouped<K, V>): KGroupedStream<K, V> {
    return new KGroupedStream<K, V>(this, grouped?.keySerde ?? this.keySerde, grouped?.valueSerde ?? this.valueSerde, grouped?.name ?? null, this.repartitionRequired);
  }

  groupBy<K2>(selector: (key: K, value: V) => K2, grouped?: Grouped<K2, V>): KGroupedStream<K2, V> {
    const selected = this.selectKey(selector);
    return new KGroupedStream<K2, V>(selected, grouped?.keySerde ?? null, grouped?.valueSerde ?? this.valueSerde, grouped?.name ?? null, true);
  }
}

function branchSupplier(predicates: ((key: any, value: any) => boolean)[], children: string[]): ProcessorSupplier {
  return () => {
    let ctx!: ProcessorContext<any, any>;
    return {
      init: (c) => (ctx = c),
      process(r) {
        const i = predicates.findIndex((p) => p(r.key, r.value));
        if (i >= 0) ctx.forward(r, children[i]);
      },
    };
  };
}

/** @internal Adds filter (null keys dropped) -> sink -> internal topic -> source; returns the source's name. */
export function repartitionThrough(
  builder: StreamsBuilder,
  parent: string,
  base: string,
  keySerde: Serde<any> | null,
  valueSerde: Serde<any> | null,
  partitions: number | null,
  partitioner: Repartitioned['partitioner'],
  dropNullKeys: boolean,
): string {
  const topic = `${base}-repartition`;
  const t = builder.topology;
  // Kafka's createRepartitionedSource: the sink, filter and source use up an index each whether or
  // not they are named by it (a generated base), so that the nodes and stores after them (and so the
  // internal topics named by them) get Kafka's indexes.
  const genSink = builder.newName('KSTREAM-SINK-');
  const genFilter = builder.newName('KSTREAM-FILTER-');
  const genSource = builder.newName('KSTREAM-SOURCE-');
  const generated = /^KSTREAM.*-[0-9]{10}$/.test(base);
  const filter = generated ? genFilter : `${topic}-filter`;
  const sink = generated ? genSink : `${topic}-sink`;
  const source = generated ? genSource : `${topic}-source`;
  // Kafka's filter passes everything on; a grouping's drops null keys here, which its aggregation would drop anyway.
  t.addProcessor(filter, stateless((r, emit) => (!dropNullKeys || (r.key !== null && r.key !== undefined)) && emit(r)), parent);
  t.addSink({ name: sink, keySerde, valueSerde, partitioner }, topic, filter);
  t.addInternalTopic(topic, partitions);
  t.addSource({ name: source, keySerde, valueSerde }, topic);
  return source;
}

export class BranchedKStream<K, V> {
  private readonly predicates: ((key: K, value: V) => boolean)[] = [];
  private readonly children: string[] = [];
  private readonly result = new Map<string, KStream<K, V>>();

  /** @internal */
  constructor(
    private readonly parent: KStream<K, V>,
    private readonly name: string,
    private readonly prefix: string,
  ) {
    parent.builder.topology.addProcessor(name, branchSupplier(this.predicates, this.children), parent.nodeName);
  }

  branch(predicate: (key: K, value: V) => boolean, branched?: Branched<K, V>): this {
    this.addBranch(predicate, branched, String(this.children.length + 1));
    return this;
  }

  defaultBranch(branched?: Branched<K, V>): Map<string, KStream<K, V>> {
    this.addBranch(() => true, branched, '0');
    return this.result;
  }

  noDefaultBranch(): Map<string, KStream<K, V>> {
    return this.result;
  }

  private addBranch(predicate: (key: K, value: V) => boolean, branched: Branched<K, V> | undefined, index: string): void {
    const childName = `${this.prefix}${branched?.name ?? index}`;
    const b = this.parent.builder;
    b.topology.addProcessor(childName, stateless((r, emit) => emit(r)), this.name);
    this.predicates.push(predicate);
    this.children.push(childName);
    const stream = new KStream<K, V>(b, childName, this.parent.keySerde, this.parent.valueSerde, this.parent.repartitionRequired);
    if (branched?.chain) {
      const out = branched.chain(stream);
      if (out) this.result.set(childName, out);
    } else this.result.set(childName, stream);
  }
}

export class KGroupedStream<K, V> {
  /** @internal */
  constructor(
    private readonly stream: KStream<K, V>,
    private readonly keySerde: Serde<K> | null,
    private readonly valueSerde: Serde<V> | null,
    private readonly repartitionName: string | null,
    private readonly repartitionRequired: boolean,
  ) {}

  /** Windowed aggregations over time windows (tumbling or hopping), session or sliding windows, with grace. */
  windowedBy(windows: TimeWindows): TimeWindowedKStream<K, V>;
  windowedBy(windows: SessionWindows): SessionWindowedKStream<K, V>;
  windowedBy(windows: SlidingWindows): SlidingWindowedKStream<K, V>;
  windowedBy(windows: TimeWindows | SessionWindows | SlidingWindows): TimeWindowedKStream<K, V> | SessionWindowedKStream<K, V> | SlidingWindowedKStream<K, V> {
    const args = [this.stream, this.keySerde, this.valueSerde, this.repartitionName, this.repartitionRequired] as const;
    if (windows instanceof SessionWindows) return new SessionWindowedKStream<K, V>(...args, windows);
    if (windows instanceof SlidingWindows) return new SlidingWindowedKStream<K, V>(...args, windows);
    return new TimeWindowedKStream<K, V>(...args, windows);
  }

  count(materialized?: Materialized<K, number> | Named): KTable<K, number> {
    const m = materialized instanceof Materialized ? materialized : undefined;
    return this.doAggregate<number>(
      () => 0,
      (_k, _v, agg) => agg + 1,
      countMaterialized(m),
      'KSTREAM-AGGREGATE-',
    );
  }

  reduce(reducer: (aggregate: V, value: V) => V, materialized?: Materialized<K, V>): KTable<K, V> {
    return this.doAggregate<V>(() => null as unknown as V, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), materialized ?? Materialized.with(null, this.valueSerde), 'KSTREAM-REDUCE-');
  }

  aggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized?: Materialized<K, VA>): KTable<K, VA> {
    return this.doAggregate<VA>(initializer, aggregator, materialized, 'KSTREAM-AGGREGATE-');
  }

  private doAggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized: Materialized<K, VA> | undefined, prefix: string): KTable<K, VA> {
    const b = this.stream.builder;
    const storeName = materialized?.storeName ?? b.newName(`${prefix}STATE-STORE-`);
    // The aggregation's name takes its index before the repartition nodes, as in Kafka.
    const name = b.newName(prefix);
    let parent = this.stream.nodeName;
    if (this.repartitionRequired) {
      parent = repartitionThrough(b, parent, this.repartitionName ?? storeName, this.keySerde, this.valueSerde, null, null, true);
    }
    b.topology.addProcessor(
      name,
      () => {
        let ctx!: ProcessorContext<K, Change<VA>>;
        let store!: KeyValueStore<K, VA>;
        return {
          init(c) {
            ctx = c;
            store = c.getStateStore(storeName);
          },
          process(r: StreamRecord<K, V>) {
            // Kafka drops (and counts as skipped) records with a null key or value here.
            if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
            const oldValue = store.get(r.key);
            const newValue = aggregator(r.key, r.value, oldValue ?? initializer());
            store.put(r.key, newValue);
            ctx.forward({ ...r, value: { newValue, oldValue } });
          },
        };
      },
      parent,
    );
    const keySerde = materialized?.keySerde ?? this.keySerde;
    const valueSerde = materialized?.valueSerde ?? null;
    b.addStore(storeName, keySerde, valueSerde, materialized, name);
    return new KTable<K, VA>(b, name, keySerde, valueSerde, storeName);
  }
}

export class KTable<K, V> {
  /** @internal */
  constructor(
    /** @internal */ readonly builder: StreamsBuilder,
    /** @internal */ readonly nodeName: string,
    readonly keySerde: Serde<K> | null,
    readonly valueSerde: Serde<V> | null,
    /** The store a local query reads (KafkaStreams#store), null when not materialized. */
    readonly queryableStoreName: string | null,
    /** @internal the windows of a windowed aggregation's table */ readonly windows: TimeWindows | null = null,
  ) {}

  /** suppress(Suppressed.untilWindowCloses(...)): each window's final value, once it has closed. */
  suppress(_suppressed: { kind: 'untilWindowCloses' }, named?: Named): KTable<K, V> {
    if (!this.windows) throw new Error('suppress(untilWindowCloses) needs a windowed table (groupBy...windowedBy(...) and an aggregation)');
    const name = named?.name ?? this.builder.newName('KTABLE-SUPPRESS-');
    // The buffer is a store with a changelog, named as Kafka names it (suppress-buffer.ts).
    const storeName = named?.name ? `${named.name}-store` : this.builder.newName('KTABLE-SUPPRESS-STATE-STORE-');
    const { sizeMs } = this.windows;
    const windowedKeySerde = this.keySerde as Serde<Windowed<any>> | null;
    const store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(storeName), null, this.valueSerde);
    store.build = (k, v, changelog) => new SuppressionBuffer(storeName, windowedKeySerde ?? timeWindowedSerde(k, sizeMs), v, changelog);
    this.builder.topology.addProcessor(name, suppressSupplier(this.windows.graceMs, storeName), this.nodeName);
    this.builder.topology.addStateStore(store, name);
    return new KTable<K, V>(this.builder, name, this.keySerde, this.valueSerde, null, this.windows);
  }

  toStream<K2 = K>(mapper?: (key: K, value: V) => K2, named?: Named): KStream<K2, V> {
    const name = named?.name ?? this.builder.newName('KTABLE-TOSTREAM-');
    this.builder.topology.addProcessor(
      name,
      stateless<K, Change<V>>((r, emit) => emit({ ...r, key: mapper ? mapper(r.key, r.value.newValue as V) : r.key, value: r.value.newValue })),
      this.nodeName,
    );
    return new KStream<K2, V>(this.builder, name, mapper ? null : (this.keySerde as unknown as Serde<K2> | null), this.valueSerde, mapper !== undefined);
  }

  filter(predicate: (key: K, value: V) => boolean, named?: Named): KTable<K, V> {
    return this.changes('KTABLE-FILTER-', named, this.valueSerde, (k, v) => (v !== null && predicate(k, v) ? v : null));
  }

  filterNot(predicate: (key: K, value: V) => boolean, named?: Named): KTable<K, V> {
    return this.changes('KTABLE-FILTER-', named, this.valueSerde, (k, v) => (v !== null && !predicate(k, v) ? v : null));
  }

  mapValues<V2>(mapper: ValueMapper<V, V2>, named?: Named): KTable<K, V2>;
  mapValues<V2>(mapper: ValueMapperWithKey<K, V, V2>, named?: Named): KTable<K, V2>;
  mapValues<V2>(mapper: ValueMapper<V, V2> | ValueMapperWithKey<K, V, V2>, named?: Named): KTable<K, V2> {
    const fn = withKey(mapper);
    return this.changes<V2>('KTABLE-MAPVALUES-', named, null, (k, v) => (v === null ? null : fn(k, v)));
  }

  /**
   * Table-table joins (joins.ts): every update of either side emits the joined value of its key.
   * Options: a Named and/or a Materialized (a store for the result), as Kafka's overloads.
   */
  join<VO, VR>(other: KTable<K, VO>, joiner: ValueJoiner<V, VO, VR>, named?: Named | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR>;
  join<VO, VR>(other: KTable<K, VO>, joiner: ValueJoinerWithKey<K, V, VO, VR>, named?: Named | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR>;
  join<VO, VR>(other: KTable<K, VO>, joiner: AnyJoiner<K, any, any, VR>, named?: Named | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR> {
    return this.tableJoin(other, joiner, 'inner', named, materialized);
  }

  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: ValueJoiner<V, VO | null, VR>, named?: Named | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR>;
  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: ValueJoinerWithKey<K, V, VO | null, VR>, named?: Named | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR>;
  leftJoin<VO, VR>(other: KTable<K, VO>, joiner: AnyJoiner<K, any, any, VR>, named?: Named | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR> {
    return this.tableJoin(other, joiner, 'left', named, materialized);
  }

  outerJoin<VO, VR>(other: KTable<K, VO>, joiner: ValueJoiner<V | null, VO | null, VR>, named?: Named | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR>;
  outerJoin<VO, VR>(other: KTable<K, VO>, joiner: ValueJoinerWithKey<K, V | null, VO | null, VR>, named?: Named | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR>;
  outerJoin<VO, VR>(other: KTable<K, VO>, joiner: AnyJoiner<K, any, any, VR>, named?: Named | Materialized<K, VR>, materialized?: Materialized<K, VR>): KTable<K, VR> {
    return this.tableJoin(other, joiner, 'outer', named, materialized);
  }

  private tableJoin<VO, VR>(other: KTable<K, VO>, joiner: AnyJoiner<K, V, VO, VR>, kind: 'inner' | 'left' | 'outer', named: Named | Materialized<K, VR> | undefined, materialized: Materialized<K, VR> | undefined): KTable<K, VR> {
    if (!(other instanceof KTable)) throw new TypeError('a KTable joins another KTable');
    const m = named instanceof Materialized ? named : materialized;
    return tableTableJoin(this, other, joiner, kind, named instanceof Named ? named : undefined, m);
  }

  /** A stateless table-to-table step: both sides of each change go through `fn`; no-op changes are dropped. */
  private changes<V2>(prefix: string, named: Named | undefined, valueSerde: Serde<V2> | null, fn: (key: K, value: V | null) => V2 | null): KTable<K, V2> {
    const name = named?.name ?? this.builder.newName(prefix);
    this.builder.topology.addProcessor(
      name,
      stateless<K, Change<V>>((r, emit) => {
        const newValue = fn(r.key, r.value.newValue);
        const oldValue = fn(r.key, r.value.oldValue);
        if (newValue === null && oldValue === null) return;
        emit({ ...r, value: { newValue, oldValue } });
      }),
      this.nodeName,
    );
    const result = new KTable<K, V2>(this.builder, name, this.keySerde, valueSerde, null);
    deriveValueGetter(result, this, fn);
    return result;
  }
}

export class TimeWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly stream: KStream<K, V>,
    private readonly keySerde: Serde<K> | null,
    private readonly valueSerde: Serde<V> | null,
    private readonly repartitionName: string | null,
    private readonly repartitionRequired: boolean,
    private readonly windows: TimeWindows,
  ) {}

  count(materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    return this.doAggregate<number>(() => 0, (_k, _v, agg) => agg + 1, countMaterialized(materialized));
  }

  reduce(reducer: (aggregate: V, value: V) => V, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    return this.doAggregate<V>(() => null as unknown as V, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), materialized ?? Materialized.with(null, this.valueSerde), 'KSTREAM-REDUCE-');
  }

  aggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized?: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    return this.doAggregate<VA>(initializer, aggregator, materialized);
  }

  private doAggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized: Materialized<K, VA> | undefined, prefix = 'KSTREAM-AGGREGATE-'): KTable<Windowed<K>, VA> {
    const b = this.stream.builder;
    const storeName = materialized?.storeName ?? b.newName(`${prefix}STATE-STORE-`);
    const name = b.newName(prefix); // before the repartition nodes' indexes, as in Kafka
    let parent = this.stream.nodeName;
    if (this.repartitionRequired) parent = repartitionThrough(b, parent, this.repartitionName ?? storeName, this.keySerde, this.valueSerde, null, null, true);
    b.topology.addProcessor(name, windowAggregateSupplier(storeName, this.windows, initializer, aggregator), parent);
    const keySerde = materialized?.keySerde ?? this.keySerde;
    const { sizeMs, graceMs } = this.windows;
    // Kafka's default retention is the windows' size plus grace; withRetention may only lengthen it.
    const retention = materialized?.retentionMs ?? sizeMs + graceMs;
    if (sizeMs + graceMs > retention) throw new Error(`The retention period of the window store ${storeName} must be no smaller than its window size plus the grace period. Got size=[${sizeMs}], grace=[${graceMs}], retention=[${retention}]`);
    checkWindowSupplier(materialized, 'window', storeName, sizeMs);
    const store = windowedStoreBuilder(storeName, 'time', retention, sizeMs, materialized?.persistent, keySerde, materialized?.valueSerde ?? null);
    store.windowSizeMs = sizeMs;
    if (materialized && !materialized.loggingEnabled) store.withLoggingDisabled();
    else store.withLoggingEnabled({ ...store.logConfig, ...(materialized?.logConfig ?? {}) });
    b.topology.addStateStore(store, name);
    const windowedSerde = keySerde ? timeWindowedSerde(keySerde, this.windows.sizeMs) : null;
    return new KTable<Windowed<K>, VA>(b, name, windowedSerde, materialized?.valueSerde ?? null, storeName, this.windows);
  }
}

/** Kafka's Suppressed, for the one mode kts has: final results when a window closes. */
export const Suppressed = {
  untilWindowCloses: (_bufferConfig?: unknown): { kind: 'untilWindowCloses' } => ({ kind: 'untilWindowCloses' }),
  BufferConfig: { unbounded: (): { unbounded: true } => ({ unbounded: true }) },
};
