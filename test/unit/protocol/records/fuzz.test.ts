// Mutated input must fail with a KafkaError (a code the broker can return), never a RangeError or
// TypeError from deep inside. CRCs are re-signed after each mutation so parsing goes past them.
import { describe, expect, it } from 'vitest';
import {
  BatchOffset,
  buildMessageSet,
  buildRecordBatch,
  crc32,
  crc32c,
  decodeRecords,
  downConvertBatches,
  upConvertMessageSet,
} from '../../../../src/protocol/records/index.js';
import { KafkaError } from '../../../../src/protocol/errors.js';

let seed = 12345;
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};

function onlyKafkaErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof KafkaError)) throw err;
  }
}

function mutate(src: Buffer): Buffer {
  const b = Buffer.from(src);
  const edits = 1 + rand(3);
  for (let i = 0; i < edits; i++) {
    const at = rand(b.length);
    b[at] = rand(4) === 0 ? 0xff : rand(256);
  }
  return b;
}

describe('fuzz', () => {
  const records = [
    { key: 'k', value: 'value', headers: { a: '1', b: null }, timestamp: 1000 },
    { key: null, value: 'x'.repeat(200), timestamp: 5000 },
  ];

  it('magic-2 batches (plain and gzip)', () => {
    for (const compression of [0, 1]) {
      const good = buildRecordBatch(records, { compression, now: 1 });
      for (let i = 0; i < 3000; i++) {
        const b = mutate(good);
        b.writeInt32BE(good.length - 12, BatchOffset.batchLength);
        b[BatchOffset.magic] = 2;
        b.writeUInt32BE(crc32c(b, BatchOffset.attributes, b.length), BatchOffset.crc);
        onlyKafkaErrors(() => decodeRecords(b));
        onlyKafkaErrors(() => downConvertBatches(b, 1, 0));
      }
    }
  });

  it('legacy message sets (plain and gzip, magic 0 and 1)', () => {
    for (const magic of [0, 1] as const) {
      for (const compression of [0, 1]) {
        const good = buildMessageSet(records, { magic, compression, now: 1 });
        for (let i = 0; i < 2000; i++) {
          const b = mutate(good);
          if (rand(2)) {
            // keep the frame so the CRC path and the fields behind it get exercised
            b.writeInt32BE(good.length - 12, 8);
            b.writeUInt32BE(crc32(b, 16, b.length), 12);
          }
          onlyKafkaErrors(() => decodeRecords(b));
          onlyKafkaErrors(() => upConvertMessageSet(b));
        }
      }
    }
  });

  it('random truncations', () => {
    const mixed = Buffer.concat([buildRecordBatch(records, { now: 1 }), buildMessageSet(records, { magic: 1, now: 1 })]);
    for (let cut = 0; cut <= mixed.length; cut++) {
      onlyKafkaErrors(() => decodeRecords(mixed.subarray(0, cut)));
      onlyKafkaErrors(() => upConvertMessageSet(mixed.subarray(0, cut)));
    }
    expect(decodeRecords(mixed)).toHaveLength(4);
  });
});
