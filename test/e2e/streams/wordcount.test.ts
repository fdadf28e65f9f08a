// Must-show 1 of issue 19: the WordCount demo of Kafka's quickstart. The TypeScript app
// (fixtures/wordcount.mjs, through the package's kts-kafka/streams export) and Kafka Streams 4.4
// running the same topology (fixtures/WordCount.java) read the same input on a real Kafka 4.4, and
// the TypeScript app reads it on kts too: all three output topics hold the same records in the same
// order (one partition, the record cache off, so every count update is written), and the latest
// count per word is the count of that word in the input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { KafkaClient } from '../../../src/client/index.js';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { FIXTURES, compileJava, kafkaStreamsLib, longValue, pollFor, readTopic, startApp, type App } from './support.js';

const VOCABULARY = ['Kafka', 'streams', 'TOPIC', 'partition', 'élan', 'log', 'offset', 'broker', 'Node', 'count'];
/** The quickstart's lines, edge cases of Java's split(" ") (empty, blank, doubled, leading, trailing spaces), and 300 generated lines. */
const LINES = [
  'all streams lead to kafka',
  'hello kafka streams',
  'join kafka summit',
  '',
  ' ',
  'two  spaces',
  ' leading space',
  'trailing space ',
  ...Array.from({ length: 300 }, (_, i) => Array.from({ length: 1 + (i % 7) }, (_, j) => VOCABULARY[(i * 7 + j * 3) % VOCABULARY.length]).join(' ')),
];

function javaSplit(s: string): string[] {
  const parts = s.split(' ');
  if (parts.length === 1) return parts;
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Every (word, count) update in order, as WordCount writes them with the cache off. */
const EXPECTED: [string, number][] = (() => {
  const counts = new Map<string, number>();
  const out: [string, number][] = [];
  for (const line of LINES) {
    for (const w of javaSplit(line.toLowerCase())) {
      counts.set(w, (counts.get(w) ?? 0) + 1);
      out.push([w, counts.get(w)!]);
    }
  }
  return out;
})();

async function setUp(bootstrap: string, outputs: string[]): Promise<KafkaClient> {
  const client = await KafkaClient.connect(bootstrap);
  const created = await client.admin.createTopics([
    { name: 'streams-plaintext-input', numPartitions: 1, replicationFactor: 1 },
    ...outputs.map((name) => ({ name, numPartitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } })),
  ]);
  for (const c of created) if (c.error) throw c.error;
  const producer = client.producer({ lingerMs: 0 });
  for (const line of LINES) await producer.enqueue('streams-plaintext-input', { key: null, value: Buffer.from(line) });
  await producer.flush();
  producer.close();
  return client;
}

/** Waits until the output holds one record per word of the input; returns them as [word, count]. */
async function output(client: KafkaClient, topic: string, app: App): Promise<[string, number][]> {
  return pollFor(
    `${EXPECTED.length} records in ${topic}`,
    async () => {
      const records = await readTopic(client, topic);
      return records.length >= EXPECTED.length ? records.map((r) => [r.key!.toString('utf8'), longValue(r.value)!] as [string, number]) : undefined;
    },
    90_000,
    app.output,
  );
}

const tsApp = (bootstrap: string, appId: string, topic: string) => startApp(process.execPath, [join(FIXTURES, 'wordcount.mjs'), bootstrap, appId, topic, tempDir('kts-streams-state-')]);

describe('WordCount (Kafka quickstart) with kts-kafka/streams', () => {
  let broker: SpawnedBroker;
  let client: KafkaClient;
  beforeAll(async () => {
    broker = await spawnBroker();
    client = await setUp(broker.bootstrap, ['streams-wordcount-output']);
  });
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  it('on kts: every count update in input order, the internal topics named as Kafka names them', async () => {
    const app = tsApp(broker.bootstrap, 'streams-wordcount', 'streams-wordcount-output');
    await app.running;
    expect(await output(client, 'streams-wordcount-output', app)).toEqual(EXPECTED);
    const names = (await client.admin.listTopics()).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining([
      'streams-wordcount-KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition',
      'streams-wordcount-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog',
    ]));
    const [changelog] = await client.admin.describeConfigs([{ type: 'topic', name: 'streams-wordcount-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog' }]);
    expect(changelog.entries.find((e) => e.name === 'cleanup.policy')?.value).toBe('compact');
    // The app commits its input position after the output it produced (every commit.interval.ms):
    // the last update can be read a moment before the commit that covers it.
    const committed = await pollFor(
      `streams-wordcount's commit of offset ${LINES.length}`,
      async () => {
        const offsets = await client.groups.fetchOffsets('streams-wordcount');
        const position = offsets.find((c) => c.topic === 'streams-plaintext-input')?.offset;
        return position === LINES.length ? position : undefined;
      },
      30_000,
      app.output,
    );
    expect(committed).toBe(LINES.length);
    expect(await app.stop()).toBe(0);
  });
});

const kafkaReady = kafkaLib(KAFKA_4) !== null && kafkaStreamsLib() !== null;

describe.skipIf(!kafkaReady)('WordCount against Kafka Streams 4.4 on a real Kafka 4.4', () => {
  let kafka: RealKafka;
  let client: KafkaClient;
  beforeAll(async () => {
    kafka = await startRealKafka(KAFKA_4);
    client = await setUp(kafka.bootstrap, ['streams-wordcount-output', 'streams-wordcount-output-ts']);
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await kafka?.stop();
  });

  it('the Java app and the TypeScript app write the same output topic contents', async () => {
    const classes = compileJava('WordCount', kafkaStreamsLib()!);
    const java = startApp('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${classes}:${kafkaStreamsLib()}/*`, 'WordCount', kafka.bootstrap, 'streams-wordcount', 'streams-wordcount-output', tempDir('kts-streams-java-')]);
    const ts = tsApp(kafka.bootstrap, 'streams-wordcount-ts', 'streams-wordcount-output-ts');
    const [fromJava, fromTs] = await Promise.all([output(client, 'streams-wordcount-output', java), output(client, 'streams-wordcount-output-ts', ts)]);
    expect(fromJava).toEqual(EXPECTED);
    expect(fromTs).toEqual(fromJava);
    const latest = new Map(fromTs);
    expect(latest.get('kafka')).toBe(LINES.join(' ').toLowerCase().split(' ').filter((w) => w === 'kafka').length);
    await Promise.all([java.stop(), ts.stop()]);
  }, 180_000);
});
