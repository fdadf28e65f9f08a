// Joins, with Kafka Streams' semantics and node names:
// - KStream-KTable join/leftJoin: each stream record looks its key up in the table (the table side
//   only updates the store: a table update emits nothing); leftJoin passes null when the key is absent.
// - KTable-KTable join/leftJoin/outerJoin: an update on either side looks up the other side and
//   emits the joined change; the result's timestamp is the later of the two sides'.
// - KStream-KStream join/leftJoin/outerJoin over JoinWindows: each side keeps its records in a window
//   store; a record joins the other side's records within [ts - before, ts + after]. Left and outer
//   joins hold a record that found no partner until its window has closed (stream time past
//   ts + after + grace) and only then emit it with null (KIP-633), unless a partner arrived meanwhile.
// Both inputs must be co-partitioned: a join after a key change goes through a repartition topic
// first (`<node>-repartition`), and the runtime refuses source topics whose partition counts differ.
import { KStream, KTable, type Change, type StreamsBuilder } from './dsl.js';
import { JoinWindowStore, decodeOuterValues, encodeOuterValues, outerStoreKey, parseOuterStoreKey } from './join-stores.js';
import type { Materialized, Named } from './options.js';
import { Stores, type KeyValueStore, type ProcessorContext, type ProcessorSupplier, type StreamRecord } from './processor.js';
import { Serdes, type Serde } from './serdes.js';
import type { Topology } from './topology.js';

/** Kafka's ValueJoiner (value1, value2) or ValueJoinerWithKey (readOnlyKey, value1, value2), told apart by arity. */
export type ValueJoiner<V1, V2, VR> = (value1: V1, value2: V2) => VR;
export type ValueJoinerWithKey<K, V1, V2, VR> = (readOnlyKey: K, value1: V1, value2: V2) => VR;
export type AnyJoiner<K, V1, V2, VR> = ValueJoiner<V1, V2, VR> | ValueJoinerWithKey<K, V1, V2, VR>;

/** A joiner as (key, value1, value2): a function of three parameters gets the key first, as Kafka's ValueJoinerWithKey. */
export function joinerWithKey<K, V1, V2, VR>(joiner: AnyJoiner<K, V1, V2, VR>): ValueJoinerWithKey<K, V1, V2, VR> {
  if (typeof joiner !== 'function') throw new TypeError("joiner can't be null");
  if (joiner.length >= 3) return joiner as ValueJoinerWithKey<K, V1, V2, VR>;
  const fn = joiner as ValueJoiner<V1, V2, VR>;
  return (_k, a, b) => fn(a, b);
}

/** Kafka's JoinWindows: a stream-stream join matches records at most `before` earlier and `after` later. */
export class JoinWindows {
  private constructor(
    readonly beforeMs: number,
    readonly afterMs: number,
    readonly graceMs: number,
  ) {
    if (beforeMs + afterMs < 0) throw new Error('Window interval (ie, beforeMs+afterMs) must not be negative.');
    if (graceMs < 0) throw new Error('Grace period must not be negative.');
  }
  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, afterWindowEndMs: number): JoinWindows {
    checkMs(timeDifferenceMs, 'timeDifference');
    checkMs(afterWindowEndMs, 'afterWindowEnd');
    return new JoinWindows(timeDifferenceMs, timeDifferenceMs, afterWindowEndMs);
  }
  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0);
  }
  before(timeDifferenceMs: number): JoinWindows {
    checkMs(timeDifferenceMs, 'timeDifference');
    return new JoinWindows(timeDifferenceMs, this.afterMs, this.graceMs);
  }
  after(timeDifferenceMs: number): JoinWindows {
    checkMs(timeDifferenceMs, 'timeDifference');
    return new JoinWindows(this.beforeMs, timeDifferenceMs, this.graceMs);
  }
  size(): number {
    return this.beforeMs + this.afterMs;
  }
  gracePeriodMs(): number {
    return this.graceMs;
  }
}

