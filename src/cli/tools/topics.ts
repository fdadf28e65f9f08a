// The work of `kts topics` (Kafka's TopicCommand): argument checks in Kafka's order and wording,
// then one admin action. Run-time failures become `Error while executing topic command : <msg>`.
import type { KafkaClient, TopicMetadata } from '../../client/index.js';
import type { KafkaClientError } from '../../client/errors.js';
import { bootstrapFrom, connect, includeList, INTERNAL_TOPICS, readPropertiesFile } from '../connect.js';
import { CliError, UsageError } from '../errors.js';
import { rejectCombination, requireOptions, type ParsedArgs } from '../options.js';
import type { ToolContext } from '../tool.js';
import { COLLISION_WARNING, alteredView, createdView, deletedView, describeView, listView, type DescribeBlock, type PartitionDescription, type TopicDescription } from './topics-view.js';
import { javaHashMapOrder } from '../java-hash-order.js';

const ACTIONS = ['create', 'list', 'alter', 'describe', 'delete'] as const;
const REPORTS = ['under-replicated-partitions', 'under-min-isr-partitions', 'at-min-isr-partitions', 'unavailable-partitions'] as const;
const CONFIGS_NOTE = ' (To alter topic configurations, the kafka-configs tool can be used.)';

/** TopicCommandOptions.checkArgs, in Kafka's order. */
export function checkTopicArgs(args: ParsedArgs): void {
  if (ACTIONS.filter((a) => args.has(a)).length !== 1) {
    throw new UsageError('Command must include exactly one action: --list, --describe, --create, --alter or --delete');
  }
  if (args.has('describe') && args.has('if-exists') && !args.has('topic') && !args.has('topic-id')) {
    throw new UsageError('--topic or --topic-id is required to describe a topic');
  }
  if (!args.has('list') && !args.has('describe')) requireOptions(args, 'topic');
  if (args.has('alter')) {
    if (args.has('config')) throw new UsageError(`Option combination "[bootstrap-server],[config]" can't be used with option "[alter]"${CONFIGS_NOTE}`);
    requireOptions(args, 'partitions');
  }
  const except = (...keep: string[]): string[] => ACTIONS.filter((a) => !keep.includes(a));
  rejectCombination(args, 'config', except('alter', 'create'));
  rejectCombination(args, 'partitions', except('alter', 'create'));
  rejectCombination(args, 'replication-factor', except('create'));
  rejectCombination(args, 'replica-assignment', except('alter', 'create'));
  if (args.has('create')) rejectCombination(args, 'replica-assignment', ['partitions', 'replication-factor']);
  for (const r of REPORTS) rejectCombination(args, r, [...except('describe'), 'topics-with-overrides']);
  rejectCombination(args, 'topics-with-overrides', [...except('describe'), ...REPORTS]);
  rejectCombination(args, 'if-exists', except('alter', 'delete', 'describe'));
  rejectCombination(args, 'if-not-exists', except('create'));
  rejectCombination(args, 'exclude-internal', except('list', 'describe'));
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  checkTopicArgs(args);
  if (args.has('delete-config')) {
    ctx.out.note('delete-config option is no longer supported and deprecated since version 4.0. The config will be fully removed in future releases.');
  }
  const props = args.has('command-config') ? await readPropertiesFile(args.str('command-config')!) : new Map<string, string>();
  const client = await connect(ctx, bootstrapFrom(args, ctx.env), props, 'kts-topics');
  try {
    if (args.has('create')) await create(client, args, ctx);
    else if (args.has('list')) await ctx.out.print(listView(await topicNames(client, args)));
    else if (args.has('describe')) await describe(client, args, ctx);
    else if (args.has('alter')) await alter(client, args, ctx);
    else await remove(client, args, ctx);
    return 0;
  } finally {
    client.close();
  }
}

/** Kafka's getTopics: every topic name, sorted, filtered by the --topic regex and internal flag. */
async function matchingTopics(client: KafkaClient, args: ParsedArgs): Promise<TopicMetadata[]> {
  const exclude = args.has('exclude-internal');
  const all = await client.admin.listTopics({ includeInternal: true });
  const filter = args.has('topic') ? includeList(args.str('topic')!) : null;
  return all.filter((t) => (!filter || filter.test(t.name)) && !(exclude && (t.isInternal || INTERNAL_TOPICS.has(t.name))));
}

async function topicNames(client: KafkaClient, args: ParsedArgs): Promise<string[]> {
  return (await matchingTopics(client, args)).map((t) => t.name);
}

function ensureTopicExists(found: unknown[], args: ParsedArgs): void {
  const requested = args.str('topic');
  if (requested && requested !== '' && !args.has('if-exists') && found.length === 0) {
    throw new CliError(`Topic '${requested}' does not exist as expected`);
  }
}

