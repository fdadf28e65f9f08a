#!/usr/bin/env node
// Quick throughput measurement of the Kafka codec (not a test, no thresholds):
//   node scripts/measure-codec.mjs
// Decodes the Produce v7 request captured from kafkajs (header + body) and encodes Fetch v11
// responses, in tight loops after a warm-up, and prints operations per second.
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'kts-measure-'));
await build({ entryPoints: [join(root, 'src/protocol/index.ts')], outfile: join(tmp, 'p.mjs'), bundle: true, format: 'esm', platform: 'node', logLevel: 'warning' });
const P = await import(pathToFileURL(join(tmp, 'p.mjs')).href);
rmSync(tmp, { recursive: true, force: true });

function measure(name, fn, seconds = 1.5) {
  for (let i = 0; i < 20000; i++) fn(); // warm-up: compile + JIT
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) fn();
    n += 1000;
    now = process.hrtime.bigint();
  }
  const perSec = n / (Number(now - start) / 1e9);
  console.log(`${name.padEnd(66)} ${Math.round(perSec).toLocaleString('en-US').padStart(12)} ops/s`);
  return perSec;
}

const hex = readFileSync(join(root, 'test/fixtures/protocol/captured/kafkajs-Produce-v7.hex'), 'utf8').replace(/\s+/g, '');
const produce = Buffer.from(hex, 'hex');
let sink = 0;
measure(`decode Produce v7 request (kafkajs, ${produce.length} B, header+body)`, () => {
  const { header, bodyOffset } = P.decodeRequestHeader(produce);
  const req = P.decodeRequestBody(header.apiKey, header.apiVersion, produce, bodyOffset);
  sink += req.topicData[0].partitionData[0].records.length;
});

// A produce request for 10 partitions of 2 topics (records are views: size does not matter).
const many = Buffer.concat(
  P.encodeRequest(0, 7, 1, 'producer-1', {
    acks: -1,
    timeoutMs: 30000,
    topicData: ['orders', 'payments'].map((name) => ({
      name,
      partitionData: Array.from({ length: 5 }, (_, i) => ({ index: i, records: Buffer.alloc(1024, i) })),
    })),
  }),
).subarray(4);
measure(`decode Produce v7 request (2 topics x 5 partitions, ${many.length} B)`, () => {
  const { header, bodyOffset } = P.decodeRequestHeader(many);
  sink += P.decodeRequestBody(header.apiKey, header.apiVersion, many, bodyOffset).topicData.length;
});

const records = Buffer.alloc(16 * 1024, 1);
const fetchBody = (partitions, recs) => ({
  throttleTimeMs: 0,
  sessionId: 0,
  responses: [
    {
      topic: 'orders',
      partitions: Array.from({ length: partitions }, (_, i) => ({
        partitionIndex: i,
        highWatermark: 123456 + i,
        lastStableOffset: 123456 + i,
        logStartOffset: 0,
        abortedTransactions: null,
        records: recs,
      })),
    },
  ],
});
const one = fetchBody(1, records);
measure('encode Fetch v11 response (1 partition, 16 KiB records)', () => {
  sink += P.encodeResponse(1, 11, 7, one).length;
});
const ten = fetchBody(10, records);
measure('encode Fetch v11 response (10 partitions x 16 KiB records)', () => {
  sink += P.encodeResponse(1, 11, 7, ten).length;
});
const small = fetchBody(10, Buffer.alloc(200, 2));
measure('encode Fetch v11 response (10 partitions x 200 B records, copied)', () => {
  sink += P.encodeResponse(1, 11, 7, small).length;
});
const empty = fetchBody(1, Buffer.alloc(0));
measure('encode Fetch v11 response (1 partition, empty: long-poll answer)', () => {
  sink += P.encodeResponse(1, 11, 7, empty).length;
});
const metadata = {
  brokers: [{ nodeId: 0, host: 'localhost', port: 9092 }],
  clusterId: 'kts',
  controllerId: 0,
  topics: Array.from({ length: 10 }, (_, t) => ({
    name: `topic-${t}`,
    partitions: Array.from({ length: 3 }, (_, i) => ({ partitionIndex: i, leaderId: 0, replicaNodes: [0], isrNodes: [0] })),
  })),
};
measure('encode Metadata v12 response (10 topics x 3 partitions)', () => {
  sink += P.encodeResponse(3, 12, 7, metadata).length;
});
if (sink === 0) console.log('');
