// The matrix's features: for each, what the runner prepares on the broker, which driver scenario
// it runs (protocol.md), and what must then hold, checked against what kts stored on disk or
// answers on the wire. Nothing here knows a client: a feature passes the same checks for all.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Admin, Producer } from 'kafkajs';
import '../../../src/protocol/records/codecs.js'; // snappy, lz4, zstd for reading stored batches
import { decodeRecords } from '../../../src/protocol/records/decode-records.js';
import { RawClient } from '../../helpers/raw-client.js';
import { stopProcess } from '../../helpers/processes.js';
import { storedBatches } from '../compression/disk.js';
import { committedOffsets, describeConsumerGroup } from '../groups/kip848-support.js';
import { waitFor } from '../groups/support.js';
import { runDriver, startDriver, type DriverCommand, type Outcome } from './runner.js';

export interface MatrixBroker {
  bootstrap: string;
  port: number;
  dataDir: string;
  admin: Admin;
  producer: Producer;
}

export interface Cell {
  broker: MatrixBroker;
  driver: DriverCommand;
  /** Unique per client and feature: topic and group names start with it. */
  name: string;
}

export type CellResult = { status: 'pass'; note?: string } | { status: 'unsupported'; reason: string };

export const FEATURES = ['metadata', 'produce', 'fetch', 'offsets', 'group-classic', 'group-consumer', 'admin', 'gzip', 'snappy', 'lz4', 'zstd', 'idempotent'] as const;
export type Feature = (typeof FEATURES)[number];

const hex = (b: Buffer | string | null) => (b === null ? null : Buffer.from(b).toString('hex'));

