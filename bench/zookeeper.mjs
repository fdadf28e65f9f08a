// node bench/zookeeper.mjs — the kts coordinator against Apache ZooKeeper 3.8 (Debian's, started
// here with java), both driven by kts's own ZooKeeper client: start-to-ruok, start to a first
// session, idle RSS, creates one at a time and with 64 in flight, getData one at a time and with
// 64 in flight. Both servers fsync their transaction log before replying (ZooKeeper's default
// forceSync=yes; kts's too). Never part of `npm test`.
//
// kts is the real CLI (dist/main.js -> `zookeeper-server-start`), built here by scripts/build.mjs
// into a private temporary directory, so no `npm run build` is needed and a concurrent build of
// dist/ cannot disturb a run. The client is bundled with esbuild.
//
// Bounded: every step has a timeout, each phase stops issuing operations after PHASE_MS, a round
// that fails is recorded (NaN) and the next one runs, and the whole run gives up at DEADLINE_MS.
// Every child process is killed and every temporary directory removed on any exit path
// (including SIGINT/SIGTERM and an uncaught error).
//
// Environment: ZK_BENCH_ROUNDS (3), ZK_BENCH_SERIAL (2000 ops), ZK_BENCH_PARALLEL (20000 ops),
// ZK_BENCH_PHASE_MS (8000: cap per phase), ZK_BENCH_DEADLINE_MS (170000: whole run),
// ZK_BENCH_ONLY (kts | zookeeper), ZK_BENCH_JSON=path (also write the results as JSON:
// { rounds, result: { key: { kts, zookeeper } }, runs, errors }).
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { cpuSeconds, median, rssMB, sleep } from './lib/proc.mjs';
import { freePort } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = Number(process.env.ZK_BENCH_ROUNDS ?? 3);
const SERIAL = Number(process.env.ZK_BENCH_SERIAL ?? 2000);
const PARALLEL = Number(process.env.ZK_BENCH_PARALLEL ?? 20000);
const PHASE_MS = Number(process.env.ZK_BENCH_PHASE_MS ?? 8000);
const DEADLINE_MS = Number(process.env.ZK_BENCH_DEADLINE_MS ?? 170_000);
const IN_FLIGHT = 64;
const OP_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 30_000;
const ZK_JAR = '/usr/share/java/zookeeper.jar';
const ZK_CLASSPATH = `/etc/zookeeper/conf:${ZK_JAR}`;
const startedAt = Date.now();

// ---- cleanup: children and directories, whatever way the run ends ----
const children = new Set();
const dirs = new Set();
function cleanupSync() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`zookeeper bench: ${sig}, cleaning up`);
    cleanupSync();
    process.exit(130);
  });
}
process.on('uncaughtException', (err) => {
  console.error(`zookeeper bench: ${err?.stack ?? err}`);
  cleanupSync();
  process.exit(1);
});
process.on('unhandledRejection', (err) => {
  console.error(`zookeeper bench: unhandled rejection ${err?.stack ?? err}`);
  cleanupSync();
  process.exit(1);
});
// The last line of defence: whatever hangs, the run ends (a partial result is still written).
const hardStop = setTimeout(() => {
  console.error(`zookeeper bench: hard deadline (${DEADLINE_MS + 8000} ms) reached, giving up`);
  report(true);
  cleanupSync();
  process.exit(2);
}, DEADLINE_MS + 8000);
hardStop.unref();

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function bundle() {
  // kts is built by the project's own scripts/build.mjs (today's settings) into a private temp
  // dir laid out like an install: a copy of the script next to links to src/, commands/,
  // node_modules/ and the config files, so a concurrent rebuild of dist/ cannot disturb a run.
  // (A deep build path, such as node_modules/.cache/..., alone makes Node's URL resolution hot
  // enough to be optimized at start-up: ~4 MB of RSS that no real install pays.)
  const out = mkdtempSync(join(tmpdir(), 'kts-zk-bench-'));
  dirs.add(out);
  mkdirSync(join(out, 'scripts'));
  for (const f of ['src', 'commands', 'node_modules', 'package.json', 'tsconfig.json']) {
    if (existsSync(join(ROOT, f))) symlinkSync(join(ROOT, f), join(out, f)); // rmSync does not follow links
  }
  copyFileSync(join(ROOT, 'scripts/build.mjs'), join(out, 'scripts/build.mjs'));
  try {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: out, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    if (!existsSync(join(out, 'dist/main.js'))) throw new Error('no dist/main.js');
  } catch (err) {
    // src/ may be mid-edit by someone: measure the last `npm run build` instead (as bench/run.mjs).
    const why = String(err.stderr || err.message).trim().split('\n')[0];
    if (!existsSync(join(ROOT, 'dist/main.js'))) throw new Error(`building kts failed (${why}) and there is no dist/`);
    console.error(`zookeeper bench: building kts failed (${why}); using a copy of dist/`);
    errors.push(`kts built from src/ failed (${why}): measured a copy of dist/`);
    rmSync(join(out, 'dist'), { recursive: true, force: true });
    cpSync(join(ROOT, 'dist'), join(out, 'dist'), { recursive: true });
  }
  await build({
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
    entryPoints: [join(ROOT, 'src/cluster/zookeeper-client.ts')],
    outfile: join(out, 'client.mjs'),
  });
  return { server: join(out, 'dist/main.js'), client: await import(pathToFileURL(join(out, 'client.mjs')).href) };
}

