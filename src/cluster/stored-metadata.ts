// The embedded store's document (kts-metadata.json) as read at start-up: its shape checked field by
// field, then what it says checked against the partition directories and checkpoints on disk, before
// anything is opened or written. A file that disagrees with the disk stops the start with one line
// naming the file and the disagreement: creating the partitions it invents (100000000 of them), or
// leaving unserved the records it forgot (partitions 0), would each be worse than not starting.
import { join, resolve } from 'node:path';
import type { BrokerConfig } from '../config/broker-config.js';
import { KafkaError } from '../protocol/errors.js';
import { LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT, parseCheckpoint } from '../storage/checkpoint.js';
import { type FileSystem, isNotFound, nodeFileSystem, readSmallFile } from '../storage/file-system.js';
import { isDeletedPartitionDir, parsePartitionDirName } from '../storage/names.js';
import { topicNameError } from './topic-names.js';
import { validateConfigs } from './topic-validation.js';

export const METADATA_FILE = 'kts-metadata.json';

export interface StoredTopic {
  topicId: string;
  partitions: number;
  configs: Record<string, string>;
  internal: boolean;
}

export interface StoredState {
  version: 1;
  clusterId: string;
  topics: Record<string, StoredTopic>;
  brokerConfigs: Record<string, string>;
}

/** Thrown when the broker's own files contradict each other; the message is the whole story. */
export class InconsistentDataDirError extends Error {}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isStringMap(v: unknown): v is Record<string, string> {
  return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
}

/** A topic id as Kafka writes it: 16 bytes in base64url, not the all-zero id Kafka reserves. */
function isTopicId(v: unknown): v is string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(v)) return false;
  const bytes = Buffer.from(v, 'base64url');
  return bytes.length === 16 && bytes.some((b) => b !== 0);
}

/** The document, every field checked; throws naming the file and the field that is wrong. */
export function parseStoredState(text: string, path: string): StoredState {
  const bad = (what: string) => new InconsistentDataDirError(`${path}: ${what}; refusing to start on a damaged topic metadata file`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(`not valid JSON (${(err as Error).message})`);
  }
  if (!isRecord(doc)) throw bad('not a JSON object');
  if (doc.version !== 1) throw bad(`unsupported version ${JSON.stringify(doc.version)} (expected 1)`);
  if (typeof doc.clusterId !== 'string' || doc.clusterId === '') throw bad(`clusterId ${JSON.stringify(doc.clusterId)} is not a cluster id`);
  if (!isRecord(doc.topics)) throw bad('"topics" is not an object');
  if (doc.brokerConfigs !== undefined && !isStringMap(doc.brokerConfigs)) throw bad('"brokerConfigs" is not an object of strings');
  const ids = new Map<string, string>();
  for (const [name, t] of Object.entries(doc.topics)) {
    const nameError = topicNameError(name);
    if (nameError) throw bad(`topic ${JSON.stringify(name)}: ${nameError}`);
    if (!isRecord(t)) throw bad(`topic '${name}' is not an object`);
    if (typeof t.partitions !== 'number' || !Number.isSafeInteger(t.partitions) || t.partitions < 1) {
      throw bad(`topic '${name}' has ${JSON.stringify(t.partitions)} partitions (a topic has a whole number of at least 1)`);
    }
    if (!isTopicId(t.topicId)) throw bad(`topic '${name}' has topic id ${JSON.stringify(t.topicId)} (not 16 bytes in base64url, or all zero)`);
    const other = ids.get(t.topicId);
    if (other !== undefined) throw bad(`topics '${other}' and '${name}' have the same topic id ${t.topicId}`);
    ids.set(t.topicId, name);
    if (!isStringMap(t.configs)) throw bad(`topic '${name}' has configs that are not an object of strings`);
    try {
      validateConfigs(t.configs);
    } catch (err) {
      throw bad(`topic '${name}' config: ${err instanceof KafkaError ? err.message : String(err)}`);
    }
    if (typeof t.internal !== 'boolean') throw bad(`topic '${name}' has "internal": ${JSON.stringify(t.internal)} (not true or false)`);
  }
  return {
    version: 1,
    clusterId: doc.clusterId,
    topics: doc.topics as Record<string, StoredTopic>,
    brokerConfigs: (doc.brokerConfigs as Record<string, string> | undefined) ?? {},
  };
}

