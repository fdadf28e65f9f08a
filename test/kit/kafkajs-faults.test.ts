// Issue 15 must-show 2 for kafkajs, against an in-memory broker in this process: each injected fault
// is met the way Kafka's clients are meant to meet it, and the recording shows it.
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, startBroker, type BrokerHandle } from '../../src/index.js';
import { namesGroup, namesTopic, recorded, until } from './support.js';

let broker: BrokerHandle;
let kafka: Kafka;
const consumers: Consumer[] = [];
beforeAll(async () => {
  broker = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error', overrides: { 'group.initial.rebalance.delay.ms': '0' } });
  kafka = new Kafka({ clientId: 'kit-kafkajs', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 50, maxRetryTime: 500 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: ['kjs-produce', 'kjs-group', 'kjs-coord', 'kjs-fetch'].map((topic) => ({ topic, numPartitions: 1 })) });
  await admin.disconnect();
});
afterAll(async () => {
  for (const c of consumers) await c.disconnect().catch(() => {});
  await broker.close();
});

/** A running consumer of `topic` in `group` that collects the values it reads. */
async function consume(group: string, topic: string): Promise<{ values: string[]; consumer: Consumer }> {
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 100, maxWaitTimeInMs: 100, retry: { retries: 10, initialRetryTime: 50 } });
  consumers.push(consumer);
  const values: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
  return { values, consumer };
}

describe('kafkajs against injected faults', () => {
  it('retries a Produce answered NOT_LEADER_OR_FOLLOWER, and writes each record once', async () => {
    const producer = kafka.producer({ retry: { retries: 5, initialRetryTime: 50 } });
    await producer.connect();
    try {
      broker.faults.inject({ apiKey: ApiKey.Produce, topic: 'kjs-produce', errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, times: 2 });
      await producer.send({ topic: 'kjs-produce', acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ value: `p${i}` })) });
      const produces = recorded(broker, ApiKey.Produce, namesTopic('kjs-produce'));
      expect(produces.map((r) => r.errorCode)).toEqual([ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NONE]);
      expect(produces.map((r) => r.fault)).toEqual(['error', 'error', undefined]);
      // Between the refusals and the success the client asked where the leader is.
      expect(recorded(broker, ApiKey.Metadata).some((m) => m.startedAt >= produces[0].startedAt && m.startedAt <= produces[2].startedAt)).toBe(true);
      const admin = kafka.admin();
      await admin.connect();
      expect((await admin.fetchTopicOffsets('kjs-produce'))[0].high).toBe('10');
      await admin.disconnect();
    } finally {
      await producer.disconnect();
    }
  });

  it('rejoins the group after a Heartbeat answered REBALANCE_IN_PROGRESS, and keeps consuming', async () => {
    const { values } = await consume('kjs-rebalance', 'kjs-group');
    const group = namesGroup('kjs-rebalance');
    await until('the first SyncGroup', () => recorded(broker, ApiKey.SyncGroup, group).find((r) => r.errorCode === 0));
    const joinsBefore = recorded(broker, ApiKey.JoinGroup, group).length;
    // The assignment is in effect (a record read) before the refusal: the rejoin is then the refusal's doing.
    const early = kafka.producer();
    await early.connect();
    await early.send({ topic: 'kjs-group', messages: [{ value: 'before' }] });
    await early.disconnect();
    await until('the record sent before', () => values.includes('before'));
    broker.faults.inject({ apiKey: ApiKey.Heartbeat, group: 'kjs-rebalance', errorCode: ErrorCode.REBALANCE_IN_PROGRESS, times: 1 });
    const refused = await until('the refused Heartbeat', () => recorded(broker, ApiKey.Heartbeat, group).find((r) => r.fault === 'error'));
    expect(refused.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await until('a JoinGroup after it', () =>
      recorded(broker, ApiKey.JoinGroup, group).find((r) => r.startedAt >= refused.startedAt + refused.durationMs && r.errorCode === 0),
    );
    expect(recorded(broker, ApiKey.JoinGroup, group).length).toBeGreaterThan(joinsBefore);
    await until('a SyncGroup after the rejoin', () => recorded(broker, ApiKey.SyncGroup, group).find((r) => r.startedAt >= rejoined.startedAt && r.errorCode === 0));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'kjs-group', messages: [{ value: 'after-rejoin' }] });
    await producer.disconnect();
    await until('the record sent after the rejoin', () => values.includes('after-rejoin'));
  });

  it('retries FindCoordinator answered COORDINATOR_NOT_AVAILABLE, then joins', async () => {
    broker.faults.inject({ apiKey: ApiKey.FindCoordinator, group: 'kjs-coord', errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, times: 2 });
    await consume('kjs-coord', 'kjs-coord');
    const group = namesGroup('kjs-coord');
    await until('a JoinGroup', () => recorded(broker, ApiKey.JoinGroup, group).find((r) => r.errorCode === 0));
    const finds = recorded(broker, ApiKey.FindCoordinator, group);
    expect(finds.slice(0, 3).map((r) => r.errorCode)).toEqual([ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NONE]);
    expect((finds[2].response as { nodeId: number }).nodeId).toBe(broker.nodeId);
  });

  it('resumes after its connection is dropped mid-Fetch, losing and repeating nothing', async () => {
    const { values } = await consume('kjs-fetcher', 'kjs-fetch');
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'kjs-fetch', messages: Array.from({ length: 50 }, (_, i) => ({ value: `f${i}` })) });
      await until('the first 50 records', () => values.length >= 50);
      // The next Fetch is held 100 ms (in flight), then its connection is closed without an answer.
      broker.faults.inject({ apiKey: ApiKey.Fetch, topic: 'kjs-fetch', delayMs: 100, dropConnection: true, times: 1 });
      const dropped = await until('the dropped Fetch', () => recorded(broker, ApiKey.Fetch, namesTopic('kjs-fetch')).find((r) => r.fault === 'drop'));
      await producer.send({ topic: 'kjs-fetch', messages: Array.from({ length: 50 }, (_, i) => ({ value: `f${50 + i}` })) });
      await until('all 100 records', () => values.length >= 100);
      await new Promise((r) => setTimeout(r, 300));
      expect(values).toEqual(Array.from({ length: 100 }, (_, i) => `f${i}`));
      // The fetches after the drop came on another connection and were answered.
      const after = recorded(broker, ApiKey.Fetch, namesTopic('kjs-fetch')).filter((r) => r.startedAt > dropped.startedAt);
      expect(after.some((r) => r.connectionId !== dropped.connectionId && r.errorCode === 0)).toBe(true);
    } finally {
      await producer.disconnect();
    }
  });
});