function checkMs(ms: number, what: string): void {
  if (!Number.isSafeInteger(ms)) throw new Error(`Invalid value for parameter "${what}": ${ms} is not a whole number of milliseconds`);
}

/** Kafka's Joined: serdes and a name for a stream-table join (the name also names its repartition topic). */
export class Joined<K = any, V = any, VO = any> {
  private constructor(
    readonly keySerde: Serde<K> | null,
    readonly valueSerde: Serde<V> | null,
    readonly otherValueSerde: Serde<VO> | null,
    readonly name: string | null,
  ) {}
  static with<K, V, VO>(keySerde: Serde<K> | null, valueSerde: Serde<V> | null, otherValueSerde: Serde<VO> | null = null, name: string | null = null): Joined<K, V, VO> {
    return new Joined(keySerde, valueSerde, otherValueSerde, name);
  }
  static as(name: string): Joined {
    return new Joined(null, null, null, name);
  }
  withName(name: string): Joined<K, V, VO> {
    return new Joined(this.keySerde, this.valueSerde, this.otherValueSerde, name);
  }
}

/** Kafka's StreamJoined: serdes, a name and a store name for a stream-stream join. */
export class StreamJoined<K = any, V = any, VO = any> {
  private constructor(
    readonly keySerde: Serde<K> | null,
    readonly valueSerde: Serde<V> | null,
    readonly otherValueSerde: Serde<VO> | null,
    readonly name: string | null,
    readonly storeName: string | null,
    readonly loggingEnabled: boolean,
  ) {}
  static with<K, V, VO>(keySerde: Serde<K> | null, valueSerde: Serde<V> | null, otherValueSerde: Serde<VO> | null): StreamJoined<K, V, VO> {
    return new StreamJoined(keySerde, valueSerde, otherValueSerde, null, null, true);
  }
  static as(storeName: string): StreamJoined {
    return new StreamJoined(null, null, null, null, storeName, true);
  }
  withName(name: string): StreamJoined<K, V, VO> {
    return new StreamJoined(this.keySerde, this.valueSerde, this.otherValueSerde, name, this.storeName, this.loggingEnabled);
  }
  withStoreName(storeName: string): StreamJoined<K, V, VO> {
    return new StreamJoined(this.keySerde, this.valueSerde, this.otherValueSerde, this.name, storeName, this.loggingEnabled);
  }
  withLoggingDisabled(): StreamJoined<K, V, VO> {
    return new StreamJoined(this.keySerde, this.valueSerde, this.otherValueSerde, this.name, this.storeName, false);
  }
}

// ---------------------------------------------------------------------------------------------
// Table value getters: how a join reads the current value of a table for a key.

export interface ValueAndTimestamp<V> {
  value: V;
  timestamp: number;
}

/** Reads a table's current value for a key (Kafka's KTableValueGetterSupplier): the stores it needs, and a reader per processor. */
export interface ValueGetter<K, V> {
  storeNames: string[];
  init(ctx: ProcessorContext<any, any>): (key: K) => ValueAndTimestamp<V> | null;
}

const derivedGetters = new WeakMap<object, ValueGetter<any, any>>();

export function storeGetter<K, V>(storeName: string): ValueGetter<K, V> {
  return {
    storeNames: [storeName],
    init(ctx) {
      const store = ctx.getStateStore<KeyValueStore<K, V> & { getWithTimestamp?(k: K): ValueAndTimestamp<V> | null }>(storeName);
      return (key) => (store.getWithTimestamp ? store.getWithTimestamp(key) : wrapPlain(store.get(key)));
    },
  };
}

function wrapPlain<V>(value: V | null): ValueAndTimestamp<V> | null {
  return value === null || value === undefined ? null : { value, timestamp: -1 };
}

