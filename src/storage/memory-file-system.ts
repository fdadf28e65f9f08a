// The storage engine's FileSystem kept in this process's memory (`startBroker({ storage: 'memory' })`,
// `kts server-start --storage memory`): the partition logs, indexes, checkpoints and metadata files
// are the same bytes the file engine writes, in buffers instead of files. Putting the seam here
// rather than behind a second log implementation keeps one set of log semantics (segments, indexes,
// retention, epochs, producer state, recovery) and a bytes-only hot path: an append copies the
// batch bytes into the file's pages, a fetch copies them out (or is served by recent-batches.ts).
//
// POSIX as far as the engine relies on it: names live in a tree of directories, a handle keeps its
// file across rename and unlink, files are sparse (pages are allocated on write, unwritten ranges
// read as zeros), truncate cuts pages, and errors carry node's codes (ENOENT, EEXIST, ENOTDIR,
// EISDIR, ENOTEMPTY, EBADF) so isNotFound() and friends behave as they do on disk.
import { resolve } from 'node:path';
import type { DirEntry, FileHandle, FileSystem } from './file-system.js';

/** Pages are this big at most; a small file's only page is just big enough (see MemoryFile.page). */
const PAGE_BYTES = 64 * 1024;
const MIN_PAGE_BYTES = 256;

type Flags = 'r' | 'r+' | 'w+' | 'wx+';

function fsError(code: string, syscall: string, path: string): Error {
  const text: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EEXIST: 'file already exists',
    ENOTDIR: 'not a directory',
    EISDIR: 'illegal operation on a directory',
    ENOTEMPTY: 'directory not empty',
    EBADF: 'bad file descriptor',
  };
  return Object.assign(new Error(`${code}: ${text[code] ?? code}, ${syscall} '${path}'`), { code, syscall, path });
}

class MemoryFile {
  private pages: Array<Buffer | undefined> = [];
  size = 0;
  constructor(public mtimeMs: number) {}

  /** Bytes held by the pages (what the file costs). */
  get allocated(): number {
    let n = 0;
    for (const p of this.pages) n += p?.length ?? 0;
    return n;
  }

  /** The page `index` with room for `needed` bytes; pages grow by doubling up to PAGE_BYTES. */
  private page(index: number, needed: number): Buffer {
    const current = this.pages[index];
    if (current && current.length >= needed) return current;
    let length = Math.max(MIN_PAGE_BYTES, current?.length ?? 0);
    while (length < needed) length *= 2;
    const grown = Buffer.alloc(Math.min(PAGE_BYTES, length));
    current?.copy(grown);
    this.pages[index] = grown;
    return grown;
  }

  write(src: Buffer, offset: number, length: number, position: number): number {
    let done = 0;
    while (done < length) {
      const at = position + done;
      const index = Math.floor(at / PAGE_BYTES);
      const inPage = at % PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - inPage, length - done);
      src.copy(this.page(index, inPage + n), inPage, offset + done, offset + done + n);
      done += n;
    }
    this.size = Math.max(this.size, position + length);
    return length;
  }

  read(dst: Buffer, offset: number, length: number, position: number): number {
    const total = Math.max(0, Math.min(length, this.size - position));
    let done = 0;
    while (done < total) {
      const at = position + done;
      const index = Math.floor(at / PAGE_BYTES);
      const inPage = at % PAGE_BYTES;
      const n = Math.min(PAGE_BYTES - inPage, total - done);
      const page = this.pages[index];
      const held = page ? Math.max(0, Math.min(n, page.length - inPage)) : 0;
      if (held > 0) page!.copy(dst, offset + done, inPage, inPage + held);
      if (held < n) dst.fill(0, offset + done + held, offset + done + n);
      done += n;
    }
    return total;
  }

  truncate(length: number): void {
    if (length < this.size) {
      const keep = Math.ceil(length / PAGE_BYTES);
      this.pages.length = Math.min(this.pages.length, keep);
      // The cut part of the last kept page must read as zeros if the file grows again.
      const last = this.pages[keep - 1];
      if (last && length % PAGE_BYTES !== 0) last.fill(0, Math.min(last.length, length % PAGE_BYTES));
    }
    this.size = length;
  }
}

