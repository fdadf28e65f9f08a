// The kafkajs 2.2.4 driver of the client matrix (protocol.md).
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { emit, fromHex, main, result, toHex, unsupported } from '../node-common.mjs';

const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajs;
const require = createRequire(import.meta.url);
CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy');

const kafkaOf = (c) => new Kafka({ clientId: 'matrix-kafkajs', brokers: [c.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
const headersOf = (list) => Object.fromEntries(list.map(([k, v]) => [k, fromHex(v)]));
const CODECS = { gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy };

async function withAdmin(c, fn) {
  const admin = kafkaOf(c).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

async function send(c, messages, producerConfig = {}, compression = CompressionTypes.None) {
  const producer = kafkaOf(c).producer(producerConfig);
  await producer.connect();
  await producer.send({ topic: c.topic, acks: -1, compression, messages });
  await producer.disconnect();
}

/** Reads `count` records from the start of partition 0 (kafkajs reads only through a group: a fresh one, no commits). */
async function readFromStart(c, count) {
  const consumer = kafkaOf(c).consumer({ groupId: `${c.topic}-reader`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic: c.topic, fromBeginning: true });
  const out = [];
  await new Promise((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        out.push(message);
        if (out.length >= count) resolve();
      },
    });
  });
  await consumer.disconnect();
  return out;
}

await main({
  version: async () => result({ version: require('kafkajs/package.json').version }),
  metadata: (c) =>
    withAdmin(c, async (admin) => {
      const cluster = await admin.describeCluster();
      const { topics } = await admin.fetchTopicMetadata({ topics: [c.topic] });
      result({
        brokers: cluster.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port })),
        partitions: topics[0].partitions.map((p) => ({ partition: p.partitionId, leader: p.leader })),
      });
    }),
  produce: async (c) => {
    await send(c, c.records.map((r) => ({ partition: 0, key: fromHex(r.key), value: fromHex(r.value), headers: headersOf(r.headers) })));
    result();
  },
  fetch: async (c) => {
    const records = await readFromStart(c, c.count);
    result({
      records: records.map((m) => ({
        offset: Number(m.offset),
        timestamp: Number(m.timestamp),
        key: toHex(m.key),
        value: toHex(m.value),
        headers: Object.entries(m.headers ?? {}).map(([k, v]) => [k, toHex(v)]),
      })),
    });
  },
  offsets: (c) =>
    withAdmin(c, async (admin) => {
      const [p] = (await admin.fetchTopicOffsets(c.topic)).filter((o) => o.partition === 0);
      const byTime = [];
      for (const t of c.times) {
        const [o] = (await admin.fetchTopicOffsetsByTimestamp(c.topic, t)).filter((x) => x.partition === 0);
        byTime.push(Number(o.offset));
      }
      result({ earliest: Number(p.low), latest: Number(p.high), byTime });
    }),
  group: async (c) => {
    if (c.protocol !== 'classic') return unsupported('kafkajs 2.2.4 has only the classic group protocol (no KIP-848)');
    const consumer = kafkaOf(c).consumer({ groupId: c.group, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    consumer.on(consumer.events.GROUP_JOIN, (e) => emit('assigned', { partitions: e.payload.memberAssignment[c.topic] ?? [] }));
    await consumer.connect();
    await consumer.subscribe({ topic: c.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        emit('record', { partition, offset: Number(message.offset) });
        await consumer.commitOffsets([{ topic: c.topic, partition, offset: String(Number(message.offset) + 1) }]);
      },
    });
    await new Promise(() => {});
  },
  admin: (c) =>
    withAdmin(c, async (admin) => {
      await admin.createTopics({ topics: [{ topic: c.topic, numPartitions: 3 }], waitForLeaders: true });
      const { topics } = await admin.fetchTopicMetadata({ topics: [c.topic] });
      await admin.deleteTopics({ topics: [c.topic] });
      result({ partitions: topics[0].partitions.length });
    }),
  codec: async (c) => {
    if (!(c.codec in CODECS)) return unsupported(`kafkajs 2.2.4 has no ${c.codec} codec of its own; its plugins (kafkajs-lz4, @kafkajs/zstd) build native addons with node-gyp`);
    await send(c, c.values.map((value) => ({ partition: 0, value })), {}, CODECS[c.codec]);
    result({ values: (await readFromStart(c, c.values.length)).map((m) => m.value.toString()) });
  },
  idempotent: async (c) => {
    await send(c, c.values.map((v) => ({ partition: 0, value: fromHex(v) })), { idempotent: true, maxInFlightRequests: 1 });
    result();
  },
});
