// The REST API of `kts connect-standalone` against Apache Kafka Connect's own standalone worker
// (ConnectStandalone 4.4.0 from Maven Central's jars, with the file connectors of 4.3.1: 4.4.0's
// connect-file is not published there), both on one real Kafka 4.4 broker: the same calls in the same order get the same status codes and the same JSON, once
// worker ids, versions, the per-worker directory and topic are replaced by placeholders. The two
// source connectors read the same file: the bytes in their topics (JsonConverter's) are identical.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, KTS_BIN, tempDir } from '../../helpers/broker.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { KAFKA_4, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { startWorker, waitFor, type RunningWorker } from './connect-helpers.js';
import type { ChildProcess } from 'node:child_process';

const run = promisify(execFile);
const CACHE = process.env.KTS_INTEROP_CACHE || join(homedir(), '.cache/kts-interop');
const CONNECT_LIB = join(CACHE, 'kafka-connect-4.4.0', 'lib');
const haveConnect = existsSync(join(CONNECT_LIB, 'connect-runtime-4.4.0.jar'));
if (!haveConnect && process.env.KTS_REQUIRE_INTEROP === '1') throw new Error(`Kafka Connect 4.4 is required but ${CONNECT_LIB} is missing: run node scripts/fetch-kafka.mjs`);

/**
 * fixtures/AppInfoParser.java compiled once (cached by its source): connect-file 4.3.1's connectors
 * ask the class Kafka 4.4 moved for their version, and without it every connector fails to start.
 */
function appInfoShim(): string {
  const source = join(import.meta.dirname, 'fixtures', 'AppInfoParser.java');
  const dir = join(CACHE, `java-connect-shim-${createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, 'org/apache/kafka/common/utils/AppInfoParser.class'))) return dir;
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync('javac', ['-nowarn', '-d', staging, '-cp', `${CONNECT_LIB}/*`, source], { stdio: 'pipe' });
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run got there first
  }
  return dir;
}
const realKafkaLib = existsSync(join(CACHE, `kafka-${KAFKA_4}`, 'lib', `kafka_2.13-${KAFKA_4}.jar`));

interface Side {
  name: 'kts' | 'kafka';
  dir: string;
  topic: string;
  url: string;
  stop(): Promise<unknown>;
}

let broker: RealKafka;
const sides: Side[] = [];
let javaWorker: ChildProcess | null = null;
let ktsWorker: RunningWorker | null = null;

function workerProps(dir: string, bootstrap: string, port: number): string {
  const path = join(dir, 'worker.properties');
  writeFileSync(
    path,
    [
      `bootstrap.servers=${bootstrap}`,
      'key.converter=org.apache.kafka.connect.json.JsonConverter',
      'value.converter=org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable=true',
      'value.converter.schemas.enable=true',
      `offset.storage.file.filename=${join(dir, 'connect.offsets')}`,
      'offset.flush.interval.ms=1000',
      `listeners=http://127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  return path;
}

async function startJavaWorker(dir: string, port: number): Promise<string> {
  const props = workerProps(dir, broker.bootstrap, port);
  const child = spawnTracked('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${appInfoShim()}:${CONNECT_LIB}/*`, 'org.apache.kafka.connect.cli.ConnectStandalone', props], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  javaWorker = child;
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(() => `Kafka Connect's REST API on ${url}: ${out.slice(-2000)}`, async () => {
    if (child.exitCode !== null) throw new Error(`ConnectStandalone exited ${child.exitCode}: ${out}`);
    const res = await fetch(`${url}/connectors`).catch(() => null);
    return res?.status === 200;
  }, 90_000);
  return url;
}

beforeAll(async () => {
  if (!haveConnect || !realKafkaLib) return;
  broker = await startRealKafka(KAFKA_4);
  for (const name of ['kafka', 'kts'] as const) {
    const dir = tempDir(`kts-connect-rest-${name}-`);
    writeFileSync(join(dir, 'in.txt'), 'foo\nbar\n');
    mkdirSync(join(dir, 'out'));
    const port = await freePort();
    let url: string;
    let stop: () => Promise<unknown>;
    if (name === 'kafka') {
      url = await startJavaWorker(dir, port);
      stop = () => stopProcess(javaWorker!, 'SIGTERM', 20_000);
    } else {
      workerProps(dir, broker.bootstrap, port);
      ktsWorker = await startWorker(dir, port, ['worker.properties']);
      url = ktsWorker.url;
      stop = () => ktsWorker!.stop();
    }
    sides.push({ name, dir, topic: `rest-${name}`, url, stop });
  }
}, 180_000);

afterAll(async () => {
  for (const s of sides) await s.stop();
  await broker?.stop();
});

interface Answer {
  status: number;
  body: unknown;
}

async function call(side: Side, method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${side.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text.split(side.dir).join('<dir>').split(side.topic).join('<topic>'));
  } catch {
    /* not JSON: compared as text */
  }
  return { status: res.status, body: placeholders(parsed) };
}

