// KIP-903 as it fits ZooKeeper mode: a follower's Fetch v15 carries its broker epoch (the czxid of
// its /brokers/ids registration, Kafka's ZK-mode broker epoch), and the leader lets a fetch bring
// the replica back into the ISR only when that epoch is the broker's current registration's. A
// fetch sent by an earlier incarnation of the broker (before a restart, or before it registered
// again in a new session) must not: its log end says nothing of the log the broker has now.
// Three real brokers; the follower is paused (SIGSTOP) until the ISR drops it, and the test sends
// that follower's fetches itself.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../../helpers/zookeeper.js';
import { buildRecordBatch } from '../../../src/protocol/records/record-batch.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { IDS, ThreeBrokers } from './three-brokers.js';

// The paused follower stays registered (sessions of 20 s) but leaves the ISR after 3 s of silence.
const cluster = new ThreeBrokers(
  { 'zookeeper.session.timeout.ms': '20000', 'replica.lag.time.max.ms': '3000', 'auto.leader.rebalance.enable': 'false' },
  { tickTime: 1000 },
);
const TOPIC = 'epochs';

beforeAll(() => cluster.start(), 120_000);
afterAll(() => cluster.stop(), 120_000);

it('a fetch with a stale broker epoch is served but does not bring the replica into the ISR; one with its current epoch does', async () => {
  const controller = JSON.parse((await cluster.controllerNode())!).brokerid as number;
  const follower = IDS.find((id) => id !== controller)!;
  const leader = IDS.find((id) => id !== follower)!;
  await cluster.createTopic(TOPIC, 1, {}, [[leader, follower]]);
  await cluster.produceOk(leader, TOPIC, 0, 'both');
  const topicId = JSON.parse((await cluster.nodeText(`/brokers/topics/${TOPIC}`))!).topic_id as string;

  cluster.pause(follower);
  const shrunk = await waitFor('the paused follower out of the ISR', async () => {
    const s = await cluster.stateNode(TOPIC, 0);
    return s.leader === leader && s.isr.length === 1 ? s : null;
  }, 30_000);
  const produced = await cluster.request(leader, 0, 8, {
    transactionalId: null, acks: 1, timeoutMs: 30_000,
    topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: buildRecordBatch([{ value: 'leader only' }]) }] }],
  });
  expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
  const end = 2;

  const epoch = await cluster.brokerEpoch(follower);
  const fetch = async (replicaEpoch: number) => {
    const body = await cluster.request(leader, 1, 15, {
      replicaState: { replicaId: follower, replicaEpoch }, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topicId, partitions: [{ partition: 0, currentLeaderEpoch: shrunk.leader_epoch, fetchOffset: end, lastFetchedEpoch: -1, logStartOffset: 0, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    return body.responses[0].partitions[0];
  };

  // The follower's fetch at the log end, but with the epoch of an earlier registration: answered,
  // and the ISR is left as it is. (The leader writes an ISR change before it answers the fetch that
  // caused it; the node is watched for a further 2 s so that a write slowed by load is seen too.)
  expect((await fetch(epoch - 1)).errorCode).toBe(ErrorCode.NONE);
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    expect((await cluster.stateNode(TOPIC, 0)).isr).toEqual([leader]);
    await new Promise((r) => setTimeout(r, 100));
  }

  // The same fetch with the broker's current epoch: back in the ISR.
  expect((await fetch(epoch)).errorCode).toBe(ErrorCode.NONE);
  await waitFor('the follower back in the ISR', async () => ((await cluster.stateNode(TOPIC, 0)).isr.length === 2 ? true : null), 30_000);
}, 120_000);
