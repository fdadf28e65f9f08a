// Transactions in the log: open transactions hold the last stable offset (LSO) back, COMMIT/ABORT
// markers end them, ABORTs go into the segment's `.txnindex` (Kafka's 34-byte entries), a
// read_committed read stops at the LSO and answers the aborted transactions of its range, and all of
// it survives a clean restart (snapshot), a crash (the txnindex rebuilt from the batch headers) and a
// follower's truncation.
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import { buildControlBatch } from '../../../src/protocol/records/control-batch.js';
import type { LogManager, PartitionLog } from '../../../src/storage/index.js';
import { ProducerStateManager } from '../../../src/storage/producer-state.js';
import { codeOf } from '../../helpers/kafka-error.js';
import { captureLogger, decodeBatches, makeTempDir, openManager } from './helpers.js';

const seqs = new Map<number, number>();
function txnBatch(producerId: number, values: string[], epoch = 0, transactional = true): Buffer {
  const seq = seqs.get(producerId) ?? 0;
  seqs.set(producerId, seq + values.length);
  return buildRecordBatch(
    values.map((value) => ({ value })),
    { producerId, producerEpoch: epoch, baseSequence: seq, transactional, now: 1_000 },
  );
}
const marker = (producerId: number, commit: boolean, epoch = 0, coordinatorEpoch = 0) => ({ producerId, producerEpoch: epoch, coordinatorEpoch, commit, now: 2_000 });
/** Record values, a control batch as null. */
const valuesOf = (buf: Buffer) => decodeBatches(buf).flatMap((b) => (b.attributes & 0x20 ? [null] : b.records.map((r) => r.value)));

/** The 34-byte entries of a .txnindex file. */
function parseTxnIndex(buf: Buffer) {
  const out = [];
  for (let p = 0; p + 34 <= buf.length; p += 34) {
    out.push({
      version: buf.readInt16BE(p),
      producerId: Number(buf.readBigInt64BE(p + 2)),
      firstOffset: Number(buf.readBigInt64BE(p + 10)),
      lastOffset: Number(buf.readBigInt64BE(p + 18)),
      lastStableOffset: Number(buf.readBigInt64BE(p + 26)),
    });
  }
  return out;
}

