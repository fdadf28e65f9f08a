// Offsets committed inside a transaction (KIP-98's TxnOffsetCommit, KIP-447's group checks): written
// to __consumer_offsets as a transactional batch of the producer, kept pending (invisible to
// OffsetFetch, which answers UNSTABLE_OFFSET_COMMIT to requireStable fetches of them), and made the
// group's committed offsets when the transaction coordinator writes the COMMIT marker to that
// __consumer_offsets partition (dropped on ABORT). A restart finds them the same way in the log.
import { ErrorCode } from '../../protocol/errors.js';
import type { TxnOffsetCommitRequestData, TxnOffsetCommitRequestTopic } from '../../protocol/generated/28-txn-offset-commit.js';
import { consumerCommitError } from './consumer-heartbeat.js';
import { offsetCommitKey, offsetCommitValue } from './records.js';
import type { GroupRuntime, PendingTxnOffset } from './runtime.js';
import { storeErrorCode } from './store-errors.js';
import type { CommittedOffset, TopicPartitionErrors } from './types.js';

/** The request's fields (v3+, KIP-447: generationId and memberId; -1 / '' from older clients), its topics by name. */
export interface TxnOffsetCommitParams
  extends Pick<TxnOffsetCommitRequestData, 'transactionalId' | 'groupId' | 'producerId' | 'producerEpoch' | 'generationId' | 'memberId' | 'groupInstanceId'> {
  topics: Pick<TxnOffsetCommitRequestTopic, 'name' | 'partitions'>[];
}

const tpKey = (topic: string, partition: number) => `${partition}\u0000${topic}`;

/** Kafka's doTxnCommitOffsets checks: 0 = go ahead. */
function groupError(rt: GroupRuntime, p: TxnOffsetCommitParams): number {
  const unavailable = rt.coordinatorError(p.groupId);
  if (unavailable) return unavailable;
  // A group unknown here is created (a transactional producer may commit for a group with no members).
  const group = rt.getOrCreateGroup(p.groupId);
  if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  if (group.consumer) {
    if (p.memberId === '' && p.generationId < 0) return ErrorCode.NONE;
    const partitions = p.topics.flatMap((t) => t.partitions.map((x) => ({ topicId: rt.topics?.get(t.name)?.topicId, partition: x.partitionIndex })));
    return consumerCommitError(group.consumer, p.memberId, p.generationId, 9, partitions);
  }
  if (p.memberId !== '' && !group.has(p.memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (group.isStaticMemberFenced(p.groupInstanceId, p.memberId)) return ErrorCode.FENCED_INSTANCE_ID;
  if (p.generationId >= 0 && p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  return ErrorCode.NONE;
}

export async function commitTransactionalOffsets(rt: GroupRuntime, p: TxnOffsetCommitParams, partitionExists: (topic: string, partition: number) => boolean): Promise<TopicPartitionErrors[]> {
  const now = rt.now();
  const results = p.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((part) => ({ partitionIndex: part.partitionIndex, errorCode: 0 })) }));
  const valid: PendingTxnOffset[] = [];
  const setAll = (code: number) => results.forEach((t) => t.partitions.forEach((r) => r.errorCode === 0 && (r.errorCode = code)));
  p.topics.forEach((t, ti) =>
    t.partitions.forEach((part, pi) => {
      if (!partitionExists(t.name, part.partitionIndex)) results[ti].partitions[pi].errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (Buffer.byteLength(part.committedMetadata ?? '', 'utf8') > rt.settings.offsetMetadataMaxBytes) results[ti].partitions[pi].errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
      else {
        const value: CommittedOffset = { offset: part.committedOffset, leaderEpoch: part.committedLeaderEpoch, metadata: part.committedMetadata ?? '', commitTimestamp: now, expireTimestamp: null };
        valid.push({ topic: t.name, partition: part.partitionIndex, value });
      }
    }),
  );
  const error = groupError(rt, p);
  if (error) {
    setAll(error);
    return results;
  }
  if (valid.length === 0) return results;
  const records = valid.map((v) => ({ key: offsetCommitKey(p.groupId, v.topic, v.partition, false), value: offsetCommitValue(v.value, rt.topics?.get(v.topic)?.topicId, rt.settings.kafka39Records ? 3 : 4) }));
  try {
    await rt.write(p.groupId, records, () => addPending(rt, p.producerId, p.groupId, valid), { producerId: p.producerId, producerEpoch: p.producerEpoch });
  } catch (err) {
    rt.log.warn(`Failed to store the transactional offsets of group ${p.groupId} (transactional id ${p.transactionalId}): ${(err as Error).message}`);
    setAll(storeErrorCode(err, 'offsets'));
  }
  return results;
}

export function addPending(rt: GroupRuntime, producerId: number, groupId: string, offsets: PendingTxnOffset[]): void {
  let byGroup = rt.pendingTxnOffsets.get(producerId);
  if (!byGroup) rt.pendingTxnOffsets.set(producerId, (byGroup = new Map()));
  let byTp = byGroup.get(groupId);
  if (!byTp) byGroup.set(groupId, (byTp = new Map()));
  for (const o of offsets) byTp.set(tpKey(o.topic, o.partition), o);
}

/**
 * A marker of `producerId` is in __consumer_offsets-`partition`: its pending offsets of the groups of
 * that partition become committed (COMMIT) or are dropped (ABORT). Returns how many were committed.
 */
export function completeTransactionalOffsets(rt: GroupRuntime, partition: number, producerId: number, commit: boolean): number {
  const byGroup = rt.pendingTxnOffsets.get(producerId);
  if (!byGroup) return 0;
  let committed = 0;
  for (const [groupId, byTp] of [...byGroup]) {
    if (rt.partitionFor(groupId) !== partition) continue;
    byGroup.delete(groupId);
    if (!commit) continue;
    const group = rt.getOrCreateGroup(groupId);
    for (const o of byTp.values()) {
      group.setOffset(o.topic, o.partition, o.value);
      committed++;
    }
  }
  if (byGroup.size === 0) rt.pendingTxnOffsets.delete(producerId);
  return committed;
}

/** Whether an open transaction holds an offset of the group for the partition (OffsetFetch's requireStable). */
export function hasPendingOffset(rt: GroupRuntime, groupId: string, topic: string, partition: number): boolean {
  for (const byGroup of rt.pendingTxnOffsets.values()) if (byGroup.get(groupId)?.has(tpKey(topic, partition))) return true;
  return false;
}

/** Drops the pending offsets of the groups of a partition this broker no longer leads. */
export function dropPendingOfPartition(rt: GroupRuntime, partition: number): void {
  for (const [pid, byGroup] of rt.pendingTxnOffsets) {
    for (const groupId of [...byGroup.keys()]) if (rt.partitionFor(groupId) === partition) byGroup.delete(groupId);
    if (byGroup.size === 0) rt.pendingTxnOffsets.delete(pid);
  }
}
