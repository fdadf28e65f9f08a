import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { LogManager } from '../../../src/storage/index.js';
import {
  buildBatch,
  captureLogger,
  countingFs,
  decodeBatches,
  makeTempDir,
  openManager,
  recordsOf,
  testConfig,
  trackingFs,
  valuesBatch,
} from './helpers.js';

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

async function expectKafkaError(p: Promise<unknown>, code: number): Promise<KafkaError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KafkaError);
  expect((err as KafkaError).code).toBe(code);
  return err as KafkaError;
}

/** Reads everything from `from` to the log end, batch by batch. */
async function readAll(log: import('../../../src/storage/index.js').PartitionLog, from: number) {
  const out: Array<{ offset: number; value: string | null }> = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 1 << 20);
    const batches = decodeBatches(records);
    expect(batches.length).toBeGreaterThan(0);
    for (const r of recordsOf(records)) if (r.offset >= offset) out.push(r);
    offset = batches[batches.length - 1].lastOffset + 1;
  }
  return out;
}

describe('PartitionLog append and read', () => {
  it('assigns offsets in place and reads whole batches back across several segments', async () => {
    manager = await openManager(dir, { config: { segmentBytes: 4096 } });
    const log = await manager.create('t', 0);
    const expected: Array<{ offset: number; value: string }> = [];
    for (let i = 0; i < 200; i++) {
      const n = 1 + (i % 5);
      const batch = valuesBatch(`b${i}-`, n, { pad: 20 });
      const res = await log.append(batch, { leaderEpoch: 3 });
      expect(res.recordCount).toBe(n);
      expect(res.lastOffset - res.baseOffset).toBe(n - 1);
      expect(batch.readBigInt64BE(0)).toBe(BigInt(res.baseOffset)); // rewritten in place
      expect(res.logAppendTime).toBe(-1);
      for (let j = 0; j < n; j++) expected.push({ offset: res.baseOffset + j, value: `b${i}-${j}${'x'.repeat(20)}` });
    }
    expect(log.logEndOffset).toBe(expected.length);
    expect(log.highWatermark).toBe(log.logEndOffset);
    expect(log.segmentCount).toBeGreaterThan(5);
    const files = await readdir(log.dir);
    expect(files).toContain('00000000000000000000.log');
    expect(files.filter((f) => f.endsWith('.log')).length).toBe(log.segmentCount);
    expect(await readAll(log, 0)).toEqual(expected);
    const { records } = await log.read(0, 1 << 20);
    expect(decodeBatches(records)[0].leaderEpoch).toBe(3);
  });

  it('finds the batch holding every offset through the sparse index', async () => {
    manager = await openManager(dir, { config: { segmentBytes: 16 * 1024, indexIntervalBytes: 256 } });
    const log = await manager.create('idx', 0);
    const batches: Array<{ base: number; last: number }> = [];
    for (let i = 0; i < 300; i++) {
      const res = await log.append(valuesBatch(`v${i}-`, 1 + (i % 7), { pad: i % 40 }));
      batches.push({ base: res.baseOffset, last: res.lastOffset });
    }
    for (let offset = 0; offset < log.logEndOffset; offset++) {
      const { records } = await log.read(offset, 1);
      const got = decodeBatches(records);
      expect(got.length).toBe(1); // maxBytes 1 -> exactly the one batch (minOneBatch)
      const want = batches.find((b) => b.base <= offset && offset <= b.last)!;
      expect(got[0].baseOffset).toBe(want.base);
      expect(got[0].lastOffset).toBe(want.last);
    }
  });

  it('respects maxBytes (whole batches only), minOneBatch and maxOffset', async () => {
    manager = await openManager(dir);
    const log = await manager.create('lim', 0);
    const sizes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const b = valuesBatch(`x${i}-`, 2, { pad: 50 });
      sizes.push(b.length);
      await log.append(b);
    }
    const two = await log.read(0, sizes[0] + sizes[1] + 10);
    expect(decodeBatches(two.records).map((b) => b.baseOffset)).toEqual([0, 2]);
    expect(two.records.length).toBe(sizes[0] + sizes[1]);
    const none = await log.read(0, 10, { minOneBatch: false });
    expect(none.records.length).toBe(0);
    const one = await log.read(3, 10);
    expect(decodeBatches(one.records).map((b) => b.baseOffset)).toEqual([2]);
    const capped = await log.read(0, 1 << 20, { maxOffset: 6 });
    expect(decodeBatches(capped.records).map((b) => b.baseOffset)).toEqual([0, 2, 4]);
    const atEnd = await log.read(20, 1000);
    expect(atEnd.records.length).toBe(0);
    expect(atEnd.highWatermark).toBe(20);
    await expectKafkaError(log.read(21, 1000), ErrorCode.OFFSET_OUT_OF_RANGE);
    await expectKafkaError(log.read(-1, 1000), ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  it('reads a bounded number of bytes per fetch whatever the log size', async () => {
    const perRead = async (batchesCount: number) => {
      const { dir: d, cleanup: c } = await makeTempDir();
      const fs = countingFs();
      const m = await openManager(d, { fs, config: { segmentBytes: 1 << 20, indexIntervalBytes: 4096 } });
      try {
        const log = await m.create('size', 0);
        const chunk: Buffer[] = [];
        for (let i = 0; i < batchesCount; i++) {
          chunk.push(valuesBatch(`r${i}-`, 5, { pad: 30 }));
          if (chunk.length === 100) {
            await log.append(Buffer.concat(chunk));
            chunk.length = 0;
          }
        }
        if (chunk.length) await log.append(Buffer.concat(chunk));
        let worst = 0;
        let x = 12345;
        for (let i = 0; i < 200; i++) {
          x = (x * 1103515245 + 12345) % 2 ** 31;
          const offset = x % log.logEndOffset;
          fs.bytesRead = 0;
          const { records } = await log.read(offset, 8192);
          expect(decodeBatches(records)[0].baseOffset).toBeLessThanOrEqual(offset);
          worst = Math.max(worst, fs.bytesRead);
        }
        return worst;
      } finally {
        await m.close();
        await c();
      }
    };
    const small = await perRead(200); // ~1k records, ~40 KB
    const large = await perRead(40_000); // ~200k records, ~8 MB over 8 segments
    // maxBytes + the header walk from the nearest index entry (a chunk or two of ~8 KiB).
    expect(small).toBeLessThanOrEqual(8192 + 3 * 8192);
    expect(large).toBeLessThanOrEqual(8192 + 3 * 8192);
  }, 60_000);

  it('serializes concurrent appends: offsets strictly increase with no gaps', async () => {
    manager = await openManager(dir, { config: { segmentBytes: 8192 } });
    const log = await manager.create('conc', 0);
    const other = await manager.create('conc', 1);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? log : other).append(valuesBatch(`c${i}-`, 1 + (i % 3)))),
    );
    for (const l of [log, other]) {
      const mine = results.filter((_, i) => (i % 2 ? log : other) === l).sort((a, b) => a.baseOffset - b.baseOffset);
      let next = 0;
      for (const r of mine) {
        expect(r.baseOffset).toBe(next);
        next = r.lastOffset + 1;
      }
      expect(l.logEndOffset).toBe(next);
    }
  });

  it('notifies onAppend listeners and stops after unsubscribe', async () => {
    manager = await openManager(dir);
    const log = await manager.create('notify', 0);
    let calls = 0;
    const off = log.onAppend(() => calls++);
    await log.append(valuesBatch('a', 1));
    await log.append(valuesBatch('a', 1));
    off();
    await log.append(valuesBatch('a', 1));
    expect(calls).toBe(2);
  });

  it('applies LogAppendTime with a fresh CRC', async () => {
    manager = await openManager(dir, { config: { messageTimestampType: 'LogAppendTime' } });
    const log = await manager.create('lat', 0);
    const res = await log.append(valuesBatch('v', 3, { timestamp: 5 }), { now: 1_800_000_000_000 });
    expect(res.logAppendTime).toBe(1_800_000_000_000);
    const [batch] = decodeBatches((await log.read(0, 1000)).records);
    expect(batch.attributes & 0x08).toBe(0x08);
    expect(batch.maxTimestamp).toBe(1_800_000_000_000);
    expect(await log.offsetForTimestamp(1_800_000_000_000)).toEqual({ offset: 0, timestamp: 1_800_000_000_000 });
  });
});

