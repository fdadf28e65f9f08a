// kafkajs against the real binary: admin create/list/fetchTopicOffsets/delete, a producer with
// headers and acks=-1 whose records are read back exactly by another client (kcat).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { kcat } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';

describe('kafkajs against kts', () => {
  let broker: SpawnedBroker;
  let kafka: Kafka;
  let admin: Admin;
  beforeAll(async () => {
    broker = await spawnBroker();
    kafka = new Kafka({ clientId: 'kts-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.disconnect();
    await broker?.stop();
  });

  it('admin creates, lists, reports offsets of and deletes topics', async () => {
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }, { topic: 'audit' }] })).toBe(true);
    // A second create of the same topic is refused (kafkajs answers false when it already exists).
    expect(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }] })).toBe(false);
    expect((await admin.listTopics()).sort()).toEqual(['audit', 'orders']);
    const meta = await admin.fetchTopicMetadata({ topics: ['orders'] });
    expect(meta.topics[0].partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
    expect(await admin.fetchTopicOffsets('orders')).toEqual(
      expect.arrayContaining([0, 1, 2].map((partition) => ({ partition, offset: '0', high: '0', low: '0' }))),
    );
    await admin.deleteTopics({ topics: ['audit'] });
    expect(await admin.listTopics()).toEqual(['orders']);
  });

  it('refuses invalid topic names and replication factors with Kafka error codes', async () => {
    await expect(admin.createTopics({ topics: [{ topic: '../x' }] })).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'INVALID_TOPIC_EXCEPTION' })],
    });
    await expect(admin.createTopics({ topics: [{ topic: 'rf3', replicationFactor: 3 }] })).rejects.toMatchObject({
      errors: [expect.objectContaining({ type: 'INVALID_REPLICATION_FACTOR' })],
    });
  });

  it('produces with headers and acks=-1; offsets advance; records read back exactly', async () => {
    await admin.createTopics({ topics: [{ topic: 'with-headers', numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    const sent = [];
    for (let i = 0; i < 5; i++) {
      sent.push(
        ...(await producer.send({
          topic: 'with-headers',
          acks: -1,
          messages: Array.from({ length: 100 }, (_, j) => ({
            key: `k${i}-${j}`,
            value: `v${i}-${j}`,
            headers: { 'trace-id': `t${i}-${j}`, origin: 'kafkajs' },
          })),
        })),
      );
    }
    await producer.disconnect();
    expect(sent.map((r) => r.baseOffset)).toEqual(['0', '100', '200', '300', '400']);
    expect(sent.every((r) => r.errorCode === 0)).toBe(true);
    const offsets = await admin.fetchTopicOffsets('with-headers');
    expect(offsets).toEqual([{ partition: 0, offset: '500', high: '500', low: '0' }]);
    if (kcatPath()) {
      const out = await kcat(['-b', broker.bootstrap, '-C', '-t', 'with-headers', '-o', 'beginning', '-e', '-q', '-f', '%o|%k|%s|%h\n']);
      const rows = out.trim().split('\n');
      expect(rows).toHaveLength(500);
      expect(rows[0]).toBe('0|k0-0|v0-0|trace-id=t0-0,origin=kafkajs');
      expect(rows[499]).toBe('499|k4-99|v4-99|trace-id=t4-99,origin=kafkajs');
    }
  });
});
