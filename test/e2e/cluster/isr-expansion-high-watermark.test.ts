// A follower joining the ISR counts for the high watermark from the moment its leader proposes it,
// not from the moment the leader hears that ZooKeeper took the write (Kafka's "maximal ISR": the
// committed ISR plus pending additions, KIP-497). Between the two, the ISR in ZooKeeper already
// names the follower, so the controller may elect it; a leader that advanced the high watermark
// without it would have acknowledged acks=all records the new leader does not have.
//
// The window is made wide and certain: the leader's ZooKeeper answers are held back by a proxy
// (its requests still go through), so the expansion is in ZooKeeper while the leader has not heard
// of it; the joining follower is then paused (SIGSTOP), a record is produced with acks=all, the
// leader is killed, and the controller elects the paused follower once it resumes. Every record
// the leader acknowledged must be in the new leader's log. Before the fix the leader acknowledged
// that record (ISR [leader, other follower] in its view) and the new leader did not have it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { replyHoldingProxy, spawnCoordinator, waitFor, type ReplyHoldingProxy, type SpawnedCoordinator } from '../../helpers/zookeeper.js';
import { ZooKeeperClient } from '../../../src/cluster/zookeeper-client.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { buildRecordBatch } from '../../../src/protocol/records/record-batch.js';
import { decodeFetchedRecords } from '../../../src/client/fetch.js';

const TOPIC = 'pending-isr';
// Broker 3 starts first and is the controller; broker 1 leads, broker 2 is the one that rejoins.
const CONTROLLER = 3;
const LEADER = 1;
const JOINER = 2;
const SESSION_MS = 10_000;
const LAG_MS = 2000;
const FETCH_WAIT_MS = 200;

let coordinator: SpawnedCoordinator;
let zk: ZooKeeperClient;
const proxies = new Map<number, ReplyHoldingProxy>();
const brokers = new Map<number, SpawnedBroker>();
const stopped = new Set<number>();

async function startBroker(id: number): Promise<void> {
  const broker = await spawnBroker({
    timeoutMs: 60_000,
    overrides: {
      'broker.id': String(id),
      'zookeeper.connect': `127.0.0.1:${proxies.get(id)!.port}/kafka`,
      'zookeeper.session.timeout.ms': String(SESSION_MS),
      'replica.lag.time.max.ms': String(LAG_MS),
      'replica.fetch.wait.max.ms': String(FETCH_WAIT_MS),
    },
  });
  brokers.set(id, broker);
}

beforeAll(async () => {
  coordinator = await spawnCoordinator({ props: { tickTime: 500 } });
  for (const id of [1, 2, 3]) proxies.set(id, await replyHoldingProxy(coordinator.port));
  await startBroker(CONTROLLER);
  await Promise.all([startBroker(LEADER), startBroker(JOINER)]);
  zk = await ZooKeeperClient.connect(`127.0.0.1:${coordinator.port}/kafka`, { sessionTimeoutMs: SESSION_MS });
}, 120_000);

afterAll(async () => {
  for (const id of stopped) brokers.get(id)?.process.kill('SIGCONT');
  await zk?.close();
  await Promise.all([...brokers.values()].map((b) => b.stop()));
  for (const p of proxies.values()) await p.close();
  await coordinator?.stop();
}, 120_000);

async function request(id: number, apiKey: number, version: number, body: object): Promise<any> {
  const client = await RawClient.connect(brokers.get(id)!.port);
  try {
    return await client.request(apiKey, version, body);
  } finally {
    client.close();
  }
}

async function metadata(via: number) {
  const body = await request(via, 3, 9, { topics: [{ name: TOPIC }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  const p = body.topics[0]?.partitions?.[0];
  return { controller: body.controllerId as number, leader: (p?.leaderId ?? -1) as number, epoch: (p?.leaderEpoch ?? -1) as number, isr: (p?.isrNodes ?? []) as number[] };
}

/** The partition state node, as ZooKeeper holds it (not as any broker's cache has it). */
async function stateNode(): Promise<{ leader: number; leader_epoch: number; isr: number[] }> {
  return JSON.parse(String((await zk.getData(`/brokers/topics/${TOPIC}/partitions/0/state`)).data));
}

/** acks=all; the partition's error code and the offset it was given. */
async function produce(id: number, value: string, timeoutMs = 5000): Promise<{ errorCode: number; offset: number }> {
  const body = await request(id, 0, 8, {
    transactionalId: null,
    acks: -1,
    timeoutMs,
    topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: buildRecordBatch([{ value }]) }] }],
  });
  const r = body.responses[0].partitionResponses[0];
  return { errorCode: r.errorCode, offset: Number(r.baseOffset) };
}

