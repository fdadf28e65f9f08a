// DescribeProducers v0 (KIP-664): the producers a partition leader knows, from its log's producer
// state: epoch, last sequence (-1 for a producer known from markers only), last timestamp, the
// coordinator epoch of its last marker (-1 before any) and the first offset of its open transaction
// (-1 when none), which is what `kafka-transactions.sh describe-producers`, `find-hanging` and
// `abort --start-offset` read. A partition led elsewhere answers NOT_LEADER_OR_FOLLOWER, an unknown
// one UNKNOWN_TOPIC_OR_PARTITION, each on its own, as Kafka's.
import { ErrorCode } from '../../protocol/errors.js';
import { authorized, Op, Resource } from '../auth/check.js';
import { defineHandler } from '../api-handler.js';
import { lookupPartition } from './common.js';

interface TopicIn {
  name: string;
  partitionIndexes: number[];
}

export default defineHandler({
  apiKey: 61,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const topics: TopicIn[] = request.topics;
    return {
      throttleTimeMs: 0,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          if (!authorized(ctx, Op.READ, Resource.TOPIC, t.name)) return { partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null, activeProducers: [] };
          const found = lookupPartition(ctx.broker, t.name, partitionIndex);
          if (!found.log) return { partitionIndex, errorCode: found.errorCode, errorMessage: null, activeProducers: [] };
          const activeProducers = [...found.log.producerState.entries()].map((e) => ({
            producerId: e.producerId,
            producerEpoch: e.epoch,
            lastSequence: e.batches.length > 0 ? e.batches[e.batches.length - 1].lastSeq : -1,
            lastTimestamp: e.lastTimestamp,
            coordinatorEpoch: e.coordinatorEpoch,
            currentTxnStartOffset: e.currentTxnFirstOffset,
          }));
          return { partitionIndex, errorCode: 0, errorMessage: null, activeProducers };
        }),
      })),
    };
  },
});
