// Joins as Kafka Streams 4.4 computes them: fixtures/Joins.java and its TypeScript twin
// fixtures/joins.mjs run the same four joins on one real Kafka 4.4 over the same input, and every
// output topic must hold the same records (key, value, timestamp) in the same order:
// - orders re-keyed by customer (a repartition topic, co-partitioned with the 2-partition customers
//   table) left-joined with customers;
// - orders outer-joined with payments within 10 s and a 5 s grace: unmatched records of both sides
//   come out only once their window has closed (KIP-633);
// - the customers table outer-joined with the addresses table (updates, a delete, a delete of a key
//   never written);
// - orders joined with a global table of items through a key selector on the value.
// The TypeScript app also runs on a kts broker with the same input and must write the same records
// there. Started on topics whose partition counts differ, it fails as Kafka's assignor does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { KafkaClient } from '../../../src/client/index.js';
import { KafkaStreams, Materialized, StreamsBuilder } from '../../../src/streams/index.js';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { FIXTURES, compileJava, kafkaStreamsLib, pollFor, readTopic, startApp } from './support.js';

const T0 = Math.floor(Date.now() / 10_000) * 10_000 - 600_000;
type Row = [topic: string, key: string, value: string | null, seconds: number];
// Table records all come before the orders: the stream-table join then reads the same table in both
// apps whenever the repartitioned orders arrive.
const INPUT: Row[] = [
  ['joins-customers', 'c1', 'Ann', 0],
  ['joins-customers', 'c2', 'Bob', 1],
  ['joins-customers', 'c3', 'Cid', 2],
  ['joins-addresses', 'c1', 'Oslo', 3],
  ['joins-addresses', 'c4', 'Rome', 4],
  ['joins-customers', 'c1', 'Ann2', 5],
  ['joins-customers', 'c2', null, 6],
  ['joins-addresses', 'c1', 'Bergen', 7],
  ['joins-addresses', 'c3', null, 8],
  ['joins-items', 'i1', 'Pen', 0],
  ['joins-items', 'i2', 'Ink', 0],
  ['joins-payments', 'o4', '3', 8],
  ['joins-orders', 'o1', 'c1:i1', 10],
  ['joins-orders', 'o2', 'c2:i2', 12],
  ['joins-orders', 'o3', 'c4:i1', 14],
  ['joins-payments', 'o1', '5', 15],
  ['joins-orders', 'o4', 'c3:i3', 16],
  ['joins-payments', 'o2', '7', 25], // 13 s after o2: no match
  ['joins-payments', 'o9', '1', 30], // no such order
  ['joins-orders', 'o5', 'c1:i2', 40],
  ['joins-payments', 'o5', '2', 45],
  ['joins-orders', 'o6', 'c2:i1', 60],
  ['joins-payments', 'o6', '9', 90], // 30 s after o6: o6 comes out alone, this one stays held
];
const PARTITIONS: Record<string, number> = { 'joins-customers': 2, 'joins-addresses': 2, 'joins-items': 1, 'joins-orders': 1, 'joins-payments': 1 };
const OUTPUTS = ['stream-table', 'stream-stream', 'table-table', 'global'];
/** Worked out by hand from Kafka's rules: how many records each output gets. */
const COUNTS = [6, 8, 9, 5];

const ready = kafkaLib(KAFKA_4) !== null && kafkaStreamsLib() !== null;

