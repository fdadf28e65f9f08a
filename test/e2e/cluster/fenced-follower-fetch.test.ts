// A follower's Fetch counts for the high watermark and the ISR only once it passed the leader's
// checks (Kafka's Partition.fetchRecords: the current leader epoch first, then the read, and no
// update for a fetch answered with a divergingEpoch). kts recorded every follower fetch's offset
// before looking at its epoch: a fetch from a replica in another leadership, or one whose fetch
// offset lies past this log's end (a tail this leader does not have), moved the high watermark over
// records that replica may not hold, and acks=all could be answered for records on the leader alone.
// Three real brokers; the partition's follower is paused (SIGSTOP, still in the ISR) and the test
// sends that follower's fetches itself, so the high watermark moves only by the fetches sent here.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../../helpers/zookeeper.js';
import { buildRecordBatch } from '../../../src/protocol/records/record-batch.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { IDS, ThreeBrokers } from './three-brokers.js';

// The paused follower must stay registered and in the ISR for the whole test: sessions of 20 s
// (ticks of 1 s), replica.lag.time.max.ms far beyond it.
const cluster = new ThreeBrokers(
  { 'zookeeper.session.timeout.ms': '20000', 'replica.lag.time.max.ms': '120000', 'auto.leader.rebalance.enable': 'false' },
  { tickTime: 1000 },
);
const TOPIC = 'fenced';
let leader: number;

beforeAll(() => cluster.start(), 120_000);
afterAll(() => cluster.stop(), 120_000);

const request = (id: number, apiKey: number, version: number, body: any) => cluster.request(id, apiKey, version, body);

/** A Fetch v12 of the partition, as replica `replicaId` (-1: a consumer); the partition's answer. */
async function fetch(replicaId: number, fetchOffset: number, currentLeaderEpoch: number, lastFetchedEpoch = -1): Promise<any> {
  const body = await request(leader, 1, 12, {
    replicaId, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch, fetchOffset, lastFetchedEpoch, logStartOffset: 0, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [], rackId: '',
  });
  return body.responses[0].partitions[0];
}

const highWatermark = async (): Promise<number> => Number((await fetch(-1, 0, -1)).highWatermark);

it("a follower fetch in another leadership or past the log end does not move the high watermark; the follower's valid fetch does", async () => {
  // The follower paused must not be the controller (its decisions would wait for it).
  const controller = JSON.parse((await cluster.controllerNode())!).brokerid as number;
  const follower = IDS.find((id) => id !== controller)!;
  leader = IDS.find((id) => id !== follower)!;
  await cluster.createTopic(TOPIC, 1, { 'min.insync.replicas': '2' }, [[leader, follower]]);
  const state = await waitFor('leader and ISR settled', async () => {
    const s = await cluster.stateNode(TOPIC, 0);
    return s.leader === leader && s.isr.length === 2 ? s : null;
  }, 30_000);
  const epoch = state.leader_epoch;
  await cluster.produceOk(leader, TOPIC, 0, 'both');
  await waitFor('high watermark 1', async () => ((await highWatermark()) === 1 ? true : null), 30_000);

  cluster.pause(follower);
  // acks=1: on the leader only; the high watermark waits for the paused follower (in the ISR).
  const produced = await request(leader, 0, 8, {
    transactionalId: null, acks: 1, timeoutMs: 30_000,
    topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: buildRecordBatch([{ value: 'leader only' }]) }] }],
  });
  const answer = produced.responses[0].partitionResponses[0];
  expect([answer.errorCode, Number(answer.baseOffset)]).toEqual([0, 1]);
  const end = 2;
  expect(await highWatermark()).toBe(1);

  // The follower's fetch in a later leadership than the leader's (it heard of an election the leader
  // has not): UNKNOWN_LEADER_EPOCH, and its offset says nothing of its log in this leadership.
  expect((await fetch(follower, end, epoch + 1, 0)).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
  // Past this log's end: a tail the leader does not have, answered OFFSET_OUT_OF_RANGE.
  expect((await fetch(follower, end + 5, epoch)).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
  expect(await highWatermark()).toBe(1);

  // The follower's own fetch at the log end, in this leadership: the high watermark moves.
  expect((await fetch(follower, end, epoch, 0)).errorCode).toBe(ErrorCode.NONE);
  expect(await highWatermark()).toBe(end);
}, 120_000);


it('a follower fetch from a broker outside the replica set is served nothing and moves neither the high watermark nor the ISR', async () => {
  // Kafka's Partition.followerReplicaOrThrow: UNKNOWN_LEADER_EPOCH when the fetch named the current
  // epoch (a replica the leader has not heard of yet retries), else NOT_LEADER_OR_FOLLOWER.
  const state = await cluster.stateNode(TOPIC, 0);
  const outsider = IDS.find((id) => id !== leader && !state.isr.includes(id))!;
  const end = 2;
  const hw = await highWatermark();
  for (const replicaId of [outsider, 99]) {
    const withEpoch = await fetch(replicaId, 0, state.leader_epoch, -1);
    expect([withEpoch.errorCode, withEpoch.records?.length ?? 0]).toEqual([ErrorCode.UNKNOWN_LEADER_EPOCH, 0]);
    const withoutEpoch = await fetch(replicaId, end, -1, -1);
    expect([withoutEpoch.errorCode, withoutEpoch.records?.length ?? 0]).toEqual([ErrorCode.NOT_LEADER_OR_FOLLOWER, 0]);
  }
  // A consumer still reads (replica id -1 is not a replica's fetch).
  expect((await fetch(-1, 0, state.leader_epoch)).errorCode).toBe(ErrorCode.NONE);
  expect(await highWatermark()).toBe(hw);
  const after = await cluster.stateNode(TOPIC, 0);
  expect([after.isr, after.stat.version]).toEqual([state.isr, state.stat.version]);
}, 60_000);
