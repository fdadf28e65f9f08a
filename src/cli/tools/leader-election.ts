// The work of `kts leader-election` (Kafka's LeaderElectionCommand): checks the options in Kafka's
// order and words, sends one ElectLeaders to the controller, and prints the partitions elected,
// those that needed nothing and those that failed, each set in the order Java's HashSet/HashMap of
// TopicPartition iterates (the order Kafka's tool prints).
import { readFile } from 'node:fs/promises';
import type { KafkaClientError } from '../../client/errors.js';
import { bootstrapFrom, connect, readPropertiesFile } from '../connect.js';
import { activeProfile } from '../profiles.js';
import { CliError } from '../errors.js';
import { javaStringHash } from '../java-hash-order.js';
import type { ParsedArgs } from '../options.js';
import type { ToolContext } from '../tool.js';

interface TopicPartition {
  topic: string;
  partition: number;
}

type ElectionType = 'PREFERRED' | 'UNCLEAN';

/** What Kafka's tool throws (AdminCommandFailedException): its message on stderr, exit 1. */
const failed = (message: string) => new CliError(message);

function electionTypeOf(value: string): ElectionType {
  // jopt-simple's EnumConverter: the constant's name, any case.
  const upper = value.toUpperCase();
  if (upper === 'PREFERRED' || upper === 'UNCLEAN') return upper;
  throw failed(`Cannot parse argument '${value}' of option election-type`);
}

/** Kafka's LeaderElectionCommandOptions.validate, in its order. */
function validate(args: ParsedArgs, env: NodeJS.ProcessEnv): void {
  const missing: string[] = [];
  if (!args.has('bootstrap-server') && !env.KTS_BOOTSTRAP_SERVER && !activeProfile(env)) missing.push('bootstrap-server');
  if (!args.has('election-type')) missing.push('election-type');
  if (missing.length > 0) throw failed(`Missing required option(s): ${missing.join(', ')}`);
  const exclusive = ['topic', 'all-topic-partitions', 'path-to-json-file'];
  if (exclusive.filter((o) => args.has(o)).length !== 1) throw failed(`One and only one of the following options is required: ${exclusive.join(', ')}`);
  if (args.has('topic') && !args.has('partition')) throw failed('Missing required option(s): partition');
  if (!args.has('topic') && args.has('partition')) throw failed('Option partition is only allowed if topic is used');
}

/** The JSON file: {"partitions": [{"topic": "foo", "partition": 1}, ...]}. */
export function parseElectionJson(text: string): TopicPartition[] {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw failed(`The JSON file is not valid JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object' || !('partitions' in doc)) throw failed('Replica election data is missing "partitions" field');
  if (!Array.isArray(doc.partitions)) throw failed('Replica election data is missing "partitions" field');
  const partitions: TopicPartition[] = doc.partitions.map((p: any) => {
    if (typeof p?.topic !== 'string' || !Number.isInteger(p?.partition)) throw failed(`Each partition needs "topic" (string) and "partition" (integer): ${JSON.stringify(p)}`);
    return { topic: p.topic, partition: p.partition };
  });
  // Kafka 3.9 sends an empty list as it is (nothing elected, nothing printed, exit 0).
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const tp of partitions) {
    const k = `${tp.topic}-${tp.partition}`;
    if (seen.has(k)) duplicates.add(k);
    seen.add(k);
  }
  if (duplicates.size > 0) throw failed(`Replica election data contains duplicate partitions: [${[...duplicates].join(', ')}]`);
  return partitions;
}

/** TopicPartition#hashCode. */
function topicPartitionHash(tp: TopicPartition): number {
  return (Math.imul(31, 31 + tp.partition) + javaStringHash(tp.topic)) | 0;
}

/** The iteration order of a default-sized java.util.HashSet/HashMap of these partitions. */
export function javaTopicPartitionOrder<T extends TopicPartition>(items: readonly T[]): T[] {
  let capacity = 16;
  while (items.length > capacity * 0.75) capacity *= 2;
  const bucket = (tp: TopicPartition) => {
    const h = topicPartitionHash(tp);
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  return items
    .map((item, i) => ({ item, i, b: bucket(item) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((e) => e.item);
}

const name = (tp: TopicPartition) => `${tp.topic}-${tp.partition}`;

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  validate(args, ctx.env);
  const type = electionTypeOf(args.str('election-type')!);
  let partitions: TopicPartition[] | null = null;
  if (args.has('topic')) partitions = [{ topic: args.str('topic')!, partition: args.int('partition')! }];
  else if (args.has('path-to-json-file')) {
    const path = args.str('path-to-json-file')!;
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw failed(err.code === 'ENOENT' ? path : err.message);
    });
    partitions = parseElectionJson(text);
  }
  const props = args.has('admin.config') ? await readPropertiesFile(args.str('admin.config')!) : new Map<string, string>();
  const client = await connect(ctx, bootstrapFrom(args, ctx.env), props, 'kts-leader-election');
  let results: { topic: string; partition: number; error?: KafkaClientError }[];
  try {
    results = await ctx.out.spin('Electing leaders', client.admin.electLeaders(type, partitions, { timeoutMs: 30_000 }));
  } catch (err) {
    const e = err as KafkaClientError;
    if (e.code === 7 || /timed out/i.test(e.message)) {
      ctx.out.write('Timeout waiting for election results\n');
      throw failed('Timeout waiting for election results');
    }
    if (e.code === 31) {
      ctx.out.write('Not authorized to perform leader election\n');
      throw failed('Not authorized to perform leader election');
    }
    throw failed('Error while making request');
  } finally {
    client.close();
  }
  // The admin client's answer is a HashMap; each set below is a HashSet filled in its order.
  const ordered = javaTopicPartitionOrder(results);
  const succeeded = ordered.filter((r) => !r.error);
  const notNeeded = ordered.filter((r) => r.error?.javaName === 'ElectionNotNeededException');
  const failures = ordered.filter((r) => r.error && r.error.javaName !== 'ElectionNotNeededException');
  const lines: string[] = [];
  if (succeeded.length > 0) lines.push(`Successfully completed leader election (${type}) for partitions ${succeeded.map(name).join(', ')}`);
  if (notNeeded.length > 0) lines.push(`Valid replica already elected for partitions ${notNeeded.map(name).join(', ')}`);
  for (const f of failures) lines.push(`Error completing leader election (${type}) for partition: ${name(f)}: ${f.error!.javaString}`);
  await ctx.out.print({
    plain: lines.map((l) => `${l}\n`).join(''),
    json: {
      electionType: type,
      succeeded: succeeded.map(name),
      notNeeded: notNeeded.map(name),
      failed: failures.map((f) => ({ partition: name(f), error: f.error!.javaString })),
    },
  });
  if (failures.length > 0) throw failed(`${failures.length} replica(s) could not be elected`);
  return 0;
}
