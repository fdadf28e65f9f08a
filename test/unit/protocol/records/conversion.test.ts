import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import {
  Attr,
  batchCrcIsValid,
  BatchOffset,
  buildControlBatch,
  buildMessageSet,
  buildRecordBatch,
  crc32c,
  decodeRecordBatch,
  decodeRecords,
  downConvertBatches,
  iterateBatches,
  readBatchHeader,
  readLegacyEntry,
  compress,
  decompress,
  upConversion,
  upConvertMessageSet,
} from '../../../../src/protocol/records/index.js';
import { legacyEntrySize, writeLegacyEntry } from '../../../../src/protocol/records/legacy-message-set.js';
import '../../../../src/protocol/records/codecs.js';
import { ErrorCode } from '../../../../src/protocol/errors.js';
import { bytes, load, type KafkaNodeFixture } from './fixtures.js';
import { codeOf } from '../../../helpers/kafka-error.js';

const kn = load<KafkaNodeFixture>('kafka-node-sets.json');

// ---- kafka-node's own Fetch decoder (v0 for magic 0, v1 layout for magic 1) ----
const require = createRequire(import.meta.url);
const knProtocol = require('kafka-node/lib/protocol/protocol.js') as {
  decodeFetchResponse: (cb: KnCallback, maxTick?: number) => (resp: Buffer) => void;
  decodeFetchResponseV1: (cb: KnCallback, maxTick?: number) => (resp: Buffer) => void;
};
type KnMessage = { offset: number; key: Buffer | null; value: Buffer | null; timestamp?: Date };
type KnCallback = (err: Error | null, type?: string, data?: unknown) => void;

function kafkaNodeDecode(messageSet: Buffer, magic: 0 | 1): Promise<KnMessage[]> {
  const topic = Buffer.from('t');
  const body = Buffer.alloc(4 + 4 + (magic === 1 ? 4 : 0) + 4 + 2 + topic.length + 4 + 4 + 2 + 8 + 4);
  let p = 4; // size filled below
  p = body.writeInt32BE(7, p); // correlation id
  if (magic === 1) p = body.writeInt32BE(0, p); // throttle time
  p = body.writeInt32BE(1, p);
  p = body.writeInt16BE(topic.length, p);
  p += topic.copy(body, p);
  p = body.writeInt32BE(1, p);
  p = body.writeInt32BE(0, p); // partition
  p = body.writeInt16BE(0, p); // error
  p = body.writeBigInt64BE(1000n, p); // high watermark
  body.writeInt32BE(messageSet.length, p);
  const resp = Buffer.concat([body, messageSet]);
  resp.writeInt32BE(resp.length - 4, 0);
  return new Promise((resolve, reject) => {
    const out: KnMessage[] = [];
    const decode = magic === 0 ? knProtocol.decodeFetchResponse : knProtocol.decodeFetchResponseV1;
    decode((err, type, data) => {
      if (err) reject(err);
      else if (type === 'message') out.push(data as KnMessage);
      else if (type === 'done') resolve(out);
    })(resp);
  });
}

