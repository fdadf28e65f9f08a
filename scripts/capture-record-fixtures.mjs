#!/usr/bin/env node
// Captures golden record bytes from real clients' encoders into test/fixtures/records/. Run by hand
// (`node scripts/capture-record-fixtures.mjs`) when a case is added; tests read only the committed
// output, never the clients' internals.
//   kafkajs-batches.json    magic-2 batches from kafkajs's RecordBatch/Record encoders
//   kafka-node-sets.json    magic-0/1 message sets from kafka-node's encodeMessageSet (+ gzip wrappers
//                           built the way its KafkaClient/Client compress a payload)
import { createRequire } from 'node:module';
import { writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const outDir = new URL('../test/fixtures/records/', import.meta.url);
mkdirSync(outDir, { recursive: true });

// JSON form of a key/value: null, a UTF-8 string, or { hex }.
const enc = (v) => (v == null ? null : Buffer.isBuffer(v) ? { hex: v.toString('hex') } : v);
const T = 1_700_000_000_000;

// ---------- kafkajs ----------
const Long = require('kafkajs/src/utils/long');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0');

const mixed = [
  { key: 'key-1', value: 'value-1', headers: { 'trace-id': 'abc', bin: Buffer.from([0, 1, 2, 255]) }, timestamp: T },
  { key: null, value: 'no key', timestamp: T + 5 },
  { key: 'tombstone', value: null, timestamp: T + 70 },
  { key: 'big', value: 'x'.repeat(300), headers: { h: '' }, timestamp: T + 100_000 },
  { key: 'ünïcode-κλειδί', value: Buffer.from('値', 'utf8'), timestamp: T + 100_000 },
];

// The same steps kafkajs's Produce v3+ encoder takes for one partition.
async function kafkajsBatch(messages, { compression = 0, producerId = -1, producerEpoch = 0, firstSequence, transactional = false }) {
  const timestamps = messages.map((m) => m.timestamp).sort();
  const firstTimestamp = timestamps[0];
  const records = messages.map((m, i) => Record({ ...m, offsetDelta: i, timestampDelta: m.timestamp - firstTimestamp }));
  const batch = await RecordBatch({
    compression,
    records,
    firstTimestamp,
    maxTimestamp: timestamps[timestamps.length - 1],
    producerId: Long.fromValue(producerId),
    producerEpoch,
    firstSequence,
    transactional,
    lastOffsetDelta: records.length - 1,
  });
  return batch.buffer;
}

const kafkajsCases = [
  { name: 'plain', messages: mixed, opts: {} },
  { name: 'gzip', messages: mixed, opts: { compression: 1 } },
  {
    name: 'transactional-idempotent',
    messages: [
      { key: 'a', value: '1', timestamp: T },
      { key: 'b', value: '2', headers: { x: 'y' }, timestamp: T + 1 },
    ],
    opts: { producerId: 4242, producerEpoch: 3, firstSequence: 17, transactional: true },
  },
];
const kafkajsOut = [];
for (const c of kafkajsCases) {
  const bytes = await kafkajsBatch(c.messages, c.opts);
  kafkajsOut.push({
    name: c.name,
    options: c.opts,
    records: c.messages.map((m) => ({
      key: enc(m.key),
      value: enc(m.value),
      headers: Object.entries(m.headers ?? {}).map(([key, value]) => ({ key, value: enc(value) })),
      timestamp: m.timestamp,
    })),
    hex: bytes.toString('hex'),
  });
}
writeFileSync(new URL('kafkajs-batches.json', outDir), JSON.stringify({ source: 'kafkajs 2.2.4 RecordBatch v0 encoder', cases: kafkajsOut }, null, 2) + '\n');

// ---------- kafka-node ----------
const protocol = require('kafka-node/lib/protocol/protocol.js');
const { Message } = require('kafka-node/lib/protocol/protocol_struct.js');

const nodeMessages = [
  { key: 'k1', value: 'v1', timestamp: T },
  { key: null, value: 'no key', timestamp: T + 1 },
  { key: 'k3', value: null, timestamp: T + 2 },
  { key: 'k4', value: Buffer.from([0xde, 0xad, 0xbe, 0xef]), timestamp: T + 3 },
];
const asMessages = (magic) => nodeMessages.map((m) => new Message(magic, 0, m.key, m.value, m.timestamp));

// kafka-node's gzip codec is zlib.gzip with defaults, which is gzipSync's output.
const nodeCases = [
  { name: 'magic0-plain', magic: 0, innerMagic: 0, codec: 0, set: protocol.encodeMessageSet(asMessages(0), 0) },
  { name: 'magic1-plain', magic: 1, innerMagic: 1, codec: 0, set: protocol.encodeMessageSet(asMessages(1), 1) },
  // KafkaClient + Produce v2: inner set magic 1, wrapper Message(0, attributes, payload.key, gz) as magic 1
  // (its timestamp is undefined, written as 0).
  {
    name: 'magic1-gzip',
    magic: 1,
    innerMagic: 1,
    codec: 1,
    set: protocol.encodeMessageSet([new Message(0, 1, null, gzipSync(protocol.encodeMessageSet(asMessages(1), 1)))], 1),
  },
  // Old Client + Produce v0: inner magic 0, wrapper Message(0, attributes, '', gz) as magic 0.
  {
    name: 'magic0-gzip',
    magic: 0,
    innerMagic: 0,
    codec: 1,
    set: protocol.encodeMessageSet([new Message(0, 1, '', gzipSync(protocol.encodeMessageSet(asMessages(0), 0)))], 0),
  },
  // KafkaClient falling back to Produce v0/v1: magic-1 inner messages inside a magic-0 wrapper.
  {
    name: 'magic0-gzip-magic1-inner',
    magic: 0,
    innerMagic: 1,
    codec: 1,
    set: protocol.encodeMessageSet([new Message(0, 1, null, gzipSync(protocol.encodeMessageSet(asMessages(1), 1)))], 0),
  },
];
writeFileSync(
  new URL('kafka-node-sets.json', outDir),
  JSON.stringify(
    {
      source: 'kafka-node 5.0.0 lib/protocol/protocol.js encodeMessageSet (+ zlib gzip wrapper as its clients build it)',
      records: nodeMessages.map((m) => ({ key: enc(m.key), value: enc(m.value), timestamp: m.timestamp })),
      cases: nodeCases.map(({ set, ...rest }) => ({ ...rest, hex: set.toString('hex') })),
    },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${kafkajsOut.length} kafkajs batches and ${nodeCases.length} kafka-node sets to ${outDir.pathname}`);
