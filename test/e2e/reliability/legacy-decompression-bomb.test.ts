// Decompression bombs in legacy message sets (Produce v0-v2, magic 0/1: what kafka-node sends),
// against the real broker with its memory watched and a second connection producing and asking
// ApiVersions throughout (support.ts underAttack). A compressed legacy wrapper holds a whole
// nested message set, so a ~120 KB request can claim millions of messages or a 120 MB value:
//   - millions of tiny inner messages (26/34 bytes each) past the bound, for gzip and snappy
//     (xerial, as Java writes it, and raw, as kafka-node does), in v0 and v1 wrappers;
//   - twelve wrappers of 10 MB each: no single one past the bound, together past it;
//   - one inner message whose value is 120 MB of zeros;
//   - an inner message declaring a 2 GB size, or a key longer than its message;
//   - a wrapper inside a wrapper (Kafka refuses compressed inner messages, INVALID_RECORD) whose
//     nested set is itself a bomb;
//   - and, accepted: 2 M tiny messages inside the bound, stored as one batch.
// Over the bound -> INVALID_RECORD (as for magic-2 batches); sizes the bytes cannot hold ->
// CORRUPT_MESSAGE. Each is answered within seconds, the broker's RSS grows by a bounded amount (a
// 189 KB gzip wrapper used to cost +872 MB and stall the broker 8.5 s), the second client's worst
// round trip stays small, the refused ones store nothing, and the broker takes a normal legacy
// set afterwards. The bombs are built by repeating one compressed 1 MB chunk (gzip members and
// xerial snappy blocks may be concatenated), except raw snappy, which is one block.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/protocol/errors.js';
import '../../../src/protocol/records/codecs.js';
import { compress, crc32 } from '../../../src/protocol/records/index.js';
import { buildMessageSet, legacyEntrySize, writeLegacyEntry } from '../../../src/protocol/records/legacy-message-set.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { SECOND_CLIENT_WALL_MS, createTopic, figure, mb, produce, underAttack } from './support.js';

const require = createRequire(import.meta.url);
const snappyRaw = (data: Buffer): Buffer => (require('snappy-napi') as { compressSync(b: Buffer): Buffer }).compressSync(data);

const GZIP = 1;
const SNAPPY = 2;
const XERIAL_HEADER = 16;
const MB = 1 << 20;

/** One legacy wrapper message holding `packed` (a compressed nested set) at offset 0. */
function wrapper(magic: 0 | 1, codec: number, packed: Buffer): Buffer {
  const b = Buffer.alloc(legacyEntrySize(magic, -1, packed.length));
  writeLegacyEntry(b, 0, 0, magic, codec, magic === 1 ? Date.now() : -1, null, packed);
  return b;
}

/** `chunk` `times` times over, compressed by concatenating one compressed copy (raw snappy: compressed whole). */
function packed(codec: number, chunk: Buffer, times: number, raw = false): Buffer {
  if (raw) return snappyRaw(Buffer.concat(Array(times).fill(chunk)));
  const one = compress(codec, chunk, 1);
  const parts = [one];
  for (let i = 1; i < times; i++) parts.push(codec === SNAPPY ? one.subarray(XERIAL_HEADER) : one);
  return Buffer.concat(parts);
}

/** ~1 MB of tiny messages (null key and value) of `magic`, all at offset 0 (it compresses to ~1 KB). */
function tinyMessages(magic: 0 | 1): Buffer {
  const size = legacyEntrySize(magic, -1, -1);
  const count = Math.floor(MB / size);
  const set = buildMessageSet(Array.from({ length: count }, () => ({ key: null, value: null })), { magic, now: 1 });
  for (let pos = 0; pos < set.length; pos += size) set.writeBigInt64BE(0n, pos); // the offset is outside the CRC
  return set;
}

const body = (topic: string, records: Buffer) => ({
  acks: -1,
  timeoutMs: 30_000,
  topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
});

