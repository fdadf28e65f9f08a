// Idempotent producers' per-partition state: the sequence and epoch rules (Kafka 3.x), duplicate
// answers with the first write's offsets, snapshots, and the state surviving clean and unclean
// restarts of the log (snapshot + header replay).
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import type { LogManager } from '../../../src/storage/index.js';
import { ProducerStateManager, parseSnapshotFileName, snapshotFileName } from '../../../src/storage/producer-state.js';
import { crc32c } from '../../../src/protocol/records/crc.js';
import { captureLogger, makeTempDir, openManager } from './helpers.js';
import { codeOf } from '../../helpers/kafka-error.js';

function batch(producerId: number, epoch: number, baseSequence: number, count: number, baseOffset = 0): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ value: `p${producerId}e${epoch}s${baseSequence + i}` }));
  return buildRecordBatch(records, { producerId, producerEpoch: epoch, baseSequence, baseOffset, now: 1000 });
}

describe('ProducerStateManager rules', () => {
  it('accepts in-sequence batches and answers a retry of any of the last 5 with its offsets', () => {
    const s = new ProducerStateManager();
    let offset = 0;
    for (let seq = 0; seq < 70; seq += 10) {
      const b = batch(7, 0, seq, 10, offset);
      expect(s.checkAppend(b)).toBeNull();
      s.update(b);
      offset += 10;
    }
    // the last five batches: sequences 20..69
    expect(s.checkAppend(batch(7, 0, 60, 10))).toMatchObject({ firstSeq: 60, lastSeq: 69, firstOffset: 60, lastOffset: 69 });
    expect(s.checkAppend(batch(7, 0, 20, 10))).toMatchObject({ firstOffset: 20, lastOffset: 29 });
    // older than the retained five: an out-of-order sequence, as Kafka answers
    expect(codeOf(() => s.checkAppend(batch(7, 0, 10, 10)))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    // same first sequence, different range: not a duplicate
    expect(codeOf(() => s.checkAppend(batch(7, 0, 60, 5)))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });

  it('a gap is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch INVALID_PRODUCER_EPOCH; a new epoch restarts at 0', () => {
    const s = new ProducerStateManager();
    s.update(batch(1, 3, 0, 5, 0));
    expect(codeOf(() => s.checkAppend(batch(1, 3, 6, 1)))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(codeOf(() => s.checkAppend(batch(1, 2, 5, 1)))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(codeOf(() => s.checkAppend(batch(1, 4, 5, 1)))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(s.checkAppend(batch(1, 4, 0, 1))).toBeNull();
    s.update(batch(1, 4, 0, 1, 5));
    expect(s.entry(1)).toMatchObject({ epoch: 4, batches: [{ firstSeq: 0, lastSeq: 0, firstOffset: 5 }] });
    // the old epoch's batches are gone: a retry of one is now a stale epoch
    expect(codeOf(() => s.checkAppend(batch(1, 3, 0, 5)))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('an unknown producer may start at any sequence (Kafka 3.x, KIP-360); non-idempotent batches are ignored', () => {
    const s = new ProducerStateManager();
    expect(s.checkAppend(batch(9, 0, 42, 3))).toBeNull();
    const plain = buildRecordBatch([{ value: 'x' }]);
    expect(s.checkAppend(plain)).toBeNull();
    s.update(plain);
    expect(s.size).toBe(0);
  });

  it('sequences wrap from 2^31-1 to 0', () => {
    const s = new ProducerStateManager();
    s.update(batch(3, 0, 2147483646, 2, 0)); // 2147483646, 2147483647
    expect(s.entry(3)!.batches[0].lastSeq).toBe(2147483647);
    expect(s.checkAppend(batch(3, 0, 0, 1))).toBeNull();
    expect(codeOf(() => s.checkAppend(batch(3, 0, 1, 1)))).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  });

  it('snapshots keep each producer\'s last batch (Kafka v1 layout) and reject damage', () => {
    const s = new ProducerStateManager();
    s.update(batch(5, 1, 0, 3, 100));
    s.update(batch(5, 1, 3, 4, 103));
    s.update(batch(6, 0, 10, 1, 107));
    const snap = s.serialize();
    expect(snap.length).toBe(10 + 2 * 46);
    const t = new ProducerStateManager();
    t.load(snap);
    expect(t.entry(5)).toMatchObject({ epoch: 1, batches: [{ firstSeq: 3, lastSeq: 6, firstOffset: 103, lastOffset: 106 }] });
    expect(t.entry(6)).toMatchObject({ epoch: 0, batches: [{ firstSeq: 10, lastSeq: 10, firstOffset: 107, lastOffset: 107 }] });
    const bad = Buffer.from(snap);
    bad[20] ^= 1;
    expect(() => t.load(bad)).toThrow(/CRC/);
    expect(snapshotFileName(1234)).toBe('00000000000000001234.snapshot');
    expect(parseSnapshotFileName('00000000000000001234.snapshot')).toBe(1234);
    expect(parseSnapshotFileName('00000000000000001234.snapshot.tmp')).toBe(-1);
  });
});

describe('producer state in a partition log', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const managers: LogManager[] = [];
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.close().catch(() => {});
    await cleanup();
  });
  const open = async (config = {}, logger = captureLogger()) => {
    const m = await openManager(dir, { config, logger });
    managers.push(m);
    return m;
  };

  it('a retried batch is stored once and answered with its first offsets; gaps and stale epochs are refused', async () => {
    const m = await open();
    const log = await m.create('t', 0);
    expect((await log.append(batch(1, 1, 0, 10))).baseOffset).toBe(0);
    expect((await log.append(batch(1, 1, 10, 10))).baseOffset).toBe(10);
    const retry = await log.append(batch(1, 1, 0, 10));
    expect(retry).toMatchObject({ baseOffset: 0, lastOffset: 9 });
    expect(log.logEndOffset).toBe(20);
    await expect(log.append(batch(1, 1, 30, 1))).rejects.toMatchObject({ code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    await expect(log.append(batch(1, 0, 20, 1))).rejects.toMatchObject({ code: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(log.logEndOffset).toBe(20);
  });

  it('survives a clean restart (snapshot at the log end) and an unclean one (header replay)', async () => {
    const m1 = await open({ segmentBytes: 2048 });
    const log1 = await m1.create('t', 0);
    let seq = 0;
    for (let i = 0; i < 30; i++, seq += 5) await log1.append(batch(11, 2, seq, 5));
    const segs = log1.segmentCount;
    expect(segs).toBeGreaterThan(2);
    await m1.close();
    managers.length = 0;
    const files = (await readdir(`${dir}/t-0`)).filter((f) => f.endsWith('.snapshot'));
    expect(files).toContain(snapshotFileName(150)); // clean shutdown: at the log end
    expect(files.length).toBeLessThanOrEqual(2);

    const m2 = await open({ segmentBytes: 2048 });
    const log2 = m2.get('t', 0)!;
    expect(log2.producerState.entry(11)).toMatchObject({ epoch: 2 });
    // the snapshot has the last batch: its retry is a duplicate, the next sequence appends
    expect(await log2.append(batch(11, 2, 145, 5))).toMatchObject({ baseOffset: 145 });
    expect(await log2.append(batch(11, 2, 150, 5))).toMatchObject({ baseOffset: 150 });
    for (let i = 0; i < 3; i++) await log2.append(batch(11, 2, 155 + i * 5, 5));
    // crash: no close, so no snapshot at the end and no clean-shutdown marker
    const m3 = await open({ segmentBytes: 2048 });
    const log3 = m3.get('t', 0)!;
    expect(log3.logEndOffset).toBe(170);
    // all of the last five batches are known again, from the replayed headers
    expect(log3.producerState.entry(11)!.batches.map((b) => b.firstSeq)).toEqual([145, 150, 155, 160, 165]);
    expect(await log3.append(batch(11, 2, 150, 5))).toMatchObject({ baseOffset: 150 });
    await expect(log3.append(batch(11, 2, 175, 5))).rejects.toMatchObject({ code: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(await log3.append(batch(11, 2, 170, 5))).toMatchObject({ baseOffset: 170 });
  });
  it('a snapshot claiming batches at or past its own offset is not trusted: the headers are replayed instead', async () => {
    const m1 = await open({ segmentBytes: 2048 });
    const log1 = await m1.create('s', 0);
    for (let i = 0; i < 10; i++) await log1.append(batch(31, 0, i * 5, 5));
    await m1.close();
    managers.length = 0;
    // The clean shutdown's snapshot at 50, forged (CRC kept valid) to say producer 31's last batch
    // ended at offset 5000: trusted, the next real sequence would be refused as out of order.
    const path = `${dir}/s-0/${snapshotFileName(50)}`;
    const data = await readFile(path);
    const last = 10 + 14; // first entry's lastOffset
    data.writeBigInt64BE(5000n, last);
    data.writeUInt32BE(crc32c(data, 6, data.length), 2);
    await writeFile(path, data);
    const logger = captureLogger();
    const m2 = await open({ segmentBytes: 2048 }, logger);
    const log2 = m2.get('s', 0)!;
    expect(logger.lines.some((l) => l.includes(`ignoring producer snapshot ${snapshotFileName(50)}: producer 31 has a batch ending at offset 5000`))).toBe(true);
    expect(log2.producerState.entry(31)!.batches.at(-1)).toMatchObject({ lastOffset: 49, lastSeq: 49 });
    expect(await log2.append(batch(31, 0, 50, 5))).toMatchObject({ baseOffset: 50 });
  });
});

describe('header replay over big batches', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const managers: LogManager[] = [];
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.close().catch(() => {});
    await cleanup();
  });

  it('finds every header when batches bigger than a read chunk alternate with small ones', async () => {
    const big = (pid: number, seq: number, n: number) =>
      buildRecordBatch(Array.from({ length: n }, () => ({ value: Buffer.alloc(40_000, 0x61) })), { producerId: pid, producerEpoch: 0, baseSequence: seq, now: 1000 });
    const m1 = await openManager(dir, { config: { segmentBytes: 8 << 20 } });
    const log1 = await m1.create('b', 0);
    const seqs = new Map<number, number>();
    const next = (pid: number, n: number) => {
      const s = seqs.get(pid) ?? 0;
      seqs.set(pid, s + n);
      return s;
    };
    for (let i = 0; i < 12; i++) {
      await log1.append(big(21, next(21, 3), 3)); // ~120 KB
      await log1.append(batch(22, 0, next(22, 2), 2)); // small
      if (i % 3 === 0) for (let k = 0; k < 4; k++) await log1.append(batch(23, 0, next(23, 1), 1));
    }
    await log1.append(big(21, next(21, 2), 2));
    // crash: no close, so the state comes back from the headers alone
    const m2 = await openManager(dir, { config: { segmentBytes: 8 << 20 } });
    managers.push(m2);
    const log2 = m2.get('b', 0)!;
    for (const pid of [21, 22, 23]) {
      const e = log2.producerState.entry(pid)!;
      expect(e.batches.at(-1)!.lastSeq, `producer ${pid}`).toBe(seqs.get(pid)! - 1);
    }
    expect(log2.producerState.entry(21)!.batches.map((b) => b.firstSeq)).toEqual([24, 27, 30, 33, 36]);
  });
});

describe('producer expiration', () => {
  it('forgets producers whose last batch is older than producer.id.expiration.ms', () => {
    const s = new ProducerStateManager();
    s.update(buildRecordBatch([{ value: 'a' }], { producerId: 1, producerEpoch: 0, baseSequence: 0, now: 1_000 }));
    s.update(buildRecordBatch([{ value: 'b' }], { producerId: 2, producerEpoch: 0, baseSequence: 0, now: 50_000_000 }));
    expect(s.expire(86_400_000 + 2_000)).toBe(1);
    expect(s.entry(1)).toBeUndefined();
    expect(s.entry(2)).toBeDefined();
  });
});