describe('ProducerStateManager: open transactions and markers', () => {
  it('a transactional batch opens a transaction; COMMIT ends it; ABORT yields the index entry', () => {
    const s = new ProducerStateManager();
    const a = buildRecordBatch([{ value: 'a' }], { producerId: 1, producerEpoch: 0, baseSequence: 0, transactional: true, baseOffset: 0 });
    const b = buildRecordBatch([{ value: 'b' }, { value: 'b' }], { producerId: 2, producerEpoch: 0, baseSequence: 0, transactional: true, baseOffset: 1 });
    expect(s.update(a)).toBeUndefined();
    expect(s.update(b)).toBeUndefined();
    expect(s.firstUnstableOffset(3)).toBe(0);
    expect(s.openTransactions()).toEqual([{ producerId: 1, firstOffset: 0 }, { producerId: 2, firstOffset: 1 }]);
    // producer 1 aborts at offset 3: producer 2's transaction (first offset 1) is still open
    expect(s.update(buildControlBatch('ABORT', { producerId: 1, producerEpoch: 0, coordinatorEpoch: 5, baseOffset: 3 }))).toEqual([
      { producerId: 1, firstOffset: 0, lastOffset: 3, lastStableOffset: 1 },
    ]);
    expect(s.firstUnstableOffset(4)).toBe(1);
    expect(s.entry(1)).toMatchObject({ coordinatorEpoch: 5, currentTxnFirstOffset: -1 });
    expect(s.update(buildControlBatch('COMMIT', { producerId: 2, producerEpoch: 0, coordinatorEpoch: 5, baseOffset: 4 }))).toBeUndefined();
    expect(s.firstUnstableOffset(5)).toBe(5);
    // an abort of a transaction with no records here: nothing to index
    expect(s.update(buildControlBatch('ABORT', { producerId: 1, producerEpoch: 0, coordinatorEpoch: 5, baseOffset: 5 }))).toBeUndefined();
  });

  it('a closed transaction whose marker the high watermark has not passed still holds the LSO', () => {
    const s = new ProducerStateManager();
    s.update(buildRecordBatch([{ value: 'a' }], { producerId: 1, producerEpoch: 0, baseSequence: 0, transactional: true, baseOffset: 10 }));
    s.update(buildControlBatch('COMMIT', { producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 11 }));
    expect(s.firstUnstableOffset(11)).toBe(10); // the marker (offset 11) is not below the high watermark yet
    expect(s.firstUnstableOffset(12)).toBe(12);
  });

  it('markers: an older producer epoch is INVALID_PRODUCER_EPOCH, an older coordinator epoch TRANSACTION_COORDINATOR_FENCED; a newer epoch fences data', () => {
    const s = new ProducerStateManager();
    s.update(buildRecordBatch([{ value: 'a' }], { producerId: 1, producerEpoch: 3, baseSequence: 0, transactional: true, baseOffset: 0 }));
    expect(codeOf(() => s.checkMarker(1, 2, 0))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    s.checkMarker(1, 3, 0);
    // the coordinator aborts a timed-out transaction with the epoch bumped
    s.update(buildControlBatch('ABORT', { producerId: 1, producerEpoch: 4, coordinatorEpoch: 7, baseOffset: 1 }));
    expect(codeOf(() => s.checkMarker(1, 4, 6))).toBe(ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    // the zombie (epoch 3) can no longer write
    const zombie = buildRecordBatch([{ value: 'z' }], { producerId: 1, producerEpoch: 3, baseSequence: 1, transactional: true });
    expect(codeOf(() => s.checkAppend(zombie))).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  it('a non-transactional batch while the producer has a transaction open is INVALID_TXN_STATE', () => {
    const s = new ProducerStateManager();
    s.update(buildRecordBatch([{ value: 'a' }], { producerId: 1, producerEpoch: 0, baseSequence: 0, transactional: true, baseOffset: 0 }));
    const plain = buildRecordBatch([{ value: 'b' }], { producerId: 1, producerEpoch: 0, baseSequence: 1 });
    expect(codeOf(() => s.checkAppend(plain))).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  it('the snapshot carries open transactions and coordinator epochs; producers with an open transaction never expire', () => {
    const s = new ProducerStateManager();
    s.update(buildRecordBatch([{ value: 'a' }], { producerId: 9, producerEpoch: 1, baseSequence: 0, transactional: true, baseOffset: 40, now: 1_000 }));
    s.update(buildRecordBatch([{ value: 'b' }], { producerId: 8, producerEpoch: 1, baseSequence: 0, transactional: true, baseOffset: 41, now: 1_000 }));
    s.update(buildControlBatch('ABORT', { producerId: 8, producerEpoch: 2, coordinatorEpoch: 3, baseOffset: 42, timestamp: 1_000 }));
    const t = new ProducerStateManager();
    t.load(s.serialize());
    expect(t.entry(9)).toMatchObject({ epoch: 1, currentTxnFirstOffset: 40, coordinatorEpoch: -1 });
    expect(t.entry(8)).toMatchObject({ epoch: 2, currentTxnFirstOffset: -1, coordinatorEpoch: 3, batches: [] });
    expect(t.firstUnstableOffset(100)).toBe(40);
    expect(t.expire(1_000 + 86_400_001)).toBe(1); // producer 8 goes, 9 holds an open transaction
    expect(t.entry(9)).toBeDefined();
  });
});

describe('PartitionLog: LSO, markers, the transaction index, read_committed', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const managers: LogManager[] = [];
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
    seqs.clear();
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.close().catch(() => {});
    await cleanup();
  });
  const open = async (config = {}) => {
    const m = await openManager(dir, { config, logger: captureLogger() });
    managers.push(m);
    return m;
  };

  /** p1 aborts [0..1], p2 commits [2], p3 stays open from 4; plain record at 6. */
  async function fill(log: PartitionLog): Promise<void> {
    await log.append(txnBatch(1, ['a1', 'a2'])); // 0-1
    await log.append(txnBatch(2, ['c1'])); // 2
    await log.appendControlMarker(marker(1, false)); // 3 ABORT
    await log.append(txnBatch(3, ['o1'])); // 4
    await log.appendControlMarker(marker(2, true)); // 5 COMMIT
    await log.append(buildRecordBatch([{ value: 'plain' }], { now: 1_000 })); // 6 (record time near the others': no segment.ms roll)
  }

  it('holds the LSO at the oldest open transaction; read_committed stops there and lists the aborted transactions', async () => {
    const m = await open();
    const log = await m.create('t', 0);
    await log.append(txnBatch(1, ['a1', 'a2']));
    expect(log.lastStableOffset).toBe(0);
    expect(log.highWatermark).toBe(2);
    await fill2(log);
    expect(log.logEndOffset).toBe(7);
    expect(log.lastStableOffset).toBe(4);
    const committed = await log.read(0, 1 << 20, { readCommitted: true });
    expect(committed.lastStableOffset).toBe(4);
    expect(valuesOf(committed.records)).toEqual(['a1', 'a2', 'c1', null]);
    expect(committed.abortedTransactions).toEqual([{ producerId: 1, firstOffset: 0 }]);
    const uncommitted = await log.read(0, 1 << 20);
    expect(uncommitted.abortedTransactions).toBeUndefined();
    expect(uncommitted.lastStableOffset).toBe(4);
    expect(valuesOf(uncommitted.records)).toEqual(['a1', 'a2', 'c1', null, 'o1', null, 'plain']);
    // at the LSO: nothing, an empty list
    expect(await log.read(4, 1 << 20, { readCommitted: true })).toMatchObject({ records: Buffer.alloc(0), abortedTransactions: [] });
    // past the abort marker: no aborted transaction applies
    expect((await log.read(3, 1 << 20, { readCommitted: true })).abortedTransactions).toEqual([{ producerId: 1, firstOffset: 0 }]);
    await log.appendControlMarker(marker(3, false)); // 7 ABORT of p3
    expect(log.lastStableOffset).toBe(8);
    const all = await log.read(4, 1 << 20, { readCommitted: true });
    expect(valuesOf(all.records)).toEqual(['o1', null, 'plain', null]);
    expect(all.abortedTransactions).toEqual([{ producerId: 3, firstOffset: 4 }]);
    // the .txnindex file: Kafka's 34-byte entries, the LSO after each abort
    expect(parseTxnIndex(await readFile(`${log.dir}/00000000000000000000.txnindex`))).toEqual([
      { version: 0, producerId: 1, firstOffset: 0, lastOffset: 3, lastStableOffset: 2 },
      { version: 0, producerId: 3, firstOffset: 4, lastOffset: 7, lastStableOffset: 8 },
    ]);
  });

  async function fill2(log: PartitionLog): Promise<void> {
    await log.append(txnBatch(2, ['c1'])); // 2
    await log.appendControlMarker(marker(1, false)); // 3 ABORT
    await log.append(txnBatch(3, ['o1'])); // 4
    await log.appendControlMarker(marker(2, true)); // 5 COMMIT
    await log.append(buildRecordBatch([{ value: 'plain' }], { now: 1_000 })); // 6 (record time near the others': no segment.ms roll)
  }

  it('refuses stale markers; a segment without aborts has no .txnindex file', async () => {
    const m = await open();
    const log = await m.create('t', 0);
    await log.append(txnBatch(1, ['x'], 2));
    await expect(log.appendControlMarker(marker(1, true, 1))).rejects.toMatchObject({ code: ErrorCode.INVALID_PRODUCER_EPOCH });
    await log.appendControlMarker(marker(1, true, 2, 4));
    await expect(log.appendControlMarker(marker(1, true, 2, 3))).rejects.toMatchObject({ code: ErrorCode.TRANSACTION_COORDINATOR_FENCED });
    expect(log.lastStableOffset).toBe(2);
    expect((await readdir(log.dir)).filter((f) => f.endsWith('.txnindex'))).toEqual([]);
  });

  it('aborted transactions spanning segments: each entry in the segment of its marker, collected across segments', async () => {
    const m = await open({ segmentBytes: 400 });
    const log = await m.create('t', 0);
    await log.append(txnBatch(1, ['a'])); // 0
    for (let i = 0; i < 6; i++) await log.append(buildRecordBatch([{ value: `filler-${i}-${'x'.repeat(60)}` }]));
    await log.appendControlMarker(marker(1, false)); // 7
    expect(log.segmentCount).toBeGreaterThan(1);
    const bases = log.segmentBaseOffsets();
    const markerSegment = bases.filter((b) => b <= 7).at(-1)!;
    expect(markerSegment).toBeGreaterThan(0);
    const files = (await readdir(log.dir)).filter((f) => f.endsWith('.txnindex'));
    expect(files).toEqual([`${String(markerSegment).padStart(20, '0')}.txnindex`]);
    const r = await log.read(0, 1 << 20, { readCommitted: true });
    expect(r.abortedTransactions).toEqual([{ producerId: 1, firstOffset: 0 }]);
  });

  it('a clean restart keeps the open transactions (snapshot) and the index; a crash rebuilds the index from the log', async () => {
    const m1 = await open();
    const log1 = await m1.create('t', 0);
    await fill(log1);
    expect(log1.lastStableOffset).toBe(4);
    const indexPath = `${log1.dir}/00000000000000000000.txnindex`;
    const indexBytes = await readFile(indexPath);
    await m1.close();
    managers.length = 0;

    const m2 = await open();
    const log2 = m2.get('t', 0)!;
    expect(log2.lastStableOffset).toBe(4);
    expect((await log2.read(0, 1 << 20, { readCommitted: true })).abortedTransactions).toEqual([{ producerId: 1, firstOffset: 0 }]);
    await log2.append(txnBatch(4, ['late'])); // 7
    await log2.appendControlMarker(marker(4, false)); // 8
    const indexBefore = await readFile(indexPath);
    expect(parseTxnIndex(indexBefore).map((e) => e.producerId)).toEqual([1, 4]);
    expect(indexBefore.subarray(0, 34)).toEqual(indexBytes);
    // crash: no close (no snapshot at the end, no clean-shutdown marker); the index file and the
    // snapshots are gone too: everything comes back from the batch headers
    for (const f of await readdir(log2.dir)) if (f.endsWith('.snapshot') || f.endsWith('.txnindex')) await rm(`${log2.dir}/${f}`);
    managers.length = 0;
    const m3 = await open();
    const log3 = m3.get('t', 0)!;
    expect(log3.lastStableOffset).toBe(4);
    expect(log3.producerState.openTransactions()).toEqual([{ producerId: 3, firstOffset: 4 }]);
    expect(await readFile(indexPath)).toEqual(indexBefore);
    const r = await log3.read(0, 1 << 20, { readCommitted: true });
    // Kafka's upper bound is the next index entry past the bytes read, here the log end: p4's
    // transaction (7..8) is listed although the read stopped at the LSO (4), as Kafka lists it.
    expect(r.abortedTransactions).toEqual([{ producerId: 1, firstOffset: 0 }, { producerId: 4, firstOffset: 7 }]);
    // the transaction still open at the crash ends normally
    await log3.appendControlMarker(marker(3, true));
    expect(log3.lastStableOffset).toBe(log3.logEndOffset);
  });

  it('a damaged .txnindex after a clean stop is rebuilt', async () => {
    const m1 = await open();
    const log1 = await m1.create('t', 0);
    await fill(log1);
    const indexPath = `${log1.dir}/00000000000000000000.txnindex`;
    const good = await readFile(indexPath);
    await m1.close();
    managers.length = 0;
    await writeFile(indexPath, Buffer.concat([good, Buffer.from([1, 2, 3])]));
    const m2 = await open();
    const log2 = m2.get('t', 0)!;
    expect(await readFile(indexPath)).toEqual(good);
    expect(log2.lastStableOffset).toBe(4);
  });

  it('a follower truncating below a marker drops its index entry and reopens the transaction', async () => {
    const m = await open();
    const log = await m.create('t', 0);
    await fill(log);
    await log.truncateTo(3, { belowHighWatermark: true }); // the ABORT at 3 goes
    expect(log.logEndOffset).toBe(3);
    expect(log.lastStableOffset).toBe(0); // p1's transaction is open again
    expect((await log.read(0, 1 << 20, { readCommitted: true })).records.length).toBe(0);
    await expect(readFile(`${log.dir}/00000000000000000000.txnindex`)).resolves.toHaveLength(0);
    // the follower appends the leader's marker again
    await log.appendAsFollower(buildControlBatch('ABORT', { producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 3, timestamp: 2_000 }));
    expect(log.lastStableOffset).toBe(2); // p2's transaction (offset 2) is still open here
    expect(parseTxnIndex(await readFile(`${log.dir}/00000000000000000000.txnindex`))).toEqual([
      { version: 0, producerId: 1, firstOffset: 0, lastOffset: 3, lastStableOffset: 2 },
    ]);
  });
});