/** Creates the input and output topics on a cluster and writes the input. */
async function prepare(client: KafkaClient): Promise<void> {
  const topics = [
    ...Object.entries(PARTITIONS).map(([name, numPartitions]) => ({ name, numPartitions })),
    ...['java', 'ts'].flatMap((p) => OUTPUTS.map((o) => ({ name: `${p}-${o}`, numPartitions: 2 }))),
  ];
  for (const c of await client.admin.createTopics(topics.map((t) => ({ ...t, replicationFactor: 1 })))) if (c.error) throw c.error;
  // Kafka answers CreateTopics before every new partition has its leader.
  const names = topics.map((t) => t.name);
  await pollFor('leaders of the new topics', async () => {
    const md = await client.metadata(names);
    return md.topics.every((t) => t.errorCode === 0 && t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)) ? true : undefined;
  }, 30_000);
  await client.cluster.refresh(names);
  const producer = client.producer({ lingerMs: 0 });
  for (const [topic, key, value, s] of INPUT) {
    const record = { key: Buffer.from(key), value: value === null ? null : Buffer.from(value), timestamp: T0 + s * 1000 };
    // A new partition's leader may not serve yet (NOT_LEADER_OR_FOLLOWER): nothing was appended, so a retry cannot double the record.
    await pollFor(`${topic} accepts a record`, async () => {
      try {
        return await producer.send(topic, record);
      } catch (err) {
        if (![6, 5, 3].includes((err as { code?: number }).code ?? -1)) throw err;
        await client.cluster.refresh([topic]).catch(() => undefined);
        return undefined;
      }
    }, 30_000);
  }
  producer.close();
}

const readFrom = async (client: KafkaClient, topic: string) =>
  (await readTopic(client, topic)).map((r) => [r.partition, r.key!.toString(), r.value === null ? null : r.value.toString(), (r.timestamp - T0) / 1000]);

