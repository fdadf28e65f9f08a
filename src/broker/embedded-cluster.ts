// `startCluster({ brokers: 3 })`: a replicated cluster inside the calling process, for test suites.
//
// The same parts as `kts server-start --brokers N` (src/broker/local-cluster): the ZooKeeper-protocol
// coordinator and N brokers with ids 0..N-1 joined to it (Kafka's ZooKeeper mode: a controller,
// replica placement, followers fetching, ISR, acks=all). What differs is where they run: here every
// broker is a startBroker() in this process and, by default, everything is in memory (the brokers'
// logs and the coordinator's tree), so a suite gets a cluster in well under a second and nothing
// is left on disk. A broker stopped with stopBroker() keeps its memory files, so restartBroker()
// brings it back on the same port with its logs, as a machine restarts with its disk.
import { join } from 'node:path';
import { type CoordinatorHandle, startCoordinator } from '../coordinator/index.js';
import type { CoordinatorLogger } from '../coordinator/logger.js';
import { MemoryFileSystem } from '../storage/memory-file-system.js';
import { parseListeners, type Listener } from '../config/broker-config.js';
import { type BrokerHandle, type BrokerOptions, startBrokerWith } from './broker.js';
import { moveCoordinator, moveLeader } from '../kit/moves.js';
import { KIT_BROKER_DEFAULTS } from './kit-defaults.js';
import { createLogger, type LogLevel } from './logger.js';

export interface ClusterOptions {
  /** How many brokers (ids 0..brokers-1). Default 3. */
  brokers?: number;
  /**
   * default.replication.factor: the replicas of a topic created without one (auto-created topics
   * too). Default: the number of brokers, at most 3. The internal topics (__consumer_offsets,
   * __transaction_state) get the same.
   */
  replicationFactor?: number;
  /** 'memory' (the default): nothing on disk. 'files': under dataDir (broker-<id>/, coordinator/). */
  storage?: 'files' | 'memory';
  /** Required with storage 'files'. */
  dataDir?: string;
  /** Broker settings for every broker, as `--override k=v` (broker.id, listeners, log.dirs and zookeeper.connect are the cluster's). */
  overrides?: Record<string, string>;
  /** Host the brokers and the coordinator listen on. Default 127.0.0.1. */
  host?: string;
  /**
   * The brokers' listeners, Kafka's syntax, e.g. `PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0`:
   * port 0 gives each broker free ports (a restarted broker gets its own back), a port p gives
   * broker id p + id. Their ssl.* and sasl.* keys, listener.security.protocol.map and
   * inter.broker.listener.name go in `overrides`, as for `kts server-start`. Default: one PLAINTEXT
   * listener on `host`. `bootstrap` is the first listener's; bootstrapFor names any other.
   */
  listeners?: string;
  /** Per broker: see BrokerOptions.recordRequests (default on in memory). */
  recordRequests?: boolean | number;
  /** Log level of the brokers (their lines name the broker: kts.broker-1...). Default 'warn'. */
  logLevel?: LogLevel;
}

export interface ClusterHandle {
  /** Every broker's `host:port` on the first listener, comma-separated: what clients pass as bootstrap servers. */
  readonly bootstrap: string;
  /** The running brokers' `host:port` on the named listener (e.g. 'SASL_SSL'), comma-separated. */
  bootstrapFor(listenerName: string): string;
  /** The running brokers, by id (a stopped broker is missing until restartBroker). */
  readonly brokers: readonly BrokerHandle[];
  /** The coordinator's `host:port` (the brokers' zookeeper.connect). */
  readonly zookeeperConnect: string;
  /** The running broker with this id (throws when it is stopped). */
  broker(id: number): BrokerHandle;
  /**
   * A clean stop of one broker (Kafka's controlled shutdown: its partitions get other leaders
   * first). The others keep serving; its memory files are kept for restartBroker.
   */
  stopBroker(id: number): Promise<void>;
  /** Starts a stopped broker again, on its port and with its logs; it catches up as a follower. */
  restartBroker(id: number): Promise<BrokerHandle>;
  /**
   * Makes broker `to` (which must hold a replica) the leader of topic-partition through the
   * controller, as `kts reassign-partitions` + `kts leader-election --election-type PREFERRED` do:
   * `to` first in the replica list (same replicas, no data moved), then a preferred election.
   * Resolves once every running broker's metadata names `to`. Default timeout 30 s.
   */
  moveLeader(topic: string, partition: number, to: number, opts?: { timeoutMs?: number }): Promise<void>;
  /**
   * Makes broker `to` the coordinator of `groupId`: moveLeader of the group's __consumer_offsets
   * partition, then waits until FindCoordinator answers `to` (the group loaded there).
   */
  moveCoordinator(groupId: string, to: number, opts?: { timeoutMs?: number }): Promise<void>;
  /** Stops every broker (controlled shutdowns), then the coordinator. */
  close(): Promise<void>;
}

