// Issue 15 must-show 2 for @platformatic/kafka (classic group protocol), against an in-memory
// broker in this process: each injected fault is retried or recovered from, as the recording shows.
import { Admin, Consumer, MessagesStreamModes, ProduceAcks, Producer, stringDeserializers } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, startBroker, type BrokerHandle } from '../../src/index.js';
import { namesGroup, namesTopic, recorded, until } from './support.js';

let broker: BrokerHandle;
const closers: Array<() => Promise<unknown>> = [];
const base = () => ({ clientId: 'kit-platformatic', bootstrapBrokers: [broker.bootstrap], retries: 10, retryDelay: 50 });

beforeAll(async () => {
  broker = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error', overrides: { 'group.initial.rebalance.delay.ms': '0' } });
  const admin = new Admin(base());
  await admin.createTopics({ topics: ['plt-produce', 'plt-group', 'plt-coord', 'plt-fetch'], partitions: 1, replicas: 1 });
  await admin.close();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await broker.close();
});

async function send(topic: string, values: string[]): Promise<void> {
  const producer = new Producer({ ...base(), acks: ProduceAcks.ALL });
  try {
    await producer.send({ messages: values.map((v) => ({ topic, partition: 0, value: Buffer.from(v) })) });
  } finally {
    await producer.close();
  }
}

/** A running classic-group consumer of `topic` that collects the values it reads. */
async function consume(group: string, topic: string): Promise<string[]> {
  const consumer = new Consumer({ ...base(), groupId: group, deserializers: stringDeserializers, sessionTimeout: 6000, heartbeatInterval: 100, maxWaitTime: 100 });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: true });
  const values: string[] = [];
  stream.on('data', (m) => values.push(m.value as string));
  stream.on('error', () => {});
  closers.push(async () => {
    await stream.close();
    await consumer.close(true);
  });
  return values;
}

describe('@platformatic/kafka against injected faults', () => {
  it('retries a Produce answered NOT_LEADER_OR_FOLLOWER, and writes each record once', async () => {
    broker.faults.inject({ apiKey: ApiKey.Produce, topic: 'plt-produce', errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, times: 2 });
    await send('plt-produce', Array.from({ length: 10 }, (_, i) => `p${i}`));
    const produces = recorded(broker, ApiKey.Produce, namesTopic('plt-produce'));
    expect(produces.map((r) => r.errorCode)).toEqual([ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NONE]);
    const admin = new Admin(base());
    try {
      const offsets = await admin.listOffsets({ topics: [{ name: 'plt-produce', partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
      expect(Number(offsets[0].partitions[0].offset)).toBe(10);
    } finally {
      await admin.close();
    }
  });

  it('rejoins the group after a Heartbeat answered REBALANCE_IN_PROGRESS, and keeps consuming', async () => {
    const values = await consume('plt-rebalance', 'plt-group');
    const group = namesGroup('plt-rebalance');
    await until('the first SyncGroup', () => recorded(broker, ApiKey.SyncGroup, group).find((r) => r.errorCode === 0));
    // The assignment is in effect (a record read) before the refusal: the rejoin is then the refusal's doing.
    await send('plt-group', ['before']);
    await until('the record sent before', () => values.includes('before'));
    broker.faults.inject({ apiKey: ApiKey.Heartbeat, group: 'plt-rebalance', errorCode: ErrorCode.REBALANCE_IN_PROGRESS, times: 1 });
    const refused = await until('the refused Heartbeat', () => recorded(broker, ApiKey.Heartbeat, group).find((r) => r.fault === 'error'));
    expect(refused.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await until('a JoinGroup after it', () =>
      recorded(broker, ApiKey.JoinGroup, group).find((r) => r.startedAt >= refused.startedAt + refused.durationMs && r.errorCode === 0),
    );
    await until('a SyncGroup after the rejoin', () => recorded(broker, ApiKey.SyncGroup, group).find((r) => r.startedAt >= rejoined.startedAt && r.errorCode === 0));
    await send('plt-group', ['after-rejoin']);
    await until('the record sent after the rejoin', () => values.includes('after-rejoin'));
  });

  it('retries FindCoordinator answered COORDINATOR_NOT_AVAILABLE, then joins', async () => {
    broker.faults.inject({ apiKey: ApiKey.FindCoordinator, group: 'plt-coord', errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, times: 2 });
    await consume('plt-coord', 'plt-coord');
    const group = namesGroup('plt-coord');
    await until('a JoinGroup', () => recorded(broker, ApiKey.JoinGroup, group).find((r) => r.errorCode === 0));
    const finds = recorded(broker, ApiKey.FindCoordinator, group);
    expect(finds.slice(0, 3).map((r) => r.errorCode)).toEqual([ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NONE]);
  });

  it('resumes after its connection is dropped mid-Fetch, losing and repeating nothing', async () => {
    const admin = new Admin(base());
    // (the client shows the id as a UUID; requests carry Kafka's base64url form)
    const uuid = (await admin.metadata({ topics: ['plt-fetch'] })).topics.get('plt-fetch')!.id;
    const topicId = Buffer.from(uuid.replace(/-/g, ''), 'hex').toString('base64url');
    await admin.close();
    const fetches = () => recorded(broker, ApiKey.Fetch, namesTopic('plt-fetch', topicId));
    const values = await consume('plt-fetcher', 'plt-fetch');
    await send('plt-fetch', Array.from({ length: 50 }, (_, i) => `f${i}`));
    await until('the first 50 records', () => values.length >= 50);
    broker.faults.inject({ apiKey: ApiKey.Fetch, topic: 'plt-fetch', delayMs: 100, dropConnection: true, times: 1 });
    const dropped = await until('the dropped Fetch', () => fetches().find((r) => r.fault === 'drop'));
    await send('plt-fetch', Array.from({ length: 50 }, (_, i) => `f${50 + i}`));
    await until('all 100 records', () => values.length >= 100);
    await new Promise((r) => setTimeout(r, 300));
    expect(values).toEqual(Array.from({ length: 100 }, (_, i) => `f${i}`));
    // (Fetch v13+ names topics by id: the rule matched 'plt-fetch' through the broker's topic ids.)
    expect(dropped.apiVersion).toBeGreaterThanOrEqual(13);
    const after = fetches().filter((r) => r.startedAt > dropped.startedAt);
    expect(after.some((r) => r.connectionId !== dropped.connectionId && r.errorCode === 0)).toBe(true);
  });
});
