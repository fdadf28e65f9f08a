// The kit's waits and reads (waitForGroupStable, waitForOffsets, consumeAll from the package entry)
// against kafkajs consumer groups and producers on an in-memory broker and a 3-broker cluster.
import { Kafka, logLevel, type Consumer, type Kafka as KafkaClient } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumeAll, startBroker, startCluster, waitForGroupStable, waitForOffsets, type BrokerHandle } from '../../src/index.js';

function kafkaFor(bootstrap: string): KafkaClient {
  return new Kafka({ clientId: 'kit-helpers', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } });
}

let broker: BrokerHandle;
beforeAll(async () => {
  broker = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error' });
});
afterAll(() => broker.close());

describe('the kit helpers with kafkajs groups', () => {
  it('waitForGroupStable sees two kafkajs members settle, waitForOffsets their commits, consumeAll every record', async () => {
    const kafka = kafkaFor(broker.bootstrap);
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumers: Consumer[] = [];
    await admin.connect();
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }], waitForLeaders: true });
      for (let p = 0; p < 3; p++) {
        await producer.send({ topic: 'orders', messages: Array.from({ length: 10 + p }, (_, i) => ({ partition: p, key: `k${i}`, value: `p${p}-${i}` })) });
      }
      const seen: string[] = [];
      for (let i = 0; i < 2; i++) {
        const consumer = kafka.consumer({ groupId: 'pair', sessionTimeout: 6000, heartbeatInterval: 200, maxWaitTimeInMs: 100 });
        consumers.push(consumer);
        await consumer.connect();
        await consumer.subscribe({ topic: 'orders', fromBeginning: true });
        await consumer.run({ autoCommitInterval: 100, eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      }
      const group = await waitForGroupStable(broker, 'pair', { members: 2 });
      expect(group.state).toBe('Stable');
      expect(group.members).toHaveLength(2);
      expect(group.members.flatMap((m) => m.assignment.map((a) => a.partition)).sort()).toEqual([0, 1, 2]);

      const committed = await waitForOffsets(broker, 'pair', 'orders', { 0: 10, 1: 11, 2: 12 });
      expect(committed).toEqual({ 0: 10, 1: 11, 2: 12 });
      // What kafkajs's own admin reads back.
      const viaKafkajs = await admin.fetchOffsets({ groupId: 'pair', topics: ['orders'] });
      expect(viaKafkajs[0].partitions.map((p) => [p.partition, Number(p.offset)]).sort()).toEqual([[0, 10], [1, 11], [2, 12]]);
      expect(seen).toHaveLength(33);

      const records = await consumeAll(broker, 'orders');
      expect(records.map((r) => `${r.partition}:${r.offset}:${r.key!.toString()}:${r.value!.toString()}`)).toEqual(
        [0, 1, 2].flatMap((p) => Array.from({ length: 10 + p }, (_, i) => `${p}:${i}:k${i}:p${p}-${i}`)),
      );

      // One member leaves: the group rebalances to one member, and the wait says so.
      await consumers.pop()!.disconnect();
      expect((await waitForGroupStable(broker.bootstrap, 'pair', { members: 1 })).members).toHaveLength(1);
    } finally {
      for (const c of consumers) await c.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('waits time out naming what they last saw, and consumeAll reads an empty topic as []', async () => {
    await expect(waitForGroupStable(broker, 'nobody', { timeoutMs: 300 })).rejects.toThrow(/timed out after 300 ms waiting for group 'nobody' to be Stable; last seen: state Dead, 0 members/);
    await expect(waitForOffsets(broker, 'nobody', 'orders', [5], { timeoutMs: 300 })).rejects.toThrow(/orders-0@-1/);
    await expect(waitForOffsets(broker, 'nobody', 'orders', { 0: -1 })).rejects.toThrow(RangeError);
    const admin = kafkaFor(broker.bootstrap).admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'empty', numPartitions: 2 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    expect(await consumeAll(broker, 'empty')).toEqual([]);
  });

  it('consumeAll with read_committed leaves an aborted transaction out, and reads a cluster through its followers\' leaders', async () => {
    const cluster = await startCluster({ brokers: 3, replicationFactor: 3, logLevel: 'error' });
    const kafka = kafkaFor(cluster.bootstrap);
    const producer = kafka.producer({ transactionalId: 'kit-helpers-tx', maxInFlightRequests: 1, idempotent: true });
    await producer.connect();
    try {
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'tx', numPartitions: 2, replicationFactor: 3 }], waitForLeaders: true });
      await admin.disconnect();
      const kept = await producer.transaction();
      await kept.send({ topic: 'tx', messages: [{ partition: 0, value: 'kept-0' }, { partition: 1, value: 'kept-1' }] });
      await kept.commit();
      const dropped = await producer.transaction();
      await dropped.send({ topic: 'tx', messages: [{ partition: 0, value: 'dropped' }] });
      await dropped.abort();
      const committed = await consumeAll(cluster, 'tx', { isolation: 'read_committed' });
      expect(committed.map((r) => r.value!.toString())).toEqual(['kept-0', 'kept-1']);
      const everything = await consumeAll(cluster, 'tx');
      expect(everything.map((r) => r.value!.toString())).toEqual(['kept-0', 'dropped', 'kept-1']);
    } finally {
      await producer.disconnect();
      await cluster.close();
    }
  });
});
