// Bad bytes from one client close that client's connection with a log line; everyone else keeps
// being served. Oversized frames are refused before anything is allocated for them.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { ErrorCode } from '../../../src/protocol/errors.js';

function sendRaw(port: number, bytes: Buffer): Promise<{ closed: boolean; received: Buffer }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, received: Buffer.concat(chunks) });
    }, 3000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, received: Buffer.concat(chunks) });
    });
  });
}

function frame(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

describe('bad input', () => {
  let broker: SpawnedBroker;
  let healthy: RawClient;
  beforeAll(async () => {
    broker = await spawnBroker();
    healthy = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    healthy?.close();
    await broker?.stop();
  });

  async function stillServing() {
    const res = await healthy.request(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    expect(res.errorCode).toBe(0);
  }

  it('a frame larger than socket.request.max.bytes is refused and the connection closed', async () => {
    const header = Buffer.alloc(4);
    header.writeInt32BE(0x7fffffff);
    const { closed } = await sendRaw(broker.port, header);
    expect(closed).toBe(true);
    const negative = Buffer.alloc(4);
    negative.writeInt32BE(-5);
    expect((await sendRaw(broker.port, negative)).closed).toBe(true);
    await stillServing();
    expect(broker.output()).toMatch(/Frame size 2147483647 larger than 104857600/);
  });

  it('a malformed body closes that connection only', async () => {
    // Metadata v4 header, then a topic array count of 1,000,000 with nothing behind it.
    const body = Buffer.alloc(2 + 2 + 4 + 2 + 4);
    body.writeInt16BE(3, 0);
    body.writeInt16BE(4, 2);
    body.writeInt32BE(7, 4);
    body.writeInt16BE(-1, 8);
    body.writeInt32BE(1_000_000, 10);
    expect((await sendRaw(broker.port, frame(body))).closed).toBe(true);
    await stillServing();
    expect(broker.output()).toMatch(/malformed Metadata v4 request/);
  });

  it('an unknown API key closes the connection; ApiVersions above our range answers v0 UNSUPPORTED_VERSION', async () => {
    const unknown = Buffer.alloc(10);
    unknown.writeInt16BE(999, 0);
    unknown.writeInt16BE(0, 2);
    unknown.writeInt32BE(1, 4);
    unknown.writeInt16BE(-1, 8);
    expect((await sendRaw(broker.port, frame(unknown))).closed).toBe(true);

    // A client from the future: header v2 (flexible), so an empty tagged-field section follows the client id.
    const future = Buffer.alloc(11);
    future.writeInt16BE(18, 0);
    future.writeInt16BE(99, 2);
    future.writeInt32BE(42, 4);
    future.writeInt16BE(-1, 8);
    future.writeUInt8(0, 10);
    const { received, closed } = await sendRaw(broker.port, frame(future));
    expect(closed).toBe(false);
    expect(received.readInt32BE(4)).toBe(42); // correlation id, response header v0
    expect(received.readInt16BE(8)).toBe(ErrorCode.UNSUPPORTED_VERSION);
    await stillServing();
  });

  it('100 MB of random bytes on one connection does not disturb the others', async () => {
    const socket = connect({ port: broker.port, host: '127.0.0.1' });
    socket.on('error', () => {});
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < 100 && !socket.destroyed; i++) {
      for (let j = 0; j < chunk.length; j += 4) chunk.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, j);
      socket.write(chunk);
      await stillServing();
    }
    socket.destroy();
    await stillServing();
  });

  it('a CreateTopics or CreatePartitions for millions of partitions is refused with INVALID_PARTITIONS, nothing created', async () => {
    const create = (name: string, numPartitions: number) =>
      healthy.request(19, 4, { topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    const huge = await create('huge', 2_000_000_000);
    expect(huge.topics[0].errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    expect(huge.topics[0].errorMessage).toMatch(/kts.max.partitions/);
    const small = await create('small', 2);
    expect(small.topics[0].errorCode).toBe(0);
    const grow = await healthy.request(37, 1, { topics: [{ name: 'small', count: 50_000_000, assignments: null }], timeoutMs: 5000, validateOnly: false });
    expect(grow.results[0].errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
    const meta = await healthy.request(3, 4, { topics: [{ name: 'small' }, { name: 'huge' }], allowAutoTopicCreation: false });
    expect(meta.topics.find((t: any) => t.name === 'small').partitions).toHaveLength(2);
    expect(meta.topics.find((t: any) => t.name === 'huge').errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    await stillServing();
  });
});

describe('the partition ceiling', () => {
  it('holds for topics auto-created by Metadata too: past kts.max.partitions they are refused, the rest served', async () => {
    const broker = await spawnBroker({ overrides: { 'kts.max.partitions': '3', 'num.partitions': '1' } });
    const client = await RawClient.connect(broker.port);
    try {
      const meta = await client.request(3, 4, { topics: ['a', 'b', 'c', 'd'].map((name) => ({ name })), allowAutoTopicCreation: true });
      const byName = new Map(meta.topics.map((t: any) => [t.name, t]));
      for (const name of ['a', 'b', 'c']) expect((byName.get(name) as any).errorCode).toBe(0);
      expect((byName.get('d') as any).errorCode).toBe(ErrorCode.INVALID_PARTITIONS);
      const again = await client.request(3, 4, { topics: [{ name: 'd' }], allowAutoTopicCreation: false });
      expect(again.topics[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      expect((await client.request(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' })).errorCode).toBe(0);
    } finally {
      client.close();
      await broker.stop();
    }
  });
});
