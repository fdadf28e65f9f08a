// kts as Kafka's scripts: a shell script written for Kafka's tools runs unchanged with symlinks
// named kafka-*.sh on its PATH; Kafka's exact text on stdout (not a terminal); --output json
// parses for every command.
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { kts } from './support.js';

const execFileP = promisify(execFile);

describe('Kafka script names and outputs', () => {
  let broker: SpawnedBroker;
  let b: string;
  let binDir: string;
  beforeAll(async () => {
    broker = await spawnBroker();
    b = broker.bootstrap;
    binDir = join(tempDir('kts-bin-'), 'bin');
    mkdirSync(binDir);
    for (const name of ['kafka-topics.sh', 'kafka-console-consumer.sh', 'kafka-console-producer.sh', 'kafka-get-offsets.sh', 'kafka-topics']) {
      symlinkSync(KTS_BIN, join(binDir, name));
    }
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('runs a shell script written for kafka-topics.sh and kafka-console-consumer.sh', async () => {
    const script = join(binDir, '..', 'walk.sh');
    writeFileSync(
      script,
      [
        'set -e',
        'kafka-topics.sh --bootstrap-server "$BS" --create --topic scripted --partitions 2 --replication-factor 1',
        'kafka-topics.sh --bootstrap-server "$BS" --list | grep -x scripted',
        'printf "a\\nb\\nc\\n" | kafka-console-producer.sh --bootstrap-server "$BS" --topic scripted',
        'kafka-console-consumer.sh --bootstrap-server "$BS" --topic scripted --from-beginning --max-messages 3 | sort',
        'kafka-get-offsets.sh --bootstrap-server "$BS" --topic scripted | awk -F: \'{ s += $3 } END { print "total", s }\'',
        'kafka-topics --bootstrap-server "$BS" --describe --topic scripted | head -1 | cut -f3',
        'if kafka-topics.sh --bootstrap-server "$BS" --describe --topic missing; then echo unexpected; else echo "exit $?"; fi',
      ].join('\n'),
    );
    const { stdout, stderr } = await execFileP('sh', [script], { env: { ...process.env, PATH: `${binDir}:${process.env.PATH}`, BS: b } });
    expect(stdout).toBe(
      'Created topic scripted.\nscripted\na\nb\nc\ntotal 3\nPartitionCount: 2\n' +
        "Error while executing topic command : Topic 'missing' does not exist as expected\nexit 1\n",
    );
    expect(stderr).toBe('Processed a total of 3 messages\n');
  });

  it('prints Kafka 3.9 text for describe, duplicate create, get-offsets and configs', async () => {
    await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'orders', '--partitions', '3', '--config', 'retention.ms=86400000']);
    const dup = await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'orders']);
    expect(dup).toMatchObject({ code: 1, stdout: "Error while executing topic command : Topic 'orders' already exists.\n" });
    expect((await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'orders', '--if-not-exists'])).stdout).toBe('');
    const d = await kts(['topics', '--bootstrap-server', b, '--describe', '--topic', 'orders']);
    const lines = d.stdout.split('\n');
    expect(lines[0]).toMatch(/^Topic: orders\tTopicId: [A-Za-z0-9_-]{22}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: (.*,)?retention\.ms=86400000(,.*)?$/);
    expect(lines.slice(1, 4)).toEqual([0, 1, 2].map((p) => expect.stringMatching(new RegExp(`^\\tTopic: orders\\tPartition: ${p}\\tLeader: \\d+\\tReplicas: \\d+\\tIsr: \\d+\\tElr: (N/A)?\\tLastKnownElr: (N/A)?$`))));
    await kts(['console-producer', '--bootstrap-server', b, '--topic', 'orders', '--property', 'parse.key=true'], { input: 'k1\tone\nk2\ttwo\nk3\tthree\nk4\tfour\n' });
    const offsets = await kts(['get-offsets', '--bootstrap-server', b, '--topic', 'orders']);
    expect(offsets.stdout).toMatch(/^orders:0:\d+\norders:1:\d+\norders:2:\d+\n$/);
    expect(offsets.stdout.split('\n').filter(Boolean).reduce((s, l) => s + Number(l.split(':')[2]), 0)).toBe(4);
    const cfg = await kts(['configs', '--bootstrap-server', b, '--describe', '--topic', 'orders']);
    expect(cfg.stdout).toMatch(/^Dynamic configs for topic orders are:\n  retention\.ms=86400000 sensitive=false synonyms=\{DYNAMIC_TOPIC_CONFIG:retention\.ms=86400000.*\}\n$/);
    const alter = await kts(['configs', '--bootstrap-server', b, '--alter', '--topic', 'orders', '--add-config', 'cleanup.policy=compact']);
    expect(alter).toMatchObject({ code: 0, stdout: 'Completed updating config for topic orders.\n' });
    const bad = await kts(['configs', '--bootstrap-server', b, '--alter', '--topic', 'orders', '--delete-config', 'nope']);
    expect(bad).toMatchObject({ code: 1, stdout: '', stderr: 'Invalid config(s): nope\n' });
    const keyed = await kts(['console-consumer', '--bootstrap-server', b, '--topic', 'orders', '--from-beginning', '--until', 'end', '--property', 'print.key=true', '--property', 'print.partition=true']);
    const keyedLines = keyed.stdout.split('\n').filter(Boolean);
    expect(keyedLines.every((l) => /^Partition:[0-2]\t/.test(l))).toBe(true);
    expect(keyedLines.map((l) => l.replace(/^Partition:\d\t/, '')).sort()).toEqual(['k1\tone', 'k2\ttwo', 'k3\tthree', 'k4\tfour']);
  });

  it('--output json parses for every command', async () => {
    const json = async (args: string[], input?: string) => {
      const r = await kts([...args, '--bootstrap-server', b, '--output', 'json'], { input });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    expect(await json(['topics', '--create', '--topic', 'js', '--partitions', '2'])).toEqual({ created: 'js', topic: 'js' });
    expect((await json(['topics', '--list'])).topics).toContain('js');
    const described = await json(['topics', '--describe', '--topic', 'js']);
    expect(described.topics[0]).toMatchObject({ name: 'js', partitionCount: 2, replicationFactor: 1 });
    expect(await json(['console-producer', '--topic', 'js'], 'a\nb\n')).toEqual({ topic: 'js', records: 2, failed: 0 });
    const consumed = await json(['console-consumer', '--topic', 'js', '--from-beginning', '--until', 'end', '--enable-systest-events']);
    expect(consumed.map((r: { value: string }) => r.value).sort()).toEqual(['a', 'b']);
    const offsets = await json(['get-offsets', '--topic', 'js']);
    expect(offsets.offsets.reduce((s: number, o: { offset: number }) => s + o.offset, 0)).toBe(2);
    // Keyless records may both land on partition 0: after delete-records there, its earliest offset is its end.
    const endOfPartition0 = offsets.offsets.find((o: { partition: number }) => o.partition === 0).offset;
    expect((await json(['configs', '--describe', '--topic', 'js'])).entities[0]).toMatchObject({ type: 'topics', name: 'js' });
    const file = join(tempDir(), 'offsets.json');
    writeFileSync(file, JSON.stringify({ partitions: [{ topic: 'js', partition: 0, offset: -1 }], version: 1 }));
    expect((await json(['delete-records', '--offset-json-file', file])).partitions[0]).toMatchObject({ topic: 'js', partition: 0 });
    expect(await json(['topics', '--alter', '--topic', 'js', '--partitions', '3'])).toEqual({ altered: ['js'], partitions: 3 });
    // Nothing matched under --if-exists: Kafka prints nothing, JSON still gets its document.
    expect(await json(['topics', '--describe', '--topic', 'nope', '--if-exists'])).toEqual({ topics: [] });
    expect(await json(['topics', '--alter', '--topic', 'nope', '--if-exists', '--partitions', '2'])).toEqual({ altered: [], partitions: 2 });
    expect(await json(['configs', '--alter', '--topic', 'js', '--add-config', 'retention.ms=60000'])).toEqual({
      type: 'topics',
      name: 'js',
      set: { 'retention.ms': '60000' },
      deleted: [],
    });
    // Kafka prints this warning on stdout; with --output json it goes to stderr, before the error document.
    const warned = await kts(['configs', '--bootstrap-server', b, '--alter', '--topic', 'js', '--add-config', 'message.format.version=3.0', '--output', 'json']);
    expect(warned.stderr).toMatch(/^WARNING: The configuration message\.format\.version=3\.0 is specified/);
    expect(JSON.parse(warned.stdout)).toEqual({ error: { message: expect.any(String), exitCode: warned.code } });

    // consumer-groups: one group with committed offsets, then every action.
    await kts(['console-consumer', '--bootstrap-server', b, '--topic', 'js', '--group', 'jg', '--from-beginning', '--until', 'end']);
    expect((await json(['consumer-groups', '--list'])).groups).toContainEqual({ group: 'jg', state: 'Empty', type: 'classic' });
    const offsetsOfGroup = (await json(['consumer-groups', '--describe', '--group', 'jg'])).groups[0];
    expect(offsetsOfGroup).toMatchObject({ group: 'jg', state: 'Empty' });
    expect(offsetsOfGroup.offsets.reduce((s: number, o: { currentOffset: number }) => s + o.currentOffset, 0)).toBe(2);
    expect(await json(['consumer-groups', '--describe', '--group', 'jg', '--members'])).toEqual({ groups: [{ group: 'jg', state: 'Empty', members: [] }] });
    expect((await json(['consumer-groups', '--describe', '--group', 'jg', '--state'])).groups[0]).toMatchObject({ group: 'jg', state: 'Empty', members: 0, coordinator: { id: expect.any(Number) } });
    const reset = await json(['consumer-groups', '--reset-offsets', '--group', 'jg', '--topic', 'js:0', '--to-earliest', '--dry-run']);
    expect(reset).toEqual({ groups: [{ group: 'jg', offsets: [{ topic: 'js', partition: 0, offset: endOfPartition0 }], executed: false }] });
    expect(await json(['consumer-groups', '--delete-offsets', '--group', 'jg', '--topic', 'js:0'])).toEqual({
      group: 'jg',
      error: null,
      partitions: [{ topic: 'js', partition: 0, error: null }],
    });
    expect(await json(['consumer-groups', '--delete', '--group', 'jg'])).toEqual({ deleted: ['jg'], failed: [] });
    const unreachable = await kts(['consumer-groups', '--bootstrap-server', '127.0.0.1:1', '--list', '--output', 'json'], { env: { KTS_CONNECT_TIMEOUT_MS: '300' } });
    expect(unreachable.code).toBe(0);
    expect(JSON.parse(unreachable.stdout).error).toEqual({ message: expect.stringMatching(/^Executing consumer group command failed due to /), exitCode: 0 });

    expect(await json(['topics', '--delete', '--topic', 'js'])).toEqual({ deleted: ['js'] });
    const failed = await kts(['topics', '--describe', '--topic', 'js', '--bootstrap-server', b, '--output', 'json']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout).error.message).toBe("Topic 'js' does not exist as expected");
  }, 180_000); // 20 CLI runs: a minute or more on a loaded 2-core machine
});
