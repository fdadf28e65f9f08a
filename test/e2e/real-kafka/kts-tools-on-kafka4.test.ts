// The kts tools driving a real Apache Kafka 4.4 cluster (KRaft, three brokers, each also a
// controller): what a team that outgrew one machine does with them. Where Kafka's own tool can run
// the same command, Kafka 3.9's tool (whose text kts prints by default) runs it against the same
// cluster and the outputs must match byte for byte; the rest is asserted by content.
//
// Kafka 4 removed the old protocol versions (KIP-896), so every request the kts tools send goes
// through a proxy per broker that notes its version, and the last test checks them all. Kafka's
// own tools and the brokers' replication use a second listener that bypasses the proxies.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tempDir } from '../../helpers/broker.js';
import { ASSIGNMENT_WITHOUT_TOPIC, type Outcome, ROWS_RUN_TOGETHER } from '../../helpers/oracle.js';
import {
  advertisedVersions,
  KAFKA_3,
  KAFKA_4,
  kafkaLib,
  type KafkaTool,
  type RealKafkaCluster,
  type RecordingProxy,
  requestRecordingProxy,
  runKafkaTool,
  startKafkaTool,
  startRealKafkaCluster,
} from '../../helpers/real-kafka.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { kts } from '../cli/support.js';

const installed = !!kafkaLib(KAFKA_4) && !!kafkaLib(KAFKA_3);
// Each test runs JVM tools beside a three-JVM cluster on two (shared) cores.
const TEST_TIMEOUT = 300_000;

