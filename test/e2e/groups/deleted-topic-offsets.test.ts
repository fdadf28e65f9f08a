// Committed offsets die with their topic, as in Kafka (the group coordinator drops the offsets of
// deleted partitions and writes tombstones to __consumer_offsets): after DeleteTopics, OffsetFetch
// answers -1, and a topic re-created under the same name is read from its start by the same group,
// also after a broker restart. On one broker (embedded metadata) and on two ZooKeeper-mode brokers,
// where every broker coordinating some of the groups must learn of the deletion.
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { spawnCoordinator, type SpawnedCoordinator } from '../../helpers/zookeeper.js';
import { createTopic, kafkaFor, produceEach, startTestBroker, trackedConsumer, waitFor, type TestBroker } from './support.js';

const committed = async (admin: Admin, groupId: string, topic: string) =>
  (await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
/** OffsetFetch for all of the group's topics (no metadata lookup: the topic may be gone). */
const committedTopics = async (admin: Admin, groupId: string) =>
  (await admin.fetchOffsets({ groupId })).filter((t) => t.partitions.some((p) => Number(p.offset) >= 0)).map((t) => t.topic);

describe('committed offsets of a deleted topic (one broker)', () => {
  let broker: TestBroker;
  afterAll(async () => {
    await broker?.stop();
  });

  it('go with the topic: OffsetFetch answers -1, the re-created topic is read from its start, also after a restart', async () => {
    broker = await startTestBroker();
    const kafka = kafkaFor(broker.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    const topic = 'recycled';
    const group = 'recycled-readers';
    await createTopic(admin, topic, 2);
    const producer = kafka.producer();
    await producer.connect();
    await produceEach(producer, topic, 2, 10, 'old-');

    const first = await trackedConsumer(kafka, 'first', group, topic);
    await waitFor('20 records', () => first.records.length >= 20);
    await waitFor('commits of 10/10', async () => (await committed(admin, group, topic)).join() === '10,10');
    await first.consumer.disconnect();

    expect(await committedTopics(admin, group)).toEqual([topic]);
    await admin.deleteTopics({ topics: [topic] });
    expect(await committedTopics(admin, group)).toEqual([]);
    await createTopic(admin, topic, 2);
    expect(await committed(admin, group, topic)).toEqual([-1, -1]);
    await produceEach(producer, topic, 2, 20, 'new-');
    await producer.disconnect();

    const second = await trackedConsumer(kafka, 'second', group, topic);
    await waitFor('40 records of the new topic', () => second.records.length >= 40);
    await waitFor('commits of 20/20', async () => (await committed(admin, group, topic)).join() === '20,20');
    await second.consumer.disconnect();
    expect(second.records.filter((r) => r.value.startsWith('new-'))).toHaveLength(40);
    expect(Math.min(...second.records.map((r) => r.offset))).toBe(0);

    // Delete again and re-create, restart: the tombstones in __consumer_offsets keep the offsets gone.
    await admin.deleteTopics({ topics: [topic] });
    expect(await committedTopics(admin, group)).toEqual([]);
    await createTopic(admin, topic, 2);
    await admin.disconnect();
    const { dataDir, port } = broker;
    await broker.stop();
    broker = await startTestBroker({ dataDir, port });
    const admin2 = kafkaFor(broker.bootstrap).admin();
    await admin2.connect();
    try {
      expect(await committed(admin2, group, topic)).toEqual([-1, -1]);
    } finally {
      await admin2.disconnect();
    }
  }, 120_000);
});

describe('committed offsets of a deleted topic (two ZooKeeper-mode brokers)', () => {
  let coordinator: SpawnedCoordinator;
  let brokers: SpawnedBroker[] = [];
  const overrides = (id: number, zkPort: number) => ({
    'broker.id': String(id),
    'zookeeper.connect': `127.0.0.1:${zkPort}/kafka`,
    'zookeeper.session.timeout.ms': '4000',
    'offsets.topic.num.partitions': '10',
  });
  afterAll(async () => {
    for (const b of brokers) await b.stop();
    await coordinator?.stop();
  });

  it('every coordinating broker drops them and writes tombstones that survive a restart of both', async () => {
    coordinator = await spawnCoordinator({ props: { tickTime: 500 } });
    brokers = await Promise.all([1, 2].map((id) => spawnBroker({ overrides: overrides(id, coordinator.port) })));
    const kafka = () => new Kafka({ brokers: brokers.map((b) => b.bootstrap), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    let admin = kafka().admin();
    await admin.connect();
    const topic = 'shared';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    // Ten groups: their offsets partitions (of ten, spread over both brokers) have both brokers as coordinators.
    const groups = Array.from({ length: 10 }, (_, i) => `group-${i}`);
    for (const groupId of groups) {
      await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }] });
    }
    for (const groupId of groups) expect(await committed(admin, groupId, topic)).toEqual([0, 0]);

    await admin.deleteTopics({ topics: [topic] });
    for (const groupId of groups) await waitFor(`${groupId}'s offsets gone`, async () => (await committedTopics(admin, groupId)).length === 0);
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();

    for (const b of brokers) await b.stop();
    brokers = await Promise.all(brokers.map((b, i) => spawnBroker({ dataDir: b.dataDir, port: b.port, overrides: overrides(i + 1, coordinator.port) })));
    admin = kafka().admin();
    await admin.connect();
    try {
      for (const groupId of groups) expect(await committed(admin, groupId, topic)).toEqual([-1, -1]);
    } finally {
      await admin.disconnect();
    }
  }, 150_000);
});

