// acks=all must never be answered with success by a broker that no longer leads the partition. In
// the nemesis test (network-partition.test.ts) broker 2 learned from ZooKeeper that broker 3 led
// now (epoch 2, its log end 7039), then appended a produce that had passed its leader check before
// (the batch was being prepared), and answered it 0: the replica manager had no leader state left
// for the partition and took it for a one-replica one. Broker 2 then truncated the batch away as
// broker 3's follower: an acknowledged write lost. Driven in process on real logs; the cluster view
// is a plain in-memory state the test moves.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { BrokerConfig } from '../../../../src/config/broker-config.js';
import { LogManager } from '../../../../src/storage/index.js';
import { createLogger } from '../../../../src/broker/logger.js';
import { ReplicaManager } from '../../../../src/broker/replication/replica-manager.js';
import type { ClusterMetadata, PartitionState } from '../../../../src/cluster/cluster-metadata.js';
import { buildRecordBatch } from '../../../../src/protocol/records/record-batch.js';
import { ErrorCode } from '../../../../src/protocol/errors.js';

let dir: string;
let logs: LogManager;
let manager: ReplicaManager;
const states = new Map<string, PartitionState>();
const listeners: (() => void)[] = [];

function setState(topic: string, state: PartitionState): void {
  states.set(`${topic}-0`, state);
  for (const l of listeners) l();
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kts-replica-ack-'));
  const log = createLogger({ level: 'error', component: 'test', write: () => {} });
  const config = new BrokerConfig(new Map([['log.dirs', dir], ['broker.id', '1'], ['listeners', 'PLAINTEXT://127.0.0.1:9092'], ['min.insync.replicas', '2']]));
  logs = await LogManager.open({ logDirs: config.logDirs, defaults: config.logConfig(), now: Date.now, logger: log.child('log') });
  await logs.create('replicated', 0, config.logConfig());
  await logs.create('single', 0, config.logConfig());
  states.clear();
  listeners.length = 0;
  states.set('replicated-0', { leader: 1, leaderEpoch: 1, replicas: [1, 2, 3], isr: [1, 2, 3], zkVersion: 1 });
  states.set('single-0', { leader: 1, leaderEpoch: 0, replicas: [1], isr: [1], zkVersion: 0 });
  // Only what the replica manager reads; no broker is live, so following starts no fetcher.
  const topics = {
    partitionState: (topic: string, partition: number) => states.get(`${topic}-${partition}`),
    liveBrokers: () => [],
    get: () => undefined,
    onStatesChanged: (l: () => void) => listeners.push(l),
  } as unknown as ClusterMetadata;
  manager = await ReplicaManager.start({ nodeId: 1, config, logs, topics, log, now: Date.now });
});

afterEach(async () => {
  await manager.close();
  await logs.close();
  rmSync(dir, { recursive: true, force: true });
});

const batch = () => buildRecordBatch([{ value: 'v' }]);