/** A four-letter word's answer ('' when refused, reset or not answered within timeoutMs). */
function fourLetter(port, word, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    s.on('connect', () => s.write(word));
    s.on('data', (d) => (out += d));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', () => {});
  });
}

async function startServer(kind, serverScript) {
  const dir = mkdtempSync(join(tmpdir(), `zk-bench-${kind}-`));
  dirs.add(dir);
  const port = await freePort();
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(cfg, `tickTime=2000\ndataDir=${dir}/data\nclientPort=${port}\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n`);
  let stderr = '';
  const t0 = performance.now();
  const child =
    kind === 'kts'
      ? spawn(process.execPath, [serverScript, 'zookeeper-server-start', cfg], { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn('java', ['-cp', ZK_CLASSPATH, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  child.stderr.on('data', (d) => {
    if (stderr.length < 4000) stderr += d;
  });
  const exited = new Promise((r) => child.once('exit', (code, sig) => r(code ?? sig)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await withTimeout(exited, 5000, `${kind} exit`).catch(() => {});
    }
    children.delete(child);
    rmSync(dir, { recursive: true, force: true });
    dirs.delete(dir);
  };
  let ruokMs = NaN;
  for (const deadline = Date.now() + START_TIMEOUT_MS; Date.now() < deadline && child.exitCode === null; await sleep(2)) {
    if ((await fourLetter(port, 'ruok')) === 'imok') {
      ruokMs = performance.now() - t0;
      break;
    }
  }
  if (!Number.isFinite(ruokMs)) {
    await stop();
    throw new Error(`${kind} did not answer ruok within ${START_TIMEOUT_MS} ms (exit ${child.exitCode ?? child.signalCode}): ${stderr.slice(-500)}`);
  }
  return { kind, port, pid: child.pid, t0, ruokMs, stop };
}

/**
 * Runs up to `total` calls of fn with `inFlight` outstanding, issuing no new call after capMs;
 * returns [ops/s, ops done]. A call that does not settle within OP_TIMEOUT_MS fails the phase.
 */
async function rate(total, inFlight, capMs, fn) {
  let next = 0;
  let done = 0;
  const t = performance.now();
  const until = t + capMs;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < total && performance.now() < until; i = next++) {
        await withTimeout(fn(i), OP_TIMEOUT_MS, 'operation');
        done++;
      }
    }),
  );
  return [(done / (performance.now() - t)) * 1000, done];
}

async function measure(kind, { server: serverScript, client }) {
  const srv = await startServer(kind, serverScript);
  let zk;
  try {
    const { ZooKeeperClient } = client;
    // ZooKeeper answers ruok before it serves sessions: also time the first session.
    for (const deadline = Date.now() + START_TIMEOUT_MS; !zk && Date.now() < deadline; ) {
      zk = await ZooKeeperClient.connect(`127.0.0.1:${srv.port}`, { connectTimeoutMs: 2000 }).catch(() => sleep(2));
    }
    if (!zk) throw new Error(`${kind}: no session within ${START_TIMEOUT_MS} ms`);
    const sessionMs = performance.now() - srv.t0;
    await sleep(1000);
    const idleRss = rssMB(srv.pid);
    const data = Buffer.alloc(100, 'x');
    for (const p of ['/bench', '/bench/s', '/bench/p']) await withTimeout(zk.create(p), OP_TIMEOUT_MS, `create ${p}`);
    // Server CPU per op is the load-independent figure: on a busy machine rates mostly measure
    // the scheduler, CPU seconds do not.
    const phase = async (total, inFlight, fn) => {
      const cpu0 = cpuSeconds(srv.pid);
      const [perSec, done] = await rate(total, inFlight, PHASE_MS, fn);
      return [perSec, ((cpuSeconds(srv.pid) - cpu0) / done) * 1e6, done];
    };
    const [createSerial, createSerialCpu, nS] = await phase(SERIAL, 1, (i) => zk.create(`/bench/s/${i}`, data));
    const [createParallel, createParallelCpu, nP] = await phase(PARALLEL, IN_FLIGHT, (i) => zk.create(`/bench/p/${i}`, data));
    // Reads go over the znodes the create phases made (as many as they managed in their time).
    const [getSerial, getSerialCpu] = await phase(SERIAL, 1, (i) => zk.getData(`/bench/s/${i % nS}`));
    const [getParallel, getParallelCpu] = await phase(PARALLEL, IN_FLIGHT, (i) => zk.getData(`/bench/p/${i % nP}`));
    const loadedRss = rssMB(srv.pid);
    return {
      ruokMs: srv.ruokMs,
      sessionMs,
      idleRss,
      loadedRss,
      createSerial,
      createParallel,
      getSerial,
      getParallel,
      createSerialCpu,
      createParallelCpu,
      getSerialCpu,
      getParallelCpu,
    };
  } finally {
    if (zk) await withTimeout(zk.close(), 3000, 'close').catch(() => {});
    await srv.stop();
  }
}

