// `kts server-start --brokers N`: what the local cluster is made of. Pure: the command line in, the
// coordinator's and each broker's settings out, or a UsageError naming what is wrong.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseAssignment } from '../../config/properties.js';

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

/** Keys the cluster sets per broker: an override of one would make the brokers collide. */
export const PER_BROKER_KEYS = ['broker.id', 'node.id', 'listeners', 'advertised.listeners', 'log.dirs', 'log.dir', 'zookeeper.connect'];

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
  /** The user's overrides, passed on to every broker. */
  overrides: string[];
}

export function planLocalCluster(args: LocalClusterArgs): LocalClusterPlan {
  const brokers = args.brokers!;
  if (!Number.isInteger(brokers) || brokers < 1 || brokers > MAX_BROKERS) {
    // (yargs gives NaN for a word: there is nothing to quote then)
    throw new UsageError(`--brokers must be a whole number from 1 to ${MAX_BROKERS}${Number.isNaN(brokers) ? '' : `, not ${String(brokers)}`}`);
  }
  const basePort = args.port ?? DEFAULT_BASE_PORT;
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + brokers - 1 > 65535) {
    throw new UsageError(`--port ${String(args.port)}: the brokers need ports ${String(basePort)} to ${basePort + brokers - 1}, within 1..65535`);
  }
  const coordinatorPort = args.coordinatorPort ?? DEFAULT_COORDINATOR_PORT;
  if (!Number.isInteger(coordinatorPort) || coordinatorPort < 1 || coordinatorPort > 65535) {
    throw new UsageError(`--coordinator-port must be a port number (1..65535), not ${String(args.coordinatorPort)}`);
  }
  if (coordinatorPort >= basePort && coordinatorPort < basePort + brokers) {
    throw new UsageError(`--coordinator-port ${coordinatorPort} is one of the brokers' ports (${basePort}..${basePort + brokers - 1})`);
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
    overrides: args.override ?? [],
  };
}

export const brokerDir = (plan: LocalClusterPlan, id: number) => join(plan.dataDir, `broker-${id}`);
export const brokerPort = (plan: LocalClusterPlan, id: number) => plan.basePort + id;
export const controlSocketPath = (plan: LocalClusterPlan) => join(plan.dataDir, 'supervisor.sock');

/** The `kts server-start` arguments of broker `id` (the cluster's keys after the user's, so they win). */
export function brokerArgs(plan: LocalClusterPlan, id: number, coordinatorPort: number): string[] {
  const args = plan.config ? [plan.config] : [];
  const cluster = [
    `broker.id=${id}`,
    `listeners=PLAINTEXT://localhost:${brokerPort(plan, id)}`,
    `log.dirs=${brokerDir(plan, id)}`,
    `zookeeper.connect=127.0.0.1:${coordinatorPort}`,
  ];
  for (const o of [...plan.overrides, ...cluster]) args.push('--override', o);
  return args;
}
