// Two writes of one index file at once. A roll seals the old segment (its indexes are written)
// while the background flush queued by the previous roll may flush that same segment, and a
// follower's truncation rewrites the indexes of a segment a background flush still holds: both end
// in EntryFile.persist. Each call opened the file when it found no handle, so two at once opened it
// twice, and the first to finish closed the handle the other was still writing with (EBADF, the
// flush lost) while its own descriptor was never closed. Seen 9 times in one run of test/unit/storage.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FileHandle, type FileSystem, nodeFileSystem } from '../../../src/storage/file-system.js';
import { OffsetIndex } from '../../../src/storage/sparse-index.js';
import { makeTempDir } from './helpers.js';

/** Counts the handles opened and closed, and makes each operation take a turn of the event loop. */
function trackingFs(): FileSystem & { opened: number; closed: number } {
  const fs = {
    ...nodeFileSystem,
    opened: 0,
    closed: 0,
    async open(path: string, flags: 'r' | 'r+' | 'w+' | 'wx+'): Promise<FileHandle> {
      const h = await nodeFileSystem.open(path, flags);
      fs.opened++;
      const slow =
        <A extends unknown[], R>(op: (...a: A) => Promise<R>) =>
        async (...a: A): Promise<R> => {
          await new Promise((r) => setImmediate(r));
          return op(...a);
        };
      let closed = false;
      return {
        pread: slow(h.pread.bind(h)),
        pwrite: slow(h.pwrite.bind(h)),
        fdatasync: slow(h.fdatasync.bind(h)),
        truncate: slow(h.truncate.bind(h)),
        stat: slow(h.stat.bind(h)),
        async close() {
          if (!closed) fs.closed++;
          closed = true;
          await h.close();
        },
      };
    },
  };
  return fs;
}

describe('an index file written by two callers at once', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  it('is written once after the other, through one handle that is closed at the end', async () => {
    const fs = trackingFs();
    const path = join(dir, '00000000000000000000.index');
    const index = new OffsetIndex(fs, path, 0, 1024);
    await index.create();
    index.append(9, 0);
    // Sealed: the handle goes after each write.
    index.keepOpen = false;
    await index.persist(false);
    expect([fs.opened, fs.closed]).toEqual([1, 1]);

    index.append(19, 100);
    index.append(29, 200);
    // The seal's write and the background flush's, at once.
    await Promise.all([index.persist(false), index.persist(true)]);
    expect(fs.opened).toBe(fs.closed);
    expect(index.dirty).toBe(false);
    const bytes = await readFile(path);
    expect([...Array(bytes.length / 8).keys()].map((i) => [bytes.readInt32BE(i * 8), bytes.readInt32BE(i * 8 + 4)])).toEqual([
      [9, 0],
      [19, 100],
      [29, 200],
    ]);

    // release() (the segment closing) waits for a write under way instead of closing its handle.
    index.append(39, 300);
    await Promise.all([index.persist(true), index.release()]);
    expect(fs.opened).toBe(fs.closed);
    expect((await readFile(path)).length).toBe(32);
  });
});