describe.skipIf(!installed)('kts tools against Apache Kafka 4.4 (KRaft, three brokers)', () => {
  let cluster: RealKafkaCluster;
  let proxies: RecordingProxy[] = [];
  /** The proxies: what kts is given. */
  let bootstrap: string;

  beforeAll(async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    proxies = await Promise.all(ports.map((p) => requestRecordingProxy(p)));
    cluster = await startRealKafkaCluster(KAFKA_4, { ports, advertisedPorts: proxies.map((p) => p.port) });
    bootstrap = proxies.map((p) => `127.0.0.1:${p.port}`).join(',');
  }, 300_000);

  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await cluster?.stop();
  }, 120_000);

  /** Once broker 3 is stopped, both sides are given only the live brokers (Kafka warns of a dead bootstrap). */
  let live = 3;
  const ktsRun = async (args: string[], input?: string): Promise<Outcome> => {
    const servers = bootstrap.split(',').slice(0, live).join(',');
    const r = await kts([...args.slice(0, 1), '--bootstrap-server', servers, ...args.slice(1)], { input, timeoutMs: 90_000 });
    return { code: r.code, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = async (args: string[], input?: string) => {
    const r = await ktsRun(args, input);
    expect(r.code, `kts ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
    return r.stdout;
  };
  /** Kafka 3.9's tool against the same cluster (its INTERNAL listeners, not the proxies). */
  const kafkaOnce = (tool: KafkaTool, args: string[], input?: string) =>
    runKafkaTool(KAFKA_3, tool, ['--bootstrap-server', cluster.internalBootstrap.split(',').slice(0, live).join(','), ...args], { input, timeoutMs: 120_000 });
  /** The oracle's own client gives up after its default timeouts (5 s for consumer-groups) when a loaded machine slows
   * the JVMs down ("Timed out waiting for a node assignment", "Failed to find brokers"): that is not an answer to
   * compare with, so the tool is run again, a few times at most. No command here expects a timeout. */
  const kafka = async (tool: KafkaTool, args: string[], input?: string): Promise<Outcome> => {
    for (let attempt = 1; ; attempt++) {
      const r = await kafkaOnce(tool, args, input);
      if (attempt === 4 || !/org\.apache\.kafka\.common\.errors\.(TimeoutException|DisconnectException)/.test(r.stdout + r.stderr)) return r;
    }
  };
  /** What differs by nature: the address each side was given (the proxies' or the brokers' own). */
  const addresses = (t: string) => t.replace(/127\.0\.0\.1:\d+/g, '{host:port}');
  /** And the time a WARN line starts with (Kafka's tools-log4j pattern, kts prints the same). */
  const logTimes = (t: string) => t.replace(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] /gm, '[{time}] ');
  /** kts and Kafka 3.9's tool, the same command on the same cluster: the same outcome. */
  const same = async (tool: KafkaTool, args: string[], opts: { normalise?: (t: string) => string; compare?: (o: Outcome) => unknown } = {}) => {
    const [ours, theirs] = await Promise.all([ktsRun([tool, ...args]), kafka(tool, args)]);
    const n = (o: Outcome): Outcome => {
      const f = (t: string) => (opts.normalise ?? ((x: string) => x))(logTimes(addresses(t)));
      return { code: o.code, stdout: f(o.stdout), stderr: f(o.stderr) };
    };
    const compare = opts.compare ?? ((o: Outcome) => o);
    expect(compare(n(ours)), `kts ${tool} ${args.join(' ')}\nKafka 3.9 printed: ${JSON.stringify(theirs, null, 1)}`).toEqual(compare(n(theirs)));
    return ours;
  };

  it('topics: create RF=3, describe replicas and ISR over three brokers, alter, and errors as Kafka words them', async () => {
    expect(await ok(['topics', '--create', '--topic', 'orders', '--partitions', '3', '--replication-factor', '3', '--config', 'retention.ms=3600000'])).toBe(
      'Created topic orders.\n',
    );
    expect(await ok(['topics', '--create', '--topic', 'spread', '--partitions', '3', '--replication-factor', '3'])).toBe('Created topic spread.\n');
    const again = await ktsRun(['topics', '--create', '--topic', 'orders', '--partitions', '3']);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("Error while executing topic command : Topic 'orders' already exists.\n");
    await waitFor('every ISR full', async () => (await ok(['topics', '--describe', '--under-replicated-partitions'])) === '', 60_000);
    expect(await ok(['topics', '--list'])).toBe('orders\nspread\n');

    const described = (await same('topics', ['--describe', '--topic', 'orders'])).stdout.split('\n');
    expect(described[0]).toMatch(/^Topic: orders\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 3\tConfigs: .*retention\.ms=3600000/);
    const partitions = described.slice(1, 4).map((l) => /^\tTopic: orders\tPartition: (\d)\tLeader: (\d)\tReplicas: ([\d,]+)\tIsr: ([\d,]+)\tElr: \tLastKnownElr: $/.exec(l));
    expect(partitions.every(Boolean), described.join('\n')).toBe(true);
    for (const [, , leader, replicas, isr] of partitions as RegExpExecArray[]) {
      expect(replicas.split(',').sort()).toEqual(['1', '2', '3']);
      expect(isr.split(',').sort()).toEqual(['1', '2', '3']);
      expect(leader).toBe(replicas.split(',')[0]); // the preferred replica leads
    }
    // Kafka spreads the leaders: each broker leads one of the three partitions.
    expect(partitions.map((p) => p![2]).sort()).toEqual(['1', '2', '3']);
    for (const flag of ['--under-replicated-partitions', '--under-min-isr-partitions', '--at-min-isr-partitions', '--unavailable-partitions']) {
      expect((await same('topics', ['--describe', flag])).stdout).toBe('');
    }

    expect(await ok(['topics', '--alter', '--topic', 'orders', '--partitions', '4'])).toBe('');
    await waitFor('4 partitions', async () => (await ok(['topics', '--describe', '--topic', 'orders'])).includes('PartitionCount: 4'), 30_000);
    const altered = (await ok(['topics', '--describe', '--topic', 'orders'])).split('\n');
    expect(altered[4]).toMatch(/^\tTopic: orders\tPartition: 3\tLeader: \d\tReplicas: \d,\d,\d\tIsr: /);

    // Kafka 3.9 prints Optional[nope] there and a stack trace (test/e2e/real-kafka/oracle-topics.test.ts).
    const missing = await ktsRun(['topics', '--describe', '--topic', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("Error while executing topic command : Topic 'nope' does not exist as expected\n");
  }, TEST_TIMEOUT);

  const lines = Array.from({ length: 20 }, (_, i) => `trace:t${i},source:test\tk${i % 4}\tv${i}`);

  it('console-producer (keys, headers, acks=all) and console-consumer (from the beginning, in a group) round-trip records', async () => {
    expect(await ok(['console-producer', '--topic', 'orders', '--request-required-acks', 'all', '--property', 'parse.key=true', '--property', 'parse.headers=true'], lines.join('\n') + '\n')).toBe('');
    const consume = ['--topic', 'orders', '--from-beginning', '--max-messages', '20', '--property', 'print.key=true', '--property', 'print.headers=true', '--property', 'print.partition=true'];
    const ours = await ktsRun(['console-consumer', ...consume, '--group', 'g1']);
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stderr).toBe('Processed a total of 20 messages\n');
    // Partition:<n>\t<headers>\t<key>\t<value>; records of one key keep their order in their partition.
    const got = ours.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(got.map((f) => f.slice(1).join('\t')).sort()).toEqual([...lines].sort());
    const partitionOfKey = new Map<string, string>();
    for (const [partition, , key] of got) expect(partitionOfKey.set(key, partitionOfKey.get(key) ?? partition).get(key)).toBe(partition);
    // Kafka's consumer reads the same records, placed on the same partitions (murmur2 of the key).
    const theirs = await kafkaOnce('console-consumer', [...consume, '--group', 'g-kafka']); // not re-run: it commits
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(ours.stdout.trim().split('\n').sort()).toEqual(theirs.stdout.trim().split('\n').sort());
  }, TEST_TIMEOUT);

  it('consumer-groups: list, describe and reset a classic group, as Kafka 3.9 prints them', async () => {
    const listed = await same('consumer-groups', ['--list'], { normalise: (t) => t.split('\n').sort().join('\n') });
    expect(listed.stdout.split('\n')).toEqual(expect.arrayContaining(['g1', 'g-kafka']));
    const described = await same('consumer-groups', ['--describe', '--group', 'g1'], { compare: ROWS_RUN_TOGETHER.compare });
    const rows = described.stdout.split('\n').filter((l) => l.startsWith('g1 ')).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r[2]).sort()).toEqual(['0', '1', '2', '3']);
    expect(rows.reduce((sum, r) => sum + Number(r[3]), 0)).toBe(20); // CURRENT-OFFSET
    expect(rows.every((r) => r[3] === r[4] && r[5] === '0')).toBe(true); // at the end, no lag
    await same('consumer-groups', ['--describe', '--group', 'g1', '--state'], { normalise: (t) => t.replace(/ +/g, ' ') });

    await same('consumer-groups', ['--reset-offsets', '--group', 'g1', '--topic', 'orders', '--to-earliest', '--dry-run'], { compare: ROWS_RUN_TOGETHER.compare });
    const reset = await ok(['consumer-groups', '--reset-offsets', '--group', 'g1', '--topic', 'orders', '--to-earliest', '--execute']);
    expect(reset.split('\n').filter((l) => l.startsWith('g1 ')).map((l) => l.trim().split(/\s+/)[3])).toEqual(['0', '0', '0', '0']);
    const after = await ok(['consumer-groups', '--describe', '--group', 'g1']);
    expect(after.split('\n').filter((l) => l.startsWith('g1 ')).reduce((lag, l) => lag + Number(l.trim().split(/\s+/)[5]), 0)).toBe(20);
  }, TEST_TIMEOUT);

  it('consumer-groups: a group of the new consumer type (KIP-848), live and empty, through ConsumerGroupDescribe', async () => {
    // Kafka 4.4's own console consumer joins with the consumer protocol and stays in the group.
    const consumer = startKafkaTool(KAFKA_4, 'console-consumer', [
      '--bootstrap-server', cluster.internalBootstrap, '--topic', 'orders', '--group', 'g848', '--from-beginning',
      '--consumer-property', 'group.protocol=consumer', '--consumer-property', 'client.id=kip848-console',
    ]);
    try {
      await consumer.waitForStdout((out) => out.split('\n').length > 20);
      // Offsets are committed every 5 s (auto commit): wait until all 20 are.
      const rowsOf = (out: string) => out.split('\n').filter((l) => l.startsWith('g848 ')).map((l) => l.trim().split(/\s+/));
      await waitFor('g848 committed everything', async () => rowsOf(await ok(['consumer-groups', '--describe', '--group', 'g848'])).filter((r) => r[5] === '0').length === 4, 60_000);

      const described = await same('consumer-groups', ['--describe', '--group', 'g848'], { compare: ROWS_RUN_TOGETHER.compare });
      const rows = rowsOf(described.stdout);
      expect(rows.map((r) => r[2]).sort()).toEqual(['0', '1', '2', '3']);
      expect(rows.every((r) => r[5] === '0' && r[8] === 'kip848-console')).toBe(true);
      const members = await same('consumer-groups', ['--describe', '--group', 'g848', '--members', '--verbose'], { compare: ASSIGNMENT_WITHOUT_TOPIC.compare });
      expect(members.stdout).toMatch(/\ng848 +\S+ +\/127\.0\.0\.1 +kip848-console +4 +orders\(0,1,2,3\)\s*\n/);
      const state = await same('consumer-groups', ['--describe', '--group', 'g848', '--state'], { normalise: (t) => t.replace(/ +/g, ' ') });
      // A consumer group's assignor is the broker's (uniform by default), its state Stable.
      expect(state.stdout).toMatch(/\ng848 +127\.0\.0\.1:\d+ +\(\d\) +uniform +Stable +1\s*\n/);
      await same('consumer-groups', ['--list', '--state'], { normalise: (t) => t.split('\n').sort().join('\n') });
    } finally {
      await consumer.stop();
    }
    // Its member gone (it left on SIGTERM), the group is empty; its offsets stay until it is deleted.
    await waitFor('g848 empty', async () => (await ktsRun(['consumer-groups', '--describe', '--group', 'g848'])).stderr.includes("Consumer group 'g848' has no active members."), 60_000);
    await same('consumer-groups', ['--describe', '--group', 'g848'], { compare: ROWS_RUN_TOGETHER.compare });
    await same('consumer-groups', ['--reset-offsets', '--group', 'g848', '--all-topics', '--to-offset', '1', '--dry-run'], { compare: ROWS_RUN_TOGETHER.compare });
    expect(await ok(['consumer-groups', '--delete', '--group', 'g848'])).toBe("Deletion of requested consumer groups ('g848') was successful.\n");
    const gone = await same('consumer-groups', ['--describe', '--group', 'g848']);
    expect(gone.stdout).toBe("\nError: Consumer group 'g848' does not exist.\n");
  }, TEST_TIMEOUT);

  it('get-offsets: latest, earliest and max-timestamp offsets as Kafka prints them', async () => {
    const latest = (await same('get-offsets', ['--topic', 'orders'])).stdout.trim().split('\n');
    expect(latest.map((l) => l.split(':')[1])).toEqual(['0', '1', '2', '3']);
    expect(latest.reduce((sum, l) => sum + Number(l.split(':')[2]), 0)).toBe(20);
    expect((await same('get-offsets', ['--topic', 'orders', '--time', '-2'])).stdout).toBe('orders:0:0\norders:1:0\norders:2:0\norders:3:0\n');
    await same('get-offsets', ['--topic-partitions', 'orders:0-1,spread', '--time', '-3']);
  }, TEST_TIMEOUT);

  it('configs: describe and alter a topic and a broker', async () => {
    expect((await same('configs', ['--describe', '--entity-type', 'topics', '--entity-name', 'orders'])).stdout).toContain('retention.ms=3600000');
    expect(await ok(['configs', '--alter', '--entity-type', 'topics', '--entity-name', 'orders', '--add-config', 'retention.ms=7200000,max.message.bytes=2000000'])).toBe(
      'Completed updating config for topic orders.\n',
    );
    await waitFor('altered topic', async () => (await ok(['configs', '--describe', '--entity-type', 'topics', '--entity-name', 'orders'])).includes('retention.ms=7200000'), 30_000);
    await same('configs', ['--describe', '--entity-type', 'topics', '--entity-name', 'orders']);

    expect(await ok(['configs', '--alter', '--entity-type', 'brokers', '--entity-name', '2', '--add-config', 'log.cleaner.threads=2'])).toBe(
      'Completed updating config for broker 2.\n',
    );
    await waitFor('altered broker', async () => (await ok(['configs', '--describe', '--entity-type', 'brokers', '--entity-name', '2'])).includes('log.cleaner.threads=2'), 30_000);
    const broker = await same('configs', ['--describe', '--entity-type', 'brokers', '--entity-name', '2']);
    expect(broker.stdout).toMatch(/^Dynamic configs for broker 2 are:\n {2}log\.cleaner\.threads=2 sensitive=false synonyms=\{DYNAMIC_BROKER_CONFIG:log\.cleaner\.threads=2/);
    await same('configs', ['--describe', '--entity-type', 'brokers', '--entity-name', '1']);
    expect(await ok(['configs', '--alter', '--entity-type', 'brokers', '--entity-name', '2', '--delete-config', 'log.cleaner.threads'])).toBe(
      'Completed updating config for broker 2.\n',
    );
  }, TEST_TIMEOUT);

  it('delete-records moves the low watermark on every replica', async () => {
    const latest = (await ok(['get-offsets', '--topic', 'orders'])).trim().split('\n').map((l) => l.split(':'));
    const [, partition, end] = latest.find((l) => Number(l[2]) >= 2)!;
    const file = join(tempDir('delete-records-'), 'offsets.json');
    writeFileSync(file, JSON.stringify({ version: 1, partitions: [{ topic: 'orders', partition: Number(partition), offset: Number(end) - 1 }] }));
    const out = await ok(['delete-records', '--offset-json-file', file]);
    expect(out).toBe(`Executing records delete operation\nRecords delete operation completed:\npartition: orders-${partition}\tlow_watermark: ${Number(end) - 1}\n`);
    expect((await same('get-offsets', ['--topic-partitions', `orders:${partition}`, '--time', '-2'])).stdout).toBe(`orders:${partition}:${Number(end) - 1}\n`);
  }, TEST_TIMEOUT);

  it('topics --describe reports the partitions a stopped broker left under-replicated', async () => {
    expect(await cluster.nodes[2].stop()).toBe(143); // the JVM's exit on SIGTERM, after a controlled shutdown
    live = 2;
    await waitFor('broker 3 out of every ISR', async () => (await ok(['topics', '--describe', '--topic', 'spread'])).split('\n').slice(1, 4).every((l) => /Isr: \d,\d\t/.test(l) && !/Isr: .*3/.test(l)), 60_000);
    const under = await same('topics', ['--describe', '--under-replicated-partitions', '--topic', 'spread']);
    const rows = under.stdout.split('\n').filter(Boolean).map((l) => /^\tTopic: spread\tPartition: (\d)\tLeader: ([12])\tReplicas: ([\d,]+)\tIsr: ([\d,]+)\tElr: \tLastKnownElr: $/.exec(l));
    expect(rows.every(Boolean), under.stdout).toBe(true);
    const sorted = (list: string) => list.split(',').sort().join(',');
    expect(rows.map((r) => [r![1], sorted(r![3]), sorted(r![4])])).toEqual([0, 1, 2].map((p) => [String(p), '1,2,3', '1,2']));
    expect((await same('topics', ['--describe', '--unavailable-partitions'])).stdout).toBe('');
  }, TEST_TIMEOUT);

  it('topics --delete removes the topic', async () => {
    expect(await ok(['topics', '--delete', '--topic', 'orders'])).toBe('');
    await waitFor('orders gone', async () => !(await ok(['topics', '--list'])).split('\n').includes('orders'), 30_000);
  }, TEST_TIMEOUT);

  it('never sent a request version Kafka 4.4 does not serve (KIP-896), and described the consumer group with ConsumerGroupDescribe', async () => {
    const advertised = await advertisedVersions(cluster.nodes[0].port);
    const seen = new Map<string, number>();
    for (const proxy of proxies) for (const r of proxy.requests) seen.set(`${r.apiKey}v${r.version}`, r.apiKey);
    expect(seen.size).toBeGreaterThan(10);
    const outside = [...seen.keys()].filter((k) => {
      const [apiKey, version] = k.split('v').map(Number);
      const range = advertised.get(apiKey);
      // Produce v0-2 are still advertised by Kafka 4 (for librdkafka) but refused on use.
      const floor = apiKey === 0 ? Math.max(3, range?.[0] ?? 0) : range?.[0];
      return !range || version < floor! || version > range[1];
    });
    expect(outside).toEqual([]);
    expect([...seen.values()]).toContain(69);
    for (const node of cluster.nodes) expect(node.output()).not.toMatch(/UNSUPPORTED_VERSION|UnsupportedVersion/);
  }, TEST_TIMEOUT);
});
