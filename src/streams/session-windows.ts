// Session windows (Kafka's SessionWindows): a key's records closer together than the inactivity gap
// form one session [first, last], both ends inclusive. A record that falls within the gap of one or
// more sessions merges them: the merged sessions are removed (and forwarded as tombstones, their
// window end as timestamp) and the new session forwarded with the merged aggregate. As in Kafka
// Streams 4.4 a record is dropped as late when its merged session ends before
// stream time - grace - gap; updates carry the session's end as their timestamp.
import { KTable, repartitionThrough, type KStream } from './dsl.js';
import { countMaterialized, Materialized } from './options.js';
import { Stores, type ProcessorContext, type ProcessorSupplier, type StreamRecord } from './processor.js';
import type { Serde } from './serdes.js';
import type { IndexedWindowStore } from './window-store.js';
import { checkWindowSupplier, windowedStoreBuilder } from './persistent-window-store.js';
import { sessionWindowedSerde, type Window, type Windowed } from './windows.js';

export class SessionWindows {
  private constructor(
    readonly inactivityGapMs: number,
    readonly graceMs: number,
  ) {
    if (!(inactivityGapMs > 0)) throw new Error('Gap time cannot be zero or negative.');
    if (!(graceMs >= 0)) throw new Error('Grace period must not be negative.');
  }
  static ofInactivityGapWithNoGrace(inactivityGapMs: number): SessionWindows {
    return new SessionWindows(inactivityGapMs, 0);
  }
  static ofInactivityGapAndGrace(inactivityGapMs: number, graceMs: number): SessionWindows {
    return new SessionWindows(inactivityGapMs, graceMs);
  }
}

export type SessionMerger<K, VA> = (key: K, aggregate1: VA, aggregate2: VA) => VA;

export class SessionWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly stream: KStream<K, V>,
    private readonly keySerde: Serde<K> | null,
    private readonly valueSerde: Serde<V> | null,
    private readonly repartitionName: string | null,
    private readonly repartitionRequired: boolean,
    private readonly windows: SessionWindows,
  ) {}

  count(materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    const m = countMaterialized(materialized);
    return this.doAggregate<number>(() => 0, (_k, _v, agg) => agg + 1, (_k, a, b) => a + b, m, 'KSTREAM-AGGREGATE-');
  }

  reduce(reducer: (aggregate: V, value: V) => V, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    // Kafka merges reduced sessions with the reducer itself: the later session's value reduced into the earlier's.
    const aggregator = (_k: K, v: V, agg: V) => (agg === null ? v : reducer(agg, v));
    return this.doAggregate<V>(() => null as unknown as V, aggregator, (k, a, b) => aggregator(k, b, a), materialized ?? Materialized.with(null, this.valueSerde), 'KSTREAM-REDUCE-');
  }

  aggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, sessionMerger: SessionMerger<K, VA>, materialized?: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    return this.doAggregate<VA>(initializer, aggregator, sessionMerger, materialized, 'KSTREAM-AGGREGATE-');
  }

  private doAggregate<VA>(
    initializer: () => VA,
    aggregator: (key: K, value: V, aggregate: VA) => VA,
    merger: SessionMerger<K, VA>,
    materialized: Materialized<K, VA> | undefined,
    prefix: string,
  ): KTable<Windowed<K>, VA> {
    const b = this.stream.builder;
    const storeName = materialized?.storeName ?? b.newName(`${prefix}STATE-STORE-`);
    const name = b.newName(prefix); // before the repartition nodes' indexes, as in Kafka
    let parent = this.stream.nodeName;
    if (this.repartitionRequired) parent = repartitionThrough(b, parent, this.repartitionName ?? storeName, this.keySerde, this.valueSerde, null, null, true);
    b.topology.addProcessor(name, sessionAggregateSupplier(storeName, this.windows, initializer, aggregator, merger), parent);
    const keySerde = materialized?.keySerde ?? this.keySerde;
    // Kafka's default retention for sessions: the gap plus grace; withRetention (or a supplier's) may only lengthen it.
    const retention = materialized?.retentionMs ?? this.windows.inactivityGapMs + this.windows.graceMs;
    if (this.windows.inactivityGapMs + this.windows.graceMs > retention) throw new Error(`The retention period of the session store ${storeName} must be no smaller than the session inactivity gap plus the grace period. Got gap=[${this.windows.inactivityGapMs}], grace=[${this.windows.graceMs}], retention=[${retention}]`);
    checkWindowSupplier(materialized, 'session', storeName, null);
    const store = windowedStoreBuilder(storeName, 'session', retention, 0, materialized?.persistent, keySerde, materialized?.valueSerde ?? null);
    if (materialized && !materialized.loggingEnabled) store.withLoggingDisabled();
    else store.withLoggingEnabled({ ...store.logConfig, ...(materialized?.logConfig ?? {}) });
    b.topology.addStateStore(store, name);
    return new KTable<Windowed<K>, VA>(b, name, keySerde ? sessionWindowedSerde(keySerde) : null, materialized?.valueSerde ?? null, storeName);
  }
}

function sameWindow(a: Window, b: Window): boolean {
  return a.start === b.start && a.end === b.end;
}

export function sessionAggregateSupplier<K, V, VA>(
  storeName: string,
  windows: SessionWindows,
  initializer: () => VA,
  aggregator: (key: K, value: V, aggregate: VA) => VA,
  merger: SessionMerger<K, VA>,
): ProcessorSupplier {
  return () => {
    let ctx!: ProcessorContext<Windowed<K>, { newValue: VA | null; oldValue: VA | null }>;
    let store!: IndexedWindowStore<K, VA>;
    let streamTime = -1;
    return {
      init(c) {
        ctx = c;
        store = c.getStateStore(storeName);
      },
      process(r: StreamRecord<K, V>) {
        if (r.key === null || r.key === undefined) return;
        const ts = r.timestamp;
        streamTime = Math.max(streamTime, ts);
        const closeTime = streamTime - windows.graceMs - windows.inactivityGapMs;
        const fresh = { start: ts, end: ts };
        let merged = fresh;
        let agg = initializer();
        const overlapping = store.windowsOf(r.key).filter((s) => s.key.window.end >= ts - windows.inactivityGapMs && s.key.window.start <= ts + windows.inactivityGapMs);
        for (const s of overlapping) {
          agg = merger(r.key, agg, s.value);
          merged = { start: Math.min(merged.start, s.key.window.start), end: Math.max(merged.end, s.key.window.end) };
        }
        if (merged.end < closeTime) return; // late: the session has closed
        if (!sameWindow(merged, fresh)) {
          for (const s of overlapping) {
            store.delete(s.key);
            ctx.forward({ ...r, key: s.key, value: { newValue: null, oldValue: null }, timestamp: s.key.window.end });
          }
        }
        agg = aggregator(r.key, r.value, agg);
        const key = { key: r.key, window: merged };
        store.put(key, agg);
        ctx.forward({ ...r, key, value: { newValue: agg, oldValue: null }, timestamp: merged.end });
      },
    };
  };
}
