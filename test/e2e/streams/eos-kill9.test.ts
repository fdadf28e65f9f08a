// Must-show 3 of issue 19: exactly_once_v2 through crashes. A counting app (fixtures/count-app.mjs:
// 100k records re-keyed through a repartition topic into 97 groups, counted) is killed with SIGKILL
// at random points 10 times (after a random share of the input is counted) and started again each time (same state.dir, so the same process id and
// transactional.id; static membership, so the restart takes its tasks back at once). Read with
// read_committed, its output equals a clean run's: for every group the count updates 1, 2, ... n
// with nothing repeated or missing, and the same final counts. The kill points come from a seeded
// PRNG (KTS_STREAMS_SEED=<n> replays a run; the seed is printed on failure). With at_least_once in
// the killed run instead, the same test fails: groups count some records twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { KafkaClient } from '../../../src/client/index.js';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import type { FetchedRecord } from '../../../src/client/index.js';
import { FIXTURES, TopicFollower, longValue, pollFor, startApp, type App } from './support.js';

const RECORDS = 100_000;
const GROUPS = 97;
const KILLS = 10;
const SEED = Number(process.env.KTS_STREAMS_SEED ?? Math.floor(Math.random() * 2 ** 31));

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every group's count updates in output order (committed records only). */
function updatesByGroup(records: FetchedRecord[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const r of records) {
    const k = r.key!.toString();
    m.set(k, [...(m.get(k) ?? []), longValue(r.value)!]);
  }
  return m;
}

/** Records counted so far: the sum of every group's latest count. */
function counted(records: FetchedRecord[]): number {
  const latest = new Map<string, number>();
  for (const r of records) latest.set(r.key!.toString(), longValue(r.value)!);
  return [...latest.values()].reduce((s, v) => s + v, 0);
}

async function followUntil(f: TopicFollower, target: number, app: App, timeoutMs: number): Promise<void> {
  await pollFor(`${target} records counted`, async () => {
    await f.poll();
    return counted(f.records) >= target ? true : undefined;
  }, timeoutMs, app.output);
}

describe('exactly_once_v2 through kill -9', () => {
  let broker: SpawnedBroker;
  let client: KafkaClient;
  beforeAll(async () => {
    broker = await spawnBroker({ overrides: { 'group.min.session.timeout.ms': '1000' } });
    client = await KafkaClient.connect(broker.bootstrap);
    const created = await client.admin.createTopics(['in', 'out-clean', 'out-killed'].map((name) => ({ name, numPartitions: 2, replicationFactor: 1 })));
    for (const c of created) if (c.error) throw c.error;
    const producer = client.producer({ lingerMs: 5, batchSize: 256 * 1024 });
    for (let i = 0; i < RECORDS; i++) await producer.enqueue('in', { key: Buffer.from(`k${i % 1000}`), value: Buffer.from(String(i)) });
    await producer.flush();
    producer.close();
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  const app = (appId: string, output: string, stateDir: string) =>
    startApp(process.execPath, [join(FIXTURES, 'count-app.mjs'), broker.bootstrap, appId, stateDir, 'exactly_once_v2', 'in', output, `${appId}-instance`]);

  it(`10 kills during a 100k-record aggregation: the committed output equals a clean run's (seed ${SEED})`, async () => {
    const started = Date.now();
    const clean = app('count-clean', 'out-clean', tempDir('kts-streams-clean-'));
    await clean.running;
    const cleanOut = new TopicFollower(client, 'out-clean');
    await followUntil(cleanOut, RECORDS, clean, 240_000);
    const cleanMs = Date.now() - started;
    await clean.stop();

    // Each kill lands at a random point of the aggregation: once the committed output has counted a
    // random share of the input (the k-th kill between k/11 and (k+1)/11 of it), the app is SIGKILLed.
    const random = prng(SEED);
    const stateDir = tempDir('kts-streams-killed-');
    const killedOut = new TopicFollower(client, 'out-killed');
    const killedAt: number[] = [];
    const killStarted = Date.now();
    let current: App = app('count-killed', 'out-killed', stateDir);
    for (let k = 0; k < KILLS; k++) {
      await current.running;
      const target = Math.floor((RECORDS * (k + 0.2 + 0.6 * random())) / (KILLS + 1));
      await followUntil(killedOut, target, current, 120_000);
      await current.stop('SIGKILL');
      killedAt.push(counted(killedOut.records));
      current = app('count-killed', 'out-killed', stateDir);
    }
    await current.running;
    await followUntil(killedOut, RECORDS, current, 240_000);
    const killedMs = Date.now() - killStarted;
    await current.stop();
    console.log(`streams eos-kill9: seed ${SEED}; clean run ${cleanMs} ms, with ${KILLS} kills ${killedMs} ms (killed with ${killedAt.join(', ')} records counted)`);

    const expected = updatesByGroup(cleanOut.records);
    const actual = updatesByGroup(killedOut.records);
    expect(expected.size).toBe(GROUPS);
    expect(actual.size, `seed ${SEED}`).toBe(GROUPS);
    for (const [group, updates] of expected) {
      expect(updates, `group ${group} in the clean run`).toEqual(Array.from({ length: updates.length }, (_, i) => i + 1));
      expect(actual.get(group), `group ${group} after kills (seed ${SEED})`).toEqual(updates);
    }
    expect(counted(killedOut.records)).toBe(RECORDS);
    expect(killedOut.records.length).toBe(RECORDS);
  }, 600_000);
});
