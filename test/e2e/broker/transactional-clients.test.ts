// Transactions are not served yet. A transactional client must learn that at once and fatally, as
// from a Kafka that does not allow it the transactional id: FindCoordinator for a transactional id
// (key type 1) answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which kafkajs, librdkafka (kcat) and
// the Java client (Kafka 4.4's producer-perf-test) treat as fatal. With COORDINATOR_NOT_AVAILABLE
// they retried until their own timeouts (kafkajs ~12 s, kcat and Java 60 s).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, runKafkaTool } from '../../helpers/real-kafka.js';
import { kcatPath } from '../../helpers/tools.js';

// Far below every client's own retry budget; generous for a loaded two-core machine.
const PROMPTLY_MS = 5000;

describe('transactional clients fail at once', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    broker = await spawnBroker();
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'txn', numPartitions: 1 }] });
    await admin.disconnect();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('FindCoordinator for a transactional id answers TRANSACTIONAL_ID_AUTHORIZATION_FAILED (v1 and batched v4)', async () => {
    const raw = await RawClient.connect(broker.port);
    try {
      const v1 = await raw.request(10, 1, { key: 'my-txn', keyType: 1 });
      expect(v1.errorCode).toBe(53);
      expect(v1.nodeId).toBe(-1);
      const v4 = await raw.request(10, 4, { keyType: 1, coordinatorKeys: ['a', 'b'] });
      expect(v4.coordinators.map((c: { key: string; errorCode: number }) => [c.key, c.errorCode])).toEqual([
        ['a', 53],
        ['b', 53],
      ]);
      // Groups are served as before.
      expect((await raw.request(10, 4, { keyType: 0, coordinatorKeys: ['g'] })).coordinators[0].errorCode).toBe(0);
    } finally {
      raw.close();
    }
  });

  it('kafkajs: producer.transaction() rejects at once (kafkajs reports any fatal FindCoordinator error this way)', async () => {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ transactionalId: 'kafkajs-txn', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const started = Date.now();
    try {
      // kafkajs gives up on the first non-retriable code and names none (cluster/index.js).
      await expect(producer.transaction()).rejects.toThrow('Failed to find group coordinator');
    } finally {
      await producer.disconnect();
    }
    const ms = Date.now() - started;
    console.log(`[txn] kafkajs failed after ${ms} ms`);
    expect(ms).toBeLessThan(PROMPTLY_MS);
  });

  it.skipIf(!kcatPath())('kcat -X transactional.id: exits non-zero naming the authorization failure', async () => {
    const started = Date.now();
    const r = await run(kcatPath()!, ['-b', broker.bootstrap, '-P', '-t', 'txn', '-X', 'transactional.id=kcat-txn'], { input: 'one\n', timeoutMs: 90_000 });
    const ms = Date.now() - started;
    console.log(`[txn] kcat exited ${r.code} after ${ms} ms: ${r.stderr.trim()}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/TRANSACTIONAL_ID_AUTHORIZATION_FAILED|Transactional Id authorization failed/i);
    expect(ms).toBeLessThan(PROMPTLY_MS);
  });

  it.skipIf(!kafkaLib(KAFKA_4))('the Java client 4.4 (producer-perf-test --transactional-id): TransactionalIdAuthorizationException', async () => {
    const started = Date.now();
    const r = await runKafkaTool(
      KAFKA_4,
      'producer-perf-test',
      ['--topic', 'txn', '--num-records', '1', '--record-size', '10', '--throughput', '-1', '--transactional-id', 'java-txn', '--producer-props', `bootstrap.servers=${broker.bootstrap}`, 'max.block.ms=60000'],
      { timeoutMs: 120_000 },
    );
    const ms = Date.now() - started;
    console.log(`[txn] Java producer exited ${r.code} after ${ms} ms`);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/TransactionalIdAuthorizationException/);
    // The JVM's own start takes seconds on a loaded machine: the bound is the client's 60 s max.block.ms.
    expect(ms).toBeLessThan(45_000);
  }, 150_000);
});