const rows = [
  ['start -> ruok (ms)', 'ruokMs', 0],
  ['start -> first session (ms)', 'sessionMs', 0],
  ['idle RSS (MB)', 'idleRss', 1],
  ['RSS after the run (MB)', 'loadedRss', 1],
  ['create/s, 1 at a time', 'createSerial', 0],
  [`create/s, ${IN_FLIGHT} in flight`, 'createParallel', 0],
  ['getData/s, 1 at a time', 'getSerial', 0],
  [`getData/s, ${IN_FLIGHT} in flight`, 'getParallel', 0],
  ['server CPU us/create, 1 at a time', 'createSerialCpu', 0],
  [`server CPU us/create, ${IN_FLIGHT} in flight`, 'createParallelCpu', 0],
  ['server CPU us/getData, 1 at a time', 'getSerialCpu', 0],
  [`server CPU us/getData, ${IN_FLIGHT} in flight`, 'getParallelCpu', 0],
];
const runs = { kts: [], zookeeper: [] };
const errors = [];
let reported = false;

function report(partial = false) {
  if (reported) return;
  reported = true;
  const med = (kind, key) => median(runs[kind].map((r) => r[key]));
  const n = Math.max(runs.kts.length, runs.zookeeper.length);
  console.log(
    `\nkts coordinator vs Apache ZooKeeper 3.8 (median of ${n}${partial ? ', PARTIAL' : ''}; ${cpus().length} CPUs, load ${loadavg()[0].toFixed(2)}; 100-byte znodes; fsync on)`,
  );
  console.log(`${'metric'.padEnd(38)}${'kts'.padStart(12)}${'ZooKeeper'.padStart(12)}`);
  const result = {};
  for (const [label, key, digits] of rows) {
    const a = med('kts', key);
    const b = med('zookeeper', key);
    result[key] = { kts: a, zookeeper: b };
    const f = (x) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
    console.log(`${label.padEnd(38)}${f(a).padStart(12)}${f(b).padStart(12)}`);
  }
  for (const e of errors) console.log(`error: ${e}`);
  if (process.env.ZK_BENCH_JSON) {
    writeFileSync(
      process.env.ZK_BENCH_JSON,
      JSON.stringify({ rounds: n, serial: SERIAL, parallel: PARALLEL, partial, result, runs, errors }, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1),
    );
  }
}

const haveZk = existsSync(ZK_JAR);
if (!haveZk) errors.push(`${ZK_JAR} not found: ZooKeeper not measured`);
const kinds = (haveZk ? ['kts', 'zookeeper'] : ['kts']).filter((k) => !process.env.ZK_BENCH_ONLY || process.env.ZK_BENCH_ONLY === k);
const tools = await bundle();
let partial = false;
for (let round = 0; round < ROUNDS && !partial; round++) {
  // Alternate who goes first, so neither always runs on a machine the other just warmed.
  for (const kind of round % 2 ? [...kinds].reverse() : kinds) {
    // A round of ZooKeeper takes ~15 s: do not start one that cannot finish before the deadline.
    if (Date.now() - startedAt > DEADLINE_MS - 25_000) {
      errors.push(`deadline: stopped after ${round} complete round(s)`);
      partial = true;
      break;
    }
    try {
      const r = await measure(kind, tools);
      runs[kind].push(r);
      console.error(`round ${round + 1}/${ROUNDS} ${kind}: ${JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)])))}`);
    } catch (e) {
      errors.push(`round ${round + 1} ${kind}: ${e.message}`);
      console.error(`round ${round + 1}/${ROUNDS} ${kind}: FAILED ${e.message}`);
    }
  }
}
report(partial);
cleanupSync();
process.exit(0);
