#!/usr/bin/env node
// Development tool: records the raw request frames that real clients (kafkajs, kafka-node, kcat)
// send, for the codec's golden-byte tests. It runs a tiny fake broker on 127.0.0.1 (free port) that
// answers just enough (with kts's own encoder) to coax the next request out of each client, and
// writes the first frame of every (client, API, version) to test/fixtures/protocol/captured/ as
// hex. Output varies run to run (timestamps, member ids): re-capture only to add fixtures.
//
//   node scripts/capture-client-frames.mjs [--only kcat|kafkajs|kafka-node] [--dry-run]
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : null;
const dryRun = args.includes('--dry-run');
const outDir = join(root, 'test/fixtures/protocol/captured');

// Bundle the codec from source so the script runs without a build.
const tmp = mkdtempSync(join(tmpdir(), 'kts-capture-'));
await build({
  entryPoints: [join(root, 'src/protocol/index.ts')],
  outfile: join(tmp, 'protocol.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  logLevel: 'warning',
});
const P = await import(pathToFileURL(join(tmp, 'protocol.mjs')).href);
rmSync(tmp, { recursive: true, force: true });
const { ApiKey, ErrorCode } = P;

// The "must" ranges of docs/protocol-compat.md, or every schema version with --full ranges.
const MUST = {
  ApiVersions: [0, 3], Metadata: [0, 6], Produce: [0, 7], Fetch: [0, 11], ListOffsets: [0, 3],
  OffsetCommit: [0, 7], OffsetFetch: [0, 5], FindCoordinator: [0, 2], JoinGroup: [0, 5],
  SyncGroup: [0, 3], Heartbeat: [0, 3], LeaveGroup: [0, 3], ListGroups: [0, 2], DescribeGroups: [0, 4],
  DeleteGroups: [0, 1], CreateTopics: [0, 4], DeleteTopics: [0, 3], CreatePartitions: [0, 1],
  DescribeConfigs: [0, 2], AlterConfigs: [0, 1], DeleteRecords: [0, 1], InitProducerId: [0, 1],
  AddPartitionsToTxn: [0, 1], AddOffsetsToTxn: [0, 1], EndTxn: [0, 1], TxnOffsetCommit: [0, 2],
  SaslHandshake: [0, 1], SaslAuthenticate: [0, 1], DescribeAcls: [0, 1], CreateAcls: [0, 1], DeleteAcls: [0, 1],
};
const FULL = {
  ...MUST, ApiVersions: [0, 3], Metadata: [0, 12], Produce: [0, 9], Fetch: [0, 12], ListOffsets: [0, 7],
  OffsetCommit: [0, 8], OffsetFetch: [0, 8], FindCoordinator: [0, 4], JoinGroup: [0, 7], SyncGroup: [0, 5],
  Heartbeat: [0, 4], LeaveGroup: [0, 4], CreateTopics: [0, 5],
};

const TOPIC_ID = 'c3VwZXJjYWxpZnJhZ2lsaQ';
const frames = new Map(); // "client/apiName/vN" -> hex of the frame after its size prefix

function startBroker(label, ranges) {
  let nextOffset = 0;
  let joins = 0;
  const server = createServer((socket) => {
    let pending = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (data) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4) {
        const size = pending.readInt32BE(0);
        if (pending.length < 4 + size) break;
        const frame = pending.subarray(4, 4 + size);
        pending = pending.subarray(4 + size);
        handle(frame).catch((err) => {
          console.error(`[${label}] ${err.stack}`);
          socket.destroy();
        });
      }
    });
    async function handle(frame) {
      const { header, bodyOffset } = P.decodeRequestHeader(frame);
      const name = P.apiName(header.apiKey) ?? `key${header.apiKey}`;
      const id = `${label}/${name}/v${header.apiVersion}`;
      if (!frames.has(id)) frames.set(id, Buffer.from(frame).toString('hex'));
      const range = ranges[name];
      const reply = (body) => {
        for (const c of P.encodeResponse(header.apiKey, header.apiVersion, header.correlationId, body)) socket.write(c);
      };
      if (header.apiKey === ApiKey.ApiVersions) {
        const apiKeys = Object.entries(ranges).map(([n, [min, max]]) => ({ apiKey: ApiKey[n], minVersion: min, maxVersion: max }));
        if (header.apiVersion > range[1]) {
          for (const c of P.encodeResponse(18, 0, header.correlationId, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: apiKeys.filter((k) => k.apiKey === 18) })) socket.write(c);
        } else {
          reply({ apiKeys });
        }
        return;
      }
      if (!range || header.apiVersion > range[1]) {
        socket.destroy();
        return;
      }
      const req = P.decodeRequestBody(header.apiKey, header.apiVersion, frame, bodyOffset);
      const port = server.address().port;
      switch (header.apiKey) {
        case ApiKey.Metadata: {
          const names = req.topics == null || req.topics.length === 0 ? ['capture'] : req.topics.map((t) => t.name);
          return reply({
            brokers: [{ nodeId: 0, host: '127.0.0.1', port }],
            clusterId: 'kts-capture',
            controllerId: 0,
            topics: names.map((n) => ({
              name: n,
              topicId: TOPIC_ID,
              partitions: [{ partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0] }],
            })),
          });
        }
        case ApiKey.Produce:
          if (req.acks === 0) return;
          return reply({
            responses: req.topicData.map((t) => ({
              name: t.name,
              partitionResponses: t.partitionData.map((p) => ({ index: p.index, baseOffset: nextOffset++ })),
            })),
          });
        case ApiKey.ListOffsets:
          return reply({
            topics: req.topics.map((t) => ({
              name: t.name,
              partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, offset: 0, oldStyleOffsets: [0] })),
            })),
          });
        case ApiKey.Fetch:
          await new Promise((r) => setTimeout(r, Math.min(req.maxWaitMs, 300)));
          return reply({
            responses: req.topics.map((t) => ({
              topic: t.topic,
              partitions: t.partitions.map((p) => ({ partitionIndex: p.partition, highWatermark: 0, lastStableOffset: 0, records: Buffer.alloc(0) })),
            })),
          });
        case ApiKey.FindCoordinator:
          return reply({
            nodeId: 0, host: '127.0.0.1', port,
            coordinators: (req.coordinatorKeys ?? []).map((key) => ({ key, nodeId: 0, host: '127.0.0.1', port })),
          });
        case ApiKey.JoinGroup: {
          joins++;
          if (header.apiVersion >= 4 && req.memberId === '') {
            return reply({ errorCode: ErrorCode.MEMBER_ID_REQUIRED, memberId: `${label}-member`, generationId: -1 });
          }
          const memberId = req.memberId || `${label}-member`;
          const protocol = req.protocols[0];
          return reply({
            generationId: joins, protocolType: req.protocolType, protocolName: protocol.name,
            leader: memberId, memberId,
            members: [{ memberId, groupInstanceId: req.groupInstanceId ?? null, metadata: protocol.metadata }],
          });
        }
        case ApiKey.SyncGroup: {
          const mine = (req.assignments ?? []).find((a) => a.memberId === req.memberId);
          return reply({ protocolType: req.protocolType, protocolName: req.protocolName, assignment: mine ? mine.assignment : Buffer.alloc(0) });
        }
        case ApiKey.Heartbeat:
        case ApiKey.LeaveGroup:
          return reply({ members: (req.members ?? []).map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })) });
        case ApiKey.OffsetFetch:
          return reply({
            topics: (req.topics ?? []).map((t) => ({
              name: t.name,
              partitions: (t.partitionIndexes ?? []).map((p) => ({ partitionIndex: p, committedOffset: -1, metadata: '' })),
            })),
            groups: (req.groups ?? []).map((g) => ({
              groupId: g.groupId,
              topics: (g.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1, metadata: '' })) })),
            })),
          });
        case ApiKey.OffsetCommit:
          return reply({ topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex })) })) });
        case ApiKey.CreateTopics:
          return reply({ topics: req.topics.map((t) => ({ name: t.name, topicId: TOPIC_ID, numPartitions: 1, replicationFactor: 1 })) });
        default:
          socket.destroy();
      }
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server)));
}

