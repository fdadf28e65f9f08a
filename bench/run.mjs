// npm run bench — kts measured against librdkafka's mock cluster (C), loopback TCP, `node -e 0`
// and Kafka's published figures. Starts everything it needs, runs kts and the reference
// alternately (median of ROUNDS), prints a table, writes bench/results.json, bench/RESULTS.md and
// bench/chart.svg. Never part of `npm test`. Bounded: every wait has a timeout; the whole run is
// sized for < 10 minutes on 2 cores.
//
// Environment: BENCH_ONLY=produce,consume,... (scenario ids), BENCH_ROUNDS (5), BENCH_BIG_MB (1024),
// BENCH_NO_WRITE=1 (do not rewrite the result files).
import { execFileSync, execSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { cpus, freemem, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, median, percentile, rssMB, rssSampler, run, sleep } from './lib/proc.mjs';
import { RawClient, createTopics, startKts, startMock } from './lib/servers.mjs';
import { printTable, verdict, writeOutputs } from './lib/report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = join(ROOT, 'bench');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 1024);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const N = 1_000_000; // records in the produce/consume scenarios
const started = new Date().toISOString();
const tStart = performance.now();
const rows = [];
const notes = [];
const external = {};
const cleanups = [];

const log = (msg) => console.log(`[${((performance.now() - tStart) / 1000).toFixed(1).padStart(6)} s | load ${loadavg()[0].toFixed(2)}] ${msg}`);
const load1 = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** Adds a result row. kind: 'max' ratio goal, 'min' ratio goal, 'abs' absolute goal on kts, none = report. */
function addRow(r) {
  const row = { ...r };
  if (row.ratio === undefined && Number.isFinite(row.kts) && Number.isFinite(row.ref) && row.ref !== 0) row.ratio = row.kts / row.ref;
  if (row.goalMax !== undefined && Number.isFinite(row.ratio)) {
    row.met = row.ratio <= row.goalMax;
    row.score = row.ratio / row.goalMax;
    row.display = `${row.ratio.toFixed(2)}x (goal <= ${row.goalMax}x)`;
  } else if (row.goalMin !== undefined && Number.isFinite(row.ratio)) {
    row.met = row.ratio >= row.goalMin;
    row.score = row.goalMin / row.ratio;
    row.display = `${(row.ratio * 100).toFixed(0)}% (goal >= ${row.goalMin * 100}%)`;
  } else if (row.absMax !== undefined && Number.isFinite(row.kts)) {
    row.met = row.kts <= row.absMax;
    row.score = row.kts / row.absMax;
    row.display = `${row.kts.toFixed(row.kts < 10 ? 2 : 0)} ${row.unit} (goal <= ${row.absMax})`;
  } else if (row.goal) {
    row.met = null;
  }
  rows.push(row);
  log(`  => ${row.scenario}: kts ${row.kts?.toFixed?.(3) ?? row.kts} ${row.unit ?? ''}${row.ref !== undefined ? `, ref ${row.ref?.toFixed?.(3) ?? row.ref}` : ''}${Number.isFinite(row.ratio) ? `, ratio ${row.ratio.toFixed(2)}` : ''} [${verdict(row)}]`);
  return row;
}

const want = (id) => !ONLY || ONLY.has(id);

// ---------------------------------------------------------------------------------------------
// Setup: a private snapshot of dist/ (other engineers rebuild it while we run), the protocol codec
// bundled for raw requests, the mock cluster compiled, data files.

const WORK = mkdtempSync(join(tmpdir(), 'kts-bench-'));
const SNAP_DIR = join(ROOT, 'node_modules', '.cache', 'kts-bench', String(process.pid));
cleanups.push(() => rmSync(WORK, { recursive: true, force: true }));
cleanups.push(() => rmSync(SNAP_DIR, { recursive: true, force: true }));
const children = new Set();
function track(server) {
  children.add(server);
  return server;
}
async function stopAll() {
  for (const s of children) {
    try {
      s.child.kill('SIGKILL');
    } catch {}
  }
  children.clear();
}
let exiting = false;
async function cleanup() {
  if (exiting) return;
  exiting = true;
  await stopAll();
  for (const c of cleanups.reverse()) {
    try {
      c();
    } catch {}
  }
}
process.on('SIGINT', () => cleanup().then(() => process.exit(130)));
process.on('SIGTERM', () => cleanup().then(() => process.exit(143)));

const machine = {
  cpu: (/model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8')) ?? [, cpus()[0]?.model ?? '?'])[1],
  nproc: execSync('nproc').toString().trim(),
  free: execSync('free -h').toString(),
  node: process.version,
  kernel: `Linux ${release()}`,
  loadStart: load1(),
  librdkafka: '?',
};

console.log(`kts bench — ${started}`);
console.log(`machine: ${machine.cpu}, nproc ${machine.nproc}, load average ${machine.loadStart}`);
console.log(machine.free.trimEnd());
if (Number(loadavg()[0]) > 1) console.log('NOTE: the machine is busy (load average > 1); numbers will be noisy.');

log('snapshot of dist/ and bundling the protocol codec for raw requests');
mkdirSync(SNAP_DIR, { recursive: true });
cpSync(join(ROOT, 'dist'), join(SNAP_DIR, 'dist'), { recursive: true });
cpSync(join(ROOT, 'bin'), join(SNAP_DIR, 'bin'), { recursive: true });
const snap = { bin: join(SNAP_DIR, 'bin', 'kts.js') };
{
  const { build } = await import('esbuild');
  const src = join(ROOT, 'src', 'protocol');
  await build({
    stdin: {
      contents: `export * from ${JSON.stringify(join(src, 'index.ts'))};\nexport { buildRecordBatch, decodeRecords } from ${JSON.stringify(join(src, 'records', 'index.ts'))};\n`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile: join(SNAP_DIR, 'proto.mjs'),
    logLevel: 'warning',
  });
}
const PROTO_PATH = join(SNAP_DIR, 'proto.mjs');
const proto = await import(PROTO_PATH);

function haveTool(cmd) {
  try {
    execSync(`command -v ${cmd}`, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// The C reference: librdkafka's mock cluster.
let MOCK = null;
{
  const header = '/usr/include/librdkafka/rdkafka_mock.h';
  if ((!existsSync(header) || !haveTool('gcc')) && process.getuid?.() === 0) {
    log('librdkafka-dev or gcc missing: running `apt-get install -y librdkafka-dev gcc` (root)');
    try {
      execSync('apt-get install -y librdkafka-dev gcc', { stdio: 'ignore', timeout: 180_000 });
    } catch (err) {
      log(`apt-get failed: ${err.message}`);
    }
  }
  if (existsSync(header) && haveTool('gcc')) {
    MOCK = join(WORK, 'mock-cluster');
    try {
      execFileSync('gcc', ['-O2', '-o', MOCK, join(BENCH, 'mock-cluster.c'), '-lrdkafka'], { stdio: 'pipe', timeout: 60_000 });
      log('compiled bench/mock-cluster.c against librdkafka');
    } catch (err) {
      log(`cannot compile the mock cluster: ${err.stderr ?? err.message}`);
      MOCK = null;
    }
  } else {
    log('no librdkafka-dev/gcc: C mock cluster references will be n/a');
  }
}
const KCAT = haveTool('kcat') ? 'kcat' : haveTool('kafkacat') ? 'kafkacat' : null;
if (KCAT) {
  const v = run(KCAT, ['-V'], { keepStdout: true, timeoutMs: 5000 });
  const out = (await v).stdout;
  machine.librdkafka = (/librdkafka version ([\d.]+)/.exec(out) ?? [, '?'])[1];
} else {
  notes.push('kcat is not installed: kcat scenarios skipped (apt-get install kcat).');
}

// Data: 1 M lines of 99 B + newline (JSON-like, so codecs have something realistic to chew on),
// 100 k lines of 1 KiB.
log('generating data files');
function makeLines(count, size, path) {
  const buf = Buffer.alloc(count * size);
  const words = ['page_view', 'click', 'add_to_cart', 'checkout', 'search', 'login', 'logout', 'scroll'];
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < count; i++) {
    let s = `{"seq":${i},"user":"user-${Math.floor(rnd() * 100000)}","event":"${words[i & 7]}","path":"/p/${Math.floor(rnd() * 1e6)}","ms":${Math.floor(rnd() * 5000)}`;
    while (s.length < size - 3) s += String.fromCharCode(97 + Math.floor(rnd() * 26));
    s = (s + '"}').slice(0, size - 2) + '}';
    buf.write(s.padEnd(size - 1, ' '), i * size, 'latin1');
    buf[i * size + size - 1] = 10;
  }
  writeFileSync(path, buf);
  return path;
}
const F100 = makeLines(N, 100, join(WORK, 'r100.txt'));
const N1K = 100_000;
const F1K = makeLines(N1K, 1024, join(WORK, 'r1k.txt'));

const kcatProduce = (bootstrap, topic, file, extra = []) =>
  run(KCAT, ['-P', '-b', bootstrap, '-t', topic, '-X', 'acks=1', ...extra, '-l', file], { timeoutMs: 180_000 });
const kcatConsume = (bootstrap, topic, extra = []) =>
  run(KCAT, ['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', ...extra], { timeoutMs: 180_000 });

function kcatFailed(r) {
  if (r.timedOut) return 'timed out';
  if (r.code !== 0) return `exit ${r.code}: ${r.stderr.split('\n').find((l) => l.trim()) ?? ''}`;
  if (/ERROR|failed/i.test(r.stderr)) return r.stderr.split('\n').find((l) => /ERROR|failed/i.test(l));
  return null;
}

let dirN = 0;
const newDir = (name) => {
  const d = join(WORK, `${name}-${dirN++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

const nodeE0 = [];
async function nodeBaseline() {
  const r = await run(process.execPath, ['-e', '0'], { timeoutMs: 10_000 });
  nodeE0.push(r.wallMs);
  return r.wallMs;
}

// ---------------------------------------------------------------------------------------------
const results = { produce: {} };
let ktsRssFull = 0;

async function scenarioProduce() {
  if (!KCAT) return;
  log(`produce: kcat 1 M x 100 B, acks=1, 1 and 4 partitions, kts vs mock cluster, ${ROUNDS} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('produce') }));
  await createTopics(kts.port, proto, { p1: 1, p4: 4 });
  const mock = MOCK ? track(await startMock(MOCK, { p1: 1, p4: 4 })) : null;
  for (const parts of [1, 4]) {
    const topic = `p${parts}`;
    const k = { wall: [], cpu: [], rss: [] };
    const m = { wall: [], cpu: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? ['mock', 'kts'] : ['kts', 'mock'];
      for (const who of order) {
        if (who === 'mock' && !mock) continue;
        const s = who === 'kts' ? kts : mock;
        const c0 = cpuSeconds(s.pid);
        const sampler = rssSampler(s.pid);
        const res = await kcatProduce(s.bootstrap, topic, F100);
        const peak = sampler.stop();
        const cpu = cpuSeconds(s.pid) - c0;
        const fail = kcatFailed(res);
        if (fail) throw new Error(`kcat produce to ${who} failed: ${fail}`);
        const t = who === 'kts' ? k : m;
        t.wall.push(res.wallMs / 1000);
        t.cpu.push(cpu);
        if (who === 'kts') k.rss.push(peak);
        log(`  ${topic} round ${r + 1} ${who}: ${(res.wallMs / 1000).toFixed(2)} s, broker CPU ${cpu.toFixed(2)} s${who === 'kts' ? `, RSS peak ${peak.toFixed(0)} MB` : ''}`);
      }
    }
    results.produce[parts] = { kts: median(k.wall), mock: median(m.wall) };
    ktsRssFull = Math.max(ktsRssFull, ...k.rss);
    addRow({
      id: `produce-${parts}p`,
      scenario: `kcat produce 1M x 100 B, ${parts} partition${parts > 1 ? 's' : ''}, acks=1 (wall)`,
      kts: median(k.wall),
      ref: mock ? median(m.wall) : NaN,
      refName: 'C mock cluster',
      unit: 's',
      goal: '<= 1.10x',
      goalMax: 1.1,
      rounds: { kts: k.wall, ref: m.wall },
    });
    addRow({
      id: `produce-cpu-${parts}p`,
      scenario: `broker CPU per 1M records produced, ${parts} partition${parts > 1 ? 's' : ''}`,
      kts: median(k.cpu),
      ref: mock ? median(m.cpu) : NaN,
      refName: 'C mock cluster',
      ratio: mock ? median(k.cpu) / median(m.cpu) : undefined,
      unit: 's',
      goal: '<= 0.35 s',
      absMax: 0.35,
      rounds: { kts: k.cpu, ref: m.cpu },
    });
  }
  await kts.stop();
  children.delete(kts);
  if (mock) {
    await mock.stop();
    children.delete(mock);
  }
}

async function scenarioFlush() {
  if (!KCAT) return;
  log(`flush: the same 1-partition produce with log.flush.interval.messages=1 (fsync before ack), ${ROUNDS} rounds, alternating with a broker without`);
  const flush = track(await startKts(snap, { dataDir: newDir('flush'), overrides: { 'log.flush.interval.messages': '1' } }));
  const plain = track(await startKts(snap, { dataDir: newDir('noflush') }));
  await createTopics(flush.port, proto, { p1: 1 });
  await createTopics(plain.port, proto, { p1: 1 });
  const f = [];
  const p = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of r % 2 ? ['plain', 'flush'] : ['flush', 'plain']) {
      const s = who === 'flush' ? flush : plain;
      const res = await kcatProduce(s.bootstrap, 'p1', F100);
      const fail = kcatFailed(res);
      if (fail) throw new Error(`kcat produce (${who}) failed: ${fail}`);
      (who === 'flush' ? f : p).push(res.wallMs / 1000);
      log(`  round ${r + 1} ${who}: ${(res.wallMs / 1000).toFixed(2)} s`);
    }
  }
  addRow({
    id: 'produce-fsync',
    scenario: 'kcat produce 1M x 100 B, 1 partition, log.flush.interval.messages=1',
    kts: median(f),
    ref: median(p),
    refName: 'kts without fsync',
    unit: 's',
    goal: '<= 1.5x',
    goalMax: 1.5,
    rounds: { kts: f, ref: p },
  });
  for (const s of [flush, plain]) {
    await s.stop();
    children.delete(s);
  }
}

async function loopbackMBps(totalMB = 1024) {
  // A sink process reading and discarding; this process writes 1 MiB chunks.
  const sinkCode = `const s=require('net').createServer(c=>{c.on('data',()=>{});c.on('end',()=>{process.stdout.write('done\\n');c.end()})});s.listen(0,'127.0.0.1',()=>process.stdout.write(s.address().port+'\\n'));`;
  const { spawn } = await import('node:child_process');
  const sink = spawn(process.execPath, ['-e', sinkCode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  sink.stdout.on('data', (d) => (out += d));
  for (let i = 0; i < 500 && !/^\d+\n/.test(out); i++) await sleep(10);
  const port = Number(out.trim().split('\n')[0]);
  const chunk = Buffer.alloc(1 << 20, 0x61);
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const c = connect({ port, host: '127.0.0.1' }, async () => {
      for (let i = 0; i < totalMB; i++) {
        if (!c.write(chunk)) await new Promise((r) => c.once('drain', r));
      }
      c.end();
    });
    c.on('data', () => {});
    c.on('close', resolve);
    c.on('error', reject);
  });
  const ms = performance.now() - t0;
  sink.kill();
  return totalMB / (ms / 1000);
}

async function scenarioLarge() {
  if (!KCAT) return;
  log(`1 KiB records: kcat produce 100k x 1 KiB to kts (1 partition, acks=1) vs loopback TCP MB/s, ${ROUNDS} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('large') }));
  await createTopics(kts.port, proto, { k1: 1 });
  const mock = MOCK ? track(await startMock(MOCK, { k1: 1 })) : null;
  const k = [];
  const l = [];
  const m = [];
  const mb = (N1K * 1024) / (1 << 20);
  for (let r = 0; r < ROUNDS; r++) {
    const res = await kcatProduce(kts.bootstrap, 'k1', F1K);
    const fail = kcatFailed(res);
    if (fail) throw new Error(`kcat produce 1 KiB failed: ${fail}`);
    k.push(mb / (res.wallMs / 1000));
    l.push(await loopbackMBps());
    if (mock) {
      const mr = await kcatProduce(mock.bootstrap, 'k1', F1K);
      if (!kcatFailed(mr)) m.push(mb / (mr.wallMs / 1000));
    }
    log(`  round ${r + 1}: kts ${k.at(-1).toFixed(0)} MB/s, loopback ${l.at(-1).toFixed(0)} MB/s${mock ? `, mock ${m.at(-1)?.toFixed(0)} MB/s` : ''}`);
  }
  addRow({
    id: 'produce-1k',
    scenario: 'kcat produce 100k x 1 KiB, 1 partition (MB/s of values)',
    kts: median(k),
    ref: median(l),
    refName: 'loopback TCP',
    unit: 'MB/s',
    goal: '>= 40%',
    goalMin: 0.4,
    rounds: { kts: k, ref: l, mock: m },
    note: mock ? `C mock cluster with the same kcat: ${median(m).toFixed(0)} MB/s (${((100 * median(m)) / median(l)).toFixed(0)}% of loopback)` : undefined,
  });
  await kts.stop();
  children.delete(kts);
  if (mock) {
    await mock.stop();
    children.delete(mock);
  }
}

async function scenarioConsume() {
  if (!KCAT) return;
  const parts = 48;
  log(`consume: kcat -C -e of 1M x 100 B over ${parts} partitions (the mock keeps ~5 MiB per partition), ${ROUNDS} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('consume') }));
  await createTopics(kts.port, proto, { c: parts });
  const mock = MOCK ? track(await startMock(MOCK, { c: parts })) : null;
  for (const s of [kts, mock]) {
    if (!s) continue;
    const res = await kcatProduce(s.bootstrap, 'c', F100, ['-X', 'sticky.partitioning.linger.ms=0']);
    const fail = kcatFailed(res);
    if (fail) throw new Error(`loading ${s.kind} failed: ${fail}`);
  }
  const k = [];
  const m = [];
  let counts = { kts: 0, mock: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of r % 2 ? ['mock', 'kts'] : ['kts', 'mock']) {
      const s = who === 'kts' ? kts : mock;
      if (!s) continue;
      const res = await kcatConsume(s.bootstrap, 'c');
      const fail = kcatFailed(res);
      if (fail) throw new Error(`kcat consume from ${who} failed: ${fail}`);
      counts[who] = res.lines;
      (who === 'kts' ? k : m).push(res.wallMs / 1000);
      log(`  round ${r + 1} ${who}: ${(res.wallMs / 1000).toFixed(2)} s, ${res.lines} records`);
    }
  }
  addRow({
    id: 'consume',
    scenario: `kcat consume 1M x 100 B to the end (${parts} partitions)`,
    kts: median(k),
    ref: mock ? median(m) : NaN,
    refName: 'C mock cluster',
    unit: 's',
    goal: '<= 1.2x',
    goalMax: 1.2,
    rounds: { kts: k, ref: m },
    note: counts.kts !== N || (mock && counts.mock !== N) ? `records read: kts ${counts.kts}, mock ${counts.mock}` : undefined,
  });
  await kts.stop();
  children.delete(kts);
  if (mock) {
    await mock.stop();
    children.delete(mock);
  }
}

