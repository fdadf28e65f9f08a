// The newest batches of each active segment, kept in memory as the bytes just written, so that a
// fetch at the log end (a consumer keeping up: the latency-sensitive case) is answered without a
// file read. Without it such a fetch costs two trips through libuv's thread pool (a header walk and
// the read), and on a busy machine each trip can wait milliseconds for a thread to be scheduled.
// Kafka gets the same from the page cache through sendfile; we get it from the produce buffers.
//
// Bounded twice: a segment keeps at most 8 MiB, nothing while nobody reads it (a batch bigger than
// 8 MiB is not kept: throughput consumers of big batches read the file), and all segments of the
// process together at most 16 MiB,
// the oldest dropped first. A batch is also dropped once it has been kept for 30 s (a consumer that
// far behind reads the file anyway), so an idle broker holds nothing.
// What a segment keeps is always a contiguous run of whole batches ending at its logical end.
import { BatchOffset, LOG_OVERHEAD } from '../protocol/records/batch-header.js';
import { baseOffsetAt, lastOffsetAt } from './batch-scan.js';
import { keepLeasedBuffer } from './read-buffers.js';

// 8 MiB per segment: a follower fetches up to replica.fetch.max.bytes (1 MiB) at a time, and
// librdkafka's producers send batches of up to 1 MB (batch.size): with 512 KiB half of kcat's batches
// were not kept and every follower fetch of them read the file (a thread-pool trip and a fresh 1 MiB
// buffer, for each follower). With 2 MiB, followers of a busy leader on a loaded machine lag by more
// than that: about half of what they fetched in a replication bench round (1M x 100 B, load ~20)
// was read from the file again. The process-wide bound is unchanged.
// Kept only while the segment is being read (a fetch in the last readerWindowMs, or one waiting at
// its end). A segment nobody reads (a producer alone) kept 8 MiB of dead-on-eviction produce frames,
// each promoted to V8's old generation and freed only by a full GC: the broker's peak RSS under kcat
// rose 109-111 -> 118-128 MB (issue 13, bench/RESULTS.md). Even 2 MiB of them cost ~6 MB of peak
// (memory.mjs: 95-109 MB against 90-97 MB with none kept; bench/RESULTS.md, "broker memory: recent
// batches, glibc's arenas"), so a segment nobody has read in readerWindowMs keeps nothing: a
// consumer or follower that keeps up reads it at least that often, and only the first fetch after
// a pause reads the file.
export const recentBatchLimits = { perSegmentBytes: 8 << 20, unreadSegmentBytes: 0, readerWindowMs: 10_000, processBytes: 16 << 20, maxAgeMs: 30_000, sweepEveryMs: 10_000 };

interface Entry {
  /** File position of buf[0]. */
  position: number;
  buf: Buffer;
  /** Memory it holds (the whole backing store when it is a view into a bigger one). */
  bytes: number;
  /** Base offset of its first batch and last offset of its last batch. */
  baseOffset: number;
  lastOffset: number;
  owner: RecentBatches | null;
  /** performance.now() when it was added. */
  addedAt: number;
}

const EMPTY = Buffer.alloc(0);
/** Every live entry of the process, oldest first (dropped entries are skipped and compacted away). */
let fifo: Entry[] = [];
let fifoHead = 0;
let processBytes = 0;