describe.skipIf(!ready)('joins, against Kafka Streams 4.4', () => {
  let kafka: RealKafka;
  let client: KafkaClient;
  let broker: SpawnedBroker;
  let ktsClient: KafkaClient;
  beforeAll(async () => {
    [kafka, broker] = await Promise.all([startRealKafka(KAFKA_4), spawnBroker()]);
    [client, ktsClient] = await Promise.all([KafkaClient.connect(kafka.bootstrap), KafkaClient.connect(broker.bootstrap)]);
    await Promise.all([prepare(client), prepare(ktsClient)]);
  }, 120_000);
  afterAll(async () => {
    client?.close();
    ktsClient?.close();
    await Promise.all([kafka?.stop(), broker?.stop()]);
  });

  const read = (topic: string) => readFrom(client, topic);

  it('the same records from the four joins: Java and TypeScript on Kafka 4.4, TypeScript on kts', async () => {
    const classes = compileJava('Joins', kafkaStreamsLib()!);
    const java = startApp('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${classes}:${kafkaStreamsLib()}/*`, 'Joins', kafka.bootstrap, 'joins-java', tempDir('kts-joins-java-'), 'java']);
    const ts = startApp(process.execPath, [join(FIXTURES, 'joins.mjs'), kafka.bootstrap, 'joins-ts', tempDir('kts-joins-ts-'), 'ts']);
    const onKts = startApp(process.execPath, [join(FIXTURES, 'joins.mjs'), broker.bootstrap, 'joins-ts', tempDir('kts-joins-kts-'), 'ts']);
    const topics = ['java', 'ts'].flatMap((p) => OUTPUTS.map((o) => `${p}-${o}`));
    const got = await pollFor(
      'every join output complete',
      async () => {
        const all = await Promise.all(topics.map(read));
        return all.every((g, i) => g.length >= COUNTS[i % OUTPUTS.length]) ? all : undefined;
      },
      120_000,
      () => java.output() + ts.output(),
    );
    const javaOut = got.slice(0, OUTPUTS.length);
    const tsOut = got.slice(OUTPUTS.length);
    javaOut.forEach((records, i) => expect(records.length, OUTPUTS[i]).toBe(COUNTS[i]));
    // A few records checked by hand, so that the comparison is between right answers.
    const values = (i: number) => javaOut[i].map((r) => `${r[1]}=${r[2]}@${r[3]}`);
    // Records of a topic read partition by partition: the hand-made order holds within each partition.
    const inOrder = (i: number, expected: string[]) => {
      const partitionOf = new Map(javaOut[i].map((r) => [r[1], r[0]]));
      const byPartition = (list: string[]) => [0, 1].flatMap((p) => list.filter((e) => partitionOf.get(e.split('=')[0]) === p));
      expect(values(i)).toEqual(byPartition(expected));
    };
    expect(values(0)).toEqual(expect.arrayContaining(['c1=c1:i1|Ann2@10', 'c2=c2:i2|null@12', 'c4=c4:i1|null@14', 'c3=c3:i3|Cid@16']));
    inOrder(1, ['o1=c1:i1|5@15', 'o4=c3:i3|3@16', 'o2=c2:i2|null@12', 'o3=c4:i1|null@14', 'o2=null|7@25', 'o5=c1:i2|2@45', 'o9=null|1@30', 'o6=c2:i1|null@60']);
    expect(values(2)).toEqual(expect.arrayContaining(['c2=null@6', 'c3=Cid|null@8', 'c4=null|Rome@4', 'c1=Ann2|Bergen@7']));
    inOrder(3, ['o1=c1:i1|Pen@10', 'o2=c2:i2|Ink@12', 'o3=c4:i1|Pen@14', 'o5=c1:i2|Ink@40', 'o6=c2:i1|Pen@60']);
    tsOut.forEach((records, i) => expect(records, OUTPUTS[i]).toEqual(javaOut[i]));
    // The internal topics too: repartition and changelog topics named as Kafka Streams names them.
    const internal = async (app: string) =>
      (await client.admin.listTopics()).map((t) => t.name).filter((n) => n.startsWith(`${app}-`)).map((n) => n.slice(app.length + 1)).sort();
    expect(await internal('joins-ts')).toEqual(await internal('joins-java'));
    // The TypeScript app on a kts broker writes the same records again.
    const ktsOut = await pollFor(
      'every join output complete on kts',
      async () => {
        const all = await Promise.all(OUTPUTS.map((o) => readFrom(ktsClient, `ts-${o}`)));
        return all.every((g, i) => g.length >= COUNTS[i]) ? all : undefined;
      },
      60_000,
      () => onKts.output(),
    );
    ktsOut.forEach((records, i) => expect(records, `${OUTPUTS[i]} on kts`).toEqual(javaOut[i]));
    await Promise.all([java.stop(), ts.stop(), onKts.stop()]);
  }, 240_000);

  it("refuses to join topics whose partition counts differ, with Kafka's message", async () => {
    const b = new StreamsBuilder();
    const customers = b.table('joins-customers');
    b.stream('joins-orders').join(customers, (o, c) => `${o}|${c}`).to('ts-stream-table');
    const app = new KafkaStreams(b.build(), { 'application.id': 'joins-copartition', 'bootstrap.servers': kafka.bootstrap, 'state.dir': tempDir('kts-joins-cp-') });
    app.setUncaughtExceptionHandler(() => undefined);
    await expect(app.start()).rejects.toThrow('Invalid topology: Topics not co-partitioned: [{joins-customers=2, joins-orders=1}]');
    await app.close();
  }, 60_000);

  it("a global table is read in full before processing and can be queried on the instance", async () => {
    const b = new StreamsBuilder();
    const items = b.globalTable('joins-items', undefined, Materialized.as('items-store'));
    const seen: string[] = [];
    b.stream<string, string>('joins-orders')
      .leftJoin(items, (_k, v) => v.split(':')[1], (o, i) => `${o}|${i}`)
      .foreach((k, v) => seen.push(`${k}=${v}`));
    const app = new KafkaStreams(b.build(), { 'application.id': 'joins-global-query', 'bootstrap.servers': kafka.bootstrap, 'state.dir': tempDir('kts-joins-gq-') });
    await app.start();
    try {
      expect(app.store<string, string>('items-store').get('i2')).toBe('Ink');
      await pollFor('six joined orders', async () => (seen.length >= 6 ? true : undefined), 30_000);
      expect(seen).toEqual(['o1=c1:i1|Pen', 'o2=c2:i2|Ink', 'o3=c4:i1|Pen', 'o4=c3:i3|null', 'o5=c1:i2|Ink', 'o6=c2:i1|Pen']);
    } finally {
      await app.close();
    }
  }, 60_000);
});
