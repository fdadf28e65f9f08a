// `kts server-start --as-kafka 3.9|4.0|4.4` against the real thing: a live Kafka 4.4 and 3.9 (KRaft,
// one node each) are asked ApiVersions the same way as kts, and the answers are compared key by key
// (ranges and features), leaving out only the APIs and features kts does not implement, listed here.
// Then the seed article's kafka-node code, which cannot work with Kafka 4 (it speaks Produce v2 and
// OffsetFetch v0, both gone), must fail against kts --as-kafka 4.0 exactly as it fails against Kafka
// 4.4, while the default kts serves it.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { startBroker } from '../../../src/index.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_3, KAFKA_4, kafkaLib, startRealKafka, waitForTopicLeaders, type KafkaVersion, type RealKafka } from '../../helpers/real-kafka.js';
import { apiName } from '../../../src/protocol/index.js';
import { FEATURES_KTS_LACKS } from '../../../src/broker/kafka-releases.js';

const fixtures = resolve(import.meta.dirname, '../../fixtures/seed');

/**
 * The APIs a real broker advertises that kts has no handler for: inter-broker and KRaft APIs,
 * quotas, delegation tokens, log dirs, share and streams groups, client telemetry. kts answers none
 * of them (the connection closes, as Kafka's does for a key it does not know). The SASL, ACL and
 * SCRAM APIs are served; their answers are compared with Kafka 4.4's in security-apis-as-kafka.test.ts.
 */
const NOT_IMPLEMENTED = new Set([
  4, 5, 6, 7, // LeaderAndIsr, StopReplica, UpdateMetadata, ControlledShutdown (3.9's inter-broker APIs)
  34, 35, // AlterReplicaLogDirs, DescribeLogDirs
  38, 39, 40, 41, // Create/Renew/Expire/DescribeDelegationToken
  48, 49, // Describe/AlterClientQuotas
  55, 57, 64, // DescribeQuorum, UpdateFeatures, UnregisterBroker
  74, // ListClientMetricsResources (ListConfigResources in 4.x)
  76, 77, 78, 79, 83, 84, 85, 86, 87, 90, 91, 92, // share groups (KIP-932)
  80, 81, // AddRaftVoter, RemoveRaftVoter
  88, 89, // StreamsGroupHeartbeat, StreamsGroupDescribe (KIP-1071)
  93, 94, // 4.4's newest keys
]);

/**
 * APIs kts serves at fewer versions than the release: the expected kts range, by release.
 * AlterPartitionReassignments v1 (4.4, KIP-860's allowReplicationFactorChange) is not served.
 */
const SERVED_NARROWER: Record<string, Record<string, string>> = {
  '4.4': {
    '45 AlterPartitionReassignments': '0-0',
    // v2's TransactionalIdPattern filter (KIP-1152) is not served yet.
    '66 ListTransactions': '0-1',
  },
  '3.9': {},
};

interface VersionsAnswer {
  errorCode: number;
  apiKeys: { apiKey: number; minVersion: number; maxVersion: number }[];
  supportedFeatures?: { name: string; minVersion: number; maxVersion: number }[];
  finalizedFeatures?: { name: string; minVersionLevel: number; maxVersionLevel: number }[];
}

async function apiVersions(port: number, version: number): Promise<VersionsAnswer> {
  const client = await RawClient.connect(port);
  try {
    return await client.request(18, version, { clientSoftwareName: 'as-kafka-test', clientSoftwareVersion: '1' });
  } finally {
    client.close();
  }
}

/** The raw bytes of the answer to an ApiVersions request at a version the broker does not know. */
async function tooNewApiVersions(port: number, version: number): Promise<string> {
  const client = await RawClient.connect(port);
  try {
    const frame = Buffer.alloc(4 + 2 + 2 + 4 + 2 + 1 + 1);
    let o = frame.writeInt32BE(frame.length - 4, 0);
    o = frame.writeInt16BE(18, o);
    o = frame.writeInt16BE(version, o);
    o = frame.writeInt32BE(77, o);
    o = frame.writeInt16BE(0, o); // empty client id
    frame.writeUInt8(0, o); // no header tags
    frame.writeUInt8(0, o + 1); // an empty body's tags (Kafka reads none of it)
    const answer = new Promise<Buffer>((res, rej) => {
      let got = Buffer.alloc(0);
      client.socket.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.length >= 4 && got.length >= 4 + got.readInt32BE(0)) res(got);
      });
      client.socket.once('close', () => rej(new Error('closed without an answer')));
    });
    client.socket.write(frame);
    return (await answer).toString('hex');
  } finally {
    client.close();
  }
}

