// The work of `kts reassign-partitions` (Kafka 3.9's ReassignPartitionsCommand): --generate proposes
// an assignment with Kafka's placement, --execute starts it (AlterPartitionReassignments at the
// controller), --verify reports progress and clears the throttle configs once nothing moves,
// --cancel reverts moves in progress, --list shows them. Texts, JSON and exit codes are Kafka's:
// TerseException-style failures print their message alone on stdout, the others "Error: <message>"
// (Kafka adds a Java stack trace; kts does not).
import { readFile } from 'node:fs/promises';
import type { KafkaClient } from '../../client/index.js';
import type { KafkaClientError } from '../../client/errors.js';
import { assignReplicasToBrokers } from '../../cluster/replica-assignment.js';
import { bootstrapFrom, connect, readPropertiesFile } from '../connect.js';
import { CliError, UsageError } from '../errors.js';
import { javaHashMapOrder } from '../java-hash-order.js';
import { requireOptions, type ParsedArgs } from '../options.js';
import type { ToolContext } from '../tool.js';
import { javaIntHashSetOrder, parseReassignmentJson, parseTopicsToMoveJson, reassignmentJson, type PartitionTarget } from './reassign-json.js';

const ACTIONS = ['generate', 'execute', 'verify', 'cancel', 'list'] as const;
type Action = (typeof ACTIONS)[number];

const REQUIRED: Record<Action, string[]> = {
  verify: ['reassignment-json-file'],
  generate: ['topics-to-move-json-file', 'broker-list'],
  execute: ['reassignment-json-file'],
  cancel: ['reassignment-json-file'],
  list: [],
};
const PERMITTED: Record<Action, string[]> = {
  verify: ['bootstrap-server', 'command-config', 'preserve-throttles'],
  generate: ['bootstrap-server', 'broker-list', 'command-config', 'disable-rack-aware'],
  execute: ['additional', 'bootstrap-server', 'command-config', 'throttle', 'replica-alter-log-dirs-throttle', 'timeout'],
  cancel: ['bootstrap-server', 'command-config', 'preserve-throttles', 'timeout'],
  list: ['bootstrap-server', 'command-config'],
};

const CANNOT_EXECUTE_BECAUSE_OF_EXISTING =
  'Cannot execute because there is an existing partition assignment.  Use --additional to override this and create a new partition assignment in addition to the existing one. The --additional flag can also be used to change the throttle by resubmitting the current reassignment.';
const MUST_RUN_VERIFY = 'Warning: You must run --verify periodically, until the reassignment completes, to ensure the throttle is removed.';
const BROKER_THROTTLES = ['leader.replication.throttled.rate', 'follower.replication.throttled.rate', 'replica.alter.log.dirs.io.max.bytes.per.second'];
const TOPIC_THROTTLES = ['leader.replication.throttled.replicas', 'follower.replication.throttled.replicas'];

/** A failure Kafka reports as its message alone (TerseException): stdout, exit 1. */
class Terse extends Error {}

const tp = (topic: string, partition: number) => `${topic}-${partition}`;
const byTopicPartition = (a: { topic: string; partition: number }, b: { topic: string; partition: number }) =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
const plural = (n: number) => (n === 1 ? '' : 's');

/** Kafka's action checks, in its order and words (ReassignPartitionsCommand.validateAndParseArgs). */
function actionOf(args: ParsedArgs): Action {
  const given = ACTIONS.filter((a) => args.has(a));
  if (given.length !== 1) throw new UsageError(`Command must include exactly one action: ${ACTIONS.map((a) => `--${a}`).join(', ')}`);
  const action = given[0];
  requireOptions(args, ...REQUIRED[action]);
  for (const name of args.present()) {
    if (name === action || name === 'output' || REQUIRED[action].includes(name) || PERMITTED[action].includes(name)) continue;
    throw new UsageError(`Option "[${name}]" can't be used with action "[${action}]"`);
  }
  return action;
}

