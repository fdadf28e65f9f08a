import { readdir } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import type { LogManager } from '../../../src/storage/index.js';
import { buildBatch, decodeBatches, makeTempDir, openManager, valuesBatch } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let manager: LogManager | undefined;
let clock = 0;
const now = () => clock;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  clock = 1_700_000_000_000;
});
afterEach(async () => {
  await manager?.close().catch(() => {});
  manager = undefined;
  await cleanup();
});

const HOUR = 3_600_000;

async function outOfRange(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KafkaError);
  expect((err as KafkaError).code).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
}

/** Polls until `check` holds (deletions finish on timers and async renames). */
async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('retention by time', () => {
  it('deletes segments whose newest record is older than retention.ms and advances the log start offset', async () => {
    manager = await openManager(dir, { now, config: { segmentBytes: 1024, retentionMs: 10 * HOUR } });
    const log = await manager.create('rt', 0);
    // 40 batches an hour apart (record time), ~100 bytes each -> several segments.
    for (let i = 0; i < 40; i++) await log.append(buildBatch([{ value: `v${i}`.padEnd(40, '.'), timestamp: clock - (40 - i) * HOUR }]));
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(3);
    await manager.runMaintenance();
    // Records older than 10h: offsets 0..29 (timestamps now-40h .. now-11h); a segment goes only when all of it is.
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(log.logStartOffset).toBeLessThanOrEqual(30);
    expect(log.segmentBaseOffsets()[0]).toBe(log.logStartOffset);
    await outOfRange(log.read(0, 1000));
    await outOfRange(log.read(log.logStartOffset - 1, 1000));
    expect(decodeBatches((await log.read(log.logStartOffset, 1000)).records)[0].baseOffset).toBe(log.logStartOffset);
    await eventually(async () => !(await readdir(log.dir)).some((f) => f.includes('deleted')));
    const files = await readdir(log.dir);
    expect(files.filter((f) => f.endsWith('.log')).length).toBe(log.segmentCount);
  });

  it('rolls the active segment first when all of the log has expired, keeping the log end offset', async () => {
    manager = await openManager(dir, { now, config: { segmentBytes: 1024, retentionMs: HOUR } });
    const log = await manager.create('all', 0);
    for (let i = 0; i < 30; i++) await log.append(valuesBatch(`x${i}-`, 2, { timestamp: clock }));
    const leo = log.logEndOffset;
    clock += 2 * HOUR;
    await manager.runMaintenance();
    expect(log.logStartOffset).toBe(leo);
    expect(log.logEndOffset).toBe(leo);
    expect(log.segmentBaseOffsets()).toEqual([leo]);
    expect(log.size).toBe(0);
    await outOfRange(log.read(leo - 1, 1000));
    expect((await log.read(leo, 1000)).records.length).toBe(0);
    expect((await log.append(valuesBatch('new', 1))).baseOffset).toBe(leo);
    // The start offset is checkpointed at maintenance, so it survives a restart.
    await manager.close();
    manager = await openManager(dir, { now, config: { segmentBytes: 1024, retentionMs: HOUR } });
    expect(manager.get('all', 0)!.logStartOffset).toBe(leo);
    expect(manager.get('all', 0)!.logEndOffset).toBe(leo + 1);
  });

  it('uses the file time for batches without timestamps, and keeps everything with retention.ms -1', async () => {
    manager = await openManager(dir, { now, config: { segmentBytes: 1024, retentionMs: -1 } });
    const log = await manager.create('forever', 0);
    for (let i = 0; i < 30; i++) await log.append(valuesBatch(`x${i}-`, 2, { timestamp: 1 }));
    await manager.runMaintenance();
    expect(log.logStartOffset).toBe(0);
    log.updateConfig({ ...log.config, retentionMs: HOUR });
    await manager.runMaintenance();
    expect(log.logStartOffset).toBe(log.logEndOffset);
  });
});

