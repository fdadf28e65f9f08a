// read_committed against read_uncommitted (issue 14, must-show 1 and 4). kafkajs, @platformatic/kafka
// and confluent-kafka-python transactional producers each commit [c0, c1], abort [a0, a1] and commit
// [c2, end] into their own one-partition topic; then kafkajs, @platformatic/kafka,
// confluent-kafka-python, the Java 4.4 console consumer and kts console-consumer read every topic at
// both isolation levels:
// read_committed sees the committed records only, read_uncommitted all of them. A transaction left
// open holds the last stable offset (Fetch and ListOffsets with isolation_level 1) until the
// coordinator aborts it at its timeout; then the LSO advances and read_committed moves past it.
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Consumer, MessagesStreamModes, Producer, stringDeserializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, runKafkaTool } from '../../helpers/real-kafka.js';
import { kts } from '../cli/support.js';
import { pollUntil, RawTxnClient } from './support.js';

function confluentInstalled(): boolean {
  try {
    execFileSync('python3', ['-c', 'import confluent_kafka'], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.KTS_REQUIRE_INTEROP === '1') throw new Error('confluent-kafka (Python) is required (KTS_REQUIRE_INTEROP=1): pip install confluent-kafka');
    return false;
  }
}
const hasConfluent = confluentInstalled();
const fixture = resolve(import.meta.dirname, 'fixtures/confluent-read-committed.py');

const COMMITTED = ['c0', 'c1', 'c2', 'end'];
const ALL = ['c0', 'c1', 'a0', 'a1', 'c2', 'end'];
const expected = (topic: string, values: string[]) => values.map((v) => `${topic}-${v}`);

