// The background flush of sealed segments (flushInactiveSegments, off the append chain, after a
// roll) moves the recovery point to the active segment's base offset it saw when it started. A
// follower's truncation on the chain meanwhile lowers the recovery point to the base of the segment
// it cuts and deletes the segments after it: the flush, finishing after, set the recovery point back
// to the old active base, past the new log end (and checkpointed it), so a crash before the next
// flush would let the loader trust offsets that were cut and written again, unflushed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogManager } from '../../../src/storage/index.js';
import { interceptFdatasync, makeTempDir, openManager, valuesBatch } from './helpers.js';

/** Holds the first fdatasync of a .log once armed, until released. */
function holdingFs() {
  const state = { armed: false, reach: () => {}, release: () => {} };
  const reached = new Promise<void>((r) => (state.reach = r));
  const released = new Promise<void>((r) => (state.release = r));
  const fs = interceptFdatasync(async (path, sync) => {
    if (state.armed && path.endsWith('.log')) {
      state.armed = false;
      state.reach();
      await released;
    }
    return sync();
  });
  return { fs, state, reached };
}

describe('a background flush and a truncation at once', () => {
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

  it('leaves the recovery point at or below the log end', async () => {
    const { fs, state, reached } = holdingFs();
    m = await openManager(dir, { config: { segmentBytes: 2048, indexIntervalBytes: 128 }, fs });
    const log = await m.create('t', 0);
    while (log.sealedSegments.length < 2) await log.append(valuesBatch('a', 2, { pad: 40 }));
    await log.flush(); // every segment flushed, the recovery point at the log end
    // The next roll's background flush is held at the fdatasync of the segment it sealed.
    state.armed = true;
    const sealed = log.sealedSegments.length;
    while (log.sealedSegments.length === sealed) await log.append(valuesBatch('b', 2, { pad: 40 }));
    await reached;
    const cutSegment = log.sealedSegments[log.sealedSegments.length - 1];
    const end = await log.truncateTo(cutSegment.baseOffset + 1, { belowHighWatermark: true });
    expect(log.recoveryPoint).toBeLessThanOrEqual(end);
    state.release();
    await log.flushInactiveSegments();
    expect(log.logEndOffset).toBe(end);
    expect(log.recoveryPoint).toBeLessThanOrEqual(end);
  });
});