// ---- up-conversion ----
describe('upConvertMessageSet (kafka-node Produce v0-v2 input)', () => {
  for (const c of kn.cases) {
    it(`${c.name} -> one valid v2 batch with the right records`, () => {
      const batch = upConvertMessageSet(Buffer.from(c.hex, 'hex'));
      expect([...iterateBatches(batch)]).toHaveLength(1);
      expect(batchCrcIsValid(batch)).toBe(true);
      const h = readBatchHeader(batch);
      expect(h).toMatchObject({ baseOffset: 0, magic: 2, producerId: -1, producerEpoch: -1, baseSequence: -1, recordCount: 4, lastOffsetDelta: 3 });
      expect(h.attributes).toBe(c.codec); // recompressed with the wrapper's codec, CreateTime
      const ts = kn.records.map((r) => (c.innerMagic === 0 ? -1 : r.timestamp));
      expect(h.maxTimestamp).toBe(Math.max(...ts));
      expect(decodeRecords(batch)).toEqual(
        kn.records.map((r, i) => ({ offset: i, timestamp: ts[i], key: bytes(r.key), value: bytes(r.value), headers: [] })),
      );
    });
  }

  it('logAppendTime: LogAppendTime batch, every record at that time', () => {
    const batch = upConvertMessageSet(Buffer.from(kn.cases[0].hex, 'hex'), { logAppendTime: 1234 });
    const h = readBatchHeader(batch);
    expect(h.attributes & Attr.logAppendTime).toBeTruthy();
    expect(h.maxTimestamp).toBe(1234);
    expect(decodeRecords(batch).map((r) => r.timestamp)).toEqual([1234, 1234, 1234, 1234]);
  });

  it('several uncompressed and compressed entries in one set become one batch', () => {
    const set = Buffer.concat([
      buildMessageSet([{ value: 'a', timestamp: 1 }], { magic: 1 }),
      buildMessageSet([{ value: 'b', timestamp: 2 }, { value: 'c', timestamp: 3 }], { magic: 1, compression: 1 }),
    ]);
    const batch = upConvertMessageSet(set);
    expect(readBatchHeader(batch).attributes & Attr.compressionMask).toBe(1);
    expect(decodeRecords(batch).map((r) => [r.offset, r.value!.toString(), r.timestamp])).toEqual([[0, 'a', 1], [1, 'b', 2], [2, 'c', 3]]);
  });

  it('bad CRC or truncation -> CORRUPT_MESSAGE; wrong magic, empty -> INVALID_RECORD', () => {
    const good = Buffer.from(kn.cases[1].hex, 'hex');
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 0xff;
    expect(codeOf(() => upConvertMessageSet(bad))).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(codeOf(() => upConvertMessageSet(good.subarray(0, good.length - 1)))).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(codeOf(() => upConvertMessageSet(good.subarray(0, 5)))).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(codeOf(() => upConvertMessageSet(buildRecordBatch([{ value: 'x' }])))).toBe(ErrorCode.INVALID_RECORD);
    expect(codeOf(() => upConvertMessageSet(Buffer.alloc(0)))).toBe(ErrorCode.INVALID_RECORD);
  });

  it('a decompression bomb in a wrapper is refused', () => {
    const big = buildMessageSet([{ value: Buffer.alloc(1 << 20) }], { magic: 1, compression: 1, now: 1 });
    expect(big.length).toBeLessThan(5000);
    expect(codeOf(() => upConvertMessageSet(big, { maxDecompressedBytes: 64 * 1024 }))).toBe(ErrorCode.INVALID_RECORD);
    expect(decodeRecords(upConvertMessageSet(big))[0].value!.length).toBe(1 << 20);
  });

  it('the bound is for all the wrappers of a set together', () => {
    const one = buildMessageSet([{ value: Buffer.alloc(40 * 1024) }], { magic: 1, compression: 1, now: 1 });
    const three = Buffer.concat([one, one, one]);
    expect(decodeRecords(upConvertMessageSet(three, { maxDecompressedBytes: 200 * 1024 }))).toHaveLength(3);
    expect(codeOf(() => upConvertMessageSet(three, { maxDecompressedBytes: 100 * 1024 }))).toBe(ErrorCode.INVALID_RECORD);
  });

  it('a compressed inner message (a wrapper inside a wrapper) -> INVALID_RECORD, as Kafka', () => {
    const innerWrapper = buildMessageSet([{ value: 'x' }], { magic: 1, compression: 1, now: 1 });
    const packed = compress(1, innerWrapper, 1);
    const outer = Buffer.alloc(legacyEntrySize(1, -1, packed.length));
    writeLegacyEntry(outer, 0, 0, 1, 1, 1, null, packed);
    expect(codeOf(() => upConvertMessageSet(outer))).toBe(ErrorCode.INVALID_RECORD);
  });

  it('walks in slices (pauses), asks its driver to inflate and compress, and compresses with the target codec', () => {
    const set = buildMessageSet(Array.from({ length: 1000 }, (_, i) => ({ value: `v${i}`, timestamp: i })), { magic: 1, compression: 2, now: 1 });
    const steps = upConversion(set, { sliceBytes: 4096, targetCodec: 1 });
    const kinds: string[] = [];
    let answer: Buffer | undefined;
    for (;;) {
      const step = steps.next(answer);
      if (step.done) {
        const h = readBatchHeader(step.value);
        expect(h.attributes & Attr.compressionMask).toBe(1);
        expect(h.maxTimestamp).toBe(999);
        expect(decodeRecords(step.value).map((r) => r.value!.toString())).toEqual(Array.from({ length: 1000 }, (_, i) => `v${i}`));
        break;
      }
      const ask = step.value;
      kinds.push(ask.kind);
      answer = ask.kind === 'inflate' ? decompress(ask.codec, ask.data, ask.maxBytes, ask.magic) : ask.kind === 'compress' ? compress(ask.codec, ask.data) : undefined;
    }
    expect(kinds[0]).toBe('inflate');
    expect(kinds.filter((k) => k === 'pause').length).toBeGreaterThan(5);
    expect(kinds[kinds.length - 1]).toBe('compress');
  });
});

