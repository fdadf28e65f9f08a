// --reset-offsets: plan new committed offsets for inactive groups (Empty, or Dead = unknown) with
// one scenario, then print them (dry run, the default) or commit them (--execute), or export CSV.
// Requested offsets are kept within [log start, log end] with a WARN line, as Kafka does.
import { readFile } from 'node:fs/promises';
import type { KafkaClient, TopicPartition } from '../../client/index.js';
import { CliError, UsageError } from '../errors.js';
import type { ParsedArgs } from '../options.js';
import type { View } from '../output.js';
import { parseTopicArg } from './args.js';
import type { Notes } from './describe.js';
import { col, errorText, log4j } from './text.js';

type Planned = TopicPartition & { offset: number };

export interface ResetResult {
  group: string;
  offsets: Planned[];
  error?: string;
}

const key = (tp: TopicPartition) => `${tp.topic}:${tp.partition}`;
const sorted = <T extends TopicPartition>(list: T[]) => [...list].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));

export async function resetOffsets(client: KafkaClient, args: ParsedArgs, groupIds: string[], notes: Notes): Promise<View> {
  const execute = args.has('execute');
  const results: ResetResult[] = [];
  const plain: string[] = [];
  const fileWanted = args.has('from-file');
  const plan = fileWanted ? parseResetPlan(await readPlanFile(args.str('from-file')!), args.all('group')) : null;
  const described = await client.groups.describeGroups([...new Set(groupIds)]);
  for (const g of described) {
    if (g.state !== 'Empty' && g.state !== 'Dead') {
      plain.push(errorText(`Assignments can only be reset if the group '${g.groupId}' is inactive, but the current state is ${g.state}.`));
      notes.failed = true;
      results.push({ group: g.groupId, offsets: [], error: `group is ${g.state}` });
      continue;
    }
    let offsets: Planned[];
    if (plan) {
      const forGroup = plan.get(g.groupId);
      if (!forGroup) {
        plain.push(errorText(`No reset plan for group ${g.groupId} found`));
        notes.failed = true;
        results.push({ group: g.groupId, offsets: [], error: 'no reset plan' });
        continue;
      }
      offsets = await clampToLog(client, forGroup, notes);
    } else {
      offsets = await planOffsets(client, args, g.groupId, await partitionsToReset(client, args, g.groupId), notes, (line) => plain.push(line));
    }
    offsets = sorted(offsets);
    if (execute && offsets.length > 0) {
      const committed = await client.groups.commitOffsets(g.groupId, offsets);
      const failed = committed.find((c) => c.error);
      if (failed?.error) throw failed.error;
    }
    results.push({ group: g.groupId, offsets });
  }

  const json = { groups: results.map((r) => ({ group: r.group, offsets: r.offsets, executed: execute && !r.error, ...(r.error ? { error: r.error } : {}) })) };
  if (args.has('export')) {
    const single = args.all('group').length === 1;
    const lines = results.flatMap((r) => r.offsets.map((o) => (single ? `${o.topic},${o.partition},${o.offset}\n` : `${r.group},${o.topic},${o.partition},${o.offset}\n`)));
    plain.push(`${lines.join('')}\n`);
    return { plain: plain.join(''), json };
  }
  if (results.length > 0) {
    const fmt = (c: (string | number)[]) => `${col(c[0], 30)} ${col(c[1], 30)} ${col(c[2], 10)} ${col(c[3], 15)}`;
    plain.push(`\n${fmt(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'])}\n`);
    for (const r of results) for (const o of r.offsets) plain.push(`${fmt([r.group, o.topic, o.partition, o.offset])}\n`);
  }
  const rows = results.flatMap((r) => r.offsets.map((o) => [r.group, o.topic, o.partition, o.offset]));
  return { plain: plain.join(''), json, tables: rows.length ? [{ title: execute ? 'New committed offsets' : 'Planned offsets (dry run)', head: ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], rows }] : [] };
}

