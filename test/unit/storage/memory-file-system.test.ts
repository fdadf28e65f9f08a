// The in-memory FileSystem (kts.storage=memory) against the disk: the same storage operations run
// on both leave the same files with the same bytes, and the same POSIX answers (codes) to misuse.
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FileSystem, nodeFileSystem, preadFully } from '../../../src/storage/file-system.js';
import { MemoryFileSystem } from '../../../src/storage/memory-file-system.js';
import { LogManager } from '../../../src/storage/index.js';
import { captureLogger, decodeBatches, makeTempDir, recordsOf, testConfig, valuesBatch } from './helpers.js';

let root: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir: root, cleanup } = await makeTempDir());
});
afterEach(() => cleanup());

const NOW = 1_700_000_000_000;

async function open(fs: FileSystem, dir: string, config = {}): Promise<LogManager> {
  return LogManager.open({ logDirs: [dir], defaults: testConfig({ segmentBytes: 4096, ...config }), fs, now: () => NOW, logger: captureLogger(), openFiles: { maxOpen: 1000, idleMs: 0 } });
}

/** Every file under `dir`, by relative path, with its bytes. */
async function treeOnDisk(dir: string, prefix = ''): Promise<Map<string, Buffer | 'dir'>> {
  const out = new Map<string, Buffer | 'dir'>();
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = `${prefix}${e.name}`;
    if (e.isDirectory()) {
      out.set(rel, 'dir');
      for (const [k, v] of await treeOnDisk(join(dir, e.name), `${rel}/`)) out.set(k, v);
    } else out.set(rel, await readFile(join(dir, e.name)));
  }
  return out;
}

async function treeInMemory(fs: MemoryFileSystem, dir: string, prefix = ''): Promise<Map<string, Buffer | 'dir'>> {
  const out = new Map<string, Buffer | 'dir'>();
  for (const e of await fs.readdir(dir)) {
    const rel = `${prefix}${e.name}`;
    if (e.isDirectory) {
      out.set(rel, 'dir');
      for (const [k, v] of await treeInMemory(fs, `${dir}/${e.name}`, `${rel}/`)) out.set(k, v);
    } else {
      const fh = await fs.open(`${dir}/${e.name}`, 'r');
      const buf = Buffer.alloc((await fh.stat()).size);
      await preadFully(fh, buf, 0);
      await fh.close();
      out.set(rel, buf);
    }
  }
  return out;
}

/** Appends across segments, two partitions, DeleteRecords, a deleted partition, a clean close. */
async function workload(fs: FileSystem, dir: string): Promise<Array<{ offset: number; value: string | null }>> {
  const manager = await open(fs, dir);
  const a = await manager.create('t', 0);
  const b = await manager.create('t', 1);
  const gone = await manager.create('gone', 0);
  for (let i = 0; i < 120; i++) {
    await a.append(valuesBatch(`a${i}-`, 1 + (i % 4), { pad: 30, timestamp: NOW + i }), { leaderEpoch: i < 60 ? 0 : 1 });
    if (i % 3 === 0) await b.append(valuesBatch(`b${i}-`, 2, { timestamp: NOW + i }), { leaderEpoch: 0 });
    if (i % 10 === 0) await gone.append(valuesBatch(`g${i}-`, 1, { timestamp: NOW }));
  }
  await a.deleteRecordsBefore(40);
  await manager.delete('gone', 0);
  const seen = [];
  for (let offset = 40; offset < a.logEndOffset; ) {
    const { records } = await a.read(offset, 1 << 20);
    const batches = decodeBatches(records);
    seen.push(...recordsOf(records).filter((r) => r.offset >= offset));
    offset = batches[batches.length - 1].lastOffset + 1;
  }
  await manager.close();
  return seen;
}

