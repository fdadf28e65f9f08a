// The scan that decides how much of a segment's .log can be believed. Recovery runs it from byte 0
// (the indexes are rebuilt from what it reports); the check of a clean shutdown's segment runs it from
// the last index entry to the end of the file. Every batch is checked as recovery must (bounds,
// magic, CRC-32C, offsets increasing, inside the segment's offset range) and reported to the
// segment, which does the bookkeeping (log-segment.ts): the scan reads, the segment indexes.
// Kept apart from log-segment.ts because it is a state machine of its own (headers and CRCs that
// span chunk boundaries) that knows nothing of the segment's appends, reads or files' lifetimes.
import { BatchOffset } from '../protocol/records/batch-header.js';
import { crc32c } from '../protocol/records/crc.js';
import { INT32_MAX, baseOffsetAt, batchSizeAt, lastOffsetAt, maxTimestampAt, storedBatchProblem } from './batch-scan.js';
import type { FileHandle } from './file-system.js';
import { ReadAhead } from './read-ahead.js';

const HEADER = 61;
/** A batch's CRC-32C covers attributes to the end of the batch; the stored value sits before that. */
const CRC_AT = BatchOffset.crc;
const CRC_FROM = BatchOffset.attributes;

export interface CorruptBatchAt {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
}

/** What to scan, and what the scan may step over. */
export interface ScanRange {
  /** A batch boundary: 0, or the position of the last offset index entry. */
  start: number;
  fileSize: number;
  /** The next segment's base offset (Infinity for the last): no batch here may reach it. */
  limitOffset: number;
  /** The last offset the batch at `start` must have (the last index entry's), or -1 for none. */
  expectFirstLastOffset: number;
  /**
   * Given (a sealed segment's recovery), a batch failing its CRC-32C whose offsets still fit between
   * its neighbours is added here and stepped over instead of ending the scan.
   */
  corrupt?: CorruptBatchAt[];
}

/** The segment's bookkeeping, told about each batch as the scan passes it, in file order. */
export interface ScanBookkeeping {
  /** A valid batch at `position`, to be indexed (timestamps, sparse index entries, next offset). */
  indexBatch(position: number, size: number, baseOffset: number, lastOffset: number, maxTs: number): void;
  /** The valid batch at a `start` > 0: the one the last index entry points at, already indexed. */
  indexedBatch(size: number, baseOffset: number, lastOffset: number, maxTs: number): void;
  /** A corrupt batch just added to `corrupt` and stepped over: not indexed, its offsets used up. */
  steppedOver(size: number, lastOffset: number): void;
}

/**
 * Reads batches from `start` of `log` (the .log of the segment based at `baseOffset`), checking
 * each and reporting the good ones to `book`. Stops at the first bad byte: `end` is where the valid
 * prefix ends, `problem` why (null when the file ended there). The file is read in big chunks with
 * reads ahead (read-ahead.ts) and each batch's CRC is computed piece by piece as its bytes arrive, so
 * nothing is copied twice, whatever the batch and chunk sizes.
 */
export async function scanSegmentLog(
  log: FileHandle,
  baseOffset: number,
  range: ScanRange,
  book: ScanBookkeeping,
): Promise<{ end: number; problem: string | null }> {
  const { start, fileSize, limitOffset, expectFirstLastOffset, corrupt } = range;
  let prevLast = baseOffset - 1;
  let first = true;
  const reader = new ReadAhead(log, start, fileSize);
  const header = Buffer.allocUnsafe(HEADER);
  let pos = start; // where the batch being read starts
  let headerHave = 0; // header bytes gathered in `header` when the header spans two chunks
  let bodyLeft = -1; // bytes of the current batch still to check; -1 while reading its header
  let size = 0;
  let crc = 0;
  let storedCrc = 0;
  let base = 0;
  let last = 0;
  let maxTs = 0;
  try {
    for (;;) {
      if (bodyLeft < 0 && headerHave === 0 && fileSize - pos < HEADER) {
        if (pos >= fileSize) return { end: pos, problem: null };
        return { end: pos, problem: storedBatchProblem(header, 0, fileSize - pos) };
      }
      const chunk = await reader.take();
      if (!chunk) return { end: pos, problem: 'file shorter than its stat size' };
      const { buf, len } = chunk;
      let off = 0;
      while (off < len) {
        if (bodyLeft < 0) {
          // The header: straight from the chunk, or gathered across two chunks.
          let hdr = buf;
          let at = off;
          if (headerHave > 0 || len - off < HEADER) {
            if (fileSize - pos < HEADER) return { end: pos, problem: storedBatchProblem(header, 0, fileSize - pos) };
            const n = Math.min(HEADER - headerHave, len - off);
            buf.copy(header, headerHave, off, off + n);
            headerHave += n;
            off += n;
            if (headerHave < HEADER) break;
            hdr = header;
            at = 0;
          } else off += HEADER;
          headerHave = 0;
          const problem = storedBatchProblem(hdr, at, fileSize - pos);
          if (problem) return { end: pos, problem };
          size = batchSizeAt(hdr, at);
          storedCrc = hdr.readUInt32BE(at + CRC_AT);
          base = baseOffsetAt(hdr, at);
          last = lastOffsetAt(hdr, at);
          maxTs = maxTimestampAt(hdr, at);
          crc = crc32c(hdr, at + CRC_FROM, at + HEADER);
          bodyLeft = size - HEADER;
        }
        if (bodyLeft > 0) {
          const n = Math.min(bodyLeft, len - off);
          crc = crc32c(buf, off, off + n, crc);
          bodyLeft -= n;
          off += n;
          if (bodyLeft > 0) break;
        }
        // A whole batch: the checks the header alone could not make, then its bookkeeping.
        bodyLeft = -1;
        if (crc !== storedCrc) {
          // The bytes are damaged. Where the caller allows it (a sealed segment) and the header's
          // offsets still fit between their neighbours, the batch is stepped over, not indexed.
          const fits = base > prevLast && last >= base && last < limitOffset && last - baseOffset <= INT32_MAX;
          if (!corrupt || !fits) return { end: pos, problem: 'CRC-32C mismatch' };
          corrupt.push({ position: pos, size, baseOffset: base, lastOffset: last });
          book.steppedOver(size, last);
          first = false;
          prevLast = last;
          pos += size;
          continue;
        }
        if (first && expectFirstLastOffset >= 0) {
          if (last !== expectFirstLastOffset) return { end: pos, problem: 'index does not match the log' };
        } else if (base <= prevLast) return { end: pos, problem: `offset ${base} does not follow ${prevLast}` };
        if (last >= limitOffset) return { end: pos, problem: `offset ${last} reaches into the next segment` };
        if (last - baseOffset > INT32_MAX) return { end: pos, problem: `offset ${last} too far from the segment base` };
        if (first && start > 0) book.indexedBatch(size, base, last, maxTs);
        else book.indexBatch(pos, size, base, last, maxTs);
        first = false;
        prevLast = last;
        pos += size;
      }
      if (chunk.short) {
        if (bodyLeft < 0 && headerHave === 0 && pos >= fileSize) return { end: pos, problem: null };
        return { end: pos, problem: 'file shorter than its stat size' };
      }
    }
  } finally {
    await reader.drain();
  }
}
