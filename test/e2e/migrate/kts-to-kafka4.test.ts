// Issue 18, must-show 5: `kts migrate` from a kts broker into a real Apache Kafka 4.4 broker. Three
// topics (two plain, one compacted and cleaned), 200k records with headers and explicit timestamps,
// holes of every kind in the source's offsets (deleted records, an aborted transaction and markers,
// compaction), two groups at different positions. The migration is SIGKILLed part-way and run again.
// Then: every record identical and in order on Kafka, no duplicate, the configs there, each group's
// committed offset on Kafka the one counted from the records, and Kafka 4.4's own console consumer,
// started in each group on Kafka, reads exactly the records the group had not read on the source.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient, type FetchedRecord } from '../../../src/client/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { KAFKA_4, kafkaLib, startKafkaTool, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { kts, startKts } from '../cli/support.js';
import { expectedTargetOffset, fillTopics, firstDifference, landed, readPartition, transactions, type TopicSpec } from './support.js';

const installed = !!kafkaLib(KAFKA_4);

const TOPICS: TopicSpec[] = [
  // Big batches: moved as bytes.
  { name: 'orders', partitions: 3, perPartition: 40_000, batchSize: 64 * 1024, configs: { 'retention.ms': '604800000' } },
  // Small batches: coalesced.
  { name: 'events', partitions: 1, perPartition: 40_000, batchSize: 2048, configs: { 'retention.bytes': '1073741824', 'compression.type': 'producer' } },
  // Compacted and cleaned before the copy: holes everywhere in its first segment.
  { name: 'profiles', partitions: 2, perPartition: 20_000, keys: 500, batchSize: 16 * 1024, configs: { 'cleanup.policy': 'compact', 'segment.bytes': '1048576', 'min.cleanable.dirty.ratio': '0.01' } },
];
const ALL_PARTITIONS = TOPICS.flatMap((t) => Array.from({ length: t.partitions }, (_, p) => [t.name, p] as const));