function parseReplicaAssignment(text: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  text.split(',').forEach((part, i) => {
    const ids = part.split(':').map((s) => {
      const t = s.trim();
      if (!/^[+-]?\d+$/.test(t)) throw new CliError(`For input string: "${t}"`);
      return Number(t);
    });
    const dups = [...new Set(ids.filter((id, k) => ids.indexOf(id) !== k))];
    if (dups.length > 0) throw new CliError(`Partition replica lists may not contain duplicate entries: ${dups.join(',')}`);
    out.set(i, ids);
    if (ids.length !== out.get(0)!.length) throw new CliError(`Partition ${i} has different replication factor: [${ids.join(', ')}]`);
  });
  return out;
}

/** `--config k=v` as TopicCommand splits it (on `\s*=\s*`; anything but two parts is an error). */
export function parseTopicConfigs(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const parts = v.split(/\s*=\s*/);
    while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
    if (parts.length !== 2) {
      throw new CliError('requirement failed: Invalid topic config: all configs to be added must be in the format "key=val".');
    }
    out[parts[0].trim()] = parts[1].trim();
  }
  return out;
}

async function create(client: KafkaClient, args: ParsedArgs, ctx: ToolContext): Promise<void> {
  const name = args.str('topic')!;
  const partitions = args.int('partitions');
  const rf = args.int('replication-factor');
  const configs = parseTopicConfigs(args.all('config'));
  const assignments = args.str('replica-assignment') ? parseReplicaAssignment(args.str('replica-assignment')!) : undefined;
  const warn = /[._]/.test(name);
  if (warn && (ctx.out.mode === 'plain' || ctx.out.mode === 'table')) ctx.out.write(`${COLLISION_WARNING}\n`);
  if (rf !== undefined && (rf > 32767 || rf < 1)) throw new CliError('The replication factor must be between 1 and 32767 inclusive');
  if (partitions !== undefined && partitions < 1) throw new CliError('The partitions must be greater than 0');
  const [result] = await ctx.out.spin(
    `Creating topic ${name}`,
    client.admin.createTopics([{ name, numPartitions: partitions, replicationFactor: rf, assignments, configs }]),
  );
  let created = true;
  if (result?.error) {
    if (result.error.javaName === 'TopicExistsException' && args.has('if-not-exists')) created = false;
    else if (result.error.code === 38 && !result.errorMessage && rf !== undefined) {
      // Older brokers send no text; this is what a KRaft 3.9 broker says.
      const { brokers } = await client.admin.describeCluster();
      throw new CliError(`Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${brokers.length} broker(s) are registered.`);
    } else throw result.error;
  }
  await ctx.out.print(createdView(name, created, false));
}

