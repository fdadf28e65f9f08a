// `kts server-start --brokers N`: what the local cluster is made of. Pure: the command line in, the
// coordinator's and each broker's settings out, or a UsageError naming what is wrong.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAssignment } from '../../config/properties.js';
import { parseListeners, type Listener } from '../../config/broker-config.js';

export const DEFAULT_BASE_PORT = 9092;
export const DEFAULT_COORDINATOR_PORT = 2181;
/** How many ports past 2181 are tried when the coordinator port was not given and 2181 is taken. */
export const COORDINATOR_PORT_TRIES = 10;
export const MAX_BROKERS = 32;
/**
 * The coordinator's tickTime: ZooKeeper's sample zoo.cfg value. Sessions may then last 4 s to 40 s,
 * which admits Kafka's default zookeeper.session.timeout.ms (18 s) and the short ones tests use.
 */
export const COORDINATOR_TICK_MS = 2000;

/**
 * Keys the cluster sets per broker: an override of one would make the brokers collide. `listeners` is
 * the exception: its ports are broker 0's, and broker N gets each port + N (secured listeners).
 */
export const PER_BROKER_KEYS = ['broker.id', 'node.id', 'advertised.listeners', 'log.dirs', 'log.dir', 'zookeeper.connect'];

export class UsageError extends Error {}

export interface LocalClusterArgs {
  brokers?: number;
  port?: number;
  coordinatorPort?: number;
  dataDir?: string;
  config?: string;
  override?: string[];
}

export interface LocalClusterPlan {
  brokers: number;
  basePort: number;
  /** Given on the command line: a taken port is then an error, not a reason to try the next. */
  coordinatorPort: number;
  coordinatorPortFixed: boolean;
  dataDir: string;
  coordinatorDir: string;
  config?: string;
  /** The user's overrides, passed on to every broker (but `listeners`). */
  overrides: string[];
  /** `--override listeners=...`: broker 0's listeners; broker N's ports are these + N. Default: PLAINTEXT on localhost:basePort. */
  listeners?: Listener[];
}

export function planLocalCluster(args: LocalClusterArgs): LocalClusterPlan {
  const brokers = args.brokers!;
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > MAX_BROKERS) {
    // (yargs gives NaN for a word: there is nothing to quote then)
    throw new UsageError(`--brokers must be a whole number from 1 to ${MAX_BROKERS}${Number.isNaN(brokers) ? '' : `, not ${String(brokers)}`}`);
  }
  const listeners = listenersOverride(args.override ?? [], brokers);
  if (listeners && args.port !== undefined) throw new UsageError('--port and --override listeners=... both name the brokers\' ports: give one of them');
  const basePort = listeners ? listeners[0].port : (args.port ?? DEFAULT_BASE_PORT);
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + brokers - 1 > 65535) {
    throw new UsageError(`--port ${String(args.port)}: the brokers need ports ${String(basePort)} to ${basePort + brokers - 1}, within 1..65535`);
  }
  const coordinatorPort = args.coordinatorPort ?? DEFAULT_COORDINATOR_PORT;
  if (!Number.isInteger(coordinatorPort) || coordinatorPort < 1 || coordinatorPort > 65535) {
    throw new UsageError(`--coordinator-port must be a port number (1..65535), not ${String(args.coordinatorPort)}`);
  }
  for (const port of listeners ? listeners.map((l) => l.port) : [basePort]) {
    if (coordinatorPort >= port && coordinatorPort < port + brokers) {
      throw new UsageError(`--coordinator-port ${coordinatorPort} is one of the brokers' ports (${port}..${port + brokers - 1})`);
    }
  }
  for (const o of args.override ?? []) {
    const [key] = parseAssignment(o);
    if (PER_BROKER_KEYS.includes(key)) {
      throw new UsageError(`--override ${key}: with --brokers each broker gets its own ${key} (use --port, --coordinator-port or --data-dir)`);
    }
  }
  const dataDir = resolve((args.dataDir ?? join(homedir(), '.kts', 'cluster')).replace(/^~(?=$|\/)/, homedir()));
  return {
    brokers,
    basePort,
    coordinatorPort,
    coordinatorPortFixed: args.coordinatorPort !== undefined,
    dataDir,
    coordinatorDir: join(dataDir, 'coordinator'),
    config: args.config,
    overrides: (args.override ?? []).filter((o) => parseAssignment(o)[0] !== 'listeners'),
    ...(listeners ? { listeners } : {}),
  };
}

/** `--override listeners=...` for a cluster: Kafka's syntax, fixed ports, each listener's N ports apart from the others'. */
function listenersOverride(overrides: string[], brokers: number): Listener[] | undefined {
  const given = overrides.map((o) => parseAssignment(o)).filter(([key]) => key === 'listeners');
  if (given.length === 0) return undefined;
  const value = given[given.length - 1][1];
  let listeners: Listener[];
  try {
    listeners = parseListeners(value);
  } catch (err) {
    throw new UsageError(`--override listeners=${value}: ${(err as Error).message}`);
  }
  if (listeners.length === 0) throw new UsageError('--override listeners= names no listener');
  for (const l of listeners) {
    if (l.port < 1 || l.port + brokers - 1 > 65535) throw new UsageError(`--override listeners: ${l.name} needs ports ${l.port} to ${l.port + brokers - 1} (broker N gets port + N), within 1..65535`);
  }
  for (const a of listeners) {
    for (const b of listeners) {
      if (a !== b && a.port <= b.port && b.port < a.port + brokers) {
        throw new UsageError(`--override listeners: ${a.name} (ports ${a.port}..${a.port + brokers - 1}) and ${b.name} (from ${b.port}) overlap; broker N gets each port + N`);
      }
    }
  }
  return listeners;
}

const hostPort = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Broker `id`'s listeners value. */
export function brokerListeners(plan: LocalClusterPlan, id: number): string {
  if (!plan.listeners) return `PLAINTEXT://localhost:${brokerPort(plan, id)}`;
  return plan.listeners.map((l) => `${l.name}://${hostPort(l.host, l.port + id)}`).join(',');
}

/** Where clients reach broker `id`: its first listener. */
export function brokerBootstrap(plan: LocalClusterPlan, id: number): string {
  const first = plan.listeners?.[0];
  return first ? hostPort(first.host || 'localhost', first.port + id) : `localhost:${brokerPort(plan, id)}`;
}

export const brokerDir = (plan: LocalClusterPlan, id: number) => join(plan.dataDir, `broker-${id}`);
export const brokerPort = (plan: LocalClusterPlan, id: number) => plan.basePort + id;
export const controlSocketPath = (plan: LocalClusterPlan) => join(plan.dataDir, 'supervisor.sock');

/** The `kts server-start` arguments of broker `id` (the cluster's keys after the user's, so they win). */
export function brokerArgs(plan: LocalClusterPlan, id: number, coordinatorPort: number): string[] {
  const args = plan.config ? [plan.config] : [];
  const cluster = [
    `broker.id=${id}`,
    `listeners=${brokerListeners(plan, id)}`,
    `log.dirs=${brokerDir(plan, id)}`,
    `zookeeper.connect=127.0.0.1:${coordinatorPort}`,
  ];
  for (const o of [...plan.overrides, ...cluster]) args.push('--override', o);
  return args;
}