async function readAll(id: number): Promise<string[]> {
  const values: string[] = [];
  let next = 0;
  for (;;) {
    const body = await request(id, 1, 11, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 10_000_000, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: next, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 10_000_000 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const p = body.responses[0].partitions[0];
    expect(p.errorCode).toBe(0);
    const { records, nextOffset } = decodeFetchedRecords(TOPIC, 0, p.records, next);
    for (const r of records) values[r.offset] = r.value!.toString();
    if (records.length === 0 || nextOffset >= Number(p.highWatermark)) return values;
    next = nextOffset;
  }
}

function pause(id: number): void {
  brokers.get(id)!.process.kill('SIGSTOP');
  stopped.add(id);
}

function resume(id: number): void {
  brokers.get(id)!.process.kill('SIGCONT');
  stopped.delete(id);
}

it('a leader does not acknowledge acks=all past a follower whose return to the ISR ZooKeeper may already hold: the follower elected next has every acknowledged record', async () => {
  for (const id of [1, 2, 3]) {
    await waitFor(`broker ${id} to know the controller and all three brokers`, async () => {
      const body = await request(id, 3, 9, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      return body.controllerId === CONTROLLER && body.brokers.length === 3 ? true : null;
    }, 30_000);
  }
  const created = await request(LEADER, 19, 4, {
    topics: [{ name: TOPIC, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [LEADER, JOINER, CONTROLLER] }], configs: [{ name: 'min.insync.replicas', value: '2' }] }],
    timeoutMs: 30_000, validateOnly: false,
  });
  expect(created.topics[0].errorCode).toBe(0);
  for (const id of [1, 2, 3]) await waitFor(`broker ${id} sees all three in sync`, async () => ((await metadata(id)).isr.length === 3 ? true : null), 30_000);

  const acknowledged = new Map<string, number>();
  const write = async (value: string, timeoutMs?: number) => {
    const r = await produce(LEADER, value, timeoutMs);
    if (r.errorCode === 0) acknowledged.set(value, r.offset);
    return r;
  };
  for (let i = 0; i < 5; i++) expect((await write(`all-three-${i}`)).errorCode).toBe(0);

  // The joiner falls out of the ISR...
  pause(JOINER);
  await waitFor('the leader to take the paused follower out of the ISR', async () => (!(await stateNode()).isr.includes(JOINER) ? true : null), 30_000);
  for (let i = 0; i < 5; i++) expect((await write(`two-${i}`)).errorCode).toBe(0);

  // ...and comes back: the leader writes the expansion, ZooKeeper applies it, the answer is held.
  proxies.get(LEADER)!.hold();
  resume(JOINER);
  await waitFor('the expansion in ZooKeeper', async () => ((await stateNode()).isr.includes(JOINER) ? true : null), 30_000);
  pause(JOINER);
  // A fetch the joiner sent before it stopped may be long-polling at the leader; it is answered
  // (empty) within replica.fetch.wait.max.ms, and the record must not ride on it into the paused
  // joiner's socket buffer: it would then reach the joiner's log after all, hiding the loss.
  await new Promise((r) => setTimeout(r, 3 * FETCH_WAIT_MS));
  const pending = await write('while-the-expansion-is-unanswered', 2000);

  // The leader dies; the controller elects the first live ISR member in replica order: the joiner.
  const before = await stateNode();
  await brokers.get(LEADER)!.kill9();
  resume(JOINER);
  const after = await waitFor('a new leader', async () => {
    const s = await stateNode();
    return s.leader_epoch > before.leader_epoch && s.leader !== LEADER && s.leader >= 0 ? s : null;
  }, SESSION_MS + 30_000);
  expect(after.leader).toBe(JOINER);
  await waitFor('the new leader serving', async () => {
    const m = await metadata(JOINER).catch(() => null);
    return m && m.leader === JOINER && m.epoch === after.leader_epoch ? true : null;
  }, 30_000);
  // One more acknowledged write moves the new leader's high watermark over everything it has.
  const last = await produce(JOINER, 'after-the-failover', 10_000);
  expect(last.errorCode).toBe(0);
  acknowledged.set('after-the-failover', last.offset);

  const finalLog = await readAll(JOINER);
  const lost = [...acknowledged].filter(([value, offset]) => finalLog[offset] !== value).map(([value, offset]) => `${value} (acknowledged at ${offset}, final log has ${finalLog[offset] ?? 'nothing'})`);
  expect(lost, `broker ${LEADER} logged:\n${brokers.get(LEADER)!.output().split("\n").filter((l) => l.includes(TOPIC)).join("\n")}`).toEqual([]);
  // The leader waited for the joiner (paused, so it never got the record): the write timed out.
  expect(pending.errorCode).toBe(ErrorCode.REQUEST_TIMED_OUT);
}, 180_000);