async function describe(client: KafkaClient, args: ParsedArgs, ctx: ToolContext): Promise<void> {
  let topics: TopicMetadata[];
  const topicId = args.str('topic-id');
  if (topicId && topicId !== 'AAAAAAAAAAAAAAAAAAAAAA') {
    const all = await client.admin.listTopics({ includeInternal: !args.has('exclude-internal') });
    topics = all.filter((t) => t.topicId === topicId);
    if (topics.length === 0 && !args.has('if-exists')) throw new CliError(`TopicId '${topicId}' does not exist as expected`);
  } else {
    topics = await matchingTopics(client, args);
    ensureTopicExists(topics, args);
  }
  // Nothing matched (--if-exists, or an empty cluster): Kafka prints nothing; JSON gets {"topics": []}.
  if (topics.length === 0) {
    await ctx.out.print(describeView([]));
    return;
  }
  const [configs, cluster, elrs, reassignments] = await ctx.out.spin(
    'Describing topics',
    Promise.all([
      client.admin.describeConfigs(topics.map((t) => ({ type: 'topic' as const, name: t.name }))),
      client.admin.describeCluster(),
      client.admin.eligibleLeaderReplicas(topics.map((t) => t.name)),
      ongoingReassignments(client, topics),
    ]),
  );
  const live = new Set(cluster.brokers.map((b) => b.nodeId));
  const reportOverrides = args.has('topics-with-overrides');
  const reports = REPORTS.filter((r) => args.has(r));
  const blocks: DescribeBlock[] = [];
  for (const t of topics) {
    const cfg = configs.find((c) => c.name === t.name);
    if (cfg?.error) throw cfg.error;
    const entries = cfg?.entries ?? [];
    // Kafka's admin client keeps a topic's configs in a HashMap (admin.Config), so its tool prints
    // them in that map's order, not the broker's.
    const rank = new Map(javaHashMapOrder(entries.map((e) => e.name), 16).map((name, i) => [name, i]));
    const overrides = entries
      .filter((e) => !e.isDefault)
      .sort((a, b) => rank.get(a.name)! - rank.get(b.name)!)
      .map((e) => ({ name: e.name, value: e.isSensitive ? null : e.value }));
    const minIsr = Number(entries.find((e) => e.name === 'min.insync.replicas')?.value ?? '1');
    const partitions: PartitionDescription[] = t.partitions.map((p) => ({
      partition: p.partition,
      leader: p.leader,
      replicas: p.replicas,
      isr: p.isr,
      elr: elrs ? (elrs.get(t.name)?.get(p.partition)?.elr ?? []) : null,
      lastKnownElr: elrs ? (elrs.get(t.name)?.get(p.partition)?.lastKnownElr ?? []) : null,
      reassignment: reassignments.get(`${t.name}-${p.partition}`),
    }));
    const desc: TopicDescription = { name: t.name, topicId: t.topicId, replicationFactor: partitions[0] ? replicationFactor(partitions[0]) : 0, configs: overrides, partitions };
    const showPartition = (p: PartitionDescription): boolean => {
      if (reports.length === 0) return true;
      const hasLeader = p.leader >= 0;
      return (
        (args.has('under-replicated-partitions') && replicationFactor(p) - p.isr.length > 0) ||
        (args.has('unavailable-partitions') && (!hasLeader || !live.has(p.leader))) ||
        (args.has('under-min-isr-partitions') && (!hasLeader || p.isr.length < minIsr)) ||
        (args.has('at-min-isr-partitions') && p.isr.length === minIsr)
      );
    };
    blocks.push({
      topic: desc,
      summary: reports.length === 0 && (!reportOverrides || overrides.length > 0) && partitions.length > 0,
      partitions: reportOverrides ? [] : partitions.filter(showPartition),
    });
  }
  // Kafka prints the admin client's HashMap of descriptions as it iterates; tables and JSON stay sorted.
  if (ctx.out.mode === 'plain') {
    const order = new Map(javaHashMapOrder(blocks.map((b) => b.topic.name)).map((name, i) => [name, i]));
    blocks.sort((a, b) => order.get(a.topic.name)! - order.get(b.topic.name)!);
  }
  await ctx.out.print(describeView(blocks.filter((b) => b.summary || b.partitions.length > 0 || ctx.out.mode === 'json')));
}

/**
 * The reassignments in progress among the topics' partitions (Kafka's listAllReassignments), by
 * `topic-partition`; none when the broker does not serve ListPartitionReassignments.
 */
async function ongoingReassignments(client: KafkaClient, topics: TopicMetadata[]): Promise<Map<string, { adding: number[]; removing: number[] }>> {
  const partitions = topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition })));
  if (partitions.length === 0) return new Map();
  try {
    const ongoing = await client.admin.listPartitionReassignments(partitions);
    return new Map(ongoing.map((r) => [`${r.topic}-${r.partition}`, { adding: r.addingReplicas, removing: r.removingReplicas }]));
  } catch (err) {
    if ((err as KafkaClientError).javaName === 'UnsupportedVersionException' || (err as KafkaClientError).javaName === 'ClusterAuthorizationException') return new Map();
    throw err;
  }
}

/**
 * Kafka's TopicCommand: while a partition's replica set still holds replicas being added or removed,
 * its replication factor is the set without the ones being added.
 */
function replicationFactor(p: PartitionDescription): number {
  const changing = p.reassignment ? [...p.reassignment.adding, ...p.reassignment.removing] : [];
  return p.replicas.some((r) => changing.includes(r)) ? p.replicas.length - p.reassignment!.adding.length : p.replicas.length;
}

async function alter(client: KafkaClient, args: ParsedArgs, ctx: ToolContext): Promise<void> {
  const topics = await matchingTopics(client, args);
  ensureTopicExists(topics, args);
  const count = args.int('partitions')!;
  if (topics.length > 0) {
    const assignment = args.str('replica-assignment') ? parseReplicaAssignment(args.str('replica-assignment')!) : undefined;
    const results = await client.admin.createPartitions(
      topics.map((t) => ({
        topic: t.name,
        count,
        assignments: assignment ? [...assignment].filter(([i]) => i >= t.partitions.length).map(([, ids]) => ids) : undefined,
      })),
    );
    const failed = results.find((r) => r.error);
    if (failed?.error) throw failed.error;
  }
  await ctx.out.print(alteredView(topics.map((t) => t.name), count));
}

async function remove(client: KafkaClient, args: ParsedArgs, ctx: ToolContext): Promise<void> {
  const topics = await matchingTopics(client, args);
  ensureTopicExists(topics, args);
  const results = topics.length > 0 ? await client.admin.deleteTopics(topics.map((t) => t.name)) : [];
  const failed = results.find((r) => r.error);
  if (failed?.error) throw failed.error;
  await ctx.out.print(deletedView(topics.map((t) => t.name)));
}