/** @internal A table made from another by a per-value function (filter, mapValues): read through the parent. */
export function deriveValueGetter<K, V, V2>(table: KTable<K, V2>, parent: KTable<K, V>, fn: (key: K, value: V | null) => V2 | null): void {
  const getter = valueGetterOf(parent, false);
  if (!getter) return;
  derivedGetters.set(table, {
    storeNames: getter.storeNames,
    init(ctx) {
      const get = getter.init(ctx);
      return (key) => {
        const v = get(key);
        if (!v) return null;
        const mapped = fn(key, v.value);
        return mapped === null || mapped === undefined ? null : { value: mapped, timestamp: v.timestamp };
      };
    },
  });
}

export function valueGetterOf<K, V>(table: KTable<K, V>, required = true): ValueGetter<K, V> | null {
  const derived = derivedGetters.get(table);
  if (derived) return derived;
  if (table.queryableStoreName && !table.windows) return storeGetter(table.queryableStoreName);
  if (required) throw new Error(`Table ${table.nodeName} cannot be joined: it is neither materialized nor derived from a materialized table`);
  return null;
}

// ---------------------------------------------------------------------------------------------
// Co-partitioning and repartitioning.

/** The source topics (as the topology names them) that feed a node within its sub-topology. */
export function sourceTopicsOf(topology: Topology, nodeName: string): string[] {
  const out = new Set<string>();
  const seen = new Set<string>();
  const walk = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const node = topology.nodes.get(name);
    if (!node) return;
    if (node.kind === 'source') for (const t of node.topics) out.add(t);
    else if (node.kind === 'processor') for (const p of node.parents) walk(p);
  };
  walk(nodeName);
  return [...out];
}

function ensureCopartitioned(builder: StreamsBuilder, ...nodes: string[]): void {
  const topics = [...new Set(nodes.flatMap((n) => sourceTopicsOf(builder.topology, n)))];
  builder.topology.copartitionGroups.push(topics);
}

/**
 * Kafka's repartitionForJoin: sink -> `<name>-repartition` -> source. With a generated name the sink,
 * filter and source take generated names too (the index is used either way, as in Kafka).
 */
function repartitionForJoin<K, V>(stream: KStream<K, V>, name: string, keySerde: Serde<K> | null, valueSerde: Serde<V> | null): KStream<K, V> {
  const b = stream.builder;
  const topic = name.endsWith('-repartition') ? name : `${name}-repartition`;
  const genSink = b.newName('KSTREAM-SINK-');
  const genFilter = b.newName('KSTREAM-FILTER-');
  const genSource = b.newName('KSTREAM-SOURCE-');
  const generated = /^KSTREAM.*-[0-9]{10}$/.test(name);
  const sinkName = generated ? genSink : `${topic}-sink`;
  const filterName = generated ? genFilter : `${topic}-filter`;
  const sourceName = generated ? genSource : `${topic}-source`;
  const k = keySerde ?? stream.keySerde;
  const v = valueSerde ?? stream.valueSerde;
  b.topology.addProcessor(filterName, passThrough(), stream.nodeName);
  b.topology.addSink({ name: sinkName, keySerde: k, valueSerde: v }, topic, filterName);
  b.topology.addInternalTopic(topic);
  b.topology.addSource({ name: sourceName, keySerde: k, valueSerde: v }, topic);
  return new KStream<K, V>(b, sourceName, k, v, false);
}

function passThrough(): ProcessorSupplier {
  return () => {
    let ctx!: ProcessorContext<any, any>;
    return { init: (c) => (ctx = c), process: (r) => ctx.forward(r) };
  };
}

// ---------------------------------------------------------------------------------------------
// KStream-KTable

