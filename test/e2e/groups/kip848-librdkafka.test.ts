// KIP-848 consumer groups from librdkafka (confluent-kafka-python 2.x from PyPI, its bundled
// librdkafka, group.protocol=consumer): two members split four partitions, a member killed with
// SIGKILL has its partitions reassigned after the session timeout, committed offsets survive a
// broker restart. Locally skipped when the package is missing; in CI (KTS_REQUIRE_INTEROP=1) a
// failure (.ci/run installs it with pip).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { stopProcess } from '../../helpers/processes.js';
import { committedOffsets, describeConsumerGroup, startMemberProcess, type Member } from './kip848-support.js';
import { connectClients, createTopic, produceEach, waitFor } from './support.js';

const MEMBER = resolve(import.meta.dirname, 'fixtures/librdkafka-member.py');
const SESSION_TIMEOUT_MS = 6000;
const OVERRIDES = {
  'group.consumer.session.timeout.ms': String(SESSION_TIMEOUT_MS),
  'group.consumer.min.session.timeout.ms': '1000',
  'group.consumer.heartbeat.interval.ms': '500',
  'group.consumer.min.heartbeat.interval.ms': '100',
  'offsets.topic.num.partitions': '5',
};

function librdkafkaVersion(): string | null {
  try {
    return execFileSync('python3', ['-c', 'import confluent_kafka; print(confluent_kafka.libversion()[0])'], { encoding: 'utf8' }).trim();
  } catch {
    if (process.env.KTS_REQUIRE_INTEROP === '1') throw new Error('confluent-kafka (Python) is required (KTS_REQUIRE_INTEROP=1): pip install confluent-kafka');
    return null;
  }
}
const version = librdkafkaVersion();

describe.skipIf(!version)(`KIP-848 consumer groups: librdkafka ${version} with group.protocol=consumer`, () => {
  let broker: SpawnedBroker;
  let dataDir: string;
  const members: Member[] = [];
  const start = (group: string, topic: string) => {
    const m = startMemberProcess('python3', [MEMBER, broker.bootstrap, group, topic, 'consumer']);
    members.push(m);
    return m;
  };

  beforeAll(async () => {
    dataDir = tempDir('kts-kip848-rdk-');
    broker = await spawnBroker({ dataDir, overrides: OVERRIDES });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(members.map((m) => stopProcess(m.child, 'SIGKILL')));
    await broker?.stop();
  }, 60_000);

  it('splits four partitions, reassigns a killed member\'s, and resumes from committed offsets after a restart', async () => {
    const topic = 'rdk-kip848';
    const group = 'rdk-kip848-group';
    const { admin, producer } = await connectClients(broker.bootstrap);
    await createTopic(admin, topic, 4);

    const a = start(group, topic);
    await waitFor('the first member to own all four partitions', () => a.assigned.length === 4, 60_000);
    const b = start(group, topic);
    await waitFor('a two-two split', () => a.assigned.length === 2 && b.assigned.length === 2 && new Set([...a.assigned, ...b.assigned]).size === 4, 60_000);
    expect((await describeConsumerGroup(broker.port, group)).groupState).toBe('Stable');

    await produceEach(producer, topic, 4, 5, 'a-');
    await waitFor('all 20 records', () => a.records.length + b.records.length >= 20, 60_000);
    for (const m of [a, b]) expect(new Set(m.records.map((r) => r.partition))).toEqual(new Set(m.assigned));

    await stopProcess(b.child, 'SIGKILL');
    const killedAt = Date.now();
    await waitFor('the survivor to own all four partitions', () => a.assigned.length === 4, 60_000);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 1000);
    await waitFor('offsets 5 committed on every partition', async () => [...(await committedOffsets(broker.port, group, topic, 4)).values()].every((o) => o === 5), 30_000);

    const aMemberId = (await describeConsumerGroup(broker.port, group)).members[0].memberId;
    await stopProcess(a.child, 'SIGKILL');
    await producer.disconnect();
    await admin.disconnect();
    const port = broker.port;
    await broker.stop();
    broker = await spawnBroker({ dataDir, port, overrides: OVERRIDES });
    // The group itself came back (members, epochs, assignments, as Kafka 4.4 keeps them): the
    // member killed just before the restart is still in it until its session runs out.
    const restored = await describeConsumerGroup(broker.port, group);
    expect(restored.members.map((m) => m.memberId)).toEqual([aMemberId]);
    expect([...(await committedOffsets(broker.port, group, topic, 4)).values()]).toEqual([5, 5, 5, 5]);

    const clients = await connectClients(broker.bootstrap);
    await produceEach(clients.producer, topic, 4, 2, 'b-');
    await clients.producer.disconnect();
    await clients.admin.disconnect();
    const c = start(group, topic);
    await waitFor('the 8 new records', () => c.records.length >= 8, 60_000);
    expect(c.records.every((r) => r.value.startsWith('b-') && r.offset >= 5)).toBe(true);
  }, 240_000);
});