/** Worker ids, versions and stack traces differ by nature; everything else must not. */
function placeholders(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(placeholders);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    if (['worker_id', 'version', 'commit', 'kafka_cluster_id', 'trace'].includes(k) && typeof val === 'string') out[k] = `<${k}>`;
    else out[k] = placeholders(val);
  }
  return out;
}

const sourceConfig = (s: Side) => ({ 'connector.class': 'FileStreamSource', 'tasks.max': '1', file: join(s.dir, 'in.txt'), topic: s.topic });
const sinkConfig = (s: Side) => ({ 'connector.class': 'FileStreamSink', 'tasks.max': '1', file: join(s.dir, 'out', 'sink.txt'), topics: s.topic });

/** Runs the same step on both workers; returns both answers, Kafka's first. */
async function both(step: (s: Side) => Promise<Answer>): Promise<[Answer, Answer]> {
  const answers = await Promise.all(sides.map(step));
  return [answers[0], answers[1]];
}

/** Every difference found, reported together at the end of the test. */
const differences: string[] = [];

async function same(label: string, step: (s: Side) => Promise<Answer>): Promise<Answer> {
  const [kafka, kts] = await both(step);
  if (JSON.stringify(kts) !== JSON.stringify(kafka)) differences.push(`${label}:\n  kafka: ${JSON.stringify(kafka)}\n  kts:   ${JSON.stringify(kts)}`);
  return kafka;
}

async function untilBoth(what: string, path: string, ok: (body: any) => boolean): Promise<void> {
  for (const s of sides) {
    let last: Answer | null = null;
    await waitFor(() => `${s.name}: ${what} (last answer ${JSON.stringify(last)})\n${differences.join('\n')}`, async () => ok((last = await call(s, 'GET', path)).body), 30_000);
  }
}