export function streamTableJoin<K, V, VO, VR>(
  stream: KStream<K, V>,
  table: KTable<K, VO>,
  joiner: AnyJoiner<K, V, VO, VR>,
  joined: Joined<K, V, VO> | undefined,
  leftJoin: boolean,
): KStream<K, VR> {
  const fn = joinerWithKey(joiner);
  let self = stream;
  if (stream.repartitionRequired) self = repartitionForJoin(stream, joined?.name ?? stream.nodeName, joined?.keySerde ?? null, joined?.valueSerde ?? null);
  const b = self.builder;
  const getter = valueGetterOf(table)!;
  ensureCopartitioned(b, self.nodeName, table.nodeName);
  const name = joined?.name ?? b.newName(leftJoin ? 'KSTREAM-LEFTJOIN-' : 'KSTREAM-JOIN-');
  b.topology.addProcessor(
    name,
    () => {
      let ctx!: ProcessorContext<K, VR>;
      let get!: (key: K) => ValueAndTimestamp<VO> | null;
      return {
        init(c) {
          ctx = c;
          get = getter.init(c);
        },
        process(r: StreamRecord<K, V>) {
          const nullKey = r.key === null || r.key === undefined;
          const nullValue = r.value === null || r.value === undefined;
          // Dropped: a null value, or a null key (except in a left join, KIP-962).
          if (nullValue || (nullKey && !leftJoin)) return;
          const other = nullKey ? null : get(r.key);
          if (leftJoin || other !== null) ctx.forward({ ...r, value: fn(r.key, r.value, (other?.value ?? null) as VO) });
        },
      };
    },
    self.nodeName,
  );
  b.topology.connectProcessorAndStateStores(name, ...getter.storeNames);
  return new KStream<K, VR>(b, name, joined?.keySerde ?? self.keySerde, null, false);
}

// ---------------------------------------------------------------------------------------------
// KTable-KTable

type TableJoinKind = 'inner' | 'left' | 'outer';

export function tableTableJoin<K, V, VO, VR>(
  left: KTable<K, V>,
  right: KTable<K, VO>,
  joiner: AnyJoiner<K, V, VO, VR>,
  kind: TableJoinKind,
  named: Named | undefined,
  materialized: Materialized<K, VR> | undefined,
): KTable<K, VR> {
  const fn = joinerWithKey(joiner);
  const b = left.builder;
  const base = named?.name ?? null;
  const mergeName = base ?? b.newName('KTABLE-MERGE-');
  ensureCopartitioned(b, left.nodeName, right.nodeName);
  const leftGetter = valueGetterOf(left)!;
  const rightGetter = valueGetterOf(right)!;
  const thisName = base ? `${base}-join-this` : b.newName('KTABLE-JOINTHIS-');
  const otherName = base ? `${base}-join-other` : b.newName('KTABLE-JOINOTHER-');
  // Each side: its change, the other side's current value. The right side uses the reversed joiner.
  const leftSide = tableSide<K, V, VO, VR>(rightGetter, kind === 'inner' ? 'inner' : kind === 'left' ? 'left' : 'outer', (k, a, o) => fn(k, a as V, o as VO));
  const rightSide = tableSide<K, VO, V, VR>(leftGetter, kind === 'inner' ? 'inner' : kind === 'left' ? 'right' : 'outer', (k, a, o) => fn(k, o as V, a as VO));
  b.topology.addProcessor(thisName, leftSide, left.nodeName);
  b.topology.connectProcessorAndStateStores(thisName, ...rightGetter.storeNames);
  b.topology.addProcessor(otherName, rightSide, right.nodeName);
  b.topology.connectProcessorAndStateStores(otherName, ...leftGetter.storeNames);
  const storeName = materialized?.storeName ?? (materialized ? b.newName('KTABLE-MERGE-STATE-STORE-') : null);
  b.topology.addProcessor(
    mergeName,
    () => {
      let ctx!: ProcessorContext<K, Change<VR>>;
      let store: KeyValueStore<K, VR> | null = null;
      return {
        init(c) {
          ctx = c;
          if (storeName) store = c.getStateStore(storeName);
        },
        process(r: StreamRecord<K, Change<VR>>) {
          if (store) {
            const oldValue = store.get(r.key);
            store.put(r.key, r.value.newValue);
            ctx.forward({ ...r, value: { newValue: r.value.newValue, oldValue } });
          } else ctx.forward(r);
        },
      };
    },
    thisName,
    otherName,
  );
  if (storeName) b.addStore(storeName, materialized?.keySerde ?? left.keySerde, materialized?.valueSerde ?? null, materialized, mergeName);
  const result = new KTable<K, VR>(b, mergeName, materialized?.keySerde ?? left.keySerde, materialized?.valueSerde ?? null, storeName);
  if (!storeName) {
    derivedGetters.set(result, {
      storeNames: [...leftGetter.storeNames, ...rightGetter.storeNames],
      init(ctx) {
        const getLeft = leftGetter.init(ctx);
        const getRight = rightGetter.init(ctx);
        return (key) => {
          const l = getLeft(key);
          const r = getRight(key);
          if (kind === 'inner' ? !l || !r : kind === 'left' ? !l : !l && !r) return null;
          return { value: fn(key, (l?.value ?? null) as V, (r?.value ?? null) as VO), timestamp: Math.max(l?.timestamp ?? -1, r?.timestamp ?? -1) };
        };
      },
    });
  }
  return result;
}

