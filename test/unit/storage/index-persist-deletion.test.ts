// An index write racing its segment's rename for deletion. The background flush (flushInactiveSegments,
// off the append chain: after a roll, after a load that recovered segments) persists a sealed
// segment's indexes by opening each file by its path, while retention, delete-records, a follower's
// truncation or truncateFullyAndStartAt rename the segment's files to `*.deleted`. A persist that
// took the path before the rename opened it after: 'r+' found no file and 'w+' made a stray index
// under the old name, or, once a new segment had taken that base offset, the old entries were
// written into the new segment's index. The interleaving is forced here: the persist's open is held
// until the rename has gone as far as it can without it.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeInt64 } from '../../../src/storage/batch-scan.js';
import { type FileHandle, type FileSystem, nodeFileSystem } from '../../../src/storage/file-system.js';
import { LogSegment, type SegmentContext } from '../../../src/storage/log-segment.js';
import { makeTempDir, testConfig, valuesBatch } from './helpers.js';

/**
 * Holds the first 'r+' open of `path` until open() is called; settle() resolves once no file
 * system call is under way (the held open aside) and none started in a turn of the event loop.
 */
function gatedFs(path: string) {
  const inFlight = new Set<Promise<unknown>>();
  function tracked<T>(call: () => Promise<T>): Promise<T> {
    const p = call();
    const settled = p.then(
      () => {},
      () => {},
    );
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return p;
  }
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((r) => (reach = r));
  const released = new Promise<void>((r) => (release = r));
  let held = false;
  const fs: FileSystem = {
    ...nodeFileSystem,
    async open(p, flags): Promise<FileHandle> {
      if (p === path && flags === 'r+' && !held) {
        held = true;
        reach();
        await released;
      }
      const h = await tracked(() => nodeFileSystem.open(p, flags));
      const handle: FileHandle = {
        pread: (b, o, l, at) => tracked(() => h.pread(b, o, l, at)),
        pwrite: (b, o, l, at) => tracked(() => h.pwrite(b, o, l, at)),
        fdatasync: () => tracked(() => h.fdatasync()),
        truncate: (l) => tracked(() => h.truncate(l)),
        stat: () => tracked(() => h.stat()),
        close: () => tracked(() => h.close()),
      };
      if (h.pwritev) handle.pwritev = (bs, at) => tracked(() => h.pwritev!(bs, at));
      return handle;
    },
    rename: (from, to) => tracked(() => nodeFileSystem.rename(from, to)),
    unlink: (p) => tracked(() => nodeFileSystem.unlink(p)),
  };
  return {
    fs,
    /** The held open was called. */
    reached,
    /** Lets the held open go on. */
    release,
    async settle(): Promise<void> {
      for (;;) {
        while (inFlight.size > 0) await Promise.race(inFlight);
        await new Promise((r) => setImmediate(r));
        if (inFlight.size === 0) return;
      }
    },
  };
}

/** A batch of `n` records at `offset`. */
function batchAt(offset: number, n: number): Buffer {
  const b = valuesBatch(`v${offset}-`, n);
  writeInt64(b, 0, offset);
  return b;
}

/** The (relative offset, position) entries of an .index file. */
async function offsetEntries(path: string): Promise<number[][]> {
  const bytes = await readFile(path);
  return [...Array(bytes.length / 8).keys()].map((i) => [bytes.readInt32BE(i * 8), bytes.readInt32BE(i * 8 + 4)]);
}

describe('an index persist racing the rename of its segment for deletion', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const now = 1_700_000_000_000;
  const config = testConfig({ indexIntervalBytes: 0 }); // an index entry for every batch but the first
  const indexPath = () => join(dir, '00000000000000000000.index');

  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
    // Segment 0: three one-record batches (two index entries), sealed and closed.
    const seg = await LogSegment.create({ fs: nodeFileSystem, config }, dir, 0, now);
    for (let o = 0; o < 3; o++) await seg.append(batchAt(o, 1), false, now);
    await seg.seal();
    await seg.close();
  });
  afterEach(async () => {
    await cleanup();
  });

  /**
   * Segment 0 loaded as recovery does (entries rebuilt in memory, no file open), its background
   * flush held at the open of its .index, and its rename for deletion started and gone as far as it
   * can. `deleted`: whether the rename finished with the flush still held.
   */
  async function flushHeldAtDeletion() {
    const gate = gatedFs(indexPath());
    const ctx: SegmentContext = { fs: gate.fs, config };
    const seg = await LogSegment.open(ctx, dir, 0, now);
    await seg.recover(Infinity, true);
    expect(seg.offsetIndex.entries).toBe(2);
    const flushing = seg.flush();
    await gate.reached;
    let deleted = false;
    const deleting = seg.markDeleted().then(() => {
      deleted = true;
    });
    await gate.settle();
    return { gate, seg, flushing, deleting, deleted: () => deleted };
  }

  it('leaves no index under the old name', async () => {
    const { gate, seg, flushing, deleting } = await flushHeldAtDeletion();
    gate.release();
    await Promise.all([flushing, deleting]);
    await seg.close();
    expect((await readdir(dir)).sort()).toEqual([
      '00000000000000000000.index.deleted',
      '00000000000000000000.log.deleted',
      '00000000000000000000.timeindex.deleted',
    ]);
    // The flush wrote the segment's own file before it was renamed.
    expect(await offsetEntries(`${indexPath()}.deleted`)).toEqual([
      [1, seg.offsetIndex.positionAt(0)],
      [2, seg.offsetIndex.positionAt(1)],
    ]);
  });

  it('never writes into the index of a new segment at the same base offset', async () => {
    const { gate, seg, flushing, deleting, deleted } = await flushHeldAtDeletion();
    // The new segment at offset 0 (truncateFullyAndStartAt, or a roll there after a truncation)
    // comes as soon as the deletion lets it: a three-record batch, then a one-record one.
    const startFresh = async () => {
      const fresh = await LogSegment.create({ fs: nodeFileSystem, config }, dir, 0, now);
      await fresh.append(batchAt(0, 3), false, now);
      await fresh.append(batchAt(3, 1), false, now);
      await fresh.flush();
      return fresh;
    };
    let fresh = deleted() ? await startFresh() : undefined;
    gate.release();
    await Promise.all([flushing, deleting]);
    fresh ??= await startFresh();
    const expected = [[3, fresh.offsetIndex.positionAt(0)]];
    expect(fresh.offsetIndex.entries).toBe(1);
    expect(await offsetEntries(indexPath())).toEqual(expected);
    await fresh.close();
    await seg.close();
    expect(await offsetEntries(indexPath())).toEqual(expected);
  });
});
