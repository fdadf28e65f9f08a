// kts connect-distributed, two workers of one group on a kts broker: a file source and a file sink
// created through one worker's REST API are dealt one to each worker; lines flow; the worker
// running the source is killed with SIGKILL while lines are appended; after session.timeout.ms the
// other worker runs both connectors, and the sink file ends with every line exactly once, in order.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { sleep, waitFor } from './connect-helpers.js';
import type { ChildProcess } from 'node:child_process';

let broker: SpawnedBroker;
let dir: string;
const workers: { child: ChildProcess; url: string; out: () => string }[] = [];

async function startDistributedWorker(n: number): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const port = await freePort();
  const props = join(dir, `worker-${n}.properties`);
  writeFileSync(
    props,
    [
      `bootstrap.servers=${broker.bootstrap}`,
      'group.id=connect-cluster',
      'key.converter=org.apache.kafka.connect.json.JsonConverter',
      'value.converter=org.apache.kafka.connect.json.JsonConverter',
      'offset.storage.topic=connect-offsets',
      'config.storage.topic=connect-configs',
      'status.storage.topic=connect-status',
      'offset.flush.interval.ms=1000',
      'session.timeout.ms=6000',
      'heartbeat.interval.ms=1000',
      `listeners=http://127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child = spawnTracked(process.execPath, [KTS_BIN, 'connect-distributed', props], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => `worker ${n}'s REST API: ${out}`, async () => {
    if (child.exitCode !== null) throw new Error(`worker ${n} exited ${child.exitCode}: ${out}`);
    return (await fetch(`${url}/connectors`).catch(() => null))?.status === 200;
  });
  return { child, url, out: () => out };
}

beforeAll(async () => {
  broker = await spawnBroker();
  dir = tempDir('kts-connect-distributed-');
});

afterAll(async () => {
  for (const w of workers) await stopProcess(w.child, 'SIGTERM', 20_000);
  await broker?.stop();
});

const sinkText = () => (existsSync(join(dir, 'sink.txt')) ? readFileSync(join(dir, 'sink.txt'), 'utf8') : '');
const status = async (url: string, name: string) => (await (await fetch(`${url}/connectors/${name}/status`)).json()) as { connector?: { worker_id: string; state: string }; tasks?: { state: string; worker_id: string }[] };

describe('kts connect-distributed: two workers, one killed', () => {
  it('moves the dead worker\'s connector to the other and loses or repeats no line', async () => {
    workers.push(await startDistributedWorker(1), await startDistributedWorker(2));
    writeFileSync(join(dir, 'in.txt'), 'first\nsecond\n');
    const post = (name: string, config: Record<string, string>) =>
      fetch(`${workers[0].url}/connectors`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, config }) });
    expect((await post('source', { 'connector.class': 'FileStreamSource', file: join(dir, 'in.txt'), topic: 'lines' })).status).toBe(201);
    expect((await post('sink', { 'connector.class': 'FileStreamSink', file: join(dir, 'sink.txt'), topics: 'lines' })).status).toBe(201);
    await waitFor(() => `first lines in the sink: ${JSON.stringify(sinkText())}\n${workers.map((w) => w.out()).join('\n')}`, () => sinkText() === 'first\nsecond\n', 60_000);

    // One connector per worker once both have joined (the second may join after the connectors were
    // dealt, and then they are dealt again); both workers report both, through the status topic.
    let seen: unknown = null;
    const split = async (url: string) => {
      const [source, sink] = [await status(url, 'source'), await status(url, 'sink')];
      seen = { url, source, sink };
      const running = [source, sink].every((s) => s.connector?.state === 'RUNNING' && s.tasks?.[0]?.state === 'RUNNING');
      return running && source.connector!.worker_id !== sink.connector!.worker_id ? [source, sink] : null;
    };
    await waitFor(() => `one connector per worker, seen from ${workers[0].url}: ${JSON.stringify(seen)}`, async () => (await split(workers[0].url)) !== null, 30_000);
    let both: Awaited<ReturnType<typeof split>> = null;
    await waitFor(() => `one connector per worker, seen from ${workers[1].url}: ${JSON.stringify(seen)}`, async () => (both = await split(workers[1].url)) !== null, 30_000);
    const [s1] = both!;
    const sourceOwner = workers.findIndex((w) => w.url.endsWith(`:${s1.connector!.worker_id.split(':').pop()}`));
    expect(sourceOwner).toBeGreaterThanOrEqual(0);
    const survivor = workers[1 - sourceOwner];

    const expected = ['first', 'second'];
    let n = 0;
    const appendSome = (count: number) => {
      const lines = Array.from({ length: count }, () => `line ${++n}`);
      appendFileSync(join(dir, 'in.txt'), lines.map((l) => `${l}\n`).join(''));
      expected.push(...lines);
    };
    for (let i = 0; i < 20; i++) {
      appendSome(5);
      await sleep(20);
    }
    await stopProcess(workers[sourceOwner].child, 'SIGKILL');
    appendSome(10); // while no worker runs the source
    let last: unknown = null;
    await waitFor(() => `the survivor to run the source: ${JSON.stringify(last)}\n${survivor.out()}`, async () => {
      const s = await status(survivor.url, 'source');
      last = s;
      return s.tasks?.[0]?.state === 'RUNNING' && survivor.url.endsWith(`:${s.connector!.worker_id.split(':').pop()}`);
    }, 60_000);
    appendSome(10);
    const want = `${expected.join('\n')}\n`;
    await waitFor(() => `every line once: ${sinkText().length} of ${want.length} bytes\n${survivor.out()}`, () => sinkText().length >= want.length, 60_000);
    expect(sinkText()).toBe(want);
  }, 180_000);
});
