// The work of `kts streams-application-reset` (Kafka's StreamsResetter): refuse while the
// application's group has members (or remove them with --force), move the group's committed offsets
// of the input topics (earliest by default, or --to-offset, --to-latest, --shift-by, --to-datetime,
// --by-duration, --from-file) and of the intermediate topics (to the end), then delete the internal
// topics: `<application.id>-...-changelog`, `-repartition` and the foreign-key join topics. The text
// and exit codes are Kafka 4.4's; sets and maps print in the order Java's HashMap iterates them.
import { readFile } from 'node:fs/promises';
import type { KafkaClient } from '../../client/index.js';
import { bootstrapFrom, connect, readPropertiesFile } from '../connect.js';
import { CliError, UsageError } from '../errors.js';
import { javaHashMapOrder, javaHashOrder, javaTopicPartitionHash } from '../java-hash-order.js';
import { rejectCombination, type ParsedArgs } from '../options.js';
import type { ToolContext } from '../tool.js';

interface TP {
  topic: string;
  partition: number;
}

const RESET_OPTIONS = ['to-offset', 'to-datetime', 'by-duration', 'to-earliest', 'to-latest', 'from-file', 'shift-by'] as const;

/** Kafka's StreamsResetter#matchesInternalTopicFormat. */
export function matchesInternalTopicFormat(topic: string): boolean {
  return (
    topic.endsWith('-changelog') ||
    topic.endsWith('-repartition') ||
    topic.endsWith('-subscription-registration-topic') ||
    topic.endsWith('-subscription-response-topic') ||
    /^.+-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-\d+-topic$/.test(topic) ||
    /^.+-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-\d+-topic$/.test(topic)
  );
}

/** java.time.Duration.parse for the forms people write: PnDTnHnMnS (each part optional, fractions of seconds, a sign). */
export function parseIsoDuration(text: string): number {
  const m = /^([-+]?)P(?:([-+]?\d+)D)?(?:T(?:([-+]?\d+)H)?(?:([-+]?\d+)M)?(?:([-+]?\d+)(?:[.,](\d{0,9}))?S)?)?$/i.exec(text);
  if (!m || (m[2] === undefined && m[3] === undefined && m[4] === undefined && m[5] === undefined) || /T$/i.test(text)) {
    throw new CliError(`java.time.format.DateTimeParseException: Text cannot be parsed to a Duration`);
  }
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s));
  const seconds = n(m[2]) * 86400 + n(m[3]) * 3600 + n(m[4]) * 60 + n(m[5]);
  const frac = m[6] ? Number(`0.${m[6]}`) * (m[5]?.startsWith('-') ? -1 : 1) : 0;
  return (m[1] === '-' ? -1 : 1) * Math.round((seconds + frac) * 1000);
}

/** Kafka's Utils.getDateTime: 'YYYY-MM-DDTHH:mm:SS.sss', optionally with a zone (Z, ±hh:mm, ±hhmm); none = local time. */
export function parseDateTime(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!m) throw new CliError(`java.text.ParseException: Unparseable date: "${text}"`);
  const zone = m[2] === undefined ? '' : m[2] === 'Z' ? 'Z' : m[2].includes(':') ? m[2] : `${m[2].slice(0, 3)}:${m[2].slice(3)}`;
  const ms = Date.parse(`${m[1]}${zone}`);
  if (Number.isNaN(ms)) throw new CliError(`java.text.ParseException: Unparseable date: "${text}"`);
  return ms;
}

/** A --from-file plan: TOPIC,PARTITION,OFFSET per line. */
function parseResetPlan(text: string): Map<string, number> {
  if (text === '') throw new CliError('java.text.ParseException: Error parsing reset plan CSV file. It is empty,');
  const plan = new Map<string, number>();
  for (const line of text.split('\n')) {
    const parts = line.split(',');
    if (parts.length !== 3) throw new CliError('java.text.ParseException: Reset plan CSV file is not following the format `TOPIC,PARTITION,OFFSET`.');
    const partition = Number(parts[1]);
    const offset = Number(parts[2]);
    if (!/^[-+]?\d+$/.test(parts[1]) || !/^[-+]?\d+$/.test(parts[2].trim())) throw new CliError(`java.lang.NumberFormatException: For input string: "${/^[-+]?\d+$/.test(parts[1]) ? parts[2] : parts[1]}"`);
    plan.set(`${parts[0]}\0${partition}`, offset);
  }
  return plan;
}

