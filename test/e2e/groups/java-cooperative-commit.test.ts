// A classic member with the cooperative-sticky assignor keeps fetching while its group rebalances,
// so a poll can return records mid-rebalance and its commitSync then throws
// RebalanceInProgressException: the Java client refuses the commit itself (it is not Stable), on
// Kafka 4.4 as on kts. The test fixture (fixtures/Kip848Member.java) used to die of it, and
// kip848-java-migration.test.ts then waited 120 s for a 2-2 split the surviving member could never
// reach (2 failures at load ~20). Here the window is held open on purpose: the first member reads a
// long stream one record per poll and commits after each while the second joins. Both must stay
// alive, reach the 2-2 split, and every record read by then must end up committed.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { hasExited, stopProcess } from '../../helpers/processes.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, kafkaTool } from '../../helpers/real-kafka.js';
import { committedOffsets, compileJavaMember, startJavaMember, type Member } from './kip848-support.js';
import { waitFor } from './support.js';

const lib = kafkaLib(KAFKA_4);
const TOPIC = 'coop';
const GROUP = 'coop-group';
const COOPERATIVE_ONE_AT_A_TIME = [
  'session.timeout.ms=6000',
  'heartbeat.interval.ms=500',
  'max.poll.records=1',
  'partition.assignment.strategy=org.apache.kafka.clients.consumer.CooperativeStickyAssignor',
];

describe.skipIf(!lib)('a cooperative classic Java member committing through a rebalance', () => {
  let broker: SpawnedBroker | null = null;
  const members: Member[] = [];

  afterAll(async () => {
    await Promise.all(members.map((m) => stopProcess(m.child, 'SIGKILL')));
    await broker?.stop();
  }, 60_000);

  it('stays alive when commitSync is refused mid-rebalance, reaches the 2-2 split and commits what it read', async () => {
    broker = await spawnBroker({ overrides: { 'group.min.session.timeout.ms': '1000', 'offsets.topic.num.partitions': '1' } });
    const raw = await RawClient.connect(broker.port);
    try {
      const created = await raw.request(19, 5, { topics: [{ name: TOPIC, numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30000, validateOnly: false });
      expect(created.topics[0].errorCode).toBe(0);
    } finally {
      raw.close();
    }
    // More than the first member reads (one record per poll) before the split: it always has
    // records to return while the two rebalances run.
    const lines = Array.from({ length: 40_000 }, (_, i) => `r${i}`).join('\n') + '\n';
    await kafkaTool(KAFKA_4, 'console-producer', ['--bootstrap-server', broker.bootstrap, '--topic', TOPIC, '--producer-property', 'partitioner.class=org.apache.kafka.clients.producer.RoundRobinPartitioner'], { input: lines });
    const classDir = compileJavaMember(lib!);
    const start = () => {
      const m = startJavaMember(classDir, lib!, broker!.bootstrap, GROUP, TOPIC, 'classic', COOPERATIVE_ONE_AT_A_TIME);
      members.push(m);
      return m;
    };
    const j1 = start();
    await waitFor('the first member to read', () => j1.records.length >= 20, 90_000);
    const j2 = start();
    const t0 = Date.now();
    const state = () => [j1, j2].map((m, i) => `j${i + 1} owns [${m.assigned}], ${hasExited(m.child) ? `exited: ${m.log.slice(-1500)}` : 'running'}`).join(' | ');
    // A member that exits is answered at once (the old fixture died within seconds).
    const outcome = await waitFor(
      'a 2-2 split, or a member exiting',
      () => {
        if (hasExited(j1.child) || hasExited(j2.child)) return 'a member exited';
        return j1.assigned.length === 2 && j2.assigned.length === 2 && new Set([...j1.assigned, ...j2.assigned]).size === 4 ? '2-2' : null;
      },
      90_000,
    );
    expect(outcome, state()).toBe('2-2');
    const deferred = (j1.log.match(/commit deferred/g) ?? []).length + (j2.log.match(/commit deferred/g) ?? []).length;
    console.log(`java cooperative commit: 2-2 reached ${Date.now() - t0} ms after the second member started; commitSync refused mid-rebalance ${deferred} times`);
    // Every record read by the split ends up committed: the refused commits were made later, or on
    // revocation (a partition drained meanwhile can move no further, so "further" is not asked).
    const readBySplit = new Map<number, number>();
    for (const r of [...j1.records, ...j2.records]) readBySplit.set(r.partition, Math.max(readBySplit.get(r.partition) ?? -1, r.offset));
    await waitFor(
      'every record read by the split committed',
      async () => {
        const committed = await committedOffsets(broker!.port, GROUP, TOPIC, 4);
        return [...readBySplit].every(([p, last]) => (committed.get(p) ?? -1) > last);
      },
      60_000,
    );
    expect(hasExited(j1.child) || hasExited(j2.child)).toBe(false);
  }, 300_000);
});
