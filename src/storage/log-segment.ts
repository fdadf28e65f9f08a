// One segment: `<baseOffset>.log` (whole batches back to back) with its `.index` and `.timeindex`,
// and a `.txnindex` once a transaction aborts in it (txn-index.ts).
// The segment knows its logical end (`size`, the bytes of whole valid batches); reads never go past
// it, and a failed append is cut back to it, so a half-written batch is never visible.
import { baseOffsetAt, batchSizeAt, findRecord, lastOffsetAt, maxTimestampAt, wholeBatchesLength } from './batch-scan.js';
import type { LogConfig } from './config.js';
import { CheckedBatches } from './checked-batches.js';
import { type FileHandle, type FileSystem, isNotFound, preadFully, pwritevFully, storageError } from './file-system.js';
import { leaseReadBuffer } from './read-buffers.js';
import { RecentBatches } from './recent-batches.js';
import { type CorruptBatchAt, scanSegmentLog } from './recovery-scan.js';
import { OffsetIndex, TimeIndex } from './sparse-index.js';
import { TransactionIndex } from './txn-index.js';

export interface SegmentContext {
  readonly fs: FileSystem;
  readonly config: LogConfig;
}

export interface BatchLocation {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
}

/** What LogSegment.readBatches found: `records` start at byte `position` of the segment. */
export interface BatchesRead {
  position: number;
  records: Buffer;
  readLength: number;
}

/** Offsets of a sealed segment behind damage recovery could not step over. */
export interface UnreadableRange {
  /** Byte where the damage starts (the segment's logical end). */
  position: number;
  firstOffset: number;
  lastOffset: number;
  problem: string;
}

export interface RecoveryResult {
  /** Bytes cut from the end of the file (the active segment's torn tail only). */
  truncatedBytes: number;
  /** Why the scan stopped before the end of the file, if it did. */
  problem: string | null;
  /** Batches of a sealed segment whose CRC-32C did not match, kept on disk and never served. */
  corrupt: CorruptBatchAt[];
}

const HEADER = 61;
const EMPTY = Buffer.alloc(0);
/** Read ends remembered per segment: one per consumer reading it in step, a few consumers. */
const MAX_READ_ENDS = 16;
/**
 * A fetch whose bytes span two kept appends gets only the first one's when that holds at least
 * this much, instead of a copy joining them (RecentBatches.read): a follower of a leader fed by
 * kcat (appends of 200 KB-1 MB) otherwise had ~190 MB of its 220 MB per round of 1M x 100 B copied
 * into fresh buffers, each then garbage. The next fetch gets the rest; appends smaller than this
 * (consumers of small produce requests) are still joined into one answer.
 */
const SHORT_VIEW_BYTES = 256 * 1024;

export function segmentFileName(baseOffset: number, suffix: '.log' | '.index' | '.timeindex' | '.txnindex'): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

export class LogSegment {
  /** Bytes of whole, valid batches: the logical end of the .log file. */
  size = 0;
  /** One past the last offset stored here (= baseOffset while empty). */
  nextOffset: number;
  /** Largest batch maxTimestamp seen, and the base offset of the first batch that reached it. */
  maxTimestamp = -1;
  offsetOfMaxTimestamp: number;
  /** The first batch's maxTimestamp (what segment.ms counts from), -1 when unknown or absent. */
  firstBatchTimestamp = -1;
  /** When this segment object was created (segment.ms counts from here when batches carry no timestamp). */
  readonly createdMs: number;
  /** Time of the last append, or the file's mtime when loaded (retention of batches without timestamps). */
  lastModifiedMs: number;

