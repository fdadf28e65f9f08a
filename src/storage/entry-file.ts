// A per-segment file of fixed-size entries (.index, .timeindex, .txnindex). The entries live in one
// Buffer in memory, the file's bytes, and are mirrored to the file with positional writes of the
// entries not yet written; the file is only a cache of what the .log says, so a missing or
// implausible one is rebuilt from the log by the loader.
import { type FileHandle, type FileSystem, isNotFound, preadFully, pwriteFully } from './file-system.js';

export type EntryFileLoad = 'ok' | 'missing' | 'corrupt';

export abstract class EntryFile {
  protected buf: Buffer;
  protected count = 0;
  protected persisted = 0;
  /** The file's length as far as we know; -1 = unknown. */
  protected fileBytes = -1;
  protected handle: FileHandle | undefined;
  /** The last persist(), rename() or release() queued (settled either way). */
  private writes: Promise<void> = Promise.resolve();
  /**
   * Renamed for deletion, or released: the file is no longer this index's to write, and persist()
   * does nothing. Its old name may already belong to a new segment at the same base offset.
   */
  private retired = false;
  protected unsynced = false;
  /** Keep the file open between writes (the active segment); inactive segments close it. */
  keepOpen = false;

  constructor(
    protected readonly fs: FileSystem,
    public path: string,
    readonly baseOffset: number,
    protected readonly entrySize: number,
    /** Room allocated up front (an index that is rarely written, like .txnindex, starts with none). */
    private readonly initialEntries: number,
  ) {
    this.buf = Buffer.alloc(entrySize * initialEntries);
  }

  get entries(): number {
    return this.count;
  }
  get dirty(): boolean {
    return this.persisted !== this.count || this.fileBytes !== this.count * this.entrySize || this.unsynced;
  }

  /** Room for one more entry; returns its byte position. */
  protected slot(): number {
    const need = (this.count + 1) * this.entrySize;
    if (need > this.buf.length) {
      const grown = Buffer.alloc(Math.max(need, this.buf.length * 2, this.entrySize * 8));
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

  /** Reads the file into memory. The subclass then checks that the entries are plausible. */
  async load(): Promise<EntryFileLoad> {
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
      this.buf = Buffer.alloc(Math.max(size, this.entrySize * this.initialEntries));
      if ((await preadFully(fh, this.buf, 0, 0, size)) !== size) return 'corrupt';
      this.count = this.persisted = size / this.entrySize;
      return 'ok';
    } finally {
      await fh.close();
    }
  }

  /**
   * Writes entries not yet in the file, trims what the file has beyond them, optionally fdatasyncs.
   * Calls run one after another: a roll's seal and the background flush of the same segment (or a
   * follower's truncation and that flush) persist one file at once, and each opened it when it found
   * no handle, so the first to finish closed the handle the other was writing with and its own
   * descriptor was never closed. A persist after the file was renamed for deletion or released
   * writes nothing.
   */
  persist(sync: boolean): Promise<void> {
    return this.queued(() => (this.retired ? Promise.resolve() : this.persistNow(sync)));
  }

  /**
   * Runs `step` once every persist, rename and release queued before it has finished. A persist
   * opens the file by `path` when it holds no handle: a rename under way at that moment would let
   * it open the old name after the rename (a stray file made with 'w+', or the index of a new
   * segment that took the name), so renames queue with the writes.
   */
  private queued(step: () => Promise<void>): Promise<void> {
    const run = this.writes.then(step);
    this.writes = run.catch(() => {});
    return run;
  }

  /** One persist, alone on the file (TransactionIndex adds its own cases). */
  protected async persistNow(sync: boolean): Promise<void> {
    const target = this.count * this.entrySize;
    if (this.persisted === this.count && this.fileBytes === target && !(sync && this.unsynced)) {
      if (!this.keepOpen) await this.closeHandle();
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
      if (!this.keepOpen) await this.closeHandle();
    }
  }

  /** Closes the file (its segment is done with it) once the writes queued have finished; later persists do nothing. */
  release(): Promise<void> {
    return this.queued(async () => {
      this.retired = true;
      await this.closeHandle();
    });
  }

  protected async closeHandle(): Promise<void> {
    const fh = this.handle;
    this.handle = undefined;
    if (fh) await fh.close();
  }

  /**
   * Renamed with its segment, once the writes queued have finished; the open handle, if any, stays
   * valid; a missing file is fine. `forDeletion` (the `.deleted` suffix): later persists do nothing,
   * as the segment is on its way out and its old name may be taken by a new segment next.
   */
  rename(to: string, opts: { forDeletion?: boolean } = {}): Promise<void> {
    return this.queued(async () => {
      if (opts.forDeletion) this.retired = true;
      try {
        await this.fs.rename(this.path, to);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.path = to;
    });
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
