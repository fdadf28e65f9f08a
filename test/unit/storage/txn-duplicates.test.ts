// A transactional producer's retried batch is stored once (Kafka's duplicate check against the
// producer's last 5 batches): sent again after it was written, at the same time as the first write,
// after the previous transaction's COMMIT marker, after a follower truncation (state reloaded), and
// on a follower that replicated it and then leads.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';
import type { LogManager, PartitionLog } from '../../../src/storage/index.js';
import { captureLogger, decodeBatches, makeTempDir, openManager } from './helpers.js';

const PID = 7;
const txnBatch = (value: string, baseSequence: number, epoch = 0) =>
  buildRecordBatch([{ value }], { producerId: PID, producerEpoch: epoch, baseSequence, transactional: true, now: 1_000 });
const marker = (commit: boolean) => ({ producerId: PID, producerEpoch: 0, coordinatorEpoch: 0, commit, now: 2_000 });
const valuesOf = (buf: Buffer) => decodeBatches(buf).flatMap((b) => (b.attributes & 0x20 ? ['MARKER'] : b.records.map((r) => String(r.value))));

describe('a retried transactional batch is stored once', () => {
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
  const open = async (config = {}) => {
    const m = await openManager(dir, { config, logger: captureLogger() });
    managers.push(m);
    return m;
  };
  const contents = async (log: PartitionLog) => valuesOf((await log.read(0, 1 << 20)).records);

  it('sent again after the COMMIT of the previous transaction: answered with its first offset', async () => {
    const log = await (await open()).create('t', 0);
    await log.append(txnBatch('c1', 0));
    await log.appendControlMarker(marker(true));
    const first = await log.append(txnBatch('a1', 1));
    const retry = await log.append(txnBatch('a1', 1));
    expect(retry).toMatchObject({ baseOffset: first.baseOffset, recordCount: 0 });
    await log.appendControlMarker(marker(false));
    expect(await contents(log)).toEqual(['c1', 'MARKER', 'a1', 'MARKER']);
  });

  it('sent twice at once (the retry arrives while the first write is in flight)', async () => {
    const log = await (await open({ flushIntervalMessages: 1 })).create('t', 0);
    await log.append(txnBatch('c1', 0));
    await log.appendControlMarker(marker(true));
    const [a, b, c] = await Promise.all([log.append(txnBatch('a1', 1)), log.append(txnBatch('a1', 1)), log.append(txnBatch('a1', 1))]);
    expect(b.baseOffset).toBe(a.baseOffset);
    expect(c.baseOffset).toBe(a.baseOffset);
    expect(await contents(log)).toEqual(['c1', 'MARKER', 'a1']);
  });

  it('sent again while the marker of the previous transaction is being written', async () => {
    const log = await (await open({ flushIntervalMessages: 1 })).create('t', 0);
    await log.append(txnBatch('c1', 0));
    const results = await Promise.all([log.appendControlMarker(marker(true)), log.append(txnBatch('a1', 1)), log.append(txnBatch('a1', 1))]);
    expect(results[2].baseOffset).toBe(results[1].baseOffset);
    expect(await contents(log)).toEqual(['c1', 'MARKER', 'a1']);
  });

  it('sent again after the log reloaded its producer state (truncation, restart)', async () => {
    const m = await open();
    const log = await m.create('t', 0);
    await log.append(txnBatch('c1', 0));
    await log.appendControlMarker(marker(true));
    await log.append(txnBatch('a1', 1));
    await log.truncateTo(3, { belowHighWatermark: true }); // nothing cut: the state is reloaded
    expect((await log.append(txnBatch('a1', 1))).recordCount).toBe(0);
    expect(await contents(log)).toEqual(['c1', 'MARKER', 'a1']);
  });

  it('a follower that replicated it answers the retry once it leads', async () => {
    const leader = await (await open()).create('t', 0);
    const m2dir = await makeTempDir();
    const m2 = await openManager(m2dir.dir, { logger: captureLogger() });
    try {
      const follower = await m2.create('t', 0);
      await leader.append(txnBatch('c1', 0));
      await leader.appendControlMarker(marker(true));
      await leader.append(txnBatch('a1', 1));
      await follower.appendAsFollower(Buffer.from((await leader.read(0, 1 << 20)).records));
      expect((await follower.append(txnBatch('a1', 1))).recordCount).toBe(0);
      expect(await contents(follower)).toEqual(['c1', 'MARKER', 'a1']);
    } finally {
      await m2.close();
      await m2dir.cleanup();
    }
  });
});
