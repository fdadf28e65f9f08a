// snappy, lz4 and zstd as registered by src/protocol/records/codecs.ts: round trips at every
// magic, golden batches captured from librdkafka, the formats other producers write (xerial and
// raw snappy, LZ4 frames with checksums/linked blocks/content size, zstd without a content size),
// KAFKA-3160's lz4 header checksum, and bounded output (decompression bombs).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import '../../../src/protocol/records/codecs.js';
import { compress, decompress, decompressAsync, decodeRecordBatch, hasCodec } from '../../../src/protocol/records/index.js';
import { lz4CompressFrame, lz4DecompressFrame, xxhash32 } from '../../../src/protocol/records/lz4.js';
import { requireTool } from '../../helpers/tools.js';
import { codeOf, codeOfAsync } from '../../helpers/kafka-error.js';

const kcatGolden = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../fixtures/records/kcat-batches.json'), 'utf8'));

const text = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `record-${i % 977} value ${i}\n`).join(''));
const inputs: Array<[string, Buffer]> = [
  ['empty', Buffer.alloc(0)],
  ['one byte', Buffer.from('a')],
  ['random 100 KB', randomBytes(100_000)],
  ['text 400 KB', text],
  ['zeros 300 KB', Buffer.alloc(300_000, 7)],
];

describe('registered codecs', () => {
  it('all four are available', () => {
    for (const id of [1, 2, 3, 4]) expect(hasCodec(id)).toBe(true);
  });

  for (const [id, name] of [
    [1, 'gzip'],
    [2, 'snappy'],
    [3, 'lz4'],
    [4, 'zstd'],
  ] as const) {
    for (const magic of id === 4 ? [2] : [0, 1, 2]) {
      it(`${name} magic ${magic}: round trips`, () => {
        for (const [label, input] of inputs) {
          const packed = compress(id, input, magic);
          expect(decompress(id, packed, 1 << 30, magic).equals(input), label).toBe(true);
        }
        expect(compress(id, text, magic).length).toBeLessThan(text.length / 2);
      });
    }

    it(`${name}: output over the bound is INVALID_RECORD (decompression bomb)`, () => {
      const bomb = compress(id, Buffer.alloc(20_000_000));
      expect(bomb.length).toBeLessThan(2_000_000);
      expect(codeOf(() => decompress(id, bomb, 1_000_000))).toBe(ErrorCode.INVALID_RECORD);
    });

    it(`${name}: garbage is CORRUPT_MESSAGE`, () => {
      const bad = compress(id, text);
      bad.fill(0xa5, Math.floor(bad.length / 3));
      expect([ErrorCode.CORRUPT_MESSAGE, ErrorCode.INVALID_RECORD]).toContain(codeOf(() => decompress(id, bad, 1 << 30)));
      expect(codeOf(() => decompress(id, Buffer.from('not compressed at all, no'), 1 << 30))).toBe(ErrorCode.CORRUPT_MESSAGE);
    });
  }
});

describe('golden batches from librdkafka decode with our codecs', () => {
  for (const c of kcatGolden.cases) {
    it(c.codec, () => {
      const { records } = decodeRecordBatch(Buffer.from(c.hex, 'hex'));
      expect(records.map((r) => r.value?.toString())).toEqual(kcatGolden.records.map((r: { value: string }) => r.value));
    });
  }
});

describe('snappy framing', () => {
  it('writes the xerial stream (Kafka Java) and reads raw snappy (librdkafka, kafkajs)', async () => {
    const packed = compress(2, text);
    expect(packed.subarray(0, 8)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]));
    const { createRequire } = await import('node:module');
    const snappy = createRequire(import.meta.url)('snappy-napi') as { compressSync(b: Buffer): Buffer };
    const raw = snappy.compressSync(text);
    expect(decompress(2, raw).equals(text)).toBe(true);
    // kafkajs-snappy (snappyjs, pure JS) reads what we write
    const kafkajsSnappy = createRequire(import.meta.url)('kafkajs-snappy') as () => { decompress(b: Buffer): Promise<Buffer> };
    expect((await kafkajsSnappy().decompress(packed)).equals(text)).toBe(true);
  });
});