  private bytesSinceLastIndexEntry = 0;
  private logUnsynced = false;
  /**
   * From markDeleted on, never flushed: its records count for nothing (below the log start, cut, or
   * replaced by a cleaned segment fsynced before the swap), so an fdatasync of its .log is wasted.
   */
  private deleting = false;
  /** A failed append may have left bytes past `size` that could not be cut yet. */
  private tailDirty = false;
  private pins = 0;
  private closing: Promise<void> | undefined;
  private releaseWhenUnpinned: (() => void) | undefined;
  /** The newest batches as written, for fetches at the log end (recent-batches.ts); active segment only. */
  private readonly recent = new RecentBatches();
  /**
   * Where the batch after a recently served read starts, by its first offset to fetch (the served
   * last offset + 1): a consumer's next fetch asks for exactly that offset, and then needs no index
   * lookup and header walk (two or three trips through libuv's thread pool) before its one read.
   * Cleared whenever batches are cut (truncateTo, recover).
   */
  private readonly readEnds = new Map<number, number>();
  private flushing: Promise<void> = Promise.resolve();
  /** Batches this process has checked against their CRC-32C (checked-batches.ts): reads check the rest. */
  readonly checked = new CheckedBatches();
  /**
   * Damage recovery found in a sealed segment that it could not step over (the batch framing itself
   * is broken): `size` stops there, the bytes stay on disk, and reads of these offsets answer
   * KAFKA_STORAGE_ERROR instead of skipping them silently.
   */
  unreadable: UnreadableRange | null = null;
  closed = false;

  private constructor(
    private readonly ctx: SegmentContext,
    readonly dir: string,
    readonly baseOffset: number,
    private log: FileHandle,
    public logPath: string,
    readonly offsetIndex: OffsetIndex,
    readonly timeIndex: TimeIndex,
    /** Aborted transactions whose marker is in this segment (txn-index.ts). */
    readonly txnIndex: TransactionIndex,
    now: number,
  ) {
    this.nextOffset = baseOffset;
    this.offsetOfMaxTimestamp = baseOffset;
    this.createdMs = now;
    this.lastModifiedMs = now;
  }

  private static build(ctx: SegmentContext, dir: string, baseOffset: number, log: FileHandle, now: number, suffix = ''): LogSegment {
    const maxIndex = ctx.config.segmentIndexBytes;
    return new LogSegment(
      ctx,
      dir,
      baseOffset,
      log,
      `${dir}/${segmentFileName(baseOffset, '.log')}${suffix}`,
      new OffsetIndex(ctx.fs, `${dir}/${segmentFileName(baseOffset, '.index')}${suffix}`, baseOffset, maxIndex),
      new TimeIndex(ctx.fs, `${dir}/${segmentFileName(baseOffset, '.timeindex')}${suffix}`, baseOffset, maxIndex),
      new TransactionIndex(ctx.fs, `${dir}/${segmentFileName(baseOffset, '.txnindex')}${suffix}`, baseOffset),
      now,
    );
  }

  /**
   * A new, empty segment (its three files are created, or emptied if a stale one had the name).
   * `suffix` names files that are not part of the log yet (the cleaner's `.cleaned`).
   */
  static async create(ctx: SegmentContext, dir: string, baseOffset: number, now: number, suffix = ''): Promise<LogSegment> {
    const log = await ctx.fs.open(`${dir}/${segmentFileName(baseOffset, '.log')}${suffix}`, 'w+');
    const seg = LogSegment.build(ctx, dir, baseOffset, log, now, suffix);
    seg.checked.tailFrom = 0; // everything in it will be written (and validated) by this process
    seg.txnIndex.markNew();
    seg.txnIndex.keepOpen = true;
    try {
      await seg.offsetIndex.create();
      await seg.timeIndex.create();
    } catch (err) {
      await seg.close().catch(() => {});
      throw err;
    }
    return seg;
  }

