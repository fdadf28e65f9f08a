// TopologyTestDriver: runs a topology in the calling thread with no broker (Kafka's
// kafka-streams-test-utils). Input topics are piped record by record; what sinks write to output
// topics is queued for reading; what they write to a topic the topology itself reads (repartition
// topics) is processed at once, as Kafka's driver does. Every sub-topology runs as its task 0.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Header, KeyValueStore } from './processor.js';
import { IndexedWindowStore, type ReadOnlySessionStore, type ReadOnlyWindowStore } from './window-store.js';
import type { Windowed } from './windows.js';
import { serdeFromConfig, type Deserializer, type Serde, type Serializer } from './serdes.js';
import { GlobalStores } from './globals.js';
import { StreamTask } from './task.js';
import type { Topology } from './topology.js';
import { lmdbModule } from './persistent-store.js';
import { pidRuns } from '../storage/dir-lock.js';

/**
 * Drivers' temporary state directories live under one directory per process, removed when the
 * process exits; one left by a process that is gone (killed, or a test worker stopped without its
 * exit handlers) is removed by the next process that makes one.
 */
const TEMP_PREFIX = 'kts-test-driver-';
let tempRoot: string | null = null;
function tempStateDir(): string {
  if (!tempRoot) {
    for (const name of readdirSync(tmpdir())) {
      const pid = /^kts-test-driver-(\d+)$/.exec(name)?.[1];
      if (pid && !pidRuns(Number(pid))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
    const root = join(tmpdir(), `${TEMP_PREFIX}${process.pid}`);
    mkdirSync(root, { recursive: true });
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
    tempRoot = root;
  }
  return mkdtempSync(join(tempRoot, 'state-'));
}

function lmdbAvailable(): boolean {
  try {
    lmdbModule();
    return true;
  } catch {
    return false;
  }
}

export interface TestRecord<K, V> {
  key: K | null;
  value: V | null;
  timestamp: number;
  headers: Header[];
}

export class TopologyTestDriver {
  private readonly applicationId: string;
  private readonly tasks: StreamTask[] = [];
  private readonly globals: GlobalStores;
  private readonly byTopic = new Map<string, StreamTask>();
  private readonly outputs = new Map<string, TestRecord<Buffer, Buffer>[]>();
  private readonly offsets = new Map<string, number>();
  private readonly pending: { topic: string; key: Buffer | null; value: Buffer | null; timestamp: number; headers: Header[] }[] = [];
  private wallClock: number;
  private tempStateDir: string | null = null;

  constructor(topology: Topology, props: Record<string, unknown> = {}, initialWallClockTimeMs = Date.now()) {
    this.applicationId = String(props['application.id'] ?? 'dummy-topology-test-driver-app-id');
    this.wallClock = initialWallClockTimeMs;
    const defaultKeySerde = serdeFromConfig(props['default.key.serde'], 'default.key.serde');
    const defaultValueSerde = serdeFromConfig(props['default.value.serde'], 'default.value.serde');
    this.globals = new GlobalStores(topology, { keySerde: defaultKeySerde, valueSerde: defaultValueSerde });
    // Persistent stores live in state.dir, as Kafka's driver keeps its RocksDB stores (a temporary
    // directory, removed at close, unless one is given).
    // default.dsl.store: rocksDB (on disk) by default, as Kafka's; without the optional lmdb package,
    // stores on disk only by default stay in memory.
    let dslStoresPersistent = (props['default.dsl.store'] ?? 'rocksDB') === 'rocksDB';
    if (dslStoresPersistent && props['default.dsl.store'] === undefined && !lmdbAvailable()) dslStoresPersistent = false;
    const anyPersistent = [...topology.stores.values()].some((b) => b.persistent ?? dslStoresPersistent);
    if (anyPersistent && props['state.dir'] === undefined) this.tempStateDir = tempStateDir();
    const env = {
      applicationId: this.applicationId,
      defaultKeySerde,
      defaultValueSerde,
      topicName: (t: string) => (topology.internalTopics.has(t) ? `${this.applicationId}-${t}` : t),
      partitionsOf: () => 1,
      globalStore: (name: string) => this.globals.stores.get(name),
      stateDir: anyPersistent ? (this.tempStateDir ?? String(props['state.dir'])) : undefined,
      dslStoresPersistent,
    };
    const collector = {
      send: (topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Header[]) => {
        if (topic.endsWith('-changelog') && topic.startsWith(`${this.applicationId}-`) && !this.byTopic.has(topic)) return;
        if (this.byTopic.has(topic)) this.pending.push({ topic, key, value, timestamp, headers });
        const queue = this.outputs.get(topic) ?? [];
        queue.push({ key, value, timestamp, headers });
        this.outputs.set(topic, queue);
      },
    };
    for (const sub of topology.subTopologies()) {
      const task = new StreamTask(topology, sub, 0, env, collector);
      this.tasks.push(task);
      for (const t of task.sourceTopics) this.byTopic.set(t, task);
    }
  }

  createInputTopic<K, V>(topic: string, keySerializer: Serializer<K>, valueSerializer: Serializer<V>): TestInputTopic<K, V> {
    return new TestInputTopic(this, topic, keySerializer, valueSerializer);
  }

  createOutputTopic<K, V>(topic: string, keyDeserializer: Deserializer<K>, valueDeserializer: Deserializer<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(this, topic, keyDeserializer, valueDeserializer);
  }

  /** @internal */
  pipe(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number | undefined, headers: Header[]): void {
    if (this.globals.has(topic)) {
      this.globals.update(topic, key, value, timestamp ?? this.wallClock);
      return;
    }
    if (!this.byTopic.has(topic)) throw new Error(`Unknown topic: ${topic}`);
    this.pending.push({ topic, key, value, timestamp: timestamp ?? this.wallClock, headers });
    while (this.pending.length > 0) {
      const r = this.pending.shift()!;
      const offset = this.offsets.get(r.topic) ?? 0;
      this.offsets.set(r.topic, offset + 1);
      this.byTopic.get(r.topic)!.process(r.topic, offset, r.key, r.value, r.timestamp, r.headers);
    }
  }

  /** @internal */
  take(topic: string): TestRecord<Buffer, Buffer> | undefined {
    return this.outputs.get(topic)?.shift();
  }

  /** @internal */
  queueSize(topic: string): number {
    return this.outputs.get(topic)?.length ?? 0;
  }

  advanceWallClockTime(ms: number): void {
    this.wallClock += ms;
  }

  /** A store of any task, by name (KeyValueStore methods; writes are not logged to a changelog here). */
  getKeyValueStore<K = any, V = any>(name: string): import('./processor.js').KeyValueStore<K, V> | null {
    for (const t of this.tasks) {
      const s = t.stores.get(name);
      if (s) return s as import('./processor.js').KeyValueStore<K, V>;
    }
    return (this.globals.stores.get(name) as import('./processor.js').KeyValueStore<K, V> | undefined) ?? null;
  }

  /** A window store of any task, by name (Kafka's getWindowStore; getTimestampedWindowStore gives its ValueAndTimestamps). */
  getWindowStore<K = any, V = any>(name: string): (ReadOnlyWindowStore<K, V> & KeyValueStore<Windowed<K>, V>) | null {
    const s = this.getKeyValueStore(name);
    return s instanceof IndexedWindowStore && s.layout === 'time' ? (s as unknown as ReadOnlyWindowStore<K, V> & KeyValueStore<Windowed<K>, V>) : null;
  }

  /** A session store of any task, by name (Kafka's getSessionStore). */
  getSessionStore<K = any, V = any>(name: string): (ReadOnlySessionStore<K, V> & KeyValueStore<Windowed<K>, V>) | null {
    const s = this.getKeyValueStore(name);
    return s instanceof IndexedWindowStore && s.layout === 'session' ? (s as unknown as ReadOnlySessionStore<K, V> & KeyValueStore<Windowed<K>, V>) : null;
  }

  /** Names of the topics written so far (outputs, and internal topics the topology wrote). */
  producedTopicNames(): string[] {
    return [...this.outputs.keys()];
  }

  /** Flushes persistent stores to disk, as a commit does (the driver's stores are otherwise written only when their overlay grows large). */
  flush(): void {
    for (const t of this.tasks) for (const s of t.persistentStores()) s.flush();
  }

  close(): void {
    for (const t of this.tasks) t.close();
    if (this.tempStateDir) rmSync(this.tempStateDir, { recursive: true, force: true });
  }
}

export class TestInputTopic<K, V> {
  /** @internal */
  constructor(
    private readonly driver: TopologyTestDriver,
    private readonly topic: string,
    private readonly keySerializer: Serializer<K>,
    private readonly valueSerializer: Serializer<V>,
  ) {}

  /** pipeInput(value), pipeInput(key, value) or pipeInput(key, value, timestampMs). */
  pipeInput(...args: [V] | [K | null, V | null] | [K | null, V | null, number]): void {
    const [key, value, ts] = args.length === 1 ? [null, args[0], undefined] : args;
    this.driver.pipe(this.topic, key === null ? null : this.keySerializer.serialize(this.topic, key as K), this.valueSerializer.serialize(this.topic, value as V | null), ts, []);
  }

  pipeRecord(record: TestRecord<K, V>): void {
    this.driver.pipe(
      this.topic,
      record.key === null ? null : this.keySerializer.serialize(this.topic, record.key),
      this.valueSerializer.serialize(this.topic, record.value),
      record.timestamp,
      record.headers ?? [],
    );
  }

  pipeValueList(values: V[]): void {
    for (const v of values) this.pipeInput(v);
  }

  pipeKeyValueList(pairs: { key: K; value: V }[]): void {
    for (const p of pairs) this.pipeInput(p.key, p.value);
  }
}

export class TestOutputTopic<K, V> {
  /** @internal */
  constructor(
    private readonly driver: TopologyTestDriver,
    private readonly topic: string,
    private readonly keyDeserializer: Deserializer<K>,
    private readonly valueDeserializer: Deserializer<V>,
  ) {}

  readRecord(): TestRecord<K, V> {
    const r = this.driver.take(this.topic);
    if (!r) throw new Error('Empty topic: ' + this.topic);
    return { key: this.keyDeserializer.deserialize(this.topic, r.key), value: this.valueDeserializer.deserialize(this.topic, r.value), timestamp: r.timestamp, headers: r.headers };
  }

  readValue(): V | null {
    return this.readRecord().value;
  }

  readKeyValue(): { key: K | null; value: V | null } {
    const r = this.readRecord();
    return { key: r.key, value: r.value };
  }

  readRecordsToList(): TestRecord<K, V>[] {
    const out: TestRecord<K, V>[] = [];
    while (!this.isEmpty()) out.push(this.readRecord());
    return out;
  }

  readValuesToList(): (V | null)[] {
    return this.readRecordsToList().map((r) => r.value);
  }

  readKeyValuesToList(): { key: K | null; value: V | null }[] {
    return this.readRecordsToList().map((r) => ({ key: r.key, value: r.value }));
  }

  /** The last value of each key (a null value removes the key), as Kafka's readKeyValuesToMap. */
  readKeyValuesToMap(): Map<K, V> {
    const m = new Map<K, V>();
    for (const r of this.readRecordsToList()) {
      if (r.key === null) throw new Error('Null keys are not allowed for readKeyValuesToMap');
      if (r.value === null) m.delete(r.key);
      else m.set(r.key, r.value);
    }
    return m;
  }

  getQueueSize(): number {
    return this.driver.queueSize(this.topic);
  }

  isEmpty(): boolean {
    return this.getQueueSize() === 0;
  }
}

export type { Serde };
