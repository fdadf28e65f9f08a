// The logs of new partitions, made all or nothing: both metadata stores create them before they
// save the topic (or the new partition count) and remove them again if anything fails, so a failed
// CreateTopics/CreatePartitions leaves no partition behind.
import type { LogConfig, LogManager } from '../storage/index.js';

export interface NewPartitionLogs {
  /** Removes the logs made (best effort: what is left is a stray the next start removes). */
  rollback(): Promise<void>;
}

/**
 * Creates the logs of `partitions` of `topic`. If one fails, the ones made here are removed and the
 * error is thrown. Logs that existed already are used as they are and never removed by rollback().
 */
export async function createPartitionLogs(
  logs: LogManager,
  topic: string,
  partitions: Iterable<number>,
  config: LogConfig,
  warn: (message: string) => void,
): Promise<NewPartitionLogs> {
  const made: number[] = [];
  const rollback = async () => {
    for (const p of made.splice(0)) {
      await logs.delete(topic, p).catch((err: unknown) => warn(`removing the log of ${topic}-${p} after a failed create: ${String(err)}`));
    }
  };
  try {
    for (const p of partitions) {
      if (logs.get(topic, p)) continue;
      await logs.create(topic, p, config);
      made.push(p);
    }
  } catch (err) {
    await rollback();
    throw err;
  }
  return { rollback };
}
