// kts inside users' tests, slice 1: a broker whose logs live in memory. `startBroker({ storage:
// 'memory' })` in this process and `kts server-start --storage memory` as a process serve the same
// log semantics as on files (produce, fetch, groups and their offsets, transactions, DeleteRecords,
// topic deletion) and write nothing: no log.dirs, nothing under HOME or the working directory.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type Kafka as KafkaClient } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { startBroker } from '../../src/index.js';
import { KTS_BIN, freePort, tempDir } from '../helpers/broker.js';
import { exitOf, spawnTracked, stopProcess } from '../helpers/processes.js';

function kafkaFor(bootstrap: string): KafkaClient {
  return new Kafka({ clientId: 'kit-memory', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } });
}

/** Everything a test suite does to a broker, checked as it goes. */
async function exercise(bootstrap: string): Promise<void> {
  const kafka = kafkaFor(bootstrap);
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ idempotent: true });
  const txProducer = kafka.producer({ transactionalId: 'kit-tx', maxInFlightRequests: 1, idempotent: true });
  const consumer = kafka.consumer({ groupId: 'kit-group', sessionTimeout: 6000, heartbeatInterval: 500 });
  try {
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }, { topic: 'doomed', numPartitions: 1 }], waitForLeaders: true });
    await producer.connect();
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic: 'orders', messages: Array.from({ length: 30 }, (_, j) => ({ key: `k${j}`, value: `v${i * 30 + j}` })) });
    }
    await producer.send({ topic: 'doomed', messages: [{ value: 'x' }] });
    await txProducer.connect();
    const tx = await txProducer.transaction();
    await tx.send({ topic: 'orders', messages: [{ key: 'tx', value: 'committed' }] });
    await tx.commit();
    const aborted = await txProducer.transaction();
    await aborted.send({ topic: 'orders', messages: [{ key: 'tx', value: 'aborted' }] });
    await aborted.abort();

    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    const values = new Set<string>();
    await consumer.run({ eachMessage: async ({ message }) => void values.add(message.value!.toString()) });
    const deadline = Date.now() + 30_000;
    const expected = [...Array.from({ length: 300 }, (_, i) => `v${i}`), 'committed'];
    while (!expected.every((v) => values.has(v)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(expected.filter((v) => !values.has(v))).toEqual([]);
    // kafkajs reads read_committed: the aborted transaction's record is skipped (the .txnindex in memory too).
    expect(values.has('aborted')).toBe(false);
    // The group's committed offsets are where the consumer stopped (kafkajs commits as it goes).
    for (;;) {
      const [committed] = await admin.fetchOffsets({ groupId: 'kit-group', topics: ['orders'] });
      const total = committed.partitions.reduce((n, p) => n + Number(p.offset), 0);
      if (total >= 301 || Date.now() > deadline) {
        expect(total).toBeGreaterThanOrEqual(301);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await consumer.stop();

    const before = await admin.fetchTopicOffsets('orders');
    await admin.deleteTopicRecords({ topic: 'orders', partitions: [{ partition: 0, offset: '5' }] });
    const after = await admin.fetchTopicOffsets('orders');
    expect(after.find((p) => p.partition === 0)!.low).toBe('5');
    expect(after.map((p) => p.high)).toEqual(before.map((p) => p.high));
    await admin.deleteTopics({ topics: ['doomed'] });
    expect(await admin.listTopics()).not.toContain('doomed');
  } finally {
    await consumer.disconnect();
    await txProducer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }
}

describe('in-memory storage', () => {
  it('startBroker({ storage: "memory" }) serves topics, groups, transactions and DeleteRecords and writes no file', async () => {
    const root = tempDir('kts-kit-memory-');
    const dataDir = join(root, 'would-be-log-dir');
    const broker = await startBroker({ port: 0, host: '127.0.0.1', storage: 'memory', dataDir, logLevel: 'warn', overrides: { 'group.initial.rebalance.delay.ms': '0' } });
    try {
      expect(broker.storage).toBe('memory');
      expect(broker.port).toBeGreaterThan(0);
      await exercise(broker.bootstrap);
    } finally {
      await broker.close();
    }
    expect(existsSync(dataDir)).toBe(false);
    expect(readdirSync(root)).toEqual([]);
  });

  it('kts server-start --storage memory writes nothing under HOME, the working directory or log.dirs', async () => {
    const home = tempDir('kts-kit-home-');
    const cwd = tempDir('kts-kit-cwd-');
    const port = await freePort();
    const child = spawnTracked(process.execPath, [KTS_BIN, 'server-start', '--storage', 'memory', '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', 'group.initial.rebalance.delay.ms=0'], {
      cwd,
      env: { ...process.env, HOME: home, TMPDIR: join(home, 'tmp-never') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const deadline = Date.now() + 30_000;
      while (!/ready: bootstrap server/.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no start:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(out).toContain(`bootstrap server 127.0.0.1:${port}, data in memory`);
      // The log must not tell the operator logs are read from a directory on disk.
      expect(out).toMatch(/loading logs from memory \(\S+ is only a name/);
      await exercise(`127.0.0.1:${port}`);
    } finally {
      const { code } = await stopProcess(child);
      expect(code, out).toBe(0);
    }
    expect(readdirSync(home)).toEqual([]);
    expect(readdirSync(cwd)).toEqual([]);
    // The default log.dirs (~/.kts/data under that HOME) was never made; nor was anything in it.
    expect(existsSync(join(home, '.kts'))).toBe(false);
  });

  it('refuses a storage it does not know, on the command line and in startBroker', async () => {
    await expect(startBroker({ port: 0, host: '127.0.0.1', logLevel: 'error', overrides: { 'kts.storage': 'tape' } })).rejects.toThrow(/kts\.storage/);
    const cwd = tempDir('kts-kit-cwd-');
    const child = spawnTracked(process.execPath, [KTS_BIN, 'server-start', '--storage', 'tape'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const { code } = await exitOf(child);
    expect(code).toBe(1);
    expect(err).toContain('--storage must be files or memory, not tape');
  });
});
