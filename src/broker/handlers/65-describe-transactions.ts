// DescribeTransactions v0 (KIP-664): the coordinator's view of each transactional id it coordinates
// (NOT_COORDINATOR for the others: the admin client finds each id's coordinator first).
import { authorized, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 65,
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const ids: string[] = request.transactionalIds;
    const coordinator = ctx.broker.txnCoordinator;
    const transactionStates = ids.map((id) =>
      !authorized(ctx, Op.DESCRIBE, Resource.TRANSACTIONAL_ID, id)
        ? { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, transactionalId: id, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1, topics: [] }
        : coordinator
        ? coordinator.describe(id)
        : { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, transactionalId: id, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1, topics: [] },
    );
    return { transactionStates };
  },
});
