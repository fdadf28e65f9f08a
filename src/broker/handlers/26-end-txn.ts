// EndTxn v0-v5: commit or abort the producer's transaction. Answered once PrepareCommit/PrepareAbort
// is in __transaction_state; the markers follow (the coordinator answers CONCURRENT_TRANSACTIONS to
// the next transaction's requests until they are written). v0-v1 clients get INVALID_PRODUCER_EPOCH
// for PRODUCER_FENCED. v5 is transaction version 2 (KIP-890 part 2): the coordinator bumps the
// producer epoch at every end and answers the producer id and epoch the client carries on with.
import { authorized, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 26,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, ctx) {
    const none = { producerId: -1, producerEpoch: -1 };
    if (!authorized(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, request.transactionalId)) return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, ...none };
    const coordinator = ctx.broker.txnCoordinator;
    if (!coordinator) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, ...none };
    if (ctx.apiVersion >= 5) return coordinator.endTransactionV2(request.transactionalId, request.producerId, request.producerEpoch, request.committed);
    let errorCode = await coordinator.endTransaction(request.transactionalId, request.producerId, request.producerEpoch, request.committed);
    if (errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
    return { errorCode };
  },
});
