// Persistent window and session stores on a kts broker (fixtures/persistent-windows.mjs: a windowed
// count on Stores.persistentWindowStore and a session count on Materialized.as(name) under
// default.dsl.store=rocksDB, both to one output topic):
//   at_least_once: instance A counts 2000 records, closes (its .checkpoint holds both changelogs'
//   ends); instance B (another state.dir) restores both changelogs in full and counts 300 more;
//   A again restores only what B appended to each changelog, and its counts are right: the output's
//   latest count of every window and session is the model's, and interactive queries (window
//   fetch(key, from, to), fetchAll, session fetch) answer the model's too.
//   exactly_once_v2: an instance killed with SIGKILL while a transaction is open restores both stores
//   in full (the checkpoint is gone), and the committed output of the whole story (clean run, killed
//   run, restart) is record for record what one clean run of another application writes.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../../src/client/index.js';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { FIXTURES, longValue, pollFor, readTopic, startApp } from './support.js';

const T0 = 1_800_000_000_000;
const KEYS = 40;
const STORES = ['scounts', 'wcounts'];

/** Record i: key k<i mod 40>, 250 ms after the previous one, and 60 s more every 500 records (so sessions, gap 15 s, break there). */
const recordAt = (i: number) => ({ key: `k${i % KEYS}`, timestamp: T0 + i * 250 + Math.floor(i / 500) * 60_000 });

/** What the app's stores hold after records [0, n): window counts by w:<key>@<start>, sessions' counts by s:<key>@<start>-<end>. */
function model(n: number): Map<string, number> {
  const out = new Map<string, number>();
  const times = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const { key, timestamp } = recordAt(i);
    const w = `w:${key}@${timestamp - (timestamp % 10_000)}`;
    out.set(w, (out.get(w) ?? 0) + 1);
    times.set(key, [...(times.get(key) ?? []), timestamp]);
  }
  for (const [key, ts] of times) {
    let [start, end, count] = [ts[0], ts[0], 0];
    for (const t of ts) {
      if (t - end > 15_000) {
        out.set(`s:${key}@${start}-${end}`, count);
        [start, count] = [t, 0];
      }
      [end, count] = [t, count + 1];
    }
    out.set(`s:${key}@${start}-${end}`, count);
  }
  return out;
}

/** The latest value of every output key, tombstoned sessions left out. */
function latest(records: { key: Buffer | null; value: Buffer | null }[]): Map<string, number> {
  const m = new Map<string, number | null>();
  for (const r of records) m.set(r.key!.toString(), longValue(r.value));
  return new Map([...m].filter((e): e is [string, number] => e[1] !== null));
}

