// A follower whose log has a tail its leader does not have must cut it before it copies anything
// after it (KIP-101 / KIP-320). Two ways such a tail got past kts's truncation:
//  - a batch the broker queued on the log in its previous role (a produce it accepted as leader, or
//    the previous fetcher's batch) was still queued when the leader's OffsetForLeaderEpoch answer
//    came; the answer's point was the log end then, so no cut was queued and the batch landed after;
//  - the follower sent lastFetchedEpoch -1 in every Fetch, so the leader could not tell it that its
//    tail diverged (divergingEpoch, Fetch v12+), and it appended the leader's records after its own.
// The leader is a real kts broker; the follower side is a real PartitionLog driven by kts's own
// truncation and ReplicaFetcher, as a follower broker drives them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { truncateForFollowing } from '../../../src/broker/replication/follower-truncation.js';
import { ReplicaFetcher, type FollowedPartition } from '../../../src/broker/replication/replica-fetcher.js';
import { createLogger } from '../../../src/broker/logger.js';
import { BrokerConnection } from '../../../src/client/connection.js';
import { BrokerConfig } from '../../../src/config/broker-config.js';
import { LogManager, type PartitionLog } from '../../../src/storage/index.js';
import { nodeFileSystem, type FileHandle, type FileSystem } from '../../../src/storage/file-system.js';
import { valuesBatch } from '../../unit/storage/helpers.js';

const TOPIC = 'diverge';
let broker: SpawnedBroker;
let dir: string;
let logs: LogManager;
/** Writes to segment files wait for this while it is set. */
let gate: Promise<void> | null = null;

/** The file system, with every write to a `.log` file held while `gate` is set. */
const gatedFs: FileSystem = {
  ...nodeFileSystem,
  async open(path, flags): Promise<FileHandle> {
    const h = await nodeFileSystem.open(path, flags);
    return {
      pread: h.pread.bind(h),
      fdatasync: h.fdatasync.bind(h),
      truncate: h.truncate.bind(h),
      stat: h.stat.bind(h),
      close: h.close.bind(h),
      async pwrite(buffer, offset, length, position) {
        if (gate && path.endsWith('.log')) await gate;
        return h.pwrite(buffer, offset, length, position);
      },
      ...(h.pwritev ? { pwritev: async (buffers: Buffer[], position: number) => {
        if (gate && path.endsWith('.log')) await gate;
        return h.pwritev!(buffers, position);
      } } : {}),
    } as FileHandle;
  },
};

/** A batch of `n` records at `baseOffset` written in leader epoch `epoch` (neither field is in the CRC). */
function batchAt(prefix: string, baseOffset: number, n: number, epoch: number): Buffer {
  const b = valuesBatch(prefix, n);
  b.writeBigInt64BE(BigInt(baseOffset), 0);
  b.writeInt32BE(epoch, 12);
  return b;
}

async function produce(port: number, partition: number, values: string[]): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    const produced = await c.request(0, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30_000,
      topicData: [{ name: TOPIC, partitionData: [{ index: partition, records: valuesBatch(values[0], values.length) }] }],
    });
    expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
  } finally {
    c.close();
  }
}