describe('legacy (magic 0/1) decompression bombs: bounded memory and time, other clients served', () => {
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
    // A raw snappy bomb needs ~6 MB of input (snappy inflates ~21x at most).
    expect(await createTopic(healthy, 'legacy-bomb', 1, { 'max.message.bytes': String(16 << 20) })).toBe(0);
    expect(await createTopic(healthy, 'legacy-many', 1, { 'max.message.bytes': String(16 << 20) })).toBe(0);
    expect((await produce(healthy, 'health', ['warm-up'])).errorCode).toBe(0);
  });
  afterAll(async () => {
    healthy?.close();
    attacker?.close();
    await broker?.stop();
  });

  /** Produces `set` with Produce v0 (magic 0) or v2 (magic 1) under attack; the answer and the figures. */
  async function bombard(name: string, topic: string, magic: 0 | 1, set: Buffer) {
    const version = magic === 0 ? 0 : 2;
    const r = await underAttack(pid, healthy, () => attacker.request(0, version, body(topic, set)));
    const answer = r.result.responses[0].partitionResponses[0];
    figure(
      'legacy-decompression-bomb',
      `${name}: ${(set.length / 1024).toFixed(0)} KB Produce v${version} answered ${answer.errorCode} in ${r.elapsed.toFixed(0)} ms; ` +
        `broker CPU ${r.cpu} ms, RSS +${mb(r.growth)}; healthy client ${r.rounds} round trips, worst ${r.worst.toFixed(0)} ms (event loop busy ${r.worstStall} ms of it)`,
    );
    expect(r.cpu).toBeLessThan(20_000);
    expect(r.growth).toBeLessThan(400 * 1024);
    expect(r.worstStall).toBeLessThan(2500);
    expect(r.worst).toBeLessThan(SECOND_CLIENT_WALL_MS);
    return answer;
  }

  async function stillServes(topic: string, expectedOffset: number) {
    for (const [magic, codec] of [
      [0, GZIP],
      [1, SNAPPY],
    ] as const) {
      const set = buildMessageSet([{ key: 'k', value: 'after the bomb' }], { magic, compression: codec });
      const p = (await attacker.request(0, magic === 0 ? 0 : 2, body(topic, set))).responses[0].partitionResponses[0];
      expect(p.errorCode).toBe(0);
      expect(Number(p.baseOffset)).toBe(expectedOffset++); // the bombs stored nothing
    }
  }

  const CHUNKS = 115; // ~115 MB of messages: past the 100 MiB bound (socket.request.max.bytes)

  it('millions of tiny inner messages past the bound (gzip, xerial and raw snappy; v0 and v1 wrappers) are refused with INVALID_RECORD', async () => {
    for (const [name, magic, codec, raw] of [
      ['gzip v0', 0, GZIP, false],
      ['gzip v1', 1, GZIP, false],
      ['snappy (xerial) v1', 1, SNAPPY, false],
      ['snappy (raw, as kafka-node) v0', 0, SNAPPY, true],
    ] as const) {
      const chunk = tinyMessages(magic);
      const count = (chunk.length / legacyEntrySize(magic, -1, -1)) * CHUNKS;
      const answer = await bombard(`${name}, ${(count / 1e6).toFixed(1)} M tiny messages`, 'legacy-bomb', magic, wrapper(magic, codec, packed(codec, chunk, CHUNKS, raw)));
      expect(answer.errorCode).toBe(ErrorCode.INVALID_RECORD);
    }
    await stillServes('legacy-bomb', 0);
  });

  it('twelve 10 MB wrappers, each inside the bound but past it together, are refused with INVALID_RECORD', async () => {
    const one = wrapper(1, GZIP, packed(GZIP, tinyMessages(1), 10));
    const answer = await bombard('gzip v1, 12 wrappers x 10 MB of tiny messages', 'legacy-bomb', 1, Buffer.concat(Array(12).fill(one)));
    expect(answer.errorCode).toBe(ErrorCode.INVALID_RECORD);
    await stillServes('legacy-bomb', 2);
  });

  it('one inner message with a 120 MB value of zeros is refused with INVALID_RECORD', async () => {
    for (const [magic, codec] of [
      [0, GZIP],
      [1, SNAPPY],
    ] as const) {
      // The message's header, then its value as concatenated compressed chunks of zeros.
      const valueLength = 120 * MB;
      const head = Buffer.alloc(legacyEntrySize(magic, -1, 0));
      writeLegacyEntry(head, 0, 0, magic, 0, magic === 1 ? 1 : -1, null, Buffer.alloc(0));
      head.writeInt32BE(head.length - 12 + valueLength, 8);
      head.writeInt32BE(valueLength, head.length - 4);
      const zeros = Buffer.alloc(MB);
      let crc = crc32(head, 16, head.length);
      for (let i = 0; i < 120; i++) crc = crc32(zeros, 0, MB, crc);
      head.writeUInt32BE(crc, 12);
      const parts = [compress(codec, head, 1), ...Array(120).fill(compress(codec, zeros, 1).subarray(codec === SNAPPY ? XERIAL_HEADER : 0))];
      const answer = await bombard(`${codec === GZIP ? 'gzip' : 'snappy'} v${magic}, one 120 MB value`, 'legacy-bomb', magic, wrapper(magic, codec, Buffer.concat(parts)));
      expect(answer.errorCode).toBe(ErrorCode.INVALID_RECORD);
    }
    await stillServes('legacy-bomb', 4);
  });

  it('inner messages whose sizes the bytes cannot hold are refused with CORRUPT_MESSAGE', async () => {
    // A size field of 2^31-1 over a few bytes.
    const huge = Buffer.alloc(12 + 14);
    huge.writeInt32BE(0x7fffffff, 8);
    expect((await bombard('gzip v0, inner size 2^31-1', 'legacy-bomb', 0, wrapper(0, GZIP, compress(GZIP, huge, 0)))).errorCode).toBe(
      ErrorCode.CORRUPT_MESSAGE,
    );
    // A well-formed v0 message (CRC right) whose key length says 2^31-16.
    const keyed = buildMessageSet([{ key: 'k', value: 'v' }], { magic: 0 });
    keyed.writeInt32BE(0x7ffffff0, 12 + 6);
    keyed.writeUInt32BE(crc32(keyed, 16, keyed.length), 12);
    expect((await bombard('gzip v0, inner key length 2^31-16', 'legacy-bomb', 0, wrapper(0, GZIP, compress(GZIP, keyed, 0)))).errorCode).toBe(
      ErrorCode.CORRUPT_MESSAGE,
    );
    await stillServes('legacy-bomb', 6);
  });

  it('a wrapper inside a wrapper (its nested set a bomb) is refused with INVALID_RECORD without inflating the nested set', async () => {
    let set = wrapper(1, GZIP, packed(GZIP, tinyMessages(1), CHUNKS));
    for (let depth = 0; depth < 50; depth++) set = wrapper(1, GZIP, compress(GZIP, set, 1));
    expect((await bombard('gzip v1, 50 nested wrappers around a bomb', 'legacy-bomb', 1, set)).errorCode).toBe(ErrorCode.INVALID_RECORD);
    await stillServes('legacy-bomb', 8);
  });

  it('2 M tiny messages inside the bound are stored as one batch, in bounded memory and time', async () => {
    const chunk = tinyMessages(1);
    const perChunk = chunk.length / legacyEntrySize(1, -1, -1);
    const chunks = Math.ceil(2_000_000 / perChunk);
    const answer = await bombard(`gzip v1, ${((perChunk * chunks) / 1e6).toFixed(2)} M tiny messages (accepted)`, 'legacy-many', 1, wrapper(1, GZIP, packed(GZIP, chunk, chunks)));
    expect(answer.errorCode).toBe(0);
    expect(Number(answer.baseOffset)).toBe(0);
    await stillServes('legacy-many', perChunk * chunks);
  });
});
