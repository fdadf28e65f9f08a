// WriteTxnMarkers v0-v2: a transaction coordinator on another broker (or `kts transactions abort`)
// asks this partition leader to write COMMIT/ABORT markers. Each partition is answered on its own:
// NOT_LEADER_OR_FOLLOWER / UNKNOWN_TOPIC_OR_PARTITION for one not led here, the storage's refusal
// (INVALID_PRODUCER_EPOCH for a stale epoch, TRANSACTION_COORDINATOR_FENCED for a stale coordinator)
// as it comes. The markers of one request are appended in its order and replicated together, as
// Kafka's one appendRecords call for the whole request.
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
    // Every marker is started at once, in the request's order (the appends to one partition queue in
    // that order); their replication is awaited together, as Kafka's one appendRecords call.
    const pending = markers.map((m) => ({
      producerId: m.producerId,
      topics: m.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) =>
          writeMarkerHere(ctx.broker, {
            topic: t.name,
            partition: partitionIndex,
            producerId: m.producerId,
            producerEpoch: m.producerEpoch,
            coordinatorEpoch: m.coordinatorEpoch,
            commit: m.transactionResult,
            transactionalId: '',
            transactionVersion: ctx.apiVersion >= 2 ? (m.transactionVersion ?? 0) : 0,
          }).then(
            () => ({ partitionIndex, errorCode: 0 }),
            (err: unknown) => ({ partitionIndex, errorCode: errorCodeOf(ctx.broker, err, 'writing a transaction marker').code }),
          ),
        ),
      })),
    }));
    const settled = pending.map(async (m) => ({
      producerId: m.producerId,
      topics: await Promise.all(m.topics.map(async (t) => ({ name: t.name, partitions: await Promise.all(t.partitions) }))),
    }));
    return { markers: await Promise.all(settled) };
  },
});
