// startCluster's moveLeader and moveCoordinator: leadership moved through the controller
// (reassignment to a new replica order + preferred election), with kafkajs producing and consuming
// in a group across each move.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, startCluster, type ClusterHandle } from '../../src/index.js';
import { KafkaClient } from '../../src/client/index.js';
import { namesGroup, recorded, until } from './support.js';

let cluster: ClusterHandle;
beforeAll(async () => {
  cluster = await startCluster({ brokers: 3, replicationFactor: 3, logLevel: 'error' });
});
afterAll(() => cluster.close());

describe('startCluster moves', () => {
  it('moveLeader and moveCoordinator move leadership and the group coordinator while a kafkajs producer and group keep working', async () => {
    const kafka = new Kafka({ clientId: 'kit-moves', brokers: cluster.bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50 } });
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: 'movers', sessionTimeout: 6000, heartbeatInterval: 100, maxWaitTimeInMs: 100 });
    await admin.connect();
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'moving', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
      const leaderOf = async () => (await admin.fetchTopicMetadata({ topics: ['moving'] })).topics[0].partitions[0].leader;
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: 'moving', fromBeginning: true });
      await consumer.run({ autoCommitInterval: 50, eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      let sent = 0;
      const send = async (n: number) => {
        for (let i = 0; i < n; i++) await producer.send({ topic: 'moving', acks: -1, messages: [{ value: `m${sent++}` }] });
      };
      await send(5);

      // Every other broker in turn becomes the leader; the producer keeps writing after each move.
      const first = await leaderOf();
      for (const to of [0, 1, 2].filter((b) => b !== first)) {
        await cluster.moveLeader('moving', 0, to);
        expect(await leaderOf()).toBe(to);
        const before = recorded(cluster.broker(to), ApiKey.Produce).length;
        await send(5);
        expect(recorded(cluster.broker(to), ApiKey.Produce).length).toBeGreaterThan(before);
      }
      await until('every record consumed', () => seen.length >= sent);

      // The coordinator: to a broker that is not coordinating the group now.
      const coordinatorNow = () => coordinatorOf(cluster.bootstrap, 'movers');
      const from = await coordinatorNow();
      const to = [0, 1, 2].find((b) => b !== from)!;
      await cluster.moveCoordinator('movers', to);
      expect(await coordinatorNow()).toBe(to);
      cluster.broker(to).clearRequests();
      await send(5);
      await until('the records after the coordinator moved', () => seen.length >= sent);
      // The kafkajs member found the new coordinator: it heartbeats and commits there.
      await until('a Heartbeat at the new coordinator', () => recorded(cluster.broker(to), ApiKey.Heartbeat, namesGroup('movers')).some((r) => r.errorCode === 0));
      await until('an OffsetCommit at the new coordinator', () => recorded(cluster.broker(to), ApiKey.OffsetCommit, namesGroup('movers')).some((r) => r.errorCode === 0));
      expect(new Set(seen)).toEqual(new Set(Array.from({ length: sent }, (_, i) => `m${i}`)));

      await expect(cluster.moveLeader('moving', 7, 0)).rejects.toThrow(/no partition 7/);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});

/** FindCoordinator's answer (kafkajs keeps its coordinator lookup private), through kts's client. */
async function coordinatorOf(bootstrap: string, groupId: string): Promise<number> {
  const client = await KafkaClient.connect(bootstrap);
  try {
    return await client.groups.findCoordinator(groupId);
  } finally {
    client.close();
  }
}
