// The leader-epoch cache against Kafka's LeaderEpochFileCache semantics (a table of cases), the
// leader-epoch-checkpoint file byte for byte, and the cache kept by a partition log: stamped into
// the batches, persisted before the records, checked and repaired when the log is loaded.
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LeaderEpochCache,
  formatLeaderEpochCheckpoint,
  parseLeaderEpochCheckpoint,
} from '../../../src/storage/leader-epoch-cache.js';
import type { LogManager } from '../../../src/storage/index.js';
import { captureLogger, decodeBatches, makeTempDir, openManager, valuesBatch } from './helpers.js';

const cacheOf = (...entries: Array<[number, number]>) => new LeaderEpochCache(entries.map(([epoch, startOffset]) => ({ epoch, startOffset })));
const pairs = (c: LeaderEpochCache) => c.entries().map((e) => [e.epoch, e.startOffset]);

describe('LeaderEpochCache semantics (as Kafka LeaderEpochFileCache)', () => {
  it.each([
    // [entries, requested epoch, log end, expected [epoch, endOffset]]
    { entries: [], requested: 0, leo: 0, expected: [-1, -1] },
    { entries: [[2, 6]], requested: -1, leo: 10, expected: [-1, -1] }, // UNDEFINED_EPOCH
    { entries: [[2, 6]], requested: 2, leo: 10, expected: [2, 10] }, // latest epoch: the log end
    { entries: [[2, 6]], requested: 3, leo: 10, expected: [-1, -1] }, // newer than all
    { entries: [[2, 6]], requested: 1, leo: 10, expected: [1, 6] }, // older than all: first start
    { entries: [[1, 0], [3, 5], [6, 9]], requested: 2, leo: 20, expected: [1, 5] }, // a gap: floor epoch, next start
    { entries: [[1, 0], [3, 5], [6, 9]], requested: 3, leo: 20, expected: [3, 9] },
    { entries: [[1, 0], [3, 5], [6, 9]], requested: 5, leo: 20, expected: [3, 9] },
    { entries: [[1, 0], [3, 5], [6, 9]], requested: 6, leo: 20, expected: [6, 20] },
    { entries: [[1, 0], [3, 5], [6, 9]], requested: 0, leo: 20, expected: [0, 0] },
    { entries: [[1, 0], [3, 5], [6, 9]], requested: 7, leo: 20, expected: [-1, -1] },
  ])('endOffsetFor($requested) with $entries, log end $leo -> $expected', ({ entries, requested, leo, expected }) => {
    const { epoch, endOffset } = cacheOf(...(entries as Array<[number, number]>)).endOffsetFor(requested, leo);
    expect([epoch, endOffset]).toEqual(expected);
  });

  it.each([
    { entries: [[1, 5]], assign: [1, 7], changed: false, after: [[1, 5]] }, // same epoch, later offset: kept
    { entries: [[1, 5]], assign: [1, 3], changed: true, after: [[1, 3]] }, // same epoch, earlier offset: moved
    { entries: [[1, 5]], assign: [2, 7], changed: true, after: [[1, 5], [2, 7]] },
    { entries: [[1, 5], [2, 7]], assign: [3, 7], changed: true, after: [[1, 5], [3, 7]] }, // same start: older goes
    { entries: [[1, 5], [4, 7]], assign: [2, 9], changed: true, after: [[1, 5], [2, 9]] }, // lower epoch: newer ones go
    { entries: [[1, 5], [2, 7]], assign: [3, 6], changed: true, after: [[1, 5], [3, 6]] }, // earlier start: later ones go
    { entries: [[1, 5], [2, 7]], assign: [0, 0], changed: true, after: [[0, 0]] },
  ])('assign $assign to $entries -> $after', ({ entries, assign, changed, after }) => {
    const c = cacheOf(...(entries as Array<[number, number]>));
    expect(c.assign(assign[0], assign[1])).toBe(changed);
    expect(pairs(c)).toEqual(after);
  });

  it('refuses negative epochs and offsets, as Kafka does', () => {
    expect(() => cacheOf().assign(-1, 0)).toThrow(/invalid leader epoch entry/);
    expect(() => cacheOf().assign(0, -1)).toThrow(/invalid leader epoch entry/);
  });

  it.each([
    { entries: [[0, 0], [1, 5], [2, 9]], offset: 9, changed: true, after: [[0, 0], [1, 5]] },
    { entries: [[0, 0], [1, 5], [2, 9]], offset: 6, changed: true, after: [[0, 0], [1, 5]] },
    { entries: [[0, 0], [1, 5], [2, 9]], offset: 10, changed: false, after: [[0, 0], [1, 5], [2, 9]] },
    { entries: [[0, 0], [1, 5], [2, 9]], offset: 0, changed: true, after: [] },
    { entries: [[0, 0], [1, 5]], offset: -1, changed: false, after: [[0, 0], [1, 5]] },
  ])('truncateFromEnd($offset) of $entries -> $after', ({ entries, offset, changed, after }) => {
    const c = cacheOf(...(entries as Array<[number, number]>));
    expect(c.truncateFromEnd(offset)).toBe(changed);
    expect(pairs(c)).toEqual(after);
  });

  it.each([
    { entries: [[0, 0], [1, 5], [2, 9]], offset: 7, after: [[1, 7], [2, 9]] },
    { entries: [[0, 0], [1, 5], [2, 9]], offset: 9, after: [[2, 9]] }, // an entry starting there is kept
    { entries: [[0, 0], [1, 5], [2, 9]], offset: 12, after: [[2, 12]] },
    { entries: [[3, 5], [4, 9]], offset: 2, after: [[3, 5], [4, 9]] },
  ])('truncateFromStart($offset) of $entries -> $after', ({ entries, offset, after }) => {
    const c = cacheOf(...(entries as Array<[number, number]>));
    c.truncateFromStart(offset);
    expect(pairs(c)).toEqual(after);
  });

  it('epochForOffset answers the epoch whose records hold the offset', () => {
    const c = cacheOf([0, 0], [2, 5], [4, 9]);
    expect([0, 4, 5, 8, 9, 100].map((o) => c.epochForOffset(o))).toEqual([0, 0, 2, 2, 4, 4]);
    expect(cacheOf([3, 5]).epochForOffset(4)).toBeUndefined();
  });
});