  /** An existing segment; the caller then runs loadTrusted() or recover() before using it. */
  static async open(ctx: SegmentContext, dir: string, baseOffset: number, now: number, suffix = ''): Promise<LogSegment> {
    const log = await ctx.fs.open(`${dir}/${segmentFileName(baseOffset, '.log')}${suffix}`, 'r+');
    const seg = LogSegment.build(ctx, dir, baseOffset, log, now, suffix);
    try {
      const st = await log.stat();
      seg.size = st.size;
      seg.lastModifiedMs = st.mtimeMs;
    } catch (err) {
      await log.close().catch(() => {});
      throw err;
    }
    return seg;
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  get needsFlush(): boolean {
    if (this.deleting) return false;
    return this.logUnsynced || this.offsetIndex.dirty || this.timeIndex.dirty || this.txnIndex.dirty;
  }

  // ---- loading ----

  /**
   * Trusts the index files after checking them: plausible entries, and the batches from the last
   * indexed one to the end of the file are valid and end exactly at the end of the file. Returns why
   * the segment must be recovered instead, or null.
   */
  async loadTrusted(limitOffset: number): Promise<string | null> {
    const [oi, ti, xi] = await Promise.all([this.offsetIndex.load(), this.timeIndex.load(), this.txnIndex.load()]);
    if (oi !== 'ok') return `offset index ${oi}`;
    if (ti !== 'ok') return `time index ${ti}`;
    if (xi === 'corrupt') return 'transaction index corrupt';
    if (!this.offsetIndex.isPlausible(this.size)) return 'offset index entries are implausible';
    const last = this.timeIndex.lastEntry;
    if (last) {
      this.maxTimestamp = last.timestamp;
      this.offsetOfMaxTimestamp = last.offset;
    }
    const fileSize = this.size;
    const start = this.offsetIndex.lastPosition;
    const expectFirstLast = this.offsetIndex.entries > 0 ? this.offsetIndex.lastOffset : -1;
    const scan = await this.scanFrom(start, fileSize, limitOffset, expectFirstLast);
    if (scan.problem) return `${scan.problem} at byte ${scan.end}`;
    if (!this.timeIndex.isPlausible(this.nextOffset)) return 'time index entries are implausible';
    if (!this.txnIndex.isPlausible(this.nextOffset)) return 'transaction index entries are implausible';
    this.checked.tailFrom = start; // the scan just validated the batches from there to the end
    if (start > 0 && fileSize >= HEADER) {
      const head = Buffer.alloc(HEADER);
      if ((await preadFully(this.log, head, 0)) === HEADER) this.firstBatchTimestamp = maxTimestampAt(head, 0);
    }
    return null;
  }

  /**
   * Validates every batch from the start and rebuilds both indexes. In the active segment
   * (`sealed` false) the first invalid byte is where a crash tore the tail: the file is cut there.
   * A sealed segment has later segments after it, so damage in it is not a torn tail but damage to
   * acknowledged data: nothing is cut. A batch whose CRC-32C does not match but whose framing and
   * offsets hold is stepped over and remembered as corrupt (never served); damage that cannot be
   * stepped over ends the readable part, and the offsets from there to the next segment become
   * `unreadable`.
   */
  async recover(limitOffset: number, sealed = false): Promise<RecoveryResult> {
    this.readEnds.clear();
    this.unreadable = null;
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = this.baseOffset;
    this.firstBatchTimestamp = -1;
    this.nextOffset = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    const { size: fileSize } = await this.log.stat();
    const corrupt: CorruptBatchAt[] = [];
    const scan = await this.scanFrom(0, fileSize, limitOffset, -1, sealed ? corrupt : undefined);
    this.size = scan.end;
    this.markValidated(corrupt);
    let truncatedBytes = 0;
    if (scan.end < fileSize) {
      if (sealed) {
        this.unreadable = { position: scan.end, firstOffset: this.nextOffset, lastOffset: limitOffset - 1, problem: scan.problem ?? 'unreadable' };
      } else {
        await this.log.truncate(scan.end);
        truncatedBytes = fileSize - scan.end;
      }
    }
    // What was scanned came from the page cache; the next flush makes it durable.
    this.logUnsynced = true;
    return { truncatedBytes, problem: scan.problem, corrupt };
  }

  /** Every batch up to `size` was validated by a scan, except the corrupt ones (never served). */
  private markValidated(corrupt: readonly CorruptBatchAt[]): void {
    const last = corrupt[corrupt.length - 1];
    this.checked.tailFrom = last ? last.position + last.size : 0;
    let from = 0;
    for (const batch of corrupt) {
      this.checked.add(from, batch.position);
      this.checked.markBad({ position: batch.position, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset });
      from = batch.position + batch.size;
    }
  }

  /**
   * The recovery scan of this segment's .log from `start` (recovery-scan.ts). The scan only reads and
   * checks; the bookkeeping of each batch it passes (timestamps, index entries, next offset) is done
   * here, with the same indexBatch as an append.
   */
  private scanFrom(
    start: number,
    fileSize: number,
    limitOffset: number,
    expectFirstLastOffset: number,
    corrupt?: CorruptBatchAt[],
  ): Promise<{ end: number; problem: string | null }> {
    if (start > 0) this.bytesSinceLastIndexEntry = 0;
    return scanSegmentLog(this.log, this.baseOffset, { start, fileSize, limitOffset, expectFirstLastOffset, corrupt }, {
      indexBatch: (position, size, baseOffset, lastOffset, maxTs) => this.indexBatch(position, size, baseOffset, lastOffset, maxTs),
      indexedBatch: (size, baseOffset, lastOffset, maxTs) => {
        this.nextOffset = lastOffset + 1;
        this.noteTimestamp(maxTs, baseOffset);
        this.bytesSinceLastIndexEntry = size;
      },
      steppedOver: (size, lastOffset) => {
        this.bytesSinceLastIndexEntry += size;
        this.nextOffset = lastOffset + 1;
      },
    });
  }

  private noteTimestamp(maxTs: number, baseOffset: number): void {
    if (maxTs > this.maxTimestamp) {
      this.maxTimestamp = maxTs;
      this.offsetOfMaxTimestamp = baseOffset;
    }
  }

  /** Bookkeeping for a batch now stored at `position`: timestamps, sparse index entries, next offset. */
  private indexBatch(position: number, size: number, baseOffset: number, lastOffset: number, maxTs: number): void {
    this.noteTimestamp(maxTs, baseOffset);
    if (position === 0) this.firstBatchTimestamp = maxTs;
    if (this.bytesSinceLastIndexEntry > this.ctx.config.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
    this.nextOffset = lastOffset + 1;
  }

  // ---- writing ----

  /**
   * Appends validated batches (offsets already assigned). On any I/O error the file is cut back to
   * where it was and a KAFKA_STORAGE_ERROR is thrown: nothing of a failed append stays visible.
   * With `sync`, the data is fdatasync'ed before this resolves (and a failed sync also undoes it).
   */
  async append(records: Buffer | readonly Buffer[], sync: boolean, now: number): Promise<void> {
    const parts = Buffer.isBuffer(records) ? [records] : records;
    const position = this.size;
    try {
      if (this.tailDirty) {
        await this.log.truncate(position);
        this.tailDirty = false;
      }
    } catch (err) {
      throw storageError(err, `cannot cut the failed tail of ${this.logPath}`);
    }
    try {
      await pwritevFully(this.log, parts, position);
      if (sync) await this.log.fdatasync();
    } catch (err) {
      this.tailDirty = true;
      try {
        await this.log.truncate(position);
        this.tailDirty = false;
      } catch {
        // Retried before the next append; reads never look past `size` meanwhile.
      }
      throw storageError(err, `append to ${this.logPath} failed`);
    }
    this.logUnsynced = !sync;
    let at = position;
    for (const part of parts) {
      for (let p = 0; p < part.length; ) {
        const size = batchSizeAt(part, p);
        this.indexBatch(at + p, size, baseOffsetAt(part, p), lastOffsetAt(part, p), maxTimestampAt(part, p));
        p += size;
      }
      this.size = at + part.length;
      this.recent.add(at, part);
      at += part.length;
    }
    this.lastModifiedMs = now;
  }

  /**
   * Writes pending index entries and fdatasyncs whatever is not yet durable. Flushes of one segment
   * run one after another (a sealed segment's background flush may meet a shutdown's flush).
   */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.flushOnce());
    this.flushing = run.catch(() => {});
    return run;
  }