const list = (args: ParsedArgs, name: string): string[] => args.all(name).flatMap((v) => v.split(',')).filter((t) => t !== '');
const key = (tp: TP) => `${tp.topic}\0${tp.partition}`;

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  if (!args.has('application-id')) throw new UsageError('Missing required option(s) [application-id]');
  for (const option of RESET_OPTIONS) rejectCombination(args, option, RESET_OPTIONS.filter((o) => o !== option));
  const appId = args.str('application-id')!;
  const dryRun = args.has('dry-run');
  const inputTopics = list(args, 'input-topics');
  const intermediateTopics = list(args, 'intermediate-topics');
  const configFile = args.str('command-config') ?? args.str('config-file');
  const props = configFile ? await readPropertiesFile(configFile) : new Map<string, string>();
  const out = (line: string) => ctx.out.write(`${line}\n`);
  const client = await connect(ctx, bootstrapFrom(args, ctx.env), props, 'kts-streams-application-reset');
  try {
    await maybeDeleteActiveMembers(client, appId, args.has('force'), out);
    const topics = await client.admin.listTopics();
    // The admin client's ListTopicsResult.names(): the keys of a HashMap filled in metadata order.
    const allTopics = javaHashMapOrder(topics.map((t) => t.name), 16);
    if (dryRun) out('----Dry run displays the actions which will be performed when running Streams Reset Tool----');
    let exitCode = await resetOffsets(client, args, appId, inputTopics, intermediateTopics, new Map(topics.map((t) => [t.name, t.partitions.map((p) => p.partition)])), out);
    exitCode |= await deleteInternalTopics(client, args, appId, allTopics, inputTopics, intermediateTopics, out, (line) => ctx.out.stderr.write(`${line}\n`));
    return exitCode;
  } finally {
    client.close();
  }
}

async function maybeDeleteActiveMembers(client: KafkaClient, appId: string, force: boolean, out: (l: string) => void): Promise<void> {
  const [group] = await client.groups.describeGroups([appId]);
  const members = group?.members ?? [];
  if (members.length === 0) return;
  if (!force) {
    // The admin client's MemberDescription#toString, for a classic group's members.
    const described = members
      .map((m) => {
        const assigned = m.assignment.map((tp) => `${tp.topic}-${tp.partition}`).join(',');
        return `(memberId=${m.memberId}, groupInstanceId=${m.groupInstanceId ?? 'null'}, rackId=null, clientId=${m.clientId}, host=${m.clientHost}, assignment=(topicPartitions=${assigned}), targetAssignment=Optional.empty, memberEpoch=null, upgraded=null)`;
      })
      .join(', ');
    throw new CliError(
      `java.lang.IllegalStateException: Consumer group '${appId}' is still active and has following members: [${described}]. ` +
        "Make sure to stop all running application instances before running the reset tool. You can use option '--force' to remove active members from the group.",
    );
  }
  out(`Force deleting all active members in the group: ${appId}`);
  for (const m of members) await client.groups.leaveGroup(appId, m.memberId, m.groupInstanceId ?? null);
}