/** One side of a table-table join (Kafka's KTableKTableInnerJoin, LeftJoin, RightJoin, OuterJoin processors). */
function tableSide<K, VT, VOther, VR>(
  other: ValueGetter<K, VOther>,
  kind: 'inner' | 'left' | 'right' | 'outer',
  join: (key: K, thisValue: VT | null, otherValue: VOther | null) => VR,
): ProcessorSupplier {
  return () => {
    let ctx!: ProcessorContext<K, Change<VR>>;
    let get!: (key: K) => ValueAndTimestamp<VOther> | null;
    return {
      init(c) {
        ctx = c;
        get = other.init(c);
      },
      process(r: StreamRecord<K, Change<VT>>) {
        if (r.key === null || r.key === undefined) return;
        const change = r.value;
        const o = get(r.key);
        const otherValue = o?.value ?? null;
        let newValue: VR | null = null;
        let oldValue: VR | null = null;
        let timestamp = r.timestamp;
        if (kind === 'inner' || kind === 'right') {
          if (otherValue === null) return;
          timestamp = Math.max(r.timestamp, o!.timestamp);
          if (kind === 'right') {
            newValue = join(r.key, change.newValue, otherValue);
            oldValue = join(r.key, change.oldValue, otherValue);
          } else {
            if (change.newValue !== null) newValue = join(r.key, change.newValue, otherValue);
            if (change.oldValue !== null) oldValue = join(r.key, change.oldValue, otherValue);
          }
        } else {
          if (otherValue === null && change.newValue === null && change.oldValue === null) return;
          timestamp = otherValue === null ? r.timestamp : Math.max(r.timestamp, o!.timestamp);
          if (kind === 'left') {
            if (change.newValue !== null) newValue = join(r.key, change.newValue, otherValue);
            if (change.oldValue !== null) oldValue = join(r.key, change.oldValue, otherValue);
          } else {
            if (otherValue !== null || change.newValue !== null) newValue = join(r.key, change.newValue, otherValue);
            if (otherValue !== null || change.oldValue !== null) oldValue = join(r.key, change.oldValue, otherValue);
          }
        }
        ctx.forward({ ...r, timestamp, value: { newValue, oldValue } });
      },
    };
  };
}

// ---------------------------------------------------------------------------------------------
// KStream-KStream

interface TimeTracker {
  streamTime: number;
  minTime: number;
}