  private async flushOnce(): Promise<void> {
    // Asked for just before the deletion (a roll's background flush of the segment retention deletes).
    if (this.deleting) return;
    // The data first: the indexes can always be rebuilt from it.
    if (this.logUnsynced) {
      this.logUnsynced = false;
      try {
        await this.log.fdatasync();
      } catch (err) {
        this.logUnsynced = true;
        throw err;
      }
    }
    await this.offsetIndex.persist(true);
    await this.timeIndex.persist(true);
    await this.txnIndex.persist(true);
  }

  /** Writes index entries not yet in the files, without fdatasync (after a rebuild). */
  async writeIndexes(): Promise<void> {
    await this.offsetIndex.persist(false);
    await this.timeIndex.persist(false);
    await this.txnIndex.persist(false);
  }

  /** No more appends here: record the final time-index entry and stop keeping the index files open. */
  async seal(): Promise<void> {
    this.recent.clear();
    this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    this.offsetIndex.keepOpen = false;
    this.timeIndex.keepOpen = false;
    this.txnIndex.keepOpen = false;
    await this.offsetIndex.persist(false);
    await this.timeIndex.persist(false);
    await this.txnIndex.persist(false);
  }

  /**
   * Cuts the batch holding `offset` and everything after it (Kafka cuts whole batches), then rebuilds
   * the indexes and timestamps from what is left by validating it again: truncation is rare (a leader
   * change) and this way nothing derived from the cut batches survives. Returns the bytes cut.
   */
  async truncateTo(offset: number): Promise<number> {
    const loc = await this.findBatch(offset);
    if (!loc) return 0;
    const cut = this.size - loc.position;
    this.recent.clear();
    this.readEnds.clear();
    await this.log.truncate(loc.position);
    this.size = loc.position;
    await this.recover(Infinity);
    this.txnIndex.truncateTo(this.nextOffset); // transactions whose marker was cut are no longer aborted here
    await this.writeIndexes();
    return cut;
  }

