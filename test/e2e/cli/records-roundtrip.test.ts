// Records through the tools: the JSONL dump/replay reproduces a topic exactly (partitions, order,
// keys, nulls, binary, headers, timestamps); --from/--until; every print.* field; consumer groups
// resume from committed offsets; and the wire format checked by other clients (kafkajs, kcat).
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { kcat } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';
import { kts } from './support.js';

describe('records through the tools', () => {
  let broker: SpawnedBroker;
  let b: string;
  let kafka: Kafka;
  beforeAll(async () => {
    broker = await spawnBroker();
    b = broker.bootstrap;
    kafka = new Kafka({ clientId: 'kts-cli-test', brokers: [b], logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('JSONL out of one topic and back into another reproduces it exactly', async () => {
    await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'src', '--partitions', '3']);
    await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'dst', '--partitions', '3']);
    const producer = kafka.producer();
    await producer.connect();
    const messages = [
      { partition: 0, key: 'k', value: 'text', headers: { h1: 'v1', h2: Buffer.from([0xc3, 0x28]), ctl: Buffer.from([0, 1]) }, timestamp: '1718000000000' },
      { partition: 0, key: null, value: null },
      { partition: 1, key: Buffer.from([0xff, 0xfe, 0x00]), value: Buffer.from([0x80, 0x81]) },
      { partition: 2, key: '', value: '', headers: { empty: '' } },
      { partition: 2, key: 'ünïcødé', value: 'line\nbreak\ttab "quotes"' },
    ];
    await producer.send({ topic: 'src', messages: messages as never });
    await producer.disconnect();

    const dump = await kts(['console-consumer', '--bootstrap-server', b, '--topic', 'src', '--from-beginning', '--until', 'end', '--output', 'jsonl']);
    expect(dump.code).toBe(0);
    expect(dump.stderr).toBe('Processed a total of 5 messages\n');
    const lines = dump.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.find((l) => l.partition === 1)).toMatchObject({ key: { base64: '//4A' }, value: { base64: 'gIE=' }, headers: [] });
    expect(lines.find((l) => l.partition === 0 && l.offset === 0)).toMatchObject({
      key: 'k',
      value: 'text',
      timestamp: 1718000000000,
      timestampType: 'CreateTime',
      headers: [{ key: 'h1', value: 'v1' }, { key: 'h2', value: { base64: 'wyg=' } }, { key: 'ctl', value: '\u0000\u0001' }],
    });
    expect(lines.find((l) => l.partition === 0 && l.offset === 1)).toMatchObject({ key: null, value: null });

    const replay = await kts(['console-producer', '--bootstrap-server', b, '--topic', 'dst', '--input', 'jsonl'], { input: dump.stdout });
    expect(replay).toMatchObject({ code: 0, stderr: '' });
    const again = await kts(['console-consumer', '--bootstrap-server', b, '--topic', 'dst', '--from-beginning', '--until', 'end', '--output', 'jsonl']);
    const sortKey = (l: { partition: number; offset: number }) => l.partition * 1000 + l.offset;
    const norm = (text: string, topic: string) =>
      text.trim().split('\n').map((l) => JSON.parse(l)).map((l) => ({ ...l, topic })).sort((x, y) => sortKey(x) - sortKey(y));
    expect(norm(again.stdout, 'x')).toEqual(norm(dump.stdout, 'x'));
  });

  it('--from and --until select ranges by offset, count and time', async () => {
    await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'range']);
    await kts(['console-producer', '--bootstrap-server', b, '--topic', 'range'], { input: Array.from({ length: 10 }, (_, i) => `m${i}`).join('\n') + '\n' });
    const c = (...extra: string[]) => kts(['console-consumer', '--bootstrap-server', b, '--topic', 'range', ...extra]).then((r) => r.stdout.split('\n').filter(Boolean));
    expect(await c('--from', '3', '--until', '6')).toEqual(['m3', 'm4', 'm5']);
    expect(await c('--from', '-2', '--until', 'end')).toEqual(['m8', 'm9']);
    expect(await c('--from', 'earliest', '--until', '2')).toEqual(['m0', 'm1']);
    expect(await c('--from', '@-1h', '--until', 'end')).toHaveLength(10);
    expect(await c('--from', '@2999-01-01T00:00:00Z', '--until', 'end')).toEqual([]);
    expect(await c('--partition', '0', '--offset', '7', '--max-messages', '2')).toEqual(['m7', 'm8']);
    const timedOut = await kts(['console-consumer', '--bootstrap-server', b, '--topic', 'range', '--timeout-ms', '500']);
    expect(timedOut.code).toBe(0);
    expect(timedOut.stderr).toMatch(/ERROR Error processing message, terminating consumer process: {2}\(org\.apache\.kafka\.tools\.consumer\.ConsoleConsumer\)\norg\.apache\.kafka\.common\.errors\.TimeoutException\nProcessed a total of 0 messages\n$/);
  });

  it('prints every DefaultMessageFormatter field with producer-parsed keys and headers', async () => {
    await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'fields']);
    const input = 'trace:abc,tenant:7\tuser-42\thello\nx:1\tNULL\tNULL\n';
    const p = await kts(['console-producer', '--bootstrap-server', b, '--topic', 'fields', '--property', 'parse.key=true', '--property', 'parse.headers=true', '--property', 'null.marker=NULL'], { input });
    expect(p.code, p.stderr).toBe(0);
    const props = ['print.timestamp', 'print.partition', 'print.offset', 'print.headers', 'print.key'].flatMap((k) => ['--property', `${k}=true`]);
    const r = await kts(['console-consumer', '--bootstrap-server', b, '--topic', 'fields', '--from-beginning', '--until', 'end', ...props]);
    expect(r.stdout).toMatch(/^CreateTime:\d{13}\tPartition:0\tOffset:0\ttrace:abc,tenant:7\tuser-42\thello\nCreateTime:\d{13}\tPartition:0\tOffset:1\tx:1\tnull\tnull\n$/);
  });

  it('a consumer group resumes from its committed offsets', async () => {
    await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'grp', '--partitions', '2']);
    await kts(['console-producer', '--bootstrap-server', b, '--topic', 'grp'], { input: 'a\nb\nc\nd\n' });
    const first = await kts(['console-consumer', '--bootstrap-server', b, '--topic', 'grp', '--group', 'g1', '--from-beginning', '--max-messages', '4']);
    expect(first.stdout.split('\n').filter(Boolean).sort()).toEqual(['a', 'b', 'c', 'd']);
    await kts(['console-producer', '--bootstrap-server', b, '--topic', 'grp'], { input: 'e\n' });
    const second = await kts(['console-consumer', '--bootstrap-server', b, '--topic', 'grp', '--group', 'g1', '--max-messages', '1']);
    expect(second).toMatchObject({ code: 0, stdout: 'e\n' });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchOffsets({ groupId: 'g1', topics: ['grp'] });
    await admin.disconnect();
    expect(offsets[0].partitions.reduce((s, p) => s + Number(p.offset), 0)).toBe(5);
  });

  it('kafkajs reads what kts produced, with keys on the partitions Kafka\'s partitioner picks', async () => {
    await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'interop', '--partitions', '4']);
    const keys = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    await kts(['console-producer', '--bootstrap-server', b, '--topic', 'interop', '--property', 'parse.key=true', '--compression-codec', 'gzip'], {
      input: keys.map((k) => `${k}\tvalue-${k}`).join('\n') + '\n',
    });
    const consumer = kafka.consumer({ groupId: 'kafkajs-reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'interop', fromBeginning: true });
    const got: { key: string; value: string; partition: number }[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          got.push({ key: message.key!.toString(), value: message.value!.toString(), partition });
          if (got.length === keys.length) resolve();
        },
      });
    });
    await consumer.disconnect();
    const { Partitioners } = await import('kafkajs');
    const javaCompatible = Partitioners.DefaultPartitioner();
    for (const g of got) {
      expect(g.value).toBe(`value-${g.key}`);
      const expected = javaCompatible({ topic: 'interop', partitionMetadata: [0, 1, 2, 3].map((partitionId) => ({ partitionId, leader: 0 })) as never, message: { key: g.key, value: '' } });
      expect(g.partition).toBe(expected);
    }
  });

  it('kcat reads what kts produced and kts reads what kcat produced', async () => {
    if (!kcatPath()) return;
    await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'kc']);
    await kts(['console-producer', '--bootstrap-server', b, '--topic', 'kc', '--property', 'parse.key=true', '--compression-codec', 'lz4'], { input: 'k1\tfrom-kts\n' });
    await kcat(['-b', b, '-P', '-t', 'kc', '-K', ':', '-z', 'snappy'], { input: 'k2:from-kcat\n' });
    const out = await kcat(['-b', b, '-C', '-t', 'kc', '-e', '-f', '%k=%s\\n']);
    expect(out).toBe('k1=from-kts\nk2=from-kcat\n');
    const r = await kts(['console-consumer', '--bootstrap-server', b, '--topic', 'kc', '--from-beginning', '--until', 'end', '--property', 'print.key=true']);
    expect(r.stdout).toBe('k1\tfrom-kts\nk2\tfrom-kcat\n');
  });
});