class MemoryDir {
  readonly entries = new Map<string, MemoryDir | MemoryFile>();
  constructor(public mtimeMs: number) {}
}

class MemoryFileHandle implements FileHandle {
  private closed = false;
  constructor(
    private readonly file: MemoryFile,
    private readonly writable: boolean,
    private readonly path: string,
    private readonly now: () => number,
  ) {}

  private check(syscall: string, write: boolean): void {
    if (this.closed || (write && !this.writable)) throw fsError('EBADF', syscall, this.path);
  }
  async pread(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    this.check('read', false);
    return this.file.read(buffer, offset, length, position);
  }
  async pwrite(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    this.check('write', true);
    this.file.mtimeMs = this.now();
    return this.file.write(buffer, offset, length, position);
  }
  async pwritev(buffers: readonly Buffer[], position: number): Promise<number> {
    this.check('writev', true);
    this.file.mtimeMs = this.now();
    let pos = position;
    for (const b of buffers) pos += this.file.write(b, 0, b.length, pos);
    return pos - position;
  }
  async fdatasync(): Promise<void> {
    this.check('fdatasync', false);
  }
  async truncate(length: number): Promise<void> {
    this.check('ftruncate', true);
    this.file.mtimeMs = this.now();
    this.file.truncate(length);
  }
  async stat(): Promise<{ size: number; mtimeMs: number }> {
    this.check('fstat', false);
    return { size: this.file.size, mtimeMs: this.file.mtimeMs };
  }
  async close(): Promise<void> {
    this.check('close', false);
    this.closed = true;
  }
}

export interface MemoryFileSystemOptions {
  /** The clock for modification times (the broker's clock seam). */
  now?: () => number;
}

/** A FileSystem whose files are buffers in this process; nothing reaches the disk. */
export class MemoryFileSystem implements FileSystem {
  private readonly root: MemoryDir;
  private readonly now: () => number;

  constructor(opts: MemoryFileSystemOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.root = new MemoryDir(this.now());
  }

  /** Bytes held by every file's pages (for tests and the benchmark). */
  get bytesHeld(): number {
    let n = 0;
    const walk = (dir: MemoryDir) => {
      for (const e of dir.entries.values()) {
        if (e instanceof MemoryDir) walk(e);
        else n += e.allocated;
      }
    };
    walk(this.root);
    return n;
  }

  /** Absolute, normalized path split into names ('' and '.' dropped, '..' applied). */
  private names(path: string): string[] {
    return resolve('/', path).split('/').filter((n) => n !== '');
  }

  /** The directory holding `path`'s last name, and that name. */
  private parentOf(path: string, syscall: string): { dir: MemoryDir; name: string } {
    const names = this.names(path);
    if (names.length === 0) throw fsError('EISDIR', syscall, path);
    let dir = this.root;
    for (const n of names.slice(0, -1)) {
      const next = dir.entries.get(n);
      if (!next) throw fsError('ENOENT', syscall, path);
      if (!(next instanceof MemoryDir)) throw fsError('ENOTDIR', syscall, path);
      dir = next;
    }
    return { dir, name: names[names.length - 1] };
  }

  private lookup(path: string, syscall: string): MemoryDir | MemoryFile {
    const names = this.names(path);
    if (names.length === 0) return this.root;
    const { dir, name } = this.parentOf(path, syscall);
    const node = dir.entries.get(name);
    if (!node) throw fsError('ENOENT', syscall, path);
    return node;
  }