/** Most brokers startCluster starts (as `kts server-start --brokers`). */
export const MAX_CLUSTER_BROKERS = 32;
/**
 * The coordinator's tick: sessions may last 1 s to 10 s, which admits the short broker sessions the
 * cluster asks for (below) and Kafka's 18 s default is capped to 10 s.
 */
const TICK_MS = 500;

/**
 * A replicated cluster inside the calling process: a ZooKeeper-protocol coordinator and `brokers`
 * brokers (ids 0..n-1), in memory by default, with the kit's defaults (KIT_BROKER_DEFAULTS).
 * Resolves once every broker serves; `close()` stops them all.
 */
export async function startCluster(opts: ClusterOptions = {}): Promise<ClusterHandle> {
  const size = opts.brokers ?? 3;
  if (!Number.isInteger(size) || size < 1 || size > MAX_CLUSTER_BROKERS) {
    throw new RangeError(`brokers must be a whole number from 1 to ${MAX_CLUSTER_BROKERS}, not ${String(opts.brokers)}`);
  }
  const replicationFactor = opts.replicationFactor ?? Math.min(3, size);
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1 || replicationFactor > size) {
    throw new RangeError(`replicationFactor must be a whole number from 1 to the number of brokers (${size}), not ${String(opts.replicationFactor)}`);
  }
  const storage = opts.storage ?? 'memory';
  if (storage === 'files' && !opts.dataDir) throw new TypeError("startCluster: storage 'files' needs a dataDir");
  // In memory the paths are only names (one per broker, so their logs never meet).
  const root = opts.dataDir ?? '/kts-memory-cluster';
  const host = opts.host ?? '127.0.0.1';
  const logLevel = opts.logLevel ?? 'warn';

  const coordinator = await startCoordinator({
    port: 0,
    host,
    dataDir: join(root, 'coordinator'),
    storage,
    tickTime: TICK_MS,
    logger: coordinatorLogger(logLevel),
  });
  const zookeeperConnect = `${coordinator.host.includes(':') ? `[${coordinator.host}]` : coordinator.host}:${coordinator.port}`;

  const listeners = opts.listeners === undefined ? undefined : clusterListeners(opts.listeners, size);
  const running = new Map<number, BrokerHandle>();
  const ports = new Map<number, number>();
  /** With `listeners`: each broker's bound port per listener name, for its restart. */
  const listenerPorts = new Map<number, Map<string, number>>();
  const listenersOf = (id: number) =>
    listeners!
      .map((l) => {
        const port = listenerPorts.get(id)?.get(l.name) ?? (l.port === 0 ? 0 : l.port + id);
        return `${l.name}://${l.host.includes(':') ? `[${l.host}]` : l.host}:${port}`;
      })
      .join(',');
  const memoryFiles = new Map<number, MemoryFileSystem>();
  const starting = new Map<number, Promise<BrokerHandle>>();

  const brokerOptions = (id: number): BrokerOptions => ({
    storage,
    dataDir: join(root, `broker-${id}`),
    ...(listeners ? {} : { host, port: ports.get(id) ?? 0 }),
    recordRequests: opts.recordRequests,
    logger: createLogger({ level: logLevel, component: `kts.broker-${id}` }),
    overrides: {
      // The kit's defaults (src/broker/kit-defaults.ts), and a dead broker noticed within seconds
      // rather than Kafka's 18 s.
      ...KIT_BROKER_DEFAULTS,
      'zookeeper.session.timeout.ms': '6000',
      'replica.fetch.wait.max.ms': '100',
      'default.replication.factor': String(replicationFactor),
      'offsets.topic.replication.factor': String(replicationFactor),
      'transaction.state.log.replication.factor': String(replicationFactor),
      'transaction.state.log.min.isr': String(Math.min(2, replicationFactor)),
      ...opts.overrides,
      ...(listeners ? { listeners: listenersOf(id) } : {}),
      'broker.id': String(id),
      'zookeeper.connect': zookeeperConnect,
    },
  });

  const start = (id: number): Promise<BrokerHandle> => {
    const pending = (async () => {
      let files = memoryFiles.get(id);
      if (storage === 'memory' && !files) memoryFiles.set(id, (files = new MemoryFileSystem()));
      const broker = await startBrokerWith(brokerOptions(id), { memoryFiles: files });
      ports.set(id, broker.port);
      listenerPorts.set(id, new Map(broker.listeners.map((l) => [l.name, l.port])));
      running.set(id, broker);
      return broker;
    })().finally(() => starting.delete(id));
    starting.set(id, pending);
    return pending;
  };

  const stop = async (id: number): Promise<void> => {
    const broker = running.get(id);
    if (!broker) return;
    running.delete(id);
    await broker.close();
  };

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await Promise.allSettled([...starting.values()]);
      // One at a time: each controlled shutdown then has live brokers to hand its partitions to,
      // and the last one stops without waiting for a controller that is already gone.
      for (const id of [...running.keys()].sort((a, b) => b - a)) await stop(id);
      await coordinator.close();
      memoryFiles.clear();
    })());

  try {
    // Broker 0 first: it becomes the controller without racing the others for /controller, and the
    // rest register with a controller in place (fewer leader elections during the start).
    await start(0);
    await Promise.all(Array.from({ length: size - 1 }, (_, i) => start(i + 1)));
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  const bootstrap = [...Array(size).keys()].map((id) => running.get(id)!.bootstrap).join(',');

  const known = (id: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= size) throw new RangeError(`no broker ${String(id)} in this cluster (ids 0..${size - 1})`);
  };
  return {
    bootstrap,
    bootstrapFor(listenerName) {
      const name = listenerName.toUpperCase();
      const found = [...running.entries()].sort(([a], [b]) => a - b).map(([, b]) => b.listeners.find((l) => l.name === name)?.bootstrap);
      if (found.length === 0 || found.some((b) => b === undefined)) throw new RangeError(`no listener ${listenerName} on this cluster's brokers`);
      return found.join(',');
    },
    zookeeperConnect,
    get brokers() {
      return [...running.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
    },
    broker(id) {
      known(id);
      const broker = running.get(id);
      if (!broker) throw new Error(`broker ${id} is stopped`);
      return broker;
    },
    async stopBroker(id) {
      known(id);
      if (closing) throw new Error('the cluster is closed');
      await starting.get(id);
      await stop(id);
    },
    async restartBroker(id) {
      known(id);
      if (closing) throw new Error('the cluster is closed');
      const inFlight = starting.get(id);
      if (inFlight) return inFlight;
      const current = running.get(id);
      if (current) return current;
      return start(id);
    },
    async moveLeader(topic, partition, to, moveOpts) {
      known(to);
      if (!running.has(to)) throw new Error(`broker ${to} is stopped`);
      await moveLeader(bootstrap, topic, partition, to, moveOpts?.timeoutMs);
    },
    async moveCoordinator(groupId, to, moveOpts) {
      known(to);
      if (!running.has(to)) throw new Error(`broker ${to} is stopped`);
      await moveCoordinator(bootstrap, groupId, to, moveOpts?.timeoutMs);
    },
    close,
  };
}

