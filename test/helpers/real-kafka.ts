// The real Apache Kafka in the test suite: a Kafka 4.4 broker in KRaft mode (broker and controller in
// one JVM) or a Kafka 3.9 broker on a ZooKeeper (kts's coordinator), and Kafka's own command-line
// tools, run from the jars scripts/fetch-kafka.mjs assembles from Maven Central (.ci/run calls it).
//
// Locally a version that was never fetched skips its tests; in CI (KTS_REQUIRE_INTEROP=1) it fails
// them, so a green CI run always means the real Kafka ran. JVMs start slowly on two loaded cores:
// share one broker per test file.
import { type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { cpSync, existsSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort, tempDir } from './broker.js';
import { spawnTracked, stopProcess } from './processes.js';
import { RawClient } from './raw-client.js';

export const KAFKA_4 = '4.4.0';
export const KAFKA_3 = '3.9.2';
export type KafkaVersion = typeof KAFKA_4 | typeof KAFKA_3;

const REQUIRED = process.env.KTS_REQUIRE_INTEROP === '1';
// scripts/fetch-kafka.mjs fills the same place.
const CACHE = process.env.KTS_INTEROP_CACHE || join(homedir(), '.cache/kts-interop');

/** The directory of that version's jars; null (skip) when missing locally, an error in CI. */
export function kafkaLib(version: KafkaVersion): string | null {
  const lib = join(CACHE, `kafka-${version}`, 'lib');
  if (existsSync(join(lib, `kafka_2.13-${version}.jar`))) return lib;
  if (REQUIRED) throw new Error(`Apache Kafka ${version} is required (KTS_REQUIRE_INTEROP=1) but ${lib} is missing: run node scripts/fetch-kafka.mjs`);
  return null;
}

/** Each kafka-*.sh script's main class, as that release's bin/ names it. */
const TOOL_CLASSES: Record<KafkaVersion, Record<KafkaTool, string>> = {
  [KAFKA_4]: {
    topics: 'org.apache.kafka.tools.TopicCommand',
    'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
    'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
    'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
    configs: 'org.apache.kafka.tools.ConfigCommand',
    'delete-records': 'org.apache.kafka.tools.DeleteRecordsCommand',
    'reassign-partitions': 'org.apache.kafka.tools.reassign.ReassignPartitionsCommand',
    'leader-election': 'org.apache.kafka.tools.LeaderElectionCommand',
    storage: 'kafka.tools.StorageTool',
    'producer-perf-test': 'org.apache.kafka.tools.ProducerPerformance',
    transactions: 'org.apache.kafka.tools.TransactionsCommand',
    'transactional-message-copier': 'org.apache.kafka.tools.TransactionalMessageCopier',
    acls: 'org.apache.kafka.tools.AclCommand',
    'dump-log': 'org.apache.kafka.tools.DumpLogSegments',
    'streams-application-reset': 'org.apache.kafka.tools.StreamsResetter',
  },
  [KAFKA_3]: {
    topics: 'org.apache.kafka.tools.TopicCommand',
    'console-producer': 'kafka.tools.ConsoleProducer',
    'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
    'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
    configs: 'kafka.admin.ConfigCommand',
    'delete-records': 'org.apache.kafka.tools.DeleteRecordsCommand',
    'reassign-partitions': 'org.apache.kafka.tools.reassign.ReassignPartitionsCommand',
    'leader-election': 'org.apache.kafka.tools.LeaderElectionCommand',
    storage: 'kafka.tools.StorageTool',
    'producer-perf-test': 'org.apache.kafka.tools.ProducerPerformance',
    transactions: 'org.apache.kafka.tools.TransactionsCommand',
    'transactional-message-copier': 'org.apache.kafka.tools.TransactionalMessageCopier',
    acls: 'kafka.admin.AclCommand',
    'dump-log': 'kafka.tools.DumpLogSegments',
    'streams-application-reset': 'org.apache.kafka.tools.StreamsResetter',
  },
};

export type KafkaTool =
  | 'topics'
  | 'console-producer'
  | 'console-consumer'
  | 'consumer-groups'
  | 'get-offsets'
  | 'configs'
  | 'delete-records'
  | 'reassign-partitions'
  | 'leader-election'
  | 'storage'
  | 'producer-perf-test'
  | 'transactions'
  | 'transactional-message-copier'
  | 'acls'
  | 'dump-log'
  | 'streams-application-reset';

// Kafka's config/tools-log4j(2) settings: WARN and above, to stderr, in Kafka's pattern, so a tool's
// stderr is what a user of kafka-*.sh sees. The broker logs the same way (its output is kept for a
// failure message; INFO would cost a loaded machine for nothing).
const PATTERN = '[%d] %p %m (%c)%n';
function loggingArgs(version: KafkaVersion): string[] {
  const dir = tempDir('kafka-log-config-');
  if (version === KAFKA_3) {
    const file = join(dir, 'log4j.properties');
    writeFileSync(
      file,
      'log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\n' +
        `log4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=${PATTERN}\n` +
        'log4j.appender.stderr.Target=System.err\n',
    );
    return [`-Dlog4j.configuration=file:${file}`];
  }
  const file = join(dir, 'log4j2.properties');
  writeFileSync(
    file,
    'appender.stderr.type=Console\nappender.stderr.name=STDERR\nappender.stderr.target=SYSTEM_ERR\n' +
      `appender.stderr.layout.type=PatternLayout\nappender.stderr.layout.pattern=${PATTERN}\n` +
      'rootLogger.level=WARN\nrootLogger.appenderRef.stderr.ref=STDERR\n',
  );
  return [`-Dlog4j2.configurationFile=${file}`];
}

const logArgs = new Map<KafkaVersion, string[]>();
function jvmArgs(version: KafkaVersion, heap: string): string[] {
  const lib = kafkaLib(version);
  if (!lib) throw new Error(`Apache Kafka ${version} is not installed (node scripts/fetch-kafka.mjs)`);
  if (!logArgs.has(version)) logArgs.set(version, loggingArgs(version));
  // Serial GC and C1 only: fewer threads and less compilation on a two-core machine.
  return [`-Xmx${heap}`, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true', ...logArgs.get(version)!, '-cp', `${lib}/*`];
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function spawnKafkaTool(version: KafkaVersion, tool: KafkaTool, args: string[]) {
  return spawnTracked('java', [...jvmArgs(version, '256m'), TOOL_CLASSES[version][tool], ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs one of Kafka's tools (the class its kafka-*.sh script runs) and captures what it prints. */
export function runKafkaTool(
  version: KafkaVersion,
  tool: KafkaTool,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawnKafkaTool(version, tool, args);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Kafka ${version} ${tool} ${args.join(' ')} timed out\nstdout: ${Buffer.concat(out)}\nstderr: ${Buffer.concat(err)}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export interface RunningKafkaTool {
  stdout(): string;
  stderr(): string;
  /** Polls until pred(stdout) holds; fails early when the tool exits. */
  waitForStdout(pred: (stdout: string) => boolean, timeoutMs?: number): Promise<void>;
  /** SIGTERM (the tool's shutdown hook runs: a consumer leaves its group), waits for the exit. */
  stop(): Promise<ToolResult>;
  /** SIGKILL (no shutdown hook: a crash), waits for the exit. */
  kill9(): Promise<ToolResult>;
  /** Resolves when the tool exits by itself (or is stopped). */
  exited(): Promise<ToolResult>;
}

/** Starts one of Kafka's tools that runs until stopped (a console consumer in a group). */
export function startKafkaTool(version: KafkaVersion, tool: KafkaTool, args: string[]): RunningKafkaTool {
  const child = spawnKafkaTool(version, tool, args);
  child.stdin.end();
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const closed = new Promise<ToolResult>((res) => child.once('close', (code) => res({ code, stdout: out, stderr: err })));
  return {
    stdout: () => out,
    stderr: () => err,
    async waitForStdout(pred, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(out)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Kafka ${tool} exited ${child.exitCode ?? child.signalCode}\nstdout: ${out}\nstderr: ${err}`);
        if (Date.now() > deadline) throw new Error(`Kafka ${tool}: timed out waiting for its output\nstdout: ${out}\nstderr: ${err}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await stopProcess(child, 'SIGTERM', 30_000);
      return closed;
    },
    async kill9() {
      await stopProcess(child, 'SIGKILL');
      return closed;
    },
    exited: () => closed,
  };
}

/** Like runKafkaTool, but a non-zero exit is an error carrying what the tool printed. */
export async function kafkaTool(version: KafkaVersion, tool: KafkaTool, args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
  const r = await runKafkaTool(version, tool, args, opts);
  if (r.code !== 0) throw new Error(`Kafka ${version} ${tool} ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/**
 * Kafka's cluster ids are random UUIDs in URL-safe base64 without padding (22 characters). Like
 * Kafka's Uuid.randomUuid(), never one starting with '-': kafka-storage would read `-t -Zi...` as
 * an option (1 run in 64 failed so).
 */
export function randomClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export interface RealKafka {
  version: KafkaVersion;
  bootstrap: string;
  port: number;
  nodeId: number;
  dataDir: string;
  /** The JVM's process id (to read its memory use from /proc). */
  pid: number;
  /** What the JVM printed (WARN and above) so far. */
  output(): string;
  /**
   * SIGTERM (a controlled shutdown), SIGKILL if it has not exited after timeoutMs. Resolves on exit
   * with the exit code, or null when it had to be killed (or had already gone).
   */
  stop(timeoutMs?: number): Promise<number | null>;
}

export interface RealKafkaOptions {
  /** `host:port[/chroot]` of a ZooKeeper: starts Kafka 3.9 in ZooKeeper mode. Otherwise KRaft. */
  zookeeper?: string;
  nodeId?: number;
  /** The client listener's port (default: a free one). */
  port?: number;
  /** Extra server.properties entries (win over the defaults). */
  props?: Record<string, string | number>;
  /** How long to wait for the broker to answer Metadata naming itself. */
  timeoutMs?: number;
  /** More client listeners (KRaft only), e.g. `{ name: 'SASL_PLAINTEXT', port }`: the name is the protocol. */
  extraListeners?: { name: string; port: number }[];
}

/**
 * Starts a single real Kafka broker on free loopback ports with a temp log dir: KRaft (formatted
 * first, broker and controller in one process) unless `zookeeper` is given. Resolves once the
 * broker answers a Metadata request listing itself with a controller elected.
 */
export async function startRealKafka(version: KafkaVersion, opts: RealKafkaOptions = {}): Promise<RealKafka> {
  // A port freePort() saw free can be taken (by another test's client socket) in the seconds a JVM
  // needs to bind it: then start again on fresh ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(version, opts);
    } catch (e) {
      if (attempt >= 3 || !/BindException|Address already in use/.test(String(e))) throw e;
    }
  }
}

/** Kafka's settings for a broker in the suite, before the mode's and the caller's own. */
function baseProps(dataDir: string): Record<string, string | number> {
  return {
    'log.dirs': dataDir,
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    // Fewer threads than the defaults: two cores are shared with the rest of the suite.
    'num.network.threads': 1,
    'num.io.threads': 2,
    'background.threads': 2,
  };
}

/** A KRaft node's listeners: clients on `port`, the quorum on `controllerPort`. */
function kraftProps(nodeId: number, port: number, controllerPort: number, voters: string, roles = 'broker,controller'): Record<string, string | number> {
  return {
    'process.roles': roles,
    'node.id': nodeId,
    'controller.quorum.voters': voters,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
  };
}

function writeServerProperties(dir: string, props: Record<string, string | number>): string {
  const config = join(dir, 'server.properties');
  writeFileSync(config, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return config;
}

/** A started Kafka JVM (kafka.Kafka): what it prints, and a way to stop it and wait for the exit. */
interface KafkaProcess {
  child: ChildProcess;
  /** Whether it writes the class archive when it exits. */
  makesArchive: boolean;
  output(): string;
  stop(timeoutMs?: number): Promise<number | null>;
}

/**
 * Kafka's classes as a class-data-sharing archive (JDK AppCDS), made by the first broker JVM that
 * exits cleanly and kept beside the jars: a broker mapping it spends about half the CPU to become
 * ready (4.0 -> 2.3 s per node here) and ~50 MB less memory. Keyed by the JDK, which checks the
 * archive itself and ignores one that does not fit (a warning in the broker's output, no failure).
 */
function classArchive(version: KafkaVersion): string {
  const java = (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'java')).find((f) => existsSync(f));
  const jdk = createHash('sha256').update(java ? realpathSync(java) : 'java').digest('hex').slice(0, 12);
  return join(CACHE, `kafka-${version}`, `broker-classes-${jdk}.jsa`);
}
/** One archive being made per test process is enough; the others start without it meanwhile. */
let archiveBeingMade = false;

function launchKafka(version: KafkaVersion, config: string, heap: string): KafkaProcess {
  const archive = classArchive(version);
  let making: string | null = null;
  const cds: string[] = [];
  if (existsSync(archive)) cds.push(`-XX:SharedArchiveFile=${archive}`);
  else if (!archiveBeingMade) {
    archiveBeingMade = true;
    making = `${archive}.${randomUUID()}.tmp`;
    cds.push(`-XX:ArchiveClassesAtExit=${making}`);
  }
  const child = spawnTracked('java', [...cds, ...jvmArgs(version, heap), 'kafka.Kafka', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) =>
    child.once('exit', (code) => {
      if (making) {
        // The JVM writes the archive as it exits: only a clean exit (not SIGKILL) leaves a whole one.
        if (code !== null && existsSync(making)) renameSync(making, archive);
        else rmSync(making, { force: true });
        archiveBeingMade = false;
      }
      res(code);
    }),
  );
  const stop = async (timeoutMs = 30_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return null;
    child.kill('SIGTERM');
    // Writing the class archive at exit takes a few seconds of CPU more, once.
    const timer = setTimeout(() => child.kill('SIGKILL'), making ? timeoutMs + 30_000 : timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return { child, makesArchive: making !== null, output: () => out, stop };
}

async function startOnce(version: KafkaVersion, opts: RealKafkaOptions): Promise<RealKafka> {
  const nodeId = opts.nodeId ?? 1;
  const port = opts.port ?? (await freePort());
  const dir = tempDir(`real-kafka-${version}-`);
  const dataDir = join(dir, 'data');
  const props = baseProps(dataDir);
  if (opts.zookeeper) {
    Object.assign(props, {
      'broker.id': nodeId,
      'zookeeper.connect': opts.zookeeper,
      listeners: `PLAINTEXT://127.0.0.1:${port}`,
    });
  } else {
    const controllerPort = await freePort();
    Object.assign(props, kraftProps(nodeId, port, controllerPort, `${nodeId}@127.0.0.1:${controllerPort}`));
    for (const { name, port: extra } of opts.extraListeners ?? []) {
      props.listeners += `,${name}://127.0.0.1:${extra}`;
      props['advertised.listeners'] += `,${name}://127.0.0.1:${extra}`;
      props['listener.security.protocol.map'] += `,${name}:${name}`;
    }
  }
  Object.assign(props, opts.props);
  const config = writeServerProperties(dir, props);

  if (!opts.zookeeper) await kafkaTool(version, 'storage', ['format', `--cluster-id=${randomClusterId()}`, '--config', config]);

  const kafka = launchKafka(version, config, '512m');
  try {
    await waitForBrokers(kafka, port, [nodeId], opts.timeoutMs ?? 90_000);
  } catch (e) {
    await kafka.stop(5000);
    throw e;
  }
  return { version, bootstrap: `127.0.0.1:${port}`, port, nodeId, dataDir, pid: kafka.child.pid!, output: kafka.output, stop: kafka.stop };
}

export interface RealKafkaCluster {
  version: KafkaVersion;
  /** Every broker's `127.0.0.1:port`, comma-separated. */
  bootstrap: string;
  /** The nodes, by node id 1, 2, 3... (each a broker and a controller of the one quorum). */
  nodes: RealKafka[];
  clusterId: string;
  /** The INTERNAL listeners (with advertisedPorts; else the same as bootstrap). */
  internalBootstrap: string;
  /** Stops every node at once and waits for each exit (SIGKILL after timeoutMs). */
  stop(timeoutMs?: number): Promise<void>;
}

export interface RealKafkaClusterOptions {
  /** How many nodes (default 3). */
  size?: number;
  /** Each node's client listener port, by index (default: free ones). */
  ports?: number[];
  /**
   * The client listener's advertised port, by index (a proxy in front of `ports`). Then the brokers
   * talk to each other, and `internalBootstrap` clients to them, on a second listener (INTERNAL)
   * that bypasses the proxies.
   */
  advertisedPorts?: number[];
  /** Extra server.properties entries, for every node or per node id. */
  props?: Record<string, string | number> | ((nodeId: number) => Record<string, string | number>);
  /** Each node's -Xmx (default 256m). */
  heap?: string;
  /** How long to wait for every broker to see every other one registered. */
  timeoutMs?: number;
}

/**
 * Starts a KRaft cluster of real Kafka (4.x) nodes on free loopback ports, each node a broker and a
 * controller in one JVM (three JVMs, not three brokers and a separate controller: less memory and
 * CPU on two cores), with a static quorum of all of them. Resolves once every broker answers a
 * Metadata request that lists every node and names a controller, so partitions can be placed on
 * all of them.
 */
export async function startRealKafkaCluster(version: typeof KAFKA_4, opts: RealKafkaClusterOptions = {}): Promise<RealKafkaCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startClusterOnce(version, opts);
    } catch (e) {
      if (attempt >= 3 || !/BindException|Address already in use/.test(String(e))) throw e;
    }
  }
}

async function startClusterOnce(version: typeof KAFKA_4, opts: RealKafkaClusterOptions): Promise<RealKafkaCluster> {
  const size = opts.size ?? 3;
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const ports = await Promise.all(ids.map(async (_, i) => opts.ports?.[i] ?? (await freePort())));
  const controllerPorts = await Promise.all(ids.map(() => freePort()));
  const internalPorts = opts.advertisedPorts ? await Promise.all(ids.map(() => freePort())) : ports;
  const voters = ids.map((id, i) => `${id}@127.0.0.1:${controllerPorts[i]}`).join(',');
  const clusterId = randomClusterId();
  const nodes = ids.map((nodeId, i) => {
    const dir = tempDir(`real-kafka-${version}-node${nodeId}-`);
    const dataDir = join(dir, 'data');
    const props = {
      ...baseProps(dataDir),
      // Kafka's defaults for a cluster of three, so the internal topics are replicated as in production.
      'offsets.topic.replication.factor': Math.min(3, size),
      'transaction.state.log.replication.factor': Math.min(3, size),
      'transaction.state.log.min.isr': Math.min(2, size),
      // 50 offsets partitions x 3 replicas is most of the first group's wait on a loaded machine.
      'offsets.topic.num.partitions': 10,
      // A broker is unfenced after its heartbeats show it caught up: beat often, start sooner.
      'broker.heartbeat.interval.ms': 500,
      ...kraftProps(nodeId, ports[i], controllerPorts[i], voters),
      ...(opts.advertisedPorts && {
        listeners: `PLAINTEXT://127.0.0.1:${ports[i]},INTERNAL://127.0.0.1:${internalPorts[i]},CONTROLLER://127.0.0.1:${controllerPorts[i]}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${opts.advertisedPorts[i]},INTERNAL://127.0.0.1:${internalPorts[i]}`,
        'inter.broker.listener.name': 'INTERNAL',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
      }),
      ...(typeof opts.props === 'function' ? opts.props(nodeId) : opts.props),
    };
    return { nodeId, port: ports[i], dir, dataDir, config: writeServerProperties(dir, props) };
  });

  // Formatting is a JVM start (~2 s on two loaded cores). With a static quorum every node's storage
  // is the same bootstrap snapshot; only meta.properties names the node and its directory: format
  // one, copy it for the others with their own node.id and a fresh directory.id.
  await kafkaTool(version, 'storage', ['format', `--cluster-id=${clusterId}`, '--config', nodes[0].config]);
  for (const node of nodes.slice(1)) {
    cpSync(nodes[0].dataDir, node.dataDir, { recursive: true });
    const meta = join(node.dataDir, 'meta.properties');
    writeFileSync(
      meta,
      readFileSync(meta, 'utf8')
        .replace(/^node\.id=.*$/m, `node.id=${node.nodeId}`)
        .replace(/^directory\.id=.*$/m, `directory.id=${randomClusterId()}`),
    );
  }

  const started = nodes.map((node) => ({ node, kafka: launchKafka(version, node.config, opts.heap ?? '256m') }));
  const stop = async (timeoutMs = 30_000) => {
    // A node writing the class archive takes longer to exit: stopped first, while the quorum is
    // whole (its controlled shutdown waits for the controller, which needs a majority).
    for (const s of started) if (s.kafka.makesArchive) await s.kafka.stop(timeoutMs);
    await Promise.all(started.map((s) => s.kafka.stop(timeoutMs)));
  };
  try {
    await Promise.all(started.map(({ node, kafka }) => waitForBrokers(kafka, node.port, ids, opts.timeoutMs ?? 120_000)));
  } catch (e) {
    await stop(5000);
    throw e;
  }
  const realNodes: RealKafka[] = started.map(({ node, kafka }) => ({
    version,
    bootstrap: `127.0.0.1:${node.port}`,
    port: node.port,
    nodeId: node.nodeId,
    dataDir: node.dataDir,
    pid: kafka.child.pid!,
    output: kafka.output,
    stop: kafka.stop,
  }));
  return {
    version,
    bootstrap: realNodes.map((n) => n.bootstrap).join(','),
    internalBootstrap: internalPorts.map((p) => `127.0.0.1:${p}`).join(','),
    nodes: realNodes,
    clusterId,
    stop,
  };
}

/** Polls Metadata until the broker lists every one of nodeIds and names a controller. */
async function waitForBrokers(kafka: KafkaProcess, port: number, nodeIds: number[], timeoutMs: number): Promise<void> {
  const { child, output } = kafka;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Kafka exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`);
    if (await answersMetadata(port, nodeIds)) return;
    if (Date.now() > deadline) throw new Error(`Kafka on port ${port} did not list brokers ${nodeIds.join(',')} in Metadata within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function answersMetadata(port: number, nodeIds: number[]): Promise<boolean> {
  let client: RawClient | undefined;
  try {
    client = await RawClient.connect(port);
    const answer = await Promise.race([
      client.request(3, 9, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }),
      new Promise<null>((r) => setTimeout(() => r(null), 2000)),
    ]);
    return !!answer && answer.controllerId >= 0 && nodeIds.every((id) => answer.brokers.some((b: { nodeId: number }) => b.nodeId === id));
  } catch {
    return false;
  } finally {
    client?.close();
  }
}

export interface SeenRequest {
  apiKey: number;
  version: number;
  clientId: string | null;
}

export interface RecordingProxy {
  port: number;
  /** Every request header that went through, in order. */
  requests: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A loopback TCP proxy in front of a broker that notes the header (API key, version, client id) of
 * every request passing through: advertise its port as the broker's listener and every client
 * connection, bootstrap or not, goes through it.
 */
export async function requestRecordingProxy(targetPort: number, port = 0): Promise<RecordingProxy> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    let pending = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      upstream.write(d);
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const size = pending.readInt32BE(0);
        const frame = pending.subarray(4, 4 + size);
        pending = pending.subarray(4 + size);
        const idLength = frame.length >= 10 ? frame.readInt16BE(8) : -1;
        requests.push({
          apiKey: frame.readInt16BE(0),
          version: frame.readInt16BE(2),
          clientId: idLength < 0 ? null : frame.subarray(10, 10 + idLength).toString('utf8'),
        });
      }
    });
    upstream.on('data', (d) => client.write(d));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The version ranges a broker advertises in ApiVersions, by API key. */
