// The kts client's group member rebalances while the same client has a long-poll fetch in flight.
// A broker answers each connection's requests in order, so when JoinGroup, SyncGroup and Heartbeat
// shared the data connection, a fetch waiting out its max wait held the member's heartbeat (and
// so its rejoin) back, and a JoinGroup parked for the join phase held up every fetch behind it:
// `kts connect-distributed` tails three topics with 500 ms fetches and its rebalances took seconds.
// Kafka's clients keep a separate connection to the coordinator; so does the kts client now.
// The check is an ordering: the whole rebalance (B joins with the MEMBER_ID_REQUIRED round trip, A
// sees it by heartbeat and rejoins, both sync) completes while B's fetch, with a max wait of 25 s on
// an empty partition, is still pending. (A is the leader; its assignment refreshes metadata on the
// shared connection, so the fetch is B's.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../../src/client/index.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { waitFor } from './support.js';

let broker: SpawnedBroker;
const clients: KafkaClient[] = [];

beforeAll(async () => {
  broker = await spawnBroker();
});

afterAll(async () => {
  for (const c of clients) c.close();
  await broker?.stop();
});

describe('kts client: group coordinator requests on their own connection', () => {
  it('completes a rebalance while a long-poll fetch of the same client is pending', async () => {
    const a = await KafkaClient.connect(broker.bootstrap, { clientId: 'member-a' });
    const b = await KafkaClient.connect(broker.bootstrap, { clientId: 'member-b' });
    clients.push(a, b);
    await a.admin.createTopics([{ name: 'orders', numPartitions: 2, replicationFactor: 1 }]);
    // Session and rebalance timeouts far above anything the test waits for.
    const opts = { groupId: 'coord-conn', topics: async () => ['orders'], sessionTimeoutMs: 60_000, rebalanceTimeoutMs: 60_000, heartbeatIntervalMs: 200 };
    const memberA = a.groupMember(opts);
    const memberB = b.groupMember(opts);
    expect(await memberA.join()).toHaveLength(2);

    // Warm the fetch path (module, metadata, leader connection), then park a fetch at the broker.
    await waitFor('partition 0 fetchable', async () => (await b.fetch([{ topic: 'orders', partition: 0, offset: 0 }], { maxWaitMs: 0 }))[0]?.errorCode === 0);
    let fetchDone = false;
    const pendingFetch = b.fetch([{ topic: 'orders', partition: 0, offset: 0 }], { maxWaitMs: 25_000, minBytes: 1 }).finally(() => (fetchDone = true));

    const joinedB = memberB.join();
    await waitFor('member A told to rejoin by its heartbeat', () => memberA.rebalanceNeeded || fetchDone);
    expect(fetchDone).toBe(false);
    const [partsA, partsB] = await Promise.all([memberA.join(), joinedB]);
    expect(fetchDone).toBe(false);
    expect(memberA.generationId).toBe(memberB.generationId);
    expect([...partsA, ...partsB].map((p) => p.partition).sort()).toEqual([0, 1]);
    expect(partsA).toHaveLength(1);

    // The data connection still works: a record ends the parked fetch at once.
    const producer = a.producer({ acks: -1 });
    await producer.send('orders', { key: null, value: Buffer.from('wake'), partition: 0 });
    const [fetched] = await pendingFetch;
    expect(fetched.records.map((r) => r.value?.toString())).toEqual(['wake']);
    producer.close();
    await Promise.all([memberA.leave(), memberB.leave()]);
  }, 60_000);
});
