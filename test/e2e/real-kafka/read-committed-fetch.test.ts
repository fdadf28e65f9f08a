// read_committed Fetch as Apache Kafka 4.4 answers it, on the same transactions: two producers'
// transactions interleaved with a plain record, an abort, a commit, one left open, a second abort of
// the same producer, then the open one committed. At each step and from several fetch offsets, kts
// must answer what Kafka answers: the high watermark, the last stable offset, the aborted
// transactions (producer ids named by role, A/B/C, since each broker allocates its own) and which
// batches come back; ListOffsets with isolation_level 1 and 0 as well, and DescribeProducers (each
// producer's epoch, last sequence, coordinator epoch and open transaction's start offset). A client
// cannot forge markers: a control batch in a Produce is INVALID_RECORD, transactional records without
// a transactional id TRANSACTIONAL_ID_AUTHORIZATION_FAILED, on both brokers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { KAFKA_4, kafkaLib, startRealKafka, type RealKafka } from '../../helpers/real-kafka.js';
import { buildRecordBatch, iterateBatches } from '../../../src/protocol/records/index.js';
import { buildControlBatch } from '../../../src/protocol/records/control-batch.js';
import { RawTxnClient } from '../transactions/support.js';

const TOPIC = 'rc';
const RETRIABLE = new Set([3, 6, 14, 15, 16, 51]); // unknown partition, not leader, coordinator loading / not available / not it, concurrent transactions

async function retry<T>(what: string, fn: () => Promise<T>, code: (v: T) => number): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const v = await fn();
    if (!RETRIABLE.has(code(v))) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${code(v)} after 60 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Snapshot {
  fetches: Record<string, unknown>;
  producers: unknown[];
  latest: { committed: number; uncommitted: number };
}