  // ---- reading ----

  /** A fetch waits at this segment's end: what is appended next is kept for it (recent-batches.ts). */
  noteReader(): void {
    this.recent.noteReader();
  }

  /**
   * Bytes [position, position+length) of the log, fewer at the logical end. `shortViewBytes`: see
   * RecentBatches.read (fewer bytes may come back, ending at a batch boundary).
   */
  async read(position: number, length: number, shortViewBytes?: number): Promise<Buffer> {
    const len = Math.max(0, Math.min(length, this.size - position));
    const kept = this.recent.read(position, len, shortViewBytes);
    if (kept) return kept;
    const buf = leaseReadBuffer(len);
    const n = await preadFully(this.log, buf, position, 0, len);
    return n === len ? buf : buf.subarray(0, n);
  }

  /**
   * Whole batches from the first one whose last offset is >= `target`: at most `maxBytes` of them
   * (but the first one whole when `minOneBatch`), none whose last offset reaches `maxOffset`. Null
   * when no batch here holds `target`; empty records when nothing may be served. `readLength`: the
   * bytes from `position` a read bounded by maxBytes and maxOffset covers (whole batches or not;
   * read_committed's aborted-transaction bound). Not checked against their CRC-32C (the caller does
   * that, see `checked`).
   */
  async readBatches(target: number, maxBytes: number, maxOffset: number, minOneBatch: boolean): Promise<BatchesRead | null> {
    if (target >= this.nextOffset) return null;
    const end = this.size;
    const limited = maxOffset < this.nextOffset;
    const hinted = this.readEnds.get(target);
    if (hinted !== undefined && hinted + HEADER <= end) {
      // One read from where the batch is known to start; batch boundaries found in memory. A header
      // more than maxBytes is read so that the batch starting right at maxBytes is seen too.
      const want = Math.max(0, maxBytes);
      const buf = await this.read(hinted, Math.min(want + HEADER, end - hinted), SHORT_VIEW_BYTES);
      if (buf.length >= HEADER && batchSizeAt(buf, 0) >= HEADER && lastOffsetAt(buf, 0) >= target) {
        let served = 0;
        let limit = -1; // where the first batch reaching maxOffset starts, if seen
        while (served + HEADER <= buf.length) {
          const size = batchSizeAt(buf, served);
          if (size < HEADER) break;
          if (limited && lastOffsetAt(buf, served) >= maxOffset) {
            limit = served;
            break;
          }
          if (served + size > buf.length || served + size > want) break;
          served += size;
        }
        const readLength = Math.min(want, limit >= 0 ? limit : buf.length);
        if (served > 0) return this.served(hinted, buf.subarray(0, served), readLength);
        if (limit === 0 || !minOneBatch) return { position: hinted, records: EMPTY, readLength: 0 };
        // A first batch bigger than maxBytes: served whole, as Kafka does.
        const first = batchSizeAt(buf, 0);
        return this.served(hinted, first <= buf.length ? buf.subarray(0, first) : await this.read(hinted, first), first);
      }
      this.readEnds.clear(); // not what it was: forget every hint, take the long way
    }
    const loc = await this.findBatch(target, end);
    if (!loc) return null;
    let limit = end;
    if (limited) {
      const stop = await this.findBatch(maxOffset, end);
      if (stop) limit = stop.position;
    }
    if (loc.position >= limit) return { position: loc.position, records: EMPTY, readLength: 0 };
    let length = Math.min(Math.max(0, maxBytes), limit - loc.position);
    if (length < loc.size) {
      if (!minOneBatch) return { position: loc.position, records: EMPTY, readLength: 0 };
      length = loc.size;
    }
    const buf = await this.read(loc.position, length, SHORT_VIEW_BYTES);
    return this.served(loc.position, buf.subarray(0, wholeBatchesLength(buf)), buf.length);
  }

