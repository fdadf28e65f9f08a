// How `kts topics` results look: Kafka's exact lines, the JSON documents and the terminal tables.
// Pure functions of the data, so the unit tests check them against the reference texts.
import type { TableView, View } from '../output.js';

export interface PartitionDescription {
  partition: number;
  /** -1: no leader. */
  leader: number;
  replicas: number[];
  isr: number[];
  /** null when the broker cannot tell (answered through the Metadata API): printed as N/A. */
  elr: number[] | null;
  lastKnownElr: number[] | null;
  /** Only while the partition is being reassigned (KIP-455): the replicas it is adding and removing. */
  reassignment?: { adding: number[]; removing: number[] };
}

export interface TopicDescription {
  name: string;
  topicId: string;
  replicationFactor: number;
  /** Non-default configs, in the order Kafka's tool prints them (its HashMap's). */
  configs: { name: string; value: string | null }[];
  partitions: PartitionDescription[];
}

export const ZERO_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

export function topicSummaryLine(t: TopicDescription): string {
  const configs = t.configs.map((c) => `${c.name}=${c.value}`).join(',');
  const id = t.topicId && t.topicId !== ZERO_TOPIC_ID ? `\tTopicId: ${t.topicId}` : '';
  return `Topic: ${t.name}${id}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${t.replicationFactor}\tConfigs: ${configs}`;
}

export function partitionLine(topic: string, p: PartitionDescription): string {
  const list = (l: number[] | null): string => (l === null ? 'N/A' : l.join(','));
  return (
    `\tTopic: ${topic}\tPartition: ${p.partition}\tLeader: ${p.leader >= 0 ? p.leader : 'none'}` +
    `\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}` +
    (p.reassignment ? `\tAdding Replicas: ${p.reassignment.adding.join(',')}\tRemoving Replicas: ${p.reassignment.removing.join(',')}` : '') +
    `\tElr: ${list(p.elr)}\tLastKnownElr: ${list(p.lastKnownElr)}`
  );
}

export interface DescribeBlock {
  topic: TopicDescription;
  summary: boolean;
  /** The partitions that pass the filters. */
  partitions: PartitionDescription[];
}

export function describeView(blocks: DescribeBlock[]): View {
  const lines: string[] = [];
  for (const b of blocks) {
    if (b.summary) lines.push(topicSummaryLine(b.topic));
    for (const p of b.partitions) lines.push(partitionLine(b.topic.name, p));
  }
  const tables: TableView[] = blocks.map((b) => {
    const moving = b.partitions.some((p) => p.reassignment);
    return {
      title: `${b.topic.name}  ${b.topic.partitions.length} partition(s), replication factor ${b.topic.replicationFactor}` +
        (b.topic.topicId && b.topic.topicId !== ZERO_TOPIC_ID ? `, id ${b.topic.topicId}` : '') +
        (b.topic.configs.length > 0 ? `\nconfigs: ${b.topic.configs.map((c) => `${c.name}=${c.value}`).join(', ')}` : ''),
      head: ['Partition', 'Leader', 'Replicas', 'Isr', ...(moving ? ['Adding', 'Removing'] : [])],
      rows: b.partitions.map((p) => [
        p.partition,
        p.leader >= 0 ? p.leader : { text: 'none', tone: 'bad' as const },
        p.replicas.join(','),
        // Fewer in sync than replicas: under-replicated.
        p.isr.length < p.replicas.length ? { text: p.isr.join(',') || 'none', tone: p.isr.length === 0 ? ('bad' as const) : ('warn' as const) } : p.isr.join(','),
        ...(moving ? [p.reassignment?.adding.join(',') ?? '', p.reassignment?.removing.join(',') ?? ''] : []),
      ]),
    };
  });
  return {
    plain: lines.map((l) => `${l}\n`).join(''),
    json: {
      topics: blocks.map((b) => ({
        name: b.topic.name,
        topicId: b.topic.topicId,
        partitionCount: b.topic.partitions.length,
        replicationFactor: b.topic.replicationFactor,
        configs: Object.fromEntries(b.topic.configs.map((c) => [c.name, c.value])),
        partitions: b.partitions.map((p) => ({
          partition: p.partition,
          leader: p.leader >= 0 ? p.leader : null,
          replicas: p.replicas,
          isr: p.isr,
          elr: p.elr,
          lastKnownElr: p.lastKnownElr,
        })),
      })),
    },
    tables,
  };
}

/** `--list`: names joined by newlines; Kafka prints one empty line when there are none. */
export function listView(names: string[]): View {
  return { plain: `${names.join('\n')}\n`, json: { topics: names } };
}

export const COLLISION_WARNING =
  "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.";

/** `--alter`: Kafka prints nothing; the terminal gets a line saying what changed. */
export function alteredView(names: string[], partitions: number): View {
  const done = names.length === 0 ? 'No topic matched: nothing altered.' : `${names.length === 1 ? `Topic ${names[0]} now has` : `Topics ${names.join(', ')} now have`} ${partitions} partitions.`;
  return { plain: '', json: { altered: names, partitions }, done };
}

/** `--delete`: Kafka prints nothing; the terminal gets a line saying what went. */
export function deletedView(names: string[]): View {
  const done = names.length === 0 ? 'No topic matched: nothing deleted.' : `Deleted ${names.length === 1 ? 'topic' : 'topics'} ${names.join(', ')}.`;
  return { plain: '', json: { deleted: names }, done };
}

export function createdView(name: string, created: boolean, warn: boolean): View {
  const lines = [...(warn ? [COLLISION_WARNING] : []), ...(created ? [`Created topic ${name}.`] : [])];
  return {
    plain: lines.map((l) => `${l}\n`).join(''),
    json: { created: created ? name : null, topic: name },
    done: created ? `Created topic ${name}.` : `Topic ${name} already exists: nothing changed (--if-not-exists).`,
  };
}