/** The ranges by API name (readable in a failure), without the APIs kts does not implement. */
function comparableRanges(answer: VersionsAnswer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of answer.apiKeys) if (!NOT_IMPLEMENTED.has(k.apiKey)) out[`${k.apiKey} ${apiName(k.apiKey)}`] = `${k.minVersion}-${k.maxVersion}`;
  return out;
}

function comparableFeatures(answer: VersionsAnswer) {
  const implemented = (f: { name: string }) => !FEATURES_KTS_LACKS.includes(f.name);
  const byName = <T extends { name: string }>(list: T[] = []) => [...list].filter(implemented).sort((a, b) => a.name.localeCompare(b.name));
  return { supported: byName(answer.supportedFeatures), finalized: byName(answer.finalizedFeatures) };
}

for (const [release, version] of [['4.4', KAFKA_4], ['3.9', KAFKA_3]] as [string, KafkaVersion][]) {
  describe.skipIf(!kafkaLib(version))(`kts --as-kafka ${release} answers ApiVersions as Kafka ${version}`, () => {
    let kafka: RealKafka;
    let kts: SpawnedBroker;
    beforeAll(async () => {
      [kafka, kts] = await Promise.all([startRealKafka(version), spawnBroker({ args: ['--as-kafka', release] })]);
    }, 180_000);
    afterAll(async () => {
      await Promise.all([kafka?.stop(), kts?.stop()]);
    });

    it('the same ranges for every API kts implements, at ApiVersions v0 and v3', async () => {
      for (const v of [0, 3]) {
        const [real, ours] = await Promise.all([apiVersions(kafka.port, v), apiVersions(kts.port, v)]);
        expect(ours.errorCode).toBe(0);
        expect(comparableRanges(ours), `ApiVersions v${v}`).toEqual({ ...comparableRanges(real), ...SERVED_NARROWER[release] });
        // and no API the release does not have
        const theirs = new Set(real.apiKeys.map((k) => k.apiKey));
        expect(ours.apiKeys.filter((k) => !theirs.has(k.apiKey))).toEqual([]);
      }
    });

    it('the same features (v3 and v4), but for those kts lacks', async () => {
      for (const v of [3, 4]) {
        const [real, ours] = await Promise.all([apiVersions(kafka.port, v), apiVersions(kts.port, v)]);
        expect(comparableFeatures(ours), `ApiVersions v${v}`).toEqual(comparableFeatures(real));
      }
    });

    it('the same v0-layout UNSUPPORTED_VERSION answer, byte for byte, to an ApiVersions version it does not know', async () => {
      const [real, ours] = await Promise.all([tooNewApiVersions(kafka.port, 9), tooNewApiVersions(kts.port, 9)]);
      expect(ours).toBe(real);
      // error 35 and ApiVersions' own range: 0-5 (4.4), 0-4 (3.9)
      expect(real).toBe(`00000010 0000004d 0023 00000001 0012 0000 000${release === '4.4' ? 5 : 4}`.replace(/ /g, ''));
    });

    it(release === '4.4' ? 'Produce v2 is advertised but closes the connection, as in Kafka 4.4' : 'Produce v2 is served, as in Kafka 3.9', async () => {
      const closedOn = async (port: number) => {
        const client = await RawClient.connect(port);
        try {
          await client.request(0, 2, { acks: 1, timeoutMs: 1000, topicData: [] });
          return false;
        } catch {
          return client.closed;
        } finally {
          client.close();
        }
      };
      const [real, ours] = await Promise.all([closedOn(kafka.port), closedOn(kts.port)]);
      expect(ours).toBe(real);
      expect(ours).toBe(release === '4.4');
    });
  });
}

