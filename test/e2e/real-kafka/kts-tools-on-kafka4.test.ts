// The kts tools driving a real Apache Kafka 4.4 broker (KRaft): what a team that outgrew one
// machine does with them. Kafka 4 removed the old protocol versions (KIP-896), so every request the
// tools send goes through a proxy that notes its version, and the last test checks them all.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tempDir } from '../../helpers/broker.js';
import {
  advertisedVersions,
  KAFKA_4,
  kafkaLib,
  type RealKafka,
  type RecordingProxy,
  requestRecordingProxy,
  startRealKafka,
} from '../../helpers/real-kafka.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { kts } from '../cli/support.js';

const installed = !!kafkaLib(KAFKA_4);

describe.skipIf(!installed)('kts tools against Apache Kafka 4.4 (KRaft)', () => {
  let kafka: RealKafka;
  let proxy: RecordingProxy;
  let bootstrap: string;

  beforeAll(async () => {
    const port = await freePort();
    proxy = await requestRecordingProxy(port);
    // Advertise the proxy: every connection of every client, not only the bootstrap one, crosses it.
    kafka = await startRealKafka(KAFKA_4, { port, props: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` } });
    bootstrap = `127.0.0.1:${proxy.port}`;
  }, 180_000);

  afterAll(async () => {
    await proxy?.close();
    await kafka?.stop();
  }, 60_000);

  const ok = async (args: string[], input?: string) => {
    const r = await kts([...args.slice(0, 1), '--bootstrap-server', bootstrap, ...args.slice(1)], { input, timeoutMs: 60_000 });
    expect(r.code, `kts ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
    return r.stdout;
  };

  it('topics: create, list, describe (ELR from DescribeTopicPartitions), alter, and errors as Kafka words them', async () => {
    expect(await ok(['topics', '--create', '--topic', 'orders', '--partitions', '3', '--config', 'retention.ms=3600000'])).toBe('Created topic orders.\n');
    const again = await kts(['topics', '--bootstrap-server', bootstrap, '--create', '--topic', 'orders', '--partitions', '3']);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe("Error while executing topic command : Topic 'orders' already exists.\n");
    expect(await ok(['topics', '--list'])).toBe('orders\n');

    const described = (await ok(['topics', '--describe', '--topic', 'orders'])).split('\n');
    expect(described[0]).toMatch(/^Topic: orders\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: .*retention\.ms=3600000/);
    // A KRaft broker knows each partition's eligible leader replicas: Kafka's tool prints empty
    // lists there, N/A only for brokers that cannot tell (ZooKeeper mode, kts).
    expect(described.slice(1)).toEqual([0, 1, 2].map((p) => `\tTopic: orders\tPartition: ${p}\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: `).concat(''));

    expect(await ok(['topics', '--alter', '--topic', 'orders', '--partitions', '4'])).toBe('');
    await waitFor('4 partitions', async () => (await ok(['topics', '--describe', '--topic', 'orders'])).includes('PartitionCount: 4'), 20_000);

    const missing = await kts(['topics', '--bootstrap-server', bootstrap, '--describe', '--topic', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("Error while executing topic command : Topic 'nope' does not exist as expected\n");
  });

  it('console-producer and console-consumer round-trip keyed records; the group commits them', async () => {
    const lines = Array.from({ length: 20 }, (_, i) => `k${i % 4}\tv${i}`);
    expect(await ok(['console-producer', '--topic', 'orders', '--property', 'parse.key=true'], lines.join('\n') + '\n')).toBe('');
    const r = await kts(
      ['console-consumer', '--bootstrap-server', bootstrap, '--topic', 'orders', '--from-beginning', '--max-messages', '20', '--group', 'g1', '--property', 'print.key=true'],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual([...lines].sort());
    expect(r.stderr).toBe('Processed a total of 20 messages\n');
  });

  it('consumer-groups --list and --describe show the group and its committed offsets', async () => {
    expect((await ok(['consumer-groups', '--list'])).split('\n')).toContain('g1');
    const out = await ok(['consumer-groups', '--describe', '--group', 'g1']);
    const rows = out.split('\n').filter((l) => l.startsWith('g1 ')).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r[2]).sort()).toEqual(['0', '1', '2', '3']);
    expect(rows.reduce((sum, r) => sum + Number(r[3]), 0)).toBe(20); // CURRENT-OFFSET
    expect(rows.every((r) => r[3] === r[4] && r[5] === '0')).toBe(true); // at the end, no lag
  });

  it('get-offsets shows the latest and earliest offsets', async () => {
    const latest = (await ok(['get-offsets', '--topic', 'orders'])).trim().split('\n');
    expect(latest.map((l) => l.split(':')[1])).toEqual(['0', '1', '2', '3']);
    expect(latest.reduce((sum, l) => sum + Number(l.split(':')[2]), 0)).toBe(20);
    expect(await ok(['get-offsets', '--topic', 'orders', '--time', '-2'])).toBe('orders:0:0\norders:1:0\norders:2:0\norders:3:0\n');
  });

  it('configs --describe and --alter a topic, and describe a broker', async () => {
    expect(await ok(['configs', '--describe', '--entity-type', 'topics', '--entity-name', 'orders'])).toContain('retention.ms=3600000');
    expect(await ok(['configs', '--alter', '--entity-type', 'topics', '--entity-name', 'orders', '--add-config', 'retention.ms=7200000'])).toBe(
      'Completed updating config for topic orders.\n',
    );
    await waitFor('altered retention', async () => (await ok(['configs', '--describe', '--entity-type', 'topics', '--entity-name', 'orders'])).includes('retention.ms=7200000'), 20_000);
    expect(await ok(['configs', '--describe', '--entity-type', 'brokers', '--entity-name', '1'])).toMatch(/^Dynamic configs for broker 1 are:\n/);
  });

  it('delete-records moves the low watermark', async () => {
    const latest = (await ok(['get-offsets', '--topic', 'orders'])).trim().split('\n').map((l) => l.split(':').map(String));
    const [, partition, end] = latest.find((l) => Number(l[2]) >= 2)!;
    const file = join(tempDir('delete-records-'), 'offsets.json');
    writeFileSync(file, JSON.stringify({ version: 1, partitions: [{ topic: 'orders', partition: Number(partition), offset: Number(end) - 1 }] }));
    const out = await ok(['delete-records', '--offset-json-file', file]);
    expect(out).toContain(`partition: orders-${partition}\tlow_watermark: ${Number(end) - 1}`);
    expect(await ok(['get-offsets', '--topic', 'orders', '--partitions', partition, '--time', '-2'])).toBe(`orders:${partition}:${Number(end) - 1}\n`);
  });

  it('topics --delete removes the topic', async () => {
    expect(await ok(['topics', '--delete', '--topic', 'orders'])).toBe('');
    await waitFor('orders gone', async () => !(await ok(['topics', '--list'])).split('\n').includes('orders'), 20_000);
  });

  it('never sent a request version Kafka 4.4 does not serve (KIP-896)', async () => {
    const advertised = await advertisedVersions(kafka.port);
    const seen = new Map<string, number>();
    for (const r of proxy.requests) seen.set(`${r.apiKey}v${r.version}`, r.apiKey);
    expect(seen.size).toBeGreaterThan(10);
    const outside = [...seen.keys()].filter((k) => {
      const [apiKey, version] = k.split('v').map(Number);
      const range = advertised.get(apiKey);
      // Produce v0-2 are still advertised by Kafka 4 (for librdkafka) but refused on use.
      const floor = apiKey === 0 ? Math.max(3, range?.[0] ?? 0) : range?.[0];
      return !range || version < floor! || version > range[1];
    });
    expect(outside).toEqual([]);
  });
});