export function streamStreamJoin<K, V, VO, VR>(
  left: KStream<K, V>,
  right: KStream<K, VO>,
  joiner: AnyJoiner<K, V, VO, VR>,
  windows: JoinWindows,
  streamJoined: StreamJoined<K, V, VO> | undefined,
  leftOuter: boolean,
  rightOuter: boolean,
): KStream<K, VR> {
  if (!(windows instanceof JoinWindows)) throw new TypeError("windows can't be null");
  const fn = joinerWithKey(joiner);
  const sj = streamJoined;
  const base = sj?.name ?? null;
  let self = left;
  let other = right;
  if (self.repartitionRequired) self = repartitionForJoin(self, base ? `${base}-left` : self.nodeName, sj?.keySerde ?? null, sj?.valueSerde ?? null);
  if (other.repartitionRequired) other = repartitionForJoin(other, base ? `${base}-right` : other.nodeName, sj?.keySerde ?? null, sj?.otherValueSerde ?? null);
  const b = self.builder;
  ensureCopartitioned(b, self.nodeName, other.nodeName);

  const thisSuffix = rightOuter ? '-outer-this-join' : '-this-join';
  const otherSuffix = leftOuter ? '-outer-other-join' : '-other-join';
  const thisWindowedName = base ? `${base}-this-windowed` : b.newName('KSTREAM-WINDOWED-');
  const otherWindowedName = base ? `${base}-other-windowed` : b.newName('KSTREAM-WINDOWED-');
  const joinThisGenerated = b.newName(rightOuter ? 'KSTREAM-OUTERTHIS-' : 'KSTREAM-JOINTHIS-');
  const joinOtherGenerated = b.newName(leftOuter ? 'KSTREAM-OUTEROTHER-' : 'KSTREAM-JOINOTHER-');
  const joinThisName = base ? `${base}${thisSuffix}` : joinThisGenerated;
  const joinOtherName = base ? `${base}${otherSuffix}` : joinOtherGenerated;
  const mergeName = base ? `${base}-merge` : b.newName('KSTREAM-MERGE-');
  const thisStore = `${sj?.storeName ? sj.storeName + thisSuffix : joinThisGenerated}-store`;
  const otherStore = `${sj?.storeName ? sj.storeName + otherSuffix : joinOtherGenerated}-store`;
  let outerStore: string | null = null;
  if (leftOuter) {
    const suffix = rightOuter ? '-outer-shared-join' : '-left-shared-join';
    outerStore = `${sj?.storeName ? sj.storeName + suffix : 'KSTREAM-OUTERSHARED-' + joinThisGenerated.slice((rightOuter ? 'KSTREAM-OUTERTHIS-' : 'KSTREAM-JOINTHIS-').length)}-store`;
  }

  const keySerde = sj?.keySerde ?? self.keySerde;
  const thisValueSerde = sj?.valueSerde ?? self.valueSerde;
  const otherValueSerde = sj?.otherValueSerde ?? other.valueSerde;
  const retention = windows.size() + windows.graceMs;
  const logConfig = { 'cleanup.policy': 'compact,delete', 'retention.ms': String(retention + 86_400_000) };
  const windowStore = (name: string) => {
    const s = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), Serdes.ByteArray(), Serdes.ByteArray());
    return sj && !sj.loggingEnabled ? s.withLoggingDisabled() : s.withLoggingEnabled(logConfig);
  };

  b.topology.addProcessor(thisWindowedName, windowedSupplier(thisStore, retention, keySerde, thisValueSerde), self.nodeName);
  b.topology.addStateStore(windowStore(thisStore), thisWindowedName);
  b.topology.addProcessor(otherWindowedName, windowedSupplier(otherStore, retention, keySerde, otherValueSerde), other.nodeName);
  b.topology.addStateStore(windowStore(otherStore), otherWindowedName);

  const trackers = new Map<string, TimeTracker>();
  const common = { windows, retention, keySerde, outerStore, trackers, thisValueSerde, otherValueSerde };
  b.topology.addProcessor(
    joinThisName,
    streamJoinSide<K, V, VO, VR>({ ...common, leftSide: true, outer: leftOuter, otherStore, joinBeforeMs: windows.beforeMs, joinAfterMs: windows.afterMs, join: (k, a, o) => fn(k, a as V, o as VO) }),
    thisWindowedName,
  );
  b.topology.connectProcessorAndStateStores(joinThisName, otherStore);
  b.topology.addProcessor(
    joinOtherName,
    streamJoinSide<K, VO, V, VR>({ ...common, leftSide: false, outer: rightOuter, otherStore: thisStore, joinBeforeMs: windows.afterMs, joinAfterMs: windows.beforeMs, join: (k, a, o) => fn(k, o as V, a as VO) }),
    otherWindowedName,
  );
  b.topology.connectProcessorAndStateStores(joinOtherName, thisStore);
  if (outerStore) {
    const s = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(outerStore), Serdes.ByteArray(), Serdes.ByteArray());
    b.topology.addStateStore(sj && !sj.loggingEnabled ? s.withLoggingDisabled() : s, joinThisName, joinOtherName);
  }
  b.topology.addProcessor(mergeName, passThrough(), joinThisName, joinOtherName);
  return new KStream<K, VR>(b, mergeName, keySerde, null, false);
}

