// Start-up cost of the kts CLI: median wall time of 20 interleaved rounds of
//   node -e 0                                (the floor)
//   node bin/kts.js --version                (entry + command index only)
//   node bin/kts.js topics --help            (one command module, no client)
//   node bin/kts.js topics --list            (against a broker: parse, client, Metadata, print)
//   node -e "import('yargs')"                (what yargs alone would add)
// Usage: npm run build && node bench/cli-startup.mjs [--runs 20] [--bootstrap host:port]
// Without --bootstrap (or $KTS_BENCH_BOOTSTRAP) a kts broker is started on a free port.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
// KTS_BIN: run.mjs passes its private snapshot (dist/ may be rebuilt by others meanwhile).
const bin = process.env.KTS_BIN ?? join(root, 'bin/kts.js');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const runs = Number(opt('runs', process.env.CLI_STARTUP_RUNS ?? '20'));

/** One timed run of `cmd args` (ms of wall time); fails on an unexpected exit code. */
function timeOnce(cmd, args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: root, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 && !args.includes('--help')) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/**
 * Medians of `runs` rounds in which every command runs once, in turn: a machine whose load drifts
 * during the measurement then shifts every command alike instead of the ones measured last.
 */
function interleavedMedians(commands) {
  const times = commands.map(() => []);
  for (let i = 0; i < runs; i++) commands.forEach(([, cmd, args], c) => times[c].push(timeOnce(cmd, args)));
  return commands.map(([name], c) => {
    const sorted = times[c].sort((a, b) => a - b);
    return [name, sorted[Math.floor(sorted.length / 2)]];
  });
}

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function startBroker() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'kts-bench-'));
  const child = spawn(process.execPath, [bin, 'server-start', '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `log.dirs=${dir}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`broker did not start:\n${out}`)), 20000);
    child.stdout.on('data', (d) => {
      out += d;
      if (/ready: bootstrap server/.test(out)) {
        clearTimeout(t);
        res();
      }
    });
    child.once('exit', (c) => rej(new Error(`broker exited ${c}:\n${out}`)));
  });
  const exited = new Promise((res) => (child.exitCode !== null ? res() : child.once('exit', res)));
  return {
    bootstrap: `127.0.0.1:${port}`,
    // The broker writes its checkpoints while it stops: remove its dir only once it is gone.
    stop: async () => {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let bootstrap = opt('bootstrap', process.env.KTS_BENCH_BOOTSTRAP);
let broker = null;
if (!bootstrap) {
  try {
    broker = await startBroker();
    bootstrap = broker.bootstrap;
  } catch (err) {
    console.error(`no broker (${err.message.split('\n')[0]}); skipping topics --list`);
  }
}

const commands = [
  ['node -e 0', process.execPath, ['-e', '0']],
  ['kts --version', process.execPath, [bin, '--version']],
  ['kts topics --help', process.execPath, [bin, 'topics', '--help']],
];
if (bootstrap) {
  spawnSync(process.execPath, [bin, 'topics', '--create', '--if-not-exists', '--topic', 'bench', '--bootstrap-server', bootstrap]);
  commands.push(['kts topics --list', process.execPath, [bin, 'topics', '--list', '--bootstrap-server', bootstrap]]);
}
commands.push(['node -e "import(\'yargs\')"', process.execPath, ['--input-type=module', '-e', "await import('yargs')"]]);
const load0 = loadavg();
const rows = interleavedMedians(commands);
const load1 = loadavg();
const floor = rows[0][1];
await broker?.stop();

console.log(`median of ${runs} interleaved rounds (ms), node ${process.version}, load ${load0.map((l) => l.toFixed(1)).join(' ')} -> ${load1.map((l) => l.toFixed(1)).join(' ')}`);
for (const [name, ms] of rows) console.log(`${name.padEnd(32)} ${ms.toFixed(1).padStart(7)}   ${(ms / floor).toFixed(2)}x`);