/** The document, checked; null when there is none. */
export async function readStoredState(dir: string, fs: FileSystem = nodeFileSystem): Promise<StoredState | null> {
  const path = join(dir, METADATA_FILE);
  let bytes: Buffer | undefined;
  try {
    bytes = await readSmallFile(fs, path);
  } catch (err) {
    throw new InconsistentDataDirError(`${path} cannot be read: ${(err as Error).message}`);
  }
  if (bytes === undefined) return null;
  return parseStoredState(bytes.toString('utf8'), path);
}

interface PartitionOnDisk {
  dir: string;
  /** Records, or offsets handed out (a segment based past 0): what recreating it would lose. */
  holdsData: boolean;
  description: string;
}

async function describePartitionDir(dir: string, fs: FileSystem): Promise<PartitionOnDisk> {
  let bytes = 0;
  let segments = 0;
  let highestBase = 0;
  for (const { name } of await fs.readdir(dir)) {
    const m = /^(\d{20})\.log$/.exec(name);
    if (!m) continue;
    segments++;
    highestBase = Math.max(highestBase, Number(m[1]));
    bytes += (await fs.stat(join(dir, name))).size;
  }
  const holdsData = bytes > 0 || highestBase > 0;
  const description = bytes > 0 ? `holds ${bytes} bytes of records in ${segments} segment(s)` : `starts at offset ${highestBase}`;
  return { dir, holdsData, description };
}

