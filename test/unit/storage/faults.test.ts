// Disk errors injected through the FileSystem seam: the failed write is answered with
// KAFKA_STORAGE_ERROR, never shows up later (not even after a crash), and writes resume afterwards.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import type { LogManager, PartitionLog } from '../../../src/storage/index.js';
import { captureLogger, decodeBatches, faultyFs, makeTempDir, openManager, recordsOf, trackingFs, valuesBatch } from './helpers.js';

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

async function storageError(p: Promise<unknown>): Promise<KafkaError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KafkaError);
  expect((err as KafkaError).code).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  return err as KafkaError;
}

async function setup(config: Record<string, number> = {}) {
  const tracking = trackingFs();
  const fs = faultyFs(tracking);
  const logger = captureLogger();
  const m = await openManager(dir, { fs, logger, config: { segmentBytes: 4096, ...config } });
  managers.push(m);
  const log = await m.create('f', 0);
  const crash = async () => {
    managers.splice(managers.indexOf(m), 1);
    await tracking.closeAll();
  };
  return { m, log, fs, logger, crash };
}

async function values(log: PartitionLog): Promise<string[]> {
  const out: string[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const { records } = await log.read(offset, 1 << 20);
    out.push(...recordsOf(records).filter((r) => r.offset >= offset).map((r) => r.value!));
    offset = decodeBatches(records).at(-1)!.lastOffset + 1;
  }
  return out;
}

const activeLogFile = (log: PartitionLog) => join(log.dir, `${String(log.segmentBaseOffsets().at(-1)).padStart(20, '0')}.log`);