describe.skipIf(!haveConnect || !realKafkaLib)('kts connect-standalone answers REST calls as Kafka Connect does', () => {
  it('root, empty lists, errors, a connector\'s whole life', async () => {
    await same('GET /', (s) => call(s, 'GET', '/'));
    await same('GET /connectors (none)', (s) => call(s, 'GET', '/connectors'));
    await same('GET /connector-plugins', (s) => call(s, 'GET', '/connector-plugins'));
    await same('POST without connector.class', (s) => call(s, 'POST', '/connectors', { name: 'x', config: { 'tasks.max': '1' } }));
    await same('POST missing topic', (s) => call(s, 'POST', '/connectors', { name: 'bad', config: { 'connector.class': 'FileStreamSource' } }));
    await same('POST source', (s) => call(s, 'POST', '/connectors', { name: 'src', config: sourceConfig(s) }));
    await same('POST source again', (s) => call(s, 'POST', '/connectors', { name: 'src', config: sourceConfig(s) }));
    await untilBoth('src running', '/connectors/src/status', (b) => b.tasks?.[0]?.state === 'RUNNING');
    await same('GET info', (s) => call(s, 'GET', '/connectors/src'));
    await same('GET config', (s) => call(s, 'GET', '/connectors/src/config'));
    await same('GET status', (s) => call(s, 'GET', '/connectors/src/status'));
    await same('GET tasks', (s) => call(s, 'GET', '/connectors/src/tasks'));
    await same('GET task status', (s) => call(s, 'GET', '/connectors/src/tasks/0/status'));
    await same('GET task 5 status', (s) => call(s, 'GET', '/connectors/src/tasks/5/status'));
    await same('PUT sink config (new)', (s) => call(s, 'PUT', '/connectors/snk/config', sinkConfig(s)));
    await same('PUT sink config (again)', (s) => call(s, 'PUT', '/connectors/snk/config', sinkConfig(s)));
    await same('PUT config with another name', (s) => call(s, 'PUT', '/connectors/snk/config', { ...sinkConfig(s), name: 'other' }));
    await untilBoth('snk running', '/connectors/snk/status', (b) => b.tasks?.[0]?.state === 'RUNNING');
    await same('GET /connectors', async (s) => {
      const a = await call(s, 'GET', '/connectors');
      return { ...a, body: (a.body as string[]).sort() };
    });
    await same('GET /connectors?expand=status&expand=info', (s) => call(s, 'GET', '/connectors?expand=status&expand=info'));
    await same('PUT pause', (s) => call(s, 'PUT', '/connectors/src/pause'));
    await untilBoth('src paused', '/connectors/src/status', (b) => b.connector?.state === 'PAUSED' && b.tasks?.[0]?.state === 'PAUSED');
    await same('GET status paused', (s) => call(s, 'GET', '/connectors/src/status'));
    await same('PUT resume', (s) => call(s, 'PUT', '/connectors/src/resume'));
    await untilBoth('src resumed', '/connectors/src/status', (b) => b.connector?.state === 'RUNNING' && b.tasks?.[0]?.state === 'RUNNING');
    await same('POST restart', (s) => call(s, 'POST', '/connectors/src/restart'));
    await same('POST task restart', (s) => call(s, 'POST', '/connectors/src/tasks/0/restart'));
    await untilBoth('src running again', '/connectors/src/status', (b) => b.connector?.state === 'RUNNING' && b.tasks?.[0]?.state === 'RUNNING');
    await same('POST restart onlyFailed (nothing failed)', (s) => call(s, 'POST', '/connectors/src/restart?includeTasks=true&onlyFailed=true'));
    await untilBoth('both lines in the sink file', '/connectors/src/offsets', (b) => b.offsets?.[0]?.offset?.position === 8);
    await same('GET offsets', (s) => call(s, 'GET', '/connectors/src/offsets'));
    await same('PUT stop', (s) => call(s, 'PUT', '/connectors/snk/stop'));
    await untilBoth('snk stopped', '/connectors/snk/status', (b) => b.connector?.state === 'STOPPED');
    await same('GET status stopped', (s) => call(s, 'GET', '/connectors/snk/status'));
    await same('GET tasks stopped', (s) => call(s, 'GET', '/connectors/snk/tasks'));
    await same('PUT resume stopped', (s) => call(s, 'PUT', '/connectors/snk/resume'));
    await untilBoth('snk running after stop', '/connectors/snk/status', (b) => b.connector?.state === 'RUNNING' && b.tasks?.[0]?.state === 'RUNNING');
    const broken = (s: Side) => ({ 'connector.class': 'FileStreamSink', topics: s.topic, file: join(s.dir, 'no', 'such', 'dir.txt') });
    await same('POST a sink that cannot open its file', (s) => call(s, 'POST', '/connectors', { name: 'broken', config: broken(s) }));
    await untilBoth('broken task failed', '/connectors/broken/status', (b) => b.tasks?.[0]?.state === 'FAILED');
    await same('GET failed status', (s) => call(s, 'GET', '/connectors/broken/status'));
    await same('POST restart onlyFailed (a failed task)', (s) => call(s, 'POST', '/connectors/broken/restart?includeTasks=true&onlyFailed=true'));
    await untilBoth('broken task failed again', '/connectors/broken/status', (b) => b.tasks?.[0]?.state === 'FAILED');
    await same('DELETE broken', (s) => call(s, 'DELETE', '/connectors/broken'));
    // Kafka 4.3's standalone worker answers this one with a 500 (a NullPointerException's message): kts says 404.
    expect(await call(sides[1], 'POST', '/connectors/nope/restart')).toEqual({ status: 404, body: { error_code: 404, message: 'Unknown connector: nope' } });
    await same('GET unknown connector', (s) => call(s, 'GET', '/connectors/nope'));
    await same('GET unknown connector status', (s) => call(s, 'GET', '/connectors/nope/status'));
    await same('PUT pause unknown', (s) => call(s, 'PUT', '/connectors/nope/pause'));
    await same('GET unknown path', (s) => call(s, 'GET', '/nope'));
    await same('DELETE /connectors (not allowed)', (s) => call(s, 'DELETE', '/connectors'));
    await same('DELETE src', (s) => call(s, 'DELETE', '/connectors/src'));
    await same('DELETE src again', (s) => call(s, 'DELETE', '/connectors/src'));
    await same('GET /connectors after delete', (s) => call(s, 'GET', '/connectors'));
    expect(differences.join('\n')).toBe('');
  }, 240_000);

  it('writes the same bytes into its topic as Kafka\'s JsonConverter', async () => {
    const read = async (s: Side) =>
      (await run(process.execPath, [KTS_BIN, 'console-consumer', '--bootstrap-server', broker.bootstrap, '--topic', s.topic, '--from-beginning', '--max-messages', '2', '--property', 'print.key=true', '--timeout-ms', '20000'], { timeout: 30_000 })).stdout;
    const [kafka, kts] = await Promise.all(sides.map(read));
    expect(kafka).toBe('null\t{"schema":{"type":"string","optional":false},"payload":"foo"}\nnull\t{"schema":{"type":"string","optional":false},"payload":"bar"}\n');
    expect(kts).toBe(kafka);
  });
});
