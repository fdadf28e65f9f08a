// The real Apache Kafka in the test suite: a Kafka 4.4 broker in KRaft mode (broker and controller in
// one JVM) or a Kafka 3.9 broker on a ZooKeeper (kts's coordinator), and Kafka's own command-line
// tools, run from the jars scripts/fetch-kafka.mjs assembles from Maven Central (.ci/run calls it).
//
// Locally a version that was never fetched skips its tests; in CI (KTS_REQUIRE_INTEROP=1) it fails
// them, so a green CI run always means the real Kafka ran. JVMs start slowly on two loaded cores:
// share one broker per test file.
import { type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { freePort, tempDir } from './broker.js';
import { spawnTracked } from './processes.js';
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
    storage: 'kafka.tools.StorageTool',
    'producer-perf-test': 'org.apache.kafka.tools.ProducerPerformance',
  },
  [KAFKA_3]: {
    topics: 'org.apache.kafka.tools.TopicCommand',
    'console-producer': 'kafka.tools.ConsoleProducer',
    'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
    'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
    'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
    configs: 'kafka.admin.ConfigCommand',
    'delete-records': 'org.apache.kafka.tools.DeleteRecordsCommand',
    storage: 'kafka.tools.StorageTool',
    'producer-perf-test': 'org.apache.kafka.tools.ProducerPerformance',
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
  | 'storage'
  | 'producer-perf-test';

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

/** Runs one of Kafka's tools (the class its kafka-*.sh script runs) and captures what it prints. */
export function runKafkaTool(
  version: KafkaVersion,
  tool: KafkaTool,
  args: string[],
  opts: { input?: string | Buffer; timeoutMs?: number } = {},
): Promise<ToolResult> {
  const argv = [...jvmArgs(version, '256m'), TOOL_CLASSES[version][tool], ...args];
  return new Promise((resolve, reject) => {
    const child = spawnTracked('java', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
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

async function startOnce(version: KafkaVersion, opts: RealKafkaOptions): Promise<RealKafka> {
  const nodeId = opts.nodeId ?? 1;
  const port = opts.port ?? (await freePort());
  const dir = tempDir(`real-kafka-${version}-`);
  const dataDir = join(dir, 'data');
  const props: Record<string, string | number> = {
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
  if (opts.zookeeper) {
    Object.assign(props, {
      'broker.id': nodeId,
      'zookeeper.connect': opts.zookeeper,
      listeners: `PLAINTEXT://127.0.0.1:${port}`,
    });
  } else {
    const controllerPort = await freePort();
    Object.assign(props, {
      'process.roles': 'broker,controller',
      'node.id': nodeId,
      'controller.quorum.voters': `${nodeId}@127.0.0.1:${controllerPort}`,
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    });
  }
  Object.assign(props, opts.props);
  const config = join(dir, 'server.properties');
  writeFileSync(config, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');

  if (!opts.zookeeper) await kafkaTool(version, 'storage', ['format', `--cluster-id=${randomClusterId()}`, '--config', config]);

  const child = spawnTracked('java', [...jvmArgs(version, '512m'), 'kafka.Kafka', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const stop = async (timeoutMs = 30_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return null;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  try {
    await waitForBroker(child, port, nodeId, opts.timeoutMs ?? 90_000, () => out);
  } catch (e) {
    await stop(5000);
    throw e;
  }
  return { version, bootstrap: `127.0.0.1:${port}`, port, nodeId, dataDir, output: () => out, stop };
}

/** Polls Metadata until the broker lists itself and names a controller. */
async function waitForBroker(child: ChildProcess, port: number, nodeId: number, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Kafka exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output()}`);
    if (await answersMetadata(port, nodeId)) return;
    if (Date.now() > deadline) throw new Error(`Kafka did not answer Metadata within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function answersMetadata(port: number, nodeId: number): Promise<boolean> {
  let client: RawClient | undefined;
  try {
    client = await RawClient.connect(port);
    const answer = await Promise.race([
      client.request(3, 9, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }),
      new Promise<null>((r) => setTimeout(() => r(null), 2000)),
    ]);
    return !!answer && answer.controllerId >= 0 && answer.brokers.some((b: { nodeId: number }) => b.nodeId === nodeId);
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
