// Test helpers for the coordinator: spawn `zookeeper-server-start` as a real child process, start
// Debian's Apache ZooKeeper 3.8 for comparison, run zkCli.sh, send four-letter words.
//
// Real ZooKeeper and zkCli.sh are optional locally (tests skip without them) and required in CI:
// with KTS_REQUIRE_INTEROP set, their absence fails the tests instead.
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { freePort, tempDir } from './broker.js';
import { spawnTracked, stopProcess } from './processes.js';

export { freePort, tempDir };

const ROOT = resolve(import.meta.dirname, '../..');
export const ZKCLI = '/usr/share/zookeeper/bin/zkCli.sh';
const ZK_CLASSPATH = '/etc/zookeeper/conf:/usr/share/java/zookeeper.jar';
export const REQUIRE_INTEROP = !!process.env.KTS_REQUIRE_INTEROP;

let javaFound: boolean | undefined;
/** True when Debian's ZooKeeper (zkCli.sh, the server jar) and java are installed. */
export function zookeeperInstalled(): boolean {
  if (javaFound === undefined) {
    try {
      execFileSync('java', ['-version'], { stdio: 'ignore' });
      javaFound = true;
    } catch {
      javaFound = false;
    }
  }
  return javaFound && existsSync(ZKCLI) && existsSync('/usr/share/java/zookeeper.jar');
}

/** Whether interop tests run: always in CI (where a missing install then fails them). */
export const runInterop = REQUIRE_INTEROP || zookeeperInstalled();

function requireInstalled(): void {
  if (!zookeeperInstalled()) {
    throw new Error(`KTS_REQUIRE_INTEROP is set but java / ${ZKCLI} / zookeeper.jar are missing (apt-get install zookeeper)`);
  }
}

