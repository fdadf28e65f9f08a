// Loading a partition's leader-epoch cache: leader-epoch-checkpoint, checked against the log it
// describes. The file is never obeyed blindly, but it never costs a record either: every batch
// carries its leader epoch, so whatever is wrong with the file is rebuilt from the batch headers.
//  - Entries past the log end (the log was cut by recovery after a crash) go, as Kafka does.
//  - Entries before the log start are folded into one starting there, as Kafka does.
//  - Entries out of order are dropped by the same rule Kafka's cache applies when it reads the file.
//  - A missing file (a log written before kts kept epochs), a damaged one, or one whose newest epoch is
//    older than the newest batch's (it missed an epoch) is rebuilt from the batch headers.
// Nothing is written here (a refused start must leave the dirs as they were): a repaired cache is
// written with the partition's next flush.
import { BatchOffset } from '../protocol/records/batch-header.js';
import type { FileSystem } from './file-system.js';
import { LEADER_EPOCH_CHECKPOINT, LeaderEpochCache, readLeaderEpochCheckpoint } from './leader-epoch-cache.js';
import type { LogSegment } from './log-segment.js';

interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export async function loadLeaderEpochs(
  fs: FileSystem,
  dir: string,
  segments: readonly LogSegment[],
  logStartOffset: number,
  logger: Logger,
  name: string,
): Promise<{ cache: LeaderEpochCache; dirty: boolean }> {
  const logEnd = segments[segments.length - 1].nextOffset;
  const path = `${dir}/${LEADER_EPOCH_CHECKPOINT}`;
  const { entries, problem } = await readLeaderEpochCheckpoint(fs, dir);
  let why: string | undefined;
  if (problem) why = `${path} ${problem}`;
  else if (entries) {
    const cache = new LeaderEpochCache(entries);
    let dirty = false;
    if (cache.entries().length !== entries.length) {
      logger.warn(`[${name}] ${path} has entries out of order; kept ${JSON.stringify(cache.entries())} of ${JSON.stringify(entries)}`);
      dirty = true;
    }
    if (cache.truncateFromEnd(logEnd)) {
      logger.info(`[${name}] leader epoch entries at or past the log end ${logEnd} dropped; now ${JSON.stringify(cache.entries())}`);
      dirty = true;
    }
    if (cache.truncateFromStart(logStartOffset)) dirty = true;
    const newest = await lastBatchEpoch(segments);
    if (newest < 0 || (cache.latestEpoch() ?? -1) >= newest) return { cache, dirty };
    why = `${path} ends at epoch ${cache.latestEpoch() ?? 'none'} but the last batch was written in epoch ${newest}`;
  }
  if (!why && logEnd <= segments[0].baseOffset) return { cache: new LeaderEpochCache(), dirty: false };
  const cache = await rebuildFromBatches(segments, logStartOffset);
  if (why) logger.warn(`[${name}] ${why}: rebuilt from the batches: ${JSON.stringify(cache.entries())}`);
  else if (!cache.isEmpty) logger.info(`[${name}] no ${LEADER_EPOCH_CHECKPOINT}: rebuilt from the batches: ${JSON.stringify(cache.entries())}`);
  return { cache, dirty: true };
}

/** Every batch header read, each epoch noted where its first batch starts (Kafka's recovery rule). */
async function rebuildFromBatches(segments: readonly LogSegment[], logStartOffset: number): Promise<LeaderEpochCache> {
  const cache = new LeaderEpochCache();
  for (const seg of segments) {
    if (seg.nextOffset <= logStartOffset) continue;
    await seg.forEachBatchHeader((buf, at) => {
      const epoch = buf.readInt32BE(at + BatchOffset.partitionLeaderEpoch);
      const latest = cache.latestEpoch();
      if (epoch >= 0 && (latest === undefined || epoch > latest)) cache.assign(epoch, Number(buf.readBigInt64BE(at + BatchOffset.baseOffset)));
    });
  }
  cache.truncateFromStart(logStartOffset);
  return cache;
}

/** The partitionLeaderEpoch of the log's last batch, or -1 for an empty log. */
async function lastBatchEpoch(segments: readonly LogSegment[]): Promise<number> {
  for (let i = segments.length - 1; i >= 0; i--) {
    const seg = segments[i];
    if (seg.isEmpty) continue;
    const loc = await seg.findBatch(seg.nextOffset - 1);
    if (!loc) return -1;
    const head = await seg.read(loc.position, BatchOffset.partitionLeaderEpoch + 4);
    return head.length >= BatchOffset.partitionLeaderEpoch + 4 ? head.readInt32BE(BatchOffset.partitionLeaderEpoch) : -1;
  }
  return -1;
}
