// A follower's truncation is decided on the leader's OffsetForLeaderEpoch answer, which comes back
// after a round trip. If the broker stopped following the partition meanwhile (it was elected its
// leader, or follows another leader now), the answer belongs to the old leadership: cutting on it
// removes records the new role relies on (as leader: acknowledged records and the producer state
// they carry, which made an idempotent producer's retry OUT_OF_ORDER_SEQUENCE_NUMBER after a
// failover). Kafka's fetcher holds its partition lock over a truncation, so a removal waits for it;
// kts asks again right before the cut. The leader is a real kts broker whose partition has 2 records
// at epoch 0; the follower side (a real PartitionLog) has 5 at epoch 0, so the answer says "cut to 2".
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { truncateForFollowing } from '../../../src/broker/replication/follower-truncation.js';
import type { FollowedPartition } from '../../../src/broker/replication/replica-fetcher.js';
import { createLogger } from '../../../src/broker/logger.js';
import { BrokerConnection } from '../../../src/client/connection.js';
import { BrokerConfig } from '../../../src/config/broker-config.js';
import { LogManager, type PartitionLog } from '../../../src/storage/index.js';
import { valuesBatch } from '../../unit/storage/helpers.js';

const TOPIC = 'unfollow';
let broker: SpawnedBroker;
let dir: string;
let logs: LogManager;

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
    for (const partition of [0, 1]) {
      const produced = await c.request(0, 7, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 30_000,
        topicData: [{ name: TOPIC, partitionData: [{ index: partition, records: valuesBatch('leader-', 2) }] }],
      });
      expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
    }
  } finally {
    c.close();
  }
  dir = mkdtempSync(join(tmpdir(), 'kts-unfollow-'));
  const config = new BrokerConfig(new Map([['log.dirs', dir]]));
  logs = await LogManager.open({ logDirs: config.logDirs, defaults: config.logConfig(), now: Date.now, logger: createLogger({ level: 'error', write: () => {} }) });
}, 60_000);

afterAll(async () => {
  await logs?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A follower log of 5 one-record batches at leader epoch 0 (3 more than the leader has). */
async function followerLog(partition: number): Promise<PartitionLog> {
  const log = await logs.create(TOPIC, partition);
  for (let offset = 0; offset < 5; offset++) {
    const batch = valuesBatch(`follower-${offset}-`, 1);
    batch.writeBigInt64BE(BigInt(offset), 0);
    batch.writeInt32BE(0, 12); // partition leader epoch 0 (neither field is covered by the CRC)
    await log.appendAsFollower(batch);
  }
  expect(log.logEndOffset).toBe(5);
  return log;
}

const followed = (log: PartitionLog): FollowedPartition => ({ topic: TOPIC, partition: log.partition, log, leaderEpoch: 0, truncated: false, delayedUntil: 0, quickRetries: 0 });

it('cuts to where the leader says while still following, and not at all once the partition was let go before the answer', async () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', component: 'kts.broker.replica', write: (line) => lines.push(line) });
  const conn = await BrokerConnection.open('127.0.0.1', broker.port, { clientId: 'unfollow-test', connectTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
  try {
    const kept = await followerLog(0);
    await truncateForFollowing(conn, followed(kept), log, () => true);
    expect(kept.logEndOffset, lines.join('\n')).toBe(2);

    const letGo = await followerLog(1);
    let following = true;
    const truncation = truncateForFollowing(conn, followed(letGo), log, () => following);
    following = false; // the OffsetForLeaderEpoch request is on its way; this broker now leads the partition
    await truncation;
    expect(letGo.logEndOffset, lines.join('\n')).toBe(5);
    expect(lines.join('\n')).toMatch(/not truncated: no longer following/);
  } finally {
    conn.close();
  }
});