let launcher: Promise<string> | undefined;
/** Bundles test/helpers/zookeeper-launcher.ts (the command module via yargs) once per process. */
function launcherPath(): Promise<string> {
  launcher ??= (async () => {
    const outfile = join(ROOT, 'node_modules/.cache/kts-test', `zookeeper-launcher-${process.pid}.mjs`);
    await build({
      entryPoints: [join(ROOT, 'test/helpers/zookeeper-launcher.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    });
    return outfile;
  })();
  return launcher;
}

export interface SpawnedCoordinator {
  port: number;
  dataDir: string;
  configPath: string;
  process: ChildProcess;
  /** Milliseconds from spawn to the bound-address line. */
  startMs: number;
  output(): string;
  /** Sends a signal (SIGTERM by default) and resolves with the exit code once it has exited (SIGKILL after 30 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  kill9(): Promise<void>;
}

export interface CoordinatorSpawnOptions {
  dataDir?: string;
  /** Extra zoo.cfg lines (clientPort defaults to a freePort()). */
  props?: Record<string, string | number>;
  timeoutMs?: number;
  /** A command the coordinator is started through, e.g. ['ip', 'netns', 'exec', ns] (it must exec it). */
  launcher?: string[];
}

export async function spawnCoordinator(opts: CoordinatorSpawnOptions = {}): Promise<SpawnedCoordinator> {
  const script = await launcherPath();
  const dataDir = opts.dataDir ?? tempDir('kts-zk-');
  // Beside the data, not in it (a restart on the same dataDir rewrites it), in a dir removed after the file.
  const configPath = join(tempDir('kts-zk-config-'), 'zookeeper.properties');
  // freePort(), not 0: a port from the kernel's ephemeral range can be taken by a reconnecting
  // client (even by a client connecting to itself) while a test restarts the coordinator on it.
  const props: Record<string, string | number> = { dataDir, clientPort: await freePort(), tickTime: 2000, ...opts.props };
  writeFileSync(configPath, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const started = performance.now();
  const [command, ...argv] = [...(opts.launcher ?? []), process.execPath, script, 'zookeeper-server-start', configPath];
  const child = spawnTracked(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`coordinator did not start within ${opts.timeoutMs ?? 20000} ms:\n${out}`));
    }, opts.timeoutMs ?? 20000);
    const check = () => {
      const m = /binding to port \/[^\s:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        res(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    // 'close', not 'exit': the reason is the last line, and may not be read yet when the exit is seen.
    child.once('close', (code) => {
      clearTimeout(timer);
      rej(new Error(`coordinator exited with ${code} before starting:\n${out}`));
    });
  });
  const startMs = performance.now() - started;
  return {
    port,
    dataDir,
    configPath,
    process: child,
    startMs,
    output: () => out,
    stop: async (signal = 'SIGTERM') => (await stopProcess(child, signal, 30_000)).code,
    kill9: async () => {
      await stopProcess(child, 'SIGKILL');
    },
  };
}

export interface RealZooKeeper {
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

/** Starts Debian's ZooKeeper 3.8 standalone (ZooKeeperServerMain) on a free loopback port. */
export async function startRealZooKeeper(opts: { tickTime?: number; whitelist?: string } = {}): Promise<RealZooKeeper> {
  requireInstalled();
  const dir = tempDir('real-zk-');
  const port = await freePort();
  const cfg = join(dir, 'zoo.cfg');
  mkdirSync(join(dir, 'data'));
  writeFileSync(
    cfg,
    `tickTime=${opts.tickTime ?? 2000}\ndataDir=${dir}/data\nclientPort=${port}\nclientPortAddress=127.0.0.1\n` +
      `4lw.commands.whitelist=${opts.whitelist ?? '*'}\nadmin.enableServer=false\n`,
  );
  const child = spawnTracked('java', ['-Xmx256m', '-cp', ZK_CLASSPATH, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 30_000;
  // `ruok` answers as soon as the JVM listens; `srvr` only once it serves requests.
  while (!(await fourLetter(port, 'srvr', 1000)).includes('Mode:')) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stopProcess(child, 'SIGKILL');
      throw new Error('Apache ZooKeeper did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    dataDir: join(dir, 'data'),
    stop: async () => {
      await stopProcess(child, 'SIGKILL');
    },
  };
}

/**
 * Sends a four-letter word and returns the whole answer ('' if the connection failed). Bounded: a
 * starting ZooKeeper may accept a connection and never answer it, so after timeoutMs it gives up
 * with what it has.
 */
export function fourLetter(port: number, word: string, timeoutMs = 5000): Promise<string> {
  return new Promise((res) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.setTimeout(timeoutMs, () => s.destroy());
    s.on('connect', () => s.write(word));
    s.on('data', (d) => (out += d));
    s.on('close', () => res(out));
    s.on('error', () => res(''));
  });
}

/** Runs zkCli.sh with commands on stdin (one JVM for the batch; `quit` closes the session). */
export function zkCli(port: number, commands: string[]): Promise<{ stdout: string; stderr: string }> {
  requireInstalled();
  return new Promise((res, rej) => {
    const p = spawnTracked(ZKCLI, ['-server', `127.0.0.1:${port}`], {
      env: { ...process.env, ZOO_LOG_DIR: tempDir('zkcli-log-'), JVMFLAGS: '-Dzookeeper.root.logger=ERROR,CONSOLE' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('error', rej);
    p.on('close', () => res({ stdout, stderr }));
    p.stdin!.end(commands.join('\n') + '\nquit\n');
  });
}

/**
 * zkCli output without what legitimately differs between two servers: logging noise, the
 * connection banner, times, and session ids (an ephemeral owner becomes `<session>`).
 */
export function normalizeZkCli(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => !/^(SLF4J|log4j|Connecting to|Welcome to ZooKeeper|JLine support|WATCHER::|WatchedEvent|\s*$)/.test(l))
    .map((l) => l.replace(/^(ctime|mtime) = .*/, '$1 = <time>').replace(/^ephemeralOwner = 0x(?!0$)[0-9a-f]+$/, 'ephemeralOwner = <session>'));
}

export interface FreezableProxy {
  port: number;
  /** Stop forwarding in both directions (sockets stay open): the server hears nothing. */
  freeze(): void;
  thaw(): void;
  /**
   * Date.now() when the proxy last passed the client's bytes on to the server (0 if never): the server
   * heard the client last no earlier than this, so a session's timeout runs from here, not from freeze().
   */
  lastForwardedToServerAt(): number;
  /** Drop every proxied connection (clients see a disconnect and reconnect). */
  cut(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy that can go silent, to make a server expire a live client's session. */
export async function freezableProxy(targetPort: number): Promise<FreezableProxy> {
  let frozen = false;
  let lastToServer = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => {
      if (frozen) return;
      lastToServer = Date.now();
      upstream.write(d);
    });
    upstream.on('data', (d) => frozen || client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
    },
    lastForwardedToServerAt: () => lastToServer,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface ReplyHoldingProxy {
  port: number;
  /** Holds back everything the server sends (the client's requests still reach it and are applied). */
  hold(): void;
  /** How many reads from the server are held (each a reply or a notification, or a few together). */
  heldChunks(): number;
  /** Sends what was held, in order, each client's in one write (it then reads it at once), and forwards again. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy that can keep a server's answers from its client while the requests go
 * through: a write the client made is applied (others see it) but the client does not know yet, as
 * when its answer is slow to come back on a loaded machine.
 */
export async function replyHoldingProxy(targetPort: number): Promise<ReplyHoldingProxy> {
  let held: { client: net.Socket; data: Buffer }[] | null = null;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => (held ? held.push({ client, data: d }) : client.write(d)));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    hold: () => {
      held ??= [];
    },
    heldChunks: () => held?.length ?? 0,
    release: () => {
      const byClient = new Map<net.Socket, Buffer[]>();
      for (const { client, data } of held ?? []) byClient.set(client, [...(byClient.get(client) ?? []), data]);
      held = null;
      for (const [client, chunks] of byClient) if (!client.destroyed) client.write(Buffer.concat(chunks));
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
