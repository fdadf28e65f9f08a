// GlobalKTable (Kafka's builder.globalTable): a table that every instance of the application holds in
// full, read from all partitions of its topic, so a stream can join it on any key its records carry
// (a key selector picks the lookup key), with no co-partitioning and no repartition. The topic is its
// own changelog: at start every partition is read from the beginning to its end before the instance
// processes anything (Kafka's global restore), and afterwards each processing round reads what was
// added. Global stores have no tasks and no changelog topic of their own.
import type { KafkaClient } from '../client/index.js';
import { ErrorCode } from '../protocol/index.js';
import type { KStream, StreamsBuilder } from './dsl.js';
import { KStream as KStreamClass } from './dsl.js';
import { MissingSourceTopicException } from './internal-topics.js';
import { joinerWithKey, type AnyJoiner } from './joins.js';
import type { Consumed, Materialized, Named } from './options.js';
import { InMemoryKeyValueStore, Stores, type ProcessorContext, type ReadOnlyKeyValueStore, type StreamRecord } from './processor.js';
import type { Serde } from './serdes.js';
import type { Topology } from './topology.js';

export class GlobalKTable<K, V> {
  /** @internal */
  constructor(
    /** @internal */ readonly storeName: string,
    readonly keySerde: Serde<K> | null,
    readonly valueSerde: Serde<V> | null,
  ) {}

  queryableStoreName(): string {
    return this.storeName;
  }
}

export function globalTable<K, V>(builder: StreamsBuilder, topic: string, consumed?: Consumed<K, V>, materialized?: Materialized<K, V>): GlobalKTable<K, V> {
  const t = builder.topology;
  // The store name takes its index first, as Kafka's MaterializedInternal does.
  const storeName = materialized?.storeName ?? builder.newName(`${topic}-STATE-STORE-`);
  const sourceName = consumed?.name ?? builder.newName('KSTREAM-SOURCE-');
  const processorName = builder.newName('KTABLE-SOURCE-');
  const keySerde = materialized?.keySerde ?? consumed?.keySerde ?? null;
  const valueSerde = materialized?.valueSerde ?? consumed?.valueSerde ?? null;
  t.addSource({ name: sourceName, keySerde: consumed?.keySerde, valueSerde: consumed?.valueSerde }, topic);
  // The processor is what describe() shows; the updater below applies the topic's records to the store.
  t.addProcessor(processorName, () => ({ process: () => undefined }), sourceName);
  t.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(storeName), keySerde, valueSerde).withLoggingDisabled(), processorName);
  t.globalNodes.add(sourceName);
  t.globalNodes.add(processorName);
  t.globalTables.set(topic, { store: storeName, keySerde: consumed?.keySerde ?? null, valueSerde: consumed?.valueSerde ?? null });
  return new GlobalKTable<K, V>(storeName, keySerde, valueSerde);
}