/** --all-topics: what the group has committed; --topic t / t:0,1: those partitions. */
async function partitionsToReset(client: KafkaClient, args: ParsedArgs, groupId: string): Promise<TopicPartition[]> {
  if (args.has('all-topics')) {
    return (await client.groups.fetchOffsets(groupId)).filter((c) => c.offset >= 0).map(({ topic, partition }) => ({ topic, partition }));
  }
  if (args.has('topic')) {
    const out: TopicPartition[] = [];
    for (const raw of args.all('topic')) {
      const { topic, partitions } = parseTopicArg(raw);
      if (partitions) out.push(...partitions.map((partition) => ({ topic, partition })));
      else {
        const md = await client.topic(topic, true);
        if (md.errorCode) throw new CliError(`Topic '${topic}' does not exist`);
        out.push(...md.partitions.map((p) => ({ topic, partition: p.partition })));
      }
    }
    return out;
  }
  throw new UsageError('One of the reset scopes should be defined: --all-topics, --topic.');
}

async function listOffsets(client: KafkaClient, partitions: TopicPartition[], timestamp: number, what: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (partitions.length === 0) return out;
  for (const l of await client.admin.listOffsets(partitions.map((p) => ({ ...p, timestamp })))) {
    if (l.error) throw new UsageError(`Error getting ${what} of topic partition: ${l.topic}-${l.partition}`);
    out.set(key(l), l.offset);
  }
  return out;
}

/** `say` prints on stdout before the table (Kafka's println of a fallback). */
async function planOffsets(client: KafkaClient, args: ParsedArgs, groupId: string, partitions: TopicPartition[], notes: Notes, say: (text: string) => void): Promise<Planned[]> {
  const at = (m: Map<string, number>) => partitions.map((tp) => ({ ...tp, offset: m.get(key(tp))! }));
  if (args.has('to-offset')) {
    const offset = args.int('to-offset')!;
    return clampToLog(client, partitions.map((tp) => ({ ...tp, offset })), notes);
  }
  if (args.has('to-earliest')) return at(await listOffsets(client, partitions, -2, 'starting offset'));
  if (args.has('to-latest')) return at(await listOffsets(client, partitions, -1, 'ending offset'));
  if (args.has('shift-by')) {
    const shift = args.int('shift-by')!;
    const committed = await committedOf(client, groupId);
    const requested = partitions.map((tp) => {
      const current = committed.get(key(tp));
      if (current === undefined) throw new UsageError(`Cannot shift offset for partition ${tp.topic}-${tp.partition} since there is no current committed offset`);
      return { ...tp, offset: current + shift };
    });
    return clampToLog(client, requested, notes);
  }
  if (args.has('to-datetime') || args.has('by-duration')) {
    const timestamp = args.has('to-datetime') ? parseDateTime(args.str('to-datetime')!) : Date.now() - parseDuration(args.str('by-duration')!);
    const byTime = await listOffsets(client, partitions, timestamp, 'offset by timestamp');
    const missing = partitions.filter((tp) => (byTime.get(key(tp)) ?? -1) < 0);
    // No record at or after that time: Kafka says so on stdout, then takes the log end.
    for (const tp of missing) say(`\nWarn: Partition ${tp.partition} from topic ${tp.topic} is empty. Falling back to latest known offset.\n`);
    const ends = await listOffsets(client, missing, -1, 'ending offset');
    return partitions.map((tp) => ({ ...tp, offset: (byTime.get(key(tp)) ?? -1) >= 0 ? byTime.get(key(tp))! : ends.get(key(tp))! }));
  }
  if (args.has('to-current')) {
    const committed = await committedOf(client, groupId);
    const missing = partitions.filter((tp) => !committed.has(key(tp)));
    const ends = await listOffsets(client, missing, -1, 'ending offset');
    return partitions.map((tp) => ({ ...tp, offset: committed.get(key(tp)) ?? ends.get(key(tp))! }));
  }
  // Kafka 3.9's wording, its set printed in Java's hash order.
  throw new UsageError(
    "Option '[reset-offsets]' requires one of the following scenarios: [[to-offset], [to-current], [to-datetime], [from-file], [by-duration], [to-earliest], [to-latest], [shift-by]]",
  );
}

async function committedOf(client: KafkaClient, groupId: string): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  for (const c of await client.groups.fetchOffsets(groupId)) if (c.offset >= 0) m.set(key(c), c.offset);
  return m;
}

