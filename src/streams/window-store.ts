// The stores behind time (tumbling, hopping), session and sliding windows: key-value stores over windowed keys that can also
// list one key's windows (Kafka's SessionStore#findSessions and WindowStore#backwardFetch), which a
// plain key-value store can only do by scanning everything. Each store keeps an index from the
// key's bytes to its windows' entries; the index is fed by every put, logged or restored.
//
// Retention is Kafka's segmented stores': the store's observed time is the largest window time put
// (a window's start for time windows, a session's end for sessions), and a window older than
// observed - retention is no longer returned. Such windows are dropped from memory when their key
// is next looked up, and by a sweep over every key once per SWEEP_EVERY puts, so that keys never
// seen again do not pile up (Kafka drops whole segments); the changelog's retention.ms removes them there.
import { InMemoryKeyValueStore, type KeyValue } from './processor.js';
import { SerializationException, type Serde } from './serdes.js';
import { sessionWindowedSerde, timeWindowedSerde, type Window, type Windowed } from './windows.js';

/** An aggregate with the largest timestamp of the records in it (Kafka's ValueAndTimestamp). */
export interface ValueAndTimestamp<V> {
  value: V;
  timestamp: number;
}

/** Kafka's timestamped-store value bytes: the timestamp (8 bytes, big-endian), then the value's bytes. */
export function valueAndTimestampSerde<V>(inner: Serde<V>): Serde<ValueAndTimestamp<V>> {
  return {
    serialize(topic, vt) {
      if (vt === null || vt === undefined) return null;
      const v = inner.serialize(topic, vt.value) ?? Buffer.alloc(0);
      const b = Buffer.allocUnsafe(v.length + 8);
      b.writeBigInt64BE(BigInt(vt.timestamp), 0);
      v.copy(b, 8);
      return b;
    },
    deserialize(topic, b) {
      if (b === null) return null;
      if (b.length < 8) throw new SerializationException('A timestamped value is at least 8 bytes');
      return { timestamp: Number(b.readBigInt64BE(0)), value: inner.deserialize(topic, b.subarray(8)) as V };
    },
  };
}

export interface WindowEntry<K, V> {
  key: Windowed<K>;
  value: V;
}

export type WindowLayout = 'time' | 'session';