// ---- down-conversion ----
describe('downConvertBatches (Fetch v0-v3 output)', () => {
  const T = 1_700_000_000_000;
  const stored = Buffer.concat([
    buildRecordBatch(
      [
        { key: 'k0', value: 'v0', headers: { h: 'x' }, timestamp: T },
        { key: null, value: 'v1', timestamp: T + 1 },
        { key: 'k2', value: null, timestamp: T + 2 },
        { key: 'k3', value: Buffer.from([0, 255]), timestamp: T + 3 },
      ],
      { baseOffset: 0 },
    ),
    buildRecordBatch(
      [
        { key: 'g4', value: 'gz4', timestamp: T + 4 },
        { key: 'g5', value: 'gz5', timestamp: T + 5 },
        { key: 'g6', value: 'gz6', timestamp: T + 6 },
      ],
      { baseOffset: 4, compression: 1 },
    ),
    buildControlBatch('COMMIT', { producerId: 1, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 7, timestamp: T + 7 }),
    buildRecordBatch([{ key: 'k8', value: 'v8', timestamp: T + 8 }, { key: 'k9', value: 'v9', timestamp: T + 9 }], { baseOffset: 8 }),
  ]);
  const tail = buildRecordBatch([{ value: 'cut' }], { baseOffset: 10 }).subarray(0, 40);
  const fetched = Buffer.concat([stored, tail]);
  const all = decodeRecords(stored);

  for (const magic of [0, 1] as const) {
    it(`magic ${magic}: kafka-node's decoder reads back every data record`, async () => {
      const set = downConvertBatches(fetched, magic, 0);
      const got = await kafkaNodeDecode(set, magic);
      expect(got.map((m) => [m.offset, m.key?.toString('hex') ?? null, m.value?.toString('hex') ?? null])).toEqual(
        all.map((r) => [r.offset, r.key?.toString('hex') ?? null, r.value?.toString('hex') ?? null]),
      );
      if (magic === 1) expect(got.map((m) => m.timestamp!.getTime())).toEqual(all.map((r) => r.timestamp));
      else expect(got.every((m) => m.timestamp === undefined)).toBe(true);
      // and our own decoder agrees (headers dropped, v0 timestamps gone)
      expect(decodeRecords(set)).toEqual(all.map((r) => ({ ...r, headers: [], timestamp: magic === 0 ? -1 : r.timestamp })));
    });

    it(`magic ${magic}: compressed batch -> one gzip wrapper; offsets per format`, () => {
      const set = downConvertBatches(fetched, magic, 5);
      // batch 0 is entirely before offset 5 and uncompressed: dropped; the gzip batch stays whole
      const w = readLegacyEntry(set, 0);
      expect(w).toMatchObject({ offset: 6, magic, attributes: 1, timestamp: magic === 1 ? T + 6 : -1 });
      expect(decodeRecords(set).map((r) => r.offset)).toEqual([4, 5, 6, 8, 9]);
    });
  }

  it('uncompressed output drops records before the fetch offset', async () => {
    const set = downConvertBatches(fetched, 1, 2);
    expect(decodeRecords(set).map((r) => r.offset)).toEqual([2, 3, 4, 5, 6, 8, 9]);
    expect((await kafkaNodeDecode(set, 1)).map((m) => m.offset)).toEqual([2, 3, 4, 5, 6, 8, 9]);
    expect(decodeRecords(downConvertBatches(fetched, 0, 9)).map((r) => r.offset)).toEqual([9]);
  });

  it('LogAppendTime batches: v1 messages carry the append time and the timestamp-type bit', () => {
    const lat = buildRecordBatch([{ value: 'a', timestamp: 1 }, { value: 'b', timestamp: 2 }], { timestampType: 'LogAppendTime', now: 777 });
    for (const codec of [0, 1]) {
      const src = codec ? buildRecordBatch([{ value: 'a', timestamp: 1 }], { timestampType: 'LogAppendTime', now: 777, compression: 1 }) : lat;
      const set = downConvertBatches(src, 1, 0);
      expect(readLegacyEntry(set, 0).attributes & 0x08).toBe(0x08);
      expect(decodeRecords(set).every((r) => r.timestamp === 777)).toBe(true);
    }
  });

  it('zstd batches -> UNSUPPORTED_COMPRESSION_TYPE; nothing to send -> empty', () => {
    const z = Buffer.from(buildRecordBatch([{ value: 'x' }], { now: 1 }));
    z.writeInt16BE(4, BatchOffset.attributes);
    z.writeUInt32BE(crc32c(z, BatchOffset.attributes, z.length), BatchOffset.crc);
    expect(codeOf(() => downConvertBatches(z, 1, 0))).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    expect(downConvertBatches(Buffer.alloc(0), 0, 0)).toHaveLength(0);
    expect(downConvertBatches(tail, 0, 0)).toHaveLength(0);
    expect(downConvertBatches(stored, 1, 100)).toHaveLength(0);
  });

  it('up(down(x)) keeps keys, values and timestamps', () => {
    const set = downConvertBatches(stored, 1, 0);
    const back = decodeRecordBatch(upConvertMessageSet(set)).records;
    expect(back.map((r) => [r.key, r.value, r.timestamp])).toEqual(all.map((r) => [r.key, r.value, r.timestamp]));
  });
});
