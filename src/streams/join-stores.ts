// The stores behind KStream-KStream joins, over the task's key-value stores (so they are logged to a
// changelog and restored like any other): each side's window store, holding every record of the last
// `before + after + grace` of stream time, and the shared store of left/outer join records still
// waiting for a partner (KIP-633: an unmatched record is emitted only once its window has closed).
//
// Byte layouts follow Kafka's: a window store key is the record key's bytes, the timestamp (8 bytes)
// and a sequence number (4 bytes) so that duplicates are kept (WindowKeySchema with
// retainDuplicates); an outer store key is the timestamp (8 bytes), 1 for the left side or 0 for the
// right, then the key's bytes (TimestampedKeyAndJoinSide), so iterating in byte order visits records
// oldest first. The outer store's value (a list of values, Kafka's ListValueStore) is kts's own:
// per value, its side (1 byte), its length (4 bytes) and its bytes.
import type { KeyValueStore } from './processor.js';

interface WindowEntry {
  timestamp: number;
  seq: number;
  storeKey: Buffer;
}

/** A window store that keeps duplicates: put at a timestamp, fetch a key's records in a time range. */
export class JoinWindowStore {
  private readonly byKey = new Map<string, WindowEntry[]>();
  private observedStreamTime = -1;
  private seq = 0;
  private lastSweep = -1;

  private constructor(
    private readonly store: KeyValueStore<Buffer, Buffer>,
    private readonly retentionMs: number,
  ) {
    // The store may have been restored from its changelog before the first use: index what it holds.
    for (const { key } of store.all()) {
      const keyLength = key.length - 12;
      const timestamp = Number(key.readBigInt64BE(keyLength));
      const seq = key.readInt32BE(keyLength + 8);
      this.index(key.subarray(0, keyLength), { timestamp, seq, storeKey: key });
      this.observedStreamTime = Math.max(this.observedStreamTime, timestamp);
      this.seq = Math.max(this.seq, seq + 1) & 0x7fffffff;
    }
  }

  private static readonly views = new WeakMap<object, JoinWindowStore>();

  /** One view per task store, shared by the processor that writes it and the one that reads it. */
  static over(store: KeyValueStore<Buffer, Buffer>, retentionMs: number): JoinWindowStore {
    let view = JoinWindowStore.views.get(store);
    if (!view) {
      view = new JoinWindowStore(store, retentionMs);
      JoinWindowStore.views.set(store, view);
    }
    return view;
  }

  private index(key: Buffer, entry: WindowEntry): void {
    const k = key.toString('latin1');
    const list = this.byKey.get(k);
    if (!list) {
      this.byKey.set(k, [entry]);
      return;
    }
    // Kept in store-key order (timestamp, then sequence number), as Kafka's iterators return them.
    let i = list.length;
    while (i > 0 && (list[i - 1].timestamp > entry.timestamp || (list[i - 1].timestamp === entry.timestamp && list[i - 1].seq > entry.seq))) i--;
    list.splice(i, 0, entry);
  }

  put(key: Buffer, value: Buffer, timestamp: number): void {
    this.observedStreamTime = Math.max(this.observedStreamTime, timestamp);
    if (timestamp <= this.observedStreamTime - this.retentionMs) return; // expired before it arrived
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0x7fffffff;
    const storeKey = Buffer.allocUnsafe(key.length + 12);
    key.copy(storeKey, 0);
    storeKey.writeBigInt64BE(BigInt(timestamp), key.length);
    storeKey.writeInt32BE(seq, key.length + 8);
    this.store.put(storeKey, value);
    this.index(key, { timestamp, seq, storeKey });
    this.maybeExpire();
  }

  /** The values of `key` with timestamps in [from, to], oldest first, none older than the retention. */
  fetch(key: Buffer, from: number, to: number): { timestamp: number; value: Buffer }[] {
    const lowest = Math.max(from, this.observedStreamTime - this.retentionMs + 1);
    const out: { timestamp: number; value: Buffer }[] = [];
    for (const e of this.byKey.get(key.toString('latin1')) ?? []) {
      if (e.timestamp < lowest || e.timestamp > to) continue;
      const value = this.store.get(e.storeKey);
      if (value !== null) out.push({ timestamp: e.timestamp, value });
    }
    return out;
  }

  /** Drops expired records from memory now and then (the changelog's own retention removes them there). */
  private maybeExpire(): void {
    if (this.observedStreamTime - this.lastSweep < Math.max(1, this.retentionMs / 2)) return;
    this.lastSweep = this.observedStreamTime;
    const limit = this.observedStreamTime - this.retentionMs;
    const raw = this.store as unknown as { putBytes?(k: Buffer, v: Buffer | null): void };
    for (const [k, list] of this.byKey) {
      let n = 0;
      while (n < list.length && list[n].timestamp <= limit) {
        raw.putBytes?.(list[n].storeKey, null);
        n++;
      }
      if (n === list.length) this.byKey.delete(k);
      else if (n > 0) list.splice(0, n);
    }
  }
}

export interface OuterKey {
  timestamp: number;
  leftSide: boolean;
  key: Buffer;
}

export function outerStoreKey(timestamp: number, leftSide: boolean, key: Buffer): Buffer {
  const b = Buffer.allocUnsafe(9 + key.length);
  b.writeBigInt64BE(BigInt(timestamp), 0);
  b[8] = leftSide ? 1 : 0;
  key.copy(b, 9);
  return b;
}

export function parseOuterStoreKey(b: Buffer): OuterKey {
  return { timestamp: Number(b.readBigInt64BE(0)), leftSide: b[8] === 1, key: b.subarray(9) };
}

export function encodeOuterValues(values: { leftSide: boolean; value: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    const head = Buffer.allocUnsafe(5);
    head[0] = v.leftSide ? 1 : 0;
    head.writeUInt32BE(v.value.length, 1);
    parts.push(head, v.value);
  }
  return Buffer.concat(parts);
}

export function decodeOuterValues(b: Buffer): { leftSide: boolean; value: Buffer }[] {
  const out: { leftSide: boolean; value: Buffer }[] = [];
  for (let i = 0; i + 5 <= b.length; ) {
    const len = b.readUInt32BE(i + 1);
    out.push({ leftSide: b[i] === 1, value: b.subarray(i + 5, i + 5 + len) });
    i += 5 + len;
  }
  return out;
}
