// Persistent window and session stores (Kafka's segmented RocksDB window and session stores) on
// LMDB. As in Kafka, windows are kept in time segments of max(retention / 2, 60 s) (a time window
// by its start, a session by its end); once the store's observed time (the largest window time put)
// leaves a segment wholly past retention, the segment is dropped in one go. Layout under the task's
// directory, as Kafka's segment directories are named:
//
//   <task dir>/lmdb/<store>/                 one LMDB environment (data.mdb, lock.mdb) holding
//       named databases "<store>.<segment start>" (one per segment) and "meta" (the observed time
//       and the live segments, written in the same transaction as the data)
//
// A segment's keys are the key's length (4 bytes), the key's bytes, then the window time suffix of
// the changelog key (time windows: start; sessions: end, then start), so that one key's windows
// are one ordered range in each segment. Values are the record timestamp (8 bytes) then the value,
// as the key-value store keeps them. Writes go to an in-memory overlay that the task's commit writes
// out in one transaction before the checkpoint (persistent-store.ts says why and how the
// checkpoint is kept, exactly-once included); a window past retention is never returned, in the
// overlay or on disk.
import { mkdirSync } from 'node:fs';
import { checkKeySize, lmdbModule, MAX_PENDING, type PersistentStore } from './persistent-store.js';
import { Stores, type SessionBytesStoreSupplier, type StoreBuilder, type WindowBytesStoreSupplier } from './processor.js';
import type { Serde } from './serdes.js';
import { IndexedWindowStore, valueAndTimestampSerde, type WindowEntry, type WindowLayout } from './window-store.js';
import type { Window, Windowed } from './windows.js';

type Database = ReturnType<ReturnType<typeof lmdbModule>['open']>;

interface Pending {
  /** The windowed key as the changelog has it. */
  key: Buffer;
  value: Buffer | null;
  timestamp: number;
}

/** Kafka's segment interval for window and session stores: max(retention / 2, 60 s). */
export function segmentInterval(retentionMs: number): number {
  return Math.max(Math.floor(retentionMs / 2), 60_000);
}

export class PersistentWindowStore<K, V> extends IndexedWindowStore<K, V> implements PersistentStore {
  readonly persistent = true;
  changed = false;
  readonly segmentIntervalMs: number;
  private readonly root: Database;
  private readonly meta: Database;
  /** Live segments by id (segment start / interval). */
  private readonly segments = new Map<number, Database>();
  /** Writes not on disk yet, by changelog key (latin1). */
  private readonly pending = new Map<string, Pending>();
  /** key bytes (latin1) -> changelog keys (latin1) of its pending writes. */
  private readonly pendingByOwner = new Map<string, Set<string>>();

  constructor(name: string, innerKeySerde: Serde<K>, valueSerde: Serde<V>, topic: string, layout: WindowLayout, windowSizeMs: number, retentionMs: number, readonly dir: string) {
    super(name, innerKeySerde, valueSerde, topic, layout, windowSizeMs, retentionMs);
    this.segmentIntervalMs = segmentInterval(retentionMs);
    mkdirSync(dir, { recursive: true });
    this.root = lmdbModule().open({ path: dir, maxDbs: 256, keyEncoding: 'binary', encoding: 'binary' });
    this.meta = this.openDb('meta');
    const state = this.meta.get(Buffer.from('state')) as Buffer | undefined;
    if (state) {
      const { observed, segments } = JSON.parse(state.toString()) as { observed: number; segments: number[] };
      this.observedTime = observed;
      for (const id of segments) this.segments.set(id, this.openDb(this.segmentName(id)));
    }
  }

  private openDb(name: string): Database {
    return (this.root as unknown as { openDB(o: object): Database }).openDB({ name, keyEncoding: 'binary', encoding: 'binary' });
  }

  /** Kafka's segment name: the store's name and the segment's start time. */
  segmentName(id: number): string {
    return `${this.name}.${id * this.segmentIntervalMs}`;
  }

  /** The ids of the segments on disk, oldest first. */
  segmentIds(): number[] {
    return [...this.segments.keys()].sort((a, b) => a - b);
  }

  private segmentId(time: number): number {
    return Math.floor(time / this.segmentIntervalMs);
  }

  /** The oldest segment that may hold a live window. */
  private minLiveSegment(): number {
    return this.segmentId(Math.max(0, this.observedTime - this.retentionMs + 1));
  }

  /** Length-prefixed key bytes, then the changelog key's window suffix. */
  private diskKey(changelogKey: Buffer): Buffer {
    const ownerLength = changelogKey.length - this.suffix;
    const out = Buffer.allocUnsafe(4 + changelogKey.length);
    out.writeUInt32BE(ownerLength, 0);
    changelogKey.copy(out, 4);
    return out;
  }

