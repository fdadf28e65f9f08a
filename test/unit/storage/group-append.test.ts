// Appends that queue up behind a write in flight are written together (partition-log.ts appendGroup):
// one pwrite and at most one fdatasync per group, each append answered as if it had been alone,
// in call order, across rolls and failures; idempotent producers' batches are still appended alone.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { crc32c } from '../../../src/protocol/records/crc.js';
import type { FileHandle, FileSystem } from '../../../src/storage/file-system.js';
import { nodeFileSystem, pwritevFully } from '../../../src/storage/file-system.js';
import type { LogManager } from '../../../src/storage/index.js';
import { buildBatch, faultyFs, makeTempDir, openManager, recordsOf, valuesBatch } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let manager: LogManager | undefined;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(async () => {
  await manager?.close().catch(() => {});
  manager = undefined;
  await cleanup();
});

/** Counts pwrites and fdatasyncs on .log files. */
function syscallCounter(inner: FileSystem = nodeFileSystem): FileSystem & { writes: number; syncs: number } {
  const fs = {
    ...inner,
    writes: 0,
    syncs: 0,
    async open(path: string, flags: 'r' | 'r+' | 'w+' | 'wx+'): Promise<FileHandle> {
      const h = await inner.open(path, flags);
      const isLog = path.endsWith('.log');
      return {
        pread: (b, o, l, p) => h.pread(b, o, l, p),
        pwrite: (b, o, l, p) => {
          if (isLog) fs.writes++;
          return h.pwrite(b, o, l, p);
        },
        pwritev: (bufs, p) => {
          if (isLog) fs.writes++;
          return h.pwritev!(bufs, p);
        },
        fdatasync: () => {
          if (isLog) fs.syncs++;
          return h.fdatasync();
        },
        truncate: (n) => h.truncate(n),
        stat: () => h.stat(),
        close: () => h.close(),
      };
    },
  };
  return fs;
}

/** Every record value from the log start to the end (a read stops at a segment's end). */
async function readValues(log: import('../../../src/storage/index.js').PartitionLog): Promise<string[]> {
  const values: string[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 1 << 24);
    const got = recordsOf(records).filter((r) => r.offset >= offset);
    expect(got.length).toBeGreaterThan(0);
    values.push(...got.map((r) => r.value ?? ''));
    offset = got[got.length - 1].offset + 1;
  }
  return values;
}

