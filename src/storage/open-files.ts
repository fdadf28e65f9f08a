// A bound on the descriptors the partition logs hold. Every segment keeps its .log (and, while
// active, its .index and .timeindex) open for its whole life, which is three descriptors per
// partition: 10,000 partitions would need 30,000. This FileSystem wrapper hands out handles that
// hold a real descriptor only while they are used: past `maxOpen` descriptors the least recently
// used idle ones are closed (a clock sweep), and any not used for `idleMs` are closed too, so an
// idle partition costs none. A closed handle reopens on its next use, asynchronously; concurrent
// uses share one reopen, and a handle is never closed while an operation on it is in flight.
//
// The handle's file stays the same file: renames through this wrapper move the handles with them,
// and a reopen never truncates (a file created with 'w+' is reopened with 'r+').
import { readFile } from 'node:fs/promises';
import type { FileHandle, FileSystem } from './file-system.js';
import { errnoOf } from './file-system.js';

type Flags = 'r' | 'r+' | 'w+' | 'wx+';

export interface OpenFilesOptions {
  /** Most descriptors kept open at once (a soft bound: in-flight operations may exceed it). */
  maxOpen: number;
  /** Descriptors unused this long are closed (<= 0: never). */
  idleMs: number;
}

export class OpenFiles implements FileSystem {
  /** Handles not closed by their owner, whether or not they hold a descriptor now. */
  private readonly handles = new Set<PooledFile>();
  /** The handles holding a descriptor, in the order the clock sweep visits them. */
  private readonly holding = new Map<PooledFile, true>();
  /** Descriptors being closed: still held until their close completes. */
  private readonly closing = new Set<Promise<void>>();
  /** Opens under way (counted against the bound before they hold a descriptor). */
  private reserved = 0;
  /** Opens waiting for a descriptor to be given back. */
  private readonly waiters: Array<() => void> = [];
  private readonly sweepTimer: NodeJS.Timeout | undefined;
  /** Advanced by the idle sweep; a handle remembers the tick of its last use. */
  tick = 0;

  constructor(
    private readonly inner: FileSystem,
    readonly options: OpenFilesOptions,
  ) {
    if (options.idleMs > 0) {
      // Two ticks per idle period: a descriptor is closed after idleMs/2 to idleMs without use.
      this.sweepTimer = setInterval(() => this.closeIdle(), Math.max(10, options.idleMs / 2));
      this.sweepTimer.unref?.();
    }
  }

  /** Descriptors held now (for tests and metrics). */
  get openCount(): number {
    return this.holding.size;
  }

  async open(path: string, flags: Flags): Promise<FileHandle> {
    const file = new PooledFile(this, path, flags === 'r' ? 'r' : 'r+');
    file.handle = await this.openInner(file, path, flags);
    this.handles.add(file);
    return file;
  }

  /**
   * Renames the file and moves its handles to the new name. A reopen of one of them under way took
   * the old name before: the rename waits for it (or it could open the old name after the rename:
   * nothing there, or the file a new segment at that base offset created there next), and reopens
   * that start meanwhile wait for the new name.
   */
  async rename(from: string, to: string): Promise<void> {
    const moving = [...this.handles].filter((f) => f.path === from);
    const reopens = moving.map((f) => f.reopenSettled());
    let done!: () => void;
    const renamed = new Promise<void>((resolve) => (done = resolve));
    for (const file of moving) file.renaming = renamed;
    try {
      await Promise.all(reopens);
      await this.inner.rename(from, to);
      for (const file of this.handles) if (file.path === from) file.path = to;
    } finally {
      for (const file of moving) if (file.renaming === renamed) file.renaming = undefined;
      done();
    }
  }

  unlink(path: string): Promise<void> {
    return this.inner.unlink(path);
  }
  readdir(path: string) {
    return this.inner.readdir(path);
  }
  mkdir(path: string, opts?: { recursive?: boolean }): Promise<void> {
    return this.inner.mkdir(path, opts);
  }
  stat(path: string) {
    return this.inner.stat(path);
  }
  rmTree(path: string): Promise<void> {
    return this.inner.rmTree(path);
  }
  syncDir(path: string): Promise<void> {
    return this.inner.syncDir(path);
  }

