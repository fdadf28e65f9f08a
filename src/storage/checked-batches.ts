// Which batches of a segment this process has checked against their CRC-32C, so that a batch read
// from disk is checked once, the first time it is served after a start, and never again after that.
// A segment starts out knowing that everything from `tailFrom` on is good (bytes it wrote itself, or
// that recovery validated); a fetch or the scrub adds the ranges it checked. Batches whose CRC did
// not match are remembered, so they are refused at once (and logged once) on every later read.
import { BatchOffset } from '../protocol/records/batch-header.js';
import { crc32c } from '../protocol/records/crc.js';
import { baseOffsetAt, batchSizeAt, lastOffsetAt } from './batch-scan.js';

const HEADER = 61;

export interface CorruptBatch {
  position: number;
  baseOffset: number;
  lastOffset: number;
  /** True the first time this batch is found corrupt (the caller logs then). */
  isNew: boolean;
}

export interface CheckResult {
  /** Bytes of whole, good batches at the start of the buffer. */
  good: number;
  /** The batch right after them, if its CRC did not match. */
  corrupt: CorruptBatch | null;
}

export class CheckedBatches {
  /** Everything from this byte position on is known good (Infinity: nothing is). */
  tailFrom = Infinity;
  /** Checked byte ranges before `tailFrom`: sorted, disjoint, not adjacent ([start, end) pairs). */
  private starts: number[] = [];
  private ends: number[] = [];
  private readonly bad = new Map<number, CorruptBatch>();

  /** True if [start, end) is known good. */
  covers(start: number, end: number): boolean {
    if (start >= this.tailFrom) return true;
    // A range never reaches tailFrom (add() merges it into the tail), so one range must hold it all.
    const i = this.rangeAt(start);
    return i >= 0 && this.ends[i] >= end;
  }

  /**
   * Checks the whole batches at the start of `buf`, read at byte `position` of the segment, that
   * are not known good yet; stops at the first corrupt one. The caller serves `good` bytes.
   */
  check(buf: Buffer, position: number, length = buf.length): CheckResult {
    if (position >= this.tailFrom || this.covers(position, position + length)) return { good: length, corrupt: null };
    let p = 0;
    let runStart = -1; // start (in buf) of the batches checked here that are not yet recorded
    while (p + HEADER <= length) {
      const size = batchSizeAt(buf, p);
      if (size < HEADER || p + size > length) break;
      const at = position + p;
      const known = this.bad.get(at);
      if (known) {
        this.flush(position, runStart, p);
        return { good: p, corrupt: { ...known, isNew: false } };
      }
      if (!this.covers(at, at + size)) {
        const stored = buf.readUInt32BE(p + BatchOffset.crc);
        if (crc32c(buf, p + BatchOffset.attributes, p + size) !== stored) {
          this.flush(position, runStart, p);
          const corrupt = { position: at, baseOffset: baseOffsetAt(buf, p), lastOffset: lastOffsetAt(buf, p), isNew: true };
          this.bad.set(at, { ...corrupt, isNew: false });
          return { good: p, corrupt };
        }
        if (runStart < 0) runStart = p;
      } else {
        this.flush(position, runStart, p);
        runStart = -1;
      }
      p += size;
    }
    this.flush(position, runStart, p);
    return { good: length, corrupt: null };
  }

  /** Marks [start, end) of the segment as checked and good. */
  add(start: number, end: number): void {
    if (end <= start) return;
    if (end >= this.tailFrom) {
      end = this.tailFrom;
      if (start >= end) return;
    }
    // Ranges that overlap or touch [start, end) merge into one.
    let lo = 0;
    while (lo < this.starts.length && this.ends[lo] < start) lo++;
    let hi = lo;
    while (hi < this.starts.length && this.starts[hi] <= end) hi++;
    if (hi > lo) {
      start = Math.min(start, this.starts[lo]);
      end = Math.max(end, this.ends[hi - 1]);
    }
    this.starts.splice(lo, hi - lo, start);
    this.ends.splice(lo, hi - lo, end);
    // A range reaching the known-good tail joins it.
    const last = this.starts.length - 1;
    if (this.ends[last] >= this.tailFrom) {
      this.tailFrom = this.starts[last];
      this.starts.pop();
      this.ends.pop();
    }
  }

  /** The first byte at or after `from` (below `end`) not known good, or -1. */
  firstUnchecked(from: number, end: number): number {
    let pos = from;
    for (;;) {
      if (pos >= end || pos >= this.tailFrom) return -1;
      const i = this.rangeAt(pos);
      if (i < 0) return pos;
      pos = this.ends[i];
    }
  }

  /** Whether a batch at this position was found corrupt. */
  isBad(position: number): boolean {
    return this.bad.has(position);
  }

  /** Corrupt batches found so far. */
  get badCount(): number {
    return this.bad.size;
  }

  /** Remembers a corrupt batch found elsewhere (the scrub); returns false if it was known. */
  markBad(batch: Omit<CorruptBatch, 'isNew'>): boolean {
    if (this.bad.has(batch.position)) return false;
    this.bad.set(batch.position, { ...batch, isNew: false });
    return true;
  }

  /** Index of the range containing `pos`, or -1. */
  private rangeAt(pos: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid] <= pos) {
        if (pos < this.ends[mid]) return mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return -1;
  }

  private flush(position: number, runStart: number, runEnd: number): void {
    if (runStart >= 0 && runEnd > runStart) this.add(position + runStart, position + runEnd);
  }
}
