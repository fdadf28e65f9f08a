// AddOffsetsToTxn v0-v4: adds the group's __consumer_offsets partition to the transaction (Kafka does
// exactly that), so that EndTxn's marker reaches it and commits or drops the offsets TxnOffsetCommit
// stored there. v0-v1 clients get INVALID_PRODUCER_EPOCH for PRODUCER_FENCED.
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { OFFSETS_TOPIC } from '../groups/types.js';

export default defineHandler({
  apiKey: 25,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, ctx) {
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