describe('PartitionLog validation', () => {
  it('rejects bad batches and writes nothing', async () => {
    manager = await openManager(dir, { config: { maxMessageBytes: 2000, segmentBytes: 10_000 } });
    const log = await manager.create('bad', 0);
    await log.append(valuesBatch('ok', 2));
    const crc = valuesBatch('v', 2);
    crc[crc.length - 1] ^= 0xff;
    await expectKafkaError(log.append(crc), ErrorCode.CORRUPT_MESSAGE);
    // A good batch followed by a bad one: neither is written.
    await expectKafkaError(log.append(Buffer.concat([valuesBatch('good', 1), crc])), ErrorCode.CORRUPT_MESSAGE);
    await expectKafkaError(log.append(valuesBatch('t', 2).subarray(0, 70)), ErrorCode.CORRUPT_MESSAGE);
    await expectKafkaError(log.append(Buffer.concat([valuesBatch('t', 1), Buffer.alloc(5)])), ErrorCode.CORRUPT_MESSAGE);
    const tooSmall = valuesBatch('v', 1);
    tooSmall.writeInt32BE(10, 8);
    await expectKafkaError(log.append(tooSmall), ErrorCode.CORRUPT_MESSAGE);
    const legacy = valuesBatch('v', 1);
    legacy.writeInt8(1, 16);
    await expectKafkaError(log.append(legacy), ErrorCode.INVALID_RECORD);
    await expectKafkaError(log.append(valuesBatch('big', 1, { pad: 3000 })), ErrorCode.MESSAGE_TOO_LARGE);
    const many = Buffer.concat(Array.from({ length: 20 }, () => valuesBatch('m', 2, { pad: 600 })));
    await expectKafkaError(log.append(many), ErrorCode.RECORD_LIST_TOO_LARGE);
    // lastOffsetDelta inconsistent with recordCount (CRC recomputed so only that is wrong).
    const mismatch = buildBatch([{ value: 'a' }, { value: 'b' }]);
    mismatch.writeInt32BE(5, 23);
    const { crc32c } = await import('../../../src/protocol/records/crc.js');
    mismatch.writeUInt32BE(crc32c(mismatch, 21, mismatch.length), 17);
    await expectKafkaError(log.append(mismatch), ErrorCode.INVALID_RECORD);
    // Record count claims more records than the bytes hold.
    const short = buildBatch([{ value: 'a' }, { value: 'b' }]);
    short.writeInt32BE(3, 57);
    short.writeInt32BE(2, 23);
    short.writeUInt32BE(crc32c(short, 21, short.length), 17);
    await expectKafkaError(log.append(short), ErrorCode.INVALID_RECORD);

    expect(log.logEndOffset).toBe(2);
    expect(recordsOf((await log.read(0, 1 << 20)).records).map((r) => r.value)).toEqual(['ok0', 'ok1']);
    const next = await log.append(valuesBatch('after', 1));
    expect(next.baseOffset).toBe(2);
  });

  it('accepts compressed batches without looking inside', async () => {
    manager = await openManager(dir);
    const log = await manager.create('gz', 0);
    const batch = buildBatch([{ value: 'a' }, { value: 'b' }, { value: 'c' }], { compression: 1, body: Buffer.from('opaque bytes') });
    const res = await log.append(batch);
    expect([res.baseOffset, res.lastOffset]).toEqual([0, 2]);
    const [b] = decodeBatches((await log.read(1, 1000)).records);
    expect(b.lastOffset).toBe(2);
  });

  it('returns -1 offsets for an empty append', async () => {
    manager = await openManager(dir);
    const log = await manager.create('empty', 0);
    expect((await log.append(Buffer.alloc(0))).baseOffset).toBe(-1);
    expect(log.logEndOffset).toBe(0);
  });
});

