// Decompression bombs through Produce v7, one per codec (gzip, snappy, lz4, zstd), against the real
// broker with its memory watched (VmRSS from /proc) and a second connection producing and asking
// ApiVersions throughout:
//   - one record declaring 60,000,000 empty headers (each the bytes 00 01: 120 MB once inflated,
//     past what a batch may decompress to);
//   - a batch header claiming ~18 M tiny records (7 bytes each: 126 MB of records);
// each is refused with INVALID_RECORD (what Kafka answers for records inconsistent with their batch)
// within seconds of broker CPU, the broker's RSS grows by a bounded amount (it used to reach 3.4 GB),
// the event loop is never kept from the second client for long (it used to stall ~27 s; measured
// as main-thread CPU time, which a busy machine does not inflate), nothing is stored, and the broker
// still takes a normal batch of that codec afterwards. Six bombs sent at once queue for the
// broker's two inflation slots instead of adding up. An uncompressed batch claiming 2^31-1 records
// over a few bytes is refused at once too.
// The bombs are built without inflating them here: one compressed 1 MB chunk is repeated (gzip
// members, zstd and lz4 frames and xerial snappy blocks may all be concatenated).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import '../../../src/protocol/records/codecs.js';
import { BatchOffset, buildRecordBatch, compress, crc32c, writeVarint } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { SECOND_CLIENT_WALL_MS, createTopic, figure, mb, produce, underAttack } from './support.js';

const CODECS = [
  { id: 1, name: 'gzip' },
  { id: 2, name: 'snappy' },
  { id: 3, name: 'lz4' },
  { id: 4, name: 'zstd' },
];
const XERIAL_HEADER = 16;

/** A magic-2 batch header (CRC filled in) around `payload`, claiming `count` records. */
function batchAround(codec: number, count: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(61 + payload.length);
  payload.copy(b, 61);
  b.writeBigInt64BE(0n, BatchOffset.baseOffset);
  b.writeInt32BE(b.length - 12, BatchOffset.batchLength);
  b.writeInt32BE(-1, BatchOffset.partitionLeaderEpoch);
  b.writeInt8(2, BatchOffset.magic);
  b.writeInt16BE(codec, BatchOffset.attributes);
  b.writeInt32BE(count - 1, BatchOffset.lastOffsetDelta);
  const now = BigInt(Date.now());
  b.writeBigInt64BE(now, BatchOffset.baseTimestamp);
  b.writeBigInt64BE(now, BatchOffset.maxTimestamp);
  b.writeBigInt64BE(-1n, BatchOffset.producerId);
  b.writeInt16BE(-1, BatchOffset.producerEpoch);
  b.writeInt32BE(-1, BatchOffset.baseSequence);
  b.writeInt32BE(count, BatchOffset.recordCount);
  b.writeUInt32BE(crc32c(b, BatchOffset.attributes, b.length), BatchOffset.crc);
  return b;
}

/** `prefix` then `chunk` `times` times, compressed with `codec` by concatenating compressed parts. */
function concatenated(codec: number, prefix: Buffer | null, chunk: Buffer, times: number): Buffer {
  const packedChunk = compress(codec, chunk);
  const parts: Buffer[] = [];
  if (prefix) parts.push(compress(codec, prefix));
  for (let i = 0; i < times; i++) {
    // xerial snappy: one stream header, then blocks; a later stream's header is dropped.
    parts.push(codec === 2 && parts.length > 0 ? packedChunk.subarray(XERIAL_HEADER) : packedChunk);
  }
  return Buffer.concat(parts);
}

const HEADERS_PER_CHUNK = 500_000; // 1 MB of 00 01
const HEADER_CHUNKS = 120; // 60 M headers

/** One record (offset delta 0, null key and value) with 60 M empty headers. */
function headerBomb(codec: number): Buffer {
  const headers = HEADERS_PER_CHUNK * HEADER_CHUNKS;
  const chunk = Buffer.alloc(HEADERS_PER_CHUNK * 2);
  for (let i = 1; i < chunk.length; i += 2) chunk[i] = 0x01; // key length 0, value length -1
  const tail = Buffer.alloc(10);
  tail[0] = 0; // attributes
  tail[1] = 0; // timestampDelta
  tail[2] = 0; // offsetDelta
  tail[3] = 1; // key: null
  tail[4] = 1; // value: null
  const tailLength = 5 + writeVarint(tail, 5, headers);
  const prefix = Buffer.alloc(5 + tailLength);
  const n = writeVarint(prefix, 0, tailLength + chunk.length * HEADER_CHUNKS);
  tail.copy(prefix, n, 0, tailLength);
  return batchAround(codec, 1, concatenated(codec, prefix.subarray(0, n + tailLength), chunk, HEADER_CHUNKS));
}

const RECORDS_PER_CHUNK = 142_857; // 999,999 bytes of 7-byte records
const RECORD_CHUNKS = 126; // ~18 M records, 126 MB

/** A batch header claiming ~18 M records over ~18 M tiny ones (7 bytes each). */
function recordBomb(codec: number): Buffer {
  const chunk = Buffer.alloc(RECORDS_PER_CHUNK * 7);
  for (let i = 0; i < chunk.length; i += 7) chunk.set([0x0c, 0, 0, 0, 1, 1, 0], i); // length 6, attrs, ts, offset 0, null key, null value, 0 headers
  return batchAround(codec, RECORDS_PER_CHUNK * RECORD_CHUNKS, concatenated(codec, null, chunk, RECORD_CHUNKS));
}

