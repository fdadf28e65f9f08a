// InitProducerId v0-v5. Idempotent producers (transactionalId null): like Kafka, every request gets
// a fresh producer id with epoch 0 — also v3+ requests carrying a current id/epoch, which Kafka bumps
// only for transactional ids. A transactional id goes to the transaction coordinator: epoch bumps,
// fencing of the previous producer (an ongoing transaction is aborted and the client told
// CONCURRENT_TRANSACTIONS to retry), transaction.max.timeout.ms. v2+ flexible; v4 brought
// PRODUCER_FENCED (older clients get INVALID_PRODUCER_EPOCH instead, as from Kafka).
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { producerIdManagerFor } from '../producer-ids.js';
import { errorCodeOf } from './common.js';
import { authorized, authorizedOnAny, clusterAuthorized, Op, Resource } from '../auth/check.js';

export default defineHandler({
  apiKey: 22,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const transactionalId: string | null | undefined = request.transactionalId;
    // As KafkaApis: Write on the transactional id; without one, IdempotentWrite on the cluster or Write on some topic.
    if (transactionalId !== null && transactionalId !== undefined) {
      if (!authorized(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, transactionalId)) return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    } else if (!clusterAuthorized(ctx, Op.IDEMPOTENT_WRITE) && !authorizedOnAny(ctx, Op.WRITE, Resource.TOPIC)) {
      return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    try {
      if (transactionalId !== null && transactionalId !== undefined) {
        const coordinator = ctx.broker.txnCoordinator;
        if (!coordinator) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, producerId: -1, producerEpoch: -1 };
        // A producer id without an epoch (or the reverse) is malformed (Kafka's KafkaApis check).
        if (ctx.apiVersion >= 3 && (request.producerId === -1) !== (request.producerEpoch === -1)) {
          return { errorCode: ErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
        }
        const expected = ctx.apiVersion >= 3 && request.producerId !== -1 ? { producerId: request.producerId, producerEpoch: request.producerEpoch } : undefined;
        const result = await coordinator.initProducerId(transactionalId, request.transactionTimeoutMs, expected);
        if (result.errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 4) result.errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
        return result;
      }
      const producerId = await producerIdManagerFor(ctx.broker).generate();
      return { errorCode: 0, producerId, producerEpoch: 0 };
    } catch (err) {
      const { code } = errorCodeOf(ctx.broker, err, 'allocating a producer id');
      return { errorCode: code, producerId: -1, producerEpoch: -1 };
    }
  },
});
