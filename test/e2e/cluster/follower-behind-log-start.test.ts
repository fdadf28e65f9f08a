// A follower that was down while its leader deleted the records it would fetch next (DeleteRecords
// here; retention does the same) finds its log end below the leader's log start: every fetch is
// answered OFFSET_OUT_OF_RANGE. Kafka's fetcher then asks the leader for its log start and end
// (ListOffsets as a replica) and empties its log to start at the leader's log start
// (truncateFullyAndStartAt); kts's fetcher asked OffsetForLeaderEpoch again, got the same answer and
// fetched the same offset, forever, so the follower never came back into the ISR.
// Three real brokers, RF=3; the follower is stopped, the new leader takes writes and deletes records
// past the follower's end, the follower comes back: it rejoins the ISR, and once it leads it serves
// exactly the records (and the log start) the old leader served. On the way, DeleteRecords waits
// for the live follower's log start to follow the leader's, as Kafka's.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../../helpers/zookeeper.js';
import { buildRecordBatch } from '../../../src/protocol/records/record-batch.js';
import { decodeFetchedRecords } from '../../../src/client/fetch.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { IDS, ThreeBrokers } from './three-brokers.js';

const cluster = new ThreeBrokers({ 'auto.leader.rebalance.enable': 'false' });
const TOPIC = 'behind';

beforeAll(() => cluster.start(), 120_000);
afterAll(() => cluster.stop(), 120_000);

/** ListOffsets v7 (a consumer's) of the partition on broker `id`: EARLIEST (-2) or LATEST (-1). */
async function offsetOf(id: number, timestamp: number): Promise<number> {
  const body = await cluster.request(id, 2, 7, {
    replicaId: -1, isolationLevel: 0,
    topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
  });
  const p = body.topics[0].partitions[0];
  if (p.errorCode !== 0) throw new Error(`ListOffsets ${timestamp} on broker ${id}: error ${p.errorCode}`);
  return Number(p.offset);
}

/** Every record of the partition from its log start up to the high watermark, read from broker `id`. */
async function records(id: number): Promise<string[]> {
  const start = await offsetOf(id, -2);
  const body = await cluster.request(id, 1, 12, {
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 10_000_000, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: start, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 10_000_000 }] }],
    forgottenTopicsData: [], rackId: '',
  });
  const p = body.responses[0].partitions[0];
  if (p.errorCode !== 0) throw new Error(`Fetch from broker ${id}: error ${p.errorCode}`);
  return decodeFetchedRecords(TOPIC, 0, p.records, start).records.map((r) => `${r.offset}:${r.value!.toString()}`);
}

/**
 * One acks=all produce of `values` as one batch to broker `id`; its base offset. The state znode
 * names a new leader before the broker has its LeaderAndIsr: NOT_LEADER_OR_FOLLOWER (6) and
 * LEADER_NOT_AVAILABLE (5) append nothing, so only those are retried (any other error fails).
 */
async function produceBatch(id: number, values: string[]): Promise<number> {
  const r = await waitFor(`${values[0]}.. acknowledged by broker ${id}`, async () => {
    const body = await cluster.request(id, 0, 8, {
      transactionalId: null, acks: -1, timeoutMs: 20_000,
      topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: buildRecordBatch(values.map((value) => ({ value }))) }] }],
    });
    const p = body.responses[0].partitionResponses[0];
    return p.errorCode === 6 || p.errorCode === 5 ? null : p;
  }, 30_000);
  expect(r.errorCode).toBe(0);
  return Number(r.baseOffset);
}

