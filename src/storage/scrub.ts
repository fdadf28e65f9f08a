// The background scrub of sealed segments. After a start, the batches that neither recovery nor a
// fetch has checked yet (after a clean stop: everything before each segment's last index entry)
// would be checked only when first fetched; a disk that rots data nobody reads goes unnoticed until
// a consumer needs it. The scrub reads them a bounded number of bytes per tick, off the produce and
// fetch paths, checks each batch's CRC-32C through checked-batches.ts (so a fetch never checks the
// same bytes again), and marks a corrupt batch bad there: a fetch of it answers KAFKA_STORAGE_ERROR
// at once. Each corrupt batch is logged once, in the same words as a fetch that finds it. What this
// process wrote or recovered is already checked, so one pass after the start is all there is to do.
import { BATCH_HEADER_SIZE, LOG_OVERHEAD } from '../protocol/records/batch-header.js';
import { batchSizeAt } from './batch-scan.js';
import type { LogSegment } from './log-segment.js';
import type { PartitionLog, StorageLogger } from './partition-log.js';

/** The most read at once (a batch larger than this is read whole). */
const MAX_READ = 1 << 20;

export interface ScrubTotals {
  bytes: number;
  segments: number;
  corrupt: number;
}

export class SealedSegmentScrub {
  /** Where the scrub goes on in each segment it has started; gone with the segment. */
  private readonly cursors = new WeakMap<LogSegment, number>();
  private readonly finished = new WeakSet<LogSegment>();
  private next = 0;
  readonly totals: ScrubTotals = { bytes: 0, segments: 0, corrupt: 0 };

  constructor(
    private readonly logs: () => PartitionLog[],
    private readonly logger: StorageLogger,
  ) {}

  /** What the current tick may still read, and whether it must stop (a batch did not fit). */
  private left = 0;
  private full = false;

  /**
   * Checks up to `budget` bytes, partition after partition (a batch larger than the budget is read
   * whole, alone in its tick). Returns the bytes checked: 0 means every sealed segment is checked,
   * and the pass is over.
   */
  async tick(budget: number): Promise<number> {
    const logs = this.logs();
    this.left = budget;
    this.full = false;
    for (let idle = 0; this.left > 0 && !this.full && idle < logs.length; ) {
      const before = this.left;
      await this.scrubPartition(logs[this.next % logs.length], budget);
      if (this.left === before && !this.full) {
        idle++;
        this.next = (this.next + 1) % Math.max(1, logs.length);
      } else idle = 0;
    }
    return budget - this.left;
  }

  private async scrubPartition(log: PartitionLog, budget: number): Promise<void> {
    for (const seg of log.sealedSegments) {
      if (this.left <= 0 || this.full) break;
      if (seg.closed || this.finished.has(seg)) continue;
      seg.pin();
      try {
        await this.scrubSegment(log, seg, budget);
      } catch (err) {
        // A read failing here fails for a fetch too (which answers KAFKA_STORAGE_ERROR); say it once.
        this.finished.add(seg);
        if (!seg.closed) this.logger.warn(`[${log.name}] scrub of ${seg.logPath} stopped: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        seg.unpin();
      }
    }
  }

  private async scrubSegment(log: PartitionLog, seg: LogSegment, budget: number): Promise<void> {
    let pos = seg.checked.firstUnchecked(this.cursors.get(seg) ?? 0, seg.size);
    let gaveUp = false;
    while (pos >= 0 && this.left > 0 && !this.full && !seg.closed) {
      const end = seg.size;
      let buf = await seg.read(pos, Math.min(Math.max(this.left, BATCH_HEADER_SIZE), MAX_READ, end - pos));
      let whole = wholeBatches(buf);
      if (whole === 0) {
        if (this.left < budget) {
          this.full = true; // the next batch does not fit in what is left: the next tick starts with it
          break;
        }
        // One batch larger than the whole budget: read it whole, if its length can be believed.
        const size = buf.length >= LOG_OVERHEAD ? batchSizeAt(buf, 0) : 0;
        if (size < BATCH_HEADER_SIZE || pos + size > end) {
          this.logger.error(`[${log.name}] scrub: no whole batch at byte ${pos} of ${seg.logPath} (length field ${size - LOG_OVERHEAD}); the rest of the segment is not checked`);
          this.totals.corrupt++;
          gaveUp = true;
          break;
        }
        buf = await seg.read(pos, size);
        whole = buf.length === size ? size : 0;
        if (whole === 0) {
          gaveUp = true; // the segment shrank under us: it is being deleted
          break;
        }
      }
      this.left -= whole;
      this.totals.bytes += whole;
      const { good, corrupt } = seg.checked.check(buf, pos, whole);
      let after = pos + whole;
      if (corrupt) {
        if (corrupt.isNew) this.totals.corrupt++;
        log.corruptBatchError(seg, corrupt); // logs it, once
        after = corrupt.position + batchSizeAt(buf, good);
      }
      this.cursors.set(seg, after);
      pos = seg.checked.firstUnchecked(after, end);
    }
    if (pos < 0 || gaveUp || seg.closed) {
      this.finished.add(seg);
      if (pos < 0 && !seg.closed) this.totals.segments++;
    }
  }
}

function wholeBatches(buf: Buffer): number {
  let p = 0;
  while (p + LOG_OVERHEAD <= buf.length) {
    const size = batchSizeAt(buf, p);
    if (size < BATCH_HEADER_SIZE || p + size > buf.length) break;
    p += size;
  }
  return p;
}
