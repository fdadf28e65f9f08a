// Sliding windows (Kafka's SlidingWindows): windows of a fixed time difference, both ends inclusive,
// that exist only where records are. Each record has a left window [t - d, t] ending at it and,
// when a later record is within d of it, a right window [t + 1, t + 1 + d]; a record updates every
// existing window holding it and creates its own left and right windows (and the previous record's
// right window) as Kafka Streams 4.4's KStreamSlidingWindowAggregate does, in the same order, so
// the same input gives the same updates. Each window's value carries the largest record timestamp
// in it, which is also the update's timestamp. Records earlier than d are kept in [0, d].
import { KTable, repartitionThrough, type KStream } from './dsl.js';
import { countMaterialized, Materialized } from './options.js';
import { Stores, type ProcessorContext, type ProcessorSupplier, type StreamRecord } from './processor.js';
import type { Serde } from './serdes.js';
import type { IndexedWindowStore, ValueAndTimestamp, WindowEntry } from './window-store.js';
import { checkWindowSupplier, windowedStoreBuilder } from './persistent-window-store.js';
import { timeWindowedSerde, type Window, type Windowed } from './windows.js';

export class SlidingWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {
    if (!(timeDifferenceMs >= 0)) throw new Error('Window time difference must not be negative.');
    if (!(graceMs >= 0)) throw new Error('Window grace period must not be negative.');
  }
  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return new SlidingWindows(timeDifferenceMs, 0);
  }
  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    return new SlidingWindows(timeDifferenceMs, graceMs);
  }
}

export class SlidingWindowedKStream<K, V> {
  /** @internal */
  constructor(
    private readonly stream: KStream<K, V>,
    private readonly keySerde: Serde<K> | null,
    private readonly valueSerde: Serde<V> | null,
    private readonly repartitionName: string | null,
    private readonly repartitionRequired: boolean,
    private readonly windows: SlidingWindows,
  ) {}

  count(materialized?: Materialized<K, number>): KTable<Windowed<K>, number> {
    const m = countMaterialized(materialized);
    return this.doAggregate<number>(() => 0, (_k, _v, agg) => agg + 1, m, 'KSTREAM-AGGREGATE-');
  }

  reduce(reducer: (aggregate: V, value: V) => V, materialized?: Materialized<K, V>): KTable<Windowed<K>, V> {
    return this.doAggregate<V>(() => null as unknown as V, (_k, v, agg) => (agg === null ? v : reducer(agg, v)), materialized ?? Materialized.with(null, this.valueSerde), 'KSTREAM-REDUCE-');
  }

  aggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized?: Materialized<K, VA>): KTable<Windowed<K>, VA> {
    return this.doAggregate<VA>(initializer, aggregator, materialized, 'KSTREAM-AGGREGATE-');
  }

  private doAggregate<VA>(initializer: () => VA, aggregator: (key: K, value: V, aggregate: VA) => VA, materialized: Materialized<K, VA> | undefined, prefix: string): KTable<Windowed<K>, VA> {
    const b = this.stream.builder;
    const storeName = materialized?.storeName ?? b.newName(`${prefix}STATE-STORE-`);
    const name = b.newName(prefix); // before the repartition nodes' indexes, as in Kafka
    let parent = this.stream.nodeName;
    if (this.repartitionRequired) parent = repartitionThrough(b, parent, this.repartitionName ?? storeName, this.keySerde, this.valueSerde, null, null, true);
    b.topology.addProcessor(name, slidingAggregateSupplier(storeName, this.windows, initializer, aggregator), parent);
    const keySerde = materialized?.keySerde ?? this.keySerde;
    const d = this.windows.timeDifferenceMs;
    // Kafka's default retention for sliding windows: twice the time difference plus the grace.
    const retention = materialized?.retentionMs ?? 2 * d + this.windows.graceMs;
    if (2 * d + this.windows.graceMs > retention) throw new Error(`The retention period of the window store ${storeName} must be no smaller than its window size plus the grace period. Got size=[${d}], grace=[${this.windows.graceMs}], retention=[${retention}]`);
    checkWindowSupplier(materialized, 'window', storeName, d);
    const store = windowedStoreBuilder(storeName, 'time', retention, d, materialized?.persistent, keySerde, materialized?.valueSerde ?? null, true);
    if (materialized && !materialized.loggingEnabled) store.withLoggingDisabled();
    else store.withLoggingEnabled({ ...store.logConfig, ...(materialized?.logConfig ?? {}) });
    b.topology.addStateStore(store, name);
    return new KTable<Windowed<K>, VA>(b, name, keySerde ? timeWindowedSerde(keySerde, d) : null, materialized?.valueSerde ?? null, storeName);
  }
}

