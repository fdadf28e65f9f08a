import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import {
  buildMessageSet,
  buildRecordBatch,
  compress,
  decodeRecordBatch,
  decodeRecords,
  decompress,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  downConvertBatches,
  hasCodec,
  readBatchHeader,
  registerCodec,
  type CodecContext,
} from '../../../../src/protocol/records/index.js';
import { ErrorCode } from '../../../../src/protocol/errors.js';
import { codeOf } from '../../../helpers/kafka-error.js';

describe('gzip (node:zlib)', () => {
  it('round-trips, and codec 0 passes data through', () => {
    const data = Buffer.from('hello '.repeat(1000));
    const packed = compress(1, data);
    expect(packed[0]).toBe(0x1f);
    expect(decompress(1, packed)).toEqual(data);
    expect(compress(0, data)).toBe(data);
    expect(decompress(0, data)).toBe(data);
  });

  it("reads concatenated gzip members (as Java's GZIPInputStream does)", () => {
    const two = Buffer.concat([gzipSync(Buffer.from('ab')), gzipSync(Buffer.from('cd'))]);
    expect(decompress(1, two).toString()).toBe('abcd');
  });

  it('garbage -> CORRUPT_MESSAGE', () => {
    expect(codeOf(() => decompress(1, Buffer.from('not gzip at all')))).toBe(ErrorCode.CORRUPT_MESSAGE);
    const truncated = compress(1, Buffer.from('x'.repeat(100)));
    expect(codeOf(() => decompress(1, truncated.subarray(0, truncated.length - 6)))).toBe(ErrorCode.CORRUPT_MESSAGE);
  });
});

describe('decompression bombs', () => {
  const bomb = gzipSync(Buffer.alloc(8 << 20)); // 8 MiB of zeros in ~8 KB

  it('output over maxBytes -> INVALID_RECORD; exactly maxBytes is fine', () => {
    expect(bomb.length).toBeLessThan(10_000);
    expect(codeOf(() => decompress(1, bomb, 1 << 20))).toBe(ErrorCode.INVALID_RECORD);
    expect(decompress(1, bomb, 8 << 20).length).toBe(8 << 20);
    expect(DEFAULT_MAX_DECOMPRESSED_BYTES).toBeGreaterThanOrEqual(8 << 20);
  });

  it('decodeRecordBatch honours maxDecompressedBytes', () => {
    const batch = buildRecordBatch([{ value: Buffer.alloc(1 << 20) }], { compression: 1, now: 1 });
    expect(codeOf(() => decodeRecordBatch(batch, 0, { maxDecompressedBytes: 1000 }))).toBe(ErrorCode.INVALID_RECORD);
    expect(codeOf(() => decodeRecords(batch, { maxDecompressedBytes: 1000 }))).toBe(ErrorCode.INVALID_RECORD);
    expect(decodeRecordBatch(batch).records[0].value!.length).toBe(1 << 20);
  });

  it('a plug-in codec that ignores the bound is still caught', () => {
    registerCodec(6, { compress: (d) => d, decompress: () => Buffer.alloc(100) });
    expect(codeOf(() => decompress(6, Buffer.alloc(1), 10))).toBe(ErrorCode.INVALID_RECORD);
  });
});

describe('codec registry', () => {
  it('an unavailable codec -> UNSUPPORTED_COMPRESSION_TYPE', () => {
    expect(hasCodec(3)).toBe(false);
    expect(codeOf(() => compress(3, Buffer.from('x')))).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    expect(codeOf(() => decompress(3, Buffer.from('x')))).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    expect(() => registerCodec(0, { compress: (d) => d, decompress: (d) => d })).toThrow(RangeError);
  });

  it('a registered codec plugs into batches, legacy wrappers and conversion, and sees the magic', () => {
    const seen: number[] = [];
    // A stand-in "lz4": reversed bytes, so a mix-up would show.
    const rev = (d: Buffer) => Buffer.from(d).reverse();
    registerCodec(3, {
      compress: (d: Buffer, ctx: CodecContext) => {
        seen.push(ctx.magic);
        return rev(d);
      },
      decompress: (d: Buffer, _max: number, ctx: CodecContext) => {
        seen.push(ctx.magic);
        return rev(d);
      },
    });
    const batch = buildRecordBatch([{ key: 'k', value: 'v' }], { compression: 3, now: 1 });
    expect(readBatchHeader(batch).attributes & 7).toBe(3);
    expect(decodeRecords(batch)[0].value!.toString()).toBe('v');
    const v0 = downConvertBatches(batch, 0, 0);
    expect(decodeRecords(v0)[0].value!.toString()).toBe('v');
    const legacy = buildMessageSet([{ value: 'w' }], { magic: 1, compression: 3, now: 1 });
    expect(decodeRecords(legacy)[0].value!.toString()).toBe('w');
    expect(seen).toEqual([2, 2, 2, 0, 0, 1, 1]);
  });

  it('a codec throwing a plain Error on input -> CORRUPT_MESSAGE', () => {
    registerCodec(2, {
      compress: (d) => d,
      decompress: () => {
        throw new Error('bad snappy');
      },
    });
    expect(codeOf(() => decompress(2, Buffer.from('x')))).toBe(ErrorCode.CORRUPT_MESSAGE);
  });
});