beforeAll(async () => {
  broker = await spawnBroker();
  const c = await RawClient.connect(broker.port);
  try {
    const created = await c.request(19, 4, {
      topics: [{ name: TOPIC, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    expect(created.topics[0].errorCode).toBe(0);
  } finally {
    c.close();
  }
  // Partition 0: 2 records in epoch 0. Partition 1: 2 in epoch 0, then (written below, with the
  // broker stopped, as a later leadership would have) 4 in epoch 2 from offset 2 on.
  await produce(broker.port, 0, ['leader-a', 'leader-b']);
  await produce(broker.port, 1, ['leader-a', 'leader-b']);
  const { port, dataDir } = broker;
  expect(await broker.stop('SIGTERM')).toBe(0);
  const quiet = createLogger({ level: 'error', write: () => {} });
  const leaderLogs = await LogManager.open({ logDirs: [dataDir], defaults: new BrokerConfig(new Map([['log.dirs', dataDir]])).logConfig(), now: Date.now, logger: quiet });
  const later = leaderLogs.get(TOPIC, 1)!;
  await later.appendAsFollower(batchAt('epoch2-', 2, 4, 2));
  expect(later.leaderEpochs.entries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 2 }]);
  await leaderLogs.close();
  broker = await spawnBroker({ port, dataDir });

  dir = mkdtempSync(join(tmpdir(), 'kts-diverge-'));
  const config = new BrokerConfig(new Map([['log.dirs', dir]]));
  logs = await LogManager.open({ logDirs: config.logDirs, defaults: config.logConfig(), fs: gatedFs, now: Date.now, logger: quiet });
}, 90_000);

afterAll(async () => {
  gate = null;
  await logs?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const followed = (log: PartitionLog): FollowedPartition => ({ topic: TOPIC, partition: log.partition, log, leaderEpoch: 0, truncated: false, delayedUntil: 0, quickRetries: 0 });

async function leaderRecords(partition: number): Promise<Buffer> {
  const conn = await BrokerConnection.open('127.0.0.1', broker.port, { clientId: 'diverge-read', connectTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  try {
    const body = await conn.send(1, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const p = body.responses[0].partitions[0];
    expect(p.errorCode).toBe(0);
    expect(p.records).not.toBeNull();
    return p.records!;
  } finally {
    conn.close();
  }
}

it('a batch still queued on the log when the leader answers is cut with the rest of the tail', async () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', component: 'kts.broker.replica', write: (line) => lines.push(line) });
  const follower = await logs.create(TOPIC, 0);
  await follower.appendAsFollower(await leaderRecords(0)); // 0..1 in epoch 0, as the leader
  expect(follower.logEndOffset).toBe(2);
  // This broker led epoch 0 a moment ago and accepted a produce of 3 records the leader never got;
  // its write is slow (held here), so the batch is still queued when the leader's answer comes.
  let release!: () => void;
  gate = new Promise<void>((resolve) => (release = resolve));
  const stray = follower.append(valuesBatch('stray-', 3), { leaderEpoch: 0 });
  const conn = await BrokerConnection.open('127.0.0.1', broker.port, { clientId: 'diverge-test', connectTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  try {
    // The gate opens as the answer arrives (before the cut is decided on it), or after 300 ms
    // for a truncation that waits for the log to settle before it asks.
    const answered: BrokerConnection = Object.create(conn, {
      send: { value: async (...args: Parameters<BrokerConnection['send']>) => {
        const body = await conn.send(...args);
        release();
        return body;
      } },
    });
    const timer = setTimeout(() => release(), 300);
    await truncateForFollowing(answered, followed(follower), log, () => true);
    clearTimeout(timer);
    release();
    gate = null;
    expect((await stray).baseOffset).toBe(2);
    // Epoch 0 ends at 2 on the leader: the 3 stray records go, whenever they landed.
    expect(follower.logEndOffset, lines.join('\n')).toBe(2);
    expect((await follower.read(0, 1 << 20)).records).toEqual(await leaderRecords(0));
  } finally {
    gate = null;
    conn.close();
  }
});

it('the fetcher sends its last fetched epoch and truncates on the divergingEpoch answer, ending equal to the leader', async () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', component: 'kts.broker.replica', write: (line) => lines.push(line) });
  const follower = await logs.create(TOPIC, 1);
  const leaderBytes = await leaderRecords(1);
  // The follower has the leader's epoch-0 batch (0..1), then 3 records of an epoch 1 the leader never
  // had (the follower led epoch 1 alone, for a moment); no truncation step runs here: this is a tail
  // that got past it.
  await follower.appendAsFollower(leaderBytes.subarray(0, 12 + leaderBytes.readInt32BE(8)));
  await follower.appendAsFollower(batchAt('epoch1-', 2, 3, 1));
  expect(follower.logEndOffset).toBe(5);
  // The fetcher fetches as broker 0, the partition's one replica: the leader serves replica fetches
  // only to brokers of the replica set (as Kafka), and this single broker's set is itself.
  const fetcher = new ReplicaFetcher({
    nodeId: 0,
    leaderId: 0,
    host: '127.0.0.1',
    port: broker.port,
    maxWaitMs: 100,
    maxBytes: 1 << 20,
    backoffMs: 100,
    log,
    truncate: async () => {},
  });
  try {
    fetcher.add(follower, 0);
    // Fetch at 5 with last fetched epoch 1: the leader answers divergingEpoch (0, 2); the follower
    // cuts to 2 and fetches the leader's epoch-2 records from there.
    await waitFor('the follower caught up with the leader', async () => (follower.logEndOffset === 6 ? true : null), 30_000);
  } finally {
    await fetcher.stop();
  }
  expect((await follower.read(0, 1 << 20)).records, lines.join('\n')).toEqual(leaderBytes);
  expect(follower.leaderEpochs.entries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 2 }]);
  expect(lines.join('\n')).toMatch(/diverged from the leader/);
});
