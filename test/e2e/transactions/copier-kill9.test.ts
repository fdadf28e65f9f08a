// Exactly-once consume-transform-produce through crashes (issue 14, must-show 2). The app is Kafka's
// own TransactionalMessageCopier (Java client 4.4, consumer offsets in each transaction of 10,
// random aborts) copies 10,000 records: 10 cycles, each killing the app with SIGKILL at a random
// point after it began copying, and the broker
// too on every other cycle (kill -9, restarted on the same data dir); then the app runs to the end of
// the input. The output topic read with read_committed holds every input record exactly once, in
// order, and the group's committed offset is the input's end. The random points come from a seed
// printed with any failure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { KAFKA_4, kafkaLib, runKafkaTool, startKafkaTool } from '../../helpers/real-kafka.js';
import { pollUntil, storedBatches } from './support.js';
import { seededRandom } from '../../helpers/seeded-random.js';

const COUNT = 10_000;
const CYCLES = 10;

describe.skipIf(!kafkaLib(KAFKA_4))('consume-transform-produce through kill -9 of the app and the broker', () => {
  let broker: SpawnedBroker;
  const kafka = () => new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 30 } });
  const seed = Number(process.env.KTS_COPIER_SEED ?? Date.now() % 1_000_000);
  const next = seededRandom(seed);

  beforeAll(async () => {
    broker = await spawnBroker();
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'eo-in', numPartitions: 1 }, { topic: 'eo-out', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '16384' }] }] });
    await admin.disconnect();
    const producer = kafka().producer();
    await producer.connect();
    for (let i = 0; i < COUNT; i += 1000) {
      await producer.send({ topic: 'eo-in', messages: Array.from({ length: 1000 }, (_, k) => ({ value: `in-${i + k}`, partition: 0 })) });
    }
    await producer.disconnect();
  }, 90_000);
  afterAll(async () => {
    await broker?.stop();
  });

  /** The copier group's committed position in the input (-1 before its first commit). */
  async function committedOffset(): Promise<number> {
    const admin = kafka().admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId: 'eo-copier', topics: ['eo-in'] });
      return Number(offsets[0].partitions[0].offset);
    } finally {
      await admin.disconnect();
    }
  }

  const copierArgs = () => [
    '--broker-list', broker.bootstrap, '--input-topic', 'eo-in', '--input-partition', '0', '--output-topic', 'eo-out', '--transactional-id', 'eo-copier',
    '--consumer-group', 'eo-copier', '--transaction-size', '10', '--transaction-timeout', '20000', '--enable-random-aborts', '--use-group-metadata',
  ];

  it(`every input record exactly once after ${CYCLES} crash cycles`, async () => {
    const log: string[] = [`seed ${seed}`];
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const app = startKafkaTool(KAFKA_4, 'transactional-message-copier', copierArgs());
        // The JVM takes seconds to start (more on a loaded machine): the random point is counted from
        // its first progress line, so that the kill hits transactions in flight (it copies ~1,000/s).
        let done = false;
        try {
          await app.waitForStdout((out) => out.includes('"ProcessLoop"'), 120_000);
        } catch {
          done = true; // it exited (nothing left to copy) or never got going
        }
        const waitMs = Math.floor(next() * 2500);
        if (!done) done = await Promise.race([app.exited().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), waitMs))]);
        await app.kill9();
        const killBroker = cycle % 2 === 1;
        if (killBroker) {
          await broker.kill9();
          broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir });
        }
        const progress = await committedOffset();
        log.push(`cycle ${cycle}: app killed ${waitMs} ms into copying${done ? ' (it had exited)' : ''}${killBroker ? ', broker killed' : ''}; committed input offset ${progress}`);
      }
      // The crashes hit a copier at work, not only JVMs starting up.
      expect(await committedOffset()).toBeGreaterThan(0);
      // To the end: the copier exits once it has copied up to the input's end offset.
      const r = await runKafkaTool(KAFKA_4, 'transactional-message-copier', copierArgs(), { timeoutMs: 240_000 });
      expect(r.code, r.stdout.slice(-2000) + r.stderr.slice(-3000)).toBe(0);

      const seen: string[] = [];
      const consumer = kafka().consumer({ groupId: 'eo-reader', maxWaitTimeInMs: 200 });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: 'eo-out', fromBeginning: true });
        await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
        await pollUntil(async () => seen.length, (n) => n >= COUNT, 90_000, 'the committed output');
        await new Promise((r) => setTimeout(r, 1000)); // anything beyond COUNT would show up meanwhile
      } finally {
        await consumer.disconnect();
      }
      expect(seen).toEqual(Array.from({ length: COUNT }, (_, i) => `in-${i}`));
      const batches = await storedBatches(broker.port, 'eo-out');
      log.push(`eo-out: ${batches.filter((b) => b.marker === 'COMMIT').length} commits, ${batches.filter((b) => b.marker === 'ABORT').length} aborts, ${batches.reduce((n, b) => n + b.values.length, 0)} records stored`);
      expect(await committedOffset()).toBe(COUNT);
    } catch (err) {
      (err as Error).message += `\n${log.join('\n')}`;
      throw err;
    }
    console.log(log.join('\n'));
  }, 600_000);
});