/** Kafka's KStreamJoinWindow: passes the record on to the join, then keeps it in this side's window store. */
function windowedSupplier(storeName: string, retention: number, keySerde: Serde<any> | null, valueSerde: Serde<any> | null): ProcessorSupplier {
  return () => {
    let ctx!: ProcessorContext<any, any>;
    let window: JoinWindowStore | null = null;
    let rawStore!: KeyValueStore<Buffer, Buffer>;
    let values!: Serde<any>;
    let keys!: Serde<any>;
    return {
      init(c) {
        ctx = c;
        rawStore = c.getStateStore(storeName);
        keys = keySerde ?? c.keySerde();
        values = valueSerde ?? c.valueSerde();
      },
      process(r) {
        ctx.forward(r);
        if (r.key === null || r.key === undefined) return;
        window ??= JoinWindowStore.over(rawStore, retention);
        const v = values.serialize(storeName, r.value);
        if (v !== null) window.put(keys.serialize(storeName, r.key)!, v, r.timestamp);
      },
    };
  };
}

interface SideConfig<K, VT, VOther, VR> {
  leftSide: boolean;
  outer: boolean;
  windows: JoinWindows;
  retention: number;
  joinBeforeMs: number;
  joinAfterMs: number;
  keySerde: Serde<K> | null;
  thisValueSerde: Serde<any> | null;
  otherValueSerde: Serde<any> | null;
  otherStore: string;
  outerStore: string | null;
  trackers: Map<string, TimeTracker>;
  join: (key: K, thisValue: VT | null, otherValue: VOther | null) => VR;
}

