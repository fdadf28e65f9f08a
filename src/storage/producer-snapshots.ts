// Producer state on disk: `<offset>.snapshot` files in the partition directory, written at clean
// shutdown and when a segment rolls; on load the newest usable one is read and the batch headers
// after its offset are replayed (headers only: no record is decoded, nothing is decompressed; a
// control batch, a few dozen bytes, is read whole for its marker). Segments whose transaction
// index is being rebuilt (recovered ones, `txnIndex.rebuilding`) get their entries from this replay.
import { Attr, BATCH_HEADER_SIZE, BatchOffset, LOG_OVERHEAD } from '../protocol/records/batch-header.js';
import { type FileSystem, isNotFound, readSmallFile, writeFileAtomic } from './file-system.js';
import type { LogSegment } from './log-segment.js';
import { ProducerStateManager, parseSnapshotFileName, snapshotFileName } from './producer-state.js';

/** Snapshots kept besides the newest (a damaged newest one falls back to the one before). */
const SNAPSHOTS_KEPT = 2;
/** Headers are what we need: a batch bigger than this is skipped over, not read. */
const SCAN_CHUNK = 64 * 1024;
/** What is read after a batch bigger than SCAN_CHUNK (the next is likely big too). */
const SMALL_READ = 4096;

interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

async function listSnapshots(fs: FileSystem, dir: string): Promise<number[]> {
  const offsets: number[] = [];
  for (const entry of await fs.readdir(dir)) {
    if (!entry.isFile) continue;
    const offset = parseSnapshotFileName(entry.name);
    if (offset >= 0) offsets.push(offset);
  }
  return offsets.sort((a, b) => a - b);
}

async function unlinkQuietly(fs: FileSystem, path: string): Promise<void> {
  await fs.unlink(path).catch((err) => {
    if (!isNotFound(err)) throw err;
  });
}

/** Removes every snapshot (the log was emptied: no producer state survives). */
export async function deleteProducerSnapshots(fs: FileSystem, dir: string): Promise<void> {
  for (const offset of await listSnapshots(fs, dir)) await unlinkQuietly(fs, `${dir}/${snapshotFileName(offset)}`);
}

/** Writes `<offset>.snapshot` (from ProducerStateManager.serialize) and drops all but the newest few. */
export async function writeProducerSnapshot(fs: FileSystem, dir: string, snapshot: Buffer, offset: number): Promise<void> {
  await writeFileAtomic(fs, dir, snapshotFileName(offset), snapshot);
  const offsets = await listSnapshots(fs, dir);
  for (const old of offsets.slice(0, Math.max(0, offsets.length - SNAPSHOTS_KEPT))) await unlinkQuietly(fs, `${dir}/${snapshotFileName(old)}`);
}

/**
 * Rebuilds `state` for a log whose segments are loaded: newest snapshot at or below the log end,
 * then every batch header from there. Snapshots past the log end (the log was cut by recovery) go.
 * Without a snapshot, the last two segments are replayed (as Kafka does: older producers would
 * have expired). When a segment's transaction index is being rebuilt, the replay must start at or
 * before that segment with the state as it was there (open transactions included): a snapshot at
 * or below its base offset, else the whole log.
 */
