// Node clients with compression against the real binary:
//  - kafkajs 2.2.4 with gzip (built in) and snappy (kafkajs-snappy, pure JS). Its lz4 and zstd
//    plugins are not used: kafkajs-lz4 needs the node-gyp `lz4` addon and @kafkajs/zstd the
//    node-gyp `cppzst` addon, neither installable from the registry without a compiler.
//  - kafka-node 5.0.0 on the old message formats: Produce v2 with magic-1 wrappers, attributes 1
//    (gzip) and 2 (snappy, through kafka-node's optional `snappy` 6 addon, tested only when it
//    loads), read back by kafka-node's Fetch v0 consumer (down-converted, still compressed).
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import kafkaNode from 'kafka-node';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { storedBatches } from './disk.js';

const require = createRequire(import.meta.url);
CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy');

/** kafka-node finds snappy by that name (through the `optional` package); 6.x is a node-gyp addon. */
function kafkaNodeHasSnappy(): boolean {
  try {
    return typeof createRequire(require.resolve('optional'))('snappy').compress === 'function';
  } catch {
    return false;
  }
}

describe('kafkajs and kafka-node with compression', () => {
  let broker: SpawnedBroker;
  let kafka: Kafka;
  beforeAll(async () => {
    broker = await spawnBroker();
    kafka = new Kafka({ clientId: 'kts-compression', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: ['kjs-gzip', 'kjs-snappy', 'kn-gzip', 'kn-snappy'].map((topic) => ({ topic, numPartitions: 1 })) });
    await admin.disconnect();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  async function consumeAll(topic: string, count: number): Promise<string[]> {
    const consumer = kafka.consumer({ groupId: `g-${topic}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${count} records`)), 30_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString());
          if (values.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    return values;
  }

  for (const [name, type, codec] of [
    ['gzip', CompressionTypes.GZIP, 1],
    ['snappy', CompressionTypes.Snappy, 2],
  ] as const) {
    it(`kafkajs ${name}: 2,000 records in 20 batches round-trip and are stored ${name}-compressed`, async () => {
      const topic = `kjs-${name}`;
      const producer = kafka.producer();
      await producer.connect();
      const sent: string[] = [];
      for (let b = 0; b < 20; b++) {
        const messages = Array.from({ length: 100 }, (_, i) => ({ key: `k${b}`, value: `${name} ${b * 100 + i} ${'z'.repeat(i)}` }));
        sent.push(...messages.map((m) => m.value));
        await producer.send({ topic, compression: type, messages });
      }
      await producer.disconnect();
      expect(await consumeAll(topic, sent.length)).toEqual(sent);
      const batches = storedBatches(broker.dataDir, topic, 0);
      expect(batches).toHaveLength(20);
      expect(batches.every((b) => b.codec === codec && b.recordCount === 100)).toBe(true);
    });
  }

  const cases: Array<[string, number, boolean]> = [
    ['gzip', 1, true],
    ['snappy', 2, kafkaNodeHasSnappy()],
  ];
  for (const [name, attributes, available] of cases) {
    it.runIf(available)(`kafka-node attributes ${attributes} (${name}): Produce v2 wrappers stored as ${name} batches, read back by its Fetch v0 consumer`, async () => {
      const topic = `kn-${name}`;
      const client = new kafkaNode.KafkaClient({ kafkaHost: broker.bootstrap, requestTimeout: 10_000 });
      const producer = new kafkaNode.Producer(client, { requireAcks: 1 });
      await new Promise<void>((resolve, reject) => {
        producer.on('ready', resolve);
        producer.on('error', reject);
      });
      const sent: string[] = [];
      for (let b = 0; b < 5; b++) {
        const messages = Array.from({ length: 40 }, (_, i) => `${name} ${b * 40 + i} ${'y'.repeat(i)}`);
        sent.push(...messages);
        await new Promise<void>((resolve, reject) =>
          producer.send([{ topic, messages, attributes }], (err: unknown) => (err ? reject(err) : resolve())),
        );
      }
      const batches = storedBatches(broker.dataDir, topic, 0);
      expect(batches).toHaveLength(5);
      expect(batches.every((b) => b.codec === attributes && b.recordCount === 40)).toBe(true);

      const consumer = new kafkaNode.Consumer(client, [{ topic, partition: 0, offset: 0 }], { autoCommit: false, fromOffset: true });
      const got: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`kafka-node read ${got.length} of ${sent.length}`)), 20_000);
        consumer.on('message', (m) => {
          got.push(String(m.value));
          if (got.length >= sent.length) {
            clearTimeout(timer);
            resolve();
          }
        });
        consumer.on('error', reject);
      });
      await new Promise<void>((resolve) => consumer.close(true, () => resolve()));
      await new Promise<void>((resolve) => producer.close(() => resolve()));
      expect(got).toEqual(sent);
    });
  }
});