  /** Stops the idle sweep (the handles stay usable). */
  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
  }

  /**
   * @internal Opens a descriptor for `file` once the bound allows (idle ones are closed to make room;
   * with none idle it waits for an operation to finish). Out of descriptors anyway (connections use
   * them too), idle ones are given back and the open is tried once more.
   */
  async openInner(file: PooledFile, path: string, flags: Flags): Promise<FileHandle> {
    await this.reserve();
    let opened = false;
    try {
      let fh: FileHandle;
      try {
        fh = await this.inner.open(path, flags);
      } catch (err) {
        const code = errnoOf(err);
        if ((code !== 'EMFILE' && code !== 'ENFILE') || this.evict(Math.max(16, this.holding.size >> 3)) === 0) throw err;
        await Promise.all([...this.closing]);
        fh = await this.inner.open(path, flags);
      }
      this.holding.set(file, true);
      opened = true;
      return fh;
    } finally {
      this.reserved--;
      // A failed open (ENOENT is routine: openReadWrite tries 'r+' first) frees the room it reserved:
      // an open waiting for room is woken here, as by a close, or it would wait for some other close.
      if (!opened) this.waiters.shift()?.();
    }
  }

  private async reserve(): Promise<void> {
    for (;;) {
      const over = this.holding.size + this.closing.size + this.reserved + 1 - this.options.maxOpen;
      if (over <= 0) break;
      this.evict(over);
      // Closes run on the thread pool like the opens: the bound holds only once they are done.
      if (this.closing.size > 0) await Promise.all([...this.closing]);
      else await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.reserved++;
  }

  /** @internal Whether a descriptor that just became idle should be given back now. */
  get wantsDescriptors(): boolean {
    return this.waiters.length > 0 || this.holding.size + this.closing.size > this.options.maxOpen;
  }

  /** @internal The owner closed it: forget it. */
  forget(file: PooledFile): void {
    this.handles.delete(file);
    this.holding.delete(file);
  }

  /** @internal Closes a descriptor (idle, or its owner is done); the bound counts it until it is closed. */
  release(file: PooledFile, fh: FileHandle): Promise<void> {
    this.holding.delete(file);
    const done = fh.close();
    const settled: Promise<void> = done.then(
      () => this.closed(settled),
      () => this.closed(settled),
    );
    this.closing.add(settled);
    return done;
  }

  private closed(settled: Promise<void>): void {
    this.closing.delete(settled);
    this.waiters.shift()?.();
  }

  /**
   * Closes up to `count` idle descriptors, least recently used first (a clock: a handle used since
   * the sweep last passed gets a second chance and goes to the back). Returns how many it closed.
   */
  private evict(count: number): number {
    let closed = 0;
    let visits = this.holding.size * 2;
    for (const file of this.holding.keys()) {
      if (closed >= count || visits-- <= 0) break;
      if (file.busy > 0) continue;
      if (file.usedSinceSweep) {
        file.usedSinceSweep = false;
        this.holding.delete(file);
        this.holding.set(file, true);
        continue;
      }
      file.closeDescriptor();
      closed++;
    }
    return closed;
  }

  private closeIdle(): void {
    this.tick++;
    for (const file of [...this.holding.keys()]) {
      if (file.busy === 0 && this.tick - file.lastUsedTick >= 2) file.closeDescriptor();
    }
  }
}

/** A handle whose descriptor may be closed while idle and reopened on use. */
class PooledFile implements FileHandle {
  handle: FileHandle | undefined;
  private reopening: Promise<FileHandle> | undefined;
  /** A rename of this file under way (OpenFiles.rename): a reopen waits for the new name. */
  renaming: Promise<void> | undefined;
  private closed = false;
  /** Operations in flight (and reopens): never closed under them. */
  busy = 0;
  usedSinceSweep = true;
  lastUsedTick: number;