describe('offsets by timestamp', () => {
  it('finds the first record at or after a timestamp, at record granularity', async () => {
    manager = await openManager(dir, { config: { segmentBytes: 2048, indexIntervalBytes: 128 } });
    const log = await manager.create('ts', 0);
    // 100 batches of 3 records; record k (offset k) has timestamp 1000 + 10k.
    for (let i = 0; i < 100; i++) {
      const recs = [0, 1, 2].map((j) => ({ value: `v${i * 3 + j}`, timestamp: 1000 + 10 * (i * 3 + j) }));
      await log.append(buildBatch(recs));
    }
    expect(log.segmentCount).toBeGreaterThan(3);
    for (const k of [0, 1, 2, 3, 50, 151, 299]) {
      expect(await log.offsetForTimestamp(1000 + 10 * k)).toEqual({ offset: k, timestamp: 1000 + 10 * k });
      if (k > 0) expect(await log.offsetForTimestamp(1000 + 10 * k - 5)).toEqual({ offset: k, timestamp: 1000 + 10 * k });
    }
    expect(await log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 1000 });
    expect(await log.offsetForTimestamp(1000 + 10 * 299 + 1)).toBeNull();
    expect(await log.maxTimestampOffset()).toEqual({ offset: 299, timestamp: 1000 + 2990 });
  });

  it('handles out-of-order timestamps and the max timestamp inside a batch', async () => {
    manager = await openManager(dir);
    const log = await manager.create('ts2', 0);
    await log.append(buildBatch([{ value: 'a', timestamp: 500 }, { value: 'b', timestamp: 900 }, { value: 'c', timestamp: 600 }]));
    await log.append(buildBatch([{ value: 'd', timestamp: 700 }, { value: 'e', timestamp: 800 }]));
    expect(await log.maxTimestampOffset()).toEqual({ offset: 1, timestamp: 900 });
    expect(await log.offsetForTimestamp(650)).toEqual({ offset: 1, timestamp: 900 });
    expect(await log.offsetForTimestamp(901)).toBeNull();
  });

  it('returns null on an empty log and skips records below the log start offset', async () => {
    manager = await openManager(dir);
    const log = await manager.create('ts3', 0);
    expect(await log.offsetForTimestamp(0)).toBeNull();
    expect(await log.maxTimestampOffset()).toBeNull();
    await log.append(buildBatch([{ value: 'a', timestamp: 100 }, { value: 'b', timestamp: 200 }, { value: 'c', timestamp: 300 }]));
    await log.deleteRecordsBefore(2);
    expect(await log.offsetForTimestamp(0)).toEqual({ offset: 2, timestamp: 300 });
  });
});

