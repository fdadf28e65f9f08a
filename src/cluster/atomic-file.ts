// Checkpoint-style file replacement: write a temp file, fsync it, rename over the target, fsync the
// directory. A crash at any point leaves either the old or the new content, never a torn file.
import { basename, dirname } from 'node:path';
import { type FileSystem, nodeFileSystem, writeFileAtomic as writeThrough } from '../storage/file-system.js';

/** `fs`: the broker's storage (its in-memory one with `kts.storage=memory`). */
export async function writeFileAtomic(path: string, data: string | Buffer, fs: FileSystem = nodeFileSystem): Promise<void> {
  await writeThrough(fs, dirname(path), basename(path), typeof data === 'string' ? Buffer.from(data) : data);
}
