// Raw Produce requests against the real binary: a compressed batch with a bad CRC or a record count
// that lies is refused and nothing is stored; a topic with compression.type=zstd (or uncompressed)
// stores a gzip batch recompressed, with its records, timestamps, headers and producer fields kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../../src/protocol/errors.js';
import '../../../src/protocol/records/codecs.js';
import { BatchOffset, buildRecordBatch, crc32c, decodeRecords } from '../../../src/protocol/records/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { storedBatches } from './disk.js';

const records = Array.from({ length: 50 }, (_, i) => ({
  key: `k${i}`,
  value: `value ${i} `.repeat(10),
  timestamp: 1_700_000_000_000 + i,
  headers: [{ key: 'h', value: `v${i}` }],
}));

function produceBody(topic: string, batch: Buffer) {
  return { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] };
}

describe('produce validation and topic compression.type', () => {
  let broker: SpawnedBroker;
  let client: RawClient;
  beforeAll(async () => {
    broker = await spawnBroker();
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'checked', numPartitions: 1 },
        { topic: 'to-zstd', numPartitions: 1, configEntries: [{ name: 'compression.type', value: 'zstd' }] },
        { topic: 'to-plain', numPartitions: 1, configEntries: [{ name: 'compression.type', value: 'uncompressed' }] },
      ],
    });
    await admin.disconnect();
    client = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  const produce = async (topic: string, batch: Buffer) =>
    (await client.request(0, 8, produceBody(topic, batch))).responses[0].partitionResponses[0];
  const fetchAll = async (topic: string) => {
    const res = await client.request(1, 11, fetchBody(topic, [{ partition: 0, offset: 0 }], { maxBytes: 10_000_000 }));
    return res.responses[0].partitions[0];
  };

  it('a gzip batch whose CRC fails is CORRUPT_MESSAGE and nothing is stored', async () => {
    const batch = buildRecordBatch(records, { compression: 1 });
    batch[batch.length - 5] ^= 0xff; // inside the compressed records; the CRC is left as it was
    expect((await produce('checked', batch)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect((await fetchAll('checked')).highWatermark).toBe(0);
  });

  it('a compressed batch that lies about its record count is refused (INVALID_RECORD, as Kafka) and nothing is stored', async () => {
    for (const claimed of [49, 51]) {
      const batch = buildRecordBatch(records, { compression: 1 });
      batch.writeInt32BE(claimed, BatchOffset.recordCount);
      batch.writeInt32BE(claimed - 1, BatchOffset.lastOffsetDelta);
      batch.writeUInt32BE(crc32c(batch, BatchOffset.attributes, batch.length), BatchOffset.crc);
      expect((await produce('checked', batch)).errorCode, `claimed ${claimed}`).toBe(ErrorCode.INVALID_RECORD);
    }
    // a compressed stream that does not decompress: CORRUPT_MESSAGE
    const garbage = buildRecordBatch(records, { compression: 4 });
    garbage.fill(0x55, 61 + 8);
    garbage.writeUInt32BE(crc32c(garbage, BatchOffset.attributes, garbage.length), BatchOffset.crc);
    expect((await produce('checked', garbage)).errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect((await fetchAll('checked')).highWatermark).toBe(0);
    expect(storedBatches(broker.dataDir, 'checked', 0)).toEqual([]);
    // and a good one still goes in at offset 0
    expect(await produce('checked', buildRecordBatch(records, { compression: 1 }))).toMatchObject({ errorCode: 0, baseOffset: 0 });
  });

  for (const [topic, codec] of [
    ['to-zstd', 4],
    ['to-plain', 0],
  ] as const) {
    it(`compression.type on ${topic}: a gzip batch is stored with codec ${codec}, records and producer fields kept`, async () => {
      const batch = buildRecordBatch(records, { compression: 1, producerId: 77, producerEpoch: 0, baseSequence: 0 });
      expect(await produce(topic, batch)).toMatchObject({ errorCode: 0, baseOffset: 0 });
      const [stored] = storedBatches(broker.dataDir, topic, 0);
      expect(stored).toMatchObject({ codec, recordCount: 50, producerId: 77, producerEpoch: 0, baseSequence: 0 });
      const fetched = decodeRecords((await fetchAll(topic)).records);
      expect(fetched.map((r) => [r.offset, r.timestamp, r.key?.toString(), r.value?.toString(), r.headers[0].value?.toString()])).toEqual(
        records.map((r, i) => [i, r.timestamp, r.key, r.value, `v${i}`]),
      );
      // the producer state saw the rebuilt batch: its retry is a duplicate answered with offset 0
      expect(await produce(topic, batch)).toMatchObject({ errorCode: 0, baseOffset: 0 });
      expect((await fetchAll(topic)).highWatermark).toBe(50);
    });
  }
});
