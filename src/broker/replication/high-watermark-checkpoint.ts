// Kafka's replication-offset-checkpoint: each log dir's high watermarks (same text format as the
// recovery-point checkpoint), written every replica.high.watermark.checkpoint.interval.ms and at
// shutdown, read at start so that a restarted replica does not take its whole log end for
// committed. Only partitions with several replicas are written (the others' high watermark is
// their log end).
import { readCheckpoint, writeCheckpoint } from '../../storage/checkpoint.js';
import type { PartitionLog } from '../../storage/index.js';

export const REPLICATION_OFFSET_CHECKPOINT = 'replication-offset-checkpoint';

/** The checkpointed high watermark of each log found, by log; logs absent from the files are left out. */
export async function readHighWatermarks(logs: PartitionLog[]): Promise<Map<PartitionLog, number>> {
  const result = new Map<PartitionLog, number>();
  const byDir = new Map<string, PartitionLog[]>();
  for (const log of logs) byDir.set(log.logDir, [...(byDir.get(log.logDir) ?? []), log]);
  for (const [dir, dirLogs] of byDir) {
    const { offsets } = await readCheckpoint(dirLogs[0].fs, dir, REPLICATION_OFFSET_CHECKPOINT);
    if (!offsets) continue;
    for (const log of dirLogs) {
      const hw = offsets.get(`${log.topic} ${log.partition}`);
      if (hw !== undefined) result.set(log, hw);
    }
  }
  return result;
}

/** Writes the file of every log dir holding one of `logs`, with their high watermarks. */
export async function writeHighWatermarks(logs: PartitionLog[]): Promise<void> {
  const byDir = new Map<string, PartitionLog[]>();
  for (const log of logs) byDir.set(log.logDir, [...(byDir.get(log.logDir) ?? []), log]);
  for (const [dir, dirLogs] of byDir) {
    const entries = dirLogs
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1))
      .map((l) => ({ topic: l.topic, partition: l.partition, offset: l.highWatermark }));
    await writeCheckpoint(dirLogs[0].fs, dir, REPLICATION_OFFSET_CHECKPOINT, entries);
  }
}
