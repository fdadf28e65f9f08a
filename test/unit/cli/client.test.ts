// The client's pure parts (partitioner, assignor, bootstrap parsing, fetched-record decoding) and
// its connection against a scripted fake broker (framing, pipelining, version negotiation).
import { createServer, type Server } from 'node:net';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerConnection } from '../../../src/client/connection.js';
import { parseBootstrap } from '../../../src/client/cluster.js';
import { decodeFetchedRecords } from '../../../src/client/fetch.js';
import { murmur2, partitionForKey, StickyPartitioner } from '../../../src/client/partitioner.js';
import { rangeAssign } from '../../../src/client/assignor.js';
import { ApiKey, decodeRequestBody, decodeRequestHeader, encodeResponse } from '../../../src/protocol/index.js';
import { buildControlBatch, buildMessageSet, buildRecordBatch } from '../../../src/protocol/records/index.js';

const require = createRequire(import.meta.url);

describe('default partitioner', () => {
  it('murmur2 agrees with kafkajs (which follows Kafka\'s Java client)', () => {
    const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (k: Buffer) => number;
    for (const key of ['', 'a', 'ab', 'abc', 'abcd', 'user-42', '21', 'a somewhat longer key with odd length!', '\u00e9\u00e8\u00ea']) {
      expect(murmur2(Buffer.from(key))).toBe(kafkajsMurmur2(Buffer.from(key)));
    }
    for (let i = 0; i < 200; i++) {
      const b = Buffer.from(Array.from({ length: i % 37 }, (_, k) => (i * 31 + k * 7) & 0xff));
      expect(murmur2(b)).toBe(kafkajsMurmur2(b));
    }
  });

  it('maps a key to a partition the way Kafka does', () => {
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(partitionForKey(Buffer.from('21'), 3)).toBe((-973932308 & 0x7fffffff) % 3);
  });

  it('sticks to one partition per topic until told to move', () => {
    const s = new StickyPartitioner();
    const led = [0, 1, 2, 0];
    const p = s.partition('t', led);
    expect(s.partition('t', led)).toBe(p);
    s.next('t', p, led);
    expect(s.partition('t', led)).not.toBe(p);
  });

  it('sticks only to partitions that have a leader, as Kafka does, while any has one', () => {
    const s = new StickyPartitioner();
    const picks = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const p = s.partition('t', [-1, 1, -1, 2]);
      picks.add(p);
      s.next('t', p, [-1, 1, -1, 2]);
    }
    expect([...picks].sort()).toEqual([1, 3]);
    // The partition it stuck to loses its leader: the next record goes elsewhere.
    const stuck = s.partition('t', [0, 0, 0]);
    const leaders = [0, 0, 0];
    leaders[stuck] = -1;
    expect(s.partition('t', leaders)).not.toBe(stuck);
    // With no leader anywhere it still picks one (the send then waits for a leader or fails as before).
    expect([0, 1]).toContain(s.partition('u', [-1, -1]));
  });
});

describe('range assignor', () => {
  it('splits partitions into contiguous ranges, extra ones to the first members', () => {
    const plan = rangeAssign(
      [
        { memberId: 'c2', topics: ['a', 'b'] },
        { memberId: 'c1', topics: ['a'] },
      ],
      new Map([
        ['a', 5],
        ['b', 2],
      ]),
    );
    expect(Object.fromEntries(plan.get('c1')!)).toEqual({ a: [0, 1, 2] });
    expect(Object.fromEntries(plan.get('c2')!)).toEqual({ a: [3, 4], b: [0, 1] });
  });

  it('gives nothing to members beyond the partition count', () => {
    const plan = rangeAssign(['m1', 'm2', 'm3'].map((memberId) => ({ memberId, topics: ['t'] })), new Map([['t', 2]]));
    expect([...plan.values()].map((m) => m.get('t') ?? [])).toEqual([[0], [1], []]);
  });
});

describe('bootstrap list', () => {
  it('parses host:port lists', () => {
    expect(parseBootstrap('localhost:9092, 10.0.0.1:9093,[::1]:9094')).toEqual([
      { host: 'localhost', port: 9092 },
      { host: '10.0.0.1', port: 9093 },
      { host: '::1', port: 9094 },
    ]);
    expect(() => parseBootstrap('localhost')).toThrow('Invalid url in bootstrap.servers: localhost');
  });
});