describe('persistent window and session stores', () => {
  let broker: SpawnedBroker;
  let client: KafkaClient;
  beforeAll(async () => {
    broker = await spawnBroker();
    client = await KafkaClient.connect(broker.bootstrap);
    const topics = ['pw-in', 'pw-out', 'pw-eos-in', 'pw-eos-out', 'pw-clean-out'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1 }));
    for (const c of await client.admin.createTopics(topics)) if (c.error) throw c.error;
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  const produced = new Map<string, number>();
  const produce = async (topic: string, n: number) => {
    const from = produced.get(topic) ?? 0;
    const producer = client.producer({ lingerMs: 5 });
    await Promise.all(Array.from({ length: n }, (_, j) => {
      const { key, timestamp } = recordAt(from + j);
      return producer.send(topic, { key: Buffer.from(key), value: Buffer.from('x'), timestamp });
    }));
    producer.close();
    produced.set(topic, from + n);
  };
  const committed = async (app: string, topic: string) => (await client.groups.fetchOffsets(app, [{ topic, partition: 0 }]))[0]?.offset ?? -1;
  const end = async (topic: string, isolationLevel: 0 | 1 = 0) => (await client.admin.listOffsets([{ topic, partition: 0, timestamp: -1 }], { isolationLevel }))[0].offset;
  const changelogEnds = async (app: string) => Promise.all(STORES.map((s) => end(`${app}-${s}-changelog`)));

  const start = (app: string, dir: string, input: string, output: string, guarantee = 'at_least_once', commitIntervalMs = 100) =>
    startApp(process.execPath, [join(FIXTURES, 'persistent-windows.mjs'), broker.bootstrap, app, dir, input, output, guarantee, String(commitIntervalMs)]);
  /** The RESTORE lines, by store: [starting offset, ending offset, records restored]. */
  const restores = (output: string) => {
    const m = new Map<string, number[]>();
    for (const [, store, ...n] of output.matchAll(/^RESTORE (\w+) (\d+) (\d+) (\d+)$/gm)) m.set(store, n.map(Number));
    expect([...m.keys()].sort(), output).toEqual(STORES);
    return STORES.map((s) => m.get(s)!);
  };
  /** Runs the app until it committed everything produced, then stops it cleanly; returns its restores and its QUERY line. */
  const runOnce = async (app: string, dir: string, input: string, output: string, guarantee?: string) => {
    const child = start(app, dir, input, output, guarantee);
    await child.running;
    const target = produced.get(input);
    await pollFor(`the app's commit of offset ${target}`, async () => ((await committed(app, input)) === target ? true : undefined), 60_000, child.output);
    expect(await child.stop('SIGTERM')).toBe(0);
    const q = /^QUERY (.*)$/m.exec(child.output());
    expect(q, child.output()).not.toBeNull();
    return { restores: restores(child.output()), query: JSON.parse(q![1]) as { windows: number[][]; sessions: number[][]; all: number } };
  };

  it('a restart restores only the changelogs past its checkpoint; counts and interactive queries are right', async () => {
    const [app, dirA, dirB] = ['pw', tempDir('kts-pw-a-'), tempDir('kts-pw-b-')];
    await produce('pw-in', 2000);
    expect((await runOnce(app, dirA, 'pw-in', 'pw-out')).restores).toEqual([[0, 0, 0], [0, 0, 0]]);
    const e1 = await changelogEnds(app);
    const task = join(dirA, app, '0_0');
    expect(existsSync(join(task, 'lmdb', 'wcounts', 'data.mdb'))).toBe(true);
    const checkpoint = readFileSync(join(task, '.checkpoint'), 'utf8').split('\n');
    expect(checkpoint.slice(0, 2)).toEqual(['0', '2']);
    expect(checkpoint.slice(2, 4).sort()).toEqual(STORES.map((s, i) => `${app}-${s}-changelog 0 ${e1[i]}`));

    await produce('pw-in', 300);
    expect((await runOnce(app, dirB, 'pw-in', 'pw-out')).restores).toEqual(e1.map((e) => [0, e, e])); // a new instance: everything
    const e2 = await changelogEnds(app);

    await produce('pw-in', 200);
    const again = await runOnce(app, dirA, 'pw-in', 'pw-out');
    expect(again.restores).toEqual(e1.map((e, i) => [e, e2[i], e2[i] - e])); // only the tail
    expect(e2.map((e, i) => e - e1[i]).every((n) => n > 0 && n < 1000)).toBe(true);

    const expected = model(2500);
    expect(latest(await readTopic(client, 'pw-out'))).toEqual(expected);
    const k0 = [...expected].filter(([k]) => k.startsWith('w:k0@')).map(([k, v]) => [Number(k.split('@')[1]), v]);
    expect(again.query.windows).toEqual(k0);
    const sessions = [...expected].filter(([k]) => k.startsWith('s:k0@')).map(([k, v]) => [...k.split('@')[1].split('-').map(Number), v]);
    expect(again.query.sessions).toEqual(sessions);
    expect(sessions.length).toBe(5); // one per 500-record stretch
    expect(again.query.all).toBe([...expected.keys()].filter((k) => k.startsWith('w:')).length);
  }, 240_000);

  it('exactly_once_v2: after a kill -9 mid-transaction both stores restore in full, and the committed output is a clean run\'s', async () => {
    const [app, dir] = ['pw-eos', tempDir('kts-pw-eos-')];
    await produce('pw-eos-in', 1000);
    await runOnce(app, dir, 'pw-eos-in', 'pw-eos-out', 'exactly_once_v2');
    expect(existsSync(join(dir, app, '0_0', '.checkpoint'))).toBe(true); // a clean close keeps it

    // Kill the app as soon as it has written output it has not committed. Its commit interval is a
    // minute (the transaction timeout is 10 s), so the transaction seen open is still open at the kill:
    // at 100 ms a loaded machine let the app commit between the check and the kill, and nothing was
    // left to abort (forced with 500 ms between them: 'expected 0 to be greater than 0', 3 of 3).
    const killed = start(app, dir, 'pw-eos-in', 'pw-eos-out', 'exactly_once_v2', 60_000);
    await killed.running;
    const producing = produce('pw-eos-in', 3000);
    // A transaction is open while the output's end is past its last stable offset.
    const open = async () => ((await end('pw-eos-out', 0)) > (await end('pw-eos-out', 1)) ? true : undefined);
    const deadline = Date.now() + 60_000;
    while (!(await open()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(await open(), 'a transaction open on pw-eos-out within 60 s').toBe(true);
    await killed.stop('SIGKILL');
    await producing;
    expect(existsSync(join(dir, app, '0_0', '.checkpoint'))).toBe(false); // deleted once restored

    await produce('pw-eos-in', 500);
    const rerun = await runOnce(app, dir, 'pw-eos-in', 'pw-eos-out', 'exactly_once_v2');
    for (const [startOffset, , restored] of rerun.restores) {
      expect(startOffset).toBe(0);
      expect(restored).toBeGreaterThan(0);
    }

    await runOnce('pw-clean', tempDir('kts-pw-clean-'), 'pw-eos-in', 'pw-clean-out', 'exactly_once_v2');
    const records = (topic: string) => readTopic(client, topic, { readCommitted: true }).then((rs) => rs.map((r) => `${r.key}=${longValue(r.value)}`));
    const [story, clean] = [await records('pw-eos-out'), await records('pw-clean-out')];
    expect(story.length).toBeGreaterThan(4500);
    expect(story).toEqual(clean);
    expect(latest(await readTopic(client, 'pw-eos-out', { readCommitted: true }))).toEqual(model(4500));
    // The killed run's open transaction was aborted: its records are in the log, read_committed skips them.
    const aborted = (await readTopic(client, 'pw-eos-out')).length - (await readTopic(client, 'pw-eos-out', { readCommitted: true })).length;
    expect(aborted).toBeGreaterThan(0);
  }, 240_000);
});