  /** Notes where the batch after `records` (whole batches read at `position`) starts. */
  private served(position: number, records: Buffer, readLength: number): BatchesRead {
    if (records.length >= HEADER) {
      let last = 0;
      for (let p = 0; p + HEADER <= records.length; p += batchSizeAt(records, p)) last = p;
      if (this.readEnds.size >= MAX_READ_ENDS) this.readEnds.delete(this.readEnds.keys().next().value as number);
      this.readEnds.set(lastOffsetAt(records, last) + 1, position + records.length);
    }
    return { position, records, readLength };
  }

  /**
   * Visits batch headers from `from` (a batch boundary) up to `end`, reading a few KiB at a time;
   * stops when `visit` returns true and returns that batch's position, else -1.
   */
  private async walkHeaders(from: number, end: number, visit: (buf: Buffer, at: number, position: number) => boolean): Promise<number> {
    const chunk = Math.min(65536, Math.max(4096, this.ctx.config.indexIntervalBytes + 4096));
    let buf: Buffer | undefined;
    let pos = from;
    while (pos + HEADER <= end) {
      const len = Math.min(chunk, end - pos);
      buf ??= Buffer.allocUnsafe(chunk);
      const n = await preadFully(this.log, buf, pos, 0, len);
      let p = 0;
      while (p + HEADER <= n) {
        if (visit(buf, p, pos + p)) return pos + p;
        const size = batchSizeAt(buf, p);
        if (size < HEADER) throw new Error(`corrupt batch length at ${this.logPath}:${pos + p}`);
        p += size;
      }
      if (p === 0) break;
      pos += p;
    }
    return -1;
  }

  /** Calls `visit` with every batch header (the bytes at `at` of `buf`), oldest first, but those of corrupt batches. */
  async forEachBatchHeader(visit: (buf: Buffer, at: number, position: number) => void): Promise<void> {
    await this.walkHeaders(0, this.size, (buf, at, position) => {
      // A batch that failed its CRC-32C at recovery: nothing in its header can be believed.
      if (!this.checked.isBad(position)) visit(buf, at, position);
      return false;
    });
  }

  /** The first batch whose last offset is >= target (an index lookup, then a short header walk). */
  async findBatch(target: number, end = this.size): Promise<BatchLocation | null> {
    if (target >= this.nextOffset) return null;
    const kept = this.recent.findBatch(target, end);
    if (kept !== null) return kept === 'none' ? null : kept;
    let found: BatchLocation | null = null;
    await this.walkHeaders(this.offsetIndex.lookup(target), end, (buf, at, position) => {
      const lastOffset = lastOffsetAt(buf, at);
      if (lastOffset < target) return false;
      found = { position, size: batchSizeAt(buf, at), baseOffset: baseOffsetAt(buf, at), lastOffset };
      return true;
    });
    return found;
  }