/** Every record kts stored for a partition, read from its segment files. */
export function storedRecords(dataDir: string, topic: string, partition = 0) {
  const dir = join(dataDir, `${topic}-${partition}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort()
    .flatMap((f) => decodeRecords(readFileSync(join(dir, f))))
    .map((r) => ({ offset: r.offset, timestamp: r.timestamp, key: hex(r.key), value: hex(r.value), headers: r.headers.map((h) => [h.key, hex(h.value)]) }));
}

async function createTopic(cell: Cell, topic: string, numPartitions = 1): Promise<void> {
  expect(await cell.broker.admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true })).toBe(true);
}

/** The result of a one-shot scenario, or the client's own "not offered". Throws on a failure. */
async function run(cell: Cell, scenario: string, config: object): Promise<Outcome & { kind: 'result' | 'unsupported' }> {
  const outcome = await runDriver(cell.driver, scenario, { bootstrap: cell.broker.bootstrap, ...config });
  if (outcome.kind === 'failed') throw new Error(outcome.message);
  return outcome;
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
// What the clients produce: binary values (every byte value, an empty one), text keys and header
// values (a command line carries them for kcat), a null key.
const PRODUCED = [
  { key: hex('k-0'), value: hex('plain text'), headers: [['trace', hex('abc')], ['ünï', hex('cödé ✓')]] },
  { key: hex('k-1'), value: hex(ALL_BYTES), headers: [['empty', '']] },
  { key: null, value: hex('ünïcödé ✓'), headers: [] },
  { key: hex('k-3'), value: '', headers: [['a', hex('1')], ['b', hex('2')]] },
];
// What the clients fetch: binary keys, values and header values too (no NUL, '=', ',' or newline in
// header values, which kcat prints as name=value,name=value).
const FETCHED = [
  { key: hex('k-0'), value: hex('plain text'), headers: [['trace', hex('abc')], ['bin', hex(Buffer.from([1, 0x7f, 0x80, 0xfe, 0xff]))]] },
  { key: hex(Buffer.from([0, 1, 2, 10, 254, 255])), value: hex(ALL_BYTES), headers: [['empty', '']] },
  { key: null, value: hex('ünïcödé ✓'), headers: [] },
  { key: hex('k-3'), value: '', headers: [['a', hex('1')], ['b', hex('2')]] },
];

const pass = (note?: string): CellResult => ({ status: 'pass', note });
const unsupported = (o: Outcome): CellResult | null => (o.kind === 'unsupported' ? { status: 'unsupported', reason: o.reason } : null);

async function metadata(cell: Cell): Promise<CellResult> {
  const topic = `${cell.name}`;
  await createTopic(cell, topic, 3);
  const o = await run(cell, 'metadata', { topic });
  if (o.kind === 'unsupported') return unsupported(o)!;
  expect(o.result.brokers).toEqual([{ id: 0, host: '127.0.0.1', port: cell.broker.port }]);
  expect([...o.result.partitions].sort((a: any, b: any) => a.partition - b.partition)).toEqual([0, 1, 2].map((partition) => ({ partition, leader: 0 })));
  return pass();
}

async function produce(cell: Cell): Promise<CellResult> {
  const topic = cell.name;
  await createTopic(cell, topic);
  const o = await run(cell, 'produce', { topic, records: PRODUCED });
  if (o.kind === 'unsupported') return unsupported(o)!;
  const stored = storedRecords(cell.broker.dataDir, topic).map(({ key, value, headers }) => ({ key, value, headers }));
  // Each stored record as produced (matched by key), then all of them in order: a client that
  // drops one shows which record it cannot send.
  for (const r of stored) expect(r).toEqual(PRODUCED.find((p) => p.key === r.key));
  expect(stored.length, 'records stored').toBe(PRODUCED.length);
  expect(stored).toEqual(PRODUCED);
  return pass();
}

async function fetch(cell: Cell): Promise<CellResult> {
  const topic = cell.name;
  await createTopic(cell, topic);
  const base = Date.now() - 60_000;
  await cell.broker.producer.send({
    topic,
    acks: -1,
    messages: FETCHED.map((r, i) => ({
      partition: 0,
      key: r.key === null ? null : Buffer.from(r.key, 'hex'),
      value: Buffer.from(r.value!, 'hex'),
      headers: Object.fromEntries(r.headers.map(([k, v]) => [k!, Buffer.from(v!, 'hex')])),
      timestamp: String(base + i * 1000),
    })),
  });
  const o = await run(cell, 'fetch', { topic, count: FETCHED.length });
  if (o.kind === 'unsupported') return unsupported(o)!;
  expect(o.result.records).toEqual(FETCHED.map((r, i) => ({ offset: i, timestamp: base + i * 1000, ...r })));
  return pass();
}

async function offsets(cell: Cell): Promise<CellResult> {
  const topic = cell.name;
  await createTopic(cell, topic);
  const base = Date.now() - 3_600_000;
  await cell.broker.producer.send({ topic, acks: -1, messages: [0, 1, 2].map((i) => ({ partition: 0, value: `t${i}`, timestamp: String(base + i * 1000) })) });
  const times = [base - 500, base + 500, base + 1500, Date.now() + 3_600_000];
  const o = await run(cell, 'offsets', { topic, times });
  if (o.kind === 'unsupported') return unsupported(o)!;
  const { earliest, latest, byTime } = o.result;
  expect({ earliest, latest, byTime: byTime.slice(0, 3) }).toEqual({ earliest: 0, latest: 3, byTime: [0, 1, 2] });
  // After the last record Kafka answers -1: clients show it as "none" (null) or as the log end.
  expect([null, -1, 3]).toContain(byTime[3]);
  return pass(byTime[3] === 3 ? 'a time after the last record answers the log end' : undefined);
}

async function group(cell: Cell, protocol: 'classic' | 'consumer'): Promise<CellResult> {
  const topic = cell.name;
  const groupId = `${cell.name}-group`;
  await createTopic(cell, topic, 4);
  const config = { bootstrap: cell.broker.bootstrap, topic, group: groupId, protocol };
  const a = startDriver(cell.driver, 'group', config);
  try {
    const first = await waitFor('the first member to be assigned or to refuse', () => (a.assigned.length === 4 || a.events.some((e) => e.event === 'unsupported') || a.child.exitCode !== null) || null, 90_000).catch((e) => {
      // What the driver printed (kafka-python logs its joins): its classic member once waited here in vain when a
      // rejoin's SyncGroup answer came after poll() gave up (kafka-python-rejoin.test.ts).
      throw new Error(`${e.message}\nA: ${JSON.stringify(a.assigned)} ${a.log().slice(-3000)}`);
    });
    const refused = a.events.find((e) => e.event === 'unsupported');
    if (refused) return { status: 'unsupported', reason: refused.reason };
    expect(first && a.assigned, a.log()).toEqual([0, 1, 2, 3]);
    const b = startDriver(cell.driver, 'group', config);
    try {
      await waitFor(
        'a two-two split',
        () => a.assigned.length === 2 && b.assigned.length === 2 && new Set([...a.assigned, ...b.assigned]).size === 4,
        90_000,
      ).catch((e) => {
        throw new Error(`${e.message}\nA: ${JSON.stringify(a.assigned)} ${a.log().slice(-2000)}\nB: ${JSON.stringify(b.assigned)} ${b.log().slice(-2000)}`);
      });
      if (protocol === 'consumer') {
        const d = await describeConsumerGroup(cell.broker.port, groupId);
        expect({ errorCode: d.errorCode, members: d.members.length }).toEqual({ errorCode: 0, members: 2 });
      } else {
        const raw = await RawClient.connect(cell.broker.port);
        const d = (await raw.request(15, 5, { groups: [groupId], includeAuthorizedOperations: false })).groups[0];
        raw.close();
        expect({ errorCode: d.errorCode, protocolType: d.protocolType, members: d.members.length }).toEqual({ errorCode: 0, protocolType: 'consumer', members: 2 });
      }
      for (let p = 0; p < 4; p++) {
        await cell.broker.producer.send({ topic, acks: -1, messages: Array.from({ length: 5 }, (_, i) => ({ partition: p, value: `p${p}-${i}` })) });
      }
      const all = () => [...a.records, ...b.records];
      await waitFor('all 20 records consumed', () => new Set(all().map((r) => `${r.partition}:${r.offset}`)).size === 20, 60_000);
      await waitFor('offset 5 committed on each partition', async () => [...(await committedOffsets(cell.broker.port, groupId, topic, 4)).values()].join() === '5,5,5,5', 60_000);
      // Each member read only its own partitions, and nothing was read twice.
      expect(all()).toHaveLength(20);
      expect(new Set(a.records.map((r) => r.partition))).toEqual(new Set(a.assigned));
      expect(new Set(b.records.map((r) => r.partition))).toEqual(new Set(b.assigned));
    } finally {
      await stopProcess(b.child, 'SIGKILL');
    }
  } finally {
    await stopProcess(a.child, 'SIGKILL');
  }
  return pass();
}

async function admin(cell: Cell): Promise<CellResult> {
  const topic = cell.name;
  const o = await run(cell, 'admin', { topic });
  if (o.kind === 'unsupported') return unsupported(o)!;
  expect(o.result.partitions).toBe(3);
  expect(await cell.broker.admin.listTopics()).not.toContain(topic);
  return pass();
}

const CODEC_IDS = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

async function codec(cell: Cell, codec: keyof typeof CODEC_IDS): Promise<CellResult> {
  const topic = cell.name;
  await createTopic(cell, topic);
  const values = Array.from({ length: 20 }, (_, i) => `${codec} record ${i} `.repeat(20));
  const o = await run(cell, 'codec', { topic, codec, values });
  if (o.kind === 'unsupported') return unsupported(o)!;
  expect(o.result.values).toEqual(values);
  const batches = storedBatches(cell.broker.dataDir, topic, 0);
  expect(batches.length).toBeGreaterThan(0);
  expect(new Set(batches.map((b) => b.codec))).toEqual(new Set([CODEC_IDS[codec]]));
  expect(storedRecords(cell.broker.dataDir, topic).map((r) => Buffer.from(r.value!, 'hex').toString())).toEqual(values);
  return pass();
}

async function idempotent(cell: Cell): Promise<CellResult> {
  const topic = cell.name;
  await createTopic(cell, topic);
  const values = Array.from({ length: 10 }, (_, i) => `idempotent-${i}`);
  const o = await run(cell, 'idempotent', { topic, values: values.map((v) => hex(v)) });
  if (o.kind === 'unsupported') return unsupported(o)!;
  expect(storedRecords(cell.broker.dataDir, topic).map((r) => Buffer.from(r.value!, 'hex').toString())).toEqual(values);
  const batches = storedBatches(cell.broker.dataDir, topic, 0);
  expect(batches.every((b) => b.producerId >= 0 && b.producerEpoch >= 0)).toBe(true);
  expect(new Set(batches.map((b) => b.producerId)).size).toBe(1);
  // Sequences start at 0 and follow the offsets.
  expect(batches.map((b) => b.baseSequence)).toEqual(batches.map((b) => b.baseOffset));
  return pass();
}

export const RUN: Record<Feature, (cell: Cell) => Promise<CellResult>> = {
  metadata,
  produce,
  fetch,
  offsets,
  'group-classic': (c) => group(c, 'classic'),
  'group-consumer': (c) => group(c, 'consumer'),
  admin,
  gzip: (c) => codec(c, 'gzip'),
  snappy: (c) => codec(c, 'snappy'),
  lz4: (c) => codec(c, 'lz4'),
  zstd: (c) => codec(c, 'zstd'),
  idempotent,
};