function run(cmd, argv, { input, timeoutMs }) {
  return new Promise((ok) => {
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('exit', () => {
      clearTimeout(timer);
      ok(out);
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const withTimeout = (p, ms) => Promise.race([p, sleep(ms)]);

async function kcat(label, ranges) {
  const server = await startBroker(label, ranges);
  const b = `127.0.0.1:${server.address().port}`;
  await run('kcat', ['-b', b, '-L', '-m', '3'], { timeoutMs: 5000 });
  await run('kcat', ['-b', b, '-P', '-t', 'capture', '-k', 'k1', '-H', 'h=v', '-c', '1'], { input: 'hello from kcat\n', timeoutMs: 5000 });
  await run('kcat', ['-b', b, '-C', '-t', 'capture', '-o', 'beginning', '-c', '1', '-m', '2'], { timeoutMs: 2500 });
  await run('kcat', ['-b', b, '-G', `${label}-group`, 'capture', '-c', '1'], { timeoutMs: 6000 });
  server.close();
}

async function kafkajs(label, ranges) {
  const { Kafka, logLevel } = require('kafkajs');
  const server = await startBroker(label, ranges);
  const kafka = new Kafka({ clientId: 'kafkajs-capture', brokers: [`127.0.0.1:${server.address().port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const producer = kafka.producer();
  await withTimeout(producer.connect().then(() => producer.send({ topic: 'capture', messages: [{ key: 'k1', value: 'hello from kafkajs', headers: { h: 'v' } }] })).catch(() => {}), 5000);
  await producer.disconnect().catch(() => {});
  const admin = kafka.admin();
  await withTimeout(admin.connect().then(() => admin.createTopics({ topics: [{ topic: 'created', numPartitions: 2 }] })).catch(() => {}), 5000);
  await admin.disconnect().catch(() => {});
  const consumer = kafka.consumer({ groupId: `${label}-group`, heartbeatInterval: 200 });
  await withTimeout(
    consumer
      .connect()
      .then(() => consumer.subscribe({ topics: ['capture'], fromBeginning: true }))
      .then(() => consumer.run({ eachMessage: async () => {} }))
      .catch(() => {}),
    5000,
  );
  await sleep(1500);
  await withTimeout(consumer.disconnect().catch(() => {}), 3000);
  server.close();
}

async function kafkaNode(label, ranges) {
  const kafka = require('kafka-node');
  const server = await startBroker(label, ranges);
  const kafkaHost = `127.0.0.1:${server.address().port}`;
  const client = new kafka.KafkaClient({ kafkaHost, clientId: 'kafka-node-capture', requestTimeout: 2000 });
  const producer = new kafka.Producer(client, { requireAcks: 1 });
  await withTimeout(
    new Promise((ok) => {
      producer.on('ready', () => producer.send([{ topic: 'capture', messages: ['hello from kafka-node'] }], () => ok()));
      producer.on('error', () => ok());
    }),
    5000,
  );
  await new Promise((ok) => producer.close(() => ok()));
  const plainClient = new kafka.KafkaClient({ kafkaHost, clientId: 'kafka-node-plain', requestTimeout: 2000 });
  const plain = new kafka.Consumer(plainClient, [{ topic: 'capture', partition: 0 }], { autoCommit: false, groupId: `${label}-plain` });
  plain.on('error', () => {});
  await sleep(2000);
  await new Promise((ok) => plain.close(true, () => ok()));
  const group = new kafka.ConsumerGroup({ kafkaHost, groupId: `${label}-group`, fromOffset: 'earliest', sessionTimeout: 6000 }, ['capture']);
  group.on('error', () => {});
  await sleep(3000);
  await new Promise((ok) => group.close(true, () => ok()));
  server.close();
}

const jobs = [
  ['kcat', () => kcat('kcat', MUST)],
  ['kcat', () => kcat('kcat-full', FULL)],
  ['kafkajs', () => kafkajs('kafkajs', MUST)],
  ['kafka-node', () => kafkaNode('kafka-node', MUST)],
];
for (const [client, job] of jobs) {
  if (only && only !== client) continue;
  await job();
}

const ids = [...frames.keys()].sort();
for (const id of ids) console.log(`${id}  ${frames.get(id).length / 2} bytes`);
if (!dryRun) {
  mkdirSync(outDir, { recursive: true });
  for (const id of ids) {
    const [client, name, v] = id.split('/');
    writeFileSync(join(outDir, `${client}-${name}-${v}.hex`), `${frames.get(id).replace(/(.{64})/g, '$1\n').trimEnd()}\n`);
  }
  console.log(`wrote ${ids.length} frames to ${outDir}`);
}
process.exit(0);