  constructor(
    private readonly pool: OpenFiles,
    public path: string,
    private readonly reopenFlags: 'r' | 'r+',
  ) {
    this.lastUsedTick = pool.tick;
  }

  private descriptor(): FileHandle | Promise<FileHandle> {
    if (this.handle) return this.handle;
    if (this.closed) throw closedError(this.path);
    this.reopening ??= this.reopen().then(
      (fh) => {
        this.reopening = undefined;
        if (this.closed) {
          // Closed by its owner while the reopen was under way.
          void this.pool.release(this, fh).catch(() => {});
          throw closedError(this.path);
        }
        this.handle = fh;
        return fh;
      },
      (err: unknown) => {
        this.reopening = undefined;
        throw err;
      },
    );
    return this.reopening;
  }

  /** Opens the file at its name, once a rename under way has given it the new one. */
  private async reopen(): Promise<FileHandle> {
    while (this.renaming) await this.renaming;
    return this.pool.openInner(this, this.path, this.reopenFlags);
  }

  /** @internal Resolves once a reopen under way has finished, either way. */
  reopenSettled(): Promise<void> {
    const reopening = this.reopening;
    if (!reopening) return Promise.resolve();
    return reopening.then(
      () => {},
      () => {},
    );
  }

  /** Runs `op` on the descriptor, reopening it first if the pool closed it. */
  private async use<T>(op: (fh: FileHandle) => Promise<T>): Promise<T> {
    this.busy++;
    this.usedSinceSweep = true;
    this.lastUsedTick = this.pool.tick;
    try {
      const fh = this.handle ?? (await this.descriptor());
      return await op(fh);
    } finally {
      if (--this.busy === 0 && this.pool.wantsDescriptors) this.closeDescriptor();
    }
  }

  pread(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.use((fh) => fh.pread(buffer, offset, length, position));
  }
  pwrite(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.use((fh) => fh.pwrite(buffer, offset, length, position));
  }
  pwritev(buffers: readonly Buffer[], position: number): Promise<number> {
    return this.use(async (fh) => {
      if (fh.pwritev) return fh.pwritev(buffers, position);
      let written = 0;
      for (const b of buffers) {
        const n = await fh.pwrite(b, 0, b.length, position + written);
        written += n;
        if (n < b.length) break;
      }
      return written;
    });
  }
  fdatasync(): Promise<void> {
    return this.use((fh) => fh.fdatasync());
  }
  truncate(length: number): Promise<void> {
    return this.use((fh) => fh.truncate(length));
  }
  stat(): Promise<{ size: number; mtimeMs: number }> {
    return this.use((fh) => fh.stat());
  }

  /** @internal The pool takes the descriptor back (idle); the next use reopens it. */
  closeDescriptor(): void {
    const fh = this.handle;
    if (!fh || this.busy > 0) return;
    this.handle = undefined;
    void this.pool.release(this, fh).catch(() => {});
  }

  /** The owner is done with the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.forget(this);
    await this.reopening?.catch(() => {});
    const fh = this.handle;
    this.handle = undefined;
    if (fh) await this.pool.release(this, fh);
  }
}

function closedError(path: string): Error {
  return Object.assign(new Error(`${path} is closed`), { code: 'EBADF' });
}

/**
 * The default bound: half the process's descriptor limit (the rest is for connections and short-lived
 * files), at least 64. Node raises the soft limit to the hard one at start-up; this reads the result.
 */
export async function defaultMaxOpenFiles(): Promise<number> {
  try {
    const limits = await readFile('/proc/self/limits', 'utf8');
    const soft = /^Max open files\s+(\d+|unlimited)/m.exec(limits)?.[1];
    if (soft && soft !== 'unlimited') return Math.max(64, Math.floor(Number(soft) / 2));
    if (soft === 'unlimited') return 1 << 20;
  } catch {
    // Not Linux: fall through.
  }
  return 512;
}
