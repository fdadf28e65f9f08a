// The Streams runtime's producer. It sends what one processing round wrote (sink, repartition and
// changelog records) as one batch per partition, grouped per leader, and waits for the answers;
// under exactly_once_v2 it is a transactional producer (Kafka's protocol, transaction version 1):
// InitProducerId fences the previous incarnation of the same transactional.id, AddPartitionsToTxn
// before a partition's first write, sequence numbers per partition, and at commit AddOffsetsToTxn +
// TxnOffsetCommit (the consumed offsets, fenced by the group generation) + EndTxn.
import { buildRecordBatch } from '../protocol/records/index.js';
import { ErrorCode } from '../protocol/index.js';
import type { Cluster } from '../client/cluster.js';
import type { Answer, BrokerConnection } from '../client/connection.js';
import { KafkaClientError, isRetriable, kafkaError } from '../client/errors.js';
import { findCoordinatorOn } from '../client/find-coordinator.js';
import { partitionForKey } from '../client/partitioner.js';
import { tpKey, type TopicPartition } from '../client/routing.js';
import { API } from '../client/versions.js';
import type { ApiKeyNumber, RequestBody, ResponseData } from '../protocol/generated/api-types.js';
import type { Header } from './processor.js';

export interface OutRecord {
  topic: string;
  partition: number | undefined;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Header[];
}

interface PartitionBuffer {
  topic: string;
  partition: number;
  records: OutRecord[];
  bytes: number;
}

const MAX_BATCH_BYTES = 512 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fatal producer error: another instance took over the transactional.id, or the group moved on. */
export class ProducerFencedError extends KafkaClientError {}

