// The client waits for a group coordinator that is loading, as Kafka's clients do: a fresh Kafka 4.4
// broker on a busy machine answered COORDINATOR_LOAD_IN_PROGRESS for longer than the five quick
// retries kts used to make (about 3 s), and `kts console-consumer --group` gave up.
import { expect, it } from 'vitest';
import type { Cluster } from '../../../src/client/cluster.js';
import { Groups } from '../../../src/client/groups.js';
import { API } from '../../../src/client/versions.js';
import { ErrorCode } from '../../../src/protocol/index.js';

/** A coordinator (node 1) that answers OffsetFetch with LOAD_IN_PROGRESS for `loadingMs`. */
function loadingCluster(loadingMs: number) {
  const loadedAt = Date.now() + loadingMs;
  const seen: number[] = [];
  const conn = {
    request: async (apiKey: number) => {
      seen.push(apiKey);
      if (apiKey === API.FindCoordinator) return { errorCode: 0, nodeId: 1, host: '127.0.0.1', port: 1 };
      if (apiKey === API.OffsetFetch) {
        if (Date.now() < loadedAt) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, topics: [] };
        return { errorCode: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 7, metadata: '', errorCode: 0 }] }] };
      }
      throw new Error(`unexpected API ${apiKey}`);
    },
    // A broker that negotiated OffsetFetch v7 (answers in v0-7's shape).
    version: () => 7,
    send: async (apiKey: number) => conn.request(apiKey),
  };
  const cluster = { any: async () => conn, node: async () => conn, coordinator: async () => conn, metadata: { brokers: [{ nodeId: 1 }] }, refresh: async () => ({}) };
  return { cluster: cluster as unknown as Cluster, seen };
}

it('keeps asking a loading coordinator for longer than 3 s, and gets the offsets once it has loaded', async () => {
  const { cluster, seen } = loadingCluster(4500);
  const offsets = await new Groups(cluster).fetchOffsets('g');
  expect(offsets).toEqual([{ topic: 't', partition: 0, offset: 7, leaderEpoch: -1, metadata: '', error: undefined }]);
  // Backing off: one request every 200 ms at first, then at most one a second, not a busy loop.
  expect(seen.filter((k) => k === API.OffsetFetch).length).toBeLessThan(15);
}, 30_000);
