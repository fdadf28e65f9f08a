// The two sparse per-segment indexes. Each lives in a Buffer in memory (the lookup structure) and is
// mirrored to its file with positional writes of the entries not yet written; the file is only a
// cache of what the .log says, so a missing or implausible index file is rebuilt from the log.
//   .index      entry = relative offset int32, file position int32 (offset = last offset of a batch)
//   .timeindex  entry = timestamp int64, relative offset int32 (offset = base offset of the batch
//               that first reached that timestamp; timestamps strictly increase entry to entry)
import { readInt64, writeInt64 } from './batch-scan.js';
import type { FileSystem } from './file-system.js';
import { EntryFile, type EntryFileLoad } from './entry-file.js';

export type IndexLoad = EntryFileLoad;

abstract class SparseIndex extends EntryFile {
  constructor(
    fs: FileSystem,
    path: string,
    baseOffset: number,
    entrySize: number,
    private readonly maxEntries: number,
  ) {
    super(fs, path, baseOffset, entrySize, 64);
  }

  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }
  get sizeInBytes(): number {
    return this.count * this.entrySize;
  }

  /** Creates an empty file (a new segment) and keeps it open. */
  async create(): Promise<void> {
    this.handle = await this.fs.open(this.path, 'w+');
    this.fileBytes = 0;
    this.keepOpen = true;
  }
}

export class OffsetIndex extends SparseIndex {
  constructor(fs: FileSystem, path: string, baseOffset: number, maxIndexBytes: number) {
    super(fs, path, baseOffset, 8, Math.max(1, Math.floor(maxIndexBytes / 8)));
  }

  relativeOffsetAt(i: number): number {
    return this.buf.readInt32BE(i * 8);
  }
  positionAt(i: number): number {
    return this.buf.readInt32BE(i * 8 + 4);
  }
  get lastOffset(): number {
    return this.count === 0 ? this.baseOffset : this.baseOffset + this.relativeOffsetAt(this.count - 1);
  }
  get lastPosition(): number {
    return this.count === 0 ? 0 : this.positionAt(this.count - 1);
  }

  /** `offset` is the last offset of the batch that starts at `position`. Entries only grow. */
  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (this.count > 0 && (rel <= this.relativeOffsetAt(this.count - 1) || position <= this.lastPosition)) return;
    const at = this.slot();
    this.buf.writeInt32BE(rel, at);
    this.buf.writeInt32BE(position, at + 4);
  }

  /** The position to start scanning from for `target`: the greatest entry with offset <= target. */
  lookup(target: number): number {
    const rel = target - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relativeOffsetAt(mid) <= rel) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? 0 : this.positionAt(found);
  }

  /**
   * Kafka's fetchUpperBoundOffset: the offset of the first entry at or past `position` (an offset
   * past everything that starts before it), or null when no entry lies there.
   */
  upperBoundOffset(position: number): number | null {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.positionAt(mid) >= position) {
        found = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return found < 0 ? null : this.baseOffset + this.relativeOffsetAt(found);
  }

  /** Entries strictly increase in both fields and point inside the log. */
  isPlausible(logSize: number): boolean {
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0; i < this.count; i++) {
      const rel = this.relativeOffsetAt(i);
      const pos = this.positionAt(i);
      if (rel <= prevRel || pos <= prevPos || pos >= logSize) return false;
      prevRel = rel;
      prevPos = pos;
    }
    return true;
  }

  /** Drops entries for offsets >= `offset`. */
  truncateTo(offset: number): void {
    let n = this.count;
    while (n > 0 && this.baseOffset + this.relativeOffsetAt(n - 1) >= offset) n--;
    this.truncateEntries(n);
  }
}

export class TimeIndex extends SparseIndex {
  constructor(fs: FileSystem, path: string, baseOffset: number, maxIndexBytes: number) {
    super(fs, path, baseOffset, 12, Math.max(1, Math.floor(maxIndexBytes / 12)));
  }

  timestampAt(i: number): number {
    return readInt64(this.buf, i * 12);
  }
  offsetAt(i: number): number {
    return this.baseOffset + this.buf.readInt32BE(i * 12 + 8);
  }
  get lastEntry(): { timestamp: number; offset: number } | undefined {
    return this.count === 0 ? undefined : { timestamp: this.timestampAt(this.count - 1), offset: this.offsetAt(this.count - 1) };
  }

  /** Adds (timestamp, offset) if the timestamp is newer than the last entry's. */
  maybeAppend(timestamp: number, offset: number): void {
    if (timestamp < 0) return; // -1 = no timestamp, never indexed
    if (this.count > 0 && (timestamp <= this.timestampAt(this.count - 1) || offset < this.offsetAt(this.count - 1))) return;
    const at = this.slot();
    writeInt64(this.buf, at, timestamp);
    this.buf.writeInt32BE(offset - this.baseOffset, at + 8);
  }

  /** The offset to start a timestamp search from: that of the greatest entry with timestamp <= target. */
  lookup(target: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestampAt(mid) <= target) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? this.baseOffset : this.offsetAt(found);
  }

  /** Timestamps strictly increase, offsets never decrease, all offsets within [base, nextOffset). */
  isPlausible(nextOffset: number): boolean {
    let prevTs = -Infinity;
    let prevOffset = this.baseOffset;
    for (let i = 0; i < this.count; i++) {
      const ts = this.timestampAt(i);
      const off = this.offsetAt(i);
      if (ts <= prevTs || off < prevOffset || off >= nextOffset) return false;
      prevTs = ts;
      prevOffset = off;
    }
    return true;
  }

  truncateTo(offset: number): void {
    let n = this.count;
    while (n > 0 && this.offsetAt(n - 1) >= offset) n--;
    this.truncateEntries(n);
  }
}