/** Kafka's checkOffsetsRange: out-of-range requests move to the log's ends, with a WARN. */
async function clampToLog(client: KafkaClient, requested: Planned[], notes: Notes): Promise<Planned[]> {
  const tps = requested.map(({ topic, partition }) => ({ topic, partition }));
  const starts = await listOffsets(client, tps, -2, 'starting offset');
  const ends = await listOffsets(client, tps, -1, 'ending offset');
  return requested.map((r) => {
    const end = ends.get(key(r));
    const start = starts.get(key(r));
    if (end !== undefined && r.offset > end) {
      notes.stderr.push(log4j('WARN', `New offset (${r.offset}) is higher than latest offset for topic partition ${r.topic}-${r.partition}. Value will be set to ${end}`));
      return { ...r, offset: end };
    }
    if (start !== undefined && r.offset < start) {
      notes.stderr.push(log4j('WARN', `New offset (${r.offset}) is lower than earliest offset for topic partition ${r.topic}-${r.partition}. Value will be set to ${start}`));
      return { ...r, offset: start };
    }
    return r;
  });
}

async function readPlanFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(`${path} (${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (err as Error).message})`);
  }
}

/** The --export CSV read back: `topic,partition,offset` (with one --group) or `group,topic,partition,offset`. */
export function parseResetPlan(csv: string, groups: string[]): Map<string, Planned[]> {
  const plan = new Map<string, Planned[]>();
  const lines = csv.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) return plan;
  const threeColumns = lines[0].split(',').length === 3;
  const add = (group: string, topic: string, partition: string, offset: string) => {
    const p = Number(partition);
    const o = Number(offset);
    if (!Number.isInteger(p) || !Number.isInteger(o)) throw new CliError(`Invalid line in the reset plan: ${[group, topic, partition, offset].join(',')}`);
    plan.set(group, [...(plan.get(group) ?? []), { topic, partition: p, offset: o }]);
  };
  for (const line of lines) {
    const cells = line.split(',');
    if (threeColumns && groups.length === 1) {
      if (cells.length !== 3) throw new CliError(`Invalid line in the reset plan: ${line}`);
      add(groups[0], cells[0], cells[1], cells[2]);
    } else {
      if (cells.length !== 4) throw new CliError(`Invalid line in the reset plan: ${line}`);
      add(cells[0], cells[1], cells[2], cells[3]);
    }
  }
  return plan;
}

/**
 * Kafka's Utils.getDateTime: `yyyy-MM-ddTHH:mm:ss.SSS` with an optional zone (`Z`, `+hh:mm`,
 * `+hhmm`, `+hh`); no zone means UTC.
 */
export function parseDateTime(text: string): number {
  const parts = text.split('T');
  if (parts.length < 2) throw new UsageError("Error parsing timestamp. It does not contain a 'T' according to ISO8601 format");
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(text);
  if (!m) throw new CliError(`Unparseable date: "${text}"`);
  const [, y, mo, d, h, mi, s, ms, zone] = m;
  let offsetMin = 0;
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
  }
  return Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, +ms) - offsetMin * 60_000;
}

/** java.time.Duration.parse: `PnDTnHnMn.nS`, optionally signed. Returns milliseconds. */
export function parseDuration(text: string): number {
  const m = /^([+-]?)P(?:([+-]?\d+)D)?(?:T(?:([+-]?\d+)H)?(?:([+-]?\d+)M)?(?:([+-]?\d+)(?:[.,](\d{0,9}))?S)?)?$/i.exec(text);
  if (!m || text.toUpperCase().endsWith('T') || /^[+-]?P$/i.test(text)) throw new CliError(`Text cannot be parsed to a Duration: ${text}`);
  const [, sign, d, h, mi, s, frac] = m;
  const secondsFraction = frac ? Number(`0.${frac}`) * (s?.startsWith('-') ? -1 : 1) : 0;
  const ms = (Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(mi ?? 0) * 60 + Number(s ?? 0) + secondsFraction) * 1000;
  return sign === '-' ? -ms : ms;
}
