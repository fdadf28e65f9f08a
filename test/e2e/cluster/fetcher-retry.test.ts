// A follower that has heard of a new leadership before its leader has (both learn it from the same
// ZooKeeper write) is answered UNKNOWN_LEADER_EPOCH. In a failover the new leader's first acks=all
// write waits for that follower, so it retries within tens of milliseconds, doubling up to
// replica.fetch.backoff.ms, instead of waiting the whole backoff (1 s by default); and the long poll
// of the partitions that are fine does not hold the retry up. The follower side (ReplicaFetcher, a
// real PartitionLog) runs in process against a real kts broker, whose partitions are at epoch 0;
// the follower acts on epoch 5, a leadership the broker has not heard of.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { truncateForFollowing } from '../../../src/broker/replication/follower-truncation.js';
import { ReplicaFetcher } from '../../../src/broker/replication/replica-fetcher.js';
import { createLogger } from '../../../src/broker/logger.js';
import { BrokerConfig } from '../../../src/config/broker-config.js';
import { LogManager } from '../../../src/storage/index.js';

// Scaled up from Kafka's 1 s default so that the quick retries' bound leaves seconds for a loaded
// machine's stalls (four retries take ~300 ms idle) while one retry that waited the whole backoff
// still fails it; the long poll is scaled with it, so that four retries each held by it would too.
const BACKOFF_MS = 3000;
const MAX_WAIT_MS = 1500;
const QUICK_RETRY_MS = 20;

/** The most refusals the doubling allows in `ms` after the first one (every answer instant): 20, 40, 80, ... capped at BACKOFF_MS. */
function refusalsAllowed(ms: number): number {
  let n = 1;
  for (let t = 0, wait = QUICK_RETRY_MS; t + wait <= ms; t += wait, wait = Math.min(2 * wait, BACKOFF_MS)) n++;
  return n;
}
let broker: SpawnedBroker;
let dir: string;
let logs: LogManager;

beforeAll(async () => {
  broker = await spawnBroker();
  const c = await RawClient.connect(broker.port);
  try {
    const res = await c.request(19, 4, {
      topics: [{ name: 'retry', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    expect(res.topics[0].errorCode).toBe(0);
  } finally {
    c.close();
  }
  dir = mkdtempSync(join(tmpdir(), 'kts-fetcher-retry-'));
  const config = new BrokerConfig(new Map([['log.dirs', dir]]));
  logs = await LogManager.open({ logDirs: config.logDirs, defaults: config.logConfig(), now: Date.now, logger: createLogger({ level: 'error', write: () => {} }) });
});

afterAll(async () => {
  await logs?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('retries a partition its leader does not lead yet within tens of ms, doubling up to replica.fetch.backoff.ms', async () => {
  const lines: string[] = [];
  // When each refusal was logged: the fetcher runs in this process and logs as it handles the answer.
  const refusedAt: number[] = [];
  const isRefusal = (l: string) => /retry-1 at 0: error 75; backing off/.test(l);
  const log = createLogger({
    level: 'info',
    component: 'kts.broker.replica',
    write: (line) => {
      lines.push(line);
      if (isRefusal(line)) refusedAt.push(performance.now());
    },
  });
  const ahead = await logs.create('retry', 1);
  const fine = await logs.create('retry', 0);
  const fetcher = new ReplicaFetcher({
    nodeId: 7,
    leaderId: 1,
    host: '127.0.0.1',
    port: broker.port,
    maxWaitMs: MAX_WAIT_MS,
    maxBytes: 1 << 20,
    backoffMs: BACKOFF_MS,
    log,
    truncate: (conn, p) => truncateForFollowing(conn, p, log),
  });
  const refusals = () => refusedAt.length;
  const seen = () => `refusals at ${refusedAt.map((t) => (t - refusedAt[0]).toFixed(0)).join(', ')} ms\n${lines.join('\n')}`;
  try {
    fetcher.add(fine, 0); // fetched with the broker's epoch: a long poll of up to MAX_WAIT_MS each time
    fetcher.add(ahead, 5);
    await waitFor('the first refusal', async () => refusals() >= 1, 30_000);
    // 20 + 40 + 80 + 160 ms: four more tries in ~300 ms on an idle machine, timed from the first
    // refusal as the fetcher logged it (not from when this test's poll saw it).
    await waitFor('four quick retries', async () => refusals() >= 5, 30_000);
    const quick = refusedAt[4] - refusedAt[0];
    expect(quick, seen()).toBeLessThan(BACKOFF_MS);
    // ...and no faster than doubling allows: the broker is not hammered while it stays behind.
    await new Promise((r) => setTimeout(r, BACKOFF_MS));
    const elapsed = performance.now() - refusedAt[0];
    // (+1: the fetcher times its backoffs with Date.now(), this test with performance.now())
    expect(refusals(), seen()).toBeLessThanOrEqual(refusalsAllowed(elapsed) + 1);
  } finally {
    await fetcher.stop();
  }
});