describe('read_committed and read_uncommitted consumers of transactional producers', () => {
  let broker: SpawnedBroker;
  const topics: string[] = [];
  const kafka = () => new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });

  beforeAll(async () => {
    broker = await spawnBroker({
      overrides: { 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200', 'transaction.max.timeout.ms': '120000' },
    });
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: ['rc-kjs', 'rc-plt', 'rc-rdk', 'lso'].map((topic) => ({ topic, numPartitions: 1 })) });
    await admin.disconnect();

    // kafkajs
    const kjs = kafka().producer({ transactionalId: 'rc-kjs-1', idempotent: true, maxInFlightRequests: 1 });
    await kjs.connect();
    for (const [values, commit] of [[['c0', 'c1'], true], [['a0', 'a1'], false], [['c2', 'end'], true]] as const) {
      const t = await kjs.transaction();
      await t.send({ topic: 'rc-kjs', messages: values.map((v) => ({ value: `rc-kjs-${v}`, partition: 0 })) });
      await (commit ? t.commit() : t.abort());
    }
    await kjs.disconnect();
    topics.push('rc-kjs');

    // @platformatic/kafka
    const plt = new Producer({ clientId: 'rc-plt', bootstrapBrokers: [broker.bootstrap], idempotent: true, transactionalId: 'rc-plt-1', retries: 20 });
    try {
      for (const [values, commit] of [[['c0', 'c1'], true], [['a0', 'a1'], false], [['c2', 'end'], true]] as const) {
        const t = await plt.beginTransaction();
        await t.send({ messages: values.map((v) => ({ topic: 'rc-plt', partition: 0, value: Buffer.from(`rc-plt-${v}`) })) });
        await (commit ? t.commit() : t.abort());
      }
    } finally {
      await plt.close();
    }
    topics.push('rc-plt');

    // confluent-kafka-python
    if (hasConfluent) {
      const r = await run('python3', [fixture, 'produce', broker.bootstrap, 'rc-rdk', 'rc-rdk-1'], { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      topics.push('rc-rdk');
    }
  }, 240_000);
  afterAll(async () => {
    await broker?.stop();
  });

  async function kafkajsRead(readUncommitted: boolean): Promise<Map<string, string[]>> {
    const seen = new Map<string, string[]>(topics.map((t) => [t, []]));
    const consumer = kafka().consumer({ groupId: `kjs-${readUncommitted}`, readUncommitted, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ topic, message }) => void seen.get(topic)!.push(message.value!.toString()) });
      await pollUntil(async () => [...seen.values()], (lists) => lists.every((l) => l.at(-1)?.endsWith('-end')), 60_000, 'kafkajs end records');
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }

  it('kafkajs consumers', async () => {
    const committed = await kafkajsRead(false);
    const all = await kafkajsRead(true);
    for (const t of topics) {
      expect(committed.get(t), `${t} read_committed`).toEqual(expected(t, COMMITTED));
      expect(all.get(t), `${t} read_uncommitted`).toEqual(expected(t, ALL));
    }
  }, 150_000);

  async function platformaticRead(isolationLevel: 0 | 1): Promise<Map<string, string[]>> {
    const seen = new Map<string, string[]>(topics.map((t) => [t, []]));
    const consumer = new Consumer({ clientId: `plt-${isolationLevel}`, bootstrapBrokers: [broker.bootstrap], groupId: `plt-${isolationLevel}`, maxWaitTime: 200, isolationLevel, deserializers: stringDeserializers });
    try {
      const stream = await consumer.consume({ topics, mode: MessagesStreamModes.EARLIEST, autocommit: false });
      const done = pollUntil(async () => [...seen.values()], (lists) => lists.every((l) => l.at(-1)?.endsWith('-end')), 60_000, 'platformatic end records');
      stream.on('data', (m) => seen.get(m.topic)!.push(String(m.value)));
      await done;
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    return seen;
  }

  it('@platformatic/kafka consumers', async () => {
    const committed = await platformaticRead(1);
    const all = await platformaticRead(0);
    for (const t of topics) {
      expect(committed.get(t), `${t} read_committed`).toEqual(expected(t, COMMITTED));
      expect(all.get(t), `${t} read_uncommitted`).toEqual(expected(t, ALL));
    }
  }, 150_000);

  it.skipIf(!hasConfluent)('confluent-kafka-python consumers', async () => {
    for (const [isolation, values] of [['read_committed', COMMITTED], ['read_uncommitted', ALL]] as const) {
      const r = await run('python3', [fixture, 'consume', broker.bootstrap, isolation, ...topics], { timeoutMs: 120_000 });
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n').map((l) => l.split(' '));
      for (const t of topics) expect(lines.filter(([topic]) => topic === t).map(([, v]) => v), `${t} ${isolation}`).toEqual(expected(t, values));
    }
  }, 250_000);

  it.skipIf(!kafkaLib(KAFKA_4))('the Java 4.4 console consumer (--isolation-level)', async () => {
    for (const [isolation, values] of [['read_committed', COMMITTED], ['read_uncommitted', ALL]] as const) {
      const r = await runKafkaTool(
        KAFKA_4,
        'console-consumer',
        ['--bootstrap-server', broker.bootstrap, '--include', `^(${topics.join('|')})$`, '--from-beginning', '--isolation-level', isolation, '--max-messages', String(values.length * topics.length), '--timeout-ms', '60000'],
        { timeoutMs: 120_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const got = r.stdout.trim().split('\n');
      for (const t of topics) expect(got.filter((v) => v.startsWith(`${t}-`)), `${t} ${isolation}`).toEqual(expected(t, values));
    }
  }, 250_000);

  it('kts console-consumer (--isolation-level)', async () => {
    for (const [isolation, values] of [['read_committed', COMMITTED], ['read_uncommitted', ALL]] as const) {
      for (const t of topics) {
        const r = await kts(['console-consumer', '--bootstrap-server', broker.bootstrap, '--topic', t, '--from-beginning', '--isolation-level', isolation, '--max-messages', String(values.length), '--timeout-ms', '30000'], { timeoutMs: 60_000 });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim().split('\n'), `${t} ${isolation}`).toEqual(expected(t, values));
      }
    }
  }, 200_000);

  it('an open transaction holds the LSO until the coordinator aborts it at its timeout; then read_committed moves on', async () => {
    const txn = await RawTxnClient.connect(broker.port);
    const raw = await RawClient.connect(broker.port);
    const fetch = (isolationLevel: number, fetchOffset: number) =>
      raw
        .request(1, 11, fetchBody('lso', [{ partition: 0, offset: fetchOffset }], { isolationLevel }))
        .then((r) => r.responses[0].partitions[0]);
    const latest = async (isolationLevel: number) => {
      const r = await raw.request(2, 7, { replicaId: -1, isolationLevel, topics: [{ name: 'lso', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
      return Number(r.topics[0].partitions[0].offset);
    };
    try {
      const { producerId } = await txn.initRetrying('left-open', 8_000);
      expect(await txn.addPartitions('left-open', producerId, 0, 'lso', [0])).toEqual([0]);
      expect((await txn.produce('left-open', producerId, 0, 'lso', 0, 0, ['open-1', 'open-2'])).errorCode).toBe(0);
      const plain = kafka().producer();
      await plain.connect();
      await plain.send({ topic: 'lso', messages: [{ value: 'after', partition: 0 }] });
      await plain.disconnect();
      // offsets 0-1 in the open transaction, 2 after it: the LSO is 0, the high watermark 3
      expect(await latest(1)).toBe(0);
      expect(await latest(0)).toBe(3);
      const held = await fetch(1, 0);
      expect({ lso: Number(held.lastStableOffset), hw: Number(held.highWatermark), bytes: held.records?.length ?? 0, aborted: held.abortedTransactions }).toEqual({ lso: 0, hw: 3, bytes: 0, aborted: [] });
      expect(Number((await fetch(0, 0)).lastStableOffset)).toBe(0);

      // the coordinator aborts it after 8 s: an ABORT marker at 3, the LSO moves to the log end
      await pollUntil(() => latest(1), (o) => o === 4, 60_000, 'the LSO after the timeout abort');
      const after = await fetch(1, 0);
      expect(Number(after.lastStableOffset)).toBe(4);
      expect(after.abortedTransactions.map((a: { producerId: bigint | number; firstOffset: bigint | number }) => [Number(a.producerId), Number(a.firstOffset)])).toEqual([[producerId, 0]]);
      const consumer = kafka().consumer({ groupId: 'lso-reader', maxWaitTimeInMs: 200 });
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic: 'lso', fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await pollUntil(async () => seen, (s) => s.includes('after'), 30_000, 'read_committed past the aborted transaction');
      await consumer.disconnect();
      expect(seen).toEqual(['after']);
    } finally {
      txn.close();
      raw.close();
    }
  }, 120_000);
});
