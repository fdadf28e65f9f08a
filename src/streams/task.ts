// One task: a sub-topology's processors and stores for one partition (Kafka's StreamTask). It takes
// serialized records from its source topics, runs them depth-first through the processors, and hands
// what sinks and stores write (output, repartition and changelog records) to a RecordCollector. The
// broker-backed runtime (kafka-streams.ts) and the TopologyTestDriver both drive tasks this way.
import { InMemoryKeyValueStore, type Header, type Processor, type ProcessorContext, type RecordMetadata, type StreamRecord } from './processor.js';
import type { Serde } from './serdes.js';
import { timeWindowedSerde } from './windows.js';
import { isPersistentStore, PersistentKeyValueStore, storeDirectory, taskDirectory, type PersistentStore } from './persistent-store.js';
import type { SubTopology, Topology } from './topology.js';

export interface RecordCollector {
  /** `partition` undefined: the key's murmur2 hash (or any partition for a null key). */
  send(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Header[], partition: number | undefined): void;
}

export interface TaskEnv {
  applicationId: string;
  defaultKeySerde: Serde<any>;
  defaultValueSerde: Serde<any>;
  /** The real name of a topic as the topology writes it (internal ones get `<application.id>-`). */
  topicName(name: string): string;
  /** Partition count of a topic the task writes to (for user partitioners). */
  partitionsOf(topic: string): number;
  /** state.dir, where persistent stores live; absent (the test driver): every store is in memory. */
  stateDir?: string;
  /** default.dsl.store=rocksDB: DSL stores that did not choose are persistent. */
  dslStoresPersistent?: boolean;
  /** A global store (GlobalKTable) by name, or undefined. */
  globalStore?(name: string): InMemoryKeyValueStore<any, any> | undefined;
}

export function changelogTopic(applicationId: string, store: string): string {
  return `${applicationId}-${store}-changelog`;
}

type Forward = (record: StreamRecord<any, any>) => void;

export class StreamTask {
  readonly id: string;
  /** `<state.dir>/<application.id>/<task id>`: its persistent stores and their checkpoint. */
  readonly directory: string;
  readonly stores = new Map<string, InMemoryKeyValueStore<any, any>>();
  /** The next offset to consume of each source partition this task has processed from. */
  readonly consumed = new Map<string, number>();
  private readonly sources = new Map<string, { keySerde: Serde<any>; valueSerde: Serde<any>; forward: Forward }>();
  private readonly processors: Processor<any, any, any, any>[] = [];
  private current: RecordMetadata | null = null;
  private currentTimestamp = 0;

