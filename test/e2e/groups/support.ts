// Shared by the group end-to-end tests: a broker with test-friendly group settings (no initial
// rebalance delay, short sessions allowed), kafkajs helpers, and waiting.
// KTS_GROUPS_INPROCESS=1 runs the broker inside the test process instead of spawning the binary
// (quicker while developing; CI always spawns the real binary).
import { Kafka, logLevel, type Admin, type Consumer, type ConsumerConfig, type Producer } from 'kafkajs';
import { spawnBroker, tempDir, freePort } from '../../helpers/broker.js';

export const GROUP_OVERRIDES: Record<string, string> = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
  'offsets.topic.num.partitions': '10',
};

export interface TestBroker {
  bootstrap: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

export async function startTestBroker(opts: { overrides?: Record<string, string>; dataDir?: string; port?: number } = {}): Promise<TestBroker> {
  const overrides = { ...GROUP_OVERRIDES, ...opts.overrides };
  if (process.env.KTS_GROUPS_INPROCESS === '1') {
    const { startBroker } = await import('../../../src/broker/index.js');
    const port = opts.port ?? (await freePort());
    const dataDir = opts.dataDir ?? tempDir('kts-groups-');
    const b = await startBroker({ overrides, dataDir, host: '127.0.0.1', port, logLevel: 'warn' });
    return { bootstrap: b.bootstrap, port, dataDir, stop: () => b.close(), kill9: () => b.close() };
  }
  const b = await spawnBroker({ overrides, dataDir: opts.dataDir, port: opts.port });
  return {
    bootstrap: b.bootstrap,
    port: b.port,
    dataDir: b.dataDir,
    stop: async () => {
      await b.stop();
    },
    kill9: () => b.kill9(),
  };
}

export function kafkaFor(bootstrap: string, clientId = 'kts-groups-test'): Kafka {
  return new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
}

/** A client with a connected admin and producer, as every group test starts. */
export async function connectClients(bootstrap: string): Promise<{ kafka: Kafka; admin: Admin; producer: Producer }> {
  const kafka = kafkaFor(bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer();
  await producer.connect();
  return { kafka, admin, producer };
}

export const FAST_CONSUMER: Partial<ConsumerConfig> = {
  sessionTimeout: 6000,
  rebalanceTimeout: 10000,
  heartbeatInterval: 500,
  maxWaitTimeInMs: 200,
};

export async function createTopic(admin: Admin, topic: string, numPartitions: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
}

/** Produces `perPartition` records to each partition: values `p<partition>-<i>`. */
export async function produceEach(producer: Producer, topic: string, partitions: number, perPartition: number, tag = ''): Promise<void> {
  for (let p = 0; p < partitions; p++) {
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: perPartition }, (_, i) => ({ partition: p, key: `k${i}`, value: `${tag}p${p}-${i}` })),
    });
  }
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A kafkajs consumer that records what it was assigned and what it consumed. */
export interface TrackedConsumer {
  name: string;
  consumer: Consumer;
  /** The latest assignment: partitions of the topic. */
  assigned: number[];
  joins: number;
  records: { partition: number; offset: number; value: string }[];
}

export async function trackedConsumer(kafka: Kafka, name: string, groupId: string, topic: string, extra: Partial<ConsumerConfig> = {}): Promise<TrackedConsumer> {
  const consumer = kafka.consumer({ groupId, ...FAST_CONSUMER, ...extra });
  const t: TrackedConsumer = { name, consumer, assigned: [], joins: 0, records: [] };
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    t.joins++;
    t.assigned = [...((e.payload.memberAssignment as Record<string, number[]>)[topic] ?? [])].sort((a, b) => a - b);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      t.records.push({ partition, offset: Number(message.offset), value: message.value?.toString() ?? '' });
    },
  });
  return t;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `kts consumer-groups <args>` with stdout and stderr piped (so Kafka's plain output).
 * Spawns the real binary; with KTS_GROUPS_INPROCESS=1 runs the tool in this process instead.
 */
export async function consumerGroups(args: string[]): Promise<CliResult> {
  if (process.env.KTS_GROUPS_INPROCESS === '1') {
    const { runTool } = await import('../../../src/cli/tool.js');
    const { default: command } = await import('../../../commands/consumer-groups.js');
    const { PassThrough } = await import('node:stream');
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (d) => (stdout += d));
    err.on('data', (d) => (stderr += d));
    const code = await runTool(command.tool, args, { stdout: out, stderr: err, invokedAs: 'kts consumer-groups' });
    await new Promise((r) => setImmediate(r));
    return { code, stdout, stderr };
  }
  const { run } = await import('../../helpers/kcat.js');
  const { KTS_BIN } = await import('../../helpers/broker.js');
  return run(process.execPath, [KTS_BIN, 'consumer-groups', ...args], { timeoutMs: 60_000 });
}
