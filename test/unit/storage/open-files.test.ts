// The descriptor bound of open-files.ts on real files: at most maxOpen descriptors whatever the number
// of handles, idle ones closed, a closed one reopened on use (without truncating, at its new name
// after a rename), concurrent uses sharing one reopen, and no descriptor closed under an operation.
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type FileHandle, type FileSystem, nodeFileSystem, preadFully, pwriteFully } from '../../../src/storage/file-system.js';
import { OpenFiles } from '../../../src/storage/open-files.js';
import { makeTempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const pools: OpenFiles[] = [];

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(async () => {
  for (const p of pools.splice(0)) p.close();
  await cleanup();
});

/** Counts the descriptors really open underneath, and lets a test hold opens back (atGate: an open is held). */
function countingFs(): FileSystem & { live: number; opens: number; gate: Promise<void> | undefined; atGate: (() => void) | undefined } {
  const fs = {
    ...nodeFileSystem,
    live: 0,
    opens: 0,
    gate: undefined as Promise<void> | undefined,
    atGate: undefined as (() => void) | undefined,
    async open(path: string, flags: 'r' | 'r+' | 'w+' | 'wx+'): Promise<FileHandle> {
      fs.opens++;
      if (fs.gate) fs.atGate?.();
      await fs.gate;
      const h = await nodeFileSystem.open(path, flags);
      fs.live++;
      return {
        pread: (b, o, l, p) => h.pread(b, o, l, p),
        pwrite: (b, o, l, p) => h.pwrite(b, o, l, p),
        fdatasync: () => h.fdatasync(),
        truncate: (l) => h.truncate(l),
        stat: () => h.stat(),
        close: async () => {
          fs.live--;
          await h.close();
        },
      };
    },
  };
  return fs;
}

function pool(inner: FileSystem, maxOpen: number, idleMs = 0): OpenFiles {
  const p = new OpenFiles(inner, { maxOpen, idleMs });
  pools.push(p);
  return p;
}

const text = async (fh: FileHandle, length = 64) => {
  const buf = Buffer.alloc(length);
  return buf.subarray(0, await preadFully(fh, buf, 0)).toString();
};

describe('OpenFiles', () => {
  it('holds at most maxOpen descriptors for 200 files, and every file still reads and writes', async () => {
    const inner = countingFs();
    const fs = pool(inner, 16);
    const files: FileHandle[] = [];
    for (let i = 0; i < 200; i++) {
      const fh = await fs.open(join(dir, `f${i}`), 'w+');
      await pwriteFully(fh, Buffer.from(`file ${i}`), 0);
      files.push(fh);
      expect(inner.live).toBeLessThanOrEqual(16);
    }
    for (let i = 0; i < 200; i++) expect(await text(files[i])).toBe(`file ${i}`); // reopened 'r+': not truncated
    expect(inner.live).toBeLessThanOrEqual(16);
    await Promise.all(files.map((f) => f.close()));
    expect(inner.live).toBe(0);
    expect(fs.openCount).toBe(0);
  });

  it('closes descriptors idle for idleMs; the next use reopens', async () => {
    // The sweep's interval runs on a clock the test moves: on a loaded machine a real one could sweep
    // twice between two lines of the test and close a descriptor it was about to count.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const inner = countingFs();
      const fs = pool(inner, 100, 100); // a sweep every 50 ms; closed after two sweeps unused
      const files = await Promise.all([0, 1, 2, 3].map((i) => fs.open(join(dir, `i${i}`), 'w+')));
      await pwriteFully(files[0], Buffer.from('kept'), 0);
      vi.advanceTimersByTime(50);
      expect(inner.live).toBe(4);
      vi.advanceTimersByTime(100);
      const deadline = Date.now() + 10_000; // the closes themselves are real I/O
      while (inner.live > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(inner.live).toBe(0);
      expect(await text(files[0])).toBe('kept');
      expect(inner.live).toBe(1);
      await Promise.all(files.map((f) => f.close()));
      fs.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('concurrent reads of a closed file share one reopen; a close racing with them neither leaks nor breaks them', async () => {
    const inner = countingFs();
    const fs = pool(inner, 1);
    const path = join(dir, 'shared');
    await writeFile(path, 'shared bytes');
    const a = await fs.open(path, 'r');
    const b = await fs.open(join(dir, 'other'), 'w+'); // evicts a's descriptor
    expect(inner.live).toBe(1);
    let release!: () => void;
    inner.gate = new Promise<void>((r) => (release = r));
    // The reopen gets to the open once b's descriptor is closed (real I/O): waited for, not slept on
    // (10 ms were not always enough at load ~20).
    let held = new Promise<void>((r) => (inner.atGate = r));
    const opensBefore = inner.opens;
    const reads = Array.from({ length: 8 }, () => text(a));
    await held;
    expect(inner.opens - opensBefore).toBe(1);
    // The pool may want b's descriptor back meanwhile; b is closed by its owner in the middle of it.
    const closing = b.close();
    release();
    inner.gate = undefined;
    expect(await Promise.all(reads)).toEqual(Array(8).fill('shared bytes'));
    await closing;
    expect(inner.opens - opensBefore).toBe(1); // the eight reads shared one reopen
    // A close while a reopen is under way: the reopened descriptor is closed, the read fails cleanly.
    const c = await fs.open(join(dir, 'third'), 'w+'); // evicts a again
    inner.gate = new Promise<void>((r) => (release = r));
    held = new Promise<void>((r) => (inner.atGate = r));
    const late = text(a).then(
      () => 'read',
      (e: { code?: string }) => e.code,
    );
    await held;
    const closeA = a.close();
    release();
    inner.gate = undefined;
    expect(await late).toBe('EBADF');
    await closeA;
    await c.close();
    expect(inner.live).toBe(0);
  });

  it('a descriptor is not taken back while an operation on it is in flight', async () => {
    const inner = countingFs();
    const fs = pool(inner, 1);
    const a = await fs.open(join(dir, 'busy'), 'w+');
    const write = pwriteFully(a, Buffer.alloc(1 << 20, 1), 0);
    const b = await fs.open(join(dir, 'next'), 'w+'); // over the bound, but a is busy: it stays open
    await write;
    expect(inner.live).toBeLessThanOrEqual(2);
    expect((await a.stat()).size).toBe(1 << 20);
    await a.close();
    await b.close();
  });

  it('an open that fails gives its room back to an open waiting at the bound', async () => {
    // The failing open held the only reservation while the other waited for room; nothing else was
    // open, so no descriptor's close would ever have woken the waiting one (it waited for good).
    const inner = countingFs();
    const fs = pool(inner, 1);
    let release!: () => void;
    inner.gate = new Promise<void>((r) => (release = r));
    const held = new Promise<void>((r) => (inner.atGate = r));
    const missing = fs.open(join(dir, 'missing'), 'r').then(
      () => 'opened',
      (e: { code?: string }) => e.code,
    );
    await held;
    const waiting = fs.open(join(dir, 'x'), 'w+');
    release();
    inner.gate = undefined;
    expect(await missing).toBe('ENOENT');
    const x = await waiting;
    expect(inner.live).toBe(1);
    await x.close();
    expect(inner.live).toBe(0);
  }, 10_000);

  it('follows a rename: a file closed by the pool reopens at its new name', async () => {
    const inner = countingFs();
    const fs = pool(inner, 1);
    const a = await fs.open(join(dir, 'old.log'), 'w+');
    await pwriteFully(a, Buffer.from('moved'), 0);
    await fs.rename(join(dir, 'old.log'), join(dir, 'old.log.deleted'));
    const b = await fs.open(join(dir, 'x'), 'w+');
    expect(await text(a)).toBe('moved');
    expect(readdirSync(dir).sort()).toEqual(['old.log.deleted', 'x']);
    await a.close();
    await b.close();
  });

  it('a reopen under way when the file is renamed reaches the file, not what takes its old name next', async () => {
    // A segment's .log whose descriptor the pool closed is reopened by a read or the background
    // flush's fdatasync while markDeleted renames it; a new segment at that base offset may create a
    // file under the old name next (truncateFullyAndStartAt). The reopen took the path before the
    // rename and opened it after: ENOENT, or the new segment's file.
    const inner = countingFs();
    const innerRename = inner.rename;
    let renames = 0;
    inner.rename = (from, to) => {
      renames++;
      return innerRename(from, to);
    };
    const fs = pool(inner, 1);
    const path = join(dir, '00000000000000000000.log');
    const a = await fs.open(path, 'w+');
    await pwriteFully(a, Buffer.from('old'), 0);
    const b = await fs.open(join(dir, 'x'), 'w+'); // the pool closes a's descriptor for it
    let release!: () => void;
    inner.gate = new Promise<void>((r) => (release = r));
    const reached = new Promise<void>((r) => (inner.atGate = r));
    const reading = text(a);
    await reached; // a's reopen is at the open of its file underneath
    inner.gate = undefined;
    const renaming = fs.rename(path, `${path}.deleted`);
    if (renames > 0) {
      // The rename went ahead of the reopen: the new file comes as soon as it lets it.
      await renaming;
      await writeFile(path, 'new');
    }
    release();
    expect(await reading).toBe('old');
    await renaming;
    await writeFile(path, 'new');
    expect(await text(a)).toBe('old');
    await a.close();
    await b.close();
    expect(readdirSync(dir).sort()).toEqual(['00000000000000000000.log', '00000000000000000000.log.deleted', 'x']);
  });
});
