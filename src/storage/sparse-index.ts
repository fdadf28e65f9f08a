// The two sparse per-segment indexes. Each lives in a Buffer in memory (the lookup structure) and is
// mirrored to its file with positional writes of the entries not yet written; the file is only a
// cache of what the .log says, so a missing or implausible index file is rebuilt from the log.
//   .index      entry = relative offset int32, file position int32 (offset = last offset of a batch)
//   .timeindex  entry = timestamp int64, relative offset int32 (offset = base offset of the batch
//               that first reached that timestamp; timestamps strictly increase entry to entry)
import { readInt64, writeInt64 } from './batch-scan.js';
import { type FileHandle, type FileSystem, isNotFound, preadFully, pwriteFully } from './file-system.js';

export type IndexLoad = 'ok' | 'missing' | 'corrupt';

abstract class SparseIndex {
  protected buf: Buffer;
  protected count = 0;
  private persisted = 0;
  /** The file's length as far as we know; -1 = unknown. */
  private fileBytes = -1;
  private handle: FileHandle | undefined;
  private unsynced = false;
  /** Keep the file open between writes (the active segment); inactive segments close it. */
  keepOpen = false;

  constructor(
    protected readonly fs: FileSystem,
    public path: string,
    readonly baseOffset: number,
    protected readonly entrySize: number,
    private readonly maxEntries: number,
  ) {
    this.buf = Buffer.alloc(entrySize * 64);
  }

  get entries(): number {
    return this.count;
  }
  get isFull(): boolean {
    return this.count >= this.maxEntries;
  }
  get sizeInBytes(): number {
    return this.count * this.entrySize;
  }
  get dirty(): boolean {
    return this.persisted !== this.count || this.fileBytes !== this.count * this.entrySize || this.unsynced;
  }

  protected slot(): number {
    const need = (this.count + 1) * this.entrySize;
    if (need > this.buf.length) {
      const grown = Buffer.alloc(Math.max(need, this.buf.length * 2));
      this.buf.copy(grown, 0, 0, this.count * this.entrySize);
      this.buf = grown;
    }
    return this.count++ * this.entrySize;
  }

  /** Forget every entry (before a rebuild); the file is rewritten on the next persist. */
  reset(): void {
    this.count = 0;
    this.persisted = 0;
  }

  /** Drops entries from `n` on. */
  protected truncateEntries(n: number): void {
    if (n >= this.count) return;
    this.count = n;
    this.persisted = Math.min(this.persisted, n);
  }

  /** Creates an empty file (a new segment) and keeps it open. */
  async create(): Promise<void> {
    this.handle = await this.fs.open(this.path, 'w+');
    this.fileBytes = 0;
    this.keepOpen = true;
  }

  /** Reads the file into memory. The subclass then checks that the entries are plausible. */
  async load(): Promise<IndexLoad> {
    let fh: FileHandle;
    try {
      fh = await this.fs.open(this.path, 'r');
    } catch (err) {
      if (isNotFound(err)) return 'missing';
      throw err;
    }
    try {
      const { size } = await fh.stat();
      this.fileBytes = size;
      if (size % this.entrySize !== 0) return 'corrupt';
      this.buf = Buffer.alloc(Math.max(size, this.entrySize * 64));
      if ((await preadFully(fh, this.buf, 0, 0, size)) !== size) return 'corrupt';
      this.count = this.persisted = size / this.entrySize;
      return 'ok';
    } finally {
      await fh.close();
    }
  }

  /** Writes entries not yet in the file, trims what the file has beyond them, optionally fdatasyncs. */
  async persist(sync: boolean): Promise<void> {
    const target = this.count * this.entrySize;
    if (this.persisted === this.count && this.fileBytes === target && !(sync && this.unsynced)) {
      if (!this.keepOpen) await this.release();
      return;
    }
    const fh = this.handle ?? (this.handle = await openReadWrite(this.fs, this.path));
    try {
      if (this.persisted < this.count) {
        const from = this.persisted * this.entrySize;
        await pwriteFully(fh, this.buf, from, from, target - from);
        this.persisted = this.count;
        this.unsynced = true;
      }
      if (this.fileBytes !== target) {
        await fh.truncate(target);
        this.fileBytes = target;
        this.unsynced = true;
      }
      if (sync && this.unsynced) {
        await fh.fdatasync();
        this.unsynced = false;
      }
    } finally {
      if (!this.keepOpen) await this.release();
    }
  }

  async release(): Promise<void> {
    const fh = this.handle;
    this.handle = undefined;
    if (fh) await fh.close();
  }

  /** Renamed with its segment (deletion); the open handle, if any, stays valid. */
  async rename(to: string): Promise<void> {
    try {
      await this.fs.rename(this.path, to);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.path = to;
  }
}

export async function openReadWrite(fs: FileSystem, path: string): Promise<FileHandle> {
  try {
    return await fs.open(path, 'r+');
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return fs.open(path, 'w+');
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
