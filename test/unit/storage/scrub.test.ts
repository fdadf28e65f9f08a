// The scrub's bounds: each tick reads about its budget (never more than the budget plus one batch),
// only from sealed segments, only bytes not yet checked; a pass ends (a tick reads 0) once every
// sealed segment is checked, and what it found is refused to readers and counted once.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { LogManager } from '../../../src/storage/index.js';
import { SealedSegmentScrub } from '../../../src/storage/scrub.js';
import { captureLogger, countingFs, makeTempDir, openManager, valuesBatch } from './helpers.js';

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

it('reads about its budget per tick, only unchecked sealed bytes, and ends its pass', async () => {
  const config = { segmentBytes: 8192, indexIntervalBytes: 512 };
  const m = await openManager(dir, { config });
  const log0 = await m.create('s', 0);
  let biggest = 0;
  for (let i = 0; i < 200; i++) {
    const batch = valuesBatch(`b${i}-`, 1 + (i % 3), { pad: 40 + (i % 7) * 30 });
    biggest = Math.max(biggest, batch.length);
    await log0.append(batch);
  }
  const bases = log0.segmentBaseOffsets();
  expect(bases.length).toBeGreaterThan(4);
  await m.close();

  // A value byte of the first batch of the third segment (before its last index entry).
  const path = join(dir, 's-0', `${String(bases[2]).padStart(20, '0')}.log`);
  const bytes = await readFile(path);
  const size = 12 + bytes.readInt32BE(8);
  bytes[size - 3] ^= 0x04;
  await writeFile(path, bytes);

  const fs = countingFs();
  const logger = captureLogger();
  const m2 = await openManager(dir, { config, fs, logger });
  managers.push(m2);
  const log = m2.get('s', 0)!;
  const scrub = new SealedSegmentScrub(() => m2.all(), logger);
  const budget = 1000;
  const ticks: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const readBefore = fs.bytesRead;
    const n = await scrub.tick(budget);
    expect(fs.bytesRead - readBefore).toBeLessThanOrEqual(budget + biggest);
    ticks.push(n);
    if (n === 0) break;
  }
  expect(ticks.at(-1)).toBe(0);
  expect(ticks.length).toBeGreaterThan(5);
  // Sealed segments only, and only what start-up did not check: less than the whole sealed data.
  let sealedBytes = 0;
  for (const base of bases.slice(0, -1)) sealedBytes += (await readFile(join(dir, 's-0', `${String(base).padStart(20, '0')}.log`))).length;
  expect(scrub.totals.bytes).toBeLessThan(sealedBytes);
  expect(scrub.totals.bytes).toBeGreaterThan(sealedBytes / 2);
  expect(scrub.totals).toMatchObject({ segments: bases.length - 1, corrupt: 1 });
  expect(logger.lines.filter((l) => l.includes('CRC-32C mismatch'))).toEqual([expect.stringContaining(`of ${path}`)]);

  // A second pass has nothing to do; the batch is refused at once, logged no more.
  expect(await scrub.tick(budget)).toBe(0);
  await expect(log.read(bases[2], 1 << 20)).rejects.toMatchObject({ code: 56 });
  expect(logger.lines.filter((l) => l.includes('CRC-32C mismatch'))).toHaveLength(1);
});