  constructor(
    topology: Topology,
    readonly subTopology: SubTopology,
    readonly partition: number,
    private readonly env: TaskEnv,
    private readonly collector: RecordCollector,
  ) {
    this.id = `${subTopology.id}_${partition}`;
    this.directory = taskDirectory(env.stateDir ?? '', env.applicationId, this.id);
    for (const storeName of subTopology.stores) {
      const b = topology.stores.get(storeName)!;
      const changelog = changelogTopic(env.applicationId, storeName);
      const keySerde = b.keySerde ?? env.defaultKeySerde;
      const valueSerde = b.valueSerde ?? env.defaultValueSerde;
      const storeKeySerde = b.windowSizeMs ? timeWindowedSerde(keySerde, b.windowSizeMs) : keySerde;
      const dir = (b.persistent ?? env.dslStoresPersistent ?? false) && env.stateDir !== undefined ? storeDirectory(this.directory, storeName) : null;
      const store = b.build
        ? b.build(keySerde, valueSerde, changelog, dir)
        : dir
          ? new PersistentKeyValueStore(storeName, storeKeySerde, valueSerde, changelog, dir)
          : new InMemoryKeyValueStore(storeName, storeKeySerde, valueSerde, changelog);
      store.clock = () => this.currentTimestamp;
      if (b.loggingEnabled) store.logger = (k, v, headers) => collector.send(changelog, k, v, this.currentTimestamp, headers ?? [], partition);
      this.stores.set(storeName, store);
    }
    const built = new Map<string, Forward>();
    const build = (name: string): Forward => {
      const existing = built.get(name);
      if (existing) return existing;
      const node = topology.nodes.get(name)!;
      let fn: Forward;
      if (node.kind === 'sink') {
        fn = (r) => this.sink(node, r);
      } else if (node.kind === 'source') {
        const children = node.children.map(build);
        fn = (r) => {
          for (const c of children) c(r);
        };
      } else {
        const childNames = node.children;
        let children: Forward[] | null = null;
        const processor = node.supplier();
        const self = this;
        const ctx: ProcessorContext<any, any> = {
          applicationId: env.applicationId,
          taskId: this.id,
          recordMetadata: () => this.current,
          forward(record, childName) {
            children ??= childNames.map(build);
            if (childName === undefined) {
              for (const c of children) c(record);
            } else {
              const i = childNames.indexOf(childName);
              if (i < 0) throw new Error(`Unknown downstream node: ${childName} is not a child of ${node.name}`);
              children[i](record);
            }
          },
          keySerde: () => env.defaultKeySerde,
          valueSerde: () => env.defaultValueSerde,
          getStateStore<S>(storeName: string): S {
            const global = env.globalStore?.(storeName);
            if (global) return global as S; // global stores are readable from every processor, as in Kafka
            if (!node.stores.includes(storeName)) {
              throw new Error(`Processor ${node.name} has no access to StateStore ${storeName} as the store is not connected to the processor.`);
            }
            return self.stores.get(storeName) as S;
          },
        };
        this.processors.push(processor);
        processor.init?.(ctx);
        fn = (r) => {
          const saved = this.currentTimestamp;
          this.currentTimestamp = r.timestamp;
          processor.process(r);
          this.currentTimestamp = saved;
        };
      }
      built.set(name, fn);
      return fn;
    };
    for (const name of subTopology.nodes) {
      const node = topology.nodes.get(name)!;
      if (node.kind !== 'source') continue;
      const forward = build(name);
      for (const t of node.topics) {
        this.sources.set(env.topicName(t), { keySerde: node.keySerde ?? env.defaultKeySerde, valueSerde: node.valueSerde ?? env.defaultValueSerde, forward });
      }
    }
  }

  /** The real names of the topics this task reads. */
  get sourceTopics(): string[] {
    return [...this.sources.keys()];
  }

  process(topic: string, offset: number, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Header[]): void {
    const source = this.sources.get(topic);
    if (!source) throw new Error(`task ${this.id} does not read topic ${topic}`);
    this.current = { topic, partition: this.partition, offset };
    this.currentTimestamp = timestamp;
    try {
      source.forward({ key: source.keySerde.deserialize(topic, key), value: source.valueSerde.deserialize(topic, value), timestamp, headers });
    } finally {
      this.current = null;
    }
    this.consumed.set(topic, offset + 1);
  }

  private sink(node: Extract<Topology['nodes'] extends Map<string, infer N> ? N : never, { kind: 'sink' }>, r: StreamRecord<any, any>): void {
    const name = typeof node.topic === 'string' ? node.topic : node.topic(r.key, r.value, this.current);
    const topic = this.env.topicName(name);
    const k = (node.keySerde ?? this.env.defaultKeySerde).serialize(topic, r.key);
    const v = (node.valueSerde ?? this.env.defaultValueSerde).serialize(topic, r.value);
    const partition = node.partitioner ? node.partitioner(topic, r.key, r.value, this.env.partitionsOf(topic)) : undefined;
    this.collector.send(topic, k, v, r.timestamp, r.headers, partition);
  }

  /** The task's stores on disk. */
  persistentStores(): PersistentStore[] {
    return [...this.stores.values()].filter((s) => isPersistentStore(s));
  }

  close(): void {
    for (const p of this.processors) p.close?.();
    this.processors.length = 0;
    for (const s of this.persistentStores()) s.close();
  }
}