async function scenarioKafkajs() {
  const count = 100_000;
  log(`kafkajs: produce then consume ${count / 1000}k x 100 B (4 partitions), kts vs mock, ${ROUNDS} rounds`);
  const topics = {};
  for (let r = 0; r < ROUNDS; r++) topics[`kj${r}`] = 4;
  const kts = track(await startKts(snap, { dataDir: newDir('kafkajs') }));
  await createTopics(kts.port, proto, topics);
  const mock = MOCK ? track(await startMock(MOCK, topics)) : null;
  const res = { kts: { p: [], c: [] }, mock: { p: [], c: [] } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of r % 2 ? ['mock', 'kts'] : ['kts', 'mock']) {
      const s = who === 'kts' ? kts : mock;
      if (!s) continue;
      const out = await run(process.execPath, [join(BENCH, 'lib', 'kafkajs-client.mjs'), s.bootstrap, `kj${r}`, String(count)], { keepStdout: true, timeoutMs: 200_000 });
      let j;
      try {
        j = JSON.parse(out.stdout.trim().split('\n').pop());
      } catch {
        log(`  kafkajs against ${who} failed: ${out.stderr.slice(0, 300)}`);
        continue;
      }
      if (j.consumed < count) log(`  kafkajs against ${who}: consumed only ${j.consumed}`);
      res[who].p.push(count / (j.produceMs / 1000));
      if (j.consumed >= count) res[who].c.push(count / (j.consumeMs / 1000));
      log(`  round ${r + 1} ${who}: produce ${(j.produceMs / 1000).toFixed(2)} s, consume ${(j.consumeMs / 1000).toFixed(2)} s (+ ${(j.joinMs / 1000).toFixed(2)} s group join)`);
    }
  }
  addRow({
    id: 'kafkajs-produce',
    scenario: 'kafkajs produce 100k x 100 B, acks=1 (records/s)',
    kts: median(res.kts.p),
    ref: median(res.mock.p),
    refName: 'C mock cluster',
    unit: 'rec/s',
    rounds: res,
  });
  addRow({
    id: 'kafkajs-consume',
    scenario: 'kafkajs consume 100k x 100 B, group joined to last record (records/s)',
    kts: median(res.kts.c),
    ref: median(res.mock.c),
    refName: 'C mock cluster',
    unit: 'rec/s',
  });
  for (const s of [kts, mock]) {
    if (!s) continue;
    await s.stop();
    children.delete(s);
  }
}

