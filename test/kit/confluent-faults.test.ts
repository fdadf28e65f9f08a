// Issue 15 must-show 2 for confluent-kafka-python (librdkafka), a separate process against an
// in-memory broker in this one: each injected fault is retried or recovered from, as the recording shows.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, startBroker, type BrokerHandle } from '../../src/index.js';
import { spawnTracked, stopProcess } from '../helpers/processes.js';
import { namesGroup, namesTopic, recorded, until } from './support.js';

const SCRIPT = join(import.meta.dirname, 'fixtures', 'confluent-client.py');

function confluentInstalled(): boolean {
  try {
    execFileSync('python3', ['-c', 'import confluent_kafka'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.KTS_REQUIRE_INTEROP === '1') throw new Error('confluent-kafka (Python) is required (KTS_REQUIRE_INTEROP=1): pip install confluent-kafka');
    return false;
  }
}

let broker: BrokerHandle;
let kafka: Kafka;
const children: ChildProcess[] = [];

/** Runs the fixture; `lines` collects what it prints. */
function python(args: string[]): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const child = spawnTracked('python3', [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  // 'close', not 'exit': the last line printed before the exit may still be in the pipe at 'exit'.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  exited.then((code) => {
    if (code !== 0 && code !== null) console.error(`confluent-client.py ${args[0]} exited ${code}: ${err}`);
  });
  return { child, lines, exited };
}

async function send(topic: string, values: string[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value) => ({ value, partition: 0 })) });
  await producer.disconnect();
}

/** The topic's id, as a recorded Metadata answer gave it (Fetch v13+ names topics by id). */
function topicIdOf(topic: string): string | undefined {
  for (const r of recorded(broker, ApiKey.Metadata)) {
    const t = ((r.response as { topics?: Array<{ name: string; topicId?: string }> } | null)?.topics ?? []).find((x) => x.name === topic);
    if (t?.topicId) return t.topicId;
  }
  return undefined;
}

describe.skipIf(!confluentInstalled())('confluent-kafka-python against injected faults', () => {
  beforeAll(async () => {
    broker = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', logLevel: 'error', overrides: { 'group.initial.rebalance.delay.ms': '0' } });
    kafka = new Kafka({ clientId: 'kit-confluent-helper', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: ['rdk-produce', 'rdk-group', 'rdk-coord', 'rdk-fetch'].map((topic) => ({ topic, numPartitions: 1 })) });
    await admin.disconnect();
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => stopProcess(c)));
    await broker?.close();
  });

  it('retries a Produce answered NOT_LEADER_OR_FOLLOWER, and writes each record once', async () => {
    broker.faults.inject({ apiKey: ApiKey.Produce, topic: 'rdk-produce', errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, times: 2 });
    const run = python(['produce', broker.bootstrap, 'rdk-produce', '10', 'p']);
    expect(await run.exited).toBe(0);
    expect(run.lines).toEqual(['delivered 10 errors 0']);
    const produces = recorded(broker, ApiKey.Produce, namesTopic('rdk-produce'));
    expect(produces.map((r) => r.errorCode)).toEqual([ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NONE]);
    const admin = kafka.admin();
    await admin.connect();
    expect((await admin.fetchTopicOffsets('rdk-produce'))[0].high).toBe('10');
    await admin.disconnect();
  });

  it('rejoins the group after a Heartbeat answered REBALANCE_IN_PROGRESS, and keeps consuming', async () => {
    const { lines } = python(['consume', broker.bootstrap, 'rdk-group', 'rdk-rebalance']);
    const group = namesGroup('rdk-rebalance');
    await until('the first SyncGroup', () => recorded(broker, ApiKey.SyncGroup, group).find((r) => r.errorCode === 0), 60_000);
    // librdkafka heeds REBALANCE_IN_PROGRESS only once its assignment is in effect (a heartbeat
    // answered so while it still applies the last one is ignored): a record read shows it is.
    await send('rdk-group', ['before']);
    await until('the record sent before', () => lines.includes('before'), 60_000);
    broker.faults.inject({ apiKey: ApiKey.Heartbeat, group: 'rdk-rebalance', errorCode: ErrorCode.REBALANCE_IN_PROGRESS, times: 1 });
    const refused = await until('the refused Heartbeat', () => recorded(broker, ApiKey.Heartbeat, group).find((r) => r.fault === 'error'));
    expect(refused.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await until('a JoinGroup after it', () =>
      recorded(broker, ApiKey.JoinGroup, group).find((r) => r.startedAt >= refused.startedAt + refused.durationMs && r.errorCode === 0),
    ).catch((e) => {
      const trace = broker.requests().filter((r) => group(r.request)).slice(-30);
      throw new Error(`${(e as Error).message}\n${trace.map((r) => `${r.startedAt - refused.startedAt} ${r.apiKey} v${r.apiVersion} err=${r.errorCode} ${r.fault ?? ''} ${JSON.stringify(r.request).slice(0, 120)}`).join('\n')}`);
    });
    await until('a SyncGroup after the rejoin', () => recorded(broker, ApiKey.SyncGroup, group).find((r) => r.startedAt >= rejoined.startedAt && r.errorCode === 0));
    await send('rdk-group', ['after-rejoin']);
    await until('the record sent after the rejoin', () => lines.includes('after-rejoin'));
  });

  it('retries FindCoordinator answered COORDINATOR_NOT_AVAILABLE, then joins', async () => {
    broker.faults.inject({ apiKey: ApiKey.FindCoordinator, group: 'rdk-coord', errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, times: 2 });
    python(['consume', broker.bootstrap, 'rdk-coord', 'rdk-coord']);
    const group = namesGroup('rdk-coord');
    await until('a JoinGroup', () => recorded(broker, ApiKey.JoinGroup, group).find((r) => r.errorCode === 0), 60_000);
    const finds = recorded(broker, ApiKey.FindCoordinator, group);
    expect(finds.slice(0, 3).map((r) => r.errorCode)).toEqual([ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NONE]);
  });

  it('resumes after its connection is dropped mid-Fetch, losing and repeating nothing', async () => {
    const { lines } = python(['consume', broker.bootstrap, 'rdk-fetch', 'rdk-fetcher']);
    await send('rdk-fetch', Array.from({ length: 50 }, (_, i) => `f${i}`));
    await until('the first 50 records', () => lines.length >= 50, 60_000);
    const fetches = () => recorded(broker, ApiKey.Fetch, namesTopic('rdk-fetch', topicIdOf('rdk-fetch')));
    broker.faults.inject({ apiKey: ApiKey.Fetch, topic: 'rdk-fetch', delayMs: 100, dropConnection: true, times: 1 });
    const dropped = await until('the dropped Fetch', () => fetches().find((r) => r.fault === 'drop'));
    await send('rdk-fetch', Array.from({ length: 50 }, (_, i) => `f${50 + i}`));
    await until('all 100 records', () => lines.length >= 100, 60_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(lines).toEqual(Array.from({ length: 100 }, (_, i) => `f${i}`));
    const after = fetches().filter((r) => r.startedAt > dropped.startedAt);
    expect(after.some((r) => r.connectionId !== dropped.connectionId && r.errorCode === 0)).toBe(true);
  });
});