describe('ENOSPC / EIO on append', () => {
  it('answers KAFKA_STORAGE_ERROR, keeps serving reads, and resumes at the same offset', async () => {
    const { log, fs, crash } = await setup();
    await log.append(valuesBatch('a', 3));
    const sizeBefore = (await stat(activeLogFile(log))).size;
    fs.fault = (op, path) => (op === 'pwrite' && path.endsWith('.log') ? 'fail' : undefined);
    const err = await storageError(log.append(valuesBatch('lost', 2)));
    expect(err.message).toContain('ENOSPC');
    expect(log.logEndOffset).toBe(3);
    expect(await values(log)).toEqual(['a0', 'a1', 'a2']);
    expect((await stat(activeLogFile(log))).size).toBe(sizeBefore);
    fs.fault = undefined;
    expect((await log.append(valuesBatch('b', 2))).baseOffset).toBe(3);
    expect(await values(log)).toEqual(['a0', 'a1', 'a2', 'b0', 'b1']);
    await crash();
    const m2 = await openManager(dir, { config: { segmentBytes: 4096 } });
    managers.push(m2);
    expect(await values(m2.get('f', 0)!)).toEqual(['a0', 'a1', 'a2', 'b0', 'b1']);
  });

  it('cuts a partially written batch back out', async () => {
    const { log, fs, crash } = await setup();
    await log.append(valuesBatch('a', 2));
    const sizeBefore = (await stat(activeLogFile(log))).size;
    fs.fault = (op, path) => (op === 'pwrite' && path.endsWith('.log') ? 'partial' : undefined);
    await storageError(log.append(valuesBatch('half', 4, { pad: 100 })));
    expect((await stat(activeLogFile(log))).size).toBe(sizeBefore);
    fs.fault = undefined;
    await crash();
    const m2 = await openManager(dir, { config: { segmentBytes: 4096 } });
    managers.push(m2);
    const again = m2.get('f', 0)!;
    expect(again.logEndOffset).toBe(2);
    expect((await again.append(valuesBatch('c', 1))).baseOffset).toBe(2);
  });

  it('never resurrects a failed write even when cutting it back also failed', async () => {
    const { log, fs, crash } = await setup();
    await log.append(valuesBatch('a', 1));
    // The whole batch reaches the file, then the write "fails" (e.g. EIO reported late), and the
    // truncate that should undo it fails too.
    const sneaky = valuesBatch('ghost', 2);
    let failOnce = true;
    fs.fault = (op, path) => {
      if (!path.endsWith('.log')) return undefined;
      if (op === 'truncate') return 'fail';
      if (op === 'fdatasync' && failOnce) return ((failOnce = false), 'fail');
      return undefined;
    };
    log.updateConfig({ ...log.config, flushIntervalMessages: 1 });
    await storageError(log.append(sneaky));
    expect(log.logEndOffset).toBe(1);
    // While the tail cannot be cut, appends keep failing rather than stacking on top of it.
    await storageError(log.append(valuesBatch('b', 1)));
    fs.fault = undefined;
    expect((await log.append(valuesBatch('b', 1))).baseOffset).toBe(1);
    expect(await values(log)).toEqual(['a0', 'b0']);
    await crash();
    const m2 = await openManager(dir, { config: { segmentBytes: 4096 } });
    managers.push(m2);
    expect(await values(m2.get('f', 0)!)).toEqual(['a0', 'b0']);
  });

  it('a failed fdatasync with flush.messages=1 is not acknowledged', async () => {
    const { log, fs } = await setup({ flushIntervalMessages: 1 });
    await log.append(valuesBatch('a', 1));
    fs.fault = (op, path) => (op === 'fdatasync' && path.endsWith('.log') ? 'fail' : undefined);
    await storageError(log.append(valuesBatch('x', 1)));
    expect(log.logEndOffset).toBe(1);
    fs.fault = undefined;
    expect((await log.append(valuesBatch('b', 1))).baseOffset).toBe(1);
    expect(await values(log)).toEqual(['a0', 'b0']);
    expect(log.recoveryPoint).toBe(2);
  });

  it('fails the append when the new segment cannot be created, then rolls once space is back', async () => {
    const { log, fs } = await setup({ segmentBytes: 1024 });
    // Existing files are open already; only creating the next segment's .log fails.
    fs.fault = (op, path) => (op === 'open' && path.endsWith('.log') ? 'fail' : undefined);
    let failed: unknown;
    for (let i = 0; i < 100 && !failed; i++) await log.append(valuesBatch('s', 2, { pad: 50 })).catch((err) => (failed = err));
    expect((failed as KafkaError).code).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(log.segmentCount).toBe(1);
    const leo = log.logEndOffset;
    fs.fault = undefined;
    expect((await log.append(valuesBatch('t', 2, { pad: 50 }))).baseOffset).toBe(leo);
    expect(log.segmentBaseOffsets()).toEqual([0, leo]);
    expect((await values(log)).at(-1)).toBe(`t1${'x'.repeat(50)}`);
  });

  it('index write failures do not fail appends; flush reports them until the disk recovers', async () => {
    const { log, fs, logger } = await setup({ segmentBytes: 1024, indexIntervalBytes: 64 });
    fs.fault = (op, path) => (op === 'pwrite' && path.endsWith('index') ? 'fail' : undefined);
    for (let i = 0; i < 40; i++) await log.append(valuesBatch(`i${i}-`, 1, { pad: 40 }));
    expect(log.segmentCount).toBeGreaterThan(2);
    expect(logger.lines.some((l) => l.startsWith('WARN') && l.includes('indexes'))).toBe(true);
    await storageError(log.flush());
    const rp = log.recoveryPoint;
    expect(rp).toBe(0);
    fs.fault = undefined;
    await log.flush();
    expect(log.recoveryPoint).toBe(log.logEndOffset);
    expect((await values(log)).length).toBe(40);
  });

  it('DeleteRecords answers KAFKA_STORAGE_ERROR when its checkpoint cannot be written', async () => {
    const { log, fs } = await setup();
    await log.append(valuesBatch('a', 5));
    fs.fault = (op, path) => (op === 'open' && path.includes('checkpoint') ? 'fail' : undefined);
    await storageError(log.deleteRecordsBefore(2));
    fs.fault = undefined;
    expect(await log.deleteRecordsBefore(3)).toBe(3);
  });

  it('opens on a full disk, serves reads, and takes writes again once space is back', async () => {
    const { log: first, crash } = await setup({ segmentBytes: 1024 });
    for (let i = 0; i < 20; i++) await first.append(valuesBatch(`o${i}-`, 1, { pad: 40 }));
    const before = await values(first);
    await crash();
    // Force index rebuilds (which need writes) on the next open.
    const { unlink } = await import('node:fs/promises');
    for (const base of first.segmentBaseOffsets()) await unlink(join(first.dir, `${String(base).padStart(20, '0')}.index`));
    const fs = faultyFs();
    fs.fault = (op) => (op === 'pwrite' ? 'fail' : undefined);
    const logger = captureLogger();
    const m2 = await openManager(dir, { fs, logger, config: { segmentBytes: 1024 } });
    managers.push(m2);
    const log = m2.get('f', 0)!;
    expect(await values(log)).toEqual(before);
    // The rebuilt indexes could not be written (the checkpoints are not rewritten: nothing in them changed).
    expect(logger.lines.some((l) => l.startsWith('WARN') && l.includes('rebuilt indexes'))).toBe(true);
    await storageError(log.append(valuesBatch('full', 1)));
    fs.fault = undefined;
    expect((await log.append(valuesBatch('room', 1))).baseOffset).toBe(20);
    await log.flush();
    expect(log.recoveryPoint).toBe(21);
  });
});
