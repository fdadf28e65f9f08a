// What survives a stop: SIGTERM (clean) and kill -9 keep every acknowledged record and offsets
// continue; a segment torn mid-batch or with a flipped byte in its last batch is cut back to the
// last valid batch, served, and appended to.
import { openSync, closeSync, readSync, writeSync, ftruncateSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';

const brokers: SpawnedBroker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.kill9();
});

async function start(opts: Parameters<typeof spawnBroker>[0] = {}) {
  const b = await spawnBroker(opts);
  brokers.push(b);
  return b;
}

function client(bootstrap: string) {
  return new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

/** Produces `batches` batches of 10 records each with acks=-1; returns the acknowledged base offsets. */
async function produce(bootstrap: string, topic: string, batches: number, from = 0): Promise<number[]> {
  const producer = client(bootstrap).producer();
  await producer.connect();
  const acked: number[] = [];
  for (let b = 0; b < batches; b++) {
    const [r] = await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${from + b}`, value: `batch ${from + b} record ${i}` })),
    });
    acked.push(Number(r.baseOffset));
  }
  await producer.disconnect();
  return acked;
}

/** Reads the whole partition 0 through the broker with a raw fetch loop (kafkajs consumers need groups). */
async function readAll(bootstrap: string, topic: string): Promise<string[]> {
  const { fetchBody, RawClient } = await import('../../helpers/raw-client.js');
  const { decodeRecords } = await import('../../../src/protocol/records/index.js');
  const port = Number(bootstrap.split(':')[1]);
  const raw = await RawClient.connect(port);
  const values: string[] = [];
  let offset = 0;
  for (;;) {
    const res = await raw.request(1, 11, fetchBody(topic, [{ partition: 0, offset }]));
    const p = res.responses[0].partitions[0];
    expect(p.errorCode).toBe(0);
    const records = decodeRecords(p.records).filter((r) => r.offset >= offset);
    if (records.length === 0) break;
    for (const r of records) values.push(`${r.offset}:${r.value?.toString()}`);
    offset = records[records.length - 1].offset + 1;
  }
  raw.close();
  return values;
}

async function createTopic(bootstrap: string, topic: string, configs: Record<string, string> = {}) {
  const admin = client(bootstrap).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })) }] });
  await admin.disconnect();
}

describe('restart', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`keeps every acknowledged record after ${signal} and continues the offsets`, async () => {
      const first = await start();
      await createTopic(first.bootstrap, 'durable');
      const acked = await produce(first.bootstrap, 'durable', 20);
      expect(acked).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
      if (signal === 'SIGTERM') expect(await first.stop('SIGTERM')).toBe(0);
      else await first.kill9();

      const second = await start({ dataDir: first.dataDir, port: first.port });
      const before = await readAll(second.bootstrap, 'durable');
      expect(before).toHaveLength(200);
      expect(before[199]).toBe('199:batch 19 record 9');
      expect(await produce(second.bootstrap, 'durable', 1, 20)).toEqual([200]);
      expect(await readAll(second.bootstrap, 'durable')).toHaveLength(210);
    });
  }
});

describe('recovery from a damaged segment', () => {
  function segmentOf(dataDir: string, topic: string): string {
    const dir = join(dataDir, `${topic}-0`);
    const logs = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
    return join(dir, logs[logs.length - 1]);
  }

  /** Position of the last batch in a segment: walk the batch lengths from the start. */
  function lastBatchPosition(file: string): { position: number; size: number } {
    const fd = openSync(file, 'r');
    const header = Buffer.alloc(12);
    let pos = 0;
    let last = { position: 0, size: 0 };
    const total = statSync(file).size;
    while (pos + 12 <= total) {
      readSync(fd, header, 0, 12, pos);
      const size = 12 + header.readInt32BE(8);
      last = { position: pos, size };
      pos += size;
    }
    closeSync(fd);
    return last;
  }

  it('a segment truncated mid-batch keeps everything before the torn batch', async () => {
    const first = await start();
    await createTopic(first.bootstrap, 'torn');
    await produce(first.bootstrap, 'torn', 5);
    await first.kill9();
    const file = segmentOf(first.dataDir, 'torn');
    const last = lastBatchPosition(file);
    const fd = openSync(file, 'r+');
    ftruncateSync(fd, last.position + Math.floor(last.size / 2));
    closeSync(fd);

    const second = await start({ dataDir: first.dataDir, port: first.port });
    const values = await readAll(second.bootstrap, 'torn');
    expect(values).toHaveLength(40);
    expect(values[39]).toBe('39:batch 3 record 9');
    expect(await produce(second.bootstrap, 'torn', 1, 5)).toEqual([40]);
    expect((await readAll(second.bootstrap, 'torn')).at(-1)).toBe('49:batch 5 record 9');
  });

  it('a flipped byte in the last batch drops that batch only', async () => {
    const first = await start();
    await createTopic(first.bootstrap, 'flipped');
    await produce(first.bootstrap, 'flipped', 5);
    await first.kill9();
    const file = segmentOf(first.dataDir, 'flipped');
    const last = lastBatchPosition(file);
    const fd = openSync(file, 'r+');
    const b = Buffer.alloc(1);
    const at = last.position + last.size - 3; // inside the last record's value
    readSync(fd, b, 0, 1, at);
    b[0] ^= 0xff;
    writeSync(fd, b, 0, 1, at);
    closeSync(fd);

    const second = await start({ dataDir: first.dataDir, port: first.port });
    const values = await readAll(second.bootstrap, 'flipped');
    expect(values).toHaveLength(40);
    expect(await produce(second.bootstrap, 'flipped', 1, 5)).toEqual([40]);
  });
});
