// `kts server-start --brokers N`: a ZooKeeper-protocol coordinator and N brokers on one machine, for
// trying failover without any setup.
//
// The coordinator runs in this process; each broker is a child process (`kts server-start` with
// the cluster's overrides), so one broker can be killed (kill -9 <pid>) while the rest keep serving,
// exactly as a machine dies in a real cluster. A broker that dies is reported and left down: a
// supervisor that restarted it at once would hide the failover the developer is trying to see.
// Running the same command again asks this supervisor (over <data dir>/supervisor.sock) to start the
// brokers that are down. SIGINT/SIGTERM/SIGHUP stop every broker (each a controlled shutdown, waited
// for), then the coordinator. Brokers run in their own process group, so a terminal's Ctrl-C reaches
// only the supervisor, which then stops them in that order; each broker also stops by itself when
// its IPC channel to the supervisor closes (the supervisor was killed), so none is left behind.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import type { Server } from 'node:net';
import { commandFor } from '../../cli/command-index.js';
import { type CoordinatorHandle, startCoordinator } from '../../coordinator/index.js';
import type { CoordinatorLogger } from '../../coordinator/logger.js';
import { askSupervisor, type ControlReply, serveControl } from './control.js';
import {
  brokerArgs,
  brokerDir,
  brokerBootstrap,
  COORDINATOR_PORT_TRIES,
  COORDINATOR_TICK_MS,
  controlSocketPath,
  type LocalClusterArgs,
  type LocalClusterPlan,
  planLocalCluster,
  UsageError,
} from './options.js';
import { raceTimeout } from '../../util/timeout.js';

/** How long a broker gets for its controlled shutdown before it is killed. */
const STOP_GRACE_MS = 60_000;
/** How long a broker gets to say it is ready. */
const START_TIMEOUT_MS = 120_000;

/** What a supervised broker sends over IPC once it serves (src/broker/server-start.ts). */
export interface BrokerReadyMessage {
  kts: 'broker-ready';
  nodeId: number;
  bootstrap: string;
  dataDir: string;
}

