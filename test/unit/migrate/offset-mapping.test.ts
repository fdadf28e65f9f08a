// kts migrate's offset mapping without a broker: the chunk planner's runs and skips (transaction
// markers, aborted transactions, a fetch starting inside a batch, the copy's end), the re-stamped
// header, and the translation of a group's source offset through the syncs noted for a copy with holes.
import { describe, expect, it } from 'vitest';
import { FORWARD_MIN_BYTES, planChunk, stampBatch } from '../../../src/migrate/batches.js';
import { OffsetSyncs } from '../../../src/migrate/offset-syncs.js';
import { batchCrcIsValid, buildControlBatch, buildRecordBatch, decodeRecordBatch, readBatchHeader } from '../../../src/protocol/records/index.js';

/** A batch at `base` with the records at `base`.. (contiguous: compaction's holes are covered end to end). */
function batchAt(base: number, offsets: number[], opts: { producerId?: number; transactional?: boolean; pad?: number } = {}): Buffer {
  const producer = opts.producerId === undefined ? {} : { producerId: opts.producerId, producerEpoch: 0, baseSequence: 0 };
  return buildRecordBatch(
    offsets.map((o) => ({ key: `k${o}`, value: `v${o}${'x'.repeat(opts.pad ?? 0)}`, timestamp: 1000 + o })),
    { baseOffset: base, transactional: opts.transactional, ...producer },
  );
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('planChunk', () => {
  it('moves a big whole batch as bytes and coalesces small ones, in order', () => {
    const big = batchAt(0, range(0, 200), { pad: 200 });
    expect(big.length).toBeGreaterThanOrEqual(FORWARD_MIN_BYTES);
    const small = Buffer.concat([batchAt(200, range(200, 210)), batchAt(210, range(210, 220))]);
    const plan = planChunk(Buffer.concat([big, small]), 0, 1000);
    expect(plan.units.map((u) => [u.forwarded, u.recordCount, u.runs])).toEqual([
      [true, 200, [{ src: 0, count: 200 }]],
      [false, 20, [{ src: 200, count: 20 }]],
    ]);
    expect(plan.srcNext).toBe(220);
  });

  it('skips markers and aborted transactions, starts inside a batch and stops at the end', () => {
    const aborted = batchAt(10, range(10, 15), { producerId: 7, transactional: true });
    const abortMarker = buildControlBatch('ABORT', { producerId: 7, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 15 });
    const chunk = Buffer.concat([batchAt(0, range(0, 10)), aborted, abortMarker, batchAt(16, range(16, 30))]);
    const plan = planChunk(chunk, 4, 25, [{ producerId: 7, firstOffset: 10 }]);
    expect(plan.units.flatMap((u) => u.runs)).toEqual([{ src: 4, count: 6 }, { src: 16, count: 9 }]);
    expect(plan.srcNext).toBe(25);
    expect(decodeRecordBatch(plan.units[0].batch).records.map((r) => r.key!.toString())).toEqual([...range(4, 10), ...range(16, 25)].map((o) => `k${o}`));
  });

  it('stamps a batch with the migration\'s producer and a valid CRC', () => {
    const b = stampBatch(batchAt(500, range(500, 510), { producerId: 3, transactional: true }), 42, 1, 7);
    const h = readBatchHeader(b);
    expect([h.baseOffset, h.producerId, h.producerEpoch, h.baseSequence, h.attributes & 0x10]).toEqual([0, 42, 1, 7, 0]);
    expect(batchCrcIsValid(b)).toBe(true);
  });
});

describe('OffsetSyncs.translate', () => {
  // Source 100..109 copied to 0..9, a hole at 110..119 (compaction), 120..124 to 10..14, a marker at 125, 126..129 to 15..18.
  const syncs = new OffsetSyncs('src');
  syncs.setProgress('t', 0, { src: 100, tgt: 0, topicId: 'id' });
  syncs.copied('t', 0, [{ src: 100, count: 10 }], 0);
  syncs.copied('t', 0, [{ src: 120, count: 5 }, { src: 126, count: 4 }], 10);
  syncs.setProgress('t', 0, { src: 130, tgt: 19, topicId: 'id' });

  it('maps every source offset to the target offset of the first copied record at or after it', () => {
    const at = (o: number) => syncs.translate('t', 0, o);
    expect([0, 99, 100, 105, 109].map(at)).toEqual([0, 0, 0, 5, 9]);
    expect([110, 115, 119, 120, 124].map(at)).toEqual([10, 10, 10, 10, 14]);
    expect([125, 126, 129, 130, 500].map(at)).toEqual([15, 15, 18, 19, 19]);
    expect(syncs.translate('other', 0, 5)).toBeNull();
  });
});
