// suppress(untilWindowCloses)'s buffer (Kafka's InMemoryTimeOrderedKeyValueChangeBuffer): the latest
// change per windowed key, kept until stream time passes the window's end + grace, and logged to the
// store's changelog `<application.id>-<store>-changelog` so that a restart (clean or not) restores the
// windows it held and still emits their final results. The store is named as Kafka names it:
// `KTABLE-SUPPRESS-STATE-STORE-<n>`, or `<name>-store` for a named suppress.
//
// Changelog records are Kafka's version 3 layout (header "v" = [3]): the key is the windowed key's
// bytes; the value is the record context (timestamp, offset, topic, partition, headers), the prior,
// old and new values (each an int length, -1 for null; the old value's length -2 when it equals the
// prior), then the buffer time (the window's end); an evicted key is logged as a tombstone.
import type { Header, StreamRecord } from './processor.js';
import { InMemoryKeyValueStore } from './processor.js';
import { SerializationException, type Serde } from './serdes.js';
import type { Windowed } from './windows.js';

interface Change<V> {
  newValue: V;
  oldValue: V | null;
}

interface Buffered {
  time: number;
  keyBytes: Buffer;
  record: StreamRecord<Windowed<any>, Change<any>>;
}

const V3_HEADERS: Header[] = [{ key: 'v', value: Buffer.from([3]) }];
const NULL_LENGTH = -1;
const SAME_AS_PRIOR = -2;

export class SuppressionBuffer extends InMemoryKeyValueStore<Buffer, Buffer> {
  /** key bytes (latin1) -> the decoded entry, fed by every put, logged or restored. */
  private readonly buffered = new Map<string, Buffered>();

  constructor(
    name: string,
    private readonly windowedKeySerde: Serde<Windowed<any>>,
    private readonly changeSerde: Serde<any>,
    private readonly topic: string,
  ) {
    super(name, rawBytes, rawBytes, topic);
  }

  /** Buffers a change under its window's end; the first change buffered for a key is its prior value. */
  add(record: StreamRecord<Windowed<any>, Change<any>>, source: { topic: string; partition: number; offset: number } | null): void {
    const keyBytes = this.windowedKeySerde.serialize(this.topic, record.key);
    if (keyBytes === null) throw new Error(`store ${this.name}: null keys are not allowed`);
    const id = keyBytes.toString('latin1');
    const newBytes = this.changeSerde.serialize(this.topic, record.value.newValue);
    const oldBytes = record.value.oldValue === null || record.value.oldValue === undefined ? null : this.changeSerde.serialize(this.topic, record.value.oldValue);
    const prior = this.data.has(id) ? decodeValues(this.data.get(id)!.value).prior : oldBytes;
    const value = encode(record, source, prior, oldBytes, newBytes, record.key.window.end);
    this.putBytes(keyBytes, value, record.timestamp);
    this.logger?.(keyBytes, value, V3_HEADERS);
  }

  /** Forwards and removes, oldest buffer time first (then key bytes), every entry whose time <= `upTo`. */
  evictUpTo(upTo: number, emit: (record: StreamRecord<Windowed<any>, Change<any>>) => void): void {
    const due = [...this.buffered.values()].filter((e) => e.time <= upTo).sort((a, b) => a.time - b.time || Buffer.compare(a.keyBytes, b.keyBytes));
    for (const e of due) {
      this.putBytes(e.keyBytes, null);
      this.logger?.(e.keyBytes, null);
      emit(e.record);
    }
  }

  get size(): number {
    return this.buffered.size;
  }

  override putBytes(key: Buffer, value: Buffer | null, timestamp = -1): void {
    super.putBytes(key, value, timestamp);
    const id = key.toString('latin1');
    if (value === null) {
      this.buffered.delete(id);
      return;
    }
    const d = decode(value);
    const record = {
      key: this.windowedKeySerde.deserialize(this.topic, key)!,
      value: { newValue: this.changeSerde.deserialize(this.topic, d.newValue), oldValue: d.oldValue === null ? null : this.changeSerde.deserialize(this.topic, d.oldValue) },
      timestamp: d.timestamp,
      headers: d.headers,
    };
    this.buffered.set(id, { time: d.time, keyBytes: key, record });
  }

  override clear(): void {
    super.clear();
    this.buffered.clear();
  }
}

const rawBytes: Serde<Buffer> = { serialize: (_t, b) => b, deserialize: (_t, b) => b as Buffer };

function encode(
  record: StreamRecord<unknown, unknown>,
  source: { topic: string; partition: number; offset: number } | null,
  prior: Buffer | null,
  old: Buffer | null,
  value: Buffer | null,
  time: number,
): Buffer {
  const parts: Buffer[] = [];
  const long = (n: number) => {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64BE(BigInt(n));
    parts.push(b);
  };
  const int = (n: number) => {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n);
    parts.push(b);
  };
  const sized = (b: Buffer | null) => {
    int(b === null ? NULL_LENGTH : b.length);
    if (b) parts.push(b);
  };
  long(record.timestamp);
  long(source?.offset ?? -1);
  sized(Buffer.from(source?.topic ?? '', 'utf8'));
  int(source?.partition ?? -1);
  int(record.headers.length);
  for (const h of record.headers) {
    sized(Buffer.from(h.key, 'utf8'));
    sized(h.value);
  }
  sized(prior);
  if (old !== null && prior !== null && old.equals(prior)) int(SAME_AS_PRIOR);
  else sized(old);
  sized(value);
  long(time);
  return Buffer.concat(parts);
}

interface Decoded {
  timestamp: number;
  headers: Header[];
  prior: Buffer | null;
  oldValue: Buffer | null;
  newValue: Buffer | null;
  time: number;
}

function decode(b: Buffer): Decoded {
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > b.length) throw new SerializationException(`a suppression buffer record ends early (${b.length} bytes)`);
  };
  const long = () => (need(8), Number(b.readBigInt64BE((pos += 8) - 8)));
  const int = () => (need(4), b.readInt32BE((pos += 4) - 4));
  const bytesOf = (n: number) => {
    if (n === NULL_LENGTH) return null;
    if (n < 0) throw new SerializationException(`a suppression buffer record has a length of ${n}`);
    need(n);
    return b.subarray(pos, (pos += n));
  };
  const sized = () => bytesOf(int());
  const timestamp = long();
  long(); // offset
  sized(); // topic
  int(); // partition
  const count = int();
  if (count < -1 || count > (b.length - pos) / 8) throw new SerializationException(`a suppression buffer record has ${count} headers`);
  const headers: Header[] = [];
  for (let i = 0; i < count; i++) headers.push({ key: (sized() ?? Buffer.alloc(0)).toString('utf8'), value: sized() });
  const prior = sized();
  const oldLength = int();
  const oldValue = oldLength === SAME_AS_PRIOR ? prior : bytesOf(oldLength);
  const newValue = sized();
  return { timestamp, headers, prior, oldValue, newValue, time: long() };
}

function decodeValues(b: Buffer): { prior: Buffer | null } {
  return { prior: decode(b).prior };
}