async function scenario(port: number): Promise<Snapshot[]> {
  const raw = await RawClient.connect(port);
  const txn = await RawTxnClient.connect(port);
  const names = new Map<number, string>();
  try {
    const created = await raw.request(19, 4, {
      topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 30000,
      validateOnly: false,
    });
    expect(created.topics[0].errorCode).toBe(0);
    const ids: Record<string, { producerId: number; seq: number }> = {};
    for (const role of ['A', 'B', 'C']) {
      // FindCoordinator first: Kafka creates __transaction_state on it (NOT_COORDINATOR until then).
      const found = await retry(`FindCoordinator ${role}`, () => raw.request(10, 1, { key: `rc-${role}`, keyType: 1 }), (x) => x.errorCode);
      expect(found.errorCode).toBe(0);
      const r = await retry(`InitProducerId ${role}`, () => txn.init(`rc-${role}`, 60_000), (x) => x.errorCode);
      expect(r.errorCode).toBe(0);
      ids[role] = { producerId: r.producerId, seq: 0 };
      names.set(r.producerId, role);
    }
    const add = async (role: string) => {
      const codes = await retry(`AddPartitionsToTxn ${role}`, () => txn.addPartitions(`rc-${role}`, ids[role].producerId, 0, TOPIC, [0]), (c) => c[0]);
      expect(codes).toEqual([0]);
    };
    const send = async (role: string, values: string[]) => {
      const r = await retry(`produce ${role}`, () => txn.produce(`rc-${role}`, ids[role].producerId, 0, TOPIC, 0, ids[role].seq, values), (x) => x.errorCode);
      expect(r.errorCode).toBe(0);
      ids[role].seq += values.length;
    };
    const end = async (role: string, commit: boolean) => {
      const code = await retry(`EndTxn ${role}`, () => txn.endTxn(`rc-${role}`, ids[role].producerId, 0, commit), (c) => c);
      expect(code).toBe(0);
    };
    const latest = async (isolationLevel: number) => {
      const r = await raw.request(2, 7, { replicaId: -1, isolationLevel, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
      return Number(r.topics[0].partitions[0].offset);
    };
    /** The markers are written after EndTxn answers (Kafka): wait until the log end reaches `offset`. */
    const waitForEnd = async (offset: number) => {
      const deadline = Date.now() + 30_000;
      while ((await latest(0)) < offset) {
        if (Date.now() > deadline) throw new Error(`log end never reached ${offset}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const fetch = async (isolationLevel: number, fetchOffset: number, maxBytes = 1 << 20) => {
      const res = await raw.request(1, 12, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes, isolationLevel, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: TOPIC, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: maxBytes }] }],
        forgottenTopicsData: [], rackId: '',
      });
      const p = res.responses[0].partitions[0];
      const batches = [...iterateBatches(p.records ?? Buffer.alloc(0))].map(({ header }) => [header.baseOffset, header.baseOffset + header.lastOffsetDelta]);
      return {
        errorCode: p.errorCode,
        highWatermark: Number(p.highWatermark),
        lastStableOffset: Number(p.lastStableOffset),
        abortedTransactions: p.abortedTransactions === null ? null : p.abortedTransactions.map((a: { producerId: number | bigint; firstOffset: number | bigint }) => [names.get(Number(a.producerId)) ?? '?', Number(a.firstOffset)]),
        batches,
      };
    };
    const snap = async (): Promise<Snapshot> => {
      const fetches: Record<string, unknown> = {};
      const hw = await latest(0);
      for (let offset = 0; offset <= hw; offset++) {
        fetches[`committed@${offset}`] = await fetch(1, offset);
        // one batch at most (Kafka hands the first batch whole): the upper bound is then near the fetch offset
        fetches[`committed@${offset} small`] = await fetch(1, offset, 1);
      }
      fetches['uncommitted@0'] = await fetch(0, 0);
      const described = await raw.request(61, 0, { topics: [{ name: TOPIC, partitionIndexes: [0] }] });
      const p = described.topics[0].partitions[0];
      type Wire = { producerId: number | bigint; producerEpoch: number; lastSequence: number; coordinatorEpoch: number; currentTxnStartOffset: number | bigint };
      const producers = [p.errorCode, ...(p.activeProducers as Wire[]).map((s) => [names.get(Number(s.producerId)) ?? '?', s.producerEpoch, s.lastSequence, s.coordinatorEpoch, Number(s.currentTxnStartOffset)]).sort()];
      return { fetches, producers, latest: { committed: await latest(1), uncommitted: hw } };
    };

    const snaps: Snapshot[] = [];
    await add('A');
    await send('A', ['a0', 'a1']); // 0-1
    await add('B');
    await send('B', ['b0']); // 2
    const plain = await retry('plain produce', () => raw.request(0, 3, { transactionalId: null, acks: -1, timeoutMs: 10000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records: buildRecordBatch([{ value: 'p0' }]) }] }] }), (r) => r.responses[0].partitionResponses[0].errorCode);
    expect(plain.responses[0].partitionResponses[0].errorCode).toBe(0); // 3
    snaps.push(await snap());
    await end('A', false); // ABORT at 4
    await waitForEnd(5);
    await add('C');
    await send('C', ['c0']); // 5, left open for now
    await end('B', true); // COMMIT at 6
    await waitForEnd(7);
    snaps.push(await snap());
    await add('A');
    await send('A', ['a2']); // 7
    await end('A', false); // ABORT at 8
    await waitForEnd(9);
    snaps.push(await snap());
    await end('C', true); // COMMIT at 9
    await waitForEnd(10);
    snaps.push(await snap());
    return snaps;
  } finally {
    txn.close();
    raw.close();
  }
}

describe.skipIf(!kafkaLib(KAFKA_4))('read_committed Fetch: kts answers as Kafka 4.4', () => {
  let kts: SpawnedBroker;
  let kafka: RealKafka;
  beforeAll(async () => {
    [kts, kafka] = await Promise.all([spawnBroker(), startRealKafka(KAFKA_4)]);
  }, 180_000);
  afterAll(async () => {
    await Promise.allSettled([kts?.stop(), kafka?.stop()]);
  });

  it('the same LSO, aborted transactions, batches and DescribeProducers at every step and fetch offset', async () => {
    const [ours, theirs] = await Promise.all([scenario(kts.port), scenario(kafka.port)]);
    // the fixed points, so that a change on both sides is noticed too
    expect(ours[1].latest).toEqual({ committed: 5, uncommitted: 7 });
    expect(ours[1].fetches['committed@0']).toMatchObject({ lastStableOffset: 5, abortedTransactions: [['A', 0]] });
    expect(ours[3].latest).toEqual({ committed: 10, uncommitted: 10 });
    expect(ours[1].producers).toEqual([0, ['A', 0, 1, 0, -1], ['B', 0, 0, 0, -1], ['C', 0, 0, -1, 5]]);
    expect(ours).toEqual(theirs);
  }, 240_000);

  it('markers from a client and transactional records without a transactional id: the same refusals, nothing written', async () => {
    const answers = async (port: number) => {
      const raw = await RawClient.connect(port);
      try {
        const created = await raw.request(19, 4, { topics: [{ name: 'forged', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30000, validateOnly: false });
        expect(created.topics[0].errorCode).toBe(0);
        const ip = await retry('InitProducerId', () => raw.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 }), (r) => r.errorCode);
        const pid = Number(ip.producerId);
        const out: Array<[string, number, string | null]> = [];
        for (const [name, transactionalId, records] of [
          // (A marker naming a real producer id with a transactional id is left out: Kafka 4.4 first asks the
          // coordinator whether that producer is in a transaction there (KIP-890), INVALID_PRODUCER_ID_MAPPING
          // or, while the coordinator is not ready, INVALID_RECORD; kts answers INVALID_RECORD.)
          ['COMMIT marker without a producer', 'forger', buildControlBatch('COMMIT', { producerId: -1, producerEpoch: -1, coordinatorEpoch: 0 })],
          ['ABORT marker, no transactional id', null, buildControlBatch('ABORT', { producerId: pid, producerEpoch: 0, coordinatorEpoch: 0 })],
          ['transactional records, no transactional id', null, buildRecordBatch([{ value: 'x' }], { producerId: pid, producerEpoch: 0, baseSequence: 0, transactional: true })],
        ] as const) {
          const r = await retry(name, () => raw.request(0, 8, { transactionalId, acks: -1, timeoutMs: 10000, topicData: [{ name: 'forged', partitionData: [{ index: 0, records }] }] }), (x) => x.responses[0].partitionResponses[0].errorCode);
          const p = r.responses[0].partitionResponses[0];
          out.push([name, p.errorCode, p.errorMessage ?? null]);
        }
        const end = await raw.request(2, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'forged', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
        return { out, logEnd: Number(end.topics[0].partitions[0].offset) };
      } finally {
        raw.close();
      }
    };
    const [ours, theirs] = await Promise.all([answers(kts.port), answers(kafka.port)]);
    expect(ours).toEqual({
      out: [
        ['COMMIT marker without a producer', 87, null],
        ['ABORT marker, no transactional id', 53, null],
        ['transactional records, no transactional id', 53, null],
      ],
      logEnd: 0,
    });
    expect(ours).toEqual(theirs);
  }, 120_000);
});
