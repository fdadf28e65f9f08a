// `kts console` against a real Apache Kafka 4.4 (KRaft): the JSON API the page is drawn from answers
// the same way as against kts (the browser side is test/e2e/console/web-console.test.ts): overview,
// topic create/describe/delete, produce and browse by offset and by search, a group's offsets reset
// behind the confirmation and its lag.
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, KTS_BIN } from '../../helpers/broker.js';
import { exitOf, spawnTracked, stopProcess } from '../../helpers/processes.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';

const installed = !!kafkaLib(KAFKA_4);

describe.skipIf(!installed)('kts console against Apache Kafka 4.4', () => {
  let kafka: RealKafka;
  let consoleProcess: ChildProcess;
  let base: string;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body);
    if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  beforeAll(async () => {
    kafka = await startRealKafka(KAFKA_4);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    consoleProcess = spawnTracked(process.execPath, [KTS_BIN, 'console', '--bootstrap-server', kafka.bootstrap, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    consoleProcess.stdout!.on('data', (d) => (out += d));
    consoleProcess.stderr!.on('data', (d) => (out += d));
    // A deadline in time, not a count of 50 ms naps (which last longer on a loaded machine); the
    // reason of an early exit (stderr too) is read to the end before it is reported.
    const deadline = Date.now() + 60_000;
    while (!out.includes('kts console: http://')) {
      if (consoleProcess.exitCode !== null || Date.now() > deadline) {
        if (consoleProcess.exitCode !== null) await exitOf(consoleProcess);
        throw new Error(`kts console did not start (exit ${consoleProcess.exitCode}): ${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 180_000);
  afterAll(async () => {
    if (consoleProcess) await stopProcess(consoleProcess, 'SIGTERM', 10_000);
    await kafka?.stop();
  }, 60_000);

  it('shows the cluster, creates a topic, produces, browses, resets a group and deletes the topic', async () => {
    const overview = await ok('GET', '/api/cluster');
    expect(overview.brokers).toHaveLength(1);
    expect(overview.controllerId).toBeGreaterThanOrEqual(0);
    expect(overview.underReplicated).toBe(0);

    await ok('POST', '/api/topics', { name: 'web', partitions: 2 });
    let topic: any;
    for (let i = 0; i < 100; i++) {
      const r = await call('GET', '/api/topics/web');
      if (r.status === 200 && r.body.partitions.length === 2 && r.body.partitions.every((p: any) => p.leader >= 0)) {
        topic = r.body;
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(topic.partitions.map((p: any) => p.partition)).toEqual([0, 1]);
    expect(topic.configs.find((c: any) => c.name === 'cleanup.policy')?.value).toBe('delete');

    for (let i = 0; i < 3; i++) await ok('POST', '/api/topics/web/messages', { partition: 1, key: `k${i}`, value: JSON.stringify({ i }), headers: [{ key: 'trace', value: `t${i}` }] });
    const produced = await ok('POST', '/api/topics/web/messages', { partition: 1, key: 'needle', value: 'hay', headers: [] });
    expect(produced).toMatchObject({ partition: 1, offset: 3 });

    const byOffset = await ok('GET', '/api/topics/web/messages?partition=1&offset=1&limit=2');
    expect(byOffset.records.map((r: any) => [r.offset, r.key, r.value, r.headers])).toEqual([
      [1, 'k1', '{"i":1}', [{ key: 'trace', value: 't1' }]],
      [2, 'k2', '{"i":2}', [{ key: 'trace', value: 't2' }]],
    ]);
    const searched = await ok('GET', '/api/topics/web/messages?search=needle');
    expect(searched.records.map((r: any) => [r.partition, r.offset])).toEqual([[1, 3]]);

    // A group without members: its offsets reset to earliest (typed confirmation required), lag 4.
    expect((await call('POST', '/api/groups/web-readers/reset', { topic: 'web', to: 'earliest' })).status).toBe(400);
    await ok('POST', '/api/groups/web-readers/reset', { topic: 'web', to: 'earliest', confirm: 'web-readers' });
    const group = await ok('GET', '/api/groups/web-readers');
    expect(group.lag).toBe(4);
    expect(group.partitions.map((p: any) => [p.partition, p.committed, p.end, p.lag])).toEqual([
      [0, 0, 0, 0],
      [1, 0, 4, 4],
    ]);
    expect((await ok('GET', '/api/groups')).find((g: any) => g.groupId === 'web-readers')?.lag).toBe(4);

    expect((await call('DELETE', '/api/topics/web', { confirm: 'wrong' })).status).toBe(400);
    await ok('DELETE', '/api/topics/web', { confirm: 'web' });
    for (let i = 0; i < 100 && (await ok('GET', '/api/topics')).some((t: any) => t.name === 'web'); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await ok('GET', '/api/topics')).some((t: any) => t.name === 'web')).toBe(false);
  }, 120_000);
});