/** The coordinator's lines through the kit's logger, its info lines as debug (they would drown the brokers'). */
function coordinatorLogger(level: LogLevel): CoordinatorLogger {
  const log = createLogger({ level, component: 'kts.coordinator' });
  return { debug: (m) => log.debug(m), info: (m) => log.debug(m), warn: (m) => log.warn(m), error: (m) => log.error(m) };
}

/** startCluster's `listeners`, checked: names once each, and no two listeners' port ranges meet. */
function clusterListeners(value: string, size: number): Listener[] {
  let parsed: Listener[];
  try {
    parsed = parseListeners(value);
  } catch (err) {
    throw new TypeError(`startCluster: listeners: ${(err as Error).message}`);
  }
  if (parsed.length === 0) throw new TypeError('startCluster: listeners names no listener');
  const names = new Set<string>();
  for (const l of parsed) {
    if (names.has(l.name)) throw new TypeError(`startCluster: listeners names ${l.name} twice`);
    names.add(l.name);
    if (l.port !== 0 && l.port + size - 1 > 65535) throw new RangeError(`startCluster: listener ${l.name} needs ports ${l.port} to ${l.port + size - 1}, within 1..65535`);
  }
  const fixed = parsed.filter((l) => l.port !== 0);
  for (const a of fixed) {
    for (const b of fixed) {
      if (a !== b && a.port <= b.port && b.port < a.port + size) throw new RangeError(`startCluster: listeners ${a.name} and ${b.name} would share ports (broker id is added to each port)`);
    }
  }
  return parsed;
}