export async function advertisedVersions(port: number): Promise<Map<number, [number, number]>> {
  const client = await RawClient.connect(port);
  try {
    const body = await client.request(18, 0, {});
    return new Map((body.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[]).map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
  } finally {
    client.close();
  }
}

/**
 * Resolves once Metadata from the broker at `bootstrap` (host:port) shows every partition of each
 * topic with a leader. Kafka's KRaft broker answers CreateTopics once its controller has committed
 * the topic, and its own metadata cache learns of it from the metadata log a moment later: a
 * Metadata in between answers UNKNOWN_TOPIC_OR_PARTITION (39 times in 40 when asked at once, load
 * 14), on which kafkajs's createTopics({ waitForLeaders: true }) gives up ("This server does not
 * host this topic-partition": offsets-log-as-kafka.test.ts in a full run at load ~25). Call it after
 * createTopics without waitForLeaders.
 */
export async function waitForTopicLeaders(bootstrap: string, topics: { topic: string; numPartitions: number }[], timeoutMs = 60_000): Promise<void> {
  const [host, port] = [bootstrap.slice(0, bootstrap.lastIndexOf(':')), Number(bootstrap.slice(bootstrap.lastIndexOf(':') + 1))];
  const client = await RawClient.connect(port, host);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  try {
    for (;;) {
      const md = await client.request(3, 9, { topics: topics.map((t) => ({ name: t.topic })), allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      const ready = topics.every((t) => {
        const found = (md.topics as { name: string; errorCode: number; partitions: { leaderId: number }[] }[]).find((x) => x.name === t.topic);
        return found?.errorCode === 0 && found.partitions.length === t.numPartitions && found.partitions.every((p) => p.leaderId >= 0);
      });
      if (ready) return;
      last = JSON.stringify((md.topics as { name: string; errorCode: number; partitions: { leaderId: number }[] }[]).map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.leaderId)]));
      if (Date.now() > deadline) throw new Error(`the leaders of ${topics.map((t) => t.topic).join(', ')} did not show within ${timeoutMs} ms; last: ${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}
