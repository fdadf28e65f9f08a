// kts migrate between two kts brokers: the plan of --dry-run, a full copy (records identical, holes of
// deleted records, transaction markers and an aborted transaction mapped so that groups resume at
// the first record they had not read), a rerun after the target got ahead of the recorded progress
// (as a SIGKILL between a produce and its progress write leaves it: no duplicate), a target changed
// behind the migration's back (refused), and the command line's errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../../src/client/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { ptyKts } from '../../helpers/pty.js';
import { kts } from '../cli/support.js';
import { BASE_TIMESTAMP, expectedTargetOffset, fillTopics, firstDifference, readPartition, transactions, type TopicSpec } from './support.js';

const TOPICS: TopicSpec[] = [
  { name: 'orders', partitions: 2, perPartition: 3000, batchSize: 64 * 1024, configs: { 'retention.ms': '604800000', 'max.message.bytes': '2000000' } },
  { name: 'profiles', partitions: 1, perPartition: 2000, keys: 100, batchSize: 1024, configs: { 'cleanup.policy': 'compact', 'min.insync.replicas': '1' } },
];

describe('kts migrate, kts to kts', () => {
  let source: SpawnedBroker;
  let target: SpawnedBroker;
  let src: KafkaClient;
  let tgt: KafkaClient;

  beforeAll(async () => {
    [source, target] = await Promise.all([spawnBroker(), spawnBroker()]);
    src = await KafkaClient.connect(source.bootstrap);
    tgt = await KafkaClient.connect(target.bootstrap);
    await fillTopics(source.bootstrap, TOPICS);
    await transactions(source.bootstrap, 'orders', 1, 50);
    const [deleted] = await src.admin.deleteRecords([{ topic: 'orders', partition: 0, offset: 100 }]);
    expect(deleted.error).toBeUndefined();
    const commit = async (group: string, offsets: [string, number, number][]) => {
      const r = await src.groups.commitOffsets(group, offsets.map(([topic, partition, offset]) => ({ topic, partition, offset, metadata: `m-${group}` })));
      expect(r.filter((x) => x.error)).toEqual([]);
    };
    // orders-1: 0..2999, then an aborted transaction at 3000..3049 and its marker at 3050.
    await commit('billing', [['orders', 0, 50], ['orders', 1, 3010], ['profiles', 0, 1500]]);
    await commit('audit', [['orders', 0, 2000], ['orders', 1, 3050]]);
  }, 120_000);

  afterAll(async () => {
    src?.close();
    tgt?.close();
    await Promise.all([source?.stop(), target?.stop()]);
  });

  const migrate = (...extra: string[]) => kts(['migrate', '--from', source.bootstrap, '--to', target.bootstrap, ...extra], { timeoutMs: 120_000 });

  async function expectSameRecords(topic: string, partition: number): Promise<void> {
    const [a, b] = await Promise.all([readPartition(src, topic, partition), readPartition(tgt, topic, partition)]);
    expect(firstDifference(a, b), `${topic}-${partition}`).toBeNull();
    expect(b.map((r) => r.offset)).toEqual(b.map((_, i) => i));
  }

  it('--dry-run prints the plan and writes nothing', async () => {
    const r = await migrate('--dry-run');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Topic orders: would create with 2 partitions (max.message.bytes=2000000,retention.ms=604800000); up to');
    expect(r.stdout).toContain('Topic profiles: would create with 1 partitions (cleanup.policy=compact)');
    expect(r.stdout).toContain('Group billing: would translate the committed offsets of 3 partitions.');
    expect(r.stdout).toMatch(/Dry run: 2 topics and 2 groups would be migrated; nothing was written\.\n$/);
    const md = await tgt.metadata(null);
    expect(md.topics.map((t) => t.name).filter((n) => !n.startsWith('__'))).toEqual([]);
  }, 60_000);

  it('copies topics, configs and records, and commits every group at its translated position', async () => {
    const r = await migrate('--output', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.topics.map((t: any) => [t.name, t.action, t.partitions])).toEqual([
      ['orders', 'create', 2],
      ['profiles', 'create', 1],
    ]);
    for (const [topic, partition] of [['orders', 0], ['orders', 1], ['profiles', 0]] as const) await expectSameRecords(topic, partition);
    const [described] = await tgt.admin.describeConfigs([{ type: 'topic', name: 'orders' }]);
    const dynamic = Object.fromEntries(described.entries.filter((e) => e.source === 'DYNAMIC_TOPIC_CONFIG').map((e) => [e.name, e.value]));
    expect(dynamic).toEqual({ 'retention.ms': '604800000', 'max.message.bytes': '2000000' });
    const [profiles] = await tgt.admin.describeConfigs([{ type: 'topic', name: 'profiles' }]);
    expect(profiles.entries.filter((e) => e.source === 'DYNAMIC_TOPIC_CONFIG').map((e) => `${e.name}=${e.value}`)).toEqual(['cleanup.policy=compact']);

    for (const group of ['billing', 'audit']) {
      const committed = await src.groups.fetchOffsets(group);
      const onTarget = await tgt.groups.fetchOffsets(group);
      for (const c of committed) {
        const records = await readPartition(src, c.topic, c.partition);
        const t = onTarget.find((x) => x.topic === c.topic && x.partition === c.partition);
        expect({ group, tp: `${c.topic}-${c.partition}`, offset: t?.offset, metadata: t?.metadata }).toEqual({
          group,
          tp: `${c.topic}-${c.partition}`,
          offset: expectedTargetOffset(records, c.offset),
          metadata: `m-${group}`,
        });
      }
    }
    // The holes were mapped, not assumed away: below the log start, inside an aborted transaction, at its marker.
    const billing = await tgt.groups.fetchOffsets('billing');
    expect(billing.find((o) => o.topic === 'orders' && o.partition === 0)?.offset).toBe(0);
    expect(billing.find((o) => o.topic === 'orders' && o.partition === 1)?.offset).toBe(3000);
    const audit = await tgt.groups.fetchOffsets('audit');
    expect(audit.find((o) => o.topic === 'orders' && o.partition === 0)?.offset).toBe(1900);
    expect(audit.find((o) => o.topic === 'orders' && o.partition === 1)?.offset).toBe(3000);
  }, 120_000);

  it('a rerun lines up a target that got ahead of its recorded progress, then copies the rest once', async () => {
    // New records on the source; the first 30 reach the target as an interrupted run would leave them.
    const producer = src.producer({ acks: -1 });
    for (let i = 0; i < 100; i++) await producer.enqueue('orders', { partition: 0, key: Buffer.from(`late-${i}`), value: Buffer.from(`late-value-${i}`), timestamp: BASE_TIMESTAMP + 6_000_000 + i, headers: [{ key: 'late', value: Buffer.from([i]) }] });
    await producer.flush();
    const all = await readPartition(src, 'orders', 0);
    const late = all.slice(-100, -70);
    const handCopy = tgt.producer({ acks: -1 });
    for (const r of late) await handCopy.enqueue('orders', { partition: 0, key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp });
    await handCopy.flush();

    const r = await migrate();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Topic orders: resumed; copied 70 records');
    await expectSameRecords('orders', 0);
  }, 120_000);

  it('shows a progress bar on a terminal, then the report as tables', async () => {
    await fillTopics(source.bootstrap, [{ name: 'terminal', partitions: 1, perPartition: 20_000, batchSize: 16 * 1024 }]);
    const run = ptyKts(['migrate', '--from', source.bootstrap, '--to', target.bootstrap, '--topics', 'terminal', '--groups', 'none', '--throttle', '800000'], 120);
    await run.waitFor((t) => /Copying \[█*░+\] +\d+%  [\d,]+ records/.test(t), 60_000);
    const { code, output: raw } = await run.exited;
    expect(code).toBe(0);
    const output = raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    expect(output).toMatch(/TOPIC +PARTITIONS +ACTION +RECORDS +BYTES/);
    expect(output).toMatch(/terminal +1 +create +20000/);
    expect(output).toMatch(/Migrated 20000 records \([\d.]+ MB\) of 1 topics and the offsets of 0 groups in [\d.]+ s\./);
    await expectSameRecords('terminal', 0);
  }, 120_000);

  it('leaves a group with active members on the target uncommitted, says so and exits 1', async () => {
    const member = tgt.groupMember({ groupId: 'audit', topics: async () => ['orders'], sessionTimeoutMs: 10_000 });
    await member.join();
    const before = await tgt.groups.fetchOffsets('audit');
    try {
      await src.groups.commitOffsets('audit', [{ topic: 'orders', partition: 0, offset: 2500 }]);
      const r = await migrate('--topics', 'orders', '--groups', 'audit');
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('Group audit: offsets NOT committed: it has active members on the target (stop them and run kts migrate again)');
      expect(r.stderr).toBe('Error: The offsets of group audit were not committed on the target: it has active members on the target (stop them and run kts migrate again)\n');
      expect(await tgt.groups.fetchOffsets('audit')).toEqual(before);
    } finally {
      await member.leave();
    }
    const again = await migrate('--topics', 'orders', '--groups', 'audit');
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    const [o0] = (await tgt.groups.fetchOffsets('audit')).filter((o) => o.topic === 'orders' && o.partition === 0);
    expect(o0.offset).toBe(2400);
  }, 60_000);

  it('refuses a target changed outside the migration, in one line', async () => {
    const producer = src.producer({ acks: -1 });
    await producer.send('profiles', { partition: 0, key: Buffer.from('k'), value: Buffer.from('from the source') });
    const other = tgt.producer({ acks: -1 });
    await other.send('profiles', { partition: 0, key: Buffer.from('k'), value: Buffer.from('written on the target') });
    const r = await migrate();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Error: Target partition profiles-0: its last record \(offset \d+\) is not source record \d+; the target was changed outside this migration\.\n$/);
  }, 60_000);

  it('answers bad command lines and unreachable clusters with one line and exit 1', async () => {
    const noTo = await kts(['migrate', '--from', source.bootstrap]);
    expect(noTo.code).toBe(1);
    expect(noTo.stderr.split('\n')[0]).toBe('Missing required argument "[to]"');
    const badPort = await kts(['migrate', '--from', 'localhost', '--to', target.bootstrap]);
    expect(badPort.code).toBe(1);
    expect(badPort.stderr.split('\n')[0]).toBe('Please provide valid host:port like host1:9091,host2:9092');
    const refused = await kts(['migrate', '--from', '127.0.0.1:1', '--to', target.bootstrap]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^Error: The source cluster: .*127\.0\.0\.1:1/);
    const same = await kts(['migrate', '--from', target.bootstrap, '--to', target.bootstrap]);
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/^Error: --from and --to are the same cluster/);
  }, 60_000);
});
