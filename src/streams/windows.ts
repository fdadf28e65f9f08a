// Time windows (Kafka's TimeWindows: tumbling, or hopping with advanceBy) with a grace period, the
// windowed aggregations over them, and suppress(untilWindowCloses). As in Kafka Streams: a record
// falls into every window whose [start, start + size) holds its timestamp; stream time is the largest
// timestamp the processor has seen; a window closes at end + grace, and a record for a closed window
// is dropped as late. A suppressed table emits each window's final value once stream time passes its
// end + grace.
import type { KeyValueStore, ProcessorContext, ProcessorSupplier, StreamRecord } from './processor.js';
import { SerializationException, type Serde } from './serdes.js';
import type { SuppressionBuffer } from './suppress-buffer.js';

export interface Window {
  start: number;
  end: number;
}

/** A windowed key (Kafka's Windowed<K>). */
export interface Windowed<K> {
  key: K;
  window: Window;
}

export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {
    if (!(sizeMs > 0)) throw new Error('Window size (sizeMs) must be larger than zero.');
    if (!(advanceMs > 0 && advanceMs <= sizeMs)) throw new Error(`Window advancement interval should be more than zero and less than window duration which is ${sizeMs} ms, but given advancement interval is: ${advanceMs} ms`);
    if (!(graceMs >= 0)) throw new Error('Grace period must not be negative.');
  }
  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return new TimeWindows(sizeMs, sizeMs, 0);
  }
  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    return new TimeWindows(sizeMs, sizeMs, graceMs);
  }
  /** Hopping windows: a new window every `advanceMs`. */
  advanceBy(advanceMs: number): TimeWindows {
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }
  /** The windows holding `timestamp`, oldest first (starts are multiples of advanceMs, never negative). */
  windowsFor(timestamp: number): Window[] {
    const out: Window[] = [];
    let start = Math.max(0, timestamp - this.sizeMs + this.advanceMs);
    start -= start % this.advanceMs;
    for (; start <= timestamp; start += this.advanceMs) out.push({ start, end: start + this.sizeMs });
    return out;
  }
}

/** Kafka's TimeWindowedSerde bytes: the key's bytes then the window start as 8 bytes big-endian. */
export function timeWindowedSerde<K>(inner: Serde<K>, windowSizeMs: number): Serde<Windowed<K>> {
  return {
    serialize(topic, w) {
      if (w === null || w === undefined) return null;
      const k = inner.serialize(topic, w.key) ?? Buffer.alloc(0);
      const b = Buffer.allocUnsafe(k.length + 8);
      k.copy(b, 0);
      b.writeBigInt64BE(BigInt(w.window.start), k.length);
      return b;
    },
    deserialize(topic, b) {
      if (b === null) return null;
      if (b.length < 8) throw new SerializationException('A windowed key is at least 8 bytes');
      const start = Number(b.readBigInt64BE(b.length - 8));
      return { key: inner.deserialize(topic, b.subarray(0, b.length - 8)) as K, window: { start, end: start + windowSizeMs } };
    },
  };
}

/** Kafka's SessionWindowedSerde bytes: the key's bytes, the session's end, then its start (8 bytes each, big-endian). */
export function sessionWindowedSerde<K>(inner: Serde<K>): Serde<Windowed<K>> {
  return {
    serialize(topic, w) {
      if (w === null || w === undefined) return null;
      const k = inner.serialize(topic, w.key) ?? Buffer.alloc(0);
      const b = Buffer.allocUnsafe(k.length + 16);
      k.copy(b, 0);
      b.writeBigInt64BE(BigInt(w.window.end), k.length);
      b.writeBigInt64BE(BigInt(w.window.start), k.length + 8);
      return b;
    },
    deserialize(topic, b) {
      if (b === null) return null;
      if (b.length < 16) throw new SerializationException('A session-windowed key is at least 16 bytes');
      const end = Number(b.readBigInt64BE(b.length - 16));
      const start = Number(b.readBigInt64BE(b.length - 8));
      return { key: inner.deserialize(topic, b.subarray(0, b.length - 16)) as K, window: { start, end } };
    },
  };
}

export const WindowedSerdes = {
  timeWindowedSerdeFrom: timeWindowedSerde,
  sessionWindowedSerdeFrom: sessionWindowedSerde,
};

/** The windowed aggregation's processor: one store entry per (key, window). */
export function windowAggregateSupplier<K, V, VA>(
  storeName: string,
  windows: TimeWindows,
  initializer: () => VA,
  aggregator: (key: K, value: V, aggregate: VA) => VA,
): ProcessorSupplier {
  return () => {
    let ctx!: ProcessorContext<Windowed<K>, { newValue: VA; oldValue: VA | null }>;
    let store!: KeyValueStore<Windowed<K>, VA>;
    let streamTime = -1;
    return {
      init(c) {
        ctx = c;
        store = c.getStateStore(storeName);
      },
      process(r: StreamRecord<K, V>) {
        if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
        streamTime = Math.max(streamTime, r.timestamp);
        const closeTime = streamTime - windows.graceMs;
        for (const window of windows.windowsFor(r.timestamp)) {
          if (window.end <= closeTime) continue; // late: the window has closed
          const key = { key: r.key, window };
          const oldValue = store.get(key);
          const newValue = aggregator(r.key, r.value, oldValue ?? initializer());
          store.put(key, newValue);
          ctx.forward({ ...r, key, value: { newValue, oldValue } });
        }
      },
    };
  };
}

/**
 * suppress(untilWindowCloses): keeps the latest change per windowed key in its buffer store
 * (suppress-buffer.ts, logged to a changelog and restored on start) and forwards it once stream time
 * reaches the window's end + grace, in window-end order (then key bytes, as Kafka's buffer).
 */
export function suppressSupplier(graceMs: number, storeName: string): ProcessorSupplier {
  return () => {
    let ctx!: ProcessorContext<any, any>;
    let buffer!: SuppressionBuffer;
    let streamTime = -1;
    return {
      init(c) {
        ctx = c;
        buffer = c.getStateStore<SuppressionBuffer>(storeName);
      },
      process(r: StreamRecord<Windowed<any>, any>) {
        streamTime = Math.max(streamTime, r.timestamp);
        buffer.add(r, ctx.recordMetadata());
        buffer.evictUpTo(streamTime - graceMs, (record) => ctx.forward(record));
      },
    };
  };
}