describe.skipIf(!kafkaLib(KAFKA_4))("the article's kafka-node code on Kafka 4", () => {
  it('fails against kts --as-kafka 4.0 as against Kafka 4.4, and works against the default kts', async () => {
    const real = await startRealKafka(KAFKA_4);
    let onKafka: { producer: string; consumer: string };
    try {
      onKafka = await runArticle(real.bootstrap);
    } finally {
      await real.stop();
    }
    const as40 = await spawnBroker({ args: ['--as-kafka', '4.0'] });
    let onKts: { producer: string; consumer: string };
    try {
      onKts = await runArticle(as40.bootstrap);
      // What kts says when it closes the connections: the versions Kafka 4.0 no longer has.
      expect(as40.output()).toContain('unsupported version 2 of Produce (serving 3-12)');
      expect(as40.output()).toContain('unsupported version 0 of OffsetFetch (serving 1-9)');
    } finally {
      await as40.stop();
    }
    // The producer's and the consumer's errors, class and message, in order.
    expect(errorLines(onKafka.producer)).toEqual(['BrokerNotAvailableError: Broker not available (socket closed)', 'NestedError: refreshBrokerMetadata failed', 'Caused By: Error: Unable to find available brokers to try']);
    expect(errorLines(onKts.producer)).toEqual(errorLines(onKafka.producer));
    expect(errorLines(onKafka.consumer)).toEqual(['BrokerNotAvailableError: Broker not available (socket closed)']);
    expect(errorLines(onKts.consumer)).toEqual(errorLines(onKafka.consumer));
    expect(onKts.consumer).toContain("Emitted 'error' event on Consumer instance");

    const current = await spawnBroker();
    try {
      const served = await runArticle(current.bootstrap, (o) => o.includes("'Sale'"));
      expect(served.producer).toMatch(/\{ test: \{ '0': 0 \} \}/);
      expect(served.consumer).toContain("value: 'Sale'");
    } finally {
      await current.stop();
    }
  }, 300_000);
});

/** The lines naming an error (class: message) in what a script printed. */
function errorLines(output: string): string[] {
  return [...output.matchAll(/^((?:Caused By: )?\w*Error): (.*)$/gm)].map((m) => `${m[1]}: ${m[2]}`);
}

/** The article's producer then consumer on topic 'test' (two partitions), each until it ends or `done`. */
async function runArticle(bootstrap: string, consumerDone: (o: string) => boolean = () => false) {
  const admin = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'test', numPartitions: 2 }] });
  await waitForTopicLeaders(bootstrap, [{ topic: 'test', numPartitions: 2 }]);
  await admin.disconnect();
  const producer = await runScript('producer.cjs', bootstrap, (o) => /\{ test: \{/.test(o));
  const consumer = await runScript('consumer.cjs', bootstrap, consumerDone);
  return { producer, consumer };
}

/** Runs a seed script until it exits, `done` says so, or 20 s have passed; its stdout and stderr. */
async function runScript(script: string, bootstrap: string, done: (output: string) => boolean): Promise<string> {
  const child = spawnTracked(process.execPath, [resolve(fixtures, script)], { env: { ...process.env, KAFKA_HOST: bootstrap } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !done(out) && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    return out;
  } finally {
    await stopProcess(child, 'SIGKILL');
  }
}

describe('the library option and the config key', () => {
  it("startBroker({ asKafka: '4.0' }) serves Kafka 4.0's ranges; a release kts does not know is refused at start", async () => {
    const broker = await startBroker({ dataDir: tempDir('kts-as-kafka-'), host: '127.0.0.1', port: 0, logLevel: 'warn', asKafka: '4.0' });
    try {
      const answer = await apiVersions(broker.port, 3);
      const range = (key: number) => answer.apiKeys.find((k) => k.apiKey === key);
      // Kafka 4.0.0's: Produce 0-12 (v0-2 advertised only), Fetch 4-17, Metadata 0-13, OffsetFetch 1-9, JoinGroup 2-9.
      expect([0, 1, 3, 9, 11].map((key) => `${range(key)?.minVersion}-${range(key)?.maxVersion}`)).toEqual(['0-12', '4-17', '0-13', '1-9', '2-9']);
      expect(answer.finalizedFeatures).toContainEqual({ name: 'metadata.version', minVersionLevel: 25, maxVersionLevel: 25 });
    } finally {
      await broker.close();
    }
    await expect(
      startBroker({ dataDir: tempDir('kts-as-kafka-'), host: '127.0.0.1', port: 0, logLevel: 'error', overrides: { 'kts.as.kafka': '3.0' } }),
    ).rejects.toThrow(/kts\.as\.kafka.*String must be one of: , 3\.9, 4\.0, 4\.4/);
  });
});
