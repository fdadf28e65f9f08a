// Issue 14: a replicated __transaction_state is written with acks=-1, as Kafka's transaction log
// (TransactionLog.EnforcedRequiredAcks, request.timeout.ms): the coordinator answers a transition
// only once the ISR has it. With the coordinator's two followers paused (SIGSTOP, still in the ISR)
// an EndTxn is answered COORDINATOR_NOT_AVAILABLE after request.timeout.ms and the transaction stays
// Ongoing; the coordinator is then killed, a follower takes __transaction_state-0 over, and what it
// serves is the last state a client was told of. The client's retried EndTxn then commits there.
// A transaction marker waits for the ISR for request.timeout.ms too (Kafka's WriteTxnMarkers), not a
// fixed 30 s: with the followers paused, WriteTxnMarkers is answered REQUEST_TIMED_OUT after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { IDS, ThreeBrokers } from '../cluster/three-brokers.js';
import { RawTxnClient } from './support.js';

const TOPIC = 'paid';
const TXN_ID = 'replicated-txn';
const STATE_TOPIC = '__transaction_state';
const APPEND_TIMEOUT_MS = 5000;
const COORDINATOR_NOT_AVAILABLE = 15;
const REQUEST_TIMED_OUT = 7;
const MARKED = 'marked';

