// Persistent stores (Stores.persistentKeyValueStore, on LMDB under state.dir) restore from their
// checkpoint: one application id, two state directories, run one after the other on one kts broker
// (fixtures/persistent-count.mjs, counts per key, at_least_once, each run closed cleanly):
//   A: counts 2000 records (200 keys) from an empty changelog, closes: its checkpoint holds the end;
//   B: a new instance (another state.dir) restores the whole changelog, counts 300 more, closes;
//   A again: restores only the 300 changelog records B wrote after A's checkpoint, and its counts
//   are right: one more record per key then gives exactly the expected counts.
// The state directory has Kafka's layout: <state.dir>/<application.id>/<task>/lmdb/<store> and a
// .checkpoint file in Kafka's format. Under exactly_once_v2 the checkpoint survives a clean close
// only: after a kill -9 the store (which may hold aborted writes) is restored in full, and the
// committed counts are still exact.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../../src/client/index.js';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { FIXTURES, longValue, pollFor, readTopic, startApp } from './support.js';

const APP = 'persistent-count';
const CHANGELOG = `${APP}-counts-changelog`;

describe('persistent key-value stores', () => {
  let broker: SpawnedBroker;
  let client: KafkaClient;
  beforeAll(async () => {
    broker = await spawnBroker();
    client = await KafkaClient.connect(broker.bootstrap);
    const topics = ['words', 'counts-out', 'words-eos', 'counts-eos'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1 }));
    for (const c of await client.admin.createTopics(topics)) if (c.error) throw c.error;
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  const keys = (n: number, distinct: number) => Array.from({ length: n }, (_, i) => `k${i % distinct}`);
  const expected = new Map<string, number>();
  let produced = 0;
  const produce = async (keys: string[], topic = 'words') => {
    const producer = client.producer({ lingerMs: 5 });
    await Promise.all(keys.map((k) => producer.send(topic, { key: Buffer.from(k), value: Buffer.from('x') })));
    producer.close();
    for (const k of keys) expected.set(k, (expected.get(k) ?? 0) + 1);
    produced += keys.length;
  };
  const committed = async (app = APP, topic = 'words') => (await client.groups.fetchOffsets(app, [{ topic, partition: 0 }]))[0]?.offset ?? -1;
  const changelogEnd = async (app = APP) => (await client.admin.listOffsets([{ topic: `${app}-counts-changelog`, partition: 0, timestamp: -1 }]))[0].offset;

  /** The last clean run's QUERY line: k0's count, the number of keys, the keys in [k1, k2] (Kafka's range includes both ends). */
  let lastQuery: string | null = null;
  /** Runs the app over what was produced, stops it (cleanly by default); returns its restore line's numbers. */
  const runOnce = async (stateDir: string, opts: { app?: string; topics?: [string, string]; guarantee?: string; signal?: NodeJS.Signals } = {}) => {
    const [app, [input, output]] = [opts.app ?? APP, opts.topics ?? ['words', 'counts-out']];
    const child = startApp(process.execPath, [join(FIXTURES, 'persistent-count.mjs'), broker.bootstrap, app, stateDir, input, output, opts.guarantee ?? 'at_least_once']);
    await child.running;
    await pollFor(`the app's commit of offset ${produced}`, async () => ((await committed(app, input)) === produced ? true : undefined), 60_000, child.output);
    const code = await child.stop(opts.signal ?? 'SIGTERM');
    if (!opts.signal) expect(code).toBe(0);
    const m = /^RESTORE counts (\d+) (\d+) (\d+)$/m.exec(child.output());
    expect(m, child.output()).not.toBeNull();
    if (!opts.signal) lastQuery = /^QUERY (.*)$/m.exec(child.output())?.[1] ?? null;
    return { start: Number(m![1]), end: Number(m![2]), restored: Number(m![3]) };
  };

  it('a restart restores only the changelog past its checkpoint, and counts on correctly', async () => {
    const dirA = tempDir('kts-persistent-a-');
    const dirB = tempDir('kts-persistent-b-');

    await produce(keys(2000, 200));
    expect(await runOnce(dirA)).toEqual({ start: 0, end: 0, restored: 0 });
    const e1 = await changelogEnd();
    expect(e1).toBe(2000); // no record cache: one changelog record per update
    const task = join(dirA, APP, '0_0');
    expect(existsSync(join(task, 'lmdb', 'counts', 'data.mdb'))).toBe(true);
    expect(readFileSync(join(task, '.checkpoint'), 'utf8')).toBe(`0\n1\n${CHANGELOG} 0 ${e1}\n`);

    await produce(keys(300, 30));
    expect(await runOnce(dirB)).toEqual({ start: 0, end: e1, restored: e1 }); // a new instance: everything
    const e2 = await changelogEnd();
    expect(e2).toBe(2300);

    await produce(keys(200, 200)); // one more per key: every count is checked below
    expect(await runOnce(dirA)).toEqual({ start: e1, end: e2, restored: e2 - e1 }); // only the tail
    expect(readFileSync(join(task, '.checkpoint'), 'utf8')).toBe(`0\n1\n${CHANGELOG} 0 ${await changelogEnd()}\n`);

    const latest = new Map<string, number>();
    for (const r of await readTopic(client, 'counts-out')) latest.set(r.key!.toString(), longValue(r.value)!);
    expect(latest).toEqual(expected);
    // Interactive queries (KafkaStreams#store: get, all, range) of the restored store answer the same.
    const inRange = [...expected.keys()].filter((k) => k >= 'k1' && k <= 'k2').length;
    expect(lastQuery).toBe(`${expected.get('k0')} ${expected.size} ${inRange}`);
  }, 240_000);

  it('exactly_once_v2: the checkpoint holds across a clean close; after a kill -9 the store is restored in full', async () => {
    expected.clear();
    produced = 0;
    const app = 'persistent-eos';
    const opts = { app, topics: ['words-eos', 'counts-eos'] as [string, string], guarantee: 'exactly_once_v2' };
    const dir = tempDir('kts-persistent-eos-');
    await produce(keys(500, 50), 'words-eos');
    expect(await runOnce(dir, opts)).toEqual({ start: 0, end: 0, restored: 0 });
    const e1 = await changelogEnd(app);
    expect(readFileSync(join(dir, app, '0_0', '.checkpoint'), 'utf8')).toBe(`0\n1\n${app}-counts-changelog 0 ${e1}\n`);

    await produce(keys(100, 50), 'words-eos');
    expect(await runOnce(dir, { ...opts, signal: 'SIGKILL' })).toEqual({ start: e1, end: e1, restored: 0 });
    expect(existsSync(join(dir, app, '0_0', '.checkpoint'))).toBe(false); // deleted once restored

    await produce(keys(50, 50), 'words-eos');
    const full = await runOnce(dir, opts);
    expect(full).toMatchObject({ start: 0, restored: 600 }); // every committed update, none twice
    const latest = new Map<string, number>();
    for (const r of await readTopic(client, 'counts-eos', { readCommitted: true })) latest.set(r.key!.toString(), longValue(r.value)!);
    expect(latest).toEqual(expected);
  }, 240_000);
});
