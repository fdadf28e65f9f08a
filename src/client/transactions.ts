// Transaction admin APIs (KIP-664), as Kafka's Admin#listTransactions / #describeTransactions do
// them: ListTransactions goes to every broker (each lists what it coordinates); DescribeTransactions
// goes to the transactional id's coordinator (FindCoordinator key type 1), found again while it
// moves or loads. DescribeProducers goes to the partition's leader (or a chosen broker).
import { ErrorCode } from '../protocol/errors.js';
import type { Cluster } from './cluster.js';
import { check, kafkaError, KafkaClientError } from './errors.js';
import { findCoordinatorOn } from './find-coordinator.js';
import { API } from './versions.js';

export interface TransactionListing {
  transactionalId: string;
  producerId: number;
  state: string;
}

export interface TransactionDescription {
  coordinatorId: number;
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  state: string;
  transactionTimeoutMs: number;
  /** -1: no transaction running. */
  transactionStartTimeMs: number;
  topicPartitions: { topic: string; partition: number }[];
}

const RETRIABLE = new Set<number>([ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.NOT_COORDINATOR]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every broker's transactions, by broker id (in the order the brokers are listed). */
export async function listTransactions(cluster: Cluster, opts: { durationFilterMs?: number; producerIdFilters?: number[]; timeoutMs?: number } = {}): Promise<Map<number, TransactionListing[]>> {
  const md = await cluster.refresh([]);
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  const out = new Map<number, TransactionListing[]>();
  await Promise.all(
    md.brokers.map(async (b) => {
      for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
        const conn = await cluster.node(b.nodeId);
        const body = await conn.request(API.ListTransactions, { stateFilters: [], producerIdFilters: opts.producerIdFilters ?? [], durationFilter: opts.durationFilterMs ?? -1 });
        if (body.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS && Date.now() < deadline) {
          await sleep(delay);
          continue;
        }
        check(body.errorCode);
        out.set(
          b.nodeId,
          body.transactionStates.map((s) => ({
            transactionalId: s.transactionalId,
            producerId: Number(s.producerId),
            state: s.transactionState,
          })),
        );
        return;
      }
    }),
  );
  return new Map(md.brokers.filter((b) => out.has(b.nodeId)).map((b) => [b.nodeId, out.get(b.nodeId)!]));
}

/** The coordinator's description of one transactional id. Rejects with the broker's error (TRANSACTIONAL_ID_NOT_FOUND...). */
export async function describeTransaction(cluster: Cluster, transactionalId: string, opts: { timeoutMs?: number } = {}): Promise<TransactionDescription> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    const any = await cluster.any();
    const c = await findCoordinatorOn(any, transactionalId, 1);
    let code: number = c.errorCode;
    if (code === 0) {
      const conn = await cluster.node(c.nodeId);
      const body = await conn.request(API.DescribeTransactions, { transactionalIds: [transactionalId] });
      const s = body.transactionStates[0];
      code = s.errorCode;
      if (code === 0) {
        return {
          coordinatorId: c.nodeId,
          transactionalId,
          producerId: Number(s.producerId),
          producerEpoch: s.producerEpoch,
          state: s.transactionState,
          transactionTimeoutMs: s.transactionTimeoutMs,
          transactionStartTimeMs: Number(s.transactionStartTimeMs),
          topicPartitions: s.topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))),
        };
      }
    }
    if (!RETRIABLE.has(code) || Date.now() >= deadline) {
      if (code === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND) {
        // The admin client's words (DescribeTransactionsHandler).
        throw new KafkaClientError(`DescribeTransactions request for transactionalId \`${transactionalId}\` failed because the ID could not be found`, { code, javaName: 'TransactionalIdNotFoundException' });
      }
      throw kafkaError(code);
    }
    await sleep(delay);
  }
}

/** Admin#abortTransaction: an ABORT marker written by the partition's leader (WriteTxnMarkers). */
export async function abortTransaction(cluster: Cluster, spec: { topic: string; partition: number; producerId: number; producerEpoch: number; coordinatorEpoch: number }): Promise<void> {
  const md = await cluster.topicMetadata(spec.topic, true);
  const leader = md.partitions.find((p) => p.partition === spec.partition)?.leader ?? -1;
  if (leader < 0) throw kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const conn = await cluster.node(leader);
  const body = await conn.request(API.WriteTxnMarkers, {
    markers: [{ producerId: spec.producerId, producerEpoch: spec.producerEpoch, transactionResult: false, coordinatorEpoch: spec.coordinatorEpoch, topics: [{ name: spec.topic, partitionIndexes: [spec.partition] }] }],
  });
  check(body.markers[0].topics[0].partitions[0].errorCode);
}

/** One producer a partition's log knows (Admin#describeProducers' ProducerState; -1 = none). */
export interface ProducerStateDescription {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  coordinatorEpoch: number;
  currentTransactionStartOffset: number;
}

/** Admin#describeProducers for one partition: asked of its leader, or of `brokerId` when given. */
export async function describeProducers(cluster: Cluster, topic: string, partition: number, opts: { brokerId?: number } = {}): Promise<ProducerStateDescription[]> {
  let node = opts.brokerId;
  if (node === undefined) {
    const md = await cluster.topicMetadata(topic, true);
    const leader = md.partitions.find((p) => p.partition === partition)?.leader ?? -1;
    if (leader < 0) throw kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    node = leader;
  }
  const conn = await cluster.node(node);
  const body = await conn.request(API.DescribeProducers, { topics: [{ name: topic, partitionIndexes: [partition] }] });
  const p = body.topics[0].partitions[0];
  check(p.errorCode);
  type Wire = { producerId: number | bigint; producerEpoch: number; lastSequence: number; lastTimestamp: number | bigint; coordinatorEpoch: number; currentTxnStartOffset: number | bigint };
  return (p.activeProducers as Wire[]).map((s) => ({
    producerId: Number(s.producerId),
    producerEpoch: s.producerEpoch,
    lastSequence: s.lastSequence,
    lastTimestamp: Number(s.lastTimestamp),
    coordinatorEpoch: s.coordinatorEpoch,
    currentTransactionStartOffset: Number(s.currentTxnStartOffset),
  }));
}
