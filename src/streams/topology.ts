// A processor topology (Kafka's Topology): sources, processors and sinks by name, the state stores
// they use, and the sub-topologies they fall into. A sub-topology is a connected part of the graph
// (nodes joined by parent/child edges or by sharing a store); repartition topics are where the
// graph is cut: a sink writes one and another sub-topology's source reads it. Each sub-topology
// runs as one task per partition of its source topics: task `<sub-topology>_<partition>`.
import type { ProcessorSupplier, StoreBuilder } from './processor.js';
import type { Serde } from './serdes.js';

export interface SourceNode {
  kind: 'source';
  name: string;
  topics: string[];
  keySerde: Serde<any> | null;
  valueSerde: Serde<any> | null;
  children: string[];
}

export interface ProcessorNode {
  kind: 'processor';
  name: string;
  supplier: ProcessorSupplier;
  stores: string[];
  parents: string[];
  children: string[];
}

export type TopicNameExtractor = (key: any, value: any, ctx: { topic: string; partition: number; offset: number } | null) => string;
/** Returns the partition for a record, or undefined for the default (the key's murmur2 hash). */
export type StreamPartitioner = (topic: string, key: any, value: any, numPartitions: number) => number | undefined;

export interface SinkNode {
  kind: 'sink';
  name: string;
  topic: string | TopicNameExtractor;
  keySerde: Serde<any> | null;
  valueSerde: Serde<any> | null;
  partitioner: StreamPartitioner | null;
  parents: string[];
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

/** Settings of a topic the library creates (repartition topics). */
export interface InternalTopic {
  name: string;
  /** Fixed partition count (repartition with numberOfPartitions), else derived from the writers' sources. */
  numPartitions: number | null;
}

export interface SubTopology {
  id: number;
  nodes: string[];
  /** Topic names as written in the topology (internal ones without the application id prefix). */
  sourceTopics: string[];
  stores: string[];
}

export class TopologyException extends Error {
  constructor(message: string) {
    super(`Invalid topology: ${message}`);
    this.name = 'TopologyException';
  }
}

export class Topology {
  readonly nodes = new Map<string, TopologyNode>();
  readonly stores = new Map<string, StoreBuilder>();
  readonly internalTopics = new Map<string, InternalTopic>();
  /** Topics a join reads together (as the topology names them): they must have equal partition counts. */
  readonly copartitionGroups: string[][] = [];
  /** Nodes that feed global stores (GlobalKTable): no tasks, every instance reads all their partitions. */
  readonly globalNodes = new Set<string>();
  /** Global tables by topic: the store they fill and the serdes their records are read with. */
  readonly globalTables = new Map<string, { store: string; keySerde: Serde<any> | null; valueSerde: Serde<any> | null }>();
  private readonly sourceTopicOwners = new Map<string, string>();

  addSource(name: string | { name: string; keySerde?: Serde<any> | null; valueSerde?: Serde<any> | null }, ...topics: string[]): this {
    const o = typeof name === 'string' ? { name } : name;
    this.checkNew(o.name);
    if (topics.length === 0) throw new TopologyException('You must provide at least one topic');
    for (const t of topics) {
      const owner = this.sourceTopicOwners.get(t);
      if (owner) throw new TopologyException(`Topic ${t} has already been registered by another source.`);
      this.sourceTopicOwners.set(t, o.name);
    }
    this.nodes.set(o.name, { kind: 'source', name: o.name, topics, keySerde: o.keySerde ?? null, valueSerde: o.valueSerde ?? null, children: [] });
    return this;
  }

  addProcessor(name: string, supplier: ProcessorSupplier, ...parentNames: string[]): this {
    this.checkNew(name);
    if (parentNames.length === 0) throw new TopologyException(`Processor ${name} must have at least one parent`);
    this.nodes.set(name, { kind: 'processor', name, supplier, stores: [], parents: parentNames, children: [] });
    this.link(name, parentNames);
    return this;
  }

  addSink(
    name: string | { name: string; keySerde?: Serde<any> | null; valueSerde?: Serde<any> | null; partitioner?: StreamPartitioner | null },
    topic: string | TopicNameExtractor,
    ...parentNames: string[]
  ): this {
    const o = typeof name === 'string' ? { name } : name;
    this.checkNew(o.name);
    if (parentNames.length === 0) throw new TopologyException(`Sink ${o.name} must have at least one parent`);
    this.nodes.set(o.name, { kind: 'sink', name: o.name, topic, keySerde: o.keySerde ?? null, valueSerde: o.valueSerde ?? null, partitioner: o.partitioner ?? null, parents: parentNames });
    this.link(o.name, parentNames);
    return this;
  }