describe('retention by size', () => {
  it('deletes the oldest segments while the log is over retention.bytes', async () => {
    manager = await openManager(dir, { now, config: { segmentBytes: 1000, retentionBytes: 2500 } });
    const log = await manager.create('rb', 0);
    for (let i = 0; i < 60; i++) await log.append(valuesBatch(`s${i}-`, 1, { pad: 40 }));
    const total = log.size;
    expect(total).toBeGreaterThan(5000);
    await manager.runMaintenance();
    // As Kafka: a segment goes only if the log stays at or above retention.bytes without it.
    expect(log.size).toBeGreaterThanOrEqual(2500);
    expect(log.size).toBeLessThan(2500 + 1000);
    expect(log.logStartOffset).toBe(log.segmentBaseOffsets()[0]);
    await outOfRange(log.read(0, 100));
    expect(decodeBatches((await log.read(log.logStartOffset, 100)).records).length).toBe(1);
  });
});

describe('segment roll', () => {
  it('rolls when segment.ms has passed since the first batch (record time)', async () => {
    manager = await openManager(dir, { now, config: { segmentMs: 1000 } });
    const log = await manager.create('roll', 0);
    await log.append(buildBatch([{ value: 'a', timestamp: 10_000 }]));
    await log.append(buildBatch([{ value: 'b', timestamp: 10_900 }]));
    expect(log.segmentBaseOffsets()).toEqual([0]);
    await log.append(buildBatch([{ value: 'c', timestamp: 11_001 }]));
    expect(log.segmentBaseOffsets()).toEqual([0, 2]);
  });

  it('rolls by segment.bytes and when the offset index is full', async () => {
    manager = await openManager(dir, { now, config: { segmentBytes: 1 << 20, indexIntervalBytes: 1, segmentIndexBytes: 8 * 4 } });
    const log = await manager.create('idxfull', 0);
    for (let i = 0; i < 12; i++) await log.append(valuesBatch(`i${i}`, 1));
    // One index entry per batch after the first, four entries per segment -> a roll every 5 batches.
    expect(log.segmentBaseOffsets()).toEqual([0, 5, 10]);
  });
});

describe('deleted segment files', () => {
  it('renames to *.deleted and unlinks after file.delete.delay.ms, while a read in flight still succeeds', async () => {
    manager = await openManager(dir, { now, config: { segmentBytes: 1024, fileDeleteDelayMs: 60_000 } });
    const log = await manager.create('delay', 0);
    for (let i = 0; i < 30; i++) await log.append(valuesBatch(`d${i}-`, 2, { pad: 20 }));
    const reading = log.read(0, 1 << 20);
    await log.deleteRecordsBefore(log.segmentBaseOffsets()[2]);
    expect(decodeBatches((await reading).records)[0].baseOffset).toBe(0);
    await eventually(async () => (await readdir(log.dir)).filter((f) => f.endsWith('.log.deleted')).length === 2);
    await manager.close();
    manager = undefined;
    expect((await readdir(log.dir)).some((f) => f.includes('.deleted'))).toBe(false);
  });
});

describe('flush', () => {
  it('flush.ms flushes from maintenance; flush.messages=1 flushes every append', async () => {
    manager = await openManager(dir, { now, config: { flushIntervalMs: 1000 } });
    const log = await manager.create('fl', 0);
    await log.append(valuesBatch('a', 5));
    expect(log.recoveryPoint).toBe(0);
    await manager.runMaintenance();
    expect(log.recoveryPoint).toBe(0);
    clock += 1001;
    await manager.runMaintenance();
    expect(log.recoveryPoint).toBe(5);
    log.updateConfig({ ...log.config, flushIntervalMessages: 1 });
    await log.append(valuesBatch('b', 2));
    expect(log.recoveryPoint).toBe(7);
    await log.flush();
    expect(log.recoveryPoint).toBe(7);
  });
});
