// startCluster: three in-memory brokers and the embedded coordinator in this process form one
// replicated cluster (ZooKeeper mode, as `kts server-start --brokers 3`). kafkajs produces acks=all
// to an RF=3 topic, the leader of a partition is closed, and every acknowledged record is still
// there, once, read back through a consumer group; the broker restarted on its memory files rejoins
// every ISR.
import { existsSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, startCluster, type ClusterHandle } from '../../src/index.js';
import { namesTopic, recorded, until } from './support.js';
import { BrokerConnection } from '../../src/client/connection.js';

/** A topic's id, from Metadata v12 of the broker on `port`. */
async function topicIdOf(port: number, topic: string): Promise<string> {
  const conn = await BrokerConnection.open('127.0.0.1', port, { clientId: 'kit-test', connectTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  try {
    const body = await conn.send(3, 12, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    return body.topics[0].topicId;
  } finally {
    conn.close();
  }
}

const TOPIC = 'orders';

describe('startCluster', () => {
  let cluster: ClusterHandle;
  let startMs = 0;
  beforeAll(async () => {
    const started = Date.now();
    cluster = await startCluster({ brokers: 3 });
    startMs = Date.now() - started;
  });
  afterAll(() => cluster?.close());

  it('an RF=3 topic keeps every acks=all record across the close of its leader; the restarted broker rejoins the ISRs', async () => {
    console.log(`startCluster({ brokers: 3 }) ready in ${startMs} ms`);
    expect(cluster.brokers.map((b) => b.nodeId)).toEqual([0, 1, 2]);
    expect(cluster.bootstrap.split(',')).toEqual(cluster.brokers.map((b) => b.bootstrap));
    expect(new Set(cluster.brokers.map((b) => b.clusterId)).size).toBe(1);
    expect(cluster.brokers.every((b) => b.storage === 'memory')).toBe(true);

    const kafka = new Kafka({ clientId: 'kit-cluster', brokers: cluster.bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId: 'kit-cluster-group', maxWaitTimeInMs: 250 });
    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] });
      const inSync = (want: number) => async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
        return topics[0].partitions.length === 3 && topics[0].partitions.every((p) => p.replicas.length === 3 && p.isr.length === want) && topics[0].partitions;
      };
      const partitions = await until('3 partitions with 3 replicas in sync', inSync(3));
      // The three leaders are spread over the three brokers (Kafka's replica placement).
      expect(new Set(partitions.map((p) => p.leader)).size).toBe(3);

      await producer.connect();
      const values = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` }));
      for (let i = 0; i < 10; i++) await producer.send({ topic: TOPIC, acks: -1, messages: values(i * 10, 10) });

      const victim = partitions.find((p) => p.partitionId === 0)!.leader;
      const [endBeforeStop] = (await admin.fetchTopicOffsets(TOPIC)).filter((o) => o.partition === 0).map((o) => Number(o.high));
      expect(endBeforeStop).toBeGreaterThan(0);
      await cluster.stopBroker(victim);
      expect(cluster.brokers.map((b) => b.nodeId)).not.toContain(victim);
      expect(() => cluster.broker(victim)).toThrow(/stopped/);
      // Acknowledged by the two left (min.insync.replicas=2), through the new leaders.
      for (let i = 10; i < 20; i++) await producer.send({ topic: TOPIC, acks: -1, messages: values(i * 10, 10) });
      const after = await until('partition 0 led by another broker', async () => {
        const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC] });
        return topics[0].partitions.every((p) => p.leader !== victim && p.leader >= 0 && !p.isr.includes(victim)) && topics[0].partitions;
      });
      expect(after.every((p) => p.isr.length === 2)).toBe(true);

      await consumer.connect();
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      const seen: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await until('200 records consumed', () => seen.length >= 200);
      await consumer.stop();
      expect(seen.length).toBe(200);
      expect(new Set(seen)).toEqual(new Set(values(0, 200).map((m) => m.value)));

      // Back on its port with the logs it had: it catches up and every ISR has three replicas again.
      for (const b of cluster.brokers) b.clearRequests();
      const back = await cluster.restartBroker(victim);
      expect(back.nodeId).toBe(victim);
      expect(cluster.bootstrap.split(',')).toContain(back.bootstrap);
      await until('the restarted broker back in every ISR', inSync(3));
      // Its first fetch from partition 0's new leader starts where its log ended when it stopped
      // (a broker back with empty logs would ask from 0), as recorded by that leader.
      const leader0 = after.find((p) => p.partitionId === 0)!.leader;
      // Followers fetch by topic id with their broker epoch (v15, KIP-903) from kts brokers, by name before.
      const topicId = await topicIdOf(cluster.broker(leader0).port, TOPIC);
      const fromVictim = (r: any) => (r.replicaState?.replicaId ?? r.replicaId) === victim && namesTopic(TOPIC, topicId)(r);
      const firstFetch = recorded(cluster.broker(leader0), ApiKey.Fetch, fromVictim)[0];
      const asked = (firstFetch.request as { topics: { topic?: string; topicId?: string; partitions: { partition: number; fetchOffset: bigint | number }[] }[] }).topics.find((t) => t.topic === TOPIC || t.topicId === topicId)!.partitions.find((p) => p.partition === 0)!;
      expect(Number(asked.fetchOffset)).toBeGreaterThanOrEqual(endBeforeStop);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
    // In memory: the names the brokers and the coordinator were given are not on disk.
    expect(existsSync('/kts-memory-cluster')).toBe(false);
  });

  it('refuses a size or replication factor it cannot honour', async () => {
    await expect(startCluster({ brokers: 0 })).rejects.toThrow(/brokers must be a whole number from 1 to 32, not 0/);
    await expect(startCluster({ brokers: 2, replicationFactor: 3 })).rejects.toThrow(/replicationFactor must be .* \(2\), not 3/);
    await expect(startCluster({ storage: 'files' })).rejects.toThrow(/needs a dataDir/);
    expect(() => cluster.broker(7)).toThrow(/no broker 7/);
  });
});
