// Opening a partition directory: the segments it holds, checked or recovered.
//  - Leftovers of interrupted work (*.deleted, *.tmp, indexes without a .log) go; the cleaner's
//    *.cleaned go and its *.swap complete (cleaner/swap.ts).
//  - Segments below the recovery point (all of them after a clean shutdown) are trusted: their
//    indexes are loaded and sanity-checked, and the batches after the last index entry are
//    validated to the end of the file. Anything odd there, and the segment is recovered instead.
//  - Segments from the recovery point on are recovered: every batch validated (length bounds,
//    magic, CRC-32C, offsets increasing, within the segment) and both indexes rebuilt (the
//    transaction index too, from the producer-state replay that follows). Only the
//    last segment can have a torn tail: it is cut at the first bad byte. A sealed segment (later
//    segments follow it) holds acknowledged data, so damage there cuts and deletes nothing: a batch
//    failing its CRC-32C is stepped over and refused to readers (KAFKA_STORAGE_ERROR), and damage
//    that cannot be stepped over makes the offsets from there to the next segment unreadable.
//    Kafka truncates there and deletes the later segments; kts never deletes records that pass
//    their CRC.
//  - A recovery point past the end of the segment files vouches for nothing: every segment is recovered.
//  - A log start offset past the log end is refused (an error naming the checkpoint), never acted on.
//  - leader-epoch-checkpoint is checked against the loaded log, repaired or rebuilt (leader-epoch-load.ts).
// Corruption is reported through the logger and repaired; real I/O failures and the refusal throw,
// and so does a directory where a segment file belongs (the path is named).
import type { LogConfig } from './config.js';
import { type FileSystem, isNotFound } from './file-system.js';
import { loadLeaderEpochs } from './leader-epoch-load.js';
import { LogSegment } from './log-segment.js';
import { completeInterruptedSwaps } from './cleaner/swap.js';
import { PartitionLog, type PartitionLogHooks, type StorageLogger } from './partition-log.js';

export interface LoadOptions {
  fs: FileSystem;
  logDir: string;
  dir: string;
  topic: string;
  partition: number;
  config: LogConfig;
  now: () => number;
  logger: StorageLogger;
  hooks: PartitionLogHooks;
  hadCleanShutdown: boolean;
  /** From recovery-point-offset-checkpoint, if it had this partition. */
  recoveryPoint?: number;
  /** From log-start-offset-checkpoint, if it had this partition. */
  logStartOffset?: number;
}

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex|txnindex)$/;
const LEFTOVER = /\.(deleted|tmp)$/;

