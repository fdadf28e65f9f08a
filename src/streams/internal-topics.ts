// The topics a Streams application creates for itself, as Kafka Streams names and configures them:
// `<application.id>-<name>-repartition` (delete policy, kept until consumed) and
// `<application.id>-<store>-changelog` (compacted), with as many partitions as the tasks that use
// them. A repartition topic gets the partition count of the sub-topology that writes it (the largest
// of that sub-topology's source topics), worked out in order since a writer may itself read a
// repartition topic.
import type { KafkaClient } from '../client/index.js';
import { ErrorCode } from '../protocol/index.js';
import { changelogTopic } from './task.js';
import { TopologyException, type SubTopology, type Topology } from './topology.js';

export interface PlannedTopics {
  /** Partition count of every topic the topology reads, by real name. */
  sourcePartitions: Map<string, number>;
  /** Task count of each sub-topology. */
  tasksPerSubTopology: Map<number, number>;
}

export class MissingSourceTopicException extends Error {
  constructor(topics: string[]) {
    super(`Missing source topics: [${topics.join(', ')}]`);
    this.name = 'MissingSourceTopicException';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function prepareInternalTopics(client: KafkaClient, topology: Topology, subs: SubTopology[], appId: string, replicationFactor: number): Promise<PlannedTopics> {
  const real = (t: string) => (topology.internalTopics.has(t) ? `${appId}-${t}` : t);
  const external = [...new Set(subs.flatMap((s) => s.sourceTopics).filter((t) => !topology.internalTopics.has(t)))];
  const md = external.length > 0 ? await client.metadata(external) : { topics: [] };
  const counts = new Map<string, number>();
  for (const t of md.topics) if (t.errorCode === 0 && t.partitions.length > 0) counts.set(t.name, t.partitions.length);
  const missing = external.filter((t) => !counts.has(t));
  if (missing.length > 0) throw new MissingSourceTopicException(missing);

  // Which sub-topologies write each repartition topic (through a sink naming it).
  const writers = new Map<string, SubTopology[]>();
  for (const s of subs) {
    for (const n of s.nodes) {
      const node = topology.nodes.get(n)!;
      if (node.kind === 'sink' && typeof node.topic === 'string' && topology.internalTopics.has(node.topic)) {
        writers.set(node.topic, [...(writers.get(node.topic) ?? []), s]);
      }
    }
  }
  const internalCounts = new Map<string, number>();
  for (const [name, t] of topology.internalTopics) if (t.numPartitions) internalCounts.set(name, t.numPartitions);
  // Topics a join reads together must have one partition count (Kafka's CopartitionedTopicsEnforcer):
  // the external ones must agree, and the group's repartition topics take their count.
  for (const group of topology.copartitionGroups) {
    const externalCounts = group.filter((t) => !topology.internalTopics.has(t)).map((t) => [t, counts.get(t)!] as const);
    if (externalCounts.length === 0) continue;
    if (externalCounts.some(([, n]) => n !== externalCounts[0][1])) {
      const sorted = [...externalCounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      throw new TopologyException(`Topics not co-partitioned: [{${sorted.map(([t, n]) => `${t}=${n}`).join(', ')}}]`);
    }
    for (const t of group) if (topology.internalTopics.has(t) && !internalCounts.has(t)) internalCounts.set(t, externalCounts[0][1]);
  }
  const countOf = (t: string) => (topology.internalTopics.has(t) ? internalCounts.get(t) : counts.get(t));
  for (let changed = true; changed; ) {
    changed = false;
    for (const name of topology.internalTopics.keys()) {
      if (internalCounts.has(name)) continue;
      const sizes = (writers.get(name) ?? []).flatMap((s) => s.sourceTopics.map(countOf));
      if (sizes.length > 0 && sizes.every((x) => x !== undefined)) {
        internalCounts.set(name, Math.max(...(sizes as number[])));
        changed = true;
      }
    }
  }
  // A group of repartition topics only: all take the largest count among them.
  for (const group of topology.copartitionGroups) {
    if (group.some((t) => !topology.internalTopics.has(t))) continue;
    const max = Math.max(...group.map((t) => internalCounts.get(t) ?? 0));
    for (const t of group) if (!topology.internalTopics.get(t)!.numPartitions) internalCounts.set(t, max);
  }
  const tasksPerSubTopology = new Map<number, number>();
  for (const s of subs) {
    const sizes = s.sourceTopics.map(countOf);
    if (sizes.some((x) => x === undefined)) throw new Error(`internal: cannot work out the partitions of sub-topology ${s.id}`);
    tasksPerSubTopology.set(s.id, Math.max(...(sizes as number[])));
  }

  const wanted: { name: string; numPartitions: number; configs: Record<string, string> }[] = [];
  for (const [name, n] of internalCounts) {
    wanted.push({ name: `${appId}-${name}`, numPartitions: n, configs: { 'cleanup.policy': 'delete', 'segment.bytes': '52428800', 'retention.ms': '-1' } });
  }
  for (const s of subs) {
    for (const store of s.stores) {
      const b = topology.stores.get(store)!;
      if (!b.loggingEnabled) continue;
      wanted.push({ name: changelogTopic(appId, store), numPartitions: tasksPerSubTopology.get(s.id)!, configs: { 'cleanup.policy': 'compact', ...b.logConfig } });
    }
  }
  if (wanted.length > 0) {
    const created = await client.admin.createTopics(wanted.map((w) => ({ ...w, replicationFactor: replicationFactor })));
    for (const c of created) {
      if (c.error && c.error.code !== ErrorCode.TOPIC_ALREADY_EXISTS) throw new Error(`Could not create internal topic ${c.name}: ${c.error.message}`);
    }
    await waitForLeaders(client, wanted.map((w) => w.name));
    const now = await client.metadata(wanted.map((w) => w.name));
    for (const w of wanted) {
      const t = now.topics.find((x) => x.name === w.name);
      if (t && t.partitions.length !== w.numPartitions) {
        throw new Error(`Existing internal topic ${w.name} has invalid partitions: expected: ${w.numPartitions}; actual: ${t.partitions.length}. Use 'kafka.tools.StreamsResetter' tool to clean up invalid topics before processing.`);
      }
    }
  }
  const sourcePartitions = new Map<string, number>();
  for (const s of subs) for (const t of s.sourceTopics) sourcePartitions.set(real(t), countOf(t)!);
  return { sourcePartitions, tasksPerSubTopology };
}

async function waitForLeaders(client: KafkaClient, topics: string[]): Promise<void> {
  for (let i = 0; ; i++) {
    const md = await client.metadata(topics);
    const ready = topics.every((name) => {
      const t = md.topics.find((x) => x.name === name);
      return t && t.errorCode === 0 && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0);
    });
    if (ready) return;
    if (i > 300) throw new Error(`internal topics without leaders after 30 s: ${topics.join(', ')}`);
    await sleep(100);
  }
}
