// kafkajs producing `txns` batches of `perTxn` x 100 B records to one partition, either each batch
// in its own transaction (transactionalId, send, commit) or with the idempotent producer alone (the
// same sends, no transaction), one after another as an app does.
//   node kafkajs-txn.mjs <bootstrap> <topic> <txn|idempotent> <txns> <perTxn>
//   -> prints JSON { ms, perTxnMs, requests: { <api>: { count, ms } } }
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../package.json', import.meta.url));
const { Kafka, logLevel } = require('kafkajs');
const [bootstrap, topic, mode, txnsArg, perTxnArg] = process.argv.slice(2);
const txns = Number(txnsArg);
const perTxn = Number(perTxnArg);
const kafka = new Kafka({ clientId: 'kts-bench-txn', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
const value = Buffer.alloc(100, 't');
const messages = Array.from({ length: perTxn }, () => ({ value }));
const transactional = mode === 'txn';
const producer = kafka.producer(
  transactional
    ? { transactionalId: `bench-${process.pid}`, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }
    : { idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false },
);
// Where the time goes: every request kafkajs makes, by API, with its round trip.
const requests = {};
producer.on(producer.events.REQUEST, ({ payload }) => {
  const r = (requests[payload.apiName] ??= { count: 0, ms: 0 });
  r.count++;
  r.ms += payload.duration;
});
await producer.connect();
// One warm-up round (InitProducerId, metadata, the first AddPartitionsToTxn) outside the timing.
if (transactional) {
  const t = await producer.transaction();
  await t.send({ topic, messages });
  await t.commit();
} else {
  await producer.send({ topic, acks: -1, messages });
}
for (const k of Object.keys(requests)) delete requests[k];
const t0 = performance.now();
for (let i = 0; i < txns; i++) {
  if (transactional) {
    const t = await producer.transaction();
    await t.send({ topic, messages });
    await t.commit();
  } else {
    await producer.send({ topic, acks: -1, messages });
  }
}
const ms = performance.now() - t0;
await producer.disconnect();
console.log(JSON.stringify({ ms, perTxnMs: ms / txns, requests }));
process.exit(0);
