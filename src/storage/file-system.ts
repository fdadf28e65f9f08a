// The storage engine's only door to the disk. Tests wrap it to count bytes or to fail chosen calls
// (ENOSPC, EIO); the default is node:fs/promises. Every data write is positional (pwrite, or
// pwritev for a group of appends), so `strace -e inject=pwrite64,pwritev:error=ENOSPC` reaches the
// same code paths as the test seam.
import * as fsp from 'node:fs/promises';
import { ErrorCode, KafkaError } from '../protocol/errors.js';

export interface FileHandle {
  /** Positional read; resolves to the bytes read (fewer only at end of file). */
  pread(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Positional write; resolves to the bytes written. */
  pwrite(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Positional gathering write (optional: without it the buffers are written one pwrite each). */
  pwritev?(buffers: readonly Buffer[], position: number): Promise<number>;
  fdatasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number; mtimeMs: number }>;
  close(): Promise<void>;
}

export interface DirEntry {
  name: string;
  isDirectory: boolean;
  isFile: boolean;
}

export interface FileSystem {
  /** 'r' read-only, 'r+' read-write existing, 'w+' read-write created or truncated, 'wx+' create-only. */
  open(path: string, flags: 'r' | 'r+' | 'w+' | 'wx+'): Promise<FileHandle>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readdir(path: string): Promise<DirEntry[]>;
  mkdir(path: string, opts?: { recursive?: boolean }): Promise<void>;
  stat(path: string): Promise<{ size: number; mtimeMs: number; isDirectory: boolean }>;
  /** Recursive removal of a directory tree (a deleted partition). */
  rmTree(path: string): Promise<void>;
  /** fsync a directory so renames and creations in it are durable. */
  syncDir(path: string): Promise<void>;
}

class NodeFileHandle implements FileHandle {
  constructor(private readonly fh: fsp.FileHandle) {}
  async pread(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.read(buffer, offset, length, position)).bytesRead;
  }
  async pwrite(buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return (await this.fh.write(buffer, offset, length, position)).bytesWritten;
  }
  async pwritev(buffers: readonly Buffer[], position: number): Promise<number> {
    return (await this.fh.writev(buffers as Buffer[], position)).bytesWritten;
  }
  fdatasync(): Promise<void> {
    return this.fh.datasync();
  }
  truncate(length: number): Promise<void> {
    return this.fh.truncate(length);
  }
  async stat(): Promise<{ size: number; mtimeMs: number }> {
    const s = await this.fh.stat();
    return { size: s.size, mtimeMs: s.mtimeMs };
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

export const nodeFileSystem: FileSystem = {
  async open(path, flags) {
    return new NodeFileHandle(await fsp.open(path, flags));
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  async readdir(path) {
    const entries = await fsp.readdir(path, { withFileTypes: true });
    return entries.map((e) => ({ name: e.name, isDirectory: e.isDirectory(), isFile: e.isFile() }));
  },
  async mkdir(path, opts) {
    await fsp.mkdir(path, { recursive: opts?.recursive ?? false });
  },
  async stat(path) {
    const s = await fsp.stat(path);
    return { size: s.size, mtimeMs: s.mtimeMs, isDirectory: s.isDirectory() };
  },
  rmTree: (path) => fsp.rm(path, { recursive: true, force: true }),
  async syncDir(path) {
    const fh = await fsp.open(path, 'r');
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
  },
};

export function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

export function isNotFound(err: unknown): boolean {
  return errnoOf(err) === 'ENOENT';
}

/** An I/O failure as the broker should report it. KafkaErrors pass through unchanged. */
export function storageError(err: unknown, what: string): KafkaError {
  if (err instanceof KafkaError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `${what}: ${detail}`);
}

/** Writes all of buf[offset, offset+length) at `position`, looping over short writes. */
export async function pwriteFully(fh: FileHandle, buf: Buffer, position: number, offset = 0, length = buf.length - offset): Promise<void> {
  let done = 0;
  while (done < length) {
    const n = await fh.pwrite(buf, offset + done, length - done, position + done);
    if (n <= 0) throw Object.assign(new Error('short write (no bytes written)'), { code: 'EIO' });
    done += n;
  }
}

/** Most buffers one gathering write takes (Linux's IOV_MAX is 1024). */
const MAX_IOV = 512;

/**
 * Writes the buffers back to back at `position`: one pwritev where the handle has it (a group of
 * appends costs one trip through the thread pool and no copy), else one pwrite each.
 */
export async function pwritevFully(fh: FileHandle, buffers: readonly Buffer[], position: number): Promise<void> {
  let pos = position;
  let i = 0;
  while (i < buffers.length) {
    if (!fh.pwritev || buffers.length - i === 1) {
      await pwriteFully(fh, buffers[i], pos);
      pos += buffers[i++].length;
      continue;
    }
    const slice = buffers.slice(i, i + MAX_IOV);
    let n = await fh.pwritev(slice, pos);
    if (n <= 0) throw Object.assign(new Error('short write (no bytes written)'), { code: 'EIO' });
    // Skip the buffers written whole; a short write's partial buffer is finished with pwrite.
    for (const b of slice) {
      if (n >= b.length) {
        n -= b.length;
        pos += b.length;
        i++;
        continue;
      }
      if (n > 0) {
        await pwriteFully(fh, b, pos + n, n);
        pos += b.length;
        i++;
      }
      break;
    }
  }
}

/** Reads up to `length` bytes at `position` (fewer only at end of file); returns the bytes read. */
export async function preadFully(fh: FileHandle, buf: Buffer, position: number, offset = 0, length = buf.length - offset): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await fh.pread(buf, offset + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/** Writes a small file atomically: temp file, fdatasync, rename over the target, fsync the directory. */
export async function writeFileAtomic(fs: FileSystem, dir: string, name: string, data: Buffer): Promise<void> {
  const path = `${dir}/${name}`;
  const tmp = `${path}.tmp`;
  const fh = await fs.open(tmp, 'w+');
  try {
    await pwriteFully(fh, data, 0);
    await fh.fdatasync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.unlink(tmp).catch(() => {});
    throw err;
  }
  await fs.syncDir(dir);
}

/** Reads a whole small file, or undefined when it does not exist. */
export async function readSmallFile(fs: FileSystem, path: string): Promise<Buffer | undefined> {
  let fh: FileHandle;
  try {
    fh = await fs.open(path, 'r');
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(size);
    const n = await preadFully(fh, buf, 0);
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}
