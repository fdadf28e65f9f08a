// ListTransactions v0-v1 (KIP-664; v1 adds the duration filter, KIP-994): the transactional ids this
// broker coordinates, filtered by state names (unknown names are echoed back), producer ids and
// (v1) how long the transaction has been running.
import { filterAuthorized, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';

export default defineHandler({
  apiKey: 66,
  minVersion: 0,
  maxVersion: 1,
  handle(request, ctx) {
    const coordinator = ctx.broker.txnCoordinator;
    if (!coordinator) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, unknownStateFilters: [], transactionStates: [] };
    const duration = ctx.apiVersion >= 1 ? Number(request.durationFilter ?? -1) : -1;
    const listed = coordinator.list(request.stateFilters ?? [], request.producerIdFilters ?? [], duration);
    // As KafkaApis: only the transactional ids the principal may Describe.
    return ctx.broker.authorizer ? { ...listed, transactionStates: filterAuthorized(ctx, Op.DESCRIBE, Resource.TRANSACTIONAL_ID, listed.transactionStates, (s: { transactionalId: string }) => s.transactionalId) } : listed;
  },
});
