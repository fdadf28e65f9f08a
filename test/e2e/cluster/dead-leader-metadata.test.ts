// Metadata between a broker's death and the controller's new leader: the dead broker is gone from
// /brokers/ids (so from the brokers list) while the partition state still names it. Kafka's metadata
// cache answers leader -1 with LEADER_NOT_AVAILABLE then; kts named the dead broker, and kafkajs kept
// such a partition on a broker it had no connection to (a group member never read it again; found
// by failover.test.ts). The controller is held with SIGSTOP (its session outlasts the pause) so the
// gap stays open long enough to look at.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { spawnCoordinator, waitFor, type SpawnedCoordinator } from '../../helpers/zookeeper.js';
import { ErrorCode } from '../../../src/protocol/errors.js';

let zk: SpawnedCoordinator;
const brokers = new Map<number, SpawnedBroker>();

async function start(id: number, sessionMs: number): Promise<void> {
  brokers.set(id, await spawnBroker({ overrides: { 'broker.id': String(id), 'zookeeper.connect': `127.0.0.1:${zk.port}/kafka`, 'zookeeper.session.timeout.ms': String(sessionMs) } }));
}

async function metadataFrom(id: number, topic: string) {
  const client = await RawClient.connect(brokers.get(id)!.port);
  try {
    return await client.request(3, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  // 1 s ticks: ZooKeeper caps a session at 20 ticks, and the paused controller's must outlast a slow
  // machine's kill, expiry and metadata round trips (replication.test.ts's paused follower lost a 10 s one in CI).
  zk = await spawnCoordinator({ props: { tickTime: 1000 } });
  // Broker 1 first, so it is the controller; broker 2 (the leader to kill) with a short session.
  await start(1, 20_000);
  await Promise.all([start(2, 2000), start(3, 20_000)]);
}, 120_000);

afterAll(async () => {
  brokers.get(1)?.process.kill('SIGCONT');
  for (const b of brokers.values()) await b.stop();
  await zk?.stop();
});

describe('a dead leader in the metadata', () => {
  it('is no leader (-1, LEADER_NOT_AVAILABLE) until the controller has elected another', async () => {
    const client = await RawClient.connect(brokers.get(1)!.port);
    try {
      const created = await client.request(19, 4, {
        topics: [{ name: 'gap', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2, 3] }], configs: [] }],
        timeoutMs: 30_000,
        validateOnly: false,
      });
      expect(created.topics[0].errorCode).toBe(0);
    } finally {
      client.close();
    }
    const before = await waitFor('broker 3 sees broker 2 lead gap-0, with broker 1 as controller', async () => {
      const m = await metadataFrom(3, 'gap');
      return m.topics[0].partitions[0]?.leaderId === 2 && m.controllerId === 1 ? m : null;
    }, 20_000);
    expect(before.topics[0].partitions[0].isrNodes).toContain(3);

    brokers.get(1)!.process.kill('SIGSTOP');
    try {
      await brokers.get(2)!.kill9();
      const gap = await waitFor('broker 3 sees broker 2 gone', async () => {
        const m = await metadataFrom(3, 'gap');
        return m.brokers.every((b: { nodeId: number }) => b.nodeId !== 2) ? m : null;
      }, 15_000);
      expect(gap.topics[0].partitions[0]).toMatchObject({ leaderId: -1, errorCode: ErrorCode.LEADER_NOT_AVAILABLE });
    } finally {
      brokers.get(1)!.process.kill('SIGCONT');
    }
    await waitFor('broker 3 the new leader', async () => ((await metadataFrom(3, 'gap')).topics[0].partitions[0].leaderId === 3 ? true : null), 30_000);
  }, 90_000);
});