describe('transaction state waits for the ISR of __transaction_state', () => {
  // 20 s sessions on 1 s ticks: the paused followers keep their sessions on a loaded machine.
  // replica.lag.time.max.ms well above the pause: the followers stay in the ISR while stopped.
  const cluster = new ThreeBrokers(
    {
      'zookeeper.session.timeout.ms': '20000',
      'transaction.state.log.num.partitions': '1',
      'transaction.state.log.replication.factor': '3',
      'offsets.topic.num.partitions': '1',
      'request.timeout.ms': String(APPEND_TIMEOUT_MS),
      'replica.lag.time.max.ms': '120000',
    },
    { tickTime: 1000 },
  );
  const paused = new Set<number>();

  beforeAll(async () => {
    await cluster.start();
  }, 120_000);

  afterAll(async () => {
    for (const id of paused) cluster.brokers.get(id)?.process.kill('SIGCONT');
    await cluster.stop();
  }, 120_000);

  async function onBroker<T>(id: number, fn: (txn: RawTxnClient) => Promise<T>): Promise<T> {
    const txn = await RawTxnClient.connect(cluster.brokers.get(id)!.port);
    try {
      return await fn(txn);
    } finally {
      txn.close();
    }
  }

  /** The transactional id's coordinator as broker `via` names it (FindCoordinator v3, key type 1). */
  const coordinatorOf = (via: number) =>
    waitFor(`the coordinator of ${TXN_ID} named by broker ${via}`, () =>
      onBroker(via, async ({ raw }) => {
        const found = await raw.request(10, 3, { key: TXN_ID, keyType: 1 });
        return found.errorCode === 0 ? (found.nodeId as number) : null;
      }).catch(() => null),
    60_000);

  const describeOn = (id: number) => onBroker(id, (t) => t.describe(TXN_ID));

  async function minInsyncReplicasOf(topic: string): Promise<string | undefined> {
    const raw = await RawClient.connect(cluster.brokers.get(IDS[0])!.port);
    try {
      const res = await raw.request(32, 4, { resources: [{ resourceType: 2, resourceName: topic, configurationKeys: ['min.insync.replicas'] }], includeSynonyms: false, includeDocumentation: false });
      return res.results[0].configs.find((c: { name: string }) => c.name === 'min.insync.replicas')?.value;
    } finally {
      raw.close();
    }
  }

  it('an EndTxn the paused ISR never got is refused, and the new coordinator serves the last acknowledged state', async () => {
    // The broker asked may not have seen the third registration yet (INVALID_REPLICATION_FACTOR, 38).
    await waitFor(`${TOPIC} created with three replicas`, () =>
      cluster.createTopic(TOPIC, 1).then(() => true, (err: Error) => {
        if (!/: 38 /.test(err.message)) throw err;
        return null;
      }),
    30_000);
    const coordinator = await coordinatorOf(IDS[0]);
    await waitFor(`${STATE_TOPIC}-0 in sync on three brokers, led by ${coordinator}`, async () => {
      const s = await cluster.stateNode(STATE_TOPIC, 0).catch(() => null);
      return s && s.isr.length === 3 && s.leader === coordinator ? true : null;
    }, 60_000);
    // Kafka's transaction.state.log.min.isr (2) on the topic.
    expect(await minInsyncReplicasOf(STATE_TOPIC)).toBe('2');
    // A data partition the coordinator leads, in sync on all three.
    const others = IDS.filter((id) => id !== coordinator);
    await cluster.createTopic(MARKED, 1, {}, [[coordinator, ...others]]);
    await waitFor(`${MARKED}-0 in sync on three brokers, led by ${coordinator}`, async () => {
      const s = await cluster.stateNode(MARKED, 0).catch(() => null);
      return s && s.isr.length === 3 && s.leader === coordinator ? true : null;
    }, 60_000);

    const { producerId, producerEpoch } = await onBroker(coordinator, async (t) => {
      const init = await t.initRetrying(TXN_ID);
      expect(init.errorCode).toBe(0);
      expect(await waitFor('AddPartitionsToTxn', async () => ((await t.addPartitions(TXN_ID, init.producerId, init.producerEpoch, TOPIC, [0]))[0] === 0 ? true : null), 30_000)).toBe(true);
      return init;
    });

    const followers = IDS.filter((id) => id !== coordinator);
    for (const id of followers) {
      cluster.brokers.get(id)!.process.kill('SIGSTOP');
      paused.add(id);
    }
    const started = Date.now();
    const code = await onBroker(coordinator, (t) => t.endTxn(TXN_ID, producerId, producerEpoch, true));
    const waitedMs = Date.now() - started;
    // Kafka's answer to a transaction log append the ISR did not confirm within request.timeout.ms.
    expect({ code, waitedAtLeastTheTimeout: waitedMs >= APPEND_TIMEOUT_MS - 200 }).toEqual({ code: COORDINATOR_NOT_AVAILABLE, waitedAtLeastTheTimeout: true });
    // The coordinator still holds the state it acknowledged.
    expect(await describeOn(coordinator)).toMatchObject({ errorCode: 0, transactionState: 'Ongoing', topics: [{ topic: TOPIC, partitions: [0] }] });
    // A marker the paused ISR never gets: REQUEST_TIMED_OUT after request.timeout.ms (was a fixed 30 s).
    const markerStarted = Date.now();
    const marked = await onBroker(coordinator, ({ raw }) =>
      raw.request(27, 1, { markers: [{ producerId: 999_999, producerEpoch: 0, transactionResult: false, coordinatorEpoch: 0, topics: [{ name: MARKED, partitionIndexes: [0] }] }] }),
    );
    const markerWaitedMs = Date.now() - markerStarted;
    expect({ code: marked.markers[0].topics[0].partitions[0].errorCode, waitedTheTimeout: markerWaitedMs >= APPEND_TIMEOUT_MS - 200 && markerWaitedMs < 20_000 }).toEqual({
      code: REQUEST_TIMED_OUT,
      waitedTheTimeout: true,
    });

    // The coordinator dies; the followers come back and one of them takes __transaction_state-0 over.
    await cluster.brokers.get(coordinator)!.kill9();
    for (const id of followers) {
      cluster.brokers.get(id)!.process.kill('SIGCONT');
      paused.delete(id);
    }
    const next = await waitFor('a new coordinator', async () => {
      const s = await cluster.stateNode(STATE_TOPIC, 0).catch(() => null);
      return s && followers.includes(s.leader) ? s.leader : null;
    }, 90_000);
    await waitFor(`broker ${next} names itself the coordinator`, async () => ((await coordinatorOf(followers[0])) === next ? true : null), 60_000);
    const served = await waitFor('the transaction from the new coordinator', async () => {
      const d = await describeOn(next).catch(() => null);
      return d && d.errorCode === 0 ? d : null;
    }, 60_000);
    // At least what was acknowledged: the transaction with its partition. The refused PrepareCommit
    // may have reached a follower's log too (a fetch answered just before the pause), as in Kafka:
    // then the new coordinator completes that commit itself.
    expect(served).toMatchObject({ producerId, producerEpoch });
    expect(['Ongoing', 'PrepareCommit', 'CompleteCommit']).toContain(served.transactionState);
    if (served.transactionState === 'Ongoing') expect(served.topics).toEqual([{ topic: TOPIC, partitions: [0] }]);

    // The client's retried EndTxn commits on the new coordinator once the remaining follower has it.
    const codes: number[] = [];
    await waitFor('EndTxn on the new coordinator', async () => {
      const c = await onBroker(next, (t) => t.endTxn(TXN_ID, producerId, producerEpoch, true)).catch(() => -1);
      codes.push(c);
      return c === 0 ? true : null;
    }, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; answers: ${codes.join(',')}`);
    });
    const completed = await waitFor('CompleteCommit', async () => {
      const d = await describeOn(next).catch(() => null);
      return d?.transactionState === 'CompleteCommit' ? d : null;
    }, 60_000);
    expect(completed).toMatchObject({ errorCode: 0, producerId, producerEpoch });
  }, 300_000);
});
