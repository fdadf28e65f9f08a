// (1) Three kafkajs consumers split a six-partition topic: once the group is stable, every
// partition has exactly one owner and every record is delivered exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { createTopic, connectClients, produceEach, startTestBroker, trackedConsumer, waitFor, type TestBroker, type TrackedConsumer } from './support.js';

describe('kafkajs consumer group on kts', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const consumers: TrackedConsumer[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    ({ kafka, admin, producer } = await connectClients(broker.bootstrap));
  });
  afterAll(async () => {
    for (const c of consumers) await c.consumer.disconnect().catch(() => {});
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  });

  it('three members own disjoint partitions covering the topic; no record is delivered twice', async () => {
    const topic = 'split';
    await createTopic(admin, topic, 6);
    const started = Date.now();
    for (const name of ['c1', 'c2', 'c3']) consumers.push(await trackedConsumer(kafka, name, 'split-group', topic));

    await waitFor('a stable three-way split', async () => {
      const d = await admin.describeGroups(['split-group']);
      const g = d.groups[0];
      if (g.state !== 'Stable' || g.members.length !== 3) return false;
      const owned = consumers.map((c) => c.assigned);
      return owned.every((a) => a.length === 2) && new Set(owned.flat()).size === 6;
    });
    const converged = Date.now() - started;

    const owners = new Map<number, string>();
    for (const c of consumers) for (const p of c.assigned) owners.set(p, c.name);
    expect([...owners.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5]);

    await produceEach(producer, topic, 6, 100);
    await waitFor('600 records consumed', () => consumers.reduce((n, c) => n + c.records.length, 0) >= 600);
    await new Promise((r) => setTimeout(r, 500));

    const seen = new Map<string, number>();
    for (const c of consumers) {
      for (const r of c.records) {
        expect(owners.get(r.partition)).toBe(c.name);
        const key = `${r.partition}:${r.offset}`;
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
    }
    expect(seen.size).toBe(600);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);

    const d = await admin.describeGroups(['split-group']);
    expect(d.groups[0]).toMatchObject({ state: 'Stable', protocolType: 'consumer' });
    console.log(`[groups] split: three members started and stable in ${converged} ms; ${seen.size} records, 0 duplicates; owners ${JSON.stringify(Object.fromEntries(owners))}; joins per member ${consumers.map((c) => c.joins).join('/')}`);
  });
});