  private static decode(changelogKey: Buffer, raw: Buffer): { key: Buffer; value: Buffer; timestamp: number } {
    return { key: changelogKey, value: raw.subarray(8), timestamp: Number(raw.readBigInt64BE(0)) };
  }

  override putBytes(key: Buffer, value: Buffer | null, timestamp = -1): void {
    if (key.length < this.suffix) return;
    const time = this.timeOf(key);
    this.observedTime = Math.max(this.observedTime, time);
    // A window already past retention is not kept (Kafka skips a record for an expired segment).
    if (time <= this.observedTime - this.retentionMs) return;
    checkKeySize(this.name, 4 + key.length, 4 + this.suffix);
    const id = key.toString('latin1');
    this.pending.set(id, { key, value, timestamp });
    const owner = key.subarray(0, key.length - this.suffix).toString('latin1');
    let ids = this.pendingByOwner.get(owner);
    if (!ids) this.pendingByOwner.set(owner, (ids = new Set()));
    ids.add(id);
    this.changed = true;
    if (this.pending.size >= MAX_PENDING) this.flush();
  }

  protected override lookup(key: Buffer): { key: Buffer; value: Buffer; timestamp?: number } | undefined {
    if (key.length < this.suffix || !this.live(key)) return undefined;
    const p = this.pending.get(key.toString('latin1'));
    if (p) return p.value === null ? undefined : { key: p.key, value: p.value, timestamp: p.timestamp };
    const raw = this.segments.get(this.segmentId(this.timeOf(key)))?.get(this.diskKey(key)) as Buffer | undefined;
    return raw ? PersistentWindowStore.decode(key, raw) : undefined;
  }

  protected override entries(): Iterable<{ key: Buffer; value: Buffer; timestamp?: number }> {
    const all = new Map<string, { key: Buffer; value: Buffer; timestamp?: number }>();
    for (const id of this.segmentIds()) {
      for (const { key, value } of this.segments.get(id)!.getRange({})) {
        const k = (key as Buffer).subarray(4);
        all.set(k.toString('latin1'), PersistentWindowStore.decode(k, value as Buffer));
      }
    }
    for (const [k, p] of this.pending) {
      if (p.value === null) all.delete(k);
      else all.set(k, { key: p.key, value: p.value, timestamp: p.timestamp });
    }
    return [...all.values()].filter((e) => this.live(e.key));
  }

  override windowsOf(key: K): WindowEntry<K, V>[] {
    const owner = this.ownerBytes(key);
    const prefix = Buffer.allocUnsafe(4 + owner.length);
    prefix.writeUInt32BE(owner.length, 0);
    owner.copy(prefix, 4);
    const end = Buffer.concat([prefix, Buffer.alloc(this.suffix, 0xff)]);
    const found = new Map<string, { key: Buffer; value: Buffer | null }>();
    const minLive = this.minLiveSegment();
    for (const id of this.segmentIds()) {
      if (id < minLive) continue;
      for (const e of this.segments.get(id)!.getRange({ start: prefix, end, inclusiveEnd: true })) {
        const k = (e.key as Buffer).subarray(4);
        found.set(k.toString('latin1'), { key: k, value: (e.value as Buffer).subarray(8) });
      }
    }
    for (const id of this.pendingByOwner.get(owner.toString('latin1')) ?? []) {
      const p = this.pending.get(id)!;
      found.set(id, { key: p.key, value: p.value });
    }
    const out: { window: Window; value: Buffer }[] = [];
    for (const e of found.values()) if (e.value !== null && this.live(e.key)) out.push({ window: this.windowOf(e.key), value: e.value });
    return this.sortWindows(out).map((e) => ({ key: { key, window: e.window } as Windowed<K>, value: this.entryValueSerde.deserialize(this.topic, e.value) as V }));
  }

  /** Nothing to sweep from memory: expired segments are dropped at the next flush. */
  override sweep(): void {}

  override approximateNumEntries(): number {
    let n = this.pending.size;
    for (const db of this.segments.values()) n += (db.getStats() as { entryCount: number }).entryCount;
    return n;
  }