describe('group append', () => {
  it('writes appends issued together with fewer writes and syncs, answered in call order', async () => {
    const fs = syscallCounter();
    manager = await openManager(dir, { fs, config: { segmentBytes: 1 << 20, flushIntervalMessages: 1 } });
    const log = await manager.create('t', 0);
    await log.append(valuesBatch('first-', 1));
    const writes0 = fs.writes;
    const syncs0 = fs.syncs;
    const sizes = Array.from({ length: 50 }, (_, i) => 1 + (i % 4));
    const seen: number[] = [];
    const results = await Promise.all(
      sizes.map((n, i) =>
        log.append(valuesBatch(`a${i}-`, n)).then((r) => {
          // flush.messages=1: acknowledged only once durable.
          expect(log.recoveryPoint).toBeGreaterThan(r.lastOffset);
          seen.push(i);
          return r;
        }),
      ),
    );
    expect(seen).toEqual(sizes.map((_, i) => i));
    let next = 1;
    for (let i = 0; i < sizes.length; i++) {
      expect(results[i]).toMatchObject({ baseOffset: next, lastOffset: next + sizes[i] - 1, recordCount: sizes[i] });
      next += sizes[i];
    }
    expect(log.logEndOffset).toBe(next);
    expect(fs.writes - writes0).toBeLessThan(sizes.length);
    expect(fs.syncs - syncs0).toBeLessThan(sizes.length);
    expect(await readValues(log)).toEqual(['first-0', ...sizes.flatMap((n, i) => Array.from({ length: n }, (_, j) => `a${i}-${j}`))]);
  });

  it('rolls inside a group and keeps every segment within segment.bytes', async () => {
    manager = await openManager(dir, { config: { segmentBytes: 1024 } });
    const log = await manager.create('t', 0);
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => log.append(valuesBatch(`r${i}-`, 2, { pad: 40 }))));
    results.forEach((r, i) => expect(r.baseOffset).toBe(2 * i));
    expect(log.segmentCount).toBeGreaterThan(5);
    const bases = log.segmentBaseOffsets();
    for (let k = 1; k < bases.length; k++) expect(bases[k]).toBeGreaterThan(bases[k - 1]);
    const want = Array.from({ length: 60 }, (_, i) => [`r${i}-0`, `r${i}-1`]).flat();
    const unpadded = (values: string[]) => values.map((v) => v.replace(/x+$/, ''));
    expect(unpadded(await readValues(log))).toEqual(want);
    // Reopened from the files: the same.
    await manager.close();
    manager = await openManager(dir, { config: { segmentBytes: 1024 } });
    expect(unpadded(await readValues(manager.get('t', 0)!))).toEqual(want);
  });

  it('a failed write fails only the appends it carried; the ones after it are written at the same offsets', async () => {
    const fs = faultyFs();
    manager = await openManager(dir, { fs, config: { segmentBytes: 1 << 20 } });
    const log = await manager.create('t', 0);
    await log.append(valuesBatch('ok-', 1));
    let failNext = true;
    fs.fault = (op, path) => {
      if (op === 'pwrite' && path.endsWith('.log') && failNext) {
        failNext = false;
        return 'partial';
      }
      return undefined;
    };
    // The first append goes alone (the chain is idle); the next ones queue behind it as one group.
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => log.append(valuesBatch(`g${i}-`, 1))));
    const failed = outcomes.filter((o) => o.status === 'rejected').length;
    expect(failed).toBeGreaterThan(0);
    const ok = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [{ i, base: o.value.baseOffset }] : []));
    // No gap: the appends that succeeded have consecutive offsets after the first record.
    ok.forEach((o, k) => expect(o.base).toBe(1 + k));
    expect(await readValues(log)).toEqual(['ok-0', ...ok.map((o) => `g${o.i}-0`)]);
  });

  it("an idempotent producer's batch keeps its place among grouped appends", async () => {
    manager = await openManager(dir, { config: { segmentBytes: 1 << 20 } });
    const log = await manager.create('t', 0);
    const idem = (seq: number) => {
      const b = buildBatch([{ value: `idem${seq}` }], { producerId: 7 });
      b.writeInt16BE(0, 51); // producer epoch
      b.writeInt32BE(seq, 53); // base sequence
      b.writeUInt32BE(crc32c(b, 21, b.length), 17);
      return b;
    };
    const calls = [
      log.append(valuesBatch('a', 1)),
      log.append(valuesBatch('b', 1)),
      log.append(idem(0)),
      log.append(valuesBatch('c', 1)),
      log.append(idem(0)), // a retry: answered with the first one's offsets, not written again
      log.append(valuesBatch('d', 1)),
    ];
    const results = await Promise.allSettled(calls);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await readValues(log)).toEqual(['a0', 'b0', 'idem0', 'c0', 'd0']);
  });

  it('appends issued after close fail; the ones before it are written', async () => {
    manager = await openManager(dir, { config: { segmentBytes: 1 << 20 } });
    const log = await manager.create('t', 0);
    const before = [log.append(valuesBatch('x', 1)), log.append(valuesBatch('y', 1))];
    const closing = log.close({ flush: true, reason: new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, 'closed for the test') });
    const after = log.append(valuesBatch('z', 1));
    await expect(after).rejects.toThrow(/closed for the test/);
    await Promise.all(before);
    await closing;
    await manager.close();
    manager = await openManager(dir, { config: { segmentBytes: 1 << 20 } });
    expect(await readValues(manager.get('t', 0)!)).toEqual(['x0', 'y0']);
  });
});

describe('pwritevFully', () => {
  /** An in-memory handle whose gathering writes stop short after `cap` bytes. */
  function memHandle(cap: number, withPwritev = true) {
    const file = Buffer.alloc(4096);
    const calls: string[] = [];
    const h: FileHandle = {
      pread: async () => 0,
      pwrite: async (b, o, l, p) => {
        calls.push(`pwrite ${l}@${p}`);
        b.copy(file, p, o, o + l);
        return l;
      },
      fdatasync: async () => {},
      truncate: async () => {},
      stat: async () => ({ size: file.length, mtimeMs: 0 }),
      close: async () => {},
    };
    if (withPwritev) {
      h.pwritev = async (bufs, p) => {
        calls.push(`pwritev ${bufs.length}@${p}`);
        let n = 0;
        for (const b of bufs) {
          const take = Math.min(b.length, cap - n);
          b.copy(file, p + n, 0, take);
          n += take;
          if (n >= cap) break;
        }
        return n;
      };
    }
    return { h, file, calls };
  }

  it('writes the buffers back to back whatever short writes happen, with or without pwritev', async () => {
    const bufs = [Buffer.from('aaaa'), Buffer.from('bbbbbb'), Buffer.from('cc'), Buffer.from('dddddddd')];
    const want = Buffer.concat(bufs);
    for (const [cap, v] of [[1000, true], [5, true], [4, true], [10, true], [1, true], [0, false]] as const) {
      const { h, file, calls } = memHandle(cap, v);
      await pwritevFully(h, bufs, 100);
      expect(file.subarray(100, 100 + want.length).toString(), `cap ${cap}`).toBe(want.toString());
      if (v && cap >= want.length) expect(calls).toEqual(['pwritev 4@100']);
      if (!v) expect(calls.length).toBe(4);
    }
  });
});
