// The work of `kts cluster`: DescribeCluster (id, controller, brokers with their racks) and a
// Metadata request for every topic (counts, under-replicated and offline partitions), shown as
// sections of text when piped, tables on a terminal, one document with --output json.
import type { BrokerInfo, TopicMetadata } from '../../client/index.js';
import { bootstrapFrom, connect, readPropertiesFile, validateHostPorts } from '../connect.js';
import type { ParsedArgs } from '../options.js';
import type { TableView, View } from '../output.js';
import type { ToolContext } from '../tool.js';

export interface ClusterFacts {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicMetadata[];
}

interface Trouble {
  topic: string;
  partition: number;
  replicas: number[];
  isr: number[];
}

function troubles(topics: TopicMetadata[]): { underReplicated: Trouble[]; offline: Trouble[] } {
  const underReplicated: Trouble[] = [];
  const offline: Trouble[] = [];
  for (const t of [...topics].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    for (const p of t.partitions) {
      const row = { topic: t.name, partition: p.partition, replicas: p.replicas, isr: p.isr };
      if (p.leader < 0) offline.push(row);
      else if (p.isr.length < p.replicas.length) underReplicated.push(row);
    }
  }
  return { underReplicated, offline };
}

/** Columns padded to their widest cell, two spaces apart (the last one unpadded). */
function columns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')}\n`).join('');
}

export function clusterView(f: ClusterFacts): View {
  const brokers = [...f.brokers].sort((a, b) => a.nodeId - b.nodeId);
  const internal = f.topics.filter((t) => t.isInternal).length;
  const partitions = f.topics.reduce((n, t) => n + t.partitions.length, 0);
  const { underReplicated, offline } = troubles(f.topics);
  const controller = brokers.some((b) => b.nodeId === f.controllerId) ? String(f.controllerId) : f.controllerId < 0 ? 'none' : `${f.controllerId} (not among the brokers)`;
  const facts: [string, string][] = [
    ['id', f.clusterId ?? '-'],
    ['controller', controller],
    ['brokers', String(brokers.length)],
    ['topics', `${f.topics.length}${internal ? ` (${internal} internal)` : ''}`],
    ['partitions', String(partitions)],
    ['under-replicated partitions', String(underReplicated.length)],
    ['offline partitions', String(offline.length)],
  ];
  const list = (l: number[]) => (l.length ? l.join(',') : 'none');
  const plain = [
    'CLUSTER\n=======\n',
    columns(facts.map(([k, v]) => [`${k}:`, v])),
    '\nBROKERS\n=======\n',
    columns([['ID', 'HOST', 'PORT', 'RACK'], ...brokers.map((b) => [`${b.nodeId}${b.nodeId === f.controllerId ? '*' : ''}`, b.host, String(b.port), b.rack ?? '-'])]),
    ...(underReplicated.length ? ['\nUNDER-REPLICATED PARTITIONS\n===========================\n', columns([['TOPIC', 'PARTITION', 'REPLICAS', 'ISR'], ...underReplicated.map((t) => [t.topic, String(t.partition), list(t.replicas), list(t.isr)])])] : []),
    ...(offline.length ? ['\nOFFLINE PARTITIONS\n==================\n', columns([['TOPIC', 'PARTITION', 'REPLICAS'], ...offline.map((t) => [t.topic, String(t.partition), list(t.replicas)])])] : []),
  ].join('');

  const count = (n: number, tone: 'warn' | 'bad') => (n === 0 ? { text: '0', tone: 'good' as const } : { text: String(n), tone });
  const tables: TableView[] = [
    {
      title: `Cluster ${f.clusterId ?? '(no id)'}`,
      head: ['CONTROLLER', 'BROKERS', 'TOPICS', 'PARTITIONS', 'UNDER-REPLICATED', 'OFFLINE'],
      rows: [[controller, brokers.length, facts[3][1], partitions, count(underReplicated.length, 'warn'), count(offline.length, 'bad')]],
      alignRight: [false, true, false, true, true, true],
    },
    {
      head: ['ID', 'HOST', 'PORT', 'RACK', 'ROLE'],
      rows: brokers.map((b) => [b.nodeId, b.host, b.port, b.rack ?? '-', b.nodeId === f.controllerId ? { text: 'controller', tone: 'bold' as const } : '']),
    },
    ...(underReplicated.length
      ? [{ title: 'Under-replicated partitions', head: ['TOPIC', 'PARTITION', 'REPLICAS', 'ISR'], rows: underReplicated.map((t) => [t.topic, t.partition, list(t.replicas), { text: list(t.isr), tone: 'warn' as const }]) }]
      : []),
    ...(offline.length ? [{ title: 'Offline partitions', head: ['TOPIC', 'PARTITION', 'REPLICAS', 'LEADER'], rows: offline.map((t) => [t.topic, t.partition, list(t.replicas), { text: 'none', tone: 'bad' as const }]) }] : []),
  ];
  return {
    plain,
    json: {
      clusterId: f.clusterId,
      controllerId: f.controllerId,
      brokers: brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port, rack: b.rack, controller: b.nodeId === f.controllerId })),
      topics: f.topics.length,
      internalTopics: internal,
      partitions,
      underReplicated,
      offline: offline.map(({ topic, partition, replicas }) => ({ topic, partition, replicas })),
    },
    tables,
  };
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  const target = bootstrapFrom(args, ctx.env);
  validateHostPorts(target.bootstrap);
  const props = args.has('command-config') ? await readPropertiesFile(args.str('command-config')!) : new Map<string, string>();
  const client = await connect(ctx, target, props, 'kts-cluster');
  try {
    const [described, metadata] = await ctx.out.spin('Describing the cluster', Promise.all([client.admin.describeCluster(), client.cluster.refresh(null)]));
    await ctx.out.print(clusterView({ ...described, topics: metadata.topics }));
    return 0;
  } finally {
    client.close();
  }
}
