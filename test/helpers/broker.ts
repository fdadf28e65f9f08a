// Spawns the real `kts server-start` binary on a free loopback port with a temp data dir.
// Tests restart it on the same port and dir to check what survives.
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pidRuns } from '../../src/storage/dir-lock.js';
import { spawnTracked, stopAllProcesses, stopProcess } from './processes.js';

export const KTS_BIN = resolve(import.meta.dirname, '../../bin/kts.js');

/**
 * The lowest port the kernel hands out to outgoing connections (Linux: ip_local_port_range). A
 * port the kernel picks for `listen(0)` comes from that same range, so a client connecting anywhere
 * can take it as its local port between freePort() and the broker's bind, or while a broker is
 * down for a restart on the same port: the bind then fails with EADDRINUSE (the 10,000 idle
 * connections test alone holds a third of the range).
 */
const EPHEMERAL_LOW = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
})();
const LOWEST_PORT = 10_000;
const handedOut = new Set<number>();

/**
 * Ports are also reserved across processes, by a file named after the port holding the reserving
 * pid: each test file runs in a process of its own, and two suites may run side by side, so a
 * per-process set alone let another file pick the port of a broker that is down for a restart on
 * it (EADDRINUSE at the restart). A reservation of a process that is gone is taken over.
 */
const RESERVATIONS = join(tmpdir(), 'kts-test-ports');
const reserved: string[] = [];

function reserve(port: number): boolean {
  mkdirSync(RESERVATIONS, { recursive: true });
  const file = join(RESERVATIONS, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      reserved.push(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // removed meanwhile: try again
    }
    // An empty file is one being written this moment: held.
    if (!Number.isInteger(holder) || holder <= 0 || pidRuns(holder)) return false;
    try {
      unlinkSync(file);
    } catch {
      /* another process took the stale one over first: the next openSync says who won */
    }
  }
  return false;
}

/** Gives back a port this process reserved and has not used. */
function release(port: number): void {
  const file = join(RESERVATIONS, String(port));
  const i = reserved.indexOf(file);
  if (i < 0) return;
  reserved.splice(i, 1);
  handedOut.delete(port);
  rmSync(file, { force: true });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const server = createServer();
    server.once('error', () => res(false));
    server.listen(port, '127.0.0.1', () => server.close(() => res(true)));
  });
}

/**
 * A loopback port nothing listens on, below the kernel's ephemeral range (so no outgoing
 * connection can take it) and not handed out before by this process; the kernel's pick if that
 * range leaves no room.
 */
export async function freePort(): Promise<number> {
  if (EPHEMERAL_LOW - LOWEST_PORT >= 1000) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = LOWEST_PORT + Math.floor(Math.random() * (EPHEMERAL_LOW - LOWEST_PORT));
      if (handedOut.has(port) || !(await canListen(port)) || !reserve(port)) continue;
      handedOut.add(port);
      return port;
    }
  }
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * `count` consecutive free loopback ports (for `kts server-start --brokers N --port <first>`), from
 * the same range as freePort() and never handed out twice.
 */
export async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const first = await freePort();
    const rest = Array.from({ length: count - 1 }, (_, i) => first + 1 + i);
    if (rest.some((p) => handedOut.has(p) || p > 65535)) continue;
    if ((await Promise.all(rest.map(canListen))).every(Boolean)) {
      const taken: number[] = [];
      for (const p of rest) {
        if (!reserve(p)) break;
        taken.push(p);
      }
      if (taken.length === rest.length) {
        for (const p of rest) handedOut.add(p);
        return first;
      }
      // Part of the run is another process's: give back what this attempt took, so a long test
      // file does not hold ports it never uses.
      for (const p of taken) release(p);
    }
    release(first);
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** For the helpers' own test. */
export const ephemeralPortRange = () => EPHEMERAL_LOW;
export const portReservations = { dir: RESERVATIONS, reserve, release };

const madeDirs: string[] = [];

/** A fresh directory under the system temp dir; test/setup.ts removes it after the test file. */
export function tempDir(prefix = 'kts-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/**
 * Removes every tempDir() made so far (KTS_KEEP_TEMP=1 keeps them for a post-mortem), once every
 * process the tests started has exited: a broker still shutting down writes into its data dir. The
 * ports freePort() reserved are released then too.
 */
export async function removeTempDirs(): Promise<void> {
  await stopAllProcesses();
  // The file's processes are gone, so are its listeners: its ports may go to others. (A test worker
  // is killed without an 'exit' event, so this is the place; a reservation left behind by a killed
  // run is taken over as stale.)
  for (const file of reserved.splice(0)) rmSync(file, { force: true });
  handedOut.clear();
  if (process.env.KTS_KEEP_TEMP === '1') return;
  for (const dir of madeDirs.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
}

export interface SpawnedBroker {
  bootstrap: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  /** Everything the broker printed so far. */
  output(): string;
  /**
   * Sends a signal (SIGTERM by default) and resolves with the exit code once the broker has exited
   * (null if it ended by a signal: one still running after 30 s gets SIGKILL).
   */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL, resolved once the process is gone. */
  kill9(): Promise<void>;
}

export interface SpawnOptions {
  overrides?: Record<string, string>;
  dataDir?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  /** Extra arguments before the overrides (e.g. a properties file). */
  args?: string[];
  timeoutMs?: number;
  /** A command the broker is started through, e.g. ['prlimit', '--nofile=1024:1024', '--'] (it must exec the broker). */
  launcher?: string[];
}

/**
 * Starts `kts server-start` and resolves once it says it is ready. A port freePort() saw free can be
 * taken by another test's socket before the broker binds it: when the caller chose neither port nor
 * listeners, a start refused with EADDRINUSE (which leaves the data directory untouched) is retried
 * on a fresh port.
 */
export async function spawnBroker(opts: SpawnOptions = {}): Promise<SpawnedBroker> {
  const portChosen = opts.port !== undefined || opts.overrides?.listeners !== undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnBrokerOnce(opts);
    } catch (err) {
      if (portChosen || attempt >= 3 || !/EADDRINUSE/.test(String(err))) throw err;
    }
  }
}

async function spawnBrokerOnce(opts: SpawnOptions): Promise<SpawnedBroker> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? tempDir('kts-broker-');
  const overrides = {
    listeners: `PLAINTEXT://127.0.0.1:${port}`,
    'log.dirs': dataDir,
    'group.initial.rebalance.delay.ms': '0',
    ...opts.overrides,
  };
  const args = [KTS_BIN, 'server-start', ...(opts.args ?? [])];
  for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
  const [command, ...argv] = [...(opts.launcher ?? []), process.execPath, ...args];
  const child = spawnTracked(command, argv, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`broker did not start within ${opts.timeoutMs ?? 60_000} ms:\n${out}`));
    }, opts.timeoutMs ?? 60_000);
    const check = () => {
      if (/ready: bootstrap server/.test(out)) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout!.on('data', check);
    // 'close', not 'exit': the reason (EADDRINUSE, which the caller retries on, or a config error) is
    // the last line, and may not be read yet when the exit is seen.
    child.once('close', (code) => {
      clearTimeout(timer);
      rej(new Error(`broker exited with ${code} before starting:\n${out}`));
    });
  });
  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    dataDir,
    process: child,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      return (await stopProcess(child, signal, 30_000)).code;
    },
    async kill9() {
      await stopProcess(child, 'SIGKILL');
    },
  };
}
