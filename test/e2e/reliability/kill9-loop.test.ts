// kill -9 of the broker, 8 times, while kafkajs producers (acks=-1, no retries, so nothing is ever
// sent twice) write unique values and record which sends were acknowledged. The broker restarts on
// the same port and data dir each time. Afterwards the partition is read back whole:
//   - every acknowledged value is there, at the offset its acknowledgement gave (offsets are forever);
//   - no value appears twice (no duplicates: the producers never retry);
//   - offsets are strictly increasing by one from 0 (no gaps, no reuse).
// Unacknowledged sends (in flight at a kill) may or may not be there; both are fine.
import { afterAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { createTopic, figure, readPartition, sleep } from './support.js';

const KILLS = 8;
const PRODUCERS = 3;
const TOPIC = 'kill9';

describe('kill -9 while producing with acks=-1', () => {
  let broker: SpawnedBroker | undefined;
  afterAll(async () => {
    await broker?.kill9();
  });

  it(`loses no acknowledged record over ${KILLS} kills`, async () => {
    broker = await spawnBroker();
    const { port, dataDir } = broker;
    const raw = await RawClient.connect(port);
    expect(await createTopic(raw, TOPIC, 1)).toBe(0);
    raw.close();

    /** value -> offset its acknowledgement reported */
    const acked = new Map<string, number>();
    let attempted = 0;
    let failedSends = 0;
    let stop = false;
    const kafka = new Kafka({
      clientId: 'kill9',
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 1000,
      requestTimeout: 5000,
    });

    const loop = async (id: number) => {
      let producer: Producer | undefined;
      let seq = 0;
      while (!stop) {
        try {
          if (!producer) {
            producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 }, idempotent: false });
            await producer.connect();
          }
          const values = Array.from({ length: 10 }, (_, i) => `p${id}-b${seq}-r${i}`);
          seq++;
          attempted += values.length;
          const [res] = await producer.send({ topic: TOPIC, acks: -1, messages: values.map((value) => ({ value })) });
          const base = Number(res.baseOffset);
          values.forEach((v, i) => acked.set(v, base + i));
        } catch {
          failedSends++;
          await producer?.disconnect().catch(() => {});
          producer = undefined;
          await sleep(50);
        }
      }
      await producer?.disconnect().catch(() => {});
    };

    const loops = Array.from({ length: PRODUCERS }, (_, i) => loop(i));
    const restartMs: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      // Let the producers reconnect and write for a while, then kill without warning.
      const before = acked.size;
      const deadline = Date.now() + 10_000;
      while (acked.size < before + 300 && Date.now() < deadline) await sleep(20);
      await sleep(100 + Math.floor(Math.random() * 400));
      await broker.kill9();
      const t0 = Date.now();
      broker = await spawnBroker({ port, dataDir });
      restartMs.push(Date.now() - t0);
    }
    // One more stretch of writes after the last restart, then stop the producers.
    const before = acked.size;
    const deadline = Date.now() + 10_000;
    while (acked.size < before + 200 && Date.now() < deadline) await sleep(20);
    stop = true;
    await Promise.all(loops);

    const { records, highWatermark } = await readPartition(port, TOPIC);
    const byValue = new Map<string, number[]>();
    for (const r of records) {
      const list = byValue.get(r.value!) ?? [];
      list.push(r.offset);
      byValue.set(r.value!, list);
    }
    let lost = 0;
    let moved = 0;
    for (const [value, offset] of acked) {
      const at = byValue.get(value);
      if (!at) lost++;
      else if (!at.includes(offset)) moved++;
    }
    const duplicates = [...byValue.values()].filter((l) => l.length > 1).length;
    let gaps = 0;
    records.forEach((r, i) => {
      if (r.offset !== i) gaps++;
    });
    const unackedStored = records.length - [...byValue.keys()].filter((v) => acked.has(v)).length;
    figure(
      'kill9',
      `acked lost: ${lost} of ${acked.size.toLocaleString('en-US')} over ${KILLS} kills (${PRODUCERS} kafkajs producers, acks=-1, ` +
        `${attempted.toLocaleString('en-US')} records attempted, ${failedSends} failed sends); acked at a different offset: ${moved}; ` +
        `duplicates: ${duplicates}; offsets 0..${records.length - 1} strictly increasing, gaps: ${gaps}; high watermark ${highWatermark}; ` +
        `unacknowledged but stored: ${unackedStored}; restart times ${restartMs.join('/')} ms`,
    );
    expect(acked.size).toBeGreaterThan(KILLS * 300);
    expect(lost).toBe(0);
    expect(moved).toBe(0);
    expect(duplicates).toBe(0);
    expect(gaps).toBe(0);
    expect(highWatermark).toBe(records.length);
  }, 180_000);
});