  addStateStore(builder: StoreBuilder, ...processorNames: string[]): this {
    if (this.stores.has(builder.name)) throw new TopologyException(`A different StateStore has already been added with the name ${builder.name}`);
    this.stores.set(builder.name, builder);
    for (const p of processorNames) this.connectProcessorAndStateStores(p, builder.name);
    return this;
  }

  connectProcessorAndStateStores(processorName: string, ...storeNames: string[]): this {
    const node = this.nodes.get(processorName);
    if (!node || node.kind !== 'processor') throw new TopologyException(`Processor ${processorName} is not added yet.`);
    for (const s of storeNames) {
      if (!this.stores.has(s)) throw new TopologyException(`StateStore ${s} is not added yet.`);
      if (!node.stores.includes(s)) node.stores.push(s);
    }
    return this;
  }

  /** @internal Marks a topic as one the library creates and prefixes with the application id. */
  addInternalTopic(name: string, numPartitions: number | null = null): void {
    this.internalTopics.set(name, { name, numPartitions });
  }

  private checkNew(name: string): void {
    if (!name) throw new TopologyException('Node name must not be empty');
    if (this.nodes.has(name)) throw new TopologyException(`Processor ${name} is already added.`);
  }

  private link(child: string, parents: string[]): void {
    for (const p of parents) {
      const parent = this.nodes.get(p);
      if (!parent) throw new TopologyException(`Parent processor ${p} is not added yet for ${child}.`);
      if (parent.kind === 'sink') throw new TopologyException(`Sink ${p} cannot be used a parent.`);
      parent.children.push(child);
    }
  }

  /** The sub-topologies, numbered in the order of their first node. */
  subTopologies(): SubTopology[] {
    const names = [...this.nodes.keys()].filter((n) => !this.globalNodes.has(n));
    const parent = new Map(names.map((n) => [n, n]));
    const find = (n: string): string => {
      let r = n;
      while (parent.get(r) !== r) r = parent.get(r)!;
      parent.set(n, r);
      return r;
    };
    const union = (a: string, b: string) => parent.set(find(a), find(b));
    const storeUser = new Map<string, string>();
    for (const node of this.nodes.values()) {
      if (this.globalNodes.has(node.name)) continue;
      if (node.kind !== 'sink') for (const c of node.children) union(node.name, c);
      if (node.kind === 'processor') {
        for (const s of node.stores) {
          const other = storeUser.get(s);
          if (other) union(node.name, other);
          else storeUser.set(s, node.name);
        }
      }
    }
    const groups = new Map<string, string[]>();
    for (const n of names) {
      const r = find(n);
      const g = groups.get(r) ?? [];
      g.push(n);
      groups.set(r, g);
    }
    return [...groups.values()].map((nodes, id) => {
      const sourceTopics: string[] = [];
      const stores: string[] = [];
      for (const n of nodes) {
        const node = this.nodes.get(n)!;
        if (node.kind === 'source') sourceTopics.push(...node.topics);
        if (node.kind === 'processor') for (const s of node.stores) if (!stores.includes(s)) stores.push(s);
      }
      return { id, nodes, sourceTopics, stores };
    });
  }

  /** Kafka's TopologyDescription#toString layout. */
  describe(): string {
    const lines = ['Topologies:'];
    for (const sub of this.subTopologies()) {
      lines.push(`   Sub-topology: ${sub.id}`);
      for (const n of sub.nodes) {
        const node = this.nodes.get(n)!;
        if (node.kind === 'source') lines.push(`    Source: ${n} (topics: [${node.topics.join(', ')}])`);
        else if (node.kind === 'processor') lines.push(`    Processor: ${n} (stores: [${node.stores.join(', ')}])`);
        else lines.push(`    Sink: ${n} (${typeof node.topic === 'string' ? `topic: ${node.topic}` : 'extractor class: TopicNameExtractor'})`);
        const children = node.kind === 'sink' ? [] : node.children;
        lines.push(`      --> ${children.length ? children.join(', ') : 'none'}`);
        const parents = node.kind === 'source' ? [] : node.parents;
        lines.push(`      <-- ${parents.length ? parents.join(', ') : 'none'}`);
      }
    }
    return lines.join('\n') + '\n';
  }
}
