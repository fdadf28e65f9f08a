// The kts tools' client negotiates each API's version up to what the broker serves and the client
// can fill in (src/client/versions.ts): against a live Kafka 4.4 and a Kafka 3.9 (KRaft, one node
// each, behind a proxy that notes every request header), the tools create, describe, alter and
// delete a topic, produce, consume in a group, describe and delete the group, list offsets,
// describe configs and delete records, all successfully; every request went at exactly
// min(client max, broker max) for its API, inside the broker's ranges.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiLabel, OUR_VERSIONS } from '../../../src/client/versions.js';
import { freePort, tempDir } from '../../helpers/broker.js';
import { advertisedVersions, KAFKA_3, KAFKA_4, kafkaLib, requestRecordingProxy, startRealKafka, type KafkaVersion, type RealKafka, type RecordingProxy } from '../../helpers/real-kafka.js';
import { kts } from '../cli/support.js';

const installed = !!kafkaLib(KAFKA_4) && !!kafkaLib(KAFKA_3);

describe.skipIf(!installed)('the kts tools negotiate versions with Kafka 4.4 and 3.9', () => {
  const brokers = new Map<KafkaVersion, { kafka: RealKafka; proxy: RecordingProxy }>();

  beforeAll(async () => {
    await Promise.all(
      ([KAFKA_4, KAFKA_3] as KafkaVersion[]).map(async (version) => {
        const port = await freePort();
        const proxy = await requestRecordingProxy(port);
        // Clients are sent to the proxy: the broker advertises its port.
        const kafka = await startRealKafka(version, { port, props: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}` } });
        brokers.set(version, { kafka, proxy });
      }),
    );
  }, 240_000);
  afterAll(async () => {
    await Promise.all([...brokers.values()].map(async ({ kafka, proxy }) => Promise.all([kafka.stop(), proxy.close()])));
  });

  for (const version of [KAFKA_4, KAFKA_3] as KafkaVersion[]) {
    it(`Kafka ${version}: every tool works, each API at min(ours, the broker's)`, async () => {
      const { kafka, proxy } = brokers.get(version)!;
      const b = ['--bootstrap-server', `127.0.0.1:${proxy.port}`];
      const ok = async (args: string[], input?: string) => {
        const r = await kts([args[0], ...b, ...args.slice(1)], { input, timeoutMs: 90_000 });
        expect(r.code, `kts ${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
        return r.stdout;
      };
      expect(await ok(['topics', '--create', '--topic', 'nego', '--partitions', '2'])).toBe('Created topic nego.\n');
      expect(await ok(['topics', '--list'])).toContain('nego\n');
      expect(await ok(['topics', '--describe', '--topic', 'nego'])).toContain('PartitionCount: 2');
      expect(await ok(['console-producer', '--topic', 'nego', '--property', 'parse.key=true'], 'a\t1\nb\t2\nc\t3\nd\t4\n')).toBe('');
      const consumed = await ok(['console-consumer', '--topic', 'nego', '--group', 'nego-g', '--from-beginning', '--max-messages', '4']);
      expect(consumed.split('\n').filter(Boolean).sort()).toEqual(['1', '2', '3', '4']);
      expect(await ok(['consumer-groups', '--list'])).toContain('nego-g');
      const described = await ok(['consumer-groups', '--describe', '--group', 'nego-g']);
      expect(described.split('\n').filter((l) => l.startsWith('nego-g ')).reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[3]), 0)).toBe(4);
      const latest = await ok(['get-offsets', '--topic', 'nego']);
      expect(latest.trim().split('\n').reduce((sum, l) => sum + Number(l.split(':')[2]), 0)).toBe(4);
      expect(await ok(['get-offsets', '--topic', 'nego', '--time', '-2'])).toBe('nego:0:0\nnego:1:0\n');
      expect(await ok(['configs', '--describe', '--entity-type', 'topics', '--entity-name', 'nego'])).toContain("Dynamic configs for topic nego are:");
      const end0 = Number(latest.trim().split('\n')[0].split(':')[2]);
      const file = join(tempDir('nego-'), 'offsets.json');
      writeFileSync(file, JSON.stringify({ version: 1, partitions: [{ topic: 'nego', partition: 0, offset: end0 }] }));
      expect(await ok(['delete-records', '--offset-json-file', file])).toContain(`low_watermark: ${end0}`);
      expect(await ok(['consumer-groups', '--delete', '--group', 'nego-g'])).toBe("Deletion of requested consumer groups ('nego-g') was successful.\n");
      expect(await ok(['topics', '--alter', '--topic', 'nego', '--partitions', '3'])).toBe('');
      expect(await ok(['topics', '--delete', '--topic', 'nego'])).toBe('');

      const advertised = await advertisedVersions(kafka.port);
      const wrong: string[] = [];
      const seen = new Set<string>();
      for (const r of proxy.requests) {
        const ours = OUR_VERSIONS[r.apiKey];
        const theirs = advertised.get(r.apiKey);
        if (!ours || !theirs) {
          wrong.push(`${apiLabel(r.apiKey)} v${r.version}: not ${ours ? 'served by the broker' : 'one of the client APIs'}`);
          continue;
        }
        // ApiVersions is asked at v0, before anything is known.
        const expected = r.apiKey === 18 ? 0 : Math.min(ours[1], theirs[1]);
        if (r.version !== expected) wrong.push(`${apiLabel(r.apiKey)} v${r.version}: expected v${expected} (client ${ours[0]}-${ours[1]}, broker ${theirs[0]}-${theirs[1]})`);
        seen.add(`${apiLabel(r.apiKey)} v${r.version}`);
      }
      expect([...new Set(wrong)]).toEqual([]);
      // The bumped APIs were all exercised (Kafka 3.9 describes the classic group through
      // ConsumerGroupDescribe v0 already: no DescribeGroups there).
      const bumped = ['Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch', 'DeleteTopics', 'JoinGroup', 'LeaveGroup', 'DeleteGroups', 'FindCoordinator', ...(version === KAFKA_4 ? ['DescribeGroups'] : [])];
      for (const api of bumped) {
        expect([...seen].some((s) => s.startsWith(`${api} v`)), `${api} in ${[...seen].join(', ')}`).toBe(true);
      }
    }, 300_000);
  }
});
