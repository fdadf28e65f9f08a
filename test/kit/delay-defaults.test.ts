// The kit's test-friendly defaults (startBroker from the package entry, not `kts server-start`) and
// broker.faults.delay(ms): a slow network in front of one broker, for every request of any API.
import { Kafka, logLevel, ConfigResourceTypes, type Kafka as KafkaClient } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, KIT_BROKER_DEFAULTS, startBroker, type BrokerHandle } from '../../src/index.js';
import { startBroker as startServerBroker } from '../../src/broker/index.js';
import { recorded } from './support.js';

function kafkaFor(bootstrap: string): KafkaClient {
  return new Kafka({ clientId: 'kit-defaults', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } });
}

async function brokerConfigs(broker: BrokerHandle, keys: string[]): Promise<Record<string, string>> {
  const admin = kafkaFor(broker.bootstrap).admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name: String(broker.nodeId), configNames: keys }], includeSynonyms: false });
    return Object.fromEntries(resources[0].configEntries.map((e) => [e.configName, e.configValue]));
  } finally {
    await admin.disconnect();
  }
}

describe("the kit's defaults", () => {
  let broker: BrokerHandle;
  beforeAll(async () => {
    broker = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error' });
  });
  afterAll(() => broker.close());

  it('are in force in a broker started with no overrides, as DescribeConfigs shows', async () => {
    const keys = Object.keys(KIT_BROKER_DEFAULTS);
    expect(await brokerConfigs(broker, keys)).toEqual({
      'group.initial.rebalance.delay.ms': '0',
      'group.min.session.timeout.ms': '1000',
      'group.consumer.session.timeout.ms': '10000',
      'group.consumer.min.session.timeout.ms': '1000',
      'group.consumer.heartbeat.interval.ms': '1000',
      'group.consumer.min.heartbeat.interval.ms': '500',
      'auto.create.topics.enable': 'true',
      'offsets.topic.num.partitions': '5',
    });
  });

  it('let a kafkajs member with a 1.5 s session join at once, and an auto-created topic serve it', async () => {
    const kafka = kafkaFor(broker.bootstrap);
    const producer = kafka.producer();
    // 1.5 s is below Kafka's group.min.session.timeout.ms (6 s): Kafka would answer INVALID_SESSION_TIMEOUT.
    const consumer = kafka.consumer({ groupId: 'quick', sessionTimeout: 1500, heartbeatInterval: 200, maxWaitTimeInMs: 100 });
    try {
      await producer.connect();
      await producer.send({ topic: 'made-on-first-use', messages: [{ value: 'one' }] });
      await consumer.connect();
      await consumer.subscribe({ topic: 'made-on-first-use', fromBeginning: true });
      const seen: string[] = [];
      const t0 = Date.now();
      let joinedAfter = -1;
      consumer.on(consumer.events.GROUP_JOIN, () => {
        joinedAfter = Date.now() - t0;
      });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      const deadline = Date.now() + 20_000;
      while (seen.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(seen).toEqual(['one']);
      expect(joinedAfter).toBeGreaterThanOrEqual(0);
      // With Kafka's 3 s initial rebalance delay the broker holds the first join's JoinGroup 3 s. Its
      // own time is judged, not the consumer's from run() to the join event: that also counts the
      // coordinator lookup (which creates __consumer_offsets here), SyncGroup and the client, which
      // a loaded machine can stretch past 2.5 s.
      const joins = recorded(broker, ApiKey.JoinGroup, (r) => r.groupId === 'quick');
      expect(joins.length).toBeGreaterThan(0);
      const held = joins.map((j) => j.durationMs);
      expect(Math.max(...held), `JoinGroups held ${held.join(', ')} ms; joined ${joinedAfter} ms after run()`).toBeLessThan(2500);
      expect(joins.every((j) => (j.request as { sessionTimeoutMs: number }).sessionTimeoutMs === 1500)).toBe(true);
      expect(joins.at(-1)!.errorCode).toBe(0);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it('give way to overrides, and a broker as `kts server-start` starts it keeps Kafka\'s values', async () => {
    const overridden = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error', overrides: { 'group.initial.rebalance.delay.ms': '3000' } });
    const server = await startServerBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error' });
    try {
      expect(await brokerConfigs(overridden, ['group.initial.rebalance.delay.ms', 'group.min.session.timeout.ms'])).toEqual({
        'group.initial.rebalance.delay.ms': '3000',
        'group.min.session.timeout.ms': '1000',
      });
      expect(await brokerConfigs(server, ['group.initial.rebalance.delay.ms', 'group.min.session.timeout.ms', 'offsets.topic.num.partitions'])).toEqual({
        'group.initial.rebalance.delay.ms': '3000',
        'group.min.session.timeout.ms': '6000',
        'offsets.topic.num.partitions': '50',
      });
    } finally {
      await overridden.close();
      await server.close();
    }
  });
});

describe('broker.faults.delay', () => {
  let broker: BrokerHandle;
  beforeAll(async () => {
    broker = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error' });
  });
  afterAll(() => broker.close());

  it('slows every request of every API until delay(0), and a kafkajs producer and admin keep working', async () => {
    const kafka = kafkaFor(broker.bootstrap);
    const producer = kafka.producer();
    const admin = kafka.admin();
    await producer.connect();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'slow', numPartitions: 1 }], waitForLeaders: true });
      await producer.send({ topic: 'slow', messages: [{ value: 'warm' }] });
      broker.clearRequests();

      broker.faults.delay(300);
      expect(broker.faults.delayMs).toBe(300);
      let t0 = Date.now();
      await producer.send({ topic: 'slow', messages: [{ value: 'delayed' }] });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      t0 = Date.now();
      const offsets = await admin.fetchTopicOffsets('slow');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      expect(offsets[0].high).toBe('2');
      const slowed = broker.requests();
      expect(slowed.map((r) => r.apiKey)).toEqual(expect.arrayContaining([ApiKey.Produce, ApiKey.ListOffsets]));
      for (const r of slowed) expect(r.durationMs).toBeGreaterThanOrEqual(290);
      for (const r of slowed) expect(r.fault).toBe('pass');

      broker.faults.delay(0);
      expect(broker.faults.active).toBe(false);
      broker.clearRequests();
      await producer.send({ topic: 'slow', messages: [{ value: 'fast again' }] });
      const [produce] = recorded(broker, ApiKey.Produce);
      // Not delayed: no fault rule touched it (a delay is recorded as fault 'pass'). Its duration is
      // not the judge: a loaded machine can make any request take 300 ms.
      expect(produce.fault, `${produce.durationMs} ms`).toBeUndefined();
      expect(() => broker.faults.delay(-1)).toThrow(RangeError);
      expect(() => broker.faults.delay(1.5)).toThrow(RangeError);
    } finally {
      broker.faults.delay(0);
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  it('adds to a rule\'s own delay, and the broker closes without waiting out a long one', async () => {
    const own = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error' });
    const kafka = new Kafka({ clientId: 'kit-delay', brokers: [own.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 }, requestTimeout: 60_000 });
    const admin = kafka.admin();
    try {
      await admin.connect();
      own.faults.delay(200);
      own.faults.inject({ apiKey: ApiKey.Metadata, delayMs: 200, times: 1 });
      let t0 = Date.now();
      await admin.fetchTopicMetadata({ topics: [] });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(390);
      own.faults.delay(60_000);
      const pending = admin.fetchTopicMetadata({ topics: [] }).catch((err) => err);
      await new Promise((r) => setTimeout(r, 100));
      t0 = Date.now();
      await own.close();
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(await pending).toBeInstanceOf(Error);
    } finally {
      await admin.disconnect().catch(() => {});
      await own.close();
    }
  });
});
