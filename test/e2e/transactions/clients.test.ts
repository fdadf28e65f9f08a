// Transactional producers of other clients against the coordinator: @platformatic/kafka,
// confluent-kafka-python (librdkafka) and the Java client 4.4 (producer-perf-test
// --transactional-id). Each commits and aborts (Java only commits); the partitions then hold
// every record (read_uncommitted) and one marker per partition of each transaction.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Producer } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { KAFKA_4, kafkaLib, runKafkaTool } from '../../helpers/real-kafka.js';
import { pollUntil, storedBatches, type StoredBatch } from './support.js';

function confluentInstalled(): boolean {
  try {
    execFileSync('python3', ['-c', 'import confluent_kafka'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.KTS_REQUIRE_INTEROP === '1') throw new Error('confluent-kafka (Python) is required (KTS_REQUIRE_INTEROP=1): pip install confluent-kafka');
    return false;
  }
}

const shape = (bs: StoredBatch[]) => bs.map((b) => b.marker ?? b.values.join(','));
const markers = (bs: StoredBatch[]) => bs.filter((b) => b.marker).length;

describe('transactional producers of other clients', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    broker = await spawnBroker();
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: ['plt', 'rdk', 'java'].map((topic) => ({ topic, numPartitions: 2 })) });
    await admin.disconnect();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('@platformatic/kafka: beginTransaction, commit, abort', async () => {
    const producer = new Producer({ clientId: 'plt-txn', bootstrapBrokers: [broker.bootstrap], idempotent: true, transactionalId: 'plt-1', retries: 20 });
    try {
      const t1 = await producer.beginTransaction();
      await t1.send({ messages: [{ topic: 'plt', partition: 0, value: Buffer.from('p-c0') }, { topic: 'plt', partition: 1, value: Buffer.from('p-c1') }] });
      await t1.commit();
      const t2 = await producer.beginTransaction();
      await t2.send({ messages: [{ topic: 'plt', partition: 0, value: Buffer.from('p-a0') }] });
      await t2.abort();
    } finally {
      await producer.close();
    }
    const p0 = await pollUntil(() => storedBatches(broker.port, 'plt', 0), (b) => markers(b) === 2, 30_000, 'plt-0 markers');
    const p1 = await pollUntil(() => storedBatches(broker.port, 'plt', 1), (b) => markers(b) === 1, 30_000, 'plt-1 marker');
    expect(shape(p0)).toEqual(['p-c0', 'COMMIT', 'p-a0', 'ABORT']);
    expect(shape(p1)).toEqual(['p-c1', 'COMMIT']);
  });

  it.skipIf(!confluentInstalled())('confluent-kafka-python: init_transactions, commit_transaction, abort_transaction', async () => {
    const script = resolve(import.meta.dirname, 'fixtures/confluent-txn-producer.py');
    const r = await run('python3', [script, broker.bootstrap, 'rdk', 'rdk-1'], { timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['committed', 'aborted']);
    const p0 = await pollUntil(() => storedBatches(broker.port, 'rdk', 0), (b) => markers(b) === 2, 30_000, 'rdk-0 markers');
    const p1 = await pollUntil(() => storedBatches(broker.port, 'rdk', 1), (b) => markers(b) === 2, 30_000, 'rdk-1 markers');
    expect(shape(p0)).toEqual(['rdk-c0,rdk-c2', 'COMMIT', 'rdk-a0', 'ABORT']);
    expect(shape(p1)).toEqual(['rdk-c1', 'COMMIT', 'rdk-a1', 'ABORT']);
  }, 150_000);

  it.skipIf(!kafkaLib(KAFKA_4))('the Java client 4.4: producer-perf-test --transactional-id commits its transactions', async () => {
    const r = await runKafkaTool(
      KAFKA_4,
      'producer-perf-test',
      ['--topic', 'java', '--num-records', '200', '--record-size', '10', '--throughput', '-1', '--transactional-id', 'java-1', '--transaction-duration-ms', '100', '--producer-props', `bootstrap.servers=${broker.bootstrap}`, 'max.block.ms=60000'],
      { timeoutMs: 120_000 },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/200 records sent/);
    let records = 0;
    let commits = 0;
    for (const partition of [0, 1]) {
      // Every transaction ends with a COMMIT in each partition it wrote; the last marker may still be on its way.
      const batches = await pollUntil(() => storedBatches(broker.port, 'java', partition), (b) => b.length === 0 || b[b.length - 1].marker === 'COMMIT', 30_000, `java-${partition}`);
      records += batches.reduce((n, b) => n + b.values.length, 0);
      commits += markers(batches);
      expect(batches.every((b) => b.marker !== 'ABORT')).toBe(true);
    }
    expect(records).toBe(200);
    expect(commits).toBeGreaterThan(0);
  }, 150_000);
});