/** KStream-GlobalKTable join/leftJoin (Kafka's KStreamGlobalKTableJoin): look up keySelector(key, value). */
export function globalTableJoin<K, V, KG, VG, VR>(
  stream: KStream<K, V>,
  table: GlobalKTable<KG, VG>,
  keySelector: (key: K, value: V) => KG,
  joiner: AnyJoiner<K, V, VG, VR>,
  named: Named | undefined,
  leftJoin: boolean,
): KStream<K, VR> {
  if (typeof keySelector !== 'function') throw new TypeError("keySelector can't be null");
  const fn = joinerWithKey(joiner);
  const b = stream.builder;
  // Kafka names inner and left global joins alike.
  const name = named?.name ?? b.newName('KSTREAM-LEFTJOIN-');
  const storeName = table.storeName;
  b.topology.addProcessor(
    name,
    () => {
      let ctx!: ProcessorContext<K, VR>;
      let store!: ReadOnlyKeyValueStore<KG, VG>;
      return {
        init(c) {
          ctx = c;
          store = c.getStateStore(storeName);
        },
        process(r: StreamRecord<K, V>) {
          const nullKey = r.key === null || r.key === undefined;
          const nullValue = r.value === null || r.value === undefined;
          const mapped = nullValue && !leftJoin ? null : keySelector(r.key, r.value);
          const mappedNull = mapped === null || mapped === undefined;
          if (!(leftJoin && nullKey && !nullValue) && (mappedNull || nullValue)) return;
          const other = mappedNull ? null : store.get(mapped);
          if (leftJoin || other !== null) ctx.forward({ ...r, value: fn(r.key, r.value, other as VG) });
        },
      };
    },
    stream.nodeName,
  );
  return new KStreamClass<K, VR>(b, name, stream.keySerde, null, stream.repartitionRequired);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The global stores of one instance and what keeps them current (Kafka's GlobalStreamThread, run inline). */
export class GlobalStores {
  readonly stores = new Map<string, InMemoryKeyValueStore<any, any>>();
  private readonly byTopic = new Map<string, { store: InMemoryKeyValueStore<any, any>; keySerde: Serde<any>; valueSerde: Serde<any> }>();
  private readonly positions = new Map<string, { topic: string; partition: number; offset: number }>();
  private timestamp = -1;

  constructor(topology: Topology, defaults: { keySerde: Serde<any>; valueSerde: Serde<any> }) {
    for (const [topic, def] of topology.globalTables) {
      const b = topology.stores.get(def.store)!;
      const store = new InMemoryKeyValueStore(def.store, b.keySerde ?? defaults.keySerde, b.valueSerde ?? defaults.valueSerde, topic);
      store.clock = () => this.timestamp;
      this.stores.set(def.store, store);
      this.byTopic.set(topic, { store, keySerde: def.keySerde ?? defaults.keySerde, valueSerde: def.valueSerde ?? defaults.valueSerde });
    }
  }

  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  has(topic: string): boolean {
    return this.byTopic.has(topic);
  }

  /** One record of a global topic: an update of its key (a null value deletes it; a null key is skipped). */
  update(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number): void {
    const g = this.byTopic.get(topic)!;
    if (key === null) return;
    const k = g.keySerde.deserialize(topic, key);
    if (k === null || k === undefined) return;
    this.timestamp = timestamp;
    g.store.put(k, value === null ? null : g.valueSerde.deserialize(topic, value));
  }

  /** Reads every partition of every global topic from its start to its end (read_committed under exactly-once). */
  async bootstrap(client: KafkaClient, isolationLevel: 0 | 1): Promise<void> {
    if (this.byTopic.size === 0) return;
    const md = await client.metadata(this.topics);
    const missing = this.topics.filter((t) => !md.topics.some((x) => x.name === t && x.errorCode === 0 && x.partitions.length > 0));
    if (missing.length > 0) throw new MissingSourceTopicException(missing);
    for (const t of md.topics) {
      for (const p of t.partitions) {
        const tp = { topic: t.name, partition: p.partition };
        const [start] = await client.admin.listOffsets([{ ...tp, timestamp: -2 }]);
        const [end] = await client.admin.listOffsets([{ ...tp, timestamp: -1 }], { isolationLevel });
        if (end.error) throw end.error;
        let offset = Math.max(0, start.offset);
        while (offset < end.offset) {
          const [f] = await client.fetch([{ ...tp, offset, maxBytes: 8 * 1024 * 1024 }], { maxWaitMs: 100, isolationLevel });
          if (f.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
            const [s] = await client.admin.listOffsets([{ ...tp, timestamp: -2 }]);
            offset = s.offset;
            continue;
          }
          if (f.errorCode !== 0) {
            await client.cluster.refresh([tp.topic]).catch(() => undefined);
            await sleep(100);
            continue;
          }
          for (const r of f.records) if (r.offset < end.offset) this.update(r.topic, r.key, r.value, r.timestamp);
          offset = Math.min(f.nextOffset, end.offset);
        }
        this.positions.set(`${tp.topic}:${tp.partition}`, { ...tp, offset });
      }
    }
  }

  /** Applies what was added to the global topics since the last read (no wait when there is nothing). */
  async poll(client: KafkaClient, isolationLevel: 0 | 1): Promise<void> {
    if (this.positions.size === 0) return;
    const requests = [...this.positions.values()].map((p) => ({ ...p, maxBytes: 1024 * 1024 }));
    for (const f of await client.fetch(requests, { maxWaitMs: 0, isolationLevel })) {
      const pos = this.positions.get(`${f.topic}:${f.partition}`);
      if (!pos) continue;
      if (f.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
        const [s] = await client.admin.listOffsets([{ topic: f.topic, partition: f.partition, timestamp: -2 }]);
        pos.offset = s.offset;
        continue;
      }
      if (f.errorCode !== 0) {
        await client.cluster.refresh([f.topic]).catch(() => undefined);
        continue;
      }
      for (const r of f.records) this.update(r.topic, r.key, r.value, r.timestamp);
      pos.offset = f.nextOffset;
    }
  }
}