export async function restoreProducerState(
  fs: FileSystem,
  dir: string,
  state: ProducerStateManager,
  segments: readonly LogSegment[],
  logger: Logger,
  name: string,
): Promise<void> {
  state.clear();
  const logEnd = segments.length > 0 ? segments[segments.length - 1].nextOffset : 0;
  const logStart = segments.length > 0 ? segments[0].baseOffset : 0;
  const rebuilding = segments.find((s) => s.txnIndex.rebuilding);
  const offsets = await listSnapshots(fs, dir);
  let from = -1;
  for (let i = offsets.length - 1; i >= 0; i--) {
    const offset = offsets[i];
    if (offset > logEnd) {
      await unlinkQuietly(fs, `${dir}/${snapshotFileName(offset)}`);
      continue;
    }
    if (rebuilding && offset > rebuilding.baseOffset) continue;
    try {
      const buf = await readSmallFile(fs, `${dir}/${snapshotFileName(offset)}`);
      if (!buf) continue;
      state.load(buf);
      // A snapshot stands for the state just before its offset: a producer's batch at or past it
      // means the file is not what it claims, and trusting it would refuse or dedupe valid writes.
      for (const entry of state.entries()) {
        const last = entry.batches[entry.batches.length - 1];
        if (last && last.lastOffset >= offset) {
          throw new Error(`producer ${entry.producerId} has a batch ending at offset ${last.lastOffset}, not before the snapshot's offset ${offset}`);
        }
        if (entry.currentTxnFirstOffset >= offset) {
          throw new Error(`producer ${entry.producerId} has a transaction opening at offset ${entry.currentTxnFirstOffset}, not before the snapshot's offset ${offset}`);
        }
      }
      from = offset;
      break;
    } catch (err) {
      logger.warn(`[${name}] ignoring producer snapshot ${snapshotFileName(offset)}: ${(err as Error).message}`);
      state.clear();
    }
  }
  if (from < 0) from = rebuilding ? logStart : segments.length >= 2 ? segments[segments.length - 2].baseOffset : logStart;
  let batches = 0;
  let indexed = 0;
  for (const seg of segments) {
    if (seg.nextOffset <= from) continue;
    const replayed = await replaySegment(seg, from, state);
    batches += replayed.batches;
    indexed += replayed.aborted;
  }
  for (const seg of segments) seg.txnIndex.rebuilding = false;
  if (batches > 0 || state.size > 0) {
    const txns = indexed > 0 ? `, ${indexed} aborted transaction(s) indexed again` : '';
    logger.info(`[${name}] producer state: ${state.size} producer(s), ${batches} batch header(s) replayed from offset ${from}${txns}`);
  }
}

/**
 * Feeds the headers of the segment's batches ending at or after `from` into `state`, and the
 * aborted transactions their markers end into the segment's transaction index when it is being rebuilt.
 */
async function replaySegment(seg: LogSegment, from: number, state: ProducerStateManager): Promise<{ batches: number; aborted: number }> {
  let count = 0;
  let aborted = 0;
  let pos = 0;
  const end = seg.size;
  let want = SCAN_CHUNK;
  while (pos + BATCH_HEADER_SIZE <= end) {
    const buf = await seg.read(pos, Math.min(want, end - pos));
    let p = 0;
    while (p + BATCH_HEADER_SIZE <= buf.length) {
      const size = LOG_OVERHEAD + buf.readInt32BE(p + BatchOffset.batchLength);
      if (size < BATCH_HEADER_SIZE) return { batches: count, aborted }; // recovery validated the log; be safe anyway
      // A control batch is needed whole (its marker is in its record): read again from it.
      if ((buf.readInt16BE(p + BatchOffset.attributes) & Attr.control) !== 0 && p + size > buf.length && p > 0) break;
      const lastOffset = Number(buf.readBigInt64BE(p + BatchOffset.baseOffset)) + buf.readInt32BE(p + BatchOffset.lastOffsetDelta);
      // A batch that failed its CRC-32C at recovery says nothing trustworthy about its producer.
      if (lastOffset >= from && !seg.checked.isBad(pos + p)) {
        const txn = state.updateAt(buf, p);
        if (txn && seg.txnIndex.rebuilding) {
          seg.txnIndex.append(txn);
          aborted++;
        }
        count++;
      }
      p += size;
    }
    if (p === 0) break;
    // Batches bigger than a chunk (a 1 MB batch after a crash): read little more than the next header.
    want = p > buf.length ? SMALL_READ : SCAN_CHUNK;
    pos += p;
  }
  return { batches: count, aborted };
}
