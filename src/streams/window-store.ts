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
import { InMemoryKeyValueStore } from './processor.js';
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

type Layout = 'time' | 'session';

/** Puts between two sweeps of expired windows over all keys. */
const SWEEP_EVERY = 10_000;

export class IndexedWindowStore<K, V> extends InMemoryKeyValueStore<Windowed<K>, V> {
  /** key bytes (latin1) -> the latin1 ids of its windows' entries in `data`. */
  private readonly windowsByKey = new Map<string, Set<string>>();
  private observedTime = -1;
  private readonly suffix: number;
  private putsSinceSweep = 0;

  constructor(
    name: string,
    private readonly innerKeySerde: Serde<K>,
    private readonly entryValueSerde: Serde<V>,
    private readonly topic: string,
    private readonly layout: Layout,
    /** Window size for time windows (a sliding window's time difference); unused for sessions. */
    private readonly windowSizeMs: number,
    private readonly retentionMs: number,
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

  private live(key: Buffer): boolean {
    return key.length < this.suffix || this.timeOf(key) > this.observedTime - this.retentionMs;
  }

  /** The time segments are kept by: a time window's start, a session's end. */
  private timeOf(key: Buffer): number {
    return Number(key.readBigInt64BE(key.length - this.suffix));
  }

  /**
   * One key's live windows: time windows by start, sessions by end (then start), as Kafka's stores
   * iterate; windows past retention are dropped from memory (not logged) and not returned.
   */
  windowsOf(key: K): WindowEntry<K, V>[] {
    const keyBytes = this.innerKeySerde.serialize(this.topic, key);
    if (keyBytes === null) throw new Error(`store ${this.name}: null keys are not allowed`);
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
      const b = e.key;
      const n = b.length;
      const window =
        this.layout === 'time'
          ? { start: Number(b.readBigInt64BE(n - 8)), end: Number(b.readBigInt64BE(n - 8)) + this.windowSizeMs }
          : { start: Number(b.readBigInt64BE(n - 8)), end: Number(b.readBigInt64BE(n - 16)) };
      out.push({ window, value: e.value });
    }
    if (ids.size === 0) this.windowsByKey.delete(keyBytes.toString('latin1'));
    out.sort((a, b) => (this.layout === 'time' ? a.window.start - b.window.start : a.window.end - b.window.end || a.window.start - b.window.start));
    return out.map((e) => ({ key: { key, window: e.window }, value: this.entryValueSerde.deserialize(this.topic, e.value) as V }));
  }
}
