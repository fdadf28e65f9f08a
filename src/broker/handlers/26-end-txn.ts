// EndTxn v0-v4: commit or abort the producer's transaction. Answered once PrepareCommit/PrepareAbort
// is in __transaction_state; the markers follow (the coordinator answers CONCURRENT_TRANSACTIONS to
// the next transaction's requests until they are written). v0-v1 clients get INVALID_PRODUCER_EPOCH
// for PRODUCER_FENCED. v5 (KIP-890 part 2, the epoch bumped on every transaction) is not served.
import { authorized, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 26,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, ctx) {
    if (!authorized(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, request.transactionalId)) return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    const coordinator = ctx.broker.txnCoordinator;
    if (!coordinator) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    let errorCode = await coordinator.endTransaction(request.transactionalId, request.producerId, request.producerEpoch, request.committed);
    if (errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
    return { errorCode };
  },
});
