// WriteTxnMarkers v0-v2: a transaction coordinator on another broker (or `kts transactions abort`)
// asks this partition leader to write COMMIT/ABORT markers. Each partition is answered on its own:
// NOT_LEADER_OR_FOLLOWER / UNKNOWN_TOPIC_OR_PARTITION for one not led here, the storage's refusal
// (INVALID_PRODUCER_EPOCH for a stale epoch, TRANSACTION_COORDINATOR_FENCED for a stale coordinator)
// as it comes. Markers of one request are written one after the other, as Kafka appends them.
// v2 (Kafka 4.4) names each marker's transaction version: a version 2 marker must carry an epoch
// above the producer's current one in the partition (INVALID_PRODUCER_EPOCH otherwise).
import { ErrorCode } from '../../protocol/errors.js';
import { clusterAuthorized, refuseAll, Op } from '../auth/check.js';
import { defineHandler } from '../api-handler.js';
import { writeMarkerHere } from '../transactions/markers.js';
import { errorCodeOf } from './common.js';

interface MarkerIn {
  producerId: number;
  producerEpoch: number;
  transactionResult: boolean;
  coordinatorEpoch: number;
  transactionVersion?: number;
  topics: { name: string; partitionIndexes: number[] }[];
}

export default defineHandler({
  apiKey: 27,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    // Sent by transaction coordinators (brokers): ClusterAction, as KafkaApis.
    if (!clusterAuthorized(ctx, Op.CLUSTER_ACTION)) return refuseAll(ctx, 27, request, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    const markers: MarkerIn[] = request.markers;
    const out = [];
    for (const m of markers) {
      const topics = [];
      for (const t of m.topics) {
        const partitions = [];
        for (const partitionIndex of t.partitionIndexes) {
          let errorCode = 0;
          try {
            await writeMarkerHere(ctx.broker, {
              topic: t.name,
              partition: partitionIndex,
              producerId: m.producerId,
              producerEpoch: m.producerEpoch,
              coordinatorEpoch: m.coordinatorEpoch,
              commit: m.transactionResult,
              transactionalId: '',
              transactionVersion: ctx.apiVersion >= 2 ? (m.transactionVersion ?? 0) : 0,
            });
          } catch (err) {
            errorCode = errorCodeOf(ctx.broker, err, 'writing a transaction marker').code;
          }
          partitions.push({ partitionIndex, errorCode });
        }
        topics.push({ name: t.name, partitions });
      }
      out.push({ producerId: m.producerId, topics });
    }
    return { markers: out };
  },
});
