// Kafka's offset checkpoint files (recovery-point-offset-checkpoint, log-start-offset-checkpoint):
//   0                      <- version
//   2                      <- number of entries
//   my-topic 0 1234        <- topic partition offset
// A file that does not parse is reported and ignored (the caller falls back to full recovery), never
// fatal: a bad checkpoint must not keep the broker from starting.
import { type FileSystem, readSmallFile, writeFileAtomic } from './file-system.js';
import { isLegalTopicName } from './names.js';

export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';

/** Key of a partition in a checkpoint map (a space never occurs in a legal topic name). */
export const partitionKey = (topic: string, partition: number): string => `${topic} ${partition}`;

export function parseCheckpoint(text: string): { offsets: Map<string, number>; problem?: string } {
  const offsets = new Map<string, number>();
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines[0]?.trim() !== '0') return { offsets, problem: `unknown version line '${lines[0] ?? ''}'` };
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count < 0) return { offsets, problem: `bad entry count '${lines[1] ?? ''}'` };
  if (lines.length !== count + 2) return { offsets, problem: `expected ${count} entries, found ${lines.length - 2}` };
  for (let i = 2; i < lines.length; i++) {
    const parts = lines[i].trim().split(' ');
    const partition = Number(parts[1]);
    const offset = Number(parts[2]);
    if (
      parts.length !== 3 ||
      !isLegalTopicName(parts[0]) ||
      !Number.isInteger(partition) ||
      partition < 0 ||
      !Number.isSafeInteger(offset) ||
      offset < 0
    ) {
      return { offsets: new Map(), problem: `malformed line ${i + 1}: '${lines[i]}'` };
    }
    offsets.set(partitionKey(parts[0], partition), offset);
  }
  return { offsets };
}

export function formatCheckpoint(entries: Array<{ topic: string; partition: number; offset: number }>): string {
  return `0\n${entries.length}\n${entries.map((e) => `${e.topic} ${e.partition} ${e.offset}\n`).join('')}`;
}

/** The file's entries; an empty map when it is missing or corrupt (reported through `warn`). */
export async function readCheckpoint(fs: FileSystem, dir: string, name: string, warn: (m: string) => void): Promise<Map<string, number> | undefined> {
  let data: Buffer | undefined;
  try {
    data = await readSmallFile(fs, `${dir}/${name}`);
  } catch (err) {
    warn(`cannot read ${dir}/${name} (ignored, logs will be recovered): ${String(err)}`);
    return undefined;
  }
  if (data === undefined) return undefined;
  const { offsets, problem } = parseCheckpoint(data.toString('utf8'));
  if (problem) {
    warn(`ignoring corrupt checkpoint ${dir}/${name}: ${problem}`);
    return undefined;
  }
  return offsets;
}

export function writeCheckpoint(
  fs: FileSystem,
  dir: string,
  name: string,
  entries: Array<{ topic: string; partition: number; offset: number }>,
): Promise<void> {
  return writeFileAtomic(fs, dir, name, Buffer.from(formatCheckpoint(entries), 'utf8'));
}
