// startBroker({ clock: 'fake' }) and broker.clock.advance(ms): retention, group sessions and
// transaction timeouts move with the broker's clock, driven by kafkajs; without the advance nothing
// of it happens within the test.
import { Kafka, logLevel, type Kafka as KafkaClientJs } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, startBroker, waitForGroupStable, type BrokerHandle } from '../../src/index.js';
import { KafkaClient, ListOffsetsTime } from '../../src/client/index.js';
import { until } from './support.js';

let broker: BrokerHandle;
let kafka: KafkaClientJs;
beforeAll(async () => {
  broker = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error', clock: 'fake' });
  kafka = new Kafka({ clientId: 'kit-clock', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } });
});
afterAll(() => broker.close());

async function offsets(topic: string, isolationLevel: 0 | 1 = 0): Promise<{ start: number; end: number }> {
  const client = await KafkaClient.connect(broker.bootstrap);
  try {
    const [start] = await client.admin.listOffsets([{ topic, partition: 0, timestamp: ListOffsetsTime.earliest }], { isolationLevel });
    const [end] = await client.admin.listOffsets([{ topic, partition: 0, timestamp: ListOffsetsTime.latest }], { isolationLevel });
    return { start: start.offset, end: end.offset };
  } finally {
    client.close();
  }
}

describe("a broker's fake clock", () => {
  it('deletes segments past retention.ms at the advance, not before', async () => {
    const admin = kafka.admin();
    const producer = kafka.producer();
    await admin.connect();
    await producer.connect();
    try {
      await admin.createTopics({
        topics: [{ topic: 'aging', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }, { name: 'segment.bytes', value: '1024' }] }],
        waitForLeaders: true,
      });
      for (let i = 0; i < 20; i++) await producer.send({ topic: 'aging', messages: [{ value: 'x'.repeat(200) }] });
      await broker.clock!.advance(0);
      expect(await offsets('aging')).toEqual({ start: 0, end: 20 });
      await broker.clock!.advance(59 * 60_000);
      expect((await offsets('aging')).start).toBe(0);
      await broker.clock!.advance(2 * 60_000);
      // Every closed segment is past the hour; the active one (with the last record) stays.
      const after = await offsets('aging');
      expect(after.end).toBe(20);
      expect(after.start).toBeGreaterThanOrEqual(15);
      expect(broker.clock!.offsetMs).toBe(61 * 60_000);
    } finally {
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('expires a silent group member at the advance past its session timeout', async () => {
    const consumer = kafka.consumer({ groupId: 'sleepy', sessionTimeout: 30_000, heartbeatInterval: 100, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'aging', fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    let silence: ReturnType<BrokerHandle['faults']['pause']> | undefined;
    try {
      await waitForGroupStable(broker, 'sleepy', { members: 1 });
      // The member's heartbeats are held unanswered: to the broker it is silent.
      silence = broker.faults.pause({ apiKey: ApiKey.Heartbeat, group: 'sleepy' });
      await silence.waitForHeld(1);
      await broker.clock!.advance(10_000);
      expect((await waitForGroupStable(broker, 'sleepy', { timeoutMs: 1000 })).members).toHaveLength(1);
      await broker.clock!.advance(25_000);
      const client = await KafkaClient.connect(broker.bootstrap);
      try {
        const [group] = await client.groups.describeGroups(['sleepy']);
        expect(group.members).toHaveLength(0);
        expect(group.state).toBe('Empty');
      } finally {
        client.close();
      }
    } finally {
      silence?.remove();
      await consumer.disconnect().catch(() => {});
    }
  });

  it('aborts an open transaction at the advance past its timeout', async () => {
    const producer = kafka.producer({ transactionalId: 'slow-tx', transactionTimeout: 60_000, maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    try {
      const tx = await producer.transaction();
      await tx.send({ topic: 'open-tx', messages: [{ value: 'pending' }] });
      await broker.clock!.advance(1_000);
      // Open: nothing is stable yet.
      expect(await offsets('open-tx', 1)).toEqual({ start: 0, end: 0 });
      await broker.clock!.advance(60_000);
      // Aborted: the record and the abort marker are below the last stable offset.
      await until('the abort marker', async () => ((await offsets('open-tx', 1)).end === 2 ? true : undefined), 10_000);
      await expect(tx.commit()).rejects.toThrow();
    } finally {
      await producer.disconnect();
    }
  });

  it('is absent on a broker with the real clock, and refuses a bad advance', async () => {
    const plain = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error' });
    try {
      expect(plain.clock).toBeUndefined();
    } finally {
      await plain.close();
    }
    await expect(broker.clock!.advance(-1)).rejects.toThrow(RangeError);
  });
});