export class StreamsProducer {
  private readonly buffers = new Map<string, PartitionBuffer>();
  private producerId = -1;
  private producerEpoch = -1;
  private readonly sequences = new Map<string, number>();
  private readonly inTransaction = new Set<string>();
  private transactionOpen = false;
  private roundRobin = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly transactionalId: string | null,
    private readonly transactionTimeoutMs = 10000,
  ) {}

  get transactional(): boolean {
    return this.transactionalId !== null;
  }

  /** Fences (and aborts the open transaction of) any earlier producer with the same transactional.id. */
  async initTransactions(): Promise<void> {
    if (!this.transactionalId) return;
    const body = await this.toTxnCoordinator(API.InitProducerId, 4, { transactionalId: this.transactionalId, transactionTimeoutMs: this.transactionTimeoutMs, producerId: -1, producerEpoch: -1 });
    this.producerId = Number(body.producerId);
    this.producerEpoch = body.producerEpoch;
    this.sequences.clear();
  }

  /** Queues a record; the partition is the key's murmur2 hash when not given (any for a null key). */
  async add(r: OutRecord): Promise<void> {
    let partition = r.partition;
    if (partition === undefined) {
      const n = await this.partitionCount(r.topic);
      partition = r.key ? partitionForKey(r.key, n) : this.roundRobin++ % n;
    }
    const k = tpKey(r.topic, partition);
    let b = this.buffers.get(k);
    if (!b) this.buffers.set(k, (b = { topic: r.topic, partition, records: [], bytes: 0 }));
    b.records.push(r);
    b.bytes += (r.key?.length ?? 0) + (r.value?.length ?? 0) + 24;
  }

  private readonly counts = new Map<string, number>();
  async partitionCount(topic: string): Promise<number> {
    const known = this.counts.get(topic);
    if (known) return known;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      await this.cluster.refresh([topic], { allowAutoCreate: true });
      const t = this.cluster.topic(topic);
      if (t && t.errorCode === 0 && t.partitions.length > 0) {
        this.counts.set(topic, t.partitions.length);
        return t.partitions.length;
      }
      if (t && t.errorCode !== 0 && !isRetriable(t.errorCode) && t.errorCode !== ErrorCode.LEADER_NOT_AVAILABLE) throw kafkaError(t.errorCode);
      await sleep(delay);
    }
  }

  /** Sends everything queued; resolves when every partition's batch is acknowledged (acks=all). */
  async flush(): Promise<void> {
    if (this.buffers.size === 0) return;
    const parts = [...this.buffers.values()];
    this.buffers.clear();
    if (this.transactionalId) await this.addPartitions(parts);
    let pending = parts;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const failed = await this.produce(pending);
      if (failed.length === 0) return;
      if (attempt >= 10) throw failed[0].error;
      await sleep(Math.min(100 * 2 ** attempt, 2000));
      await this.cluster.refresh([...new Set(failed.map((f) => f.part.topic))]).catch(() => undefined);
      pending = failed.map((f) => f.part);
    }
  }

  /** Produces each partition's records (split into batches of at most MAX_BATCH_BYTES). Returns the retriable failures. */
  private async produce(parts: PartitionBuffer[]): Promise<{ part: PartitionBuffer; error: KafkaClientError }[]> {
    const byLeader = new Map<number, PartitionBuffer[]>();
    for (const p of parts) {
      const leader = this.cluster.leaderOf(p.topic, p.partition);
      const list = byLeader.get(leader) ?? [];
      list.push(p);
      byLeader.set(leader, list);
    }
    const failures: { part: PartitionBuffer; error: KafkaClientError }[] = [];
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        // A partition's batches go in order, one request each, so sequence numbers stay in order.
        const chunks = list.map((p) => ({ part: p, batches: this.chunk(p) }));
        let conn: BrokerConnection;
        try {
          if (leader < 0) throw kafkaError(ErrorCode.LEADER_NOT_AVAILABLE);
          conn = await this.cluster.node(leader);
        } catch (err) {
          for (const c of chunks) failures.push({ part: c.part, error: asClientError(err) });
          return;
        }
        const rounds = Math.max(...chunks.map((c) => c.batches.length));
        const failedParts = new Set<PartitionBuffer>();
        for (let i = 0; i < rounds; i++) {
          const now = chunks.filter((c) => i < c.batches.length && !failedParts.has(c.part));
          if (now.length === 0) break;
          const topics = new Map<string, { index: number; records: Buffer }[]>();
          const sent: { part: PartitionBuffer; records: OutRecord[]; baseSequence: number }[] = [];
          for (const c of now) {
            const records = c.batches[i];
            const k = tpKey(c.part.topic, c.part.partition);
            const baseSequence = this.transactionalId ? (this.sequences.get(k) ?? 0) : -1;
            const bytes = buildRecordBatch(
              records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
              this.transactionalId ? { producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence, transactional: true } : {},
            );
            const l = topics.get(c.part.topic) ?? [];
            l.push({ index: c.part.partition, records: bytes });
            topics.set(c.part.topic, l);
            sent.push({ part: c.part, records, baseSequence });
          }
          let response: Answer<typeof API.Produce>;
          try {
            response = await conn.request(API.Produce, {
              transactionalId: this.transactionalId,
              acks: -1,
              timeoutMs: 30000,
              topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
            });
          } catch (err) {
            for (const s of sent) failedParts.add(s.part), failures.push({ part: remaining(s.part, chunks, i), error: asClientError(err) });
            continue;
          }
          const codes = new Map<string, { errorCode: number; errorMessage?: string | null }>();
          for (const t of response.responses) for (const p of t.partitionResponses) codes.set(tpKey(t.name, p.index), p);
          for (const s of sent) {
            const k = tpKey(s.part.topic, s.part.partition);
            const r = codes.get(k);
            const code = r?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
            if (code === 0 || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
              if (this.transactionalId) this.sequences.set(k, s.baseSequence + s.records.length);
              continue;
            }
            const error = kafkaError(code, r?.errorMessage);
            if (code === ErrorCode.PRODUCER_FENCED || code === ErrorCode.INVALID_PRODUCER_EPOCH || code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED) {
              throw new ProducerFencedError(`${error.message} (producing to ${k})`, { code });
            }
            if (!isRetriable(code)) throw error;
            failedParts.add(s.part);
            failures.push({ part: remaining(s.part, chunks, i), error });
          }
        }
      }),
    );
    return failures;
  }

  private chunk(p: PartitionBuffer): OutRecord[][] {
    const out: OutRecord[][] = [];
    let cur: OutRecord[] = [];
    let bytes = 0;
    for (const r of p.records) {
      const size = (r.key?.length ?? 0) + (r.value?.length ?? 0) + 24;
      if (cur.length > 0 && bytes + size > MAX_BATCH_BYTES) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(r);
      bytes += size;
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  private async addPartitions(parts: PartitionBuffer[]): Promise<void> {
    const fresh = parts.filter((p) => !this.inTransaction.has(tpKey(p.topic, p.partition)));
    if (fresh.length === 0) return;
    const topics = new Map<string, number[]>();
    for (const p of fresh) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p.partition]);
    const body = await this.toTxnCoordinator(API.AddPartitionsToTxn, 3, {
      v3AndBelowTransactionalId: this.transactionalId ?? '',
      v3AndBelowProducerId: this.producerId,
      v3AndBelowProducerEpoch: this.producerEpoch,
      v3AndBelowTopics: [...topics].map(([name, partitions]) => ({ name, partitions })),
    }, (b) => {
      for (const t of b.resultsByTopicV3AndBelow) for (const p of t.resultsByPartition) if (p.partitionErrorCode) return p.partitionErrorCode;
      return 0;
    });
    void body;
    this.transactionOpen = true;
    for (const p of fresh) this.inTransaction.add(tpKey(p.topic, p.partition));
  }

  /**
   * Commits the transaction with the consumed offsets (exactly_once_v2). The group identity fences a
   * member that was rebalanced out: its offsets (and so its output) are refused.
   */
  async commitTransaction(groupId: string, offsets: (TopicPartition & { offset: number })[], member: { generationId: number; memberId: string; groupInstanceId: string | null }): Promise<void> {
    if (!this.transactionalId) throw new Error('not a transactional producer');
    await this.flush();
    if (offsets.length > 0) {
      await this.toTxnCoordinator(API.AddOffsetsToTxn, 3, { transactionalId: this.transactionalId, producerId: this.producerId, producerEpoch: this.producerEpoch, groupId });
      this.transactionOpen = true;
      await this.txnOffsetCommit(groupId, offsets, member);
    }
    if (!this.transactionOpen) return;
    await this.toTxnCoordinator(API.EndTxn, 3, { transactionalId: this.transactionalId, producerId: this.producerId, producerEpoch: this.producerEpoch, committed: true });
    this.transactionOpen = false;
    this.inTransaction.clear();
  }

  private async txnOffsetCommit(groupId: string, offsets: (TopicPartition & { offset: number })[], member: { generationId: number; memberId: string; groupInstanceId: string | null }): Promise<void> {
    const topics = new Map<string, { partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string }[]>();
    for (const o of offsets) topics.set(o.topic, [...(topics.get(o.topic) ?? []), { partitionIndex: o.partition, committedOffset: o.offset, committedLeaderEpoch: -1, committedMetadata: '' }]);
    for (let attempt = 0; ; attempt++) {
      const coordinator = await this.findCoordinator(groupId, 0);
      const conn = await this.cluster.node(coordinator);
      const v = Math.min(3, conn.brokerVersions.get(API.TxnOffsetCommit)?.[1] ?? 3);
      const body = await conn.send(API.TxnOffsetCommit, v, {
        transactionalId: this.transactionalId ?? '',
        groupId,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        ...member,
        topics: [...topics].map(([name, partitions]) => ({ name, partitions })),
      });
      let code = 0;
      for (const t of body.topics) for (const p of t.partitions) if (p.errorCode) code = p.errorCode;
      if (code === 0) return;
      if (retriableTxn(code) && attempt < 20) {
        this.coordinators.delete(`0:${groupId}`);
        await sleep(Math.min(50 * 2 ** attempt, 1000));
        continue;
      }
      throw this.fenceOr(code);
    }
  }

  async abortTransaction(): Promise<void> {
    this.buffers.clear();
    if (!this.transactionalId || !this.transactionOpen) return;
    await this.toTxnCoordinator(API.EndTxn, 3, { transactionalId: this.transactionalId, producerId: this.producerId, producerEpoch: this.producerEpoch, committed: false });
    this.transactionOpen = false;
    this.inTransaction.clear();
  }

  private readonly coordinators = new Map<string, number>();
  private async findCoordinator(key: string, keyType: 0 | 1): Promise<number> {
    const cached = this.coordinators.get(`${keyType}:${key}`);
    if (cached !== undefined) return cached;
    for (let attempt = 0; ; attempt++) {
      const conn = await this.cluster.any();
      const body = await findCoordinatorOn(conn, key, keyType);
      if (body.errorCode === 0) {
        this.coordinators.set(`${keyType}:${key}`, body.nodeId);
        if (!this.cluster.metadata.brokers.some((b) => b.nodeId === body.nodeId)) await this.cluster.refresh([]);
        return body.nodeId;
      }
      if (!retriableTxn(body.errorCode) || attempt > 50) throw kafkaError(body.errorCode, body.errorMessage);
      await sleep(Math.min(50 * 2 ** attempt, 1000));
    }
  }

  /** A request to the transaction coordinator, retried while it loads, moves or finishes the previous transaction. */
  private async toTxnCoordinator<K extends ApiKeyNumber>(
    apiKey: K,
    maxVersion: number,
    request: RequestBody<K>,
    errorOf: (b: ResponseData<K>) => number = (b) => (b as { errorCode: number }).errorCode,
  ): Promise<ResponseData<K>> {
    for (let attempt = 0; ; attempt++) {
      const node = await this.findCoordinator(this.transactionalId!, 1);
      let body: ResponseData<K>;
      try {
        const conn = await this.cluster.node(node);
        const theirs = conn.brokerVersions.get(apiKey);
        if (!theirs) throw new KafkaClientError(`The broker at ${conn.address} does not support API ${apiKey}`, { javaName: 'UnsupportedVersionException' });
        body = await conn.send(apiKey, Math.min(maxVersion, theirs[1]), request);
      } catch (err) {
        const e = asClientError(err);
        if (!e.retriable || attempt > 20) throw e;
        this.coordinators.delete(`1:${this.transactionalId}`);
        await sleep(Math.min(50 * 2 ** attempt, 1000));
        continue;
      }
      const code = errorOf(body);
      if (code === 0) return body;
      if (retriableTxn(code) && attempt < 60) {
        if (code !== ErrorCode.CONCURRENT_TRANSACTIONS) this.coordinators.delete(`1:${this.transactionalId}`);
        await sleep(code === ErrorCode.CONCURRENT_TRANSACTIONS ? 20 : Math.min(50 * 2 ** attempt, 1000));
        continue;
      }
      throw this.fenceOr(code);
    }
  }

  private fenceOr(code: number): KafkaClientError {
    const e = kafkaError(code);
    const fenced: number[] = [ErrorCode.PRODUCER_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.ILLEGAL_GENERATION, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.FENCED_INSTANCE_ID, ErrorCode.REBALANCE_IN_PROGRESS];
    return fenced.includes(code) ? new ProducerFencedError(e.message, { code }) : e;
  }
}

function retriableTxn(code: number): boolean {
  return (
    code === ErrorCode.CONCURRENT_TRANSACTIONS ||
    code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
    code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
    code === ErrorCode.NOT_COORDINATOR ||
    code === ErrorCode.REQUEST_TIMED_OUT
  );
}

function asClientError(err: unknown): KafkaClientError {
  return err instanceof KafkaClientError ? err : new KafkaClientError((err as Error).message, { retriable: true });
}

/** What is left of a partition's records from batch `i` on (sent again after a retriable failure). */
function remaining(part: PartitionBuffer, chunks: { part: PartitionBuffer; batches: OutRecord[][] }[], i: number): PartitionBuffer {
  const c = chunks.find((x) => x.part === part)!;
  const records = c.batches.slice(i).flat();
  return { topic: part.topic, partition: part.partition, records, bytes: 0 };
}
