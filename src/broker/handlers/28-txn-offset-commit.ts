// TxnOffsetCommit v0-v6: a transactional producer commits a consumer group's offsets inside its
// transaction (sent to the group's coordinator). They stay pending until the transaction ends
// (groups/txn-offsets.ts). v3+ carry the member's generation, id and instance id (KIP-447), checked
// as OffsetCommit does; v0-v1 clients get COORDINATOR_NOT_AVAILABLE for COORDINATOR_LOAD_IN_PROGRESS
// (they did not know it), as from Kafka. v5 is transaction version 2 (KIP-890 part 2): the client sends
// no AddOffsetsToTxn, the group coordinator adds the group's __consumer_offsets partition to the
// transaction itself (its transaction coordinator here, or AddPartitionsToTxn v5 to another broker).
// v6 names topics by id, as Kafka 4.4 (the Java client 4.4 sends it with transaction version 2): an
// unknown id is UNKNOWN_TOPIC_ID for each of its partitions, nothing committed for it, as OffsetCommit v10.
import { authorized, refuseAll, Op, Resource } from '../auth/check.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../api-handler.js';
import { OFFSETS_TOPIC } from '../groups/types.js';

import type { TxnOffsetCommitRequestTopic } from '../../protocol/generated/28-txn-offset-commit.js';

/** A requested topic; v6 names it by id, so its name is unknown until resolved. */
type TopicIn = Omit<TxnOffsetCommitRequestTopic, 'name'> & { name?: string };

export default defineHandler({
  apiKey: 28,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, ctx) {
    const v = ctx.apiVersion;
    // As KafkaApis: Write on the transactional id, Read on the group, Read on each topic.
    if (!authorized(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, request.transactionalId)) return refuseAll(ctx, 28, request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!authorized(ctx, Op.READ, Resource.GROUP, request.groupId)) return refuseAll(ctx, 28, request, ErrorCode.GROUP_AUTHORIZATION_FAILED);
    // v6: the names behind the ids; an unknown id is answered without reaching the coordinator.
    const requested: TopicIn[] = request.topics;
    const resolved: TopicIn[] = v >= 6 ? requested.map((t) => ({ ...t, name: ctx.broker.topics.getById(t.topicId)?.name })) : requested;
    const unknownIds = resolved.filter((t) => t.name === undefined);
    const unreadable = resolved.filter((t) => t.name !== undefined && !authorized(ctx, Op.READ, Resource.TOPIC, t.name));
    const named = resolved.filter((t): t is TopicIn & { name: string } => t.name !== undefined && !unreadable.includes(t));
    const idOf = new Map(named.map((t) => [t.name, t.topicId]));
    request = { ...request, topics: named };
    if (v >= 5 && ctx.broker.txnVerifier) {
      let code = await ctx.broker.txnVerifier.verify({
        transactionalId: request.transactionalId,
        producerId: request.producerId,
        producerEpoch: request.producerEpoch,
        topic: OFFSETS_TOPIC,
        partition: ctx.broker.groups.partitionFor(request.groupId),
        add: true,
      });
      if (code === ErrorCode.PRODUCER_FENCED) code = ErrorCode.INVALID_PRODUCER_EPOCH;
      if (code) return refuseAll(ctx, 28, request, code);
    }
    const topics = await ctx.broker.groups.commitTransactionalOffsets({
      transactionalId: request.transactionalId,
      groupId: request.groupId,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      generationId: v >= 3 ? request.generationId : -1,
      memberId: v >= 3 ? (request.memberId ?? '') : '',
      groupInstanceId: v >= 3 ? (request.groupInstanceId ?? null) : null,
      topics: named.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: v >= 2 ? (p.committedLeaderEpoch ?? -1) : -1,
          committedMetadata: p.committedMetadata,
        })),
      })),
    });
    if (v < 2) {
      for (const t of topics) for (const p of t.partitions) if (p.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) p.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    const refused = (t: TopicIn, errorCode: number) => ({ name: t.name ?? '', topicId: t.topicId, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) });
    const answered = [
      ...topics.map((t) => ({ ...t, topicId: idOf.get(t.name) })),
      ...unreadable.map((t) => refused(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED)),
      ...unknownIds.map((t) => refused(t, ErrorCode.UNKNOWN_TOPIC_ID)),
    ];
    return { topics: answered };
  },
});