  /** The first record at or after minOffset with timestamp >= target (time index, offset index, walk). */
  async findOffsetByTimestamp(target: number, minOffset: number): Promise<{ offset: number; timestamp: number } | null> {
    if (this.maxTimestamp < target || minOffset >= this.nextOffset) return null;
    const startOffset = Math.max(this.timeIndex.lookup(target), minOffset);
    let from = this.offsetIndex.lookup(startOffset);
    const end = this.size;
    for (;;) {
      let size = 0;
      const position = await this.walkHeaders(from, end, (buf, at) => {
        if (lastOffsetAt(buf, at) < minOffset || maxTimestampAt(buf, at) < target) return false;
        size = batchSizeAt(buf, at);
        return true;
      });
      if (position < 0) return null;
      const batch = await this.read(position, size);
      const hit = findRecord(batch, 0, minOffset, target, 'atLeast');
      if (hit) return hit;
      from = position + size;
    }
  }

  /**
   * The record with this segment's largest timestamp (the first one, if several share it; -1 when
   * no record has a timestamp, as Kafka answers then).
   */
  async maxTimestampRecord(): Promise<{ offset: number; timestamp: number } | null> {
    if (this.nextOffset <= this.baseOffset) return null;
    const loc = await this.findBatch(this.offsetOfMaxTimestamp);
    if (!loc) return null;
    const batch = await this.read(loc.position, loc.size);
    return (
      findRecord(batch, 0, loc.baseOffset, this.maxTimestamp, 'equal') ?? { offset: loc.baseOffset, timestamp: this.maxTimestamp }
    );
  }

  // ---- lifetime ----

  /** Keeps the files open while a read uses them, even if the segment is deleted meanwhile. */
  pin(): void {
    this.pins++;
  }

  unpin(): void {
    if (--this.pins === 0 && this.releaseWhenUnpinned) this.releaseWhenUnpinned();
  }

  /** Closes the files once no read holds the segment. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pins > 0) await new Promise<void>((resolve) => (this.releaseWhenUnpinned = resolve));
      this.closed = true;
      this.recent.clear();
      const results = await Promise.allSettled([this.log.close(), this.offsetIndex.release(), this.timeIndex.release(), this.txnIndex.release()]);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    })();
    return this.closing;
  }

  /**
   * Renames the segment's files from names ending in `from` to names ending in `to` (the cleaner's
   * `.cleaned` -> `.swap` -> ''), the .log first: the loader judges a swap by its .log file.
   */
  async changeSuffix(from: string, to: string): Promise<void> {
    const renamed = (path: string) => `${path.slice(0, path.length - from.length)}${to}`;
    if (!this.logPath.endsWith(from)) throw new Error(`${this.logPath} does not end with '${from}'`);
    const logTo = renamed(this.logPath);
    await this.ctx.fs.rename(this.logPath, logTo);
    this.logPath = logTo;
    await this.offsetIndex.rename(renamed(this.offsetIndex.path));
    await this.timeIndex.rename(renamed(this.timeIndex.path));
    await this.txnIndex.rename(renamed(this.txnIndex.path));
  }

  /**
   * Step one of deletion (Kafka's): rename the files to `*.deleted`, so a restart finishes the job.
   * Each index is renamed once a write of it under way (a background flush) has finished, and is not
   * written after: when this resolves, nothing of this segment writes under the old names, which a
   * new segment at the same base offset may take next (truncateFullyAndStartAt, a roll there).
   */
  async markDeleted(): Promise<void> {
    const to = `${this.logPath}.deleted`;
    this.deleting = true;
    try {
      await this.ctx.fs.rename(this.logPath, to);
    } catch (err) {
      this.deleting = false; // still where it was (a truncation then keeps it in the log): flushed as before
      throw err;
    }
    this.logPath = to;
    await this.offsetIndex.rename(`${this.offsetIndex.path}.deleted`, { forDeletion: true });
    await this.timeIndex.rename(`${this.timeIndex.path}.deleted`, { forDeletion: true });
    await this.txnIndex.rename(`${this.txnIndex.path}.deleted`, { forDeletion: true });
  }

  /** Step two: close (after in-flight reads) and unlink the files. */
  async destroy(): Promise<void> {
    await this.close().catch(() => {});
    for (const path of [this.logPath, this.offsetIndex.path, this.timeIndex.path, this.txnIndex.path]) {
      try {
        await this.ctx.fs.unlink(path);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}

/** Index of the segment that would hold `offset`: the last one whose base offset is <= offset. */
export function floorSegment(segments: LogSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