async function resetOffsets(
  client: KafkaClient,
  args: ParsedArgs,
  appId: string,
  inputTopics: string[],
  intermediateTopics: string[],
  partitionsOf: Map<string, number[]>,
  out: (l: string) => void,
): Promise<number> {
  if (intermediateTopics.length > 0) out('WARN: `--intermediate-topics` is deprecated and will be removed in a future release');
  if (inputTopics.length === 0 && intermediateTopics.length === 0) {
    out('No input or intermediate topics specified. Skipping seek.');
    return 0;
  }
  if (inputTopics.length > 0) out(`Reset-offsets for input topics [${inputTopics.join(', ')}]`);
  if (intermediateTopics.length > 0) out(`Seek-to-end for intermediate topics [${intermediateTopics.join(', ')}]`);
  let exitCode = 0;
  const missingInput = inputTopics.filter((t) => !partitionsOf.has(t));
  const missingIntermediate = intermediateTopics.filter((t) => !partitionsOf.has(t));
  if (missingInput.length > 0) {
    out('Following input topics are not found, skipping them');
    for (const t of missingInput) out(`Topic: ${t}`);
    exitCode = 1;
  }
  if (missingIntermediate.length > 0) {
    out('Following intermediate topics are not found, skipping them');
    for (const t of missingIntermediate) out(`Topic:${t}`);
    exitCode = 1;
  }
  // A HashSet of the found topics, sized for all of them, then each topic's partitions.
  const subscribed = javaHashMapOrder([...new Set([...inputTopics, ...intermediateTopics].filter((t) => partitionsOf.has(t)))], inputTopics.length + intermediateTopics.length);
  if (subscribed.length === 0) return exitCode;
  const partitions: TP[] = subscribed.flatMap((topic) => partitionsOf.get(topic)!.map((partition) => ({ topic, partition })));
  const inputs = javaHashOrder(partitions.filter((p) => inputTopics.includes(p.topic)), javaTopicPartitionHash);
  const intermediates = javaHashOrder(partitions.filter((p) => !inputTopics.includes(p.topic) && intermediateTopics.includes(p.topic)), javaTopicPartitionHash);

  const offsetsAt = async (tps: TP[], timestamp: number) => {
    const listed = await client.admin.listOffsets(tps.map((tp) => ({ ...tp, timestamp })));
    const m = new Map<string, number>();
    for (const l of listed) {
      if (l.error) throw l.error;
      m.set(key(l), l.offset);
    }
    return m;
  };
  const positions = new Map<string, number>();
  if (inputs.length > 0) {
    out(`Following input topics offsets will be reset to (for consumer group ${appId})`);
    const [earliest, latest] = [await offsetsAt(inputs, -2), await offsetsAt(inputs, -1)];
    /** Kafka's checkOffsetRange, its messages in the order of a HashMap of the partitions. */
    const inRange = (wanted: Map<string, number>, capacity: number) => {
      for (const tp of javaHashOrder(inputs, javaTopicPartitionHash, capacity)) {
        const offset = wanted.get(key(tp))!;
        const end = latest.get(key(tp))!;
        const start = earliest.get(key(tp))!;
        if (offset >= end) {
          out(`New offset (${offset}) is higher than latest offset. Value will be set to ${end}`);
          positions.set(key(tp), end);
        } else if (offset <= start) {
          out(`New offset (${offset}) is lower than earliest offset. Value will be set to ${start}`);
          positions.set(key(tp), start);
        } else positions.set(key(tp), offset);
      }
    };
    if (args.has('to-offset')) {
      const to = Number(args.str('to-offset'));
      inRange(new Map(inputs.map((tp) => [key(tp), to])), inputs.length);
    } else if (args.has('to-latest')) {
      for (const [k, v] of latest) positions.set(k, v);
    } else if (args.has('shift-by')) {
      const by = Number(args.str('shift-by'));
      // The reset consumer's position: the committed offset, else auto.offset.reset (latest).
      const committed = new Map((await client.groups.fetchOffsets(appId, inputs)).filter((c) => c.offset >= 0).map((c) => [key(c), c.offset]));
      inRange(new Map(inputs.map((tp) => [key(tp), (committed.get(key(tp)) ?? latest.get(key(tp))!) + by])), inputs.length);
    } else if (args.has('to-datetime') || args.has('by-duration')) {
      const timestamp = args.has('to-datetime') ? parseDateTime(args.str('to-datetime')!) : Date.now() - parseIsoDuration(args.str('by-duration')!);
      const found = await offsetsAt(inputs, timestamp);
      for (const tp of inputs) {
        const offset = found.get(key(tp));
        if (offset !== undefined && offset >= 0) positions.set(key(tp), offset);
        else {
          positions.set(key(tp), latest.get(key(tp))!);
          out(`Partition ${tp.partition} from topic ${tp.topic} is empty, without a committed record. Falling back to latest known offset.`);
        }
      }
    } else if (args.has('from-file')) {
      const path = args.str('from-file')!;
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch {
        throw new CliError(`java.nio.file.NoSuchFileException: ${path}`);
      }
      const plan = parseResetPlan(text);
      const wanted = new Map(inputs.map((tp) => [key(tp), plan.get(key(tp))]));
      const unplanned = inputs.find((tp) => wanted.get(key(tp)) === undefined);
      if (unplanned) throw new CliError('java.lang.NullPointerException');
      inRange(wanted as Map<string, number>, 16);
    } else {
      for (const [k, v] of earliest) positions.set(k, v);
    }
    for (const tp of inputs) out(`Topic: ${tp.topic} Partition: ${tp.partition} Offset: ${positions.get(key(tp))}`);
  }
  if (intermediates.length > 0) {
    out(`Following intermediate topics offsets will be reset to end (for consumer group ${appId})`);
    for (const tp of intermediates) out(`Topic: ${tp.topic}`);
    for (const [k, v] of await offsetsAt(intermediates, -1)) positions.set(k, v);
  }
  if (!args.has('dry-run')) {
    const commits = [...inputs, ...intermediates].map((tp) => ({ ...tp, offset: positions.get(key(tp))! }));
    for (const r of await client.groups.commitOffsets(appId, commits)) if (r.error) throw r.error;
  }
  out('Done.');
  return exitCode;
}

async function deleteInternalTopics(
  client: KafkaClient,
  args: ParsedArgs,
  appId: string,
  allTopics: string[],
  inputTopics: string[],
  intermediateTopics: string[],
  out: (l: string) => void,
  err: (l: string) => void,
): Promise<number> {
  const inferred = allTopics.filter((t) => t.startsWith(`${appId}-`) && matchesInternalTopicFormat(t) && !inputTopics.includes(t) && !intermediateTopics.includes(t));
  const specified = list(args, 'internal-topics');
  let toDelete: string[];
  if (specified.length > 0) {
    if (!specified.every((t) => inferred.includes(t))) {
      throw new CliError(
        'java.lang.IllegalArgumentException: Invalid topic specified in the --internal-topics option. Ensure that the topics specified are all internal topics. ' +
          'Do a dry run without the --internal-topics option to see the list of all internal topics that can be deleted.',
      );
    }
    toDelete = specified;
    out(`Deleting specified internal topics [${toDelete.join(', ')}]`);
  } else {
    toDelete = inferred;
    out(`Deleting inferred internal topics [${toDelete.join(', ')}]`);
  }
  if (!args.has('dry-run') && toDelete.length > 0) {
    const failed = (await client.admin.deleteTopics(toDelete)).filter((r) => r.error);
    for (const r of failed) err(`ERROR: deleting topic ${r.name}: ${r.error!.message}`);
    if (failed.length > 0) throw new CliError('java.lang.RuntimeException: Encountered an error deleting one or more topics');
  }
  out('Done.');
  return 0;
}
