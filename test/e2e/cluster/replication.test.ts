// Replication in ZooKeeper mode: three kts brokers on the kts coordinator. Topics with a replication
// factor above one get Kafka's placement and real Replicas/Isr; followers copy the leader's log
// byte for byte; acks=all waits for the ISR and min.insync.replicas is enforced; the ISR shrinks
// when a follower stops and grows when it catches up; consumers never see past the high watermark.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { KTS_BIN, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { spawnCoordinator, waitFor, type SpawnedCoordinator } from '../../helpers/zookeeper.js';
import { RawClient } from '../../helpers/raw-client.js';
import { ErrorCode } from '../../../src/protocol/errors.js';

const SESSION_MS = 4000;
const LAG_MS = 3000;
const IDS = [1, 2, 3];

let coordinator: SpawnedCoordinator;
const brokers = new Map<number, SpawnedBroker>();
const dataDirs = new Map<number, string>();
const ports = new Map<number, number>();

async function startBroker(id: number): Promise<SpawnedBroker> {
  const broker = await spawnBroker({
    port: ports.get(id),
    dataDir: dataDirs.get(id),
    overrides: {
      'broker.id': String(id),
      'zookeeper.connect': `127.0.0.1:${coordinator.port}/kafka`,
      'zookeeper.session.timeout.ms': String(SESSION_MS),
      'replica.lag.time.max.ms': String(LAG_MS),
      'replica.fetch.wait.max.ms': '200',
    },
  });
  brokers.set(id, broker);
  ports.set(id, broker.port);
  dataDirs.set(id, broker.dataDir);
  return broker;
}

const bootstrap = () => [...brokers.values()].map((b) => b.bootstrap);
const kafka = () => new Kafka({ brokers: bootstrap(), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200 } });

async function metadata(topic: string) {
  const client = await RawClient.connect([...brokers.values()][0].port);
  try {
    const body = await client.request(3, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    return body.topics[0];
  } finally {
    client.close();
  }
}

const kts = (args: string[]) => run(process.execPath, [KTS_BIN, ...args], { timeoutMs: 60_000 });

beforeAll(async () => {
  coordinator = await spawnCoordinator({ props: { tickTime: 500 } });
  await Promise.all(IDS.map((id) => startBroker(id)));
}, 120_000);

afterAll(async () => {
  for (const b of brokers.values()) await b.stop();
  await coordinator?.stop();
});

describe('replica assignment', () => {
  it('RF=3 over three brokers: every partition has three distinct replicas, all in the ISR, leaders spread', async () => {
    const admin = kafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'rf3', numPartitions: 6, replicationFactor: 3 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    const topic = await metadata('rf3');
    expect(topic.partitions).toHaveLength(6);
    for (const p of topic.partitions) {
      expect([...p.replicaNodes].sort()).toEqual(IDS);
      expect([...p.isrNodes].sort()).toEqual(IDS);
      expect(p.leaderId).toBe(p.replicaNodes[0]);
    }
    const leaders = topic.partitions.map((p: any) => p.leaderId);
    for (const id of IDS) expect(leaders.filter((l: number) => l === id)).toHaveLength(2);

    const described = await kts(['topics', '--bootstrap-server', bootstrap()[1], '--describe', '--topic', 'rf3']);
    expect(described.stdout).toMatch(/ReplicationFactor: 3/);
    expect(described.stdout).toMatch(/Partition: 0\tLeader: \d\tReplicas: \d,\d,\d\tIsr: \d,\d,\d/);
  }, 60_000);

  it('a factor above the live brokers is INVALID_REPLICATION_FACTOR; a bad explicit assignment INVALID_REPLICA_ASSIGNMENT', async () => {
    const client = await RawClient.connect(brokers.get(2)!.port);
    try {
      const create = (t: object) => client.request(19, 4, { topics: [{ configs: [], assignments: [], numPartitions: -1, replicationFactor: -1, ...t }], timeoutMs: 30_000, validateOnly: false });
      const tooMany = await create({ name: 'rf4', numPartitions: 1, replicationFactor: 4 });
      expect(tooMany.topics[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: 'Replication factor: 4 larger than available brokers: 3.' });
      const unknown = await create({ name: 'bad-assign', assignments: [{ partitionIndex: 0, brokerIds: [1, 9] }] });
      expect(unknown.topics[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'Unknown broker(s) in replica assignment: 9.' });
      const dup = await create({ name: 'bad-assign', assignments: [{ partitionIndex: 0, brokerIds: [2, 2] }] });
      expect(dup.topics[0].errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
      const ok = await create({ name: 'explicit', assignments: [{ partitionIndex: 0, brokerIds: [3, 1] }, { partitionIndex: 1, brokerIds: [2, 3] }] });
      expect(ok.topics[0].errorCode).toBe(0);
      const grown = await client.request(37, 1, { topics: [{ name: 'explicit', count: 3, assignments: [{ brokerIds: [1, 2] }] }], timeoutMs: 30_000, validateOnly: false });
      expect(grown.results[0].errorCode).toBe(0);
      const badGrow = await client.request(37, 1, { topics: [{ name: 'explicit', count: 4, assignments: [{ brokerIds: [1, 2, 3] }] }], timeoutMs: 30_000, validateOnly: false });
      expect(badGrow.results[0].errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
      const placed = await client.request(37, 1, { topics: [{ name: 'explicit', count: 5, assignments: null }], timeoutMs: 30_000, validateOnly: false });
      expect(placed.results[0].errorCode).toBe(0);
    } finally {
      client.close();
    }
    const topic = await waitFor('explicit topic states', async () => {
      const t = await metadata('explicit');
      return t.partitions.length === 5 && t.partitions.every((p: any) => p.leaderId >= 0) ? t : null;
    }, 20_000);
    const byIndex = new Map(topic.partitions.map((p: any) => [p.partitionIndex, p]));
    expect((byIndex.get(0) as any).replicaNodes).toEqual([3, 1]);
    expect((byIndex.get(1) as any).replicaNodes).toEqual([2, 3]);
    expect((byIndex.get(2) as any).replicaNodes).toEqual([1, 2]);
    for (const p of [3, 4]) expect(new Set((byIndex.get(p) as any).replicaNodes).size).toBe(2);
  }, 60_000);
});
