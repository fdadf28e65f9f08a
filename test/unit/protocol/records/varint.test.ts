import { describe, expect, it } from 'vitest';
import {
  readVarint,
  readVarlong,
  readVarlongBig,
  sizeOfVarint,
  sizeOfVarlong,
  sizeOfVarlongBig,
  writeVarint,
  writeVarlong,
  writeVarlongBig,
} from '../../../../src/protocol/records/index.js';
import { KafkaError } from '../../../../src/protocol/errors.js';

// Golden zigzag encodings (computed independently from the spec's definition).
const INT_TABLE: [number, string][] = [
  [0, '00'],
  [-1, '01'],
  [1, '02'],
  [63, '7e'],
  [-64, '7f'],
  [64, '8001'],
  [-65, '8101'],
  [300, 'd804'],
  [-300, 'd704'],
  [2 ** 31 - 1, 'feffffff0f'],
  [-(2 ** 31), 'ffffffff0f'],
];
const LONG_TABLE: [number, string][] = [
  ...INT_TABLE,
  [2 ** 31, '8080808010'],
  [-(2 ** 31) - 1, '8180808010'],
  [1_700_000_000_000, '80a0abfef962'],
  [-1_700_000_000_000, 'ff9fabfef962'],
  [Number.MAX_SAFE_INTEGER, 'feffffffffffff1f'],
  [-Number.MAX_SAFE_INTEGER, 'fdffffffffffff1f'],
];
const BIG_TABLE: [bigint, string][] = [
  [9223372036854775807n, 'feffffffffffffffff01'],
  [-9223372036854775808n, 'ffffffffffffffffff01'],
  [0n, '00'],
  [-1n, '01'],
];

describe('varint (zigzag int32)', () => {
  it.each(INT_TABLE)('%d <-> %s', (n, hex) => {
    const buf = Buffer.alloc(12, 0xaa);
    const size = writeVarint(buf, 1, n);
    expect(buf.subarray(1, 1 + size).toString('hex')).toBe(hex);
    expect(size).toBe(sizeOfVarint(n));
    expect(readVarint(buf, 1)).toEqual({ value: n, size });
  });

  it('rejects a varint longer than 5 bytes and a truncated one', () => {
    expect(() => readVarint(Buffer.from('ffffffffff01', 'hex'), 0)).toThrow(KafkaError);
    expect(() => readVarint(Buffer.from('ff', 'hex'), 0)).toThrow(KafkaError);
  });
});

describe('varlong (zigzag int64)', () => {
  it.each(LONG_TABLE)('%d <-> %s', (n, hex) => {
    const buf = Buffer.alloc(12);
    const size = writeVarlong(buf, 0, n);
    expect(buf.subarray(0, size).toString('hex')).toBe(hex);
    expect(size).toBe(sizeOfVarlong(n));
    expect(readVarlong(buf, 0)).toEqual({ value: n, size });
  });

  it.each(BIG_TABLE)('bigint %s <-> %s', (n, hex) => {
    const buf = Buffer.alloc(12);
    const size = writeVarlongBig(buf, 0, n);
    expect(buf.subarray(0, size).toString('hex')).toBe(hex);
    expect(size).toBe(sizeOfVarlongBig(n));
    expect(readVarlongBig(buf, 0)).toEqual({ value: n, size });
  });

  it('round-trips a sweep of values through number and bigint forms alike', () => {
    const buf = Buffer.alloc(12);
    const other = Buffer.alloc(12);
    for (let e = 0; e <= 53; e++) {
      for (const n of [2 ** e - 1, 2 ** e, -(2 ** e), -(2 ** e) + 1]) {
        if (!Number.isSafeInteger(n)) continue;
        const size = writeVarlong(buf, 0, n);
        writeVarlongBig(other, 0, BigInt(n));
        expect(buf.subarray(0, size)).toEqual(other.subarray(0, size));
        expect(readVarlong(buf, 0).value).toBe(n);
      }
    }
  });

  it('rejects an 11-byte varlong', () => {
    expect(() => readVarlong(Buffer.from('ffffffffffffffffffff01', 'hex'), 0)).toThrow(KafkaError);
  });
});