export async function loadPartitionLog(opts: LoadOptions): Promise<PartitionLog> {
  const { fs, dir, logger } = opts;
  const name = `${opts.topic}-${opts.partition}`;
  const now = opts.now();
  const ctx = { fs, config: opts.config };

  // The cleaner's interrupted work first (cleaner/swap.ts): unfinished cleanings go, committed swaps complete.
  await completeInterruptedSwaps(fs, ctx, dir, now, logger, name);
  const logs = new Set<number>();
  const indexFiles: Array<{ base: number; file: string }> = [];
  for (const entry of await fs.readdir(dir)) {
    if (!entry.isFile) {
      // A directory (or anything but a file) under a segment file's name is an operator's mistake, not
      // damage to repair: removing it could destroy what was put there. Stop, saying where.
      if (SEGMENT_FILE.test(entry.name)) {
        const what = entry.isDirectory ? 'a directory' : 'not a regular file';
        throw new Error(`${dir}/${entry.name} is ${what}, not a segment file: move it out of the way (a missing index is rebuilt)`);
      }
      continue;
    }
    if (LEFTOVER.test(entry.name)) {
      await unlinkQuietly(fs, `${dir}/${entry.name}`);
      continue;
    }
    const m = SEGMENT_FILE.exec(entry.name);
    if (!m) continue; // other files (e.g. partition.metadata) are not ours to judge
    const base = Number(m[1]);
    if (!Number.isSafeInteger(base)) {
      logger.warn(`[${name}] ignoring ${entry.name}: base offset out of range`);
      continue;
    }
    if (m[2] === 'log') logs.add(base);
    else indexFiles.push({ base, file: entry.name });
  }
  for (const { base, file } of indexFiles) {
    if (!logs.has(base)) {
      logger.warn(`[${name}] deleting ${file}: it has no .log`);
      await unlinkQuietly(fs, `${dir}/${file}`);
    }
  }

  const bases = [...logs].sort((a, b) => a - b);
  // After a clean shutdown with a checkpoint, nothing needs recovery; otherwise from the recovery point.
  let recoverFrom = opts.hadCleanShutdown && opts.recoveryPoint !== undefined ? Infinity : (opts.recoveryPoint ?? 0);
  let segments: LogSegment[] = [];
  try {
    let loaded = await loadSegments(opts, name, bases, recoverFrom);
    segments = loaded.segments;
    const foundEnd = segments.length > 0 ? segments[segments.length - 1].nextOffset : undefined;
    if (opts.recoveryPoint !== undefined && foundEnd !== undefined && opts.recoveryPoint > foundEnd && !loaded.cut && recoverFrom > 0) {
      // The checkpoint says more was flushed than the files hold: they lost data after the flush, or the
      // checkpoint is wrong. Either way it vouches for nothing here, so every segment is validated.
      logger.warn(
        `[${name}] ${opts.logDir}/recovery-point-offset-checkpoint says offsets up to ${opts.recoveryPoint} were flushed, ` +
          `but the segment files end at ${foundEnd}; not trusting it: recovering every segment`,
      );
      await Promise.allSettled(segments.map((s) => s.close()));
      segments = [];
      recoverFrom = 0;
      loaded = await loadSegments(opts, name, bases, recoverFrom);
      segments = loaded.segments;
    }
    const { recovered } = loaded;

    const logStartOffset = Math.max(opts.logStartOffset ?? 0, segments[0]?.baseOffset ?? 0);
    if (segments.length === 0) {
      segments.push(await LogSegment.create(ctx, dir, logStartOffset, now));
    }
    const logEndOffset = segments[segments.length - 1].nextOffset;
    if (logStartOffset > logEndOffset) {
      // Kafka deletes every segment and starts over at the checkpointed offset. The log start only
      // moves past data that a flush made durable (PartitionLog.deleteRecordsBefore), so this is a
      // damaged checkpoint or lost segment files: deleting would hide records, guessing would invent.
      const held = segments[0].baseOffset < logEndOffset ? `offsets ${segments[0].baseOffset}..${logEndOffset - 1} in ${dir}` : `no records in ${dir}`;
      throw new Error(
        `${opts.logDir}/log-start-offset-checkpoint says ${name} starts at offset ${logStartOffset}, past its log end ${logEndOffset} ` +
          `(${held}); refusing to start rather than delete or hide them. Correct or remove that partition's line`,
      );
    }
    const leaderEpochs = await loadLeaderEpochs(fs, dir, segments, logStartOffset, logger, name);
    const active = segments[segments.length - 1];
    active.offsetIndex.keepOpen = true;
    active.timeIndex.keepOpen = true;
    active.txnIndex.keepOpen = true;
    const log = new PartitionLog({
      fs,
      topic: opts.topic,
      partition: opts.partition,
      logDir: opts.logDir,
      dir,
      config: opts.config,
      segments,
      logStartOffset,
      // Kafka's rule: never ahead of the log end, and moved on only by a flush (were it moved here, a
      // crash before the recovered data reached the disk would leave it unchecked next time).
      recoveryPoint: Math.min(opts.recoveryPoint ?? 0, segments[segments.length - 1].nextOffset),
      now: opts.now,
      logger,
      hooks: opts.hooks,
      leaderEpochs: leaderEpochs.cache,
      leaderEpochsDirty: leaderEpochs.dirty,
    });
    // Idempotent producers' state: newest snapshot + the batch headers after it (producer-snapshots.ts),
    // which also writes the aborted transactions of the recovered segments into their indexes again.
    const rebuilt = segments.filter((s) => s.txnIndex.rebuilding);
    await log.loadProducerState();
    for (const seg of rebuilt) {
      await seg.txnIndex.persist(false).catch((err) => logger.warn(`[${name}] writing the rebuilt transaction index of segment ${seg.baseOffset} failed: ${String(err)}`));
    }
    // What recovery validated came from the page cache and its rebuilt indexes are in memory: the
    // segments before the active one are flushed in the background (the broker need not wait for
    // seconds of fdatasync), the active one with the next flush, roll or clean shutdown. Until then
    // the recovery point stays, so another crash re-validates them. A full disk only logs a warning.
    if (recovered > 0) void log.flushInactiveSegments();
    if (recovered > 0) logger.info(`[${name}] recovered ${recovered} segment(s); log end offset ${log.logEndOffset}`);
    return log;
  } catch (err) {
    await Promise.allSettled(segments.map((s) => s.close()));
    throw err;
  }
}