describe('committed offsets of a topic deleted while their coordinator was down (ZooKeeper mode)', () => {
  let coordinator: SpawnedCoordinator;
  let brokers: SpawnedBroker[] = [];
  const overrides = (id: number, zkPort: number) => ({
    'broker.id': String(id),
    'zookeeper.connect': `127.0.0.1:${zkPort}/kafka`,
    'zookeeper.session.timeout.ms': '4000',
    'offsets.topic.num.partitions': '10',
  });
  afterAll(async () => {
    for (const b of brokers) await b.stop();
    await coordinator?.stop();
  });

  it('are dropped when that broker starts again and finds the topic gone', async () => {
    coordinator = await spawnCoordinator({ props: { tickTime: 500 } });
    brokers = await Promise.all([1, 2].map((id) => spawnBroker({ overrides: overrides(id, coordinator.port) })));
    const kafka = (b: SpawnedBroker[]) => new Kafka({ brokers: b.map((x) => x.bootstrap), logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    let admin = kafka(brokers).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 1 }], waitForLeaders: true });
    const groups = Array.from({ length: 10 }, (_, i) => `late-${i}`);
    for (const groupId of groups) await admin.setOffsets({ groupId, topic: 'doomed', partitions: [{ partition: 0, offset: '0' }] });
    await admin.disconnect();

    // Broker 2 (coordinator of some of the groups) is down while the topic is deleted.
    await brokers[1].stop();
    const raw = await RawClient.connect(brokers[0].port);
    try {
      const deleted = await raw.request(20, 4, { topicNames: ['doomed'], timeoutMs: 30000 });
      expect(deleted.responses[0].errorCode).toBe(0);
    } finally {
      raw.close();
    }
    brokers[1] = await spawnBroker({ dataDir: brokers[1].dataDir, port: brokers[1].port, overrides: overrides(2, coordinator.port) });

    admin = kafka(brokers).admin();
    await admin.connect();
    try {
      for (const groupId of groups) await waitFor(`${groupId}'s offsets gone`, async () => (await committedTopics(admin, groupId)).length === 0, 30_000);
    } finally {
      await admin.disconnect();
    }
    expect(brokers[1].output()).toMatch(/Removing the committed offsets of topic doomed, which no longer exists/);
  }, 150_000);
});