/** Drops what has been kept longer than maxAgeMs; runs while anything is kept (an unref'd timer). */
let sweeper: NodeJS.Timeout | undefined;
function sweep(): void {
  const cutoff = performance.now() - recentBatchLimits.maxAgeMs;
  while (fifoHead < fifo.length) {
    const e = fifo[fifoHead];
    if (e.owner && e.addedAt > cutoff) break;
    fifoHead++;
    if (e.owner) e.owner.dropOldest(e);
  }
  compact();
  if (processBytes === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

function compact(): void {
  if (fifoHead > 1024 && fifoHead * 2 > fifo.length) {
    fifo = fifo.slice(fifoHead).filter((e) => e.owner !== null);
    fifoHead = 0;
  } else if (fifoHead === fifo.length) {
    fifo = [];
    fifoHead = 0;
  }
}

function evictProcessWide(): void {
  while (processBytes > recentBatchLimits.processBytes && fifoHead < fifo.length) {
    const e = fifo[fifoHead++];
    if (e.owner) e.owner.dropOldest(e);
  }
  compact();
}

/** Bytes held by all segments (tests). */
export function recentBatchBytes(): number {
  return processBytes;
}

export interface RecentLocation {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
}

export class RecentBatches {
  private entries: Entry[] = [];
  private bytes = 0;
  /** performance.now() of the last read or batch lookup (see recentBatchLimits.unreadSegmentBytes). */
  private lastReadAt = -Infinity;

  /** Records batches written at `position` (right after what is kept, else everything is dropped first). */
  add(position: number, records: Buffer): void {
    const last = this.entries[this.entries.length - 1];
    if (last && last.position + last.buf.length !== position) this.clear();
    const backing = records.buffer.byteLength;
    if (records.length > recentBatchLimits.perSegmentBytes) {
      this.clear();
      return;
    }
    // A small view into a big backing store (a produce frame inside a socket chunk) is copied, so
    // a kilobyte kept does not pin 64 KiB.
    const sparse = backing > 2 * records.length + 4096;
    const buf = sparse ? Buffer.from(records) : records;
    let lastBatch = 0;
    for (let p = 0; p + LOG_OVERHEAD <= buf.length; p += LOG_OVERHEAD + buf.readInt32BE(p + BatchOffset.batchLength)) lastBatch = p;
    const e: Entry = {
      position,
      buf,
      bytes: sparse ? buf.length : Math.max(backing, records.length),
      owner: this,
      addedAt: performance.now(),
      baseOffset: baseOffsetAt(buf, 0),
      lastOffset: lastOffsetAt(buf, lastBatch),
    };
    this.entries.push(e);
    this.bytes += e.bytes;
    processBytes += e.bytes;
    fifo.push(e);
    const read = performance.now() - this.lastReadAt < recentBatchLimits.readerWindowMs;
    const limit = read ? recentBatchLimits.perSegmentBytes : Math.min(recentBatchLimits.perSegmentBytes, recentBatchLimits.unreadSegmentBytes);
    while (this.bytes > limit && this.entries.length > 0) this.dropOldest(this.entries[0]);
    evictProcessWide();
    // Kept: a produce frame it is a view of must not go back to the frame pool (read-buffers.ts).
    if (e.owner && !sparse) keepLeasedBuffer(buf);
    if (!sweeper) {
      sweeper = setInterval(sweep, recentBatchLimits.sweepEveryMs);
      sweeper.unref();
    }
  }

  /** @internal Drops `e`, which must be this segment's oldest entry. */
  dropOldest(e: Entry): void {
    if (this.entries[0] !== e) return;
    this.entries.shift();
    this.release(e);
  }

  private release(e: Entry): void {
    this.bytes -= e.bytes;
    processBytes -= e.bytes;
    e.owner = null;
    e.buf = EMPTY;
    if (processBytes === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  }

  clear(): void {
    for (const e of this.entries) this.release(e);
    this.entries = [];
  }

  /** The first kept position, or -1 when nothing is kept. */
  get start(): number {
    return this.entries.length > 0 ? this.entries[0].position : -1;
  }

  /** A reader is waiting at the log end (a consumer or follower caught up): keep what comes next. */
  noteReader(): void {
    this.lastReadAt = performance.now();
  }

  /**
   * The first batch whose last offset is >= target, starting before `end`, when the kept batches
   * can tell: null when it is not here (the caller reads the file), 'none' when no batch qualifies.
   */
  findBatch(target: number, end: number): RecentLocation | null | 'none' {
    this.lastReadAt = performance.now();
    const entries = this.entries;
    if (entries.length === 0 || entries[0].baseOffset > target) return null;
    // The first entry whose last offset reaches the target (fetches ask near the end: search).
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (entries[mid].lastOffset < target) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < entries.length; i++) {
      const e = entries[i];
      for (let p = 0; p + LOG_OVERHEAD <= e.buf.length; ) {
        const position = e.position + p;
        if (position >= end) return 'none';
        const size = LOG_OVERHEAD + e.buf.readInt32BE(p + BatchOffset.batchLength);
        const lastOffset = lastOffsetAt(e.buf, p);
        if (lastOffset >= target) return { position, size, baseOffset: baseOffsetAt(e.buf, p), lastOffset };
        p += size;
      }
    }
    return 'none';
  }

  /**
   * Bytes [position, position+length) if they are all kept: a view when one buffer holds them.
   * `shortViewBytes`: when they span buffers but the first holds at least this many of them, only
   * those (a view, fewer bytes than asked) instead of a copy joining them.
   */
  read(position: number, length: number, shortViewBytes = Infinity): Buffer | null {
    this.lastReadAt = performance.now();
    const entries = this.entries;
    if (entries.length === 0 || position < entries[0].position) return null;
    let i = entries.length - 1;
    while (i > 0 && entries[i].position > position) i--;
    const e = entries[i];
    const from = position - e.position;
    if (from > e.buf.length) return null;
    if (from + length <= e.buf.length) return e.buf.subarray(from, from + length);
    if (e.buf.length - from >= shortViewBytes) return e.buf.subarray(from);
    const parts = [e.buf.subarray(from)];
    let have = parts[0].length;
    for (let j = i + 1; j < entries.length && have < length; j++) {
      const part = entries[j].buf.subarray(0, length - have);
      parts.push(part);
      have += part.length;
    }
    return have < length ? null : Buffer.concat(parts, length);
  }
}
