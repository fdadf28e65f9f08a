// The canonical rolling upgrade on the Java client 4.4, on kts and on a real Kafka 4.4 with the
// same steps: two members with group.protocol=classic and the cooperative-sticky assignor (they
// report what they own in their subscriptions, so the classic member inside the consumer group
// revokes incrementally), one is killed and replaced by a member with group.protocol=consumer (the
// group upgrades online), then that one is killed too: its session timeout fences it and the group
// downgrades to a classic group, the remaining member owning everything. The group types seen,
// the member types and the splits must be the same on both brokers, and no member reads a record
// below the offsets committed before it took the partition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { hasExited, stopProcess } from '../../helpers/processes.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, kafkaTool, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { committedOffsets, compileJavaMember, describeConsumerGroup, startJavaMember, type Member } from './kip848-support.js';
import { waitFor } from './support.js';

const lib = kafkaLib(KAFKA_4);
const TOPIC = 'jmig';
const GROUP = 'jmig-group';
const GROUP_SETTINGS = {
  'group.consumer.session.timeout.ms': '6000',
  'group.consumer.min.session.timeout.ms': '1000',
  'group.consumer.heartbeat.interval.ms': '500',
  'group.consumer.min.heartbeat.interval.ms': '100',
  'group.min.session.timeout.ms': '1000',
  'offsets.topic.num.partitions': '1',
};
const CLASSIC = ['session.timeout.ms=6000', 'heartbeat.interval.ms=500', 'partition.assignment.strategy=org.apache.kafka.clients.consumer.CooperativeStickyAssignor'];

async function produce(bootstrap: string, prefix: string): Promise<void> {
  const lines = Array.from({ length: 40 }, (_, i) => `${prefix}${i}`).join('\n') + '\n';
  await kafkaTool(KAFKA_4, 'console-producer', ['--bootstrap-server', bootstrap, '--topic', TOPIC, '--producer-property', 'partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner'], { input: lines });
}

/**
 * A condition on the members for waitFor that, while unmet, says what each member owns, whether its
 * JVM still runs and the end of its output: the 2-2 classic split on kts timed out after 120 s twice
 * at load ~20 (full run 13, 1 of 5 runs of this file) with nothing more to go on.
 */
function whileUnmet(named: Record<string, Member>, met: () => boolean): () => boolean {
  return () => {
    if (met()) return true;
    const state = Object.entries(named).map(([name, m]) => {
      const how = hasExited(m.child) ? `exited (${m.child.exitCode ?? m.child.signalCode})` : 'running';
      return `${name} owns [${m.assigned.join(',')}], ${m.records.length} records read, ${how}; output: ${m.log.slice(-1500) || '(none)'}`;
    });
    throw new Error(state.join(' | '));
  };
}

/** The steps on one broker; returns what they showed (the same shape is expected on both). */
async function rollingUpgrade(classDir: string, bootstrap: string, port: number, members: Member[]): Promise<unknown> {
  const raw = await RawClient.connect(port);
  const types: string[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      try {
        const g = (await raw.request(16, 5, { statesFilter: [], typesFilter: [] })).groups.find((x: { groupId: string }) => x.groupId === GROUP);
        if (g && types.at(-1) !== g.groupType) types.push(g.groupType);
      } catch {
        // polled again
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  try {
    const created = await raw.request(19, 5, { topics: [{ name: TOPIC, numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30000, validateOnly: false });
    expect(created.topics[0].errorCode).toBe(0);
    await produce(bootstrap, 'a-');
    const java = (protocol: string, extra: string[] = []) => {
      const m = startJavaMember(classDir, lib!, bootstrap, GROUP, TOPIC, protocol, extra);
      members.push(m);
      return m;
    };
    const j1 = java('classic', CLASSIC);
    const j2 = java('classic', CLASSIC);
    await waitFor(`a 2-2 classic split on ${bootstrap}`, whileUnmet({ j1, j2 }, () => j1.assigned.length === 2 && j2.assigned.length === 2), 120_000);
    await waitFor('the first 40 records committed', async () => [...(await committedOffsets(port, GROUP, TOPIC, 4)).values()].join() === '10,10,10,10', 60_000);

    await stopProcess(j2.child, 'SIGKILL');
    await waitFor('j1 to own everything after j2 is fenced', whileUnmet({ j1 }, () => j1.assigned.length === 4), 60_000);
    const j3 = java('consumer');
    await waitFor('a 2-2 split of the classic and the consumer member', whileUnmet({ j1, j3 }, () => j1.assigned.length === 2 && j3.assigned.length === 2 && new Set([...j1.assigned, ...j3.assigned]).size === 4), 120_000);
    const mixed = await describeConsumerGroup(port, GROUP);
    await produce(bootstrap, 'b-');
    await waitFor('the next 40 records read', () => [...j1.records, ...j3.records].filter((r) => r.offset >= 10).length >= 40, 60_000);
    const reReadByJ3 = j3.records.filter((r) => r.offset < 10).length;
    await waitFor('the next 40 records committed', async () => [...(await committedOffsets(port, GROUP, TOPIC, 4)).values()].join() === '20,20,20,20', 60_000);

    const j3Partitions = [...j3.assigned];
    await stopProcess(j3.child, 'SIGKILL');
    await waitFor('j1 to own everything after j3 is fenced', whileUnmet({ j1 }, () => j1.assigned.length === 4), 60_000);
    await waitFor('the group to be classic', () => types.at(-1) === 'classic', 30_000);
    await produce(bootstrap, 'c-');
    await waitFor('the last 40 records read', () => j1.records.filter((r) => r.offset >= 20).length >= 40, 60_000);
    // j1 resumes j3's partitions at j3's commits.
    const reReadByJ1 = j1.records.filter((r) => j3Partitions.includes(r.partition) && r.offset >= 10 && r.offset < 20).length;
    await stopProcess(j1.child, 'SIGKILL');
    return {
      types,
      mixed: { state: mixed.groupState, memberTypes: mixed.members.map((m) => m.memberType).sort() },
      reReadByJ3,
      reReadByJ1,
    };
  } finally {
    polling = false;
    await poller;
    raw.close();
  }
}

describe.skipIf(!lib)('a rolling upgrade on the Java client 4.4 (classic cooperative to consumer and back), as on Kafka 4.4', () => {
  let classDir: string;
  let kts: SpawnedBroker | null = null;
  let kafka: RealKafka | null = null;
  const members: Member[] = [];

  beforeAll(() => {
    classDir = compileJavaMember(lib!);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(members.map((m) => stopProcess(m.child, 'SIGKILL')));
    await kts?.stop();
    await kafka?.stop();
  }, 120_000);

  it('upgrades when a consumer-protocol member joins and downgrades when it is fenced, on both brokers alike', async () => {
    kafka = await startRealKafka(KAFKA_4, { props: { ...GROUP_SETTINGS, 'group.consumer.assignment.interval.ms': 0 } });
    const expected = await rollingUpgrade(classDir, kafka.bootstrap, kafka.port, members);
    await kafka.stop();
    kafka = null;
    kts = await spawnBroker({ overrides: GROUP_SETTINGS });
    const actual = await rollingUpgrade(classDir, kts.bootstrap, kts.port, members);
    console.log(`java rolling upgrade on Kafka 4.4: ${JSON.stringify(expected)}; on kts: ${JSON.stringify(actual)}`);
    expect(actual).toEqual(expected);
    expect(actual).toMatchObject({ types: ['classic', 'consumer', 'classic'], reReadByJ3: 0, reReadByJ1: 0 });
  }, 600_000);
});
