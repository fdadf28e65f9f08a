// The background flush of sealed segments (flushInactiveSegments, off the append chain) skips the
// segments that retention, DeleteRecords, a truncation or the cleaner took out of the log meanwhile:
// their files are renamed `*.deleted` and unlinked after file.delete.delay.ms, and their records
// count for nothing any more (below the log start, cut, or replaced by a cleaned segment that was
// fsynced before the swap), so an fdatasync of their .log is wasted work on the disk.
import { basename } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogManager } from '../../../src/storage/index.js';
import { interceptFdatasync, makeTempDir, openManager, trackingFs, valuesBatch } from './helpers.js';

/**
 * Notes the file name (as opened) of every .log fdatasync; once `hold` is set, holds the first one
 * until released.
 */
function syncRecordingFs() {
  const synced: string[] = [];
  const state = { hold: false, reach: () => {}, release: () => {} };
  const reached = new Promise<void>((r) => (state.reach = r));
  const released = new Promise<void>((r) => (state.release = r));
  const fs = interceptFdatasync(async (path, sync) => {
    if (path.includes('.log')) {
      synced.push(basename(path));
      if (state.hold) {
        state.hold = false;
        state.reach();
        await released;
      }
    }
    return sync();
  });
  return { fs, synced, state, reached };
}

/** A file system whose .log fdatasyncs never return (a crash will come first). */
const neverSyncingLogs = () => interceptFdatasync((path, sync) => (path.endsWith('.log') ? new Promise<void>(() => {}) : sync()));

/** The fdatasyncs of the .log of the segment at `base`, under its own name or renamed for deletion. */
const syncsOf = (synced: string[], base: number) => synced.filter((f) => f.startsWith(`${String(base).padStart(20, '0')}.log`)).length;

describe('the background flush and segments deleted meanwhile', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let m: LogManager | undefined;
  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  afterEach(async () => {
    await m?.close().catch(() => {});
    m = undefined;
    await cleanup();
  });

  it('does not fdatasync the segment that retention rolled and deleted at once', async () => {
    const { fs, synced } = syncRecordingFs();
    const t0 = 1_700_000_000_000;
    // file.delete.delay.ms as Kafka's default: the deleted segment stays open (not closed) a minute.
    m = await openManager(dir, { fs, now: () => t0, config: { retentionMs: 1000, fileDeleteDelayMs: 60_000 } });
    const log = await m.create('t', 0);
    for (let i = 0; i < 3; i++) await log.append(valuesBatch('a', 5, { timestamp: t0 }));
    expect(log.segmentCount).toBe(1);
    // Every segment is past retention.ms: the active one is rolled (which starts the background flush
    // of the segment it sealed) and then deleted.
    expect(await log.runMaintenance(t0 + 5000)).toBe(true);
    expect(log.segmentBaseOffsets()).toEqual([15]);
    await log.flushInactiveSegments();
    expect(syncsOf(synced, 0)).toBe(0);
  });

  it('does not fdatasync sealed segments deleted while it flushed older ones', async () => {
    // Four sealed segments left unflushed by a crash: the load recovers them and flushes them in
    // the background, one after another. Before the crash no .log fdatasync returns, so the
    // recovery point is never checkpointed past 0.
    const crashed = trackingFs(neverSyncingLogs());
    const config = { segmentBytes: 2048, indexIntervalBytes: 128, fileDeleteDelayMs: 60_000 };
    const t0 = 1_700_000_000_000;
    const first = await openManager(dir, { fs: crashed, config, now: () => t0 });
    const before = await first.create('t', 0);
    while (before.sealedSegments.length < 4) await before.append(valuesBatch('a', 2, { pad: 40, timestamp: t0 }));
    const bases = before.segmentBaseOffsets();
    await crashed.closeAll(); // kill -9

    const { fs, synced, state, reached } = syncRecordingFs();
    state.hold = true; // the background flush stops at the first segment's fdatasync
    m = await openManager(dir, { fs, config, now: () => t0 });
    const log = m.get('t', 0)!;
    expect(log.segmentBaseOffsets()).toEqual(bases);
    await reached;
    expect(synced).toEqual([`${String(bases[0]).padStart(20, '0')}.log`]);
    // Meanwhile retention.bytes deletes every sealed segment but the last.
    const deleted = log.sealedSegments.slice(0, 3).reduce((bytes, seg) => bytes + seg.size, 0);
    log.updateConfig({ ...log.config, retentionBytes: log.size - deleted });
    expect(await log.runMaintenance(t0)).toBe(true);
    expect(log.segmentBaseOffsets()).toEqual(bases.slice(3));
    state.release();
    await log.flushInactiveSegments();
    expect(syncsOf(synced, bases[1])).toBe(0);
    expect(syncsOf(synced, bases[2])).toBe(0);
    expect(syncsOf(synced, bases[3])).toBe(1); // still in the log: flushed as before
    expect(log.recoveryPoint).toBe(bases[4]);
  });
});
