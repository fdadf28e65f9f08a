// The log cleaner and transactions, as Kafka's LogCleaner treats them (CleanedTransactionMetadata,
// KIP-534's delete horizon for markers): the records of an aborted transaction are removed and
// never shadow an earlier committed value of their key; a marker stays while any record of its
// transaction is met in a cleaning, then gets a delete horizon (the cleaning's time +
// delete.retention.ms) and is removed by the first cleaning past it. Real files, a fake clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Attr } from '../../../src/protocol/records/batch-header.js';
import { buildRecordBatch, decodeRecordBatch, iterateBatches } from '../../../src/protocol/records/record-batch.js';
import { LogCleaner } from '../../../src/storage/cleaner/log-cleaner.js';
import { nodeFileSystem } from '../../../src/storage/file-system.js';
import type { LogManager } from '../../../src/storage/log-manager.js';
import type { PartitionLog } from '../../../src/storage/partition-log.js';
import { buildBatch, captureLogger, makeTempDir, openManager } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let manager: LogManager | undefined;
let clock = 1_700_000_000_000;
const now = () => clock;
const HOUR = 3_600_000;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  clock = 1_700_000_000_000;
});
afterEach(async () => {
  await manager?.close().catch(() => {});
  manager = undefined;
  await cleanup();
});

interface Stored {
  base: number;
  producerId: number;
  /** 'COMMIT' / 'ABORT' for a marker, else the batch's `key=value` records. */
  what: string;
  deleteHorizon: number | null;
}

/** Every batch the log serves from its start, below `end`. */
async function batchesBelow(log: PartitionLog, end: number): Promise<Stored[]> {
  const out: Stored[] = [];
  let offset = log.logStartOffset;
  while (offset < end) {
    const { records } = await log.read(offset, 1 << 20);
    if (records.length === 0) break;
    for (const { position, header } of iterateBatches(records)) {
      offset = header.baseOffset + header.lastOffsetDelta + 1;
      if (header.baseOffset >= end) break;
      const decoded = header.recordCount > 0 ? decodeRecordBatch(records, position).records : [];
      const control = (header.attributes & Attr.control) !== 0;
      const what = control
        ? decoded[0]?.key?.readInt16BE(2) === 1 ? 'COMMIT' : 'ABORT'
        : decoded.map((r) => `${r.key?.toString()}=${r.value?.toString() ?? 'null'}`).join(',');
      out.push({ base: header.baseOffset, producerId: header.producerId, what, deleteHorizon: header.attributes & Attr.deleteHorizon ? header.baseTimestamp : null });
    }
  }
  return out;
}

describe('log cleaner and transactions', () => {
  it('removes aborted records, then each spent marker once delete.retention.ms has passed after its data went', async () => {
    manager = await openManager(dir, { now, config: { segmentBytes: 2048, compact: true, delete: false, deleteRetentionMs: HOUR, minCleanableRatio: 0.01 } });
    const log = await manager.create('txn', 0);
    const txn = async (producerId: number, seq: number, records: [string, string][], commit: boolean) => {
      await log.append(buildRecordBatch(records.map(([key, value]) => ({ key, value, timestamp: clock })), { now: clock, producerId, producerEpoch: 0, baseSequence: seq, transactional: true }));
      return (await log.appendControlMarker({ producerId, producerEpoch: 0, coordinatorEpoch: 3, commit, now: clock })).baseOffset;
    };
    const plain = (key: string, value: string) => log.append(buildBatch([{ key, value, timestamp: clock }], { now: clock }));
    let filler = 0;
    /** Plain updates of ten other keys until the log rolls `segments` more segments (the active one holds only filler). */
    const fill = async (segments = 2) => {
      const target = log.segmentBaseOffsets().length + segments;
      while (log.segmentBaseOffsets().length < target) await plain(`f${filler % 10}`, `fill-${filler++}-${'x'.repeat(40)}`);
    };

    await plain('a1', 'before');
    const abortMarker = await txn(100, 0, [['a1', 'aborted-1'], ['a2', 'aborted-2']], false);
    const commitMarker = await txn(200, 0, [['b1', 'committed-1']], true);
    await plain('b1', 'overwritten'); // the first committed transaction's only record is shadowed
    const liveMarkerA = await txn(100, 2, [['a3', 'committed-a']], true);
    const liveMarkerB = await txn(200, 1, [['b2', 'committed-b']], true);
    await fill();
    const cleaner = new LogCleaner({ fs: nodeFileSystem, logDirs: manager.logDirs, logs: () => manager!.all(), now, logger: captureLogger(), backoffMs: 60_000, dedupeBufferBytes: 64 << 20, maxIoBytesPerSecond: Infinity });
    await cleaner.load();
    const snapshot = async () => {
      const end = log.segmentBaseOffsets().at(-1)!;
      const batches = (await batchesBelow(log, end)).filter((b) => !b.what.startsWith('f'));
      const markers = Object.fromEntries(batches.filter((b) => b.what === 'COMMIT' || b.what === 'ABORT').map((b) => [b.base, b.deleteHorizon]));
      return { data: batches.filter((b) => b.what !== 'COMMIT' && b.what !== 'ABORT').map((b) => b.what), markers };
    };

    // First cleaning: the aborted records go (a1 keeps its committed value: the aborted write never
    // counted), b1's committed record goes under its later value; every marker stays, none with a
    // horizon, since each transaction's batches were met in this pass.
    expect(await cleaner.runOnce()).toBe(true);
    let s = await snapshot();
    expect(s.data).toEqual(['a1=before', 'b1=overwritten', 'a3=committed-a', 'b2=committed-b']);
    expect(s.markers).toEqual({ [abortMarker]: null, [commitMarker]: null, [liveMarkerA]: null, [liveMarkerB]: null });

    // Second cleaning: nothing is left of the first two transactions, so their markers get a delete
    // horizon, delete.retention.ms from this cleaning. The markers of live data get none.
    clock += 60_000;
    const secondCleaning = clock;
    await fill();
    expect(await cleaner.runOnce()).toBe(true);
    s = await snapshot();
    expect(s.data).toEqual(['a1=before', 'b1=overwritten', 'a3=committed-a', 'b2=committed-b']);
    expect(s.markers).toEqual({ [abortMarker]: secondCleaning + HOUR, [commitMarker]: secondCleaning + HOUR, [liveMarkerA]: null, [liveMarkerB]: null });

    // Just before the horizon a cleaning keeps them; the first one past it removes them.
    clock = secondCleaning + HOUR - 1;
    await fill();
    await cleaner.runOnce();
    expect((await snapshot()).markers).toEqual({ [abortMarker]: secondCleaning + HOUR, [commitMarker]: secondCleaning + HOUR, [liveMarkerA]: null, [liveMarkerB]: null });
    clock = secondCleaning + HOUR + 1;
    await fill();
    await cleaner.runOnce();
    s = await snapshot();
    expect(s.markers).toEqual({ [liveMarkerA]: null, [liveMarkerB]: null });
    expect(s.data).toEqual(['a1=before', 'b1=overwritten', 'a3=committed-a', 'b2=committed-b']);
    // Offsets are never reused: the log end only grew.
    expect(log.logEndOffset).toBeGreaterThan(liveMarkerB);
  });
});