interface Member {
  id: number;
  child: ChildProcess | null;
  /** Set while the supervisor itself stops it: its exit is then no news. */
  stopping: boolean;
  bootstrap: string;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const warn = (line: string) => process.stderr.write(`${line}\n`);

export async function runLocalCluster(args: LocalClusterArgs): Promise<void> {
  let plan: LocalClusterPlan;
  try {
    plan = planLocalCluster(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    warn(`kts: ${err.message}`);
    process.exit(1);
  }
  const again = restartCommand(plan, args);

  // A cluster already running on this data dir: ask it to bring back the brokers that are down.
  const reply = await askSupervisor(controlSocketPath(plan), { op: 'start-missing', brokers: plan.brokers }).catch((err: Error) => {
    warn(`kts: ${err.message}`);
    process.exit(1);
  });
  if (reply) {
    for (const line of reply.lines) (reply.ok ? say : warn)(line);
    process.exit(reply.ok ? 0 : 1);
  }

  const startedAt = Date.now();
  await mkdir(plan.dataDir, { recursive: true });
  const members: Member[] = Array.from({ length: plan.brokers }, (_, id) => ({ id, child: null, stopping: false, bootstrap: brokerBootstrap(plan, id) }));
  let coordinator: CoordinatorHandle | undefined;
  let control: Server | undefined;
  let stopping: Promise<void> | undefined;

  const stopAll = (why: string, code: number) =>
    (stopping ??= (async () => {
      say(`kts cluster: ${why}, stopping ${members.filter((m) => m.child).length} broker(s), then the coordinator`);
      await Promise.all(members.map((m) => stopMember(m)));
      control?.close();
      await unlink(controlSocketPath(plan)).catch(() => {});
      await coordinator?.close().catch((err: Error) => warn(`kts cluster: closing the coordinator: ${err.message}`));
      say('kts cluster: stopped');
      process.exit(code);
    })());
  // Handlers first: whoever waits for the ready line may signal at once.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll(`received ${signal}`, 0));

  const startMember = async (m: Member, coordinatorPort: number): Promise<void> => {
    m.stopping = false;
    const child = spawnBroker(plan, m.id, coordinatorPort);
    m.child = child;
    let ready = false;
    child.once('exit', (code, signal) => {
      m.child = null;
      // (an exit before the ready message is the start's failure, reported by whoever started it)
      if (m.stopping || stopping || !ready) return;
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      warn(
        `kts cluster: broker ${m.id} (pid ${child.pid}) ${how}. Once its ZooKeeper session expires (zookeeper.session.timeout.ms) ` +
          'the controller takes the leadership of its partitions away from it (a partition with no other replica stays offline). ' +
          `It stays down: run \`${again}\` again to restart it.`,
      );
    });
    const message = await readyOf(child).catch((err: Error) => {
      throw new Error(`broker ${m.id} did not start: ${err.message}`);
    });
    ready = true;
    say(`kts cluster: broker ${m.id} ready: pid ${child.pid}, bootstrap server ${m.bootstrap}, data in ${message.dataDir}`);
  };

  try {
    coordinator = await startClusterCoordinator(plan);
    control = await serveControl(controlSocketPath(plan), async (req): Promise<ControlReply> => {
      if (req.op !== 'start-missing') return { ok: false, lines: [`kts: unknown request ${String(req.op)}`] };
      if (req.brokers !== plan.brokers) {
        return { ok: false, lines: [`kts: a ${plan.brokers}-broker cluster is running in ${plan.dataDir} (supervisor pid ${process.pid}); stop it first to change its size`] };
      }
      if (stopping) return { ok: false, lines: ['kts: the cluster is stopping'] };
      const down = members.filter((m) => !m.child);
      if (down.length === 0) return { ok: true, lines: [`kts cluster: all ${plan.brokers} brokers are running (supervisor pid ${process.pid})`] };
      const lines: string[] = [];
      let ok = true;
      await Promise.all(
        down.map((m) =>
          startMember(m, coordinator!.port).then(
            () => lines.push(`kts cluster: broker ${m.id} restarted: pid ${m.child?.pid}, bootstrap server ${m.bootstrap}`),
            (err: Error) => {
              ok = false;
              lines.push(`kts cluster: ${err.message}`);
            },
          ),
        ),
      );
      return { ok, lines: lines.sort() };
    });
    await Promise.all(members.map((m) => startMember(m, coordinator!.port)));
  } catch (err) {
    warn(`kts cluster: ${(err as Error).message}`);
    await stopAll('start failed', 1);
    return;
  }
  say(
    `kts cluster ready: bootstrap servers ${members.map((m) => m.bootstrap).join(',')} ` +
      `(${plan.brokers} broker${plan.brokers === 1 ? '' : 's'}, coordinator 127.0.0.1:${coordinator.port}, ` +
      `supervisor pid ${process.pid}, data in ${plan.dataDir}, started in ${Date.now() - startedAt} ms)`,
  );
}

/** The coordinator on the given port, or (when none was given) the first free one from 2181 on. */
async function startClusterCoordinator(plan: LocalClusterPlan): Promise<CoordinatorHandle> {
  const tries = plan.coordinatorPortFixed ? 1 : COORDINATOR_PORT_TRIES;
  for (let i = 0; ; i++) {
    try {
      return await startCoordinator({
        port: plan.coordinatorPort + i,
        host: '127.0.0.1',
        dataDir: plan.coordinatorDir,
        tickTime: COORDINATOR_TICK_MS,
        logger: coordinatorLogger(),
        onFatal: (err) => {
          warn(`[coordinator] ${err.message}: the cluster cannot go on`);
          process.kill(process.pid, 'SIGTERM');
        },
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      if (i + 1 >= tries) {
        const ports = tries === 1 ? `port ${plan.coordinatorPort}` : `ports ${plan.coordinatorPort}..${plan.coordinatorPort + tries - 1}`;
        throw new Error(`the coordinator cannot listen: ${ports} in use (choose one with --coordinator-port)`);
      }
    }
  }
}

/** The coordinator's warnings and errors, marked as its own (its info lines would drown the brokers'). */
function coordinatorLogger(): CoordinatorLogger {
  return {
    debug() {},
    info() {},
    warn: (m) => warn(`[coordinator] WARN ${m}`),
    error: (m) => warn(`[coordinator] ERROR ${m}`),
  };
}

function spawnBroker(plan: LocalClusterPlan, id: number, coordinatorPort: number): ChildProcess {
  // The kts entry this process runs from; invoked as kafka-server-start.sh it needs no command word.
  const entry = process.argv[1];
  const commandWord = commandFor(basename(entry)) ? [] : ['server-start'];
  const child = spawn(process.execPath, [...process.execArgv, entry, ...commandWord, ...brokerArgs(plan, id, coordinatorPort)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  child.on('error', (err) => warn(`kts cluster: broker ${id}: ${err.message}`));
  for (const [stream, write] of [
    [child.stdout!, say],
    [child.stderr!, warn],
  ] as const) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => write(`[broker-${id}] ${line}`));
  }
  return child;
}

function readyOf(child: ChildProcess): Promise<BrokerReadyMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready message within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const onMessage = (msg: unknown) => {
      if ((msg as BrokerReadyMessage)?.kts !== 'broker-ready') return;
      done();
      resolve(msg as BrokerReadyMessage);
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`it exited before it was ready (${signal ?? `code ${code}`})`));
    };
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** A controlled shutdown (SIGTERM), waited for; SIGKILL after STOP_GRACE_MS. */
async function stopMember(m: Member): Promise<void> {
  const child = m.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  m.stopping = true;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  if ((await raceTimeout(exited, STOP_GRACE_MS, () => 'late' as const)) === 'late') {
    warn(`kts cluster: broker ${m.id} (pid ${child.pid}) still running ${STOP_GRACE_MS} ms after SIGTERM: killing it`);
    child.kill('SIGKILL');
    await exited;
  }
}

/** The command line that reaches this cluster again (its size and where it keeps its data). */
function restartCommand(plan: LocalClusterPlan, args: LocalClusterArgs): string {
  const parts = ['kts server-start', `--brokers ${plan.brokers}`];
  if (args.dataDir !== undefined) parts.push(`--data-dir ${args.dataDir}`);
  return parts.join(' ');
}
