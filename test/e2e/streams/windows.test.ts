// Must-show 2 of issue 19: a windowed aggregation with late records and grace gives the same results
// as Kafka Streams 4.4 given the same input. Both apps (fixtures/Windows.java, fixtures/windows.mjs)
// count per key over hopping windows (10 s advancing by 5 s, every update written) and tumbling
// windows (10 s, suppressed until they close), with a 5 s grace, on one real Kafka 4.4. The input has
// records that are late but within the grace (counted) and later than the grace (dropped). Both also
// count over session windows (gap 5 s) and sliding windows (time difference 5 s), grace 5 s, every
// update written: Kafka Streams' output for those is recorded in windows-oracle.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { KafkaClient } from '../../../src/client/index.js';
import { tempDir } from '../../helpers/broker.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { FIXTURES, compileJava, kafkaStreamsLib, longValue, pollFor, readTopic, startApp } from './support.js';
import { EVENTS, SESSION_UPDATES, SLIDING_UPDATES, asWritten } from './windows-oracle.js';

// A multiple of 10 s, recent enough that time retention (7 days) keeps the records: windows start at T0 + n * 5 s.
const T0 = Math.floor(Date.now() / 10_000) * 10_000 - 600_000;
/** What Kafka Streams' rules give (the test's own model, checked against Kafka Streams 4.4 too). */
function model(size: number, advance: number, grace: number): { updates: [string, number][]; finals: [string, number][] } {
  const counts = new Map<string, number>();
  const updates: [string, number][] = [];
  let streamTime = -1;
  for (const [key, s] of EVENTS) {
    const ts = T0 + s * 1000;
    streamTime = Math.max(streamTime, ts);
    for (let start = Math.floor(Math.max(0, ts - size + advance) / advance) * advance; start <= ts; start += advance) {
      if (start + size <= streamTime - grace) continue;
      const k = `${key}@${start}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
      updates.push([k, counts.get(k)!]);
    }
  }
  const closed = [...counts].filter(([k]) => Number(k.split('@')[1]) + size <= streamTime - grace);
  closed.sort(([a], [b]) => Number(a.split('@')[1]) - Number(b.split('@')[1]) || (a < b ? -1 : 1));
  return { updates, finals: closed };
}

const HOPPING = model(10_000, 5_000, 5_000).updates;
const FINALS = model(10_000, 10_000, 5_000).finals;
const SESSIONS = asWritten(T0, SESSION_UPDATES);
const SLIDING = asWritten(T0, SLIDING_UPDATES);

const ready = kafkaLib(KAFKA_4) !== null && kafkaStreamsLib() !== null;

describe.skipIf(!ready)('windowed counts with grace and suppress, against Kafka Streams 4.4', () => {
  let kafka: RealKafka;
  let client: KafkaClient;
  beforeAll(async () => {
    kafka = await startRealKafka(KAFKA_4);
    client = await KafkaClient.connect(kafka.bootstrap);
    const topics = ['windows-input', 'windows-hopping', 'windows-final', 'windows-hopping-ts', 'windows-final-ts', 'windows-session', 'windows-sliding', 'windows-session-ts', 'windows-sliding-ts'];
    for (const c of await client.admin.createTopics(topics.map((name) => ({ name, numPartitions: 1, replicationFactor: 1 })))) if (c.error) throw c.error;
    const producer = client.producer({ lingerMs: 0 });
    for (const [key, s] of EVENTS) await producer.send('windows-input', { key: Buffer.from(key), value: Buffer.from('x'), timestamp: T0 + s * 1000 });
    producer.close();
  }, 120_000);
  afterAll(async () => {
    client?.close();
    await kafka?.stop();
  });

  const read = async (topic: string) => (await readTopic(client, topic)).map((r) => [r.key!.toString(), longValue(r.value)] as [string, number | null]);

  it('the same hopping, session and sliding updates and the same final tumbling counts', async () => {
    const classes = compileJava('Windows', kafkaStreamsLib()!);
    const java = startApp('java', ['-Xmx256m', '-XX:TieredStopAtLevel=1', '-cp', `${classes}:${kafkaStreamsLib()}/*`, 'Windows', kafka.bootstrap, 'windows-java', tempDir('kts-streams-java-')]);
    const ts = startApp(process.execPath, [join(FIXTURES, 'windows.mjs'), kafka.bootstrap, 'windows-ts', tempDir('kts-streams-ts-'), 'windows-hopping-ts', 'windows-final-ts', 'windows-session-ts', 'windows-sliding-ts']);
    const all = (topics: string[], counts: number[]) =>
      pollFor(`${topics.join(', ')} complete`, async () => {
        const got = await Promise.all(topics.map(read));
        return got.every((g, i) => g.length >= counts[i]) ? got : undefined;
      }, 120_000, () => java.output() + ts.output());
    const [javaHopping, javaFinal, javaSession, javaSliding, tsHopping, tsFinal, tsSession, tsSliding] = await all(
      ['windows-hopping', 'windows-final', 'windows-session', 'windows-sliding', 'windows-hopping-ts', 'windows-final-ts', 'windows-session-ts', 'windows-sliding-ts'],
      [HOPPING.length, FINALS.length, SESSIONS.length, SLIDING.length, HOPPING.length, FINALS.length, SESSIONS.length, SLIDING.length],
    );
    expect(javaHopping).toEqual(HOPPING);
    expect(javaFinal).toEqual(FINALS);
    expect(javaSession).toEqual(SESSIONS);
    expect(javaSliding).toEqual(SLIDING);
    expect(tsHopping).toEqual(javaHopping);
    expect(tsFinal).toEqual(javaFinal);
    expect(tsSession).toEqual(javaSession);
    expect(tsSliding).toEqual(javaSliding);
    await Promise.all([java.stop(), ts.stop()]);
  }, 240_000);
});
