// suppress(untilWindowCloses)'s buffer survives a restart: its changelog
// (<application.id>-KTABLE-SUPPRESS-STATE-STORE-<n>-changelog, Kafka's name, records in Kafka's
// version 3 buffer layout) is restored on start. fixtures/suppress-app.mjs counts tumbling 10 s
// windows per key on one kts broker; records go into an open window, the app stops (cleanly, then in
// a second case by kill -9 under exactly_once_v2), restarts, and a later record moves stream time
// past the window's close: the window's final count is written exactly once.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../../src/client/index.js';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { FIXTURES, longValue, pollFor, readTopic, startApp } from './support.js';

// Node names as Kafka Streams gives them: source 0, count's store 1, aggregate 2, suppress 3, its store 4.
const BUFFER = 'KTABLE-SUPPRESS-STATE-STORE-0000000004';

describe('suppress(untilWindowCloses) across restarts', () => {
  let broker: SpawnedBroker;
  let client: KafkaClient;
  beforeAll(async () => {
    broker = await spawnBroker();
    client = await KafkaClient.connect(broker.bootstrap);
    const topics = ['in-clean', 'final-clean', 'in-kill', 'final-kill'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1 }));
    for (const c of await client.admin.createTopics(topics)) if (c.error) throw c.error;
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  const produce = async (topic: string, records: [string, number][]) => {
    const producer = client.producer({ lingerMs: 5 });
    await Promise.all(records.map(([k, timestamp]) => producer.send(topic, { key: Buffer.from(k), value: Buffer.from('x'), timestamp })));
    producer.close();
  };
  const committed = async (app: string, topic: string) => (await client.groups.fetchOffsets(app, [{ topic, partition: 0 }]))[0]?.offset ?? -1;
  const finals = async (topic: string) => (await readTopic(client, topic, { readCommitted: true })).map((r) => `${r.key}=${longValue(r.value)}`);

  /** Runs the app until it has committed `upTo` input records, then stops it with `signal`; returns its output. */
  const runUntil = async (app: string, dir: string, [input, output]: [string, string], upTo: number, guarantee: string, signal: NodeJS.Signals) => {
    const child = startApp(process.execPath, [join(FIXTURES, 'suppress-app.mjs'), broker.bootstrap, app, dir, input, output, guarantee]);
    await child.running;
    await pollFor(`the app's commit of offset ${upTo}`, async () => ((await committed(app, input)) === upTo ? true : undefined), 60_000, child.output);
    const code = await child.stop(signal);
    if (signal === 'SIGTERM') expect(code, child.output()).toBe(0);
    return child.output();
  };

  for (const [name, signal, guarantee] of [
    ['clean', 'SIGTERM', 'at_least_once'],
    ['kill', 'SIGKILL', 'exactly_once_v2'],
  ] as const) {
    it(`${signal === 'SIGTERM' ? 'a clean stop' : 'a kill -9 (exactly_once_v2)'}: the restored buffer emits the window's final count once`, async () => {
      const app = `suppress-${name}`;
      const topics: [string, string] = [`in-${name}`, `final-${name}`];
      const dir = tempDir(`kts-suppress-${name}-`);
      await produce(topics[0], [['a', 1_000], ['a', 2_000], ['b', 3_000]]); // all in [0, 10 s), still open
      const first = await runUntil(app, dir, topics, 3, guarantee, signal);
      expect(first).toMatch(new RegExp(`^RESTORE ${BUFFER} 0$`, 'm'));
      expect(await finals(topics[1])).toEqual([]);

      // The buffer's changelog holds a's and b's latest changes in Kafka's layout.
      const logged = await readTopic(client, `${app}-${BUFFER}-changelog`, { readCommitted: true });
      const last = logged.at(-1)!;
      expect(last.key!.toString('hex')).toBe(Buffer.from('b').toString('hex') + '0000000000000000'); // key, window start
      expect(last.headers).toEqual([{ key: 'v', value: Buffer.from([3]) }]);
      expect(Number(last.value!.readBigInt64BE(0))).toBe(3_000); // the record's timestamp first
      expect(Number(last.value!.readBigInt64BE(last.value!.length - 8))).toBe(10_000); // buffer time: the window's end
      expect(longValue(last.value!.subarray(last.value!.length - 16, last.value!.length - 8))).toBe(1); // the new count

      await produce(topics[0], [['c', 25_000]]); // stream time 25 s: [0, 10 s) closes
      const second = await runUntil(app, dir, topics, 4, guarantee, 'SIGTERM');
      expect(second).toMatch(new RegExp(`^RESTORE ${BUFFER} ${logged.length}$`, 'm'));
      expect(await finals(topics[1])).toEqual(['a@0=2', 'b@0=1']);
    }, 120_000);
  }
});