export function slidingAggregateSupplier<K, V, VA>(
  storeName: string,
  windows: SlidingWindows,
  initializer: () => VA,
  aggregator: (key: K, value: V, aggregate: VA) => VA,
): ProcessorSupplier {
  const d = windows.timeDifferenceMs;
  return () => {
    let ctx!: ProcessorContext<Windowed<K>, { newValue: VA; oldValue: VA | null }>;
    let store!: IndexedWindowStore<K, ValueAndTimestamp<VA>>;
    let streamTime = -1;

    /** Adds the record to a window (unless it has closed) and forwards the window's new value. */
    const update = (r: StreamRecord<K, V>, window: Window, current: ValueAndTimestamp<VA>, closeTime: number) => {
      if (window.end < closeTime) return; // Kafka drops (and counts) the record for this window only
      const newValue = aggregator(r.key, r.value, current.value);
      const timestamp = current.value === null ? r.timestamp : Math.max(r.timestamp, current.timestamp);
      const key = { key: r.key, window };
      store.put(key, { value: newValue, timestamp });
      ctx.forward({ ...r, key, value: { newValue, oldValue: null }, timestamp });
    };
    /** The record's right window takes the aggregate of the records after it (nothing new added). */
    const createRightWindow = (r: StreamRecord<K, V>, agg: ValueAndTimestamp<VA>) => {
      const key = { key: r.key, window: { start: r.timestamp + 1, end: r.timestamp + 1 + d } };
      store.put(key, agg);
      ctx.forward({ ...r, key, value: { newValue: agg.value, oldValue: null }, timestamp: agg.timestamp });
    };
    const fresh = (ts: number): ValueAndTimestamp<VA> => ({ value: initializer(), timestamp: ts });

    const processEarly = (r: StreamRecord<K, V>, closeTime: number) => {
      const ts = r.timestamp;
      let combined: WindowEntry<K, ValueAndTimestamp<VA>> | null = null;
      let rightAgg: ValueAndTimestamp<VA> | null = null;
      let rightExists = false;
      let previous: number | null = null;
      const starts = new Set<number>();
      for (const w of store.windowsOf(r.key).filter((w) => w.key.window.start <= ts + 1)) {
        const start = w.key.window.start;
        starts.add(start);
        if (start === 0) {
          combined = w;
          if (w.value.timestamp < ts) previous = w.value.timestamp;
        } else if (start <= ts) {
          rightAgg = w.value;
          update(r, w.key.window, w.value, closeTime);
        } else if (start === ts + 1) {
          rightExists = true;
        }
      }
      if (rightAgg === null && combined !== null && combined.value.timestamp > ts) rightAgg = combined.value;
      if (!rightExists && rightAgg !== null && rightAgg.timestamp > ts) createRightWindow(r, rightAgg);
      if (previous !== null && !starts.has(previous + 1)) update(r, { start: previous + 1, end: previous + 1 + d }, fresh(ts), closeTime);
      if (combined === null) update(r, { start: 0, end: d }, fresh(ts), closeTime);
      else update(r, combined.key.window, combined.value, closeTime);
    };

    return {
      init(c) {
        ctx = c;
        store = c.getStateStore(storeName);
      },
      process(r: StreamRecord<K, V>) {
        if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
        const ts = r.timestamp;
        streamTime = Math.max(streamTime, ts);
        const closeTime = streamTime - windows.graceMs;
        if (ts + 1 + d <= closeTime) return; // late: even its right window has closed
        if (ts < d) return processEarly(r, closeTime);

        let leftAgg: ValueAndTimestamp<VA> | null = null;
        let rightAgg: ValueAndTimestamp<VA> | null = null;
        let leftExists = false;
        let rightExists = false;
        let previous: number | null = null;
        const starts = new Set<number>();
        // Newest window first, as Kafka's backwardFetch over [t - 2d, t + 1].
        const candidates = store.windowsOf(r.key).filter((w) => w.key.window.start >= Math.max(0, ts - 2 * d) && w.key.window.start <= ts + 1);
        for (let i = candidates.length - 1; i >= 0; i--) {
          const w = candidates[i];
          const start = w.key.window.start;
          const end = start + d;
          starts.add(start);
          if (start === ts + 1) {
            rightExists = true;
          } else if (end > ts) {
            rightAgg ??= w.value;
            update(r, w.key.window, w.value, closeTime);
          } else if (end === ts) {
            leftExists = true;
            update(r, w.key.window, w.value, closeTime);
            if (w.value.timestamp < ts) previous = w.value.timestamp;
            else return; // a record at the same time made every window this one needs
          } else {
            leftAgg = w.value;
            previous = w.value.timestamp;
            break;
          }
        }
        // The previous record's right window, when this record falls in it.
        if (previous !== null && !starts.has(previous + 1) && previous + 1 + d >= ts) {
          update(r, { start: previous + 1, end: previous + 1 + d }, fresh(ts), closeTime);
        }
        if (!leftExists) {
          const left = previous !== null && ts - d <= previous && leftAgg !== null ? { value: leftAgg.value, timestamp: ts } : fresh(ts);
          update(r, { start: ts - d, end: ts }, left, closeTime);
        }
        if (!rightExists && rightAgg !== null && rightAgg.timestamp > ts) createRightWindow(r, rightAgg);
      },
    };
  };
}
