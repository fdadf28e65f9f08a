// AddOffsetsToTxn v0-v4: adds the group's __consumer_offsets partition to the transaction (Kafka does
// exactly that), so that EndTxn's marker reaches it and commits or drops the offsets TxnOffsetCommit
// stored there. v0-v1 clients get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED.
import { authorized, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { OFFSETS_TOPIC } from '../groups/types.js';

export default defineHandler({
  apiKey: 25,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, ctx) {
    // As KafkaApis: Write on the transactional id, Read on the group.
    if (!authorized(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, request.transactionalId)) return { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    if (!authorized(ctx, Op.READ, Resource.GROUP, request.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const coordinator = ctx.broker.txnCoordinator;
    if (!coordinator) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    try {
      await ctx.broker.groups.ensureOffsetsTopic();
    } catch {
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
    }
    const partition = ctx.broker.groups.partitionFor(request.groupId);
    let errorCode = await coordinator.addPartitions(request.transactionalId, request.producerId, request.producerEpoch, [[OFFSETS_TOPIC, partition]]);
    if (errorCode === ErrorCode.PRODUCER_FENCED && ctx.apiVersion < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
    return { errorCode };
  },
});