/** One side of a stream-stream join (Kafka's KStreamKStreamJoinLeftSide / RightSide). */
function streamJoinSide<K, VT, VOther, VR>(cfg: SideConfig<K, VT, VOther, VR>): ProcessorSupplier {
  const { windows } = cfg;
  // Serdes of the values as each side's window store holds them, by the side they belong to.
  const leftSerde = () => (cfg.leftSide ? cfg.thisValueSerde : cfg.otherValueSerde);
  const rightSerde = () => (cfg.leftSide ? cfg.otherValueSerde : cfg.thisValueSerde);
  return () => {
    let ctx!: ProcessorContext<K, VR>;
    let tracker!: TimeTracker;
    let otherRaw!: KeyValueStore<Buffer, Buffer>;
    let otherWindow: JoinWindowStore | null = null;
    let outer: KeyValueStore<Buffer, Buffer> | null = null;
    let keys!: Serde<K>;
    let thisValues!: Serde<any>;
    let otherValues!: Serde<any>;
    let leftValues!: Serde<any>;
    let rightValues!: Serde<any>;

    const emitNonJoined = (r: StreamRecord<K, VT>) => {
      // Only when something might have closed: the oldest held record's window, seen from this side.
      if (tracker.minTime + cfg.joinAfterMs + windows.graceMs >= tracker.streamTime) return;
      tracker.minTime = Number.MAX_SAFE_INTEGER;
      let leftOpen = false;
      let rightOpen = false;
      for (const { key: storeKey, value } of outer!.all()) {
        const k = parseOuterStoreKey(storeKey);
        tracker.minTime = k.timestamp;
        if (leftOpen && rightOpen) break;
        const lookBack = k.leftSide ? windows.afterMs : windows.beforeMs;
        if (tracker.minTime + lookBack + windows.graceMs >= tracker.streamTime) {
          if (k.leftSide) leftOpen = true;
          else rightOpen = true;
          continue;
        }
        const key = keys.deserialize(cfg.otherStore, k.key) as K;
        for (const v of decodeOuterValues(value)) {
          const thisSide = v.leftSide === cfg.leftSide;
          const decoded = (v.leftSide ? leftValues : rightValues).deserialize(cfg.otherStore, v.value);
          const joined = thisSide ? cfg.join(key, decoded, null) : cfg.join(key, null, decoded);
          ctx.forward({ ...r, key, value: joined, timestamp: k.timestamp });
        }
        outer!.put(storeKey, null);
      }
    };

    return {
      init(c) {
        ctx = c;
        const taskId = c.taskId;
        let t = cfg.trackers.get(taskId);
        if (!t) {
          t = { streamTime: -1, minTime: Number.MAX_SAFE_INTEGER };
          cfg.trackers.set(taskId, t);
        }
        tracker = t;
        otherRaw = c.getStateStore(cfg.otherStore);
        if (cfg.outerStore) outer = c.getStateStore(cfg.outerStore);
        keys = cfg.keySerde ?? c.keySerde();
        leftValues = leftSerde() ?? c.valueSerde();
        rightValues = rightSerde() ?? c.valueSerde();
        thisValues = cfg.leftSide ? leftValues : rightValues;
        otherValues = cfg.leftSide ? rightValues : leftValues;
      },
      process(r: StreamRecord<K, VT>) {
        const ts = r.timestamp;
        tracker.streamTime = Math.max(tracker.streamTime, ts);
        const nullKey = r.key === null || r.key === undefined;
        const nullValue = r.value === null || r.value === undefined;
        if (cfg.outer && nullKey && !nullValue) {
          ctx.forward({ ...r, value: cfg.join(r.key, r.value, null) });
          return;
        }
        if (nullKey || nullValue) return;
        if (ts === tracker.streamTime && outer) emitNonJoined(r);
        otherWindow ??= JoinWindowStore.over(otherRaw, cfg.retention);
        const timeFrom = Math.max(0, ts - cfg.joinBeforeMs);
        const timeTo = Math.max(0, ts + cfg.joinAfterMs);
        const keyBytes = keys.serialize(cfg.otherStore, r.key)!;
        const matches = otherWindow.fetch(keyBytes, timeFrom, timeTo);
        for (const m of matches) {
          // A partner found: the other side's record is no longer waiting to be emitted alone.
          if (outer) {
            const otherKey = outerStoreKey(m.timestamp, !cfg.leftSide, keyBytes);
            if (outer.get(otherKey) !== null) outer.put(otherKey, null);
          }
          const otherValue = otherValues.deserialize(cfg.otherStore, m.value);
          ctx.forward({ ...r, value: cfg.join(r.key, r.value, otherValue), timestamp: Math.max(ts, m.timestamp) });
        }
        if (!cfg.outer || matches.length > 0) return;
        if (!outer || timeTo < tracker.streamTime) {
          ctx.forward({ ...r, value: cfg.join(r.key, r.value, null) });
          return;
        }
        tracker.minTime = Math.min(tracker.minTime, ts);
        const storeKey = outerStoreKey(ts, cfg.leftSide, keyBytes);
        const held = outer.get(storeKey);
        const entry = { leftSide: cfg.leftSide, value: thisValues.serialize(cfg.otherStore, r.value)! };
        outer.put(storeKey, encodeOuterValues([...(held ? decodeOuterValues(held) : []), entry]));
      },
      close() {
        cfg.trackers.delete(ctx.taskId);
      },
    };
  };
}
