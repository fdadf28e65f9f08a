// A KIP-848 consumer group subscribed by regex (the Java client 4.4's SubscriptionPattern, resolved
// by the broker) on kts and on Apache Kafka 4.4 side by side: the member reads the topics the regex
// matches and nothing else, and Kafka's own DumpLogSegments --offsets-decoder reads the regex's
// resolution (ConsumerGroupRegularExpression, record type 16: the matched topics) and the member's
// subscription from kts's __consumer_offsets as it reads them from Kafka's, but for the resolution's
// time and metadata version (kts keeps no metadata log: -1).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { stopProcess } from '../../helpers/processes.js';
import { KAFKA_4, kafkaLib, kafkaTool, runKafkaTool, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { waitFor } from './support.js';
import { compileJavaMember, describeConsumerGroup, startJavaMember, type Member } from './kip848-support.js';

const lib = kafkaLib(KAFKA_4);
const TOPICS: [string, number][] = [['rx-orders', 2], ['rx-payments', 1], ['other', 1]];

async function prepare(bootstrap: string): Promise<void> {
  for (const [topic, partitions] of TOPICS) {
    await kafkaTool(KAFKA_4, 'topics', ['--bootstrap-server', bootstrap, '--create', '--topic', topic, '--partitions', String(partitions), '--replication-factor', '1']);
    await kafkaTool(KAFKA_4, 'console-producer', ['--bootstrap-server', bootstrap, '--topic', topic], { input: `${topic}-1\n${topic}-2\n` });
  }
}

/** The decoded lines of the group's regex and member-subscription records, normalized. */
async function decodedGroupRecords(dataDir: string): Promise<string[]> {
  const files = readdirSync(dataDir)
    .filter((d) => d.startsWith('__consumer_offsets-'))
    .flatMap((d) => readdirSync(join(dataDir, d)).filter((f) => f.endsWith('.log')).map((f) => join(dataDir, d, f)));
  const dump = await runKafkaTool(KAFKA_4, 'dump-log', ['--files', files.join(','), '--offsets-decoder', '--print-data-log'], { timeoutMs: 120_000 });
  expect(dump.code, dump.stderr).toBe(0);
  const lines = dump.stdout
    .split('\n')
    .filter((l) => l.includes(' key: ') && l.includes('rx-group'))
    .map((l) => l.replace(/^.*?(key: )/, '$1'));
  const regex = lines.filter((l) => /"type":"16"/.test(l)).map((l) => l.replace(/"timestamp":-?\d+/, '"timestamp":T').replace(/"version":-?\d+/, '"version":V'));
  const subscription = lines
    .filter((l) => /"type":"5"/.test(l))
    .map((l) => l.replace(/"memberId":"[^"]*"/, '"memberId":M').replace(/"clientHost":"[^"]*"/, '"clientHost":H'));
  // The last of each (the resolution may be written again as topics appear).
  return [regex.at(-1) ?? 'no regex record', subscription.at(-1) ?? 'no subscription record'];
}

describe.skipIf(!lib)('KIP-848 regex subscription from the Java client 4.4, kts against Kafka 4.4', () => {
  let broker: SpawnedBroker;
  let kafka: RealKafka;
  const members: Member[] = [];
  let classDir: string;

  beforeAll(async () => {
    classDir = compileJavaMember(lib!);
    [broker, kafka] = await Promise.all([spawnBroker(), startRealKafka(KAFKA_4)]);
  }, 240_000);
  afterAll(async () => {
    await Promise.all(members.map((m) => stopProcess(m.child, 'SIGKILL')));
    await Promise.all([broker?.stop(), kafka?.stop()]);
  }, 120_000);

  it('reads the matched topics only, and __consumer_offsets holds the resolution as Kafka writes it', async () => {
    const sides = [
      { name: 'kts', bootstrap: broker.bootstrap, port: broker.port, dataDir: broker.dataDir },
      { name: 'Kafka 4.4', bootstrap: `127.0.0.1:${kafka.port}`, port: kafka.port, dataDir: kafka.dataDir },
    ];
    await Promise.all(sides.map((s) => prepare(s.bootstrap)));
    const decoded: string[][] = [];
    for (const side of sides) {
      const m = startJavaMember(classDir, lib!, side.bootstrap, 'rx-group', 'regex:rx-.*', 'consumer');
      members.push(m);
      await waitFor(`${side.name}: the member to read the 4 records of rx-orders and rx-payments\n${m.log}`, () => m.records.length >= 4, 120_000);
      expect(m.records.map((r) => `${r.topic}:${r.value}`).sort(), side.name).toEqual(['rx-orders:rx-orders-1', 'rx-orders:rx-orders-2', 'rx-payments:rx-payments-1', 'rx-payments:rx-payments-2'].sort());
      const described = await describeConsumerGroup(side.port, 'rx-group');
      expect(described.members.map((d) => d.subscribedTopicRegex), side.name).toEqual(['rx-.*']);
      // Kafka resolves the regex apart from the heartbeat: wait for its record on each side.
      decoded.push(await waitFor(`${side.name}: the regex record`, async () => {
        const d = await decodedGroupRecords(side.dataDir);
        return d[0] !== 'no regex record' && d[0].includes('rx-payments') ? d : null;
      }, 60_000, 500));
      await stopProcess(m.child, 'SIGKILL');
    }
    const [ours, theirs] = decoded;
    expect(ours).toEqual(theirs);
    expect(ours[0]).toContain('"topics":["rx-orders","rx-payments"]');
  }, 600_000);
});