it('a follower whose log end is below the leader\'s log start empties its log, starts at the leader\'s start and rejoins the ISR', async () => {
  // The follower stopped must not be the controller (its move would wait for a new one).
  const controller = JSON.parse((await cluster.controllerNode())!).brokerid as number;
  const follower = IDS.find((id) => id !== controller)!;
  const others = IDS.filter((id) => id !== follower);
  await cluster.createTopic(TOPIC, 1, {}, [[follower, ...others]]);
  await waitFor(`broker ${follower} leads`, async () => ((await cluster.stateNode(TOPIC, 0)).leader === follower ? true : null), 30_000);
  for (let i = 0; i < 5; i++) await cluster.produceOk(follower, TOPIC, 0, `r${i}`); // 0..4, on all three

  expect(await cluster.brokers.get(follower)!.stop('SIGTERM')).toBe(0);
  const moved = await waitFor('leadership moved, ISR without the stopped broker', async () => {
    const s = await cluster.stateNode(TOPIC, 0);
    return s.leader !== follower && s.leader >= 0 && !s.isr.includes(follower) ? s : null;
  }, 30_000);
  const leader = moved.leader;
  expect(await produceBatch(leader, ['r5', 'r6', 'r7', 'r8', 'r9'])).toBe(5);
  expect(await produceBatch(leader, ['r10', 'r11', 'r12', 'r13', 'r14'])).toBe(10);
  // The log start goes inside the second batch, past the stopped follower's log end (5).
  const deleted = await cluster.request(leader, 21, 2, { topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset: 12 }] }], timeoutMs: 30_000 });
  expect(deleted.topics[0].partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 12 });
  // DeleteRecords is answered once every live replica's log start followed (Kafka's
  // DelayedDeleteRecords): with the other follower held, it times out; let go, it is answered.
  const other = others.find((id) => id !== leader)!;
  const deleteBefore = async (offset: number, timeoutMs: number) =>
    (await cluster.request(leader, 21, 2, { topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset }] }], timeoutMs })).topics[0].partitions[0];
  cluster.pause(other);
  expect(await deleteBefore(13, 1000)).toMatchObject({ errorCode: ErrorCode.REQUEST_TIMED_OUT, lowWatermark: -1 });
  cluster.resume(other);
  expect(await deleteBefore(13, 30_000)).toMatchObject({ errorCode: 0, lowWatermark: 13 });
  // The leader logs the client's DeleteRecords; the follower, that it followed its leader's log start
  // (its own line used to say "(DeleteRecords)" too, which no client had sent it).
  expect(cluster.brokers.get(leader)!.output()).toContain(`[${TOPIC}-0] log start offset moved to 13 (DeleteRecords)`);
  const followerLog = cluster.brokers.get(other)!.output();
  expect(followerLog).toContain(`[${TOPIC}-0] log start offset moved to 13 (the leader's log start, moved by its retention or DeleteRecords)`);
  expect(followerLog).not.toContain('(DeleteRecords)');
  expect(await produceBatch(leader, ['r15', 'r16'])).toBe(15);
  const expected = await records(leader);
  expect(expected[0]).toBe('13:r13');
  expect(expected.at(-1)).toBe('16:r16');

  await cluster.startBroker(follower);
  await waitFor(`broker ${follower} back in the ISR`, async () => ((await cluster.stateNode(TOPIC, 0)).isr.length === 3 ? true : null), 30_000);

  // Leading again (preferred election), it serves what the old leader served, from the same start.
  const elected = await cluster.request(leader, 43, 2, { electionType: 0, topicPartitions: [{ topic: TOPIC, partitions: [0] }], timeoutMs: 30_000 });
  expect(elected.replicaElectionResults[0].partitionResult[0].errorCode).toBe(0);
  await waitFor(`broker ${follower} leads again`, async () => {
    const s = await cluster.stateNode(TOPIC, 0);
    return s.leader === follower && s.isr.length === 3 ? true : null;
  }, 30_000);
  const served = await waitFor('the new leader serves', () => records(follower).catch(() => null), 30_000);
  expect(served).toEqual(expected);
  expect(await offsetOf(follower, -2)).toBe(13);
  expect(await offsetOf(follower, -1)).toBe(17);
  expect(await produceBatch(follower, ['r17'])).toBe(17);
}, 180_000);
