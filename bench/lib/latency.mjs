// End-to-end latency probe: a producer (acks=1, or the acks given) sending `rate` records/s in one small batch per
// millisecond tick and a long-polling consumer on its own connection, both raw Kafka connections.
// Each record's value carries its send time; latency = receive time - send time.
//   node latency.mjs <port> <proto.mjs> <topic> <rate> <seconds> [acks]   -> prints JSON
import { RawClient } from './servers.mjs';

const [port, protoPath, topic, rateArg, secondsArg, acksArg = '1'] = process.argv.slice(2);
const acks = Number(acksArg);
const proto = await import(protoPath);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const warmupMs = 500;

const producer = await RawClient.connect(Number(port), proto);
const consumer = await RawClient.connect(Number(port), proto);
const latencies = [];
let received = 0;
let sent = 0;
let stop = false;
let produceErrors = 0;

const fetchBody = (offset) => ({
  replicaId: -1,
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  sessionId: 0,
  sessionEpoch: -1,
  topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
  forgottenTopicsData: [],
  rackId: '',
});

async function consume() {
  // start at the end of the log
  const lo = await consumer.request(2, 1, { replicaId: -1, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }] });
  let offset = Number(lo.topics[0].partitions[0].offset);
  const t0 = performance.now();
  while (!stop) {
    const res = await consumer.request(1, 11, fetchBody(offset));
    const now = performance.now();
    const p = res.responses[0].partitions[0];
    if (p.errorCode !== 0) throw new Error(`fetch error ${p.errorCode}`);
    if (!p.records || p.records.length === 0) continue;
    for (const r of proto.decodeRecords(p.records)) {
      if (Number(r.offset) < offset) continue;
      const sentAt = r.value.readDoubleLE(0);
      if (sentAt - t0 > warmupMs) latencies.push(now - sentAt);
      received++;
      offset = Number(r.offset) + 1;
    }
  }
}

const value = () => {
  const b = Buffer.alloc(100);
  b.writeDoubleLE(performance.now(), 0);
  return b;
};

async function produce() {
  const start = performance.now();
  const end = start + warmupMs + seconds * 1000;
  const inflight = new Set();
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - start) * rate) / 1000);
    const n = due - sent;
    if (n > 0 && inflight.size < 64) {
      const records = [];
      for (let i = 0; i < n; i++) records.push({ key: null, value: value() });
      const batch = proto.buildRecordBatch(records);
      sent += n;
      const p = producer
        .request(0, 7, { transactionalId: null, acks, timeoutMs: 30000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] })
        .then((res) => {
          if (res.responses[0].partitionResponses[0].errorCode !== 0) produceErrors++;
        })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
}

const c = consume().catch((err) => {
  console.error(err);
  process.exit(1);
});
await produce();
const deadline = performance.now() + 5000;
while (received < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
stop = true;
latencies.sort((a, b) => a - b);
const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
console.log(JSON.stringify({ sent, received, measured: latencies.length, produceErrors, p50: pct(50), p99: pct(99), p999: pct(99.9), max: latencies.at(-1) }));
producer.close();
consumer.close();
process.exit(0);
void c;