const produceBody = (topic: string, batch: Buffer) => ({
  transactionalId: null,
  acks: -1,
  timeoutMs: 30_000,
  topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }],
});

describe('decompression bombs: bounded memory and time, other clients served', () => {
  let broker: SpawnedBroker;
  let pid: number;
  let healthy: RawClient;
  let attacker: RawClient;

  beforeAll(async () => {
    broker = await spawnBroker();
    pid = broker.process.pid!;
    healthy = await RawClient.connect(broker.port);
    attacker = await RawClient.connect(broker.port);
    expect(await createTopic(healthy, 'health', 1)).toBe(0);
    for (const c of CODECS) {
      // A snappy bomb needs ~6 MB of input (snappy inflates ~21x at most): let it past max.message.bytes.
      expect(await createTopic(healthy, `bomb-${c.name}`, 1, { 'max.message.bytes': String(16 << 20) })).toBe(0);
    }
    expect(await createTopic(healthy, 'bomb-none', 1)).toBe(0);
    expect((await produce(healthy, 'health', ['warm-up'])).errorCode).toBe(0);
  });
  afterAll(async () => {
    healthy?.close();
    attacker?.close();
    await broker?.stop();
  });

  /**
   * Sends `batch` on the attacker connection(s) while the healthy one keeps producing and asking
   * ApiVersions (support.ts underAttack); returns the answers and the figures.
   */
  async function bombard(topic: string, batch: Buffer, attackers = [attacker]) {
    const r = await underAttack(pid, healthy, () => Promise.all(attackers.map((a) => a.request(0, 7, produceBody(topic, batch)))));
    const answers = r.result.map((res) => res.responses[0].partitionResponses[0]);
    return { ...r, answer: answers[0], answers };
  }

  async function stillServes(codec: number, topic: string) {
    const good = buildRecordBatch([{ key: 'k', value: 'after the bomb' }], { compression: codec });
    const p = (await attacker.request(0, 7, produceBody(topic, good))).responses[0].partitionResponses[0];
    expect(p.errorCode).toBe(0);
    expect(Number(p.baseOffset)).toBe(0); // the bombs stored nothing
  }

  for (const c of CODECS) {
    it(`${c.name}: one record with 60 M headers and a batch of ~18 M tiny records are refused (INVALID_RECORD) in bounded memory and time`, async () => {
      for (const [shape, bomb] of [
        ['60M headers', headerBomb(c.id)],
        ['18M records', recordBomb(c.id)],
      ] as const) {
        const r = await bombard(`bomb-${c.name}`, bomb);
        figure(
          'decompression-bomb',
          `${c.name} ${shape}: ${(bomb.length / 1024).toFixed(0)} KB request answered ${r.answer.errorCode} in ${r.elapsed.toFixed(0)} ms; ` +
            `broker CPU ${r.cpu} ms, RSS +${mb(r.growth)}; healthy client ${r.rounds} round trips, worst ${r.worst.toFixed(0)} ms (event loop busy ${r.worstStall} ms of it)`,
        );
        expect(r.answer.errorCode).toBe(ErrorCode.INVALID_RECORD);
        expect(r.cpu).toBeLessThan(8000);
        expect(r.growth).toBeLessThan(400 * 1024);
        expect(r.worstStall).toBeLessThan(2500);
        expect(r.worst).toBeLessThan(SECOND_CLIENT_WALL_MS);
      }
      await stillServes(c.id, `bomb-${c.name}`);
    });
  }

  it('six bombs at once (gzip and lz4, each inflating past the bound) queue instead of adding up', async () => {
    const many = await Promise.all(Array.from({ length: 6 }, () => RawClient.connect(broker.port)));
    try {
      for (const codec of [1, 3]) {
        const name = codec === 1 ? 'gzip' : 'lz4';
        const r = await bombard(`bomb-${name}`, headerBomb(codec), many);
        figure(
          'decompression-bomb',
          `6 x ${name} 60M headers at once: answered ${r.answers.map((a) => a.errorCode).join(',')} in ${r.elapsed.toFixed(0)} ms; ` +
            `broker CPU ${r.cpu} ms, RSS +${mb(r.growth)}; healthy client ${r.rounds} round trips, worst ${r.worst.toFixed(0)} ms (event loop busy ${r.worstStall} ms of it)`,
        );
        expect(r.answers.map((a) => a.errorCode)).toEqual(Array(6).fill(ErrorCode.INVALID_RECORD));
        expect(r.cpu).toBeLessThan(20_000);
        expect(r.growth).toBeLessThan(400 * 1024);
        expect(r.worstStall).toBeLessThan(2500);
        expect(r.worst).toBeLessThan(SECOND_CLIENT_WALL_MS);
      }
    } finally {
      for (const c of many) c.close();
    }
  });

  it('uncompressed: a batch claiming 2^31-1 records over a few bytes is refused at once', async () => {
    const oneRecord = Buffer.from([0x0c, 0, 0, 0, 1, 1, 0]);
    const r = await bombard('bomb-none', batchAround(0, 0x7fffffff, oneRecord));
    figure('decompression-bomb', `uncompressed 2^31-1 records: answered ${r.answer.errorCode} in ${r.elapsed.toFixed(0)} ms, broker CPU ${r.cpu} ms; RSS +${mb(r.growth)}`);
    expect(r.answer.errorCode).toBe(ErrorCode.INVALID_RECORD);
    expect(r.cpu).toBeLessThan(2000);
    expect(r.growth).toBeLessThan(50 * 1024);
    await stillServes(0, 'bomb-none');
  });
});
