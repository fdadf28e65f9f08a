// Fetch v13-v18 (KIP-516): topics by id. @platformatic/kafka writes the topic id where Fetch v12
// wants the name, so it consumes only from a broker offering v13+; an unknown id gets
// UNKNOWN_TOPIC_ID (100), as from Kafka.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Consumer, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, runKafkaTool } from '../../helpers/real-kafka.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';

const UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

describe('Fetch with topic ids (v13+)', () => {
  let broker: SpawnedBroker;
  let raw: RawClient;
  let topicId: string;
  beforeAll(async () => {
    broker = await spawnBroker();
    raw = await RawClient.connect(broker.port);
    const created = await raw.request(19, 7, {
      topics: [{ name: 'by-id', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10000,
      validateOnly: false,
    });
    expect(created.topics[0].errorCode).toBe(0);
    topicId = created.topics[0].topicId;
    for (const partition of [0, 1]) {
      const res = await raw.request(0, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 10000,
        topicData: [{ name: 'by-id', partitionData: [{ index: partition, records: buildRecordBatch([0, 1, 2].map((i) => ({ key: `k${i}`, value: `p${partition}-${i}` }))) }] }],
      });
      expect(res.responses[0].partitionResponses[0].errorCode).toBe(0);
    }
  });
  afterAll(async () => {
    raw?.close();
    await broker?.stop();
  });

  it('ApiVersions offers Fetch up to v18 (Kafka 4.4)', async () => {
    const res = await raw.request(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    expect(res.apiKeys.find((k: { apiKey: number }) => k.apiKey === 1)).toMatchObject({ minVersion: 0, maxVersion: 18 });
  });

  for (const version of [13, 15, 17, 18]) {
    it(`Fetch v${version}: records by topic id; an unknown id answers UNKNOWN_TOPIC_ID`, async () => {
      const res = await raw.request(1, version, {
        replicaId: -1,
        replicaState: { replicaId: -1, replicaEpoch: -1 },
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 1 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [
          { topicId, partitions: [{ partition: 1, currentLeaderEpoch: -1, fetchOffset: 1, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] },
          { topicId: UNKNOWN_ID, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] },
        ],
        forgottenTopicsData: [],
        rackId: '',
      });
      expect(res.errorCode).toBe(0);
      expect(res.responses.map((t: { topicId: string }) => t.topicId)).toEqual([topicId, UNKNOWN_ID]);
      const [found, unknown] = res.responses.map((t: { partitions: any[] }) => t.partitions[0]);
      expect(found).toMatchObject({ partitionIndex: 1, errorCode: 0 });
      expect(Number(found.highWatermark)).toBe(3);
      expect(found.records.length).toBeGreaterThan(0);
      expect(unknown).toMatchObject({ partitionIndex: 0, errorCode: 100 });
    });
  }

  it('@platformatic/kafka produces and its consumer group reads everything', async () => {
    const producer = new Producer({ clientId: 'plat-producer', bootstrapBrokers: [broker.bootstrap], serializers: stringSerializers });
    try {
      await producer.send({ messages: [0, 1, 2, 3].map((i) => ({ topic: 'by-id', key: `plat-${i}`, value: `plat-${i}`, partition: i % 2 })) });
    } finally {
      await producer.close();
    }
    const consumer = new Consumer({ groupId: 'plat-readers', clientId: 'plat-consumer', bootstrapBrokers: [broker.bootstrap], deserializers: stringDeserializers, maxWaitTime: 200 });
    const seen: string[] = [];
    try {
      const stream = await consumer.consume({ topics: ['by-id'], mode: 'earliest', autocommit: true, sessionTimeout: 10000, heartbeatInterval: 500 });
      for await (const message of stream) {
        seen.push(message.value as string);
        if (seen.length === 10) break;
      }
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    expect(seen.sort()).toEqual(['p0-0', 'p0-1', 'p0-2', 'p1-0', 'p1-1', 'p1-2', 'plat-0', 'plat-1', 'plat-2', 'plat-3']);
  }, 60_000);

  it.skipIf(!kafkaLib(KAFKA_4))("the Java client 4.4 (Kafka's console consumer, Fetch v17 by topic id) reads partition 0", async () => {
    const r = await runKafkaTool(KAFKA_4, 'console-consumer', ['--bootstrap-server', broker.bootstrap, '--topic', 'by-id', '--partition', '0', '--offset', 'earliest', '--max-messages', '3', '--timeout-ms', '30000'], { timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('p0-0\np0-1\np0-2\n');
  }, 120_000);
});
