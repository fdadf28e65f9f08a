// The seed article's kafka-node producer and consumer, unmodified except the broker address.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';

const fixtures = resolve(import.meta.dirname, '../../fixtures/seed');

describe('kafka-node (the seed article)', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    broker = await spawnBroker();
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    // The article's consumer reads partitions 0 and 1 of 'test', although its walkthrough creates the
    // topic with one partition; kafka-node then fails with "Could not find the leader", against Apache
    // Kafka as against kts. Two partitions make the article's code runnable as written.
    await admin.createTopics({ topics: [{ topic: 'test', numPartitions: 2 }] });
    await admin.disconnect();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("the article's producer sends and prints the offsets it got", async () => {
    // Like the article's node shell, the script keeps running; stop it once it has answered.
    const out = await runUntil('producer.cjs', (o) => /\{ test: \{/.test(o));
    // kafka-node prints { test: { '0': <offset of the partition's last record> } }
    expect(out).toMatch(/\{ test: \{ '0': 0 \} \}/);
  });

  it("the article's consumer prints every message", async () => {
    const out = await runUntil('consumer.cjs', (o) => o.includes('New sale happened') && o.includes("'Refund'") && o.includes("'Sale'"));
    expect(out).toContain("value: 'New sale happened'");
    expect(out).toContain("value: 'Refund'");
    expect(out).toContain("value: 'Sale'");
    expect(out).toContain("topic: 'test'");
  });

  async function runUntil(script: string, done: (output: string) => boolean): Promise<string> {
    const child = spawnTracked(process.execPath, [resolve(fixtures, script)], { env: { ...process.env, KAFKA_HOST: broker.bootstrap } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && !done(out) && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      return out;
    } finally {
      await stopProcess(child, 'SIGKILL');
    }
  }
});
