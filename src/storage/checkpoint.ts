// Kafka's offset checkpoint files (recovery-point-offset-checkpoint, log-start-offset-checkpoint):
//   0                      <- version
//   2                      <- number of entries
//   my-topic 0 1234        <- topic partition offset
// What a damaged file costs differs: without the recovery points every segment is recovered (slower,
// nothing lost), so that file is reported and ignored; without the log start offsets records that
// DeleteRecords removed would be served again, so the log manager refuses to start on that one.
import { type FileSystem, readSmallFile, writeFileAtomic } from './file-system.js';
import { isLegalTopicName } from './names.js';

export const RECOVERY_POINT_CHECKPOINT = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT = 'log-start-offset-checkpoint';

/** Key of a partition in a checkpoint map (a space never occurs in a legal topic name). */
export const partitionKey = (topic: string, partition: number): string => `${topic} ${partition}`;

/** A line as it can be shown in one line of a log: quoted, control bytes escaped, long ones cut. */
const shown = (line: string): string => JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}...` : line);

export function parseCheckpoint(text: string): { offsets: Map<string, number>; problem?: string } {
  const offsets = new Map<string, number>();
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines[0]?.trim() !== '0') return { offsets, problem: `unknown version line ${shown(lines[0] ?? '')}` };
  const count = Number(lines[1]);
  if (!Number.isInteger(count) || count < 0) return { offsets, problem: `bad entry count ${shown(lines[1] ?? '')}` };
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
      return { offsets: new Map(), problem: `malformed line ${i + 1}: ${shown(lines[i])}` };
    }
    const key = partitionKey(parts[0], partition);
    if (offsets.has(key)) return { offsets: new Map(), problem: `line ${i + 1} lists ${parts[0]}-${partition} a second time` };
    offsets.set(key, offset);
  }
  return { offsets };
}

export function formatCheckpoint(entries: Array<{ topic: string; partition: number; offset: number }>): string {
  return `0\n${entries.length}\n${entries.map((e) => `${e.topic} ${e.partition} ${e.offset}\n`).join('')}`;
}

/** The file's entries (undefined when it is missing), or what is wrong with it. */
export async function readCheckpoint(
  fs: FileSystem,
  dir: string,
  name: string,
): Promise<{ offsets: Map<string, number> | undefined; problem?: string }> {
  let data: Buffer | undefined;
  try {
    data = await readSmallFile(fs, `${dir}/${name}`);
  } catch (err) {
    return { offsets: undefined, problem: `cannot be read: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (data === undefined) return { offsets: undefined };
  const { offsets, problem } = parseCheckpoint(data.toString('utf8'));
  return problem ? { offsets: undefined, problem } : { offsets };
}

export function writeCheckpoint(
  fs: FileSystem,
  dir: string,
  name: string,
  entries: Array<{ topic: string; partition: number; offset: number }>,
): Promise<void> {
  return writeFileAtomic(fs, dir, name, Buffer.from(formatCheckpoint(entries), 'utf8'));
}
