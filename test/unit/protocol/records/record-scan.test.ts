// The byte-level record walker (src/protocol/records/record-scan.ts) that checks compressed batches
// on produce: accepts what buildRecordBatch writes, refuses every inconsistency with INVALID_RECORD,
// refuses impossible counts before walking, can pause anywhere (even inside one record's headers),
// and builds no per-record or per-header objects.
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../../src/protocol/errors.js';
import { buildRecordBatch, writeVarint } from '../../../../src/protocol/records/index.js';
import { MIN_RECORD_BYTES, RecordScan, scanRecords, scanRecordsAsync } from '../../../../src/protocol/records/record-scan.js';
import { codeOf, codeOfAsync } from '../../../helpers/kafka-error.js';

const HEADER = 61;

/** The records region of an uncompressed batch and its record count. */
function recordsOf(inputs: Parameters<typeof buildRecordBatch>[0]): { buf: Buffer; count: number } {
  const batch = buildRecordBatch(inputs, { now: 1_000 });
  return { buf: batch.subarray(HEADER), count: inputs.length };
}

const sample = Array.from({ length: 40 }, (_, i) => ({
  key: i % 3 === 0 ? null : `key-${i}`,
  value: i % 5 === 0 ? null : 'v'.repeat(i * 7),
  timestamp: 1_000 + ((i * 37) % 50),
  headers: Array.from({ length: i % 4 }, (_, h) => ({ key: `h${h}`, value: h % 2 ? null : `value ${h}` })),
}));

/** One record (offset delta 0) with `headers` empty headers, as bytes; `declared` overrides the header count. */
function headerRecord(headers: number, declared = headers): Buffer {
  const body = Buffer.alloc(16 + headers * 2);
  let p = 0;
  body[p++] = 0; // attributes
  body[p++] = 0; // timestampDelta
  body[p++] = 0; // offsetDelta
  body[p++] = 1; // null key
  body[p++] = 1; // null value
  p += writeVarint(body, p, declared);
  for (let h = 0; h < headers; h++) {
    body[p++] = 0;
    body[p++] = 1;
  }
  const out = Buffer.alloc(5 + p);
  const n = writeVarint(out, 0, p);
  body.copy(out, n, 0, p);
  return out.subarray(0, n + p);
}

describe('RecordScan', () => {
  it('accepts what buildRecordBatch writes and reports the largest timestamp delta', () => {
    const { buf, count } = recordsOf(sample);
    expect(scanRecords(buf, 0, buf.length, count)).toBe(49);
  });

  it('gives the same answer paused after every byte, including inside one record with many headers', () => {
    const cases = [
      { buf: recordsOf(sample).buf, count: sample.length },
      { buf: headerRecord(1000), count: 1 },
    ];
    for (const { buf, count } of cases) {
      const scan = new RecordScan(buf, 0, buf.length, count);
      let pauses = 0;
      for (let until = 1; !scan.run(until); until++) pauses++;
      expect(pauses).toBeGreaterThan(count === 1 ? 900 : 40);
      expect(scan.maxTimestampDelta).toBe(count === 1 ? 0 : 49);
    }
    // A problem found after a pause is still found.
    const { buf } = recordsOf(sample);
    const scan = new RecordScan(buf, 0, buf.length, sample.length - 1);
    expect(() => {
      for (let until = 1; !scan.run(until); until++);
    }).toThrow(/records still remaining/);
  });

  it('a count the bytes cannot hold is refused before anything is walked', () => {
    const { buf } = recordsOf(sample);
    const tooMany = Math.floor(buf.length / MIN_RECORD_BYTES) + 1;
    const err = (() => {
      try {
        new RecordScan(buf, 0, buf.length, tooMany);
      } catch (e) {
        return e as { code: number; message: string };
      }
    })();
    expect(err?.code).toBe(ErrorCode.INVALID_RECORD);
    expect(err?.message).toMatch(/premature EOF/);
    expect(codeOf(() => scanRecords(buf, 0, 20, 0x7fffffff))).toBe(ErrorCode.INVALID_RECORD);
    expect(codeOf(() => scanRecords(buf, 0, buf.length, -1))).toBe(ErrorCode.INVALID_RECORD);
  });

  it('refuses fewer or more records than declared, a wrong offset delta and a bad record size', () => {
    const { buf, count } = recordsOf(sample);
    expect(() => scanRecords(buf, 0, buf.length, count - 1)).toThrow(/records still remaining/);
    expect(() => scanRecords(buf, 0, buf.length, count + 1)).toThrow(/premature EOF/);
    const shifted = recordsOf(sample.slice(0, 3));
    // Record 0's offset delta (after its length varint, attributes and timestamp delta) set to 1.
    const wrongDelta = Buffer.from(shifted.buf);
    wrongDelta[3] = 2; // zigzag 1
    expect(() => scanRecords(wrongDelta, 0, wrongDelta.length, 3)).toThrow(/offset delta 1/);
    const longer = Buffer.from(shifted.buf);
    longer[0] += 2; // record 0 claims one byte more (zigzag +1)
    expect(codeOf(() => scanRecords(longer, 0, longer.length, 3))).toBe(ErrorCode.INVALID_RECORD);
    const cut = shifted.buf.subarray(0, shifted.buf.length - 1);
    expect(codeOf(() => scanRecords(cut, 0, cut.length, 3))).toBe(ErrorCode.INVALID_RECORD);
  });

  it('refuses header counts the record cannot hold, negative counts and negative key sizes', () => {
    const honest = headerRecord(100);
    expect(scanRecords(honest, 0, honest.length, 1)).toBe(0);
    const lying = headerRecord(100, 60_000_000);
    expect(() => scanRecords(lying, 0, lying.length, 1)).toThrow(/Found invalid number of record headers/);
    const negative = headerRecord(0, -1);
    expect(() => scanRecords(negative, 0, negative.length, 1)).toThrow(/Found invalid number of record headers -1/);
    const badKey = Buffer.from(honest);
    badKey[badKey.length - 2] = 3; // last header: key length -2
    expect(() => scanRecords(badKey, 0, badKey.length, 1)).toThrow(/negative header key size/);
    const short = headerRecord(100, 101); // one header more than it holds: 200 bytes for 101 x 2
    expect(codeOf(() => scanRecords(short, 0, short.length, 1))).toBe(ErrorCode.INVALID_RECORD);
  });

  it('a record with 10 M headers is walked without building objects', () => {
    const bomb = headerRecord(10_000_000);
    const before = process.memoryUsage().heapUsed;
    scanRecords(bomb, 0, bomb.length, 1);
    // 10 M header objects would be hundreds of MB of heap; the walk allocates nothing per header.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(16 << 20);
  });

  it('scanRecordsAsync hands the event loop back between slices and rejects like the sync walk', async () => {
    const bomb = headerRecord(4_000_000); // 8 MB
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 0);
    try {
      await scanRecordsAsync(bomb, 0, bomb.length, 1, 256 << 10);
    } finally {
      clearInterval(ticker);
    }
    expect(ticks).toBeGreaterThan(3);
    const { buf, count } = recordsOf(sample);
    expect(await codeOfAsync(scanRecordsAsync(buf, 0, buf.length, count + 1, 64))).toBe(ErrorCode.INVALID_RECORD);
    expect(await scanRecordsAsync(buf, 0, buf.length, count, 64)).toBe(49);
  });
});
