// The JSON documents of `kts reassign-partitions`, as Kafka's tool reads and writes them:
// {"version":1,"partitions":[{"topic","partition","replicas","log_dirs"}]} (the reassignment file and
// what --generate/--execute print, compact, sorted by topic then partition) and
// {"version":1,"topics":[{"topic"}]} (--topics-to-move-json-file).
import { CliError } from '../errors.js';

export interface PartitionTarget {
  topic: string;
  partition: number;
  replicas: number[];
}

export interface ReassignmentEntry extends PartitionTarget {
  /** One per replica: "any" or a log directory. */
  logDirs: string[];
}

function parseObject(text: string, invalid: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new CliError(invalid);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CliError(invalid);
  const version = (doc as { version?: unknown }).version;
  if (version !== undefined && version !== 1) throw new CliError(`Not supported version field value ${JSON.stringify(version)}`);
  return doc as Record<string, unknown>;
}

const isInt = (v: unknown): v is number => Number.isInteger(v) && Math.abs(v as number) <= 2147483647;

/** Entries in file order, duplicates kept (the caller reports them as Kafka does). */
export function parseReassignmentJson(text: string): ReassignmentEntry[] {
  const doc = parseObject(text, 'The reassignment JSON file is not valid JSON');
  if (doc.partitions === undefined) return [];
  if (!Array.isArray(doc.partitions)) throw new CliError('"partitions" must be a list');
  return doc.partitions.map((raw) => {
    const e = raw as { topic?: unknown; partition?: unknown; replicas?: unknown; log_dirs?: unknown };
    if (typeof e?.topic !== 'string') throw new CliError('Each partition needs a "topic" (string)');
    if (!isInt(e.partition)) throw new CliError(`Partition of topic ${e.topic} must be an integer`);
    if (!Array.isArray(e.replicas) || !e.replicas.every(isInt)) throw new CliError(`"replicas" of ${e.topic}-${e.partition} must be a list of broker ids`);
    const replicas = e.replicas as number[];
    let logDirs = replicas.map(() => 'any');
    if (e.log_dirs !== undefined) {
      if (!Array.isArray(e.log_dirs) || !e.log_dirs.every((d) => typeof d === 'string')) throw new CliError(`"log_dirs" of ${e.topic}-${e.partition} must be a list of strings`);
      logDirs = e.log_dirs as string[];
    }
    if (logDirs.length !== replicas.length) {
      throw new CliError(`Size of replicas list [${replicas.join(', ')}] is different from size of log dirs list [${logDirs.join(', ')}] for partition ${e.topic}-${e.partition}`);
    }
    return { topic: e.topic, partition: e.partition as number, replicas, logDirs };
  });
}

/** Topic names in file order, duplicates kept. */
export function parseTopicsToMoveJson(text: string): string[] {
  const doc = parseObject(text, 'The input string is not a valid JSON');
  if (doc.topics === undefined) return [];
  if (!Array.isArray(doc.topics)) throw new CliError('"topics" must be a list');
  return doc.topics.map((t) => {
    const topic = (t as { topic?: unknown })?.topic;
    if (typeof topic !== 'string') throw new CliError('Each entry of "topics" needs a "topic" (string)');
    return topic;
  });
}

/** Kafka's formatAsReassignmentJson: compact, sorted, every log dir "any". */
export function reassignmentJson(partitions: PartitionTarget[]): string {
  const ordered = [...partitions].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  return JSON.stringify({
    version: 1,
    partitions: ordered.map((p) => ({ topic: p.topic, partition: p.partition, replicas: p.replicas, log_dirs: p.replicas.map(() => 'any') })),
  });
}

/**
 * The order a java.util.HashSet<Integer> (default capacity 16) iterates `ids` inserted in order:
 * Kafka's tool prints the brokers whose throttles it clears from one. Duplicates dropped.
 */
export function javaIntHashSetOrder(ids: number[]): number[] {
  const unique = [...new Set(ids)];
  let capacity = 16;
  while (unique.length > capacity * 0.75) capacity *= 2;
  const bucket = (h: number) => ((h ^ (h >>> 16)) & (capacity - 1)) >>> 0;
  return unique
    .map((id, i) => ({ id, i, b: bucket(id | 0) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((e) => e.id);
}
