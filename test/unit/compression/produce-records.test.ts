// prepareBatch (src/broker/produce-records.ts): what Produce does to a batch before storage.
import { describe, expect, it } from 'vitest';
import { prepareBatch, targetCodec } from '../../../src/broker/produce-records.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import '../../../src/protocol/records/codecs.js';
import { BatchOffset, buildRecordBatch, crc32c, decodeRecordBatch, readBatchHeader } from '../../../src/protocol/records/index.js';
import { codeOfAsync } from '../../helpers/kafka-error.js';

const records = Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `v${i}`.repeat(20), timestamp: 5000 + i, headers: [{ key: 'n', value: String(i) }] }));

describe('prepareBatch', () => {
  it('compression.type names map to codec ids; producer keeps the batch codec', () => {
    expect(['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'].map(targetCodec)).toEqual([-1, 0, 1, 2, 3, 4]);
  });

  it('hot path: an uncompressed batch with compression.type=producer is returned as is, not decoded', async () => {
    const batch = buildRecordBatch(records);
    batch.fill(0xff, 61); // garbage records: prepareBatch must not look (storage checks them without objects)
    expect(await prepareBatch(batch, -1)).toBe(batch);
  });

  it('a compressed batch is checked: CRC -> CORRUPT_MESSAGE, wrong count -> INVALID_RECORD', async () => {
    const good = buildRecordBatch(records, { compression: 3 });
    expect(await prepareBatch(good, -1)).toBe(good);
    const badCrc = Buffer.from(good);
    badCrc[70] ^= 1;
    expect(await codeOfAsync(prepareBatch(badCrc, -1))).toBe(ErrorCode.CORRUPT_MESSAGE);
    const lying = Buffer.from(good);
    lying.writeInt32BE(31, BatchOffset.recordCount);
    lying.writeInt32BE(30, BatchOffset.lastOffsetDelta);
    lying.writeUInt32BE(crc32c(lying, BatchOffset.attributes, lying.length), BatchOffset.crc);
    expect(await codeOfAsync(prepareBatch(lying, -1))).toBe(ErrorCode.INVALID_RECORD);
  });

  for (const [from, to] of [
    [1, 4],
    [0, 2],
    [4, 0],
    [2, 3],
  ]) {
    it(`recompresses codec ${from} -> ${to}, keeping records, timestamps, headers and producer fields`, async () => {
      const batch = buildRecordBatch(records, { compression: from, producerId: 12, producerEpoch: 3, baseSequence: 40, transactional: true });
      const out = await prepareBatch(batch, to);
      const h = readBatchHeader(out);
      expect(h.attributes & 7).toBe(to);
      expect(h.attributes & 0x10).toBe(0x10);
      expect(h).toMatchObject({ producerId: 12, producerEpoch: 3, baseSequence: 40, recordCount: 30, lastOffsetDelta: 29, maxTimestamp: 5029, baseTimestamp: 5000 });
      const a = decodeRecordBatch(batch).records;
      const b = decodeRecordBatch(out).records;
      expect(b).toEqual(a);
    });
  }
});