async function readInput(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'ENOENT' ? `${path} (No such file or directory)` : (err as Error).message);
  }
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  const action = actionOf(args);
  // Read before connecting, as Kafka reads the file in handleAction before any request.
  const text = action === 'list' ? '' : await readInput(args.str(action === 'generate' ? 'topics-to-move-json-file' : 'reassignment-json-file')!);
  const props = args.has('command-config') ? await readPropertiesFile(args.str('command-config')!) : new Map<string, string>();
  if (!props.has('client.id')) props.set('client.id', 'reassign-partitions-tool');
  const client = await connect(ctx, bootstrapFrom(args, ctx.env), props, 'reassign-partitions-tool');
  const lines: string[] = [];
  const say = (s: string) => lines.push(s);
  let json: object = {};
  try {
    switch (action) {
      case 'generate':
        json = await generate(client, text, args.str('broker-list')!, !args.has('disable-rack-aware'), say);
        break;
      case 'execute':
        json = await execute(client, text, args.has('additional'), args.int('throttle')!, args.int('replica-alter-log-dirs-throttle')!, say);
        break;
      case 'verify':
        json = await verify(client, text, args.has('preserve-throttles'), say);
        break;
      case 'cancel':
        json = await cancel(client, text, args.has('preserve-throttles'), say);
        break;
      case 'list':
        json = await list(client, say);
        break;
    }
  } catch (err) {
    // What was printed before the failure stays printed, as Kafka's System.out lines do.
    if (ctx.out.mode !== 'json') ctx.out.write(lines.join(''));
    if (err instanceof Terse) {
      if (ctx.out.mode === 'json') ctx.out.write(`${JSON.stringify({ error: { message: err.message, exitCode: 1 } })}\n`);
      else ctx.out.write(`${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    client.close();
  }
  await ctx.out.print({ plain: lines.join(''), json });
  return 0;
}

// ---- --generate ----

async function generate(client: KafkaClient, text: string, brokerList: string, rackAware: boolean, say: (s: string) => void): Promise<object> {
  const brokers = brokerList.split(',').map((s) => {
    if (!/^[+-]?\d+$/.test(s) || Math.abs(Number(s)) > 2147483647) throw new CliError(`For input string: "${s}"`);
    return Number(s);
  });
  const dupBrokers = duplicates(brokers);
  if (dupBrokers.length > 0) throw new CliError(`Broker list contains duplicate entries: [${dupBrokers.join(', ')}]`);
  const topics = parseTopicsToMoveJson(text);
  const dupTopics = duplicates(topics);
  if (dupTopics.length > 0) throw new CliError(`List of topics to reassign contains duplicate entries: [${dupTopics.join(', ')}]`);

  const current = await currentAssignment(client, [...new Set(topics)]);
  const cluster = await client.admin.describeCluster();
  const chosen = cluster.brokers
    .filter((b) => brokers.includes(b.nodeId))
    .map((b) => ({ nodeId: b.nodeId, rack: rackAware ? b.rack : null }));
  const rackless = chosen.filter((b) => b.rack === null).length;
  if (rackAware && rackless !== 0 && rackless !== chosen.length) {
    throw new CliError('Not all brokers have rack information. Add --disable-rack-aware in command line to make replica assignment without rack information.');
  }
  const proposed: PartitionTarget[] = [];
  for (const topic of new Set(current.map((c) => c.topic))) {
    const partitions = current.filter((c) => c.topic === topic);
    try {
      for (const [partition, replicas] of assignReplicasToBrokers(chosen, partitions.length, partitions[0].replicas.length)) proposed.push({ topic, partition, replicas });
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  say(`Current partition replica assignment\n${reassignmentJson(current)}\n\n`);
  say(`Proposed partition reassignment configuration\n${reassignmentJson(proposed)}\n`);
  return { current: sorted(current), proposed: sorted(proposed) };
}

function duplicates<T>(items: T[]): T[] {
  return [...new Set(items.filter((x, i) => items.indexOf(x) !== i))];
}

const sorted = (list: PartitionTarget[]) => [...list].sort(byTopicPartition).map(({ topic, partition, replicas }) => ({ topic, partition, replicas }));

/** Every partition's replicas of the topics; a missing topic fails as Kafka's tool does. */
async function currentAssignment(client: KafkaClient, topics: string[]): Promise<PartitionTarget[]> {
  const described = await client.admin.describeTopics(topics);
  const out: PartitionTarget[] = [];
  for (const t of described) {
    if (t.errorCode !== 0) throw new CliError(`org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic ${t.name} not found.`);
    for (const p of t.partitions) out.push({ topic: t.name, partition: p.partition, replicas: p.replicas });
  }
  return out;
}

// ---- --execute ----

async function execute(client: KafkaClient, text: string, additional: boolean, throttle: number, logDirThrottle: number, say: (s: string) => void): Promise<object> {
  const targets = parseReassignmentJson(text);
  if (targets.length === 0) throw new CliError('Partition reassignment list cannot be empty');
  if (targets.some((t) => t.replicas.length === 0)) throw new CliError('Partition replica list cannot be empty');
  const dupParts = duplicates(targets.map((t) => tp(t.topic, t.partition)));
  if (dupParts.length > 0) throw new CliError(`Partition reassignment contains duplicate topic partitions: ${dupParts.join(',')}`);
  const dupReplicas = targets.map((t) => ({ t, d: duplicates(t.replicas) })).filter((x) => x.d.length > 0);
  if (dupReplicas.length > 0) {
    throw new CliError(`Partition replica lists may not contain duplicate entries: ${dupReplicas.map((x) => `${tp(x.t.topic, x.t.partition)} contains multiple entries for ${x.d.join(',')}`).join('. ')}`);
  }
  if (targets.some((t) => t.logDirs.some((d) => d !== 'any'))) {
    throw new CliError('kts does not move replicas between log directories: "log_dirs" may only hold "any"');
  }
  const ongoing = await client.admin.listPartitionReassignments();
  if (!additional && ongoing.length > 0) throw new Terse(CANNOT_EXECUTE_BECAUSE_OF_EXISTING);

  const known = new Set((await client.admin.describeCluster()).brokers.map((b) => b.nodeId));
  const unknown = [...new Set(targets.flatMap((t) => t.replicas))].find((id) => !known.has(id));
  if (unknown !== undefined) throw new CliError(`Unknown broker id ${unknown}`);

  const current = (await currentAssignment(client, [...new Set(targets.map((t) => t.topic))])).filter((c) => targets.some((t) => t.topic === c.topic && t.partition === c.partition));
  const missing = targets.filter((t) => !current.some((c) => c.topic === t.topic && c.partition === t.partition));
  if (missing.length > 0) {
    throw new CliError(`org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Unable to find partition: ${missing.map((m) => tp(m.topic, m.partition)).join(', ')}`);
  }
  say(`Current partition replica assignment\n\n${reassignmentJson(current)}\n\nSave this to use as the --reassignment-json-file option during rollback\n`);

  if (throttle >= 0 || logDirThrottle >= 0) {
    say(`${MUST_RUN_VERIFY}\n`);
    if (throttle >= 0) {
      await setInterBrokerThrottle(client, ongoing, targets, current, throttle);
      say(`The inter-broker throttle limit was set to ${throttle} B/s\n`);
    }
    // No log directory moves are accepted above, so no broker gets the log-dir throttle (as Kafka with none).
  }

  const results = await client.admin.alterPartitionReassignments(targets.map((t) => ({ topic: t.topic, partition: t.partition, replicas: t.replicas })));
  const failed = results.filter((r) => r.error).sort(byTopicPartition);
  if (failed.length > 0) {
    throw new Terse(`Error reassigning partition(s):\n${failed.map((f) => `${tp(f.topic, f.partition)}: ${(f.error as KafkaClientError).message}`).join('\n')}`);
  }
  const started = [...targets].sort(byTopicPartition).map((t) => tp(t.topic, t.partition));
  say(`Successfully started partition reassignment${plural(targets.length)} for ${started.join(',')}\n`);
  return { current: sorted(current), started };
}

/**
 * Kafka's throttle configs: per topic the moving partitions' sources (leader side) and new replicas
 * (follower side), and the rate on every broker involved. kts stores them; replication ignores them.
 */
async function setInterBrokerThrottle(
  client: KafkaClient,
  ongoing: { topic: string; partition: number; replicas: number[]; addingReplicas: number[] }[],
  targets: PartitionTarget[],
  current: PartitionTarget[],
  rate: number,
): Promise<void> {
  const moves = new Map<string, Map<number, { sources: Set<number>; destinations: Set<number> }>>();
  const movesOf = (topic: string) => moves.get(topic) ?? moves.set(topic, new Map()).get(topic)!;
  for (const r of ongoing) {
    movesOf(r.topic).set(r.partition, { sources: new Set(r.replicas.filter((x) => !r.addingReplicas.includes(x))), destinations: new Set(r.addingReplicas) });
  }
  for (const t of targets) {
    const sources = movesOf(t.topic).get(t.partition)?.sources ?? new Set(current.find((c) => c.topic === t.topic && c.partition === t.partition)!.replicas);
    movesOf(t.topic).set(t.partition, { sources, destinations: new Set(t.replicas.filter((r) => !sources.has(r))) });
  }
  const entries = (topicMoves: Map<number, { sources: Set<number>; destinations: Set<number> }>, side: 'sources' | 'destinations') =>
    [...new Set([...topicMoves].flatMap(([p, m]) => [...m[side]].map((b) => `${p}:${b}`)))].sort().join(',');
  await client.admin.incrementalAlterConfigs(
    [...moves].map(([topic, topicMoves]) => ({
      type: 'topic' as const,
      name: topic,
      ops: [
        { name: 'leader.replication.throttled.replicas', op: 'set' as const, value: entries(topicMoves, 'sources') },
        { name: 'follower.replication.throttled.replicas', op: 'set' as const, value: entries(topicMoves, 'destinations') },
      ],
    })),
  );
  const brokers = [...new Set([...moves.values()].flatMap((m) => [...m.values()].flatMap((x) => [...x.sources, ...x.destinations])))].sort((a, b) => a - b);
  const results = await client.admin.incrementalAlterConfigs(
    brokers.map((id) => ({
      type: 'broker' as const,
      name: String(id),
      ops: [
        { name: 'leader.replication.throttled.rate', op: 'set' as const, value: String(rate) },
        { name: 'follower.replication.throttled.rate', op: 'set' as const, value: String(rate) },
      ],
    })),
  );
  const failed = results.find((r) => r.error);
  if (failed) throw new CliError(failed.error!.javaString);
}

// ---- --verify / --cancel / --list ----

async function verify(client: KafkaClient, text: string, preserveThrottles: boolean, say: (s: string) => void): Promise<object> {
  const targets = parseReassignmentJson(text);
  const ongoing = await client.admin.listPartitionReassignments();
  const needDescribe = [...new Set(targets.filter((t) => !ongoing.some((o) => o.topic === t.topic && o.partition === t.partition)).map((t) => t.topic))];
  const described = new Map((await client.admin.describeTopics(needDescribe)).map((t) => [t.name, t]));
  const states = targets.map((t) => {
    const moving = ongoing.find((o) => o.topic === t.topic && o.partition === t.partition);
    if (moving) return { t, current: moving.replicas, done: false };
    const topic = described.get(t.topic)!;
    if (topic.errorCode !== 0) return { t, current: [] as number[], done: true };
    const p = topic.partitions.find((x) => x.partition === t.partition);
    if (!p) throw new CliError(`Index ${t.partition} out of bounds for length ${topic.partitions.length}`);
    return { t, current: p.replicas, done: true };
  });
  // One line per partition (a partition named twice in the file is reported once, as from Kafka's map).
  const unique = [...new Map(states.map((s) => [tp(s.t.topic, s.t.partition), s])).values()].sort((a, b) => byTopicPartition(a.t, b.t));
  const report = ['Status of partition reassignment:'];
  const json = [];
  for (const s of unique) {
    const name = tp(s.t.topic, s.t.partition);
    const same = s.current.join(',') === s.t.replicas.join(',');
    if (!s.done) report.push(`Reassignment of partition ${name} is still in progress.`);
    else if (same) report.push(`Reassignment of partition ${name} is completed.`);
    else report.push(`There is no active reassignment of partition ${name}, but replica set is ${s.current.join(',')} rather than ${s.t.replicas.join(',')}.`);
    json.push({ partition: name, state: !s.done ? 'in-progress' : same ? 'completed' : 'different', replicas: s.current, target: s.t.replicas });
  }
  say(`${report.join('\n')}\n`);
  // Kafka prints the (here always empty) report of log directory moves: an empty line.
  say('\n');
  if (ongoing.length === 0 && !preserveThrottles) await clearAllThrottles(client, targets, say);
  return { partitions: json };
}

async function clearAllThrottles(client: KafkaClient, targets: PartitionTarget[], say: (s: string) => void): Promise<void> {
  const brokerIds = [...(await client.admin.describeCluster()).brokers.map((b) => b.nodeId), ...targets.flatMap((t) => t.replicas)];
  const brokers = javaIntHashSetOrder(brokerIds);
  say(`Clearing broker-level throttles on broker${plural(brokers.length)} ${brokers.join(',')}\n`);
  const cleared = await client.admin.incrementalAlterConfigs(brokers.map((id) => ({ type: 'broker' as const, name: String(id), ops: BROKER_THROTTLES.map((name) => ({ name, op: 'delete' as const })) })));
  const brokerFailure = cleared.find((r) => r.error);
  if (brokerFailure) throw new CliError(brokerFailure.error!.javaString);
  const topics = javaHashMapOrder([...new Set(targets.map((t) => t.topic))], 16);
  say(`Clearing topic-level throttles on topic${plural(topics.length)} ${topics.join(',')}\n`);
  const clearedTopics = await client.admin.incrementalAlterConfigs(topics.map((name) => ({ type: 'topic' as const, name, ops: TOPIC_THROTTLES.map((n) => ({ name: n, op: 'delete' as const })) })));
  const topicFailure = clearedTopics.find((r) => r.error);
  if (topicFailure) throw new CliError(topicFailure.error!.javaString);
}

async function cancel(client: KafkaClient, text: string, preserveThrottles: boolean, say: (s: string) => void): Promise<object> {
  const targets = parseReassignmentJson(text);
  const asked = [...new Map(targets.map((t) => [tp(t.topic, t.partition), { topic: t.topic, partition: t.partition }])).values()];
  const ongoing = asked.length === 0 ? [] : await client.admin.listPartitionReassignments(asked);
  // Kafka's condition, kept as it is.
  const toCancel = ongoing.filter((r) => r.addingReplicas.length === 0 || r.removingReplicas.length > 0).sort(byTopicPartition);
  if (toCancel.length > 0) {
    const results = await client.admin.alterPartitionReassignments(toCancel.map((r) => ({ topic: r.topic, partition: r.partition, replicas: null })));
    const failed = results.filter((r) => r.error).sort(byTopicPartition);
    if (failed.length > 0) {
      throw new Terse(`Error cancelling partition reassignment${plural(failed.length)} for:\n${failed.map((f) => `${tp(f.topic, f.partition)}: ${(f.error as KafkaClientError).message}`).join('\n')}`);
    }
    say(`Successfully cancelled partition reassignment${plural(toCancel.length)} for: ${toCancel.map((r) => tp(r.topic, r.partition)).join(',')}\n`);
  } else {
    say('None of the specified partition reassignments are active.\n');
  }
  // Kafka prints this one without a line break.
  say('None of the specified partition moves are active.');
  if (!preserveThrottles) await clearAllThrottles(client, targets, say);
  return { cancelled: toCancel.map((r) => tp(r.topic, r.partition)) };
}

async function list(client: KafkaClient, say: (s: string) => void): Promise<object> {
  const ongoing = (await client.admin.listPartitionReassignments()).sort(byTopicPartition);
  if (ongoing.length === 0) say('No partition reassignments found.\n');
  else {
    const lines = ongoing.map(
      (r) =>
        `${tp(r.topic, r.partition)}: replicas: ${r.replicas.join(',')}.` +
        (r.addingReplicas.length ? ` adding: ${r.addingReplicas.join(',')}.` : '') +
        (r.removingReplicas.length ? ` removing: ${r.removingReplicas.join(',')}.` : ''),
    );
    say(`Current partition reassignments:\n${lines.join('\n')}\n`);
  }
  return {
    reassignments: ongoing.map((r) => ({ partition: tp(r.topic, r.partition), replicas: r.replicas, adding: r.addingReplicas, removing: r.removingReplicas })),
  };
}
