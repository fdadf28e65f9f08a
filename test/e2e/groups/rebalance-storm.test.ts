// (6) A rebalance storm: up to 20 kafkajs members join and leave (plus two members in their own
// processes that are SIGKILLed) for KTS_STORM_MS (60 s, the figure) while a
// producer keeps writing. Throughout, a monitor checks that no committed offset ever moves
// backwards; afterwards the survivors converge to one stable generation that owns every partition
// and commits up to the log end.
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { createTopic, connectClients, startTestBroker, trackedConsumer, waitFor, type TestBroker, type TrackedConsumer } from './support.js';

const STORM_MS = Number(process.env.KTS_STORM_MS ?? 60_000);
const MAX_MEMBERS = 20;
const PARTITIONS = 12;
const MEMBER = resolve(import.meta.dirname, 'fixtures/kafkajs-member.mjs');

describe('rebalance storm', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const running = new Map<string, TrackedConsumer>();
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    ({ kafka, admin, producer } = await connectClients(broker.bootstrap));
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => stopProcess(c, 'SIGKILL')));
    await Promise.all([...running.values()].map((m) => m.consumer.disconnect().catch(() => {})));
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  });

  it(`converges after ${STORM_MS / 1000} s of members joining and leaving; committed offsets never go back`, async () => {
    const topic = 'storm';
    const group = 'storm-group';
    await createTopic(admin, topic, PARTITIONS);

    // Monitor: committed offsets must only grow.
    const highest = new Map<number, number>();
    const regressions: string[] = [];
    let samples = 0;
    let monitoring = true;
    const monitor = (async () => {
      while (monitoring) {
        try {
          const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
          for (const p of t?.partitions ?? []) {
            const o = Number(p.offset);
            if (o < 0) continue;
            const before = highest.get(p.partition) ?? -1;
            if (o < before) regressions.push(`partition ${p.partition}: ${before} -> ${o}`);
            highest.set(p.partition, Math.max(before, o));
          }
          samples++;
        } catch {
          // the coordinator may be busy; try again
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    let produced = 0;
    let producing = true;
    const production = (async () => {
      while (producing) {
        await producer.send({ topic, messages: Array.from({ length: PARTITIONS }, (_, p) => ({ partition: p, value: `r${produced + p}` })) });
        produced += PARTITIONS;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    let joins = 0;
    let leaves = 0;
    let kills = 0;
    let next = 0;
    let peak = 0;
    const pending = new Set<Promise<unknown>>();
    const track = (p: Promise<unknown>) => {
      const q = p.catch(() => {}).finally(() => pending.delete(q));
      pending.add(q);
    };
    let starting = 0;
    const start = () => {
      const name = `m${next++}`;
      joins++;
      starting++;
      const joining = trackedConsumer(kafka, name, group, topic).then((m) => {
        running.set(name, m);
        peak = Math.max(peak, running.size);
      }).finally(() => starting--);
      track(joining);
      return joining;
    };
    const stopOne = () => {
      const names = [...running.keys()];
      const name = names[Math.floor(Math.random() * names.length)];
      const m = running.get(name)!;
      running.delete(name);
      leaves++;
      track(m.consumer.disconnect());
    };
    for (let i = 0; i < 5; i++) await start();

    const stormStart = Date.now();
    const killAt = [STORM_MS * 0.25, STORM_MS * 0.6];
    while (Date.now() - stormStart < STORM_MS) {
      const elapsed = Date.now() - stormStart;
      if (killAt.length && elapsed >= killAt[0]) {
        killAt.shift();
        // A member in its own process that dies without a word once it has partitions, mid-storm.
        const child = spawnTracked(process.execPath, [MEMBER, broker.bootstrap, group, topic, `doomed-${children.length}`], { stdio: ['ignore', 'pipe', 'ignore'] });
        children.push(child);
        let out = '';
        let killed = false;
        const kill = () => {
          if (killed) return;
          killed = true;
          child.kill('SIGKILL');
          kills++;
        };
        child.stdout!.on('data', (d) => {
          out += d;
          if (/"event":"assigned","partitions":\[\d/.test(out)) kill();
        });
        setTimeout(kill, 8000);
      }
      // Members that are up or on their way up: the cap holds however slowly joins complete.
      const size = running.size + starting;
      if (size < MAX_MEMBERS && (running.size < 2 || Math.random() < 0.6)) void start();
      else if (running.size > 0) stopOne();
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
    }
    producing = false;
    await production;
    await Promise.all([...pending]);

    // Calm: keep three members, stop the rest.
    while (running.size > 3) stopOne();
    await Promise.all([...pending]);
    const calmAt = Date.now();
    const survivors = [...running.values()];
    const ends = async () => (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
    await waitFor(
      'one stable generation of the three survivors owning every partition, committed to the log end',
      async () => {
        const g = (await admin.describeGroups([group])).groups[0];
        if (g.state !== 'Stable' || g.members.length !== 3) return false;
        const owned = survivors.flatMap((s) => s.assigned);
        if (owned.length !== PARTITIONS || new Set(owned).size !== PARTITIONS) return false;
        const [t] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
        const committed = t.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
        return committed.join() === (await ends()).join();
      },
      60_000,
      250,
    );
    const convergedMs = Date.now() - calmAt;
    monitoring = false;
    await monitor;

    expect(regressions).toEqual([]);
    expect(samples).toBeGreaterThan(10);
    const total = (await ends()).reduce((a, b) => a + b, 0);
    expect(total).toBe(produced);
    const distinct = new Set<string>();
    let deliveries = 0;
    console.log(
      `[groups] storm: ${STORM_MS / 1000} s, ${joins} joins, ${leaves} leaves, ${kills} SIGKILLs, at most ${peak} members at once (cap ${MAX_MEMBERS}); ` +
        `${produced} records produced; ${samples} offset samples, ${regressions.length} regressions; ` +
        `converged ${convergedMs} ms after the storm with 3 members owning ${PARTITIONS} partitions, commits at the log end`,
    );
    for (const s of survivors) for (const r of s.records) {
      deliveries++;
      distinct.add(`${r.partition}:${r.offset}`);
    }
    expect(deliveries).toBeGreaterThan(0);
    // A storm of the size: many members at once, never more than the cap.
    expect(peak).toBeGreaterThan(5);
    expect(peak).toBeLessThanOrEqual(MAX_MEMBERS);
  }, STORM_MS + 120_000);
});