async function scenarioCodecs() {
  if (!KCAT) return;
  const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
  log(`codecs: kcat produce 1M x 100 B with each codec to kts (1 partition), ${ROUNDS} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('codecs') }));
  await createTopics(kts.port, proto, Object.fromEntries(codecs.map((c) => [`z-${c}`, 1])));
  const mbs = Object.fromEntries(codecs.map((c) => [c, []]));
  const cpu = Object.fromEntries(codecs.map((c) => [c, []]));
  const failed = {};
  const mb = (N * 99) / (1 << 20);
  for (let r = 0; r < ROUNDS; r++) {
    // rotate the order so that no codec always runs first after a pause
    for (const c of codecs.map((_, i) => codecs[(i + r) % codecs.length])) {
      if (failed[c]) continue;
      const c0 = cpuSeconds(kts.pid);
      const res = await kcatProduce(kts.bootstrap, `z-${c}`, F100, ['-z', c, '-X', 'message.timeout.ms=20000']);
      cpu[c].push(cpuSeconds(kts.pid) - c0);
      const fail = kcatFailed(res);
      if (fail) {
        failed[c] = fail.slice(0, 160);
        log(`  ${c}: failed (${failed[c]})`);
        continue;
      }
      mbs[c].push(mb / (res.wallMs / 1000));
    }
    log(`  round ${r + 1}: ${codecs.map((c) => `${c} ${mbs[c].at(-1)?.toFixed(0) ?? '-'}`).join(', ')} MB/s`);
  }
  const none = median(mbs.none);
  for (const c of codecs.slice(1)) {
    addRow({
      id: `codec-${c}`,
      scenario: `kcat produce 1M x 100 B, ${c} (MB/s uncompressed)`,
      kts: failed[c] ? 'fails' : median(mbs[c]),
      ref: none,
      refName: 'none codec',
      ratio: failed[c] ? NaN : median(mbs[c]) / none,
      unit: 'MB/s',
      note: failed[c] ? `kcat: ${failed[c]}` : `broker CPU ${median(cpu[c]).toFixed(2)} s vs ${median(cpu.none).toFixed(2)} s uncompressed`,
    });
  }
  await kts.stop();
  children.delete(kts);
}

async function scenarioCli() {
  log(`CLI: \`kts topics --list\` cold vs \`node -e 0\`, ${ROUNDS} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('cli') }));
  await createTopics(kts.port, proto, { a: 1, b: 2 });
  const k = [];
  const n = [];
  for (let r = 0; r < ROUNDS; r++) {
    const res = await run(process.execPath, [snap.bin, 'topics', '--list', '--bootstrap-server', kts.bootstrap], { keepStdout: true, timeoutMs: 30_000 });
    if (res.code !== 0 || !/\ba\b/.test(res.stdout)) throw new Error(`kts topics --list failed: ${res.stderr.slice(0, 300)}`);
    k.push(res.wallMs);
    n.push(await nodeBaseline());
    log(`  round ${r + 1}: kts topics --list ${res.wallMs.toFixed(0)} ms, node -e 0 ${n.at(-1).toFixed(0)} ms`);
  }
  addRow({ id: 'cli-list', scenario: '`kts topics --list` cold (wall)', kts: median(k), ref: median(n), refName: 'node -e 0', unit: 'ms', goal: '<= 1.5x', goalMax: 1.5, rounds: { kts: k, ref: n } });
  // RSS of an idle broker (a few topics, a second after its last request).
  await sleep(1000);
  const idle = rssMB(kts.pid);
  addRow({ id: 'rss-idle', scenario: 'broker RSS idle', kts: idle, ref: 1024, refName: "Kafka's default heap", unit: 'MB', goal: '<= 60 MB', absMax: 60 });
  await kts.stop();
  children.delete(kts);
}

async function scenarioStart() {
  log(`start to first ApiVersions answer: empty data dir, ${ROUNDS} rounds, vs node -e 0`);
  const empty = [];
  const n = [];
  for (let r = 0; r < ROUNDS; r++) {
    const s = track(await startKts(snap, { dataDir: newDir('start-empty') }));
    empty.push(s.startMs);
    await s.stop();
    children.delete(s);
    n.push(await nodeBaseline());
    log(`  round ${r + 1}: ${s.startMs.toFixed(0)} ms (node -e 0 ${n.at(-1).toFixed(0)} ms)`);
  }
  const node = median(nodeE0);
  addRow({ id: 'start-empty', scenario: 'broker start to first answer, empty', kts: median(empty), ref: node, refName: 'node -e 0', unit: 'ms', goal: '<= 1.5x', goalMax: 1.5, rounds: { kts: empty, ref: n } });

  if (!KCAT) return;
  const bigMB = BIG_MB;
  log(`start with ${bigMB} MB of data: loading it with kcat (64 KiB records), then kill -9 / clean restarts`);
  const dir = newDir('start-big');
  let s = track(await startKts(snap, { dataDir: dir }));
  await createTopics(s.port, proto, { big: 1 });
  const line = Buffer.alloc(64 * 1024, 0x62);
  line[line.length - 1] = 10;
  const tLoad = performance.now();
  const res = await run(KCAT, ['-P', '-b', s.bootstrap, '-t', 'big', '-X', 'acks=1', '-X', 'message.max.bytes=1000000'], {
    timeoutMs: 300_000,
    feed: async (stdin) => {
      for (let i = 0; i < bigMB * 16; i++) {
        if (!stdin.write(line)) await new Promise((r) => stdin.once('drain', r));
      }
      stdin.end();
    },
  });
  const fail = kcatFailed(res);
  if (fail) throw new Error(`loading ${bigMB} MB failed: ${fail}`);
  log(`  loaded ${bigMB} MB in ${((performance.now() - tLoad) / 1000).toFixed(1)} s; kill -9`);
  await s.kill9();
  children.delete(s);
  // What the data dir looks like right after the crash: its root files (checkpoints, no clean-shutdown
  // marker) are restored before each kill -9 round so every round recovers the whole log.
  const rootFiles = () => readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  const crashed = Object.fromEntries(rootFiles().map((f) => [f, readFileSync(join(dir, f))]));
  const restore = () => {
    for (const f of rootFiles()) if (!(f in crashed)) rmSync(join(dir, f), { force: true });
    for (const [f, b] of Object.entries(crashed)) writeFileSync(join(dir, f), b);
  };
  const killed = [];
  for (let r = 0; r < ROUNDS; r++) {
    restore();
    s = track(await startKts(snap, { dataDir: dir }));
    killed.push(s.startMs);
    if (!/unclean/.test(s.output())) notes.push(`kill -9 round ${r + 1}: the broker did not report an unclean shutdown; the figure may not include recovery.`);
    log(`  after kill -9, round ${r + 1}: ${s.startMs.toFixed(0)} ms`);
    await s.kill9();
    children.delete(s);
    n.push(await nodeBaseline());
  }
  // One start + clean stop, then the clean rounds.
  restore();
  s = track(await startKts(snap, { dataDir: dir }));
  await s.stop();
  children.delete(s);
  const clean = [];
  for (let r = 0; r < ROUNDS; r++) {
    s = track(await startKts(snap, { dataDir: dir }));
    clean.push(s.startMs);
    log(`  after clean stop, round ${r + 1}: ${s.startMs.toFixed(0)} ms`);
    await s.stop();
    children.delete(s);
    n.push(await nodeBaseline());
  }
  const sizeNote = bigMB < 1024 ? `${bigMB} MB instead of 1 GB (time budget)` : undefined;
  const node2 = median(nodeE0);
  const label = bigMB >= 1024 ? `${bigMB / 1024} GB` : `${bigMB} MB`;
  addRow({ id: 'start-clean', scenario: `broker start to first answer, ${label} after clean stop`, kts: median(clean), ref: node2, refName: 'node -e 0', unit: 'ms', goal: '<= 2.5x', goalMax: 2.5, rounds: { kts: clean }, note: sizeNote });
  addRow({ id: 'start-kill9', scenario: `broker start to first answer, ${label} after kill -9`, kts: median(killed), ref: node2, refName: 'node -e 0', unit: 'ms', goal: '<= 6x', goalMax: 6, rounds: { kts: killed }, note: sizeNote });
  rmSync(dir, { recursive: true, force: true });
}

async function scenarioRandomFetch() {
  const big = Number(process.env.BENCH_FETCH_RECORDS ?? 10_000_000);
  const small = 10_000;
  const perBatch = 1000;
  log(`random-offset fetch: building ${big / 1e6} M and ${small / 1000} k record partitions with raw Produce (batches of ${perBatch})`);
  const kts = track(await startKts(snap, { dataDir: newDir('fetch') }));
  await createTopics(kts.port, proto, { r10m: 1, r10k: 1 });
  const c = await RawClient.connect(kts.port, proto);
  const records = Array.from({ length: perBatch }, (_, i) => ({ key: null, value: Buffer.from(String(i).padStart(8, '0')) }));
  const batch = proto.buildRecordBatch(records);
  const produce = (topic) =>
    c.request(0, 7, { transactionalId: null, acks: 1, timeoutMs: 30000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] }).then((res) => {
      const e = res.responses[0].partitionResponses[0].errorCode;
      if (e !== 0) throw new Error(`produce error ${e}`);
    });
  const fill = async (topic, total) => {
    const inflight = new Set();
    for (let sent = 0; sent < total; sent += perBatch) {
      const p = produce(topic).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 16) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  };
  const t0 = performance.now();
  await fill('r10m', big);
  const fillS = (performance.now() - t0) / 1000;
  log(`  ${big / 1e6} M records (${((batch.length * big) / perBatch / 1e6).toFixed(0)} MB) written in ${fillS.toFixed(1)} s (${(big / fillS / 1e6).toFixed(2)} M records/s with raw ${perBatch}-record batches)`);
  await fill('r10k', small);
  const fetchOnce = async (topic, offset) => {
    const t = performance.now();
    const res = await c.request(1, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 32 * 1024 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const ms = performance.now() - t;
    const p = res.responses[0].partitions[0];
    if (p.errorCode !== 0 || !p.records?.length) throw new Error(`fetch ${topic}@${offset}: error ${p.errorCode}, ${p.records?.length ?? 0} bytes`);
    return ms;
  };
  let seed = 42;
  const rnd = (n) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (let i = 0; i < 50; i++) {
    await fetchOnce('r10m', rnd(big));
    await fetchOnce('r10k', rnd(small));
  }
  const tb = [];
  const ts = [];
  for (let block = 0; block < 10; block++) {
    for (let i = 0; i < 100; i++) tb.push(await fetchOnce('r10m', rnd(big)));
    for (let i = 0; i < 100; i++) ts.push(await fetchOnce('r10k', rnd(small)));
  }
  c.close();
  const p50b = percentile(tb, 50);
  const p50s = percentile(ts, 50);
  log(`  fetch p50 ${p50b.toFixed(3)} ms (10 M) vs ${p50s.toFixed(3)} ms (10 k); p99 ${percentile(tb, 99).toFixed(3)} vs ${percentile(ts, 99).toFixed(3)} ms`);
  addRow({
    id: 'fetch-random',
    scenario: `Fetch at a random offset, p50: ${big / 1e6} M vs 10 k records in the partition`,
    kts: p50b,
    ref: p50s,
    refName: '10 k records',
    unit: 'ms',
    goal: '<= 1.2x',
    goalMax: 1.2,
    note: `p99 ${percentile(tb, 99).toFixed(2)} vs ${percentile(ts, 99).toFixed(2)} ms; 1,000 fetches each; 10 M built in ${fillS.toFixed(1)} s`,
  });
  await kts.stop();
  children.delete(kts);
}

async function scenarioLatency() {
  const rate = 10_000;
  const seconds = 5;
  log(`end-to-end latency at ${rate} msg/s for ${seconds} s, acks=1, 1 ms producer ticks, long-poll consumer`);
  const kts = track(await startKts(snap, { dataDir: newDir('latency') }));
  await createTopics(kts.port, proto, { lat: 1 });
  const out = await run(process.execPath, [join(BENCH, 'lib', 'latency.mjs'), String(kts.port), PROTO_PATH, 'lat', String(rate), String(seconds)], { keepStdout: true, timeoutMs: 60_000 });
  await kts.stop();
  children.delete(kts);
  let j;
  try {
    j = JSON.parse(out.stdout.trim().split('\n').pop());
  } catch {
    throw new Error(`latency probe failed: ${out.stderr.slice(0, 500)}`);
  }
  log(`  sent ${j.sent}, received ${j.received}, p50 ${j.p50.toFixed(2)} ms, p99 ${j.p99.toFixed(2)} ms, p99.9 ${j.p999.toFixed(2)} ms, max ${j.max.toFixed(1)} ms`);
  const note = j.received < j.sent || j.produceErrors ? `received ${j.received}/${j.sent}, produce errors ${j.produceErrors}` : `${j.measured} records measured; p99.9 ${j.p999.toFixed(2)} ms`;
  addRow({ id: 'latency-p50', scenario: `end-to-end latency p50 at ${rate / 1000}k msg/s, acks=1`, kts: j.p50, ref: 2, refName: "Kafka's published", unit: 'ms', goal: '<= 2 ms', absMax: 2, note });
  addRow({ id: 'latency-p99', scenario: `end-to-end latency p99 at ${rate / 1000}k msg/s, acks=1`, kts: j.p99, ref: 3, refName: "Kafka's published", unit: 'ms', goal: '<= 5 ms', absMax: 5 });
}

async function externalScript(name, id) {
  const path = join(BENCH, name);
  if (!existsSync(path)) {
    notes.push(`bench/${name} does not exist yet: its scenario was not run.`);
    log(`${name}: not present, skipped`);
    return;
  }
  log(`${name}: running (its own harness)`);
  const res = await run(process.execPath, [path], {
    keepStdout: true,
    timeoutMs: 240_000,
    env: { ...process.env, KTS_BIN: snap.bin, KTS_BENCH_SNAPSHOT: snap.bin, BENCH_ROUNDS: String(ROUNDS) },
  });
  const text = `${res.stdout}${res.stderr ? `\n[stderr]\n${res.stderr.slice(-3000)}` : ''}${res.timedOut ? '\n[timed out]' : ''}`;
  for (const l of res.stdout.trimEnd().split('\n').slice(-40)) console.log(`    | ${l}`);
  external[`bench/${name}`] = text.slice(-12_000);
  // If it prints JSON rows (an array, or { rows: [...] }) on its last line, fold them into the table.
  try {
    const last = JSON.parse(res.stdout.trim().split('\n').pop());
    const list = Array.isArray(last) ? last : last.rows;
    if (Array.isArray(list)) for (const r of list) if (r && r.scenario) addRow({ id: `${id}-${rows.length}`, ...r });
  } catch {
    addRow({ id, scenario: `${name} (see its output below)`, kts: res.code === 0 ? 'ran' : `exit ${res.code}`, unit: '' });
  }
}

// ---------------------------------------------------------------------------------------------
const scenarios = [
  ['produce', scenarioProduce],
  ['flush', scenarioFlush],
  ['large', scenarioLarge],
  ['consume', scenarioConsume],
  ['kafkajs', scenarioKafkajs],
  ['codecs', scenarioCodecs],
  ['cli', scenarioCli],
  ['start', scenarioStart],
  ['fetch', scenarioRandomFetch],
  ['latency', scenarioLatency],
  ['cli-startup', () => externalScript('cli-startup.mjs', 'cli-startup')],
  ['zookeeper', () => externalScript('zookeeper.mjs', 'zookeeper')],
];

let failures = 0;
for (const [id, fn] of scenarios) {
  if (!want(id)) continue;
  try {
    await fn();
  } catch (err) {
    failures++;
    log(`scenario ${id} FAILED: ${err.stack ?? err}`);
    notes.push(`scenario ${id} failed: ${String(err.message ?? err).split('\n')[0]}`);
    addRow({ id, scenario: `${id} (failed)`, kts: 'failed', unit: '', goal: 'runs', note: String(err.message ?? err).split('\n')[0].slice(0, 120) });
    await stopAll();
  }
  if (id === 'produce' && ktsRssFull > 0) {
    addRow({ id: 'rss-full', scenario: 'broker RSS peak at full produce (kcat, 1M x 100 B)', kts: ktsRssFull, ref: 1024, refName: "Kafka's default heap", unit: 'MB', goal: '<= 150 MB', absMax: 150 });
  }
}

machine.loadEnd = load1();
const durationS = (performance.now() - tStart) / 1000;
console.log('');
console.log(`kts bench: ${rows.length} rows in ${durationS.toFixed(0)} s; load average ${machine.loadStart} at start, ${machine.loadEnd} at end`);
console.log('');
printTable(rows);
notes.push(`Median of ${ROUNDS} rounds per figure, kts and the reference alternating within each round.`);
notes.push('C mock cluster = librdkafka\'s in-memory mock broker (rdkafka_mock.h) built from bench/mock-cluster.c; it keeps only ~5 MiB per partition and its Fetch does not wait for data, so it is a throughput reference only.');
if (!ONLY && process.env.BENCH_NO_WRITE !== '1') {
  writeOutputs(BENCH, { rows, machine, extra: { notes, external }, started, durationS, command: 'npm run bench' });
  console.log('\nwrote bench/results.json, bench/RESULTS.md, bench/chart.svg');
} else {
  writeFileSync(join(WORK, '..', `kts-bench-partial-${process.pid}.json`), JSON.stringify({ rows, machine, notes }, null, 2));
  console.log(`\n(partial run: result files in bench/ not rewritten; JSON in ${join(WORK, '..', `kts-bench-partial-${process.pid}.json`)})`);
}
await cleanup();
process.exit(failures ? 1 : 0);