describe('fetched records', () => {
  it('drops records before the fetch offset and keeps timestamp types', () => {
    const batch = buildRecordBatch(
      [0, 1, 2].map((i) => ({ key: `k${i}`, value: `v${i}`, timestamp: 1000 + i })),
      { baseOffset: 10 },
    );
    const { records, nextOffset } = decodeFetchedRecords('t', 0, batch, 11);
    expect(records.map((r) => [r.offset, r.key?.toString(), r.value?.toString(), r.timestamp, r.timestampType])).toEqual([
      [11, 'k1', 'v1', 1001, 'CreateTime'],
      [12, 'k2', 'v2', 1002, 'CreateTime'],
    ]);
    expect(nextOffset).toBe(13);
    const appendTime = buildRecordBatch([{ value: 'x' }], { baseOffset: 0, timestampType: 'LogAppendTime', now: 5 });
    expect(decodeFetchedRecords('t', 0, appendTime, 0).records[0]).toMatchObject({ timestampType: 'LogAppendTime', timestamp: 5 });
  });

  it('stops at a truncated tail and reads legacy message sets', () => {
    const a = buildRecordBatch([{ value: 'a' }], { baseOffset: 0 });
    const b = buildRecordBatch([{ value: 'b' }], { baseOffset: 1 });
    const cut = Buffer.concat([a, b.subarray(0, b.length - 5)]);
    expect(decodeFetchedRecords('t', 0, cut, 0).records.map((r) => r.value?.toString())).toEqual(['a']);
    const legacy = buildMessageSet([{ key: null, value: Buffer.from('old'), timestamp: 7 }], { magic: 1, baseOffset: 4 });
    const got = decodeFetchedRecords('t', 0, legacy, 0);
    expect(got.records.map((r) => [r.offset, r.value?.toString(), r.timestampType])).toEqual([[4, 'old', 'CreateTime']]);
  });

  it('hides aborted transactions and control batches when asked (read_committed)', () => {
    const pid = 77;
    const aborted = buildRecordBatch([{ value: 'gone' }], { baseOffset: 0, producerId: pid, producerEpoch: 0, baseSequence: 0, transactional: true });
    const abortMarker = buildControlBatch('ABORT', { producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 1 });
    const committed = buildRecordBatch([{ value: 'kept' }], { baseOffset: 2, producerId: pid, producerEpoch: 0, baseSequence: 1, transactional: true });
    const commitMarker = buildControlBatch('COMMIT', { producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: 3 });
    const buf = Buffer.concat([aborted, abortMarker, committed, commitMarker]);
    const uncommitted = decodeFetchedRecords('t', 0, buf, 0);
    expect(uncommitted.records.map((r) => r.value?.toString())).toEqual(['gone', 'kept']);
    const rc = decodeFetchedRecords('t', 0, buf, 0, [{ producerId: pid, firstOffset: 0 }]);
    expect(rc.records.map((r) => r.value?.toString())).toEqual(['kept']);
    expect(rc.nextOffset).toBe(4);
  });
});

describe('BrokerConnection', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** A fake broker: answers ApiVersions with `ranges`, Metadata after `delayMs`, echoing order. */
  async function fakeBroker(ranges: [number, number, number][], delays: Record<number, number> = {}): Promise<{ port: number; seen: { apiKey: number; version: number }[] }> {
    const seen: { apiKey: number; version: number }[] = [];
    server = createServer((socket) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
          const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
          buf = buf.subarray(4 + frame.length);
          const { header, bodyOffset } = decodeRequestHeader(frame);
          decodeRequestBody(header.apiKey, header.apiVersion, frame, bodyOffset);
          seen.push({ apiKey: header.apiKey, version: header.apiVersion });
          const body =
            header.apiKey === ApiKey.ApiVersions
              ? { errorCode: 0, apiKeys: ranges.map(([apiKey, minVersion, maxVersion]) => ({ apiKey, minVersion, maxVersion })) }
              : { brokers: [{ nodeId: 1, host: 'h', port: 1 }], controllerId: 1, topics: [{ errorCode: 0, name: `t${header.correlationId}`, partitions: [] }] };
          const out = encodeResponse(header.apiKey, header.apiVersion, header.correlationId, body);
          setTimeout(() => socket.write(Buffer.concat(out)), delays[header.correlationId] ?? 0);
        }
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return { port: (server!.address() as { port: number }).port, seen };
  }

  const opts = { clientId: 'test', connectTimeoutMs: 2000, requestTimeoutMs: 2000 };

  it('negotiates min(ours, theirs) and matches pipelined answers by correlation id', async () => {
    const { port, seen } = await fakeBroker([[ApiKey.ApiVersions, 0, 3], [ApiKey.Metadata, 0, 4]], { 2: 150 });
    const conn = await BrokerConnection.open('127.0.0.1', port, opts);
    expect(conn.version(ApiKey.Metadata)).toBe(4);
    expect(conn.supports(ApiKey.Produce)).toBe(false);
    const [slow, fast] = await Promise.all([
      conn.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false }),
      conn.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false }),
    ]);
    expect(slow.topics[0].name).toBe('t2');
    expect(fast.topics[0].name).toBe('t3');
    expect(seen.map((s) => `${s.apiKey}v${s.version}`)).toEqual(['18v0', '3v4', '3v4']);
    conn.close();
  });

  it('refuses an API the broker does not offer in a usable range', async () => {
    const { port } = await fakeBroker([[ApiKey.ApiVersions, 0, 3], [ApiKey.Produce, 0, 2]]);
    const conn = await BrokerConnection.open('127.0.0.1', port, opts);
    expect(() => conn.version(ApiKey.Produce)).toThrow(/supports Produce versions 0-2, kts needs 3-11/);
    conn.close();
  });

  it('times a request out and fails the rest when the connection drops', async () => {
    const { port } = await fakeBroker([[ApiKey.ApiVersions, 0, 3], [ApiKey.Metadata, 0, 12]], { 2: 5000 });
    const conn = await BrokerConnection.open('127.0.0.1', port, { ...opts, requestTimeoutMs: 200 });
    await expect(conn.request(ApiKey.Metadata, { topics: null })).rejects.toThrow(/Timed out waiting for a response to Metadata/);
    expect(conn.closed).toBe(true);
    await expect(conn.request(ApiKey.Metadata, { topics: null })).rejects.toThrow(/closed/);
  });
});
