// Start-up cost of the kts CLI: median wall time of 20 runs each of
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
import { tmpdir } from 'node:os';
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

function median(cmd, args, env = {}) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (r.status !== 0 && !(args.includes('--help'))) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
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

const rows = [];
const floor = median(process.execPath, ['-e', '0']);
rows.push(['node -e 0', floor]);
rows.push(['kts --version', median(process.execPath, [bin, '--version'])]);
rows.push(['kts topics --help', median(process.execPath, [bin, 'topics', '--help'])]);
if (bootstrap) {
  spawnSync(process.execPath, [bin, 'topics', '--create', '--if-not-exists', '--topic', 'bench', '--bootstrap-server', bootstrap]);
  rows.push([`kts topics --list`, median(process.execPath, [bin, 'topics', '--list', '--bootstrap-server', bootstrap])]);
}
rows.push(['node -e "import(\'yargs\')"', median(process.execPath, ['--input-type=module', '-e', "await import('yargs')"])]);
await broker?.stop();

console.log(`median of ${runs} runs (ms), node ${process.version}`);
for (const [name, ms] of rows) console.log(`${name.padEnd(32)} ${ms.toFixed(1).padStart(7)}   ${(ms / floor).toFixed(2)}x`);
