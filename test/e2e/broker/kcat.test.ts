// librdkafka (kcat) against the real binary: metadata, 20,000 keyed records with headers across
// three partitions read back exactly, offsets by timestamp.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kcat } from '../../helpers/kcat.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { kcatPath } from '../../helpers/tools.js';
import { Kafka, logLevel } from 'kafkajs';

const hasKcat = kcatPath() !== null;

describe.skipIf(!hasKcat)('kcat (librdkafka) against kts', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    broker = await spawnBroker();
    const admin = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'keyed', numPartitions: 3 }, { topic: 'times', numPartitions: 1 }] });
    await admin.disconnect();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('-L lists the broker and the topics', async () => {
    const out = await kcat(['-b', broker.bootstrap, '-L']);
    expect(out).toContain(`broker 0 at 127.0.0.1:${broker.port} (controller)`);
    expect(out).toMatch(/topic "keyed" with 3 partitions:/);
    expect(out).toMatch(/partition 2, leader 0, replicas: 0, isrs: 0/);
  });

  it('round-trips 20,000 keyed records with headers across 3 partitions byte-exact', async () => {
    const count = 20_000;
    const lines: string[] = [];
    for (let i = 0; i < count; i++) lines.push(`key-${i}\u0001value ${i} ünïcödé ${'x'.repeat(i % 50)}`);
    await kcat(['-b', broker.bootstrap, '-P', '-t', 'keyed', '-K', '\u0001', '-H', 'source=kcat', '-H', 'trace=ä1'], {
      input: lines.join('\n') + '\n',
      timeoutMs: 60_000,
    });
    const out = await kcat(
      ['-b', broker.bootstrap, '-C', '-t', 'keyed', '-o', 'beginning', '-e', '-q', '-f', '%p\u0002%o\u0002%k\u0002%s\u0002%h\n'],
      { timeoutMs: 60_000 },
    );
    const rows = out.split('\n').filter(Boolean).map((l) => l.split('\u0002'));
    expect(rows).toHaveLength(count);
    const byKey = new Map(rows.map(([p, o, k, v, h]) => [k, { p: Number(p), o: Number(o), v, h }]));
    for (let i = 0; i < count; i++) {
      const row = byKey.get(`key-${i}`);
      expect(row, `key-${i}`).toBeDefined();
      expect(row!.v).toBe(`value ${i} ünïcödé ${'x'.repeat(i % 50)}`);
      expect(row!.h).toBe('source=kcat,trace=ä1');
    }
    // Keys spread over all three partitions, and within each partition offsets are 0..n-1 in order.
    const perPartition = [0, 1, 2].map((p) => rows.filter((r) => Number(r[0]) === p).map((r) => Number(r[1])));
    for (const offsets of perPartition) {
      expect(offsets.length).toBeGreaterThan(0);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    // The same key always lands on the same partition.
    const again = await kcat(['-b', broker.bootstrap, '-P', '-t', 'keyed', '-K', '\u0001'], { input: 'key-7\u0001again\n' });
    expect(again).toBe('');
    const tail = await kcat(['-b', broker.bootstrap, '-C', '-t', 'keyed', '-p', String(byKey.get('key-7')!.p), '-o', '-1', '-e', '-q', '-f', '%k=%s\n']);
    expect(tail.trim()).toBe('key-7=again');
  });

  it('-Q finds offsets by timestamp', async () => {
    const base = Date.now() - 100_000;
    // kcat takes a per-message timestamp only through its -T/-f producer options in newer
    // versions, so produce with kafkajs, which sets CreateTime per record.
    const producer = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic: 'times', messages: [{ value: `t${i}`, timestamp: String(base + i * 1000) }] });
    }
    await producer.disconnect();
    const q = async (ts: number) => (await kcat(['-b', broker.bootstrap, '-Q', '-t', `times:0:${ts}`])).trim();
    expect(await q(base)).toBe('times [0] offset 0');
    expect(await q(base + 4500)).toBe('times [0] offset 5');
    expect(await q(base + 9000)).toBe('times [0] offset 9');
    expect(await q(base + 60_000)).toBe('times [0] offset -1');
  });
});
