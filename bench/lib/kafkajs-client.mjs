// kafkajs (the Node client users have) producing then consuming N x 100 B records, default
// consumer settings except maxWaitTimeInMs (the mock's Fetch never waits anyway).
//   node kafkajs-client.mjs <bootstrap> <topic> <count>   -> prints JSON { produceMs, consumeMs, joinMs, consumed }
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../package.json', import.meta.url));
const { Kafka, logLevel } = require('kafkajs');
const [bootstrap, topic, countArg] = process.argv.slice(2);
const count = Number(countArg);
const kafka = new Kafka({ clientId: 'kts-bench', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
const value = Buffer.alloc(100, 'k');

const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();
const perSend = 1000;
const messages = Array.from({ length: perSend }, () => ({ value }));
let t0 = performance.now();
const inflight = [];
for (let sent = 0; sent < count; sent += perSend) {
  inflight.push(producer.send({ topic, acks: 1, messages }));
  if (inflight.length >= 4) await inflight.shift();
}
await Promise.all(inflight);
const produceMs = performance.now() - t0;
await producer.disconnect();

const consumer = kafka.consumer({ groupId: `bench-${topic}-${process.pid}`, maxWaitTimeInMs: 100 });
let joinedAt = 0;
consumer.on(consumer.events.GROUP_JOIN, () => {
  if (!joinedAt) joinedAt = performance.now();
});
await consumer.connect();
await consumer.subscribe({ topics: [topic], fromBeginning: true });
let consumed = 0;
let firstAt = 0;
t0 = performance.now();
const done = new Promise((resolve) => {
  consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (!firstAt) firstAt = performance.now();
      if (!joinedAt) joinedAt = firstAt;
      consumed += batch.messages.length;
      if (consumed >= count) resolve();
    },
  });
});
const timeout = new Promise((resolve) => setTimeout(resolve, 120_000));
await Promise.race([done, timeout]);
const end = performance.now();
await consumer.disconnect().catch(() => {});
// consumeMs: from the end of the group join (GROUP_JOIN event) to the last record; joinMs before it.
console.log(JSON.stringify({ produceMs, consumeMs: end - (joinedAt || t0), joinMs: (joinedAt || end) - t0, firstRecordMs: (firstAt || end) - t0, consumed }));
process.exit(0);