/** Kafka's ReadOnlyWindowStore (interactive queries of time-windowed stores); lists instead of iterators. */
export interface ReadOnlyWindowStore<K, V> {
  /** The value of the window of `key` that starts at `windowStart`, or null. */
  fetch(key: K, windowStart: number): V | null;
  /** The windows of `key` starting in [timeFrom, timeTo], by start: window start -> value. */
  fetch(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[];
  backwardFetch(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[];
  /** Every key's windows starting in [timeFrom, timeTo]. */
  fetchAll(timeFrom: number, timeTo: number): KeyValue<Windowed<K>, V>[];
  all(): KeyValue<Windowed<K>, V>[];
}

/** Kafka's ReadOnlySessionStore; lists instead of iterators. */
export interface ReadOnlySessionStore<K, V> {
  /** Every live session of `key`, by end. */
  fetch(key: K): KeyValue<Windowed<K>, V>[];
  /** The sessions of `key` that end at or after `earliestSessionEndTime` and start at or before `latestSessionStartTime`. */
  findSessions(key: K, earliestSessionEndTime: number, latestSessionStartTime: number): KeyValue<Windowed<K>, V>[];
  /** The aggregate of exactly the session [sessionStartTime, sessionEndTime] of `key`, or null. */
  fetchSession(key: K, sessionStartTime: number, sessionEndTime: number): V | null;
}

/** Puts between two sweeps of expired windows over all keys. */
const SWEEP_EVERY = 10_000;

export class IndexedWindowStore<K, V> extends InMemoryKeyValueStore<Windowed<K>, V> {
  /** key bytes (latin1) -> the latin1 ids of its windows' entries in `data`. */
  private readonly windowsByKey = new Map<string, Set<string>>();
  protected observedTime = -1;
  /** Bytes of window time after the key: a time window's start, a session's end and start. */
  protected readonly suffix: number;
  private putsSinceSweep = 0;
  /** Values are ValueAndTimestamp (a sliding window's store): queries return the values alone, as Kafka's. */
  timestampedValues = false;

  constructor(
    name: string,
    protected readonly innerKeySerde: Serde<K>,
    protected readonly entryValueSerde: Serde<V>,
    protected readonly topic: string,
    readonly layout: WindowLayout,
    /** Window size for time windows (a sliding window's time difference); unused for sessions. */
    protected readonly windowSizeMs: number,
    readonly retentionMs: number,
  ) {
    super(name, layout === 'time' ? timeWindowedSerde(innerKeySerde, windowSizeMs) : sessionWindowedSerde(innerKeySerde), entryValueSerde, topic);
    this.suffix = layout === 'time' ? 8 : 16;
  }

  override putBytes(key: Buffer, value: Buffer | null): void {
    super.putBytes(key, value);
    if (key.length < this.suffix) return;
    const id = key.toString('latin1');
    const owner = key.subarray(0, key.length - this.suffix).toString('latin1');
    if (value === null) {
      const set = this.windowsByKey.get(owner);
      set?.delete(id);
      if (set?.size === 0) this.windowsByKey.delete(owner);
      return;
    }
    let set = this.windowsByKey.get(owner);
    if (!set) this.windowsByKey.set(owner, (set = new Set()));
    set.add(id);
    this.observedTime = Math.max(this.observedTime, this.timeOf(key));
    if (++this.putsSinceSweep >= SWEEP_EVERY) this.sweep();
  }

  /** Drops every expired window from memory (not logged: the changelog expires them by time). */
  sweep(): void {
    this.putsSinceSweep = 0;
    const liveFrom = this.observedTime - this.retentionMs + 1;
    for (const [owner, ids] of this.windowsByKey) {
      for (const id of ids) {
        const e = this.data.get(id);
        if (e && this.timeOf(e.key) >= liveFrom) continue;
        if (e) super.putBytes(e.key, null);
        ids.delete(id);
      }
      if (ids.size === 0) this.windowsByKey.delete(owner);
    }
  }

  override clear(): void {
    super.clear();
    this.windowsByKey.clear();
    this.observedTime = -1;
  }

  /** Reads stop returning a window once it is past retention, as Kafka's fetch(key, time) does. */
  protected override lookup(key: Buffer): { key: Buffer; value: Buffer; timestamp?: number } | undefined {
    const e = super.lookup(key);
    return e && this.live(e.key) ? e : undefined;
  }

  protected override entries(): Iterable<{ key: Buffer; value: Buffer; timestamp?: number }> {
    return [...super.entries()].filter((e) => this.live(e.key));
  }

  protected live(key: Buffer): boolean {
    return key.length < this.suffix || this.timeOf(key) > this.observedTime - this.retentionMs;
  }

  /** The time segments are kept by: a time window's start, a session's end. */
  protected timeOf(key: Buffer): number {
    return Number(key.readBigInt64BE(key.length - this.suffix));
  }

  /** The window of a windowed key's bytes (as they are in the changelog). */
  protected windowOf(b: Buffer): Window {
    const n = b.length;
    return this.layout === 'time'
      ? { start: Number(b.readBigInt64BE(n - 8)), end: Number(b.readBigInt64BE(n - 8)) + this.windowSizeMs }
      : { start: Number(b.readBigInt64BE(n - 8)), end: Number(b.readBigInt64BE(n - 16)) };
  }

  /** The key's bytes, as the store keeps them. */
  protected ownerBytes(key: K): Buffer {
    const keyBytes = this.innerKeySerde.serialize(this.topic, key);
    if (keyBytes === null) throw new Error(`store ${this.name}: null keys are not allowed`);
    return keyBytes;
  }

  /** Windows in the order Kafka's stores iterate a key's: time windows by start, sessions by end, then start. */
  protected sortWindows<T extends { window: Window }>(out: T[]): T[] {
    return out.sort((a, b) => (this.layout === 'time' ? a.window.start - b.window.start : a.window.end - b.window.end || a.window.start - b.window.start));
  }

  /** Processor API (Kafka's WindowStore#put(key, value, windowStartTimestamp)), besides put(windowedKey, value). */
  override put(key: Windowed<K> | K, value: V | null, windowStartTimestamp?: number): void {
    if (windowStartTimestamp === undefined) return super.put(key as Windowed<K>, value);
    if (this.layout !== 'time') throw new Error(`store ${this.name} is a session store: put(key, value, windowStartTimestamp) is for window stores`);
    super.put({ key: key as K, window: { start: windowStartTimestamp, end: windowStartTimestamp + this.windowSizeMs } }, value);
  }

  private queried(v: V): V {
    return this.timestampedValues ? (v as unknown as ValueAndTimestamp<unknown>).value as V : v;
  }

  // Interactive queries (ReadOnlyWindowStore, ReadOnlySessionStore): over windowsOf and entries, so
  // that the persistent store (which overrides those) answers the same.

  fetch(key: K, timeFrom?: number, timeTo?: number): any {
    if (this.layout === 'session') {
      if (timeFrom !== undefined) throw new Error(`store ${this.name} is a session store: fetch(key) lists a key's sessions`);
      return this.windowsOf(key).map((e) => ({ key: e.key, value: this.queried(e.value) }));
    }
    if (timeFrom === undefined) throw new Error(`store ${this.name} is a window store: fetch(key, time) or fetch(key, timeFrom, timeTo)`);
    if (timeTo === undefined) {
      const e = this.windowsOf(key).find((w) => w.key.window.start === timeFrom);
      return e ? this.queried(e.value) : null;
    }
    return this.windowsOf(key)
      .filter((w) => w.key.window.start >= timeFrom && w.key.window.start <= timeTo)
      .map((w) => ({ key: w.key.window.start, value: this.queried(w.value) }));
  }

  backwardFetch(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[] {
    return (this.fetch(key, timeFrom, timeTo) as KeyValue<number, V>[]).reverse();
  }

  /** Every window starting in [timeFrom, timeTo] (every window with no bounds), values as queries see them. */
  fetchAll(timeFrom = -Infinity, timeTo = Infinity): KeyValue<Windowed<K>, V>[] {
    return this.all()
      .filter((e) => e.key.window.start >= timeFrom && e.key.window.start <= timeTo)
      .map((e) => ({ key: e.key, value: this.queried(e.value) }));
  }

  findSessions(key: K, earliestSessionEndTime: number, latestSessionStartTime: number): KeyValue<Windowed<K>, V>[] {
    return (this.fetch(key) as KeyValue<Windowed<K>, V>[]).filter((s) => s.key.window.end >= earliestSessionEndTime && s.key.window.start <= latestSessionStartTime);
  }

  fetchSession(key: K, sessionStartTime: number, sessionEndTime: number): V | null {
    return (this.fetch(key) as KeyValue<Windowed<K>, V>[]).find((s) => s.key.window.start === sessionStartTime && s.key.window.end === sessionEndTime)?.value ?? null;
  }

  /**
   * One key's live windows: time windows by start, sessions by end (then start), as Kafka's stores
   * iterate; windows past retention are dropped from memory (not logged) and not returned.
   */
  windowsOf(key: K): WindowEntry<K, V>[] {
    const keyBytes = this.ownerBytes(key);
    const ids = this.windowsByKey.get(keyBytes.toString('latin1'));
    if (!ids) return [];
    const liveFrom = this.observedTime - this.retentionMs + 1;
    const out: { window: Window; value: Buffer }[] = [];
    for (const id of [...ids]) {
      const e = this.data.get(id)!;
      if (this.timeOf(e.key) < liveFrom) {
        super.putBytes(e.key, null);
        ids.delete(id);
        continue;
      }
      out.push({ window: this.windowOf(e.key), value: e.value });
    }
    if (ids.size === 0) this.windowsByKey.delete(keyBytes.toString('latin1'));
    return this.sortWindows(out).map((e) => ({ key: { key, window: e.window }, value: this.entryValueSerde.deserialize(this.topic, e.value) as V }));
  }
}
