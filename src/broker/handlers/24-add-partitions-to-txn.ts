// AddPartitionsToTxn v0-v5. v0-v3 are the clients' form (one transaction); v4+ batch transactions
// and carry verifyOnly, the form brokers use among themselves (KIP-890): a partition leader checks
// that a producer's first transactional batch is for a partition of its ongoing transaction (a
// verifyOnly transaction is checked, not changed). v5 answers such a partition TRANSACTION_ABORTABLE,
// v4 INVALID_TXN_STATE. A partition that does not exist fails the whole request:
// UNKNOWN_TOPIC_OR_PARTITION for it, OPERATION_NOT_ATTEMPTED for the others (as Kafka). Older
// clients (v0-v1) get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED.
import { authorized, clusterAuthorized, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { TV_1, TV_2 } from '../transactions/state.js';

interface TopicPartitions {
  name: string;
  partitions: number[];
}

interface TxnRequest {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  verifyOnly?: boolean;
  topics: TopicPartitions[];
}

type TopicResults = { name: string; resultsByPartition: { partitionIndex: number; partitionErrorCode: number }[] }[];

export default defineHandler({
  apiKey: 24,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    if (ctx.apiVersion < 4) {
      const topicResults = await handleOne(ctx, {
        transactionalId: request.v3AndBelowTransactionalId,
        producerId: request.v3AndBelowProducerId,
        producerEpoch: request.v3AndBelowProducerEpoch,
        topics: request.v3AndBelowTopics,
      });
      return { resultsByTopicV3AndBelow: topicResults };
    }
    const txns: TxnRequest[] = request.transactions;
    const resultsByTransaction = await Promise.all(txns.map(async (t) => ({ transactionalId: t.transactionalId, topicResults: await handleOne(ctx, t) })));
    return { errorCode: 0, resultsByTransaction };
  },
});

async function handleOne(ctx: RequestContext, t: TxnRequest): Promise<TopicResults> {
  const partitions: [string, number][] = t.topics.flatMap((topic) => topic.partitions.map((p): [string, number] => [topic.name, p]));
  const answer = (codeOf: (topic: string, p: number) => number): TopicResults =>
    t.topics.map((topic) => ({ name: topic.name, resultsByPartition: topic.partitions.map((p) => ({ partitionIndex: p, partitionErrorCode: codeOf(topic.name, p) })) }));
  // As KafkaApis: Write on the transactional id, then Write on each topic (the others: OPERATION_NOT_ATTEMPTED).
  // v4+ come from brokers (a leader verifying, or adding for transaction version 2): ClusterAction.
  const fromBroker = ctx.apiVersion >= 4;
  if (fromBroker ? !clusterAuthorized(ctx, Op.CLUSTER_ACTION) : !authorized(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, t.transactionalId)) {
    return answer(() => (fromBroker ? ErrorCode.CLUSTER_AUTHORIZATION_FAILED : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED));
  }
  const unwritable = new Set(fromBroker ? [] : t.topics.map((topic) => topic.name).filter((name) => !authorized(ctx, Op.WRITE, Resource.TOPIC, name)));
  if (unwritable.size > 0) return answer((topic) => (unwritable.has(topic) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ErrorCode.OPERATION_NOT_ATTEMPTED));
  const coordinator = ctx.broker.txnCoordinator;
  if (!coordinator) return answer(() => ErrorCode.COORDINATOR_NOT_AVAILABLE);
  const missing = new Set(partitions.filter(([topic, p]) => !ctx.broker.topics.partitionState(topic, p)).map(([topic, p]) => `${topic}\0${p}`));
  if (missing.size > 0) return answer((topic, p) => (missing.has(`${topic}\0${p}`) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED));
  if (t.verifyOnly) {
    const codes = await Promise.all(
      partitions.map(([topic, partition]) => coordinator.verifyPartitionInTransaction({ transactionalId: t.transactionalId, producerId: t.producerId, producerEpoch: t.producerEpoch, topic, partition })),
    );
    // TRANSACTION_ABORTABLE came with v5; v4 says INVALID_TXN_STATE for a partition not in the transaction.
    const byPartition = new Map(partitions.map(([topic, p], i) => [`${topic}\0${p}`, codes[i] === ErrorCode.TRANSACTION_ABORTABLE && ctx.apiVersion < 5 ? ErrorCode.INVALID_TXN_STATE : codes[i]]));
    return answer((topic, p) => byPartition.get(`${topic}\0${p}`)!);
  }
  // v5 from a leader adds for a transaction version 2 producer (Produce v12, TxnOffsetCommit v5).
  let code = await coordinator.addPartitions(t.transactionalId, t.producerId, t.producerEpoch, partitions, ctx.apiVersion >= 5 ? TV_2 : TV_1);
  if (code === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) code = ErrorCode.INVALID_PRODUCER_EPOCH;
  return answer(() => code);
}
