import { describe, expect, it } from 'vitest';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  buildMessageSet,
  crc32,
  decodeRecords,
  LEGACY_LOG_OVERHEAD,
  readLegacyEntry,
  type Record,
} from '../../../../src/protocol/records/index.js';
import { ErrorCode } from '../../../../src/protocol/errors.js';
import { bytes, input, load, type KafkaNodeFixture } from './fixtures.js';
import { codeOf } from '../../../helpers/kafka-error.js';

const kn = load<KafkaNodeFixture>('kafka-node-sets.json');
const set = (name: string) => Buffer.from(kn.cases.find((c) => c.name === name)!.hex, 'hex');

/** Splits a set into its entries' bytes after the 8-byte offset (kafka-node writes offset 0 everywhere). */
function entriesWithoutOffsets(buf: Buffer): string[] {
  const out: string[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const size = LEGACY_LOG_OVERHEAD + buf.readInt32BE(pos + 8);
    out.push(buf.subarray(pos + 8, pos + size).toString('hex'));
    pos += size;
  }
  return out;
}

describe('kafka-node golden message sets', () => {
  for (const c of kn.cases) {
    it(`${c.name}: CRC-32 verifies and decodeRecords yields kafka-node's messages`, () => {
      const buf = Buffer.from(c.hex, 'hex');
      const wrapper = readLegacyEntry(buf, 0);
      expect(wrapper.magic).toBe(c.magic);
      expect(wrapper.attributes & 7).toBe(c.codec);
      const expected: Record[] = kn.records.map((r) => ({
        offset: 0, // kafka-node writes 0 for every offset; a v1 wrapper offset 0 means base 0
        timestamp: c.innerMagic === 0 ? -1 : r.timestamp,
        key: bytes(r.key),
        value: bytes(r.value),
        headers: [],
      }));
      expect(decodeRecords(buf)).toEqual(expected);
    });
  }

  it('buildMessageSet writes the same messages as kafka-node (offsets aside)', () => {
    for (const magic of [0, 1] as const) {
      const ours = buildMessageSet(
        kn.records.map((r) => ({ key: input(r.key), value: input(r.value), timestamp: r.timestamp })),
        { magic },
      );
      expect(entriesWithoutOffsets(ours)).toEqual(entriesWithoutOffsets(set(`magic${magic}-plain`)));
      expect(decodeRecords(ours).map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    }
  });

  it("kafka-node's magic-1 gzip wrapper: timestamp 0 (undefined), null key, inner offsets all 0", () => {
    const w = readLegacyEntry(set('magic1-gzip'), 0);
    expect(w).toMatchObject({ offset: 0, magic: 1, attributes: 1, timestamp: 0, key: null });
  });
});

describe('buildMessageSet compressed wrappers', () => {
  const recs = [{ key: 'a', value: '1', timestamp: 10 }, { value: '2', timestamp: 30 }, { key: 'c', value: null, timestamp: 20 }];

  it('magic 1: relative inner offsets, wrapper offset = last absolute, wrapper timestamp = max', () => {
    const buf = buildMessageSet(recs, { magic: 1, compression: 1, baseOffset: 100 });
    const w = readLegacyEntry(buf, 0);
    expect(w).toMatchObject({ offset: 102, magic: 1, attributes: 1, timestamp: 30, key: null, size: buf.length });
    const inner = decodeRecords(gunzipSync(w.value!));
    expect(inner.map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(decodeRecords(buf).map((r) => [r.offset, r.timestamp])).toEqual([[100, 10], [101, 30], [102, 20]]);
  });

  it('magic 0: absolute inner offsets, no timestamps', () => {
    const buf = buildMessageSet(recs, { magic: 0, compression: 1, baseOffset: 100 });
    const w = readLegacyEntry(buf, 0);
    expect(w).toMatchObject({ offset: 102, magic: 0, timestamp: -1 });
    expect(decodeRecords(gunzipSync(w.value!)).map((r) => r.offset)).toEqual([100, 101, 102]);
    expect(decodeRecords(buf).map((r) => [r.offset, r.timestamp])).toEqual([[100, -1], [101, -1], [102, -1]]);
  });

  it('a v1 LogAppendTime wrapper overrides inner timestamps on read', () => {
    const buf = Buffer.from(buildMessageSet(recs, { magic: 1, compression: 1 }));
    buf[LEGACY_LOG_OVERHEAD + 5] |= 0x08; // timestamp type bit
    buf.writeBigInt64BE(999n, LEGACY_LOG_OVERHEAD + 6);
    buf.writeUInt32BE(crc32(buf, LEGACY_LOG_OVERHEAD + 4, buf.length), LEGACY_LOG_OVERHEAD);
    expect(decodeRecords(buf).map((r) => r.timestamp)).toEqual([999, 999, 999]);
  });
});

describe('legacy corruption and truncation', () => {
  const plain = buildMessageSet([{ key: 'k', value: 'v' }, { key: 'k2', value: 'v2' }], { magic: 1, now: 5 });

  it('a truncated tail is skipped by decodeRecords', () => {
    const first = readLegacyEntry(plain, 0).size;
    for (let cut = 0; cut < plain.length; cut++) {
      expect(decodeRecords(plain.subarray(0, cut))).toHaveLength(cut >= first ? 1 : 0);
    }
  });

  it('a bad CRC-32 -> CORRUPT_MESSAGE', () => {
    for (let i = LEGACY_LOG_OVERHEAD; i < readLegacyEntry(plain, 0).size; i++) {
      const bad = Buffer.from(plain);
      bad[i] ^= 0x01;
      if (i === LEGACY_LOG_OVERHEAD + 4) continue; // the magic byte: 1 -> 0 reads as a shorter message
      expect(codeOf(() => decodeRecords(bad))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  it('sizes that do not add up -> CORRUPT_MESSAGE even with a matching CRC', () => {
    const bad = Buffer.from(plain.subarray(0, readLegacyEntry(plain, 0).size));
    bad.writeInt32BE(100, LEGACY_LOG_OVERHEAD + 4 + 2 + 8); // key length beyond the message
    bad.writeUInt32BE(crc32(bad, LEGACY_LOG_OVERHEAD + 4, bad.length), LEGACY_LOG_OVERHEAD);
    expect(codeOf(() => readLegacyEntry(bad, 0))).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  it('a compressed wrapper with compressed inner messages or no inner messages -> INVALID_RECORD', () => {
    const inner = buildMessageSet([{ value: 'x' }], { magic: 1, compression: 1, now: 1 });
    const nested = buildMessageSet([{ value: gzipSync(inner) }], { magic: 1, now: 1 });
    nested[LEGACY_LOG_OVERHEAD + 5] = 1;
    nested.writeUInt32BE(crc32(nested, LEGACY_LOG_OVERHEAD + 4, nested.length), LEGACY_LOG_OVERHEAD);
    expect(codeOf(() => decodeRecords(nested))).toBe(ErrorCode.INVALID_RECORD);

    const empty = buildMessageSet([{ value: gzipSync(Buffer.alloc(0)) }], { magic: 1, now: 1 });
    empty[LEGACY_LOG_OVERHEAD + 5] = 1;
    empty.writeUInt32BE(crc32(empty, LEGACY_LOG_OVERHEAD + 4, empty.length), LEGACY_LOG_OVERHEAD);
    expect(codeOf(() => decodeRecords(empty))).toBe(ErrorCode.INVALID_RECORD);
  });
});