it('an append that lands after the leadership moved is answered NOT_LEADER_OR_FOLLOWER, not success', async () => {
  const log = logs.get('replicated', 0)!;
  expect(manager.leaderOf('replicated', 0)?.leaderEpoch).toBe(1);
  // The produce passed its leader check at epoch 1; before its append, broker 3 took over.
  setState('replicated', { leader: 3, leaderEpoch: 2, replicas: [1, 2, 3], isr: [3], zkVersion: 2 });
  expect(manager.leaderOf('replicated', 0)).toBeUndefined();
  const { lastOffset } = await log.append(batch(), { leaderEpoch: 1 });
  expect(await manager.waitForReplication('replicated', 0, lastOffset + 1, 1000, 1)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  // Without the epoch (group and transaction coordinators' older callers) as well.
  expect(await manager.waitForReplication('replicated', 0, lastOffset + 1, 1000)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
});

it('an append made in an earlier leadership of this broker is not acknowledged by the later one', async () => {
  const log = logs.get('replicated', 0)!;
  setState('replicated', { leader: 3, leaderEpoch: 2, replicas: [1, 2, 3], isr: [1, 3], zkVersion: 2 });
  const { lastOffset } = await log.append(batch(), { leaderEpoch: 1 });
  setState('replicated', { leader: 1, leaderEpoch: 3, replicas: [1, 2, 3], isr: [1], zkVersion: 3 });
  expect(manager.leaderOf('replicated', 0)?.leaderEpoch).toBe(3);
  expect(await manager.waitForReplication('replicated', 0, lastOffset + 1, 1000, 1)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
});

it('a leader waits for its ISR and ends the wait with NOT_LEADER_OR_FOLLOWER when deposed; one replica needs no wait', async () => {
  const log = logs.get('replicated', 0)!;
  const { lastOffset } = await log.append(batch(), { leaderEpoch: 1 });
  const waiting = manager.waitForReplication('replicated', 0, lastOffset + 1, 5000, 1);
  manager.followerFetched('replicated', 0, 2, lastOffset + 1);
  setState('replicated', { leader: 2, leaderEpoch: 2, replicas: [1, 2, 3], isr: [2, 3], zkVersion: 2 });
  expect(await waiting).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const single = await logs.get('single', 0)!.append(batch(), { leaderEpoch: 0 });
  expect(await manager.waitForReplication('single', 0, single.lastOffset + 1, 1000, 0)).toBe(0);
});

// An epoch bump that keeps this broker the leader (the controller completing a reassignment bumps
// the epoch; Kafka's ZooKeeper controller bumps it on any ISR change it writes) is not a lost
// leadership: as in Kafka, the acks=all produces waiting go on waiting and complete once the high
// watermark passes them. Before, every one of them was answered NOT_LEADER_OR_FOLLOWER at the bump
// (a producer without idempotence then writes the record twice on its retry).
it('an epoch bump that keeps the leader keeps the acks=all waits, which complete when the high watermark passes them', async () => {
  const log = logs.get('replicated', 0)!;
  const first = await log.append(batch(), { leaderEpoch: 1 });
  const waiting = manager.waitForReplication('replicated', 0, first.lastOffset + 1, 5000, 1);
  let answered: number | undefined;
  void waiting.then((code) => (answered = code));
  // Accepted in epoch 1 and queued on the log; it lands after the bump below.
  const appending = log.append(batch(), { leaderEpoch: 1 });
  // Broker 3 leaves the replica set (a reassignment completed): leader 1 at epoch 2, ISR [1,2].
  setState('replicated', { leader: 1, leaderEpoch: 2, replicas: [1, 2], isr: [1, 2], zkVersion: 2 });
  expect(manager.leaderOf('replicated', 0)?.leaderEpoch).toBe(2);
  const second = await appending;
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(answered).toBeUndefined(); // still waiting for broker 2
  // Appended in epoch 1, its wait started after the bump: the same leadership, so it waits too.
  const later = manager.waitForReplication('replicated', 0, second.lastOffset + 1, 5000, 1);
  manager.followerFetched('replicated', 0, 2, second.lastOffset + 1);
  expect(await waiting).toBe(0);
  expect(await later).toBe(0);
  expect(log.highWatermark).toBe(second.lastOffset + 1);
  // The new epoch is noted at the log end, as for any new leadership.
  await log.settled();
  expect(log.leaderEpochs.latestEpoch()).toBe(2);
});

it('a jump of more than one epoch may hide another leader in between: a new leadership, the waits end NOT_LEADER_OR_FOLLOWER', async () => {
  const log = logs.get('replicated', 0)!;
  const { lastOffset } = await log.append(batch(), { leaderEpoch: 1 });
  const waiting = manager.waitForReplication('replicated', 0, lastOffset + 1, 5000, 1);
  setState('replicated', { leader: 1, leaderEpoch: 3, replicas: [1, 2, 3], isr: [1, 2], zkVersion: 3 });
  expect(await waiting).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  expect(await manager.waitForReplication('replicated', 0, lastOffset + 1, 1000, 1)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
});

it('a leadership its state names but the replica manager has not taken up yet takes no produce', () => {
  // The state is read from ZooKeeper a moment before the replica manager applies it: a produce
  // then is refused before its append (retriable), instead of appended and answered an error.
  states.set('new-0', { leader: 1, leaderEpoch: 0, replicas: [1, 2, 3], isr: [1, 2, 3], zkVersion: 0 });
  expect(manager.checkLeadershipTakenUp('new', 0, 0)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  // A later epoch of a partition led here: refused until applied, then taken.
  expect(manager.checkLeadershipTakenUp('replicated', 0, 1)).toBe(0);
  states.set('replicated-0', { leader: 1, leaderEpoch: 2, replicas: [1, 2, 3], isr: [1, 2], zkVersion: 2 });
  expect(manager.checkLeadershipTakenUp('replicated', 0, 2)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  for (const l of listeners) l();
  expect(manager.leaderOf('replicated', 0)?.leaderEpoch).toBe(2);
  expect(manager.checkLeadershipTakenUp('replicated', 0, 2)).toBe(0);
  // One replica: no leader state, nothing to wait for.
  expect(manager.checkLeadershipTakenUp('single', 0, 0)).toBe(0);
});