describe('leader-epoch-checkpoint format', () => {
  it("is Kafka's: version 0, the count, one 'epoch startOffset' line each, every line ending in \\n", () => {
    const text = formatLeaderEpochCheckpoint([
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 1200 },
    ]);
    expect(Buffer.from(text)).toEqual(Buffer.from('0\n2\n0 0\n3 1200\n'));
    expect(formatLeaderEpochCheckpoint([])).toBe('0\n0\n');
    expect(parseLeaderEpochCheckpoint(text).entries).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 1200 },
    ]);
  });

  it.each([
    ['1\n0\n', /unknown version/],
    ['0\n2\n0 0\n', /expected 2 entries, found 1/],
    ['0\n1\n0 x\n', /malformed line 3/],
    ['0\n1\n-1 0\n', /malformed line 3/],
    ['0\n1\n0 0 0\n', /malformed line 3/],
    ['', /unknown version/],
  ])('refuses %j', (text, problem) => {
    expect(parseLeaderEpochCheckpoint(text).problem).toMatch(problem);
  });
});

describe('a partition log keeps its leader epochs', () => {
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
  async function open(logger = captureLogger()) {
    const m = await openManager(dir, { logger, config: { segmentBytes: 4096 } });
    managers.push(m);
    return m;
  }
  const checkpointPath = () => join(dir, 't-0', 'leader-epoch-checkpoint');

  async function writeHistory(m: LogManager) {
    const log = await m.create('t', 0);
    await log.append(valuesBatch('a', 3), { leaderEpoch: 0 }); // 0..2
    await log.append(valuesBatch('b', 2), { leaderEpoch: 2 }); // 3..4
    await log.append(valuesBatch('c', 2)); // 5..6, the latest epoch (2) by default
    await log.append(valuesBatch('d', 1), { leaderEpoch: 5 }); // 7
    return log;
  }

  it('stamps the epoch into each batch and writes the checkpoint before the records', async () => {
    const log = await writeHistory(await open());
    const { records } = await log.read(0, 1 << 20);
    expect(decodeBatches(records).map((b) => [b.baseOffset, b.leaderEpoch])).toEqual([
      [0, 0],
      [3, 2],
      [5, 2],
      [7, 5],
    ]);
    expect(await readFile(checkpointPath(), 'utf8')).toBe('0\n3\n0 0\n2 3\n5 7\n');
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 0, endOffset: 3 });
    expect(log.endOffsetForEpoch(5)).toEqual({ epoch: 5, endOffset: 8 });
  });

  it('a leader taking over notes its epoch at the log end before writing anything', async () => {
    const m = await open();
    const log = await m.create('t', 0);
    await log.maybeAssignEpochStartOffset(0);
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 0 });
    await log.append(valuesBatch('a', 2), { leaderEpoch: 0 });
    await log.maybeAssignEpochStartOffset(4);
    await log.maybeAssignEpochStartOffset(3); // older: ignored
    expect(await readFile(checkpointPath(), 'utf8')).toBe('0\n2\n0 0\n4 2\n');
  });

  it('a restart reads the checkpoint; a missing or damaged one is rebuilt from the batches', async () => {
    await writeHistory(await open());
    await managers.pop()!.close();
    const expected = [
      { epoch: 0, startOffset: 0 },
      { epoch: 2, startOffset: 3 },
      { epoch: 5, startOffset: 7 },
    ];
    expect((await open()).get('t', 0)!.leaderEpochs.entries()).toEqual(expected);
    await managers.pop()!.close();

    await unlink(checkpointPath());
    let logger = captureLogger();
    expect((await open(logger)).get('t', 0)!.leaderEpochs.entries()).toEqual(expected);
    expect(logger.lines.join('\n')).toMatch(/no leader-epoch-checkpoint: rebuilt from the batches/);
    await managers.pop()!.close();
    expect(await readFile(checkpointPath(), 'utf8')).toBe('0\n3\n0 0\n2 3\n5 7\n');

    await writeFile(checkpointPath(), '0\n3\n0 0\n2 zz\n5 7\n');
    logger = captureLogger();
    expect((await open(logger)).get('t', 0)!.leaderEpochs.entries()).toEqual(expected);
    expect(logger.lines.join('\n')).toMatch(/WARN .*leader-epoch-checkpoint malformed line 4.*rebuilt from the batches/);
    await managers.pop()!.close();

    // Older than the log (an epoch missing at the end): rebuilt too.
    await writeFile(checkpointPath(), '0\n1\n0 0\n');
    logger = captureLogger();
    expect((await open(logger)).get('t', 0)!.leaderEpochs.entries()).toEqual(expected);
    expect(logger.lines.join('\n')).toMatch(/ends at epoch 0 but the last batch was written in epoch 5/);
  });

  it('entries past the log end are cut, entries out of order dropped as Kafka reads them', async () => {
    await writeHistory(await open());
    await managers.pop()!.close();
    await writeFile(checkpointPath(), '0\n4\n0 0\n2 3\n5 7\n6 8\n'); // a crash after the checkpoint, before the batch
    expect((await open()).get('t', 0)!.leaderEpochs.entries().map((e) => e.epoch)).toEqual([0, 2, 5]);
    await managers.pop()!.close();
    expect(await readFile(checkpointPath(), 'utf8')).toBe('0\n3\n0 0\n2 3\n5 7\n');

    await writeFile(checkpointPath(), '0\n4\n0 0\n4 3\n2 3\n5 7\n');
    const logger = captureLogger();
    expect((await open(logger)).get('t', 0)!.leaderEpochs.entries().map((e) => e.epoch)).toEqual([0, 2, 5]);
    expect(logger.lines.join('\n')).toMatch(/out of order/);
  });

  it('DeleteRecords moves the first epoch to the new log start', async () => {
    const log = await writeHistory(await open());
    await log.deleteRecordsBefore(4);
    expect(log.leaderEpochs.entries()).toEqual([
      { epoch: 2, startOffset: 4 },
      { epoch: 5, startOffset: 7 },
    ]);
    await managers.pop()!.close();
    expect(await readFile(checkpointPath(), 'utf8')).toBe('0\n2\n2 4\n5 7\n');
  });
});
