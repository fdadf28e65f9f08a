// The transaction index and the last stable offset across kill -9. A kafkajs transactional producer
// commits and aborts 24 transactions into a partition of small segments (its ABORT markers spread
// over several segments' .txnindex files) and a raw producer leaves one transaction open. After
// kill -9 the broker comes back with the same LSO (held by the open transaction), the same
// .txnindex bytes, and read_committed consumers see exactly the committed records; the same again
// when the .txnindex files, the producer snapshots and the recovery-point checkpoint are deleted
// before the start (everything rebuilt from the batch headers). The open transaction then commits
// and the LSO reaches the log end.
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { pollUntil, RawTxnClient, stableAndEndOffsets } from './support.js';

const TOPIC = 'k9';

describe('the transaction index and the LSO after kill -9', () => {
  let broker: SpawnedBroker;
  const kafka = () => new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20 } });
  const committed: string[] = [];
  let openProducerId = -1;
  const partitionDir = () => join(broker.dataDir, `${TOPIC}-0`);

  beforeAll(async () => {
    broker = await spawnBroker();
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '4096' }] }] });
    await admin.disconnect();
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  async function txnIndexes(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const f of (await readdir(partitionDir())).sort()) if (f.endsWith('.txnindex')) out[f] = (await readFile(join(partitionDir(), f))).toString('hex');
    return out;
  }

  const lso = () => stableAndEndOffsets(broker.port, TOPIC);

  async function readCommitted(expectedLast: string): Promise<string[]> {
    const seen: string[] = [];
    const consumer = kafka().consumer({ groupId: `k9-${Date.now()}`, maxWaitTimeInMs: 200 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
      await pollUntil(async () => seen, (s) => s.at(-1) === expectedLast, 60_000, `read_committed up to ${expectedLast}`);
    } finally {
      await consumer.disconnect();
    }
    return seen;
  }

  it('same LSO, same .txnindex bytes, same committed records; rebuilt from the log when the files are gone', async () => {
    const producer = kafka().producer({ transactionalId: 'k9-txn', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let t = 0; t < 24; t++) {
      const values = Array.from({ length: 4 }, (_, i) => `t${t}-r${i}-${'x'.repeat(150)}`);
      const txn = await producer.transaction();
      await txn.send({ topic: TOPIC, messages: values.map((value) => ({ value, partition: 0 })) });
      if (t % 3 === 1) await txn.abort();
      else {
        await txn.commit();
        committed.push(...values);
      }
    }
    await producer.disconnect();
    const raw = await RawTxnClient.connect(broker.port);
    try {
      const { producerId } = await raw.initRetrying('k9-open', 120_000);
      openProducerId = producerId;
      expect(await raw.addPartitions('k9-open', producerId, 0, TOPIC, [0])).toEqual([0]);
      expect((await raw.produce('k9-open', producerId, 0, TOPIC, 0, 0, ['open-0', 'open-1'])).errorCode).toBe(0);
    } finally {
      raw.close();
    }
    const last = committed.at(-1)!;
    const before = { lso: await lso(), indexes: await txnIndexes() };
    expect(Object.keys(before.indexes).length).toBeGreaterThan(1); // aborts in several segments
    expect(before.lso.lso).toBeLessThan(before.lso.end);
    expect(await readCommitted(last)).toEqual(committed);

    await broker.kill9();
    broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir });
    expect(await lso()).toEqual(before.lso);
    expect(await txnIndexes()).toEqual(before.indexes);
    expect(await readCommitted(last)).toEqual(committed);

    // Everything derived goes: the transaction indexes, the producer snapshots, the recovery point.
    await broker.kill9();
    for (const f of await readdir(partitionDir())) if (f.endsWith('.txnindex') || f.endsWith('.snapshot')) await rm(join(partitionDir(), f));
    await rm(join(broker.dataDir, 'recovery-point-offset-checkpoint'), { force: true });
    broker = await spawnBroker({ port: broker.port, dataDir: broker.dataDir });
    const aborts = Object.values(before.indexes).reduce((n, hex) => n + hex.length / 68, 0);
    expect(broker.output()).toContain(`${aborts} aborted transaction(s) indexed again`);
    expect(await lso()).toEqual(before.lso);
    expect(await txnIndexes()).toEqual(before.indexes);
    expect(await readCommitted(last)).toEqual(committed);

    // The transaction open through both crashes commits; the LSO reaches the log end.
    const again = await RawTxnClient.connect(broker.port);
    try {
      await pollUntil(() => again.endTxn('k9-open', openProducerId, 0, true), (code) => code === 0, 60_000, 'EndTxn of the open transaction');
    } finally {
      again.close();
    }
    const done = await pollUntil(lso, (o) => o.lso === o.end && o.end > before.lso.end, 30_000, 'the LSO at the log end');
    expect(done.end).toBe(before.lso.end + 1);
    expect(await readCommitted('open-1')).toEqual([...committed, 'open-0', 'open-1']);
  }, 240_000);
});