/** Opens the segments at `bases`, trusting those that end at or before `recoverFrom`, recovering the rest. */
async function loadSegments(
  opts: LoadOptions,
  name: string,
  bases: number[],
  recoverFrom: number,
): Promise<{ segments: LogSegment[]; recovered: number; cut: boolean }> {
  const { fs, dir, logger } = opts;
  const ctx = { fs, config: opts.config };
  const now = opts.now();
  const segments: LogSegment[] = [];
  let recovered = 0;
  let cut = false;
  try {
    for (let i = 0; i < bases.length; i++) {
      const nextBase = i + 1 < bases.length ? bases[i + 1] : Infinity;
      const seg = await LogSegment.open(ctx, dir, bases[i], now);
      segments.push(seg);
      let mustRecover = nextBase > recoverFrom;
      if (!mustRecover) {
        const problem = await seg.loadTrusted(nextBase);
        if (problem) {
          logger.warn(`[${name}] segment ${bases[i]} needs recovery: ${problem}`);
          mustRecover = true;
        }
      }
      if (!mustRecover) continue;
      recovered++;
      // Only the last segment can have a torn tail: damage in one with later segments after it is
      // damage to acknowledged data, kept and refused to readers, never a reason to cut or delete.
      const sealed = i + 1 < bases.length;
      const { truncatedBytes, problem, corrupt } = await seg.recover(nextBase, sealed);
      // Its aborted transactions are found again by the producer-state replay (producer-snapshots.ts).
      seg.txnIndex.reset();
      seg.txnIndex.rebuilding = true;
      for (const batch of corrupt) {
        logger.error(
          `[${name}] CRC-32C mismatch in the batch of offsets ${batch.baseOffset}..${batch.lastOffset} at byte ${batch.position} of ${seg.logPath}: ` +
            `corrupt on disk, not served (KAFKA_STORAGE_ERROR); the segment and the ones after it are kept`,
        );
      }
      if (seg.unreadable) {
        const { position, firstOffset, lastOffset } = seg.unreadable;
        logger.error(
          `[${name}] ${seg.logPath} is damaged at byte ${position} (${problem}) and later segments follow it: ` +
            `offsets ${firstOffset}..${lastOffset} are not served (KAFKA_STORAGE_ERROR); nothing was cut or deleted`,
        );
      }
      // The rebuilt indexes go to their files now (no fdatasync: they count only once a flush has
      // moved the recovery point past them). A full disk must not keep the log from opening.
      await seg.writeIndexes().catch((err) => logger.warn(`[${name}] writing the rebuilt indexes of segment ${bases[i]} failed: ${String(err)}`));
      if (truncatedBytes > 0) {
        cut = true;
        logger.warn(`[${name}] recovery cut ${truncatedBytes} bytes from segment ${bases[i]} at byte ${seg.size} (${problem}); log end offset ${seg.nextOffset}`);
      }
    }
  } catch (err) {
    await Promise.allSettled(segments.map((s) => s.close()));
    throw err;
  }
  return { segments, recovered, cut };
}

async function unlinkQuietly(fs: FileSystem, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