  async open(path: string, flags: Flags): Promise<FileHandle> {
    const { dir, name } = this.parentOf(path, 'open');
    let node = dir.entries.get(name);
    if (node instanceof MemoryDir) throw fsError('EISDIR', 'open', path);
    if (flags === 'wx+' && node) throw fsError('EEXIST', 'open', path);
    if (!node) {
      if (flags === 'r' || flags === 'r+') throw fsError('ENOENT', 'open', path);
      node = new MemoryFile(this.now());
      dir.entries.set(name, node);
      dir.mtimeMs = this.now();
    } else if (flags === 'w+') {
      node.truncate(0);
    }
    return new MemoryFileHandle(node, flags !== 'r', path, this.now);
  }

  async rename(from: string, to: string): Promise<void> {
    const source = this.parentOf(from, 'rename');
    const node = source.dir.entries.get(source.name);
    if (!node) throw fsError('ENOENT', 'rename', from);
    const target = this.parentOf(to, 'rename');
    const existing = target.dir.entries.get(target.name);
    if (existing === node) return;
    if (existing instanceof MemoryDir) {
      if (!(node instanceof MemoryDir)) throw fsError('EISDIR', 'rename', to);
      if (existing.entries.size > 0) throw fsError('ENOTEMPTY', 'rename', to);
    } else if (existing && node instanceof MemoryDir) {
      throw fsError('ENOTDIR', 'rename', to);
    }
    if (node instanceof MemoryDir) {
      // A directory cannot move into itself.
      const fromNames = this.names(from);
      const toNames = this.names(to);
      if (toNames.length > fromNames.length && fromNames.every((n, i) => toNames[i] === n)) throw fsError('EINVAL', 'rename', to);
    }
    source.dir.entries.delete(source.name);
    target.dir.entries.set(target.name, node);
    source.dir.mtimeMs = target.dir.mtimeMs = this.now();
  }

  async unlink(path: string): Promise<void> {
    const { dir, name } = this.parentOf(path, 'unlink');
    const node = dir.entries.get(name);
    if (!node) throw fsError('ENOENT', 'unlink', path);
    if (node instanceof MemoryDir) throw fsError('EISDIR', 'unlink', path);
    dir.entries.delete(name);
    dir.mtimeMs = this.now();
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const node = this.lookup(path, 'scandir');
    if (!(node instanceof MemoryDir)) throw fsError('ENOTDIR', 'scandir', path);
    return [...node.entries].map(([name, e]) => ({ name, isDirectory: e instanceof MemoryDir, isFile: e instanceof MemoryFile }));
  }

  async mkdir(path: string, opts?: { recursive?: boolean }): Promise<void> {
    const names = this.names(path);
    let dir = this.root;
    for (const [i, n] of names.entries()) {
      const next = dir.entries.get(n);
      const last = i === names.length - 1;
      if (next instanceof MemoryDir) {
        if (last && !opts?.recursive) throw fsError('EEXIST', 'mkdir', path);
        dir = next;
        continue;
      }
      if (next) throw fsError(last ? 'EEXIST' : 'ENOTDIR', 'mkdir', path);
      if (!last && !opts?.recursive) throw fsError('ENOENT', 'mkdir', path);
      const made = new MemoryDir(this.now());
      dir.entries.set(n, made);
      dir.mtimeMs = this.now();
      dir = made;
    }
  }

  async stat(path: string): Promise<{ size: number; mtimeMs: number; isDirectory: boolean }> {
    const node = this.lookup(path, 'stat');
    return node instanceof MemoryDir
      ? { size: 4096, mtimeMs: node.mtimeMs, isDirectory: true }
      : { size: node.size, mtimeMs: node.mtimeMs, isDirectory: false };
  }

  async rmTree(path: string): Promise<void> {
    // Like fs.rm(path, { recursive: true, force: true }): a missing path is no error.
    let parent: { dir: MemoryDir; name: string };
    try {
      parent = this.parentOf(path, 'rm');
    } catch {
      return;
    }
    parent.dir.entries.delete(parent.name);
  }

  async syncDir(path: string): Promise<void> {
    const node = this.lookup(path, 'fsync');
    if (!(node instanceof MemoryDir)) throw fsError('ENOTDIR', 'fsync', path);
  }
}