describe('MemoryFileSystem', () => {
  it('leaves the same files with the same bytes as the disk after the same log operations', async () => {
    const disk = join(root, 'logs');
    const memory = new MemoryFileSystem({ now: () => NOW });
    const readOnDisk = await workload(nodeFileSystem, disk);
    const readInMemory = await workload(memory, '/memory/logs');
    expect(readInMemory).toEqual(readOnDisk);
    expect(readOnDisk.length).toBeGreaterThan(100);
    const onDisk = await treeOnDisk(disk);
    const inMemory = await treeInMemory(memory, '/memory/logs');
    expect([...inMemory.keys()].sort()).toEqual([...onDisk.keys()].sort());
    expect([...onDisk.keys()].filter((k) => k.endsWith('.log')).length).toBeGreaterThan(4);
    for (const [name, bytes] of onDisk) expect(inMemory.get(name), name).toEqual(bytes);
  });

  it('reopens its own logs: clean restart and recovery after no close read back the same records', async () => {
    const fs = new MemoryFileSystem({ now: () => NOW });
    const first = await open(fs, '/d');
    const log = await first.create('t', 0);
    for (let i = 0; i < 50; i++) await log.append(valuesBatch(`v${i}-`, 3, { pad: 40, timestamp: NOW }));
    await first.close();
    const second = await open(fs, '/d');
    const again = second.get('t', 0)!;
    expect(again.logEndOffset).toBe(150);
    expect(recordsOf((await again.read(75, 1 << 20)).records).find((r) => r.offset === 75)?.value).toBe(`v25-0${'x'.repeat(40)}`);
    await again.append(valuesBatch('after-', 1, { timestamp: NOW }));
    // No close: the next open finds no clean-shutdown marker and recovers the active segment.
    const third = await open(fs, '/d');
    expect(third.get('t', 0)!.logEndOffset).toBe(151);
    await third.close();
  });

  it('answers misuse with the codes the disk answers', async () => {
    const disk = nodeFileSystem;
    const mem = new MemoryFileSystem();
    await mkdir(join(root, 'd'));
    await mem.mkdir(join(root, 'd'), { recursive: true });
    const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: NodeJS.ErrnoException) => e.code);
    for (const fs of [disk, mem]) {
      const fh = await fs.open(join(root, 'd', 'f'), 'w+');
      await fh.pwrite(Buffer.from('hello world'), 0, 11, 0);
      await fh.close();
    }
    const cases: Array<[string, (fs: FileSystem) => Promise<unknown>]> = [
      ['open missing r', (fs) => fs.open(join(root, 'd', 'missing'), 'r')],
      ['open missing r+', (fs) => fs.open(join(root, 'd', 'missing'), 'r+')],
      ['open in missing dir', (fs) => fs.open(join(root, 'nodir', 'x'), 'w+')],
      ['open existing wx+', (fs) => fs.open(join(root, 'd', 'f'), 'wx+')],
      ['unlink missing', (fs) => fs.unlink(join(root, 'd', 'missing'))],
      ['readdir a file', (fs) => fs.readdir(join(root, 'd', 'f'))],
      ['readdir missing', (fs) => fs.readdir(join(root, 'missing'))],
      ['mkdir existing', (fs) => fs.mkdir(join(root, 'd'))],
      ['mkdir under missing', (fs) => fs.mkdir(join(root, 'a', 'b'))],
      ['stat missing', (fs) => fs.stat(join(root, 'missing'))],
      ['rename missing', (fs) => fs.rename(join(root, 'd', 'missing'), join(root, 'd', 'x'))],
      ['rmTree missing', (fs) => fs.rmTree(join(root, 'missing'))],
    ];
    for (const [what, op] of cases) expect(await code(op(mem)), what).toBe(await code(op(disk)));
    // A handle keeps its file across rename and unlink; truncate then growth reads zeros.
    const h = await mem.open(join(root, 'd', 'f'), 'r+');
    await mem.rename(join(root, 'd', 'f'), join(root, 'd', 'g'));
    await mem.unlink(join(root, 'd', 'g'));
    await h.truncate(5);
    await h.pwrite(Buffer.from('!'), 0, 1, 8);
    const buf = Buffer.alloc(20);
    expect(await preadFully(h, buf, 0)).toBe(9);
    expect(buf.subarray(0, 9)).toEqual(Buffer.from('hello\0\0\0!'));
    await h.close();
    expect(await code(h.pread(buf, 0, 1, 0))).toBe('EBADF');
    expect((await stat(join(root, 'd', 'f'))).size).toBe(11);
  });

  it('holds sparse and large files in pages: a 10 MB write costs about 10 MB, a big truncate nothing', async () => {
    const fs = new MemoryFileSystem();
    await fs.mkdir('/x', { recursive: true });
    const fh = await fs.open('/x/big', 'w+');
    await fh.truncate(10 << 20);
    expect(fs.bytesHeld).toBe(0);
    const chunk = Buffer.alloc(1 << 20, 7);
    for (let i = 0; i < 10; i++) await fh.pwrite(chunk, 0, chunk.length, 1 + i * chunk.length);
    expect(fs.bytesHeld).toBeGreaterThanOrEqual(10 << 20);
    expect(fs.bytesHeld).toBeLessThan((10 << 20) + (128 << 10));
    const back = Buffer.alloc(3 << 20);
    await preadFully(fh, back, 0, 0, back.length);
    expect(back[0]).toBe(0);
    expect(back.subarray(1).every((b) => b === 7)).toBe(true);
    await fh.truncate(100);
    expect(fs.bytesHeld).toBeLessThanOrEqual(64 << 10);
    await fs.rmTree('/x');
    expect(fs.bytesHeld).toBe(0);
  });
});
