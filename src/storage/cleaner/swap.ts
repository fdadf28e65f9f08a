// Swapping a cleaned segment in for the segments it replaces, so that a kill -9 at any point loses
// nothing (Kafka's LocalLog.replaceSegments and LogLoader's swap recovery):
//   1. the cleaner writes `<base>.log.cleaned` (+ .index.cleaned, .timeindex.cleaned) and fsyncs it;
//   2. renames it to `*.swap`: from here the cleaned segment is the truth, a restart completes the swap;
//   3. renames each replaced segment's files to `*.deleted` (unlinked later, as any deleted segment);
//   4. renames the `*.swap` files to their final names, fsyncs the directory.
// At start-up (completeInterruptedSwaps, before the segments are listed): `.cleaned` files are an
// unfinished cleaning and go (the replaced segments are still all there); each `.swap` .log covers
// [its base, its next offset): every other segment file whose base offset is in that range was
// replaced and goes, then the `.swap` files lose their suffix.
import type { FileSystem } from '../file-system.js';
import { isNotFound } from '../file-system.js';
import { type LogSegment, type SegmentContext, LogSegment as Segment } from '../log-segment.js';
import type { ReplicaLogView } from '../replica-log.js';
import type { StorageLogger } from '../partition-log.js';

export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_SUFFIX = '.swap';

/**
 * Runs on the log's chain. Swaps `cleaned` (files still `.cleaned`) in for `old` when they are still
 * consecutive sealed segments of the log and nothing was truncated meanwhile; otherwise deletes the
 * cleaned files and returns false (the cleaning is simply lost, the log is as it was).
 */
export async function swapInCleaned(v: ReplicaLogView, cleaned: LogSegment, old: readonly LogSegment[], unchanged: boolean): Promise<boolean> {
  const segs = v.segments;
  const at = segs.indexOf(old[0]);
  const stillThere = unchanged && at >= 0 && at + old.length < segs.length && old.every((s, i) => segs[at + i] === s);
  if (!stillThere) {
    await discardSegment(cleaned);
    return false;
  }
  try {
    await cleaned.changeSuffix(CLEANED_SUFFIX, SWAP_SUFFIX);
  } catch (err) {
    await discardSegment(cleaned);
    throw err;
  }
  // Committed: the log is the cleaned segment from here on, in memory as on disk after a restart.
  v.segments = [...segs.slice(0, at), cleaned, ...segs.slice(at + old.length)];
  for (const seg of old) {
    // Awaited one by one: the cleaned files take the first one's names next, which must be free.
    await seg.markDeleted();
    v.deletions.schedule(seg, v.log.config.fileDeleteDelayMs, true);
  }
  await cleaned.changeSuffix(SWAP_SUFFIX, '');
  await v.log.fs.syncDir(v.log.dir);
  return true;
}

/** Closes a segment that never joined the log and removes its files. */
export async function discardSegment(seg: LogSegment): Promise<void> {
  await seg.destroy().catch(() => {});
}

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex|txnindex)$/;
const SWAP_LOG = /^(\d{20})\.log\.swap$/;

/**
 * Finishes, at load, what a kill -9 interrupted: removes `.cleaned` files and completes `.swap`s.
 * Returns how many swaps it completed.
 */
export async function completeInterruptedSwaps(fs: FileSystem, ctx: SegmentContext, dir: string, now: number, logger: StorageLogger, name: string): Promise<number> {
  const entries = (await fs.readdir(dir)).filter((e) => e.isFile).map((e) => e.name);
  for (const file of entries) if (file.endsWith(CLEANED_SUFFIX)) await unlinkQuietly(fs, `${dir}/${file}`);
  const swapLogs = entries.map((f) => SWAP_LOG.exec(f)).filter((m): m is RegExpExecArray => m !== null);
  if (swapLogs.length === 0) {
    // Index files left as .swap without their .log (a crash between two renames of step 4).
    for (const file of entries) if (file.endsWith(SWAP_SUFFIX)) await fs.rename(`${dir}/${file}`, `${dir}/${file.slice(0, -SWAP_SUFFIX.length)}`);
    return 0;
  }
  let min = Infinity;
  let max = -Infinity;
  for (const m of swapLogs) {
    const base = Number(m[1]);
    const seg = await Segment.open(ctx, dir, base, now, SWAP_SUFFIX);
    try {
      await seg.recover(Infinity, true); // in memory only: where its records end
      min = Math.min(min, base);
      max = Math.max(max, seg.nextOffset, base + 1);
    } finally {
      await seg.close();
    }
  }
  for (const file of entries) {
    const m = SEGMENT_FILE.exec(file);
    if (!m) continue;
    const base = Number(m[1]);
    if (base >= min && base < max) {
      logger.info(`[${name}] deleting ${file}: a cleaned segment replaced it (completing a swap interrupted by a crash)`);
      await unlinkQuietly(fs, `${dir}/${file}`);
    }
  }
  for (const file of entries) {
    if (!file.endsWith(SWAP_SUFFIX)) continue;
    logger.info(`[${name}] renaming ${file}: completing a swap of cleaned segments interrupted by a crash`);
    await fs.rename(`${dir}/${file}`, `${dir}/${file.slice(0, -SWAP_SUFFIX.length)}`);
  }
  await fs.syncDir(dir);
  return swapLogs.length;
}

async function unlinkQuietly(fs: FileSystem, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
