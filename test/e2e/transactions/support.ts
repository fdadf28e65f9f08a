// Helpers for the transaction tests: raw transactional requests and a partition's batches as stored
// (control batches included), read with Fetch read_uncommitted.
import { expect } from 'vitest';
import { Attr, buildRecordBatch, decodeRecordBatch, iterateBatches, parseControlRecord } from '../../../src/protocol/records/index.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';

export interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  producerId: number;
  producerEpoch: number;
  transactional: boolean;
  /** 'COMMIT' / 'ABORT' for a control batch. */
  marker: 'COMMIT' | 'ABORT' | null;
  coordinatorEpoch: number | null;
  values: string[];
}

/** Every batch of a partition up to its end, as stored. */
export async function storedBatches(port: number, topic: string, partition = 0): Promise<StoredBatch[]> {
  const raw = await RawClient.connect(port);
  try {
    const out: StoredBatch[] = [];
    let offset = 0;
    for (;;) {
      const res = await raw.request(1, 11, fetchBody(topic, [{ partition, offset }], { maxBytes: 4 << 20 }));
      const p = res.responses[0].partitions[0];
      expect(p.errorCode).toBe(0);
      const before = out.length;
      for (const { position, header } of iterateBatches(p.records ?? Buffer.alloc(0))) {
        const last = header.baseOffset + header.lastOffsetDelta;
        if (last < offset) continue;
        const records = decodeRecordBatch(p.records, position).records;
        const control = (header.attributes & Attr.control) !== 0;
        const parsed = control ? parseControlRecord(records[0]) : null;
        out.push({
          baseOffset: header.baseOffset,
          lastOffset: last,
          producerId: header.producerId,
          producerEpoch: header.producerEpoch,
          transactional: (header.attributes & Attr.transactional) !== 0,
          marker: parsed ? (parsed.type === 1 ? 'COMMIT' : parsed.type === 0 ? 'ABORT' : null) : null,
          coordinatorEpoch: parsed ? parsed.coordinatorEpoch : null,
          values: control ? [] : records.map((r) => r.value?.toString() ?? ''),
        });
        offset = last + 1;
      }
      if (out.length === before) return out;
    }
  } finally {
    raw.close();
  }
}

/** Polls `probe` until `done` holds for its result (every 100 ms, up to `timeoutMs`). */
export async function pollUntil<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A raw transactional producer: InitProducerId, AddPartitionsToTxn, Produce, EndTxn, DescribeTransactions. */
/** InitProducerId errors a client retries (see initRetrying). */
const RETRIED_BY_CLIENTS: ReadonlySet<number> = new Set([
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.CONCURRENT_TRANSACTIONS,
]);

export class RawTxnClient {
  private constructor(readonly raw: RawClient) {}

  static async connect(port: number): Promise<RawTxnClient> {
    return new RawTxnClient(await RawClient.connect(port));
  }

  close(): void {
    this.raw.close();
  }

  init(transactionalId: string, timeoutMs = 60_000, current = { producerId: -1, producerEpoch: -1 }, version = 4): Promise<{ errorCode: number; producerId: number; producerEpoch: number }> {
    return this.raw.request(22, version, { transactionalId, transactionTimeoutMs: timeoutMs, ...current });
  }

  /**
   * Retries what clients retry: CONCURRENT_TRANSACTIONS (the coordinator is aborting the previous
   * producer's transaction), and COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE and
   * NOT_COORDINATOR (in a cluster, a broker the partition's state in ZooKeeper names the leader
   * answers them until it has read that state and loaded the partition).
   */
  async initRetrying(transactionalId: string, timeoutMs = 60_000): Promise<{ errorCode: number; producerId: number; producerEpoch: number }> {
    return pollUntil(() => this.init(transactionalId, timeoutMs), (r) => !RETRIED_BY_CLIENTS.has(r.errorCode), 60_000, `InitProducerId of ${transactionalId}`);
  }

  async addPartitions(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partitions: number[], version = 3): Promise<number[]> {
    const res = await this.raw.request(24, version, {
      v3AndBelowTransactionalId: transactionalId,
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: topic, partitions }],
    });
    return res.resultsByTopicV3AndBelow[0].resultsByPartition.map((r: { partitionErrorCode: number }) => r.partitionErrorCode);
  }

  async produce(transactionalId: string, producerId: number, producerEpoch: number, topic: string, partition: number, baseSequence: number, values: string[]): Promise<{ errorCode: number; baseOffset: number }> {
    const records = buildRecordBatch(values.map((value) => ({ value })), { producerId, producerEpoch, baseSequence, transactional: true });
    const res = await this.raw.request(0, 8, { transactionalId, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
    const p = res.responses[0].partitionResponses[0];
    return { errorCode: p.errorCode, baseOffset: Number(p.baseOffset) };
  }

  async endTxn(transactionalId: string, producerId: number, producerEpoch: number, committed: boolean, version = 3): Promise<number> {
    return (await this.raw.request(26, version, { transactionalId, producerId, producerEpoch, committed })).errorCode;
  }

  async describe(transactionalId: string): Promise<{ errorCode: number; transactionState: string; producerId: number; producerEpoch: number; transactionTimeoutMs: number; topics: { topic: string; partitions: number[] }[] }> {
    const res = await this.raw.request(65, 0, { transactionalIds: [transactionalId] });
    const s = res.transactionStates[0];
    return { ...s, producerId: Number(s.producerId) };
  }
}

/** Bumps a fresh transactional id's epoch to `epoch` with pipelined InitProducerId v4 requests; its producer id. */
export async function driveEpoch(port: number, transactionalId: string, epoch: number): Promise<number> {
  const raw = await RawTxnClient.connect(port);
  try {
    const first = await raw.initRetrying(transactionalId);
    expect(first.errorCode).toBe(0);
    const producerId = Number(first.producerId);
    const answers = await Promise.all(
      Array.from({ length: epoch }, (_, e) => raw.raw.request(22, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId, producerEpoch: e })),
    );
    expect(answers.filter((a) => a.errorCode !== 0)).toEqual([]);
    expect(answers.at(-1).producerEpoch).toBe(epoch);
    return producerId;
  } finally {
    raw.close();
  }
}

/** ListOffsets: a partition's last stable offset (read_committed) and its log end (read_uncommitted). */
export async function stableAndEndOffsets(port: number, topic: string, partition = 0): Promise<{ lso: number; end: number }> {
  const raw = await RawClient.connect(port);
  try {
    const at = async (isolationLevel: number) => {
      const r = await raw.request(2, 5, { replicaId: -1, isolationLevel, topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -1 }] }] });
      return Number(r.topics[0].partitions[0].offset);
    };
    return { lso: await at(1), end: await at(0) };
  } finally {
    raw.close();
  }
}
