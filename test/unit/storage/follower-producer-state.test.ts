// A follower's producer state is the leader's: after it replicated an idempotent producer's batches
// (across segment rolls and their producer snapshots), possibly cut a diverged tail, and took over
// as leader, the producer's retry of its unacknowledged batches is answered as Kafka would: a
// retained batch is a duplicate (its stored offsets), the next sequence after what survived appends.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../../src/protocol/records/crc.js';
import type { LogManager, PartitionLog } from '../../../src/storage/index.js';
import { buildBatch, makeTempDir, openManager, trackingFs } from './helpers.js';

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

const PRODUCER = 4242;
const RECORDS_PER_BATCH = 3;

/** An idempotent producer's batch of RECORDS_PER_BATCH records starting at sequence `seq`. */
function producerBatch(seq: number): Buffer {
  const b = buildBatch(
    Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ value: `v${seq + i}` })),
    { producerId: PRODUCER },
  );
  b.writeInt16BE(0, 51); // producer epoch
  b.writeInt32BE(seq, 53); // base sequence
  b.writeUInt32BE(crc32c(b, 21, b.length), 17);
  return b;
}

/** Every batch of the log, one buffer each (a read stops at a segment's end). */
async function batchesOf(log: PartitionLog): Promise<Buffer[]> {
  const out: Buffer[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const all = (await log.read(offset, 1 << 24)).records;
    for (let p = 0; p + 12 <= all.length; ) {
      const size = 12 + all.readInt32BE(p + 8);
      out.push(Buffer.from(all.subarray(p, p + size)));
      offset = Number(all.readBigInt64BE(p)) + all.readInt32BE(p + 23) + 1;
      p += size;
    }
  }
  return out;
}

async function twoLogs(segmentBytes: number) {
  const config = { segmentBytes, indexIntervalBytes: 128, fileDeleteDelayMs: 60_000 };
  const leaderManager = await openManager(`${dir}`, { config });
  managers.push(leaderManager);
  const { dir: dir2, cleanup: c2 } = await makeTempDir();
  const fs = trackingFs();
  const followerManager = await openManager(dir2, { config, fs });
  managers.push(followerManager);
  const prev = cleanup;
  cleanup = async () => {
    await prev();
    await c2();
  };
  /** The follower's process killed (fds dropped, nothing flushed or checkpointed) and started again. */
  const restartFollower = async (): Promise<PartitionLog> => {
    managers.splice(managers.indexOf(followerManager), 1);
    await fs.closeAll();
    const again = await openManager(dir2, { config });
    managers.push(again);
    return again.get('t', 0)!;
  };
  return { leader: await leaderManager.create('t', 0), follower: await followerManager.create('t', 0), restartFollower };
}

describe.each([
  ['one segment', 1 << 20],
  ['a roll (and producer snapshot) every few batches', 600],
])('an idempotent producer after a leader change, %s', (_name, segmentBytes) => {
  it.each([0, 1, 3, 5])('the follower replicated all but %d batch(es): every retry is a duplicate or the next append', async (missing) => {
    const { leader, follower } = await twoLogs(segmentBytes);
    const total = 40;
    for (let i = 0; i < total; i++) {
      await leader.append(producerBatch(i * RECORDS_PER_BATCH), { leaderEpoch: 0 });
    }
    // The follower fetches what the leader wrote, one batch at a time, but for the last `missing`.
    const stored = await batchesOf(leader);
    expect(stored).toHaveLength(total);
    for (const b of stored.slice(0, total - missing)) await follower.appendAsFollower(Buffer.from(b));
    // The leader dies; the follower leads at epoch 1. The producer had up to 5 batches in flight and
    // retries them with their original sequences, in order.
    await follower.maybeAssignEpochStartOffset(1);
    for (let i = total - 5; i < total; i++) {
      const r = await follower.append(producerBatch(i * RECORDS_PER_BATCH), { leaderEpoch: 1 });
      if (i < total - missing) expect(r).toMatchObject({ baseOffset: i * RECORDS_PER_BATCH, recordCount: 0 });
      else expect(r).toMatchObject({ baseOffset: i * RECORDS_PER_BATCH, recordCount: RECORDS_PER_BATCH });
    }
    const next = await follower.append(producerBatch(total * RECORDS_PER_BATCH), { leaderEpoch: 1 });
    expect(next).toMatchObject({ baseOffset: total * RECORDS_PER_BATCH, recordCount: RECORDS_PER_BATCH });
  });

  it.each([1, 2, 4, 5])('the follower cut its last %d replicated batch(es) (following another leader first): the retries append', async (cut) => {
    const { leader, follower } = await twoLogs(segmentBytes);
    const total = 40;
    for (let i = 0; i < total; i++) await leader.append(producerBatch(i * RECORDS_PER_BATCH), { leaderEpoch: 0 });
    for (const b of await batchesOf(leader)) await follower.appendAsFollower(b);
    expect(follower.logEndOffset).toBe(total * RECORDS_PER_BATCH);
    await follower.truncateTo((total - cut) * RECORDS_PER_BATCH, { belowHighWatermark: true });
    await follower.maybeAssignEpochStartOffset(1);
    for (let i = Math.min(total - 5, total - cut); i < total; i++) {
      const r = await follower.append(producerBatch(i * RECORDS_PER_BATCH), { leaderEpoch: 1 });
      expect(r.baseOffset).toBe(i * RECORDS_PER_BATCH);
    }
  });

  it('the follower was killed and restarted (producer state from its snapshot and the batches after): the retries are duplicates', async () => {
    const { leader, follower, restartFollower } = await twoLogs(segmentBytes);
    const total = 40;
    for (let i = 0; i < total; i++) await leader.append(producerBatch(i * RECORDS_PER_BATCH), { leaderEpoch: 0 });
    const stored = await batchesOf(leader);
    for (const b of stored.slice(0, 30)) await follower.appendAsFollower(b);
    const restarted = await restartFollower();
    expect(restarted.logEndOffset).toBe(30 * RECORDS_PER_BATCH);
    for (const b of stored.slice(30)) await restarted.appendAsFollower(b);
    await restarted.maybeAssignEpochStartOffset(1);
    for (let i = total - 5; i < total; i++) {
      expect(await restarted.append(producerBatch(i * RECORDS_PER_BATCH), { leaderEpoch: 1 })).toMatchObject({ baseOffset: i * RECORDS_PER_BATCH, recordCount: 0 });
    }
  });

  it('the follower was killed and restarted, then led at once: its last batch is a duplicate, the next sequence appends', async () => {
    const { follower: f2, leader: l2, restartFollower: restart2 } = await twoLogs(segmentBytes);
    for (let i = 0; i < 12; i++) await l2.append(producerBatch(i * RECORDS_PER_BATCH), { leaderEpoch: 0 });
    for (const b of await batchesOf(l2)) await f2.appendAsFollower(b);
    const back = await restart2();
    expect(await back.append(producerBatch(11 * RECORDS_PER_BATCH), { leaderEpoch: 1 })).toMatchObject({ baseOffset: 11 * RECORDS_PER_BATCH, recordCount: 0 });
    expect(await back.append(producerBatch(12 * RECORDS_PER_BATCH), { leaderEpoch: 1 })).toMatchObject({ baseOffset: 12 * RECORDS_PER_BATCH, recordCount: RECORDS_PER_BATCH });
  });
});