describe('deleteRecordsBefore', () => {
  it('advances the log start offset, deletes whole segments below it, and survives a restart', async () => {
    const crashFs = trackingFs();
    manager = await openManager(dir, { config: { segmentBytes: 1024 }, fs: crashFs });
    const log = await manager.create('dr', 0);
    for (let i = 0; i < 60; i++) await log.append(valuesBatch(`d${i}-`, 2, { pad: 20 }));
    const segmentsBefore = log.segmentCount;
    const target = 70;
    expect(await log.deleteRecordsBefore(target)).toBe(target);
    expect(log.logStartOffset).toBe(target);
    expect(log.segmentCount).toBeLessThan(segmentsBefore);
    expect(log.segmentBaseOffsets()[0]).toBeLessThanOrEqual(target);
    await expectKafkaError(log.read(target - 1, 1000), ErrorCode.OFFSET_OUT_OF_RANGE);
    const { records, logStartOffset } = await log.read(target, 1000);
    expect(logStartOffset).toBe(target);
    expect(decodeBatches(records)[0].lastOffset).toBeGreaterThanOrEqual(target);
    expect(await log.deleteRecordsBefore(10)).toBe(target); // never moves back
    await expectKafkaError(log.deleteRecordsBefore(log.highWatermark + 1), ErrorCode.OFFSET_OUT_OF_RANGE);
    // Checkpointed: a crash (no close) keeps it.
    await crashFs.closeAll();
    manager = undefined;
    const reopened = await openManager(dir, { config: { segmentBytes: 1024 } });
    manager = reopened;
    expect(reopened.get('dr', 0)!.logStartOffset).toBe(target);
    await expectKafkaError(reopened.get('dr', 0)!.read(target - 1, 1000), ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  it('logs why the log start moved: DeleteRecords unless the caller says otherwise', async () => {
    const logger = captureLogger();
    manager = await openManager(dir, { logger });
    const log = await manager.create('why', 0);
    await log.append(valuesBatch('w', 10));
    await log.deleteRecordsBefore(3);
    await log.deleteRecordsBefore(6, "the leader's log start");
    const moves = logger.lines.filter((l) => l.includes('log start offset moved'));
    expect(moves).toEqual(['INFO [why-0] log start offset moved to 3 (DeleteRecords)', "INFO [why-0] log start offset moved to 6 (the leader's log start)"]);
  });

  it('can empty the log up to the high watermark and appends continue', async () => {
    manager = await openManager(dir, { config: { segmentBytes: 1024 } });
    const log = await manager.create('dr2', 0);
    for (let i = 0; i < 30; i++) await log.append(valuesBatch(`d${i}-`, 2, { pad: 20 }));
    await log.deleteRecordsBefore(60);
    expect((await log.read(60, 1000)).records.length).toBe(0);
    expect((await log.append(valuesBatch('n', 1))).baseOffset).toBe(60);
    expect(recordsOf((await log.read(60, 1000)).records)).toEqual([{ offset: 60, value: 'n0' }]);
  });
});

describe('testConfig sanity', () => {
  it('is a full LogConfig', () => {
    expect(Object.keys(testConfig()).length).toBe(17);
  });
});