describe.skipIf(!installed)('kts migrate from kts into Apache Kafka 4.4', () => {
  let source: SpawnedBroker;
  let kafka: RealKafka;
  let src: KafkaClient;
  let tgt: KafkaClient;
  /** Each source partition's records as a read_committed consumer reads them. */
  const sourceRecords = new Map<string, FetchedRecord[]>();
  let total = 0;

  beforeAll(async () => {
    [source, kafka] = await Promise.all([spawnBroker({ overrides: { 'log.cleaner.backoff.ms': '200' } }), startRealKafka(KAFKA_4)]);
    src = await KafkaClient.connect(source.bootstrap);
    tgt = await KafkaClient.connect(kafka.bootstrap);
    await fillTopics(source.bootstrap, TOPICS);
    await transactions(source.bootstrap, 'orders', 1, 50);
    expect((await src.admin.deleteRecords([{ topic: 'orders', partition: 0, offset: 1000 }]))[0].error).toBeUndefined();
    // The cleaner compacts both profiles partitions' first segment.
    await waitFor('profiles compacted', async () => {
      await new Promise((r) => setTimeout(r, 500));
      for (const p of [0, 1]) if ((await readPartition(src, 'profiles', p)).length >= 20_000) return false;
      return true;
    }, 60_000);
    for (const [topic, p] of ALL_PARTITIONS) sourceRecords.set(`${topic}-${p}`, await readPartition(src, topic, p));
    total = [...sourceRecords.values()].reduce((n, r) => n + r.length, 0);
    const hole = holeIn(sourceRecords.get('profiles-0')!);
    const commit = async (group: string, offsets: [string, number, number][]) => {
      const r = await src.groups.commitOffsets(group, offsets.map(([topic, partition, offset]) => ({ topic, partition, offset })));
      expect(r.filter((x) => x.error)).toEqual([]);
    };
    // orders-1 holds 0..39999, then an aborted transaction from 40000 (50 records and a marker).
    await commit('billing', [['orders', 0, 500], ['orders', 1, 40_010], ['orders', 2, 25_000], ['profiles', 0, hole], ['profiles', 1, 15_000]]);
    await commit('audit', [['orders', 0, 30_000], ['events', 0, 12_345], ['profiles', 0, 0]]);
  }, 300_000);

  afterAll(async () => {
    src?.close();
    tgt?.close();
    await Promise.all([source?.stop(), kafka?.stop()]);
  }, 120_000);

  /** An offset inside the log that compaction removed (between two records it kept). */
  function holeIn(records: FetchedRecord[]): number {
    for (let i = 1; i < records.length; i++) if (records[i].offset > records[i - 1].offset + 1) return records[i - 1].offset + 1;
    throw new Error('no hole: the topic was not compacted');
  }

  it('copies 200k records, resumes after a SIGKILL half-way with no duplicate, and every group resumes where it was', async () => {
    // 200k produced (and 200 in transactions); compaction removed some of the profiles.
    expect(total).toBeGreaterThan(170_000);
    const args = ['migrate', '--from', source.bootstrap, '--to', kafka.bootstrap];
    // Throttled to ~3 MB/s so that the kill lands in the middle of the copy.
    const first = startKts([...args, '--throttle', '3000000']);
    await waitFor('a quarter copied', async () => {
      await new Promise((r) => setTimeout(r, 100));
      return (await landed(tgt, TOPICS)) >= total / 4;
    }, 120_000);
    await first.stop('SIGKILL');
    const partial = await landed(tgt, TOPICS);
    expect(partial).toBeLessThan(total);

    const started = Date.now();
    const second = await kts(args, { timeoutMs: 240_000 });
    const rerunMs = Date.now() - started;
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^Topic events: resumed; copied \d+ records/m);
    const copied = Number(/Migrated (\d+) records/.exec(second.stdout)![1]);
    expect(copied).toBeLessThan(total);
    console.log(`kts -> Kafka 4.4: ${partial} of ${total} records before SIGKILL, the rerun copied ${copied} in ${rerunMs} ms:\n${second.stdout}`);

    // Every record, in order, identical (a duplicate would shift everything after it).
    for (const [topic, p] of ALL_PARTITIONS) {
      const theirs = await readPartition(tgt, topic, p);
      expect(firstDifference(sourceRecords.get(`${topic}-${p}`)!, theirs), `${topic}-${p}`).toBeNull();
      expect(theirs[0]?.offset ?? 0).toBe(0);
      expect(theirs[theirs.length - 1]?.offset).toBe(theirs.length - 1);
    }
    const configs = await tgt.admin.describeConfigs(TOPICS.map((t) => ({ type: 'topic' as const, name: t.name })));
    for (const t of TOPICS) {
      const dynamic = Object.fromEntries(configs.find((c) => c.name === t.name)!.entries.filter((e) => e.source === 'DYNAMIC_TOPIC_CONFIG').map((e) => [e.name, e.value]));
      expect(dynamic, t.name).toEqual(t.configs);
    }

    // Each group's offsets on Kafka, as counted from the records.
    const expected = new Map<string, Map<string, number>>();
    for (const group of ['billing', 'audit']) {
      const onSource = await src.groups.fetchOffsets(group);
      const onKafka = await tgt.groups.fetchOffsets(group);
      const want = new Map(onSource.map((c) => [`${c.topic}-${c.partition}`, expectedTargetOffset(sourceRecords.get(`${c.topic}-${c.partition}`)!, c.offset)]));
      expect(new Map(onKafka.map((c) => [`${c.topic}-${c.partition}`, c.offset])), group).toEqual(want);
      expected.set(group, new Map(onSource.map((c) => [`${c.topic}-${c.partition}`, c.offset])));
    }
    expect(expected.get('billing')!.get('orders-0')).toBe(500);
    expect((await tgt.groups.fetchOffsets('billing')).find((c) => c.topic === 'orders' && c.partition === 1)!.offset).toBe(40_000);

    // Kafka's own consumer in each group reads exactly what the group had not read on the source.
    await Promise.all(
      ['billing', 'audit'].map(async (group) => {
        const unread = new Map<string, string[]>();
        for (const [tp, offset] of expected.get(group)!) {
          unread.set(tp, sourceRecords.get(tp)!.filter((r) => r.offset >= offset).map((r) => `${r.key}\t${r.value}`));
        }
        const count = [...unread.values()].reduce((n, l) => n + l.length, 0);
        const consumer = startKafkaTool(KAFKA_4, 'console-consumer', [
          '--bootstrap-server', kafka.bootstrap, '--include', 'orders|events|profiles', '--group', group,
          '--max-messages', String(count), '--timeout-ms', '120000',
          '--formatter-property', 'print.partition=true', '--formatter-property', 'print.key=true',
        ]);
        const result = await consumer.exited();
        expect(result.code, result.stderr).toBe(0);
        const read = new Map<string, string[]>();
        for (const line of result.stdout.split('\n').filter(Boolean)) {
          const m = /^Partition:(\d+)\t(([a-z]+)-ku?\d+|txn-commit-\d+)\t(.*)$/.exec(line);
          expect(m, line).not.toBeNull();
          const topic = m![3] ?? 'orders';
          const tp = `${topic}-${m![1]}`;
          read.set(tp, [...(read.get(tp) ?? []), `${m![2]}\t${m![4]}`]);
        }
        for (const [tp, lines] of unread) expect(read.get(tp) ?? [], `${group} ${tp}`).toEqual(lines);
        expect([...read.keys()].filter((tp) => !unread.has(tp)), group).toEqual([]);
      }),
    );
  }, 600_000);

  it('and back: from Kafka 4.4 into a fresh kts broker, records and groups the same', async () => {
    const back = await spawnBroker();
    const kts2 = await KafkaClient.connect(back.bootstrap);
    try {
      const r = await kts(['migrate', '--from', kafka.bootstrap, '--to', back.bootstrap, '--output', 'json'], { timeoutMs: 240_000 });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout);
      // The offset-syncs topic on Kafka is internal: not copied.
      expect(report.topics.map((t: any) => t.name)).toEqual(['events', 'orders', 'profiles']);
      console.log(`Kafka 4.4 -> kts: ${report.records} records in ${report.elapsedMs} ms`);
      const kafkaRecords = new Map<string, FetchedRecord[]>();
      for (const [topic, p] of ALL_PARTITIONS) {
        const theirs = await readPartition(tgt, topic, p);
        kafkaRecords.set(`${topic}-${p}`, theirs);
        expect(firstDifference(theirs, await readPartition(kts2, topic, p)), `${topic}-${p}`).toBeNull();
      }
      for (const group of ['billing', 'audit']) {
        const onKafka = await tgt.groups.fetchOffsets(group);
        const onKts = new Map((await kts2.groups.fetchOffsets(group)).map((c) => [`${c.topic}-${c.partition}`, c.offset]));
        expect(onKts, group).toEqual(new Map(onKafka.map((c) => [`${c.topic}-${c.partition}`, expectedTargetOffset(kafkaRecords.get(`${c.topic}-${c.partition}`)!, c.offset)])));
      }
    } finally {
      kts2.close();
      await back.stop();
    }
  }, 300_000);
});