describe('lz4 frames', () => {
  it('xxhash32 matches the reference values', () => {
    expect(xxhash32(Buffer.alloc(0))).toBe(0x02cc5d05);
    expect(xxhash32(Buffer.from('abc'))).toBe(0x32d153ff);
    expect(xxhash32(Buffer.from('Nobody inspects the spammish repetition'))).toBe(0xe2293b2f);
  });

  it('KAFKA-3160: magic 0 writes the old header checksum; magic 0/1 input may carry it, magic 2 may not', () => {
    const old = compress(3, text, 0);
    const good = compress(3, text, 2);
    expect(old[6]).toBe((xxhash32(old, 0, 6) >>> 8) & 0xff);
    expect(good[6]).toBe((xxhash32(good, 4, 6) >>> 8) & 0xff);
    expect(decompress(3, old, 1 << 30, 0).equals(text)).toBe(true);
    expect(decompress(3, old, 1 << 30, 1).equals(text)).toBe(true);
    expect(decompress(3, good, 1 << 30, 0).equals(text)).toBe(true);
    expect(codeOf(() => decompress(3, old, 1 << 30, 2))).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  const lz4 = requireTool('lz4');
  it.runIf(lz4 !== null)('interoperates with the lz4 command (linked blocks, block checksums, content size)', () => {
    const input = Buffer.from(Array.from({ length: 60_000 }, (_, i) => `${i}\n`).join(''));
    expect(execFileSync(lz4!, ['-d', '-c'], { input: lz4CompressFrame(input) }).equals(input)).toBe(true);
    for (const flags of [['-BD'], ['-BX'], ['--content-size'], ['-B4', '--no-frame-crc']]) {
      const framed = execFileSync(lz4!, ['-c', ...flags], { input });
      expect(lz4DecompressFrame(framed, 1 << 30).equals(input), flags.join(' ')).toBe(true);
    }
  });
});

describe('zstd frames', () => {
  const zstd = requireTool('zstd');
  it.runIf(zstd !== null)('reads frames without a content size (streaming compressors, Java) and multiple frames', () => {
    const input = Buffer.concat([text, text, text]);
    const streamed = execFileSync('sh', ['-c', `cat | ${zstd} -c -q`], { input }); // from a pipe: size unknown
    expect(decompress(4, streamed).equals(input)).toBe(true);
    expect(codeOf(() => decompress(4, streamed, 100_000))).toBe(ErrorCode.INVALID_RECORD);
    const two = Buffer.concat([compress(4, text), compress(4, text)]);
    expect(decompress(4, two).equals(Buffer.concat([text, text]))).toBe(true);
    expect(execFileSync(zstd!, ['-d', '-c', '-q'], { input: compress(4, text) }).equals(text)).toBe(true);
  });
});

describe('decompressAsync (what Produce uses on the event loop)', () => {
  it('gives the same bytes as decompress for every codec and input', async () => {
    for (const id of [1, 2, 3, 4]) {
      for (const [name, data] of inputs) {
        expect((await decompressAsync(id, compress(id, data))).equals(data), `${id} ${name}`).toBe(true);
      }
    }
  });

  it('gzip, snappy and lz4 hand the event loop back while a large input inflates', async () => {
    const big = Buffer.alloc(24 << 20, 0x61);
    for (const id of [1, 2, 3]) {
      const packed = compress(id, big);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 0);
      try {
        expect((await decompressAsync(id, packed)).length).toBe(big.length);
      } finally {
        clearInterval(ticker);
      }
      expect(ticks, `codec ${id}`).toBeGreaterThan(2);
    }
  });

  it('over the bound is INVALID_RECORD; snappy refuses from its block preambles before inflating', async () => {
    const big = Buffer.alloc(4 << 20, 0x61);
    for (const id of [1, 2, 3, 4]) expect(await codeOfAsync(decompressAsync(id, compress(id, big), 1 << 20)), `codec ${id}`).toBe(ErrorCode.INVALID_RECORD);
    const lying = compress(2, big);
    lying[16 + 4] ^= 0x01; // first block's preamble, one byte off: output no longer matches the blocks
    expect(await codeOfAsync(decompressAsync(2, lying))).toBe(ErrorCode.CORRUPT_MESSAGE);
  });
});