  /**
   * Writes the pending changes and the store's state in one transaction, then drops the segments
   * past retention (a crash between the two leaves them listed: the next flush drops them, and reads
   * never return their windows).
   */
  flush(): void {
    const minLive = this.minLiveSegment();
    const writes: { db: Database; key: Buffer; raw: Buffer | null }[] = [];
    for (const p of this.pending.values()) {
      const id = this.segmentId(this.timeOf(p.key));
      if (id < minLive) continue;
      let db = this.segments.get(id);
      if (!db && p.value === null) continue;
      if (!db) this.segments.set(id, (db = this.openDb(this.segmentName(id))));
      let raw: Buffer | null = null;
      if (p.value !== null) {
        raw = Buffer.allocUnsafe(8 + p.value.length);
        raw.writeBigInt64BE(BigInt(p.timestamp), 0);
        p.value.copy(raw, 8);
      }
      writes.push({ db, key: this.diskKey(p.key), raw });
    }
    const expired = this.segmentIds().filter((id) => id < minLive);
    const live = this.segmentIds().filter((id) => id >= minLive);
    this.root.transactionSync(() => {
      for (const w of writes) {
        if (w.raw === null) w.db.removeSync(w.key);
        else w.db.putSync(w.key, w.raw);
      }
      this.meta.putSync(Buffer.from('state'), Buffer.from(JSON.stringify({ observed: this.observedTime, segments: live })));
    });
    this.pending.clear();
    this.pendingByOwner.clear();
    for (const id of expired) {
      this.segments.get(id)!.dropSync();
      this.segments.delete(id);
    }
  }

  override clear(): void {
    this.pending.clear();
    this.pendingByOwner.clear();
    for (const db of this.segments.values()) db.dropSync();
    this.segments.clear();
    this.observedTime = -1;
    this.meta.putSync(Buffer.from('state'), Buffer.from(JSON.stringify({ observed: -1, segments: [] })));
    super.clear();
  }

  close(): void {
    this.pending.clear();
    this.pendingByOwner.clear();
    this.root.close().catch(() => undefined);
  }
}

/**
 * A window or session store's builder: the task makes it persistent (on disk) or in memory, as the
 * supplier (or, for the DSL, default.dsl.store) says, its changelog kept retention + 1 day as Kafka's
 * (windowstore.changelog.additional.retention.ms), compacted and deleted by time.
 */
export function windowedStoreBuilder(
  name: string,
  layout: WindowLayout,
  retentionMs: number,
  windowSizeMs: number,
  persistent: boolean | undefined,
  keySerde: Serde<any> | null,
  valueSerde: Serde<any> | null,
  timestampedValues = false,
): StoreBuilder {
  const b = Stores.keyValueStoreBuilder({ name, persistent }, keySerde, valueSerde);
  b.build = (k, v, changelog, dir) => {
    const values = timestampedValues ? valueAndTimestampSerde(v) : v;
    const s = dir ? new PersistentWindowStore(name, k, values, changelog, layout, windowSizeMs, retentionMs, dir) : new IndexedWindowStore(name, k, values, changelog, layout, windowSizeMs, retentionMs);
    s.timestampedValues = timestampedValues;
    return s;
  };
  return b.withLoggingEnabled({ 'cleanup.policy': 'compact,delete', 'retention.ms': String(retentionMs + 86_400_000) });
}

/** Kafka's Stores.windowStoreBuilder / timestampedWindowStoreBuilder / sessionStoreBuilder (Processor API). */
export const WindowStoreBuilders = {
  windowStoreBuilder: (supplier: WindowBytesStoreSupplier, keySerde: Serde<any> | null = null, valueSerde: Serde<any> | null = null): StoreBuilder =>
    windowedStoreBuilder(supplier.name, 'time', supplier.retentionMs, supplier.windowSizeMs, supplier.persistent, keySerde, valueSerde),
  timestampedWindowStoreBuilder: (supplier: WindowBytesStoreSupplier, keySerde: Serde<any> | null = null, valueSerde: Serde<any> | null = null): StoreBuilder =>
    windowedStoreBuilder(supplier.name, 'time', supplier.retentionMs, supplier.windowSizeMs, supplier.persistent, keySerde, valueSerde, true),
  sessionStoreBuilder: (supplier: SessionBytesStoreSupplier, keySerde: Serde<any> | null = null, valueSerde: Serde<any> | null = null): StoreBuilder =>
    windowedStoreBuilder(supplier.name, 'session', supplier.retentionMs, 0, supplier.persistent, keySerde, valueSerde),
};

/** A windowed aggregation takes a store supplier of its own kind, with its window size (as Kafka checks). */
export function checkWindowSupplier(materialized: { supplierKind: string | null; supplierWindowSizeMs: number | null } | undefined, kind: 'window' | 'session', storeName: string, windowSizeMs: number | null): void {
  const given = materialized?.supplierKind;
  if (!given) return;
  if (given !== kind) throw new Error(`store ${storeName}: a ${kind === 'window' ? 'windowed' : 'session-windowed'} aggregation needs a ${kind} store supplier (Stores.${kind === 'window' ? 'persistentWindowStore' : 'persistentSessionStore'}, ...), not a ${given} store supplier`);
  if (kind === 'window' && materialized!.supplierWindowSizeMs !== windowSizeMs) {
    throw new Error(`store ${storeName}: the window store supplier's window size (${materialized!.supplierWindowSizeMs} ms) differs from the windows' (${windowSizeMs} ms)`);
  }
}