/** Every partition directory in the log dirs, by `topic partition`; reads only. */
async function partitionsOnDisk(logDirs: string[], fs: FileSystem): Promise<Map<string, PartitionOnDisk>> {
  const found = new Map<string, PartitionOnDisk>();
  for (const logDir of logDirs) {
    let entries;
    try {
      entries = await fs.readdir(logDir);
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    for (const entry of entries) {
      if (!entry.isDirectory || isDeletedPartitionDir(entry.name)) continue;
      const parsed = parsePartitionDirName(entry.name);
      if (!parsed) continue;
      found.set(`${parsed.topic} ${parsed.partition}`, await describePartitionDir(join(logDir, entry.name), fs));
    }
  }
  return found;
}

/** Partitions named by the checkpoint files (a damaged file is the log manager's to judge). */
async function checkpointedPartitions(logDirs: string[], fs: FileSystem): Promise<Map<string, { file: string; offset: number }>> {
  const named = new Map<string, { file: string; offset: number }>();
  for (const logDir of logDirs) {
    for (const name of [LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT]) {
      const file = join(logDir, name);
      let text: string;
      try {
        const bytes = await readSmallFile(fs, file);
        if (bytes === undefined) continue;
        text = bytes.toString('utf8');
      } catch {
        continue;
      }
      const { offsets, problem } = parseCheckpoint(text);
      if (problem) continue;
      for (const [key, offset] of offsets) if (!named.has(key)) named.set(key, { file, offset });
    }
  }
  return named;
}

/**
 * Reads kts-metadata.json and checks it against the partition directories and checkpoints in every
 * log dir, writing nothing. Throws InconsistentDataDirError naming the file and the disagreement.
 */
export async function checkStoredMetadata(config: BrokerConfig, fs: FileSystem = nodeFileSystem): Promise<StoredState | null> {
  const logDirs = config.logDirs.map((d) => resolve(d));
  const path = join(logDirs[0], METADATA_FILE);
  const state = await readStoredState(logDirs[0], fs);
  const onDisk = await partitionsOnDisk(logDirs, fs);
  const refuse = (what: string, fix: string) => new InconsistentDataDirError(`${path} disagrees with the data on disk: ${what}. Refusing to start; ${fix}`);
  const topics = state?.topics ?? {};

  // Data the file does not know: not served if started, and removed as a stray by the registry.
  for (const [key, p] of onDisk) {
    if (!p.holdsData) continue; // an empty dir left by an interrupted create: the registry removes it
    const [topic, partitionText] = key.split(' ');
    const partition = Number(partitionText);
    const t = topics[topic];
    if (!state) {
      throw new InconsistentDataDirError(
        `${path} is missing, but ${p.dir} ${p.description}: without the topic metadata none of it would be served. ` +
          `Refusing to start; restore ${METADATA_FILE}, or remove the partition directories to start empty`,
      );
    }
    if (!t) {
      throw refuse(
        `${p.dir} ${p.description}, but topic '${topic}' is not in the file (deleted just before a crash, or lost from the file)`,
        `remove the topic's directories to finish deleting it, or restore the topic in ${METADATA_FILE}`,
      );
    }
    if (partition >= t.partitions) {
      throw refuse(`topic '${topic}' has ${t.partitions} partition(s), but ${p.dir} ${p.description}`, `correct "partitions" for '${topic}'`);
    }
  }

  // Checkpoint lines for partitions the file names but whose directory is gone (recreating one would
  // restart its offsets at 0), or for partitions past their topic's count (nothing ever wrote those).
  // Lines for topics the file does not name are left from an interrupted delete: the log manager drops them.
  for (const [key, { file, offset }] of await checkpointedPartitions(logDirs, fs)) {
    const [topic, partitionText] = key.split(' ');
    const t = topics[topic];
    if (!t || onDisk.has(key)) continue;
    if (Number(partitionText) >= t.partitions) {
      throw refuse(`${file} has ${topic}-${partitionText}, but topic '${topic}' has ${t.partitions} partition(s)`, `remove that line from ${file}`);
    }
    throw refuse(
      `${file} has ${topic}-${partitionText} (at offset ${offset}), but its directory ${join(logDirs[0], `${topic}-${partitionText}`)} is missing`,
      `restore the directory, or create it empty to start ${topic}-${partitionText} over at offset 0`,
    );
  }

  // More partitions than directories, for a topic holding data: the count is wrong or directories were
  // lost. (A topic without data may lack some: an interrupted create; they are created.)
  const present = new Map<string, { dirs: Set<number>; withData: number }>();
  for (const [key, p] of onDisk) {
    const [topic, partitionText] = key.split(' ');
    const entry = present.get(topic) ?? { dirs: new Set<number>(), withData: 0 };
    entry.dirs.add(Number(partitionText));
    if (p.holdsData) entry.withData++;
    present.set(topic, entry);
  }
  for (const [topic, t] of Object.entries(topics)) {
    const found = present.get(topic);
    if (!found || found.withData === 0) continue;
    const missing = t.partitions - [...found.dirs].filter((p) => p < t.partitions).length;
    if (missing === 0) continue;
    const first: number[] = [];
    for (let p = 0; first.length < 3 && p < t.partitions; p++) if (!found.dirs.has(p)) first.push(p);
    const list = missing > first.length ? `${first.map((p) => `${topic}-${p}`).join(', ')}, ... (${missing} in all)` : first.map((p) => `${topic}-${p}`).join(', ');
    throw refuse(
      `topic '${topic}' has ${t.partitions} partitions, but ${t.partitions - missing} of them have a directory (missing: ${list})`,
      `correct "partitions" for '${topic}', or restore the missing directories`,
    );
  }

  const limit = config.getNumber('kts.max.partitions');
  let total = 0;
  for (const t of Object.values(topics)) total += t.partitions;
  if (total > limit) {
    throw refuse(
      `its topics have ${total} partitions in all, more than this broker may hold (kts.max.partitions=${limit})`,
      `correct the partition counts (or raise kts.max.partitions if they are right)`,
    );
  }
  return state;
}
