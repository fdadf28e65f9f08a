// Committed offsets: OffsetCommit (group members, simple consumers with generation -1, and the
// ZooKeeper-era v0 namespace), OffsetFetch, OffsetDelete, and dropping offsets of deleted topics.
// A commit is in memory only once it is in __consumer_offsets.
import { ErrorCode } from '../../protocol/errors.js';
import type { ClassicGroup } from './group.js';
import { consumerCommitError, consumerFetchError } from './consumer-heartbeat.js';
import { consumerGroupTombstones } from './consumer-persistence.js';
import { groupTombstone, offsetTombstone, setLegacyOffset } from './persistence.js';
import { offsetCommitKey, offsetCommitValue } from './records.js';
import { maybeForgetGroup, scheduleHeartbeatExpiry } from './rebalance.js';
import type { GroupRuntime } from './runtime.js';
import { storeErrorCode } from './store-errors.js';
import type { CoordinatorRecord } from './store.js';
import type { CommittedOffset, FetchedOffsetsTopic, OffsetCommitParams, OffsetFetchResult, TopicPartitionErrors } from './types.js';

type TopicPartitions = { name: string; partitionIndexes: number[] }[];

function partitionExists(rt: GroupRuntime, topic: string, partition: number): boolean {
  if (!rt.topics) return true;
  const info = rt.topics.get(topic);
  return info !== undefined && partition >= 0 && partition < info.partitions;
}

/** The group-level answer to a commit: null = go ahead. */
function commitGroupError(rt: GroupRuntime, p: OffsetCommitParams): { error: number; group: ClassicGroup | null } {
  const unavailable = rt.coordinatorError(p.groupId);
  if (unavailable) return { error: unavailable, group: null };
  let group = rt.groups.get(p.groupId);
  if (!group) {
    // A group that does not use Kafka for membership (generation -1) may still store offsets here.
    if (p.generationId >= 0) return { error: ErrorCode.ILLEGAL_GENERATION, group: null };
    group = rt.getOrCreateGroup(p.groupId);
  }
  if (group.is('Dead')) return { error: ErrorCode.COORDINATOR_NOT_AVAILABLE, group };
  // A KIP-848 consumer group: member id and member epoch (OffsetCommit v9+).
  if (group.consumer) {
    const partitions = p.topics.flatMap((t) => t.partitions.map((x) => ({ topicId: rt.topics?.get(t.name)?.topicId, partition: x.partitionIndex })));
    return { error: consumerCommitError(group.consumer, p.memberId, p.generationId, p.apiVersion ?? 9, partitions), group };
  }
  if (group.isStaticMemberFenced(p.groupInstanceId, p.memberId)) return { error: ErrorCode.FENCED_INSTANCE_ID, group };
  if (p.generationId < 0 && group.is('Empty')) return { error: ErrorCode.NONE, group };
  const member = group.get(p.memberId);
  if (!member) return { error: ErrorCode.UNKNOWN_MEMBER_ID, group };
  if (p.generationId !== group.generationId) return { error: ErrorCode.ILLEGAL_GENERATION, group };
  // The member has its generation but not yet its assignment: let it sync first.
  if (group.is('CompletingRebalance')) return { error: ErrorCode.REBALANCE_IN_PROGRESS, group };
  // Stable or PreparingRebalance: the member is alive (heartbeats will tell it about the rebalance).
  scheduleHeartbeatExpiry(rt, group, member);
  return { error: ErrorCode.NONE, group };
}

/**
 * OffsetCommit. `legacy` = v0, which Kafka 3.9 stores in ZooKeeper without any group check; kts
 * keeps those in their own namespace (see records.ts).
 */
export async function commitOffsets(rt: GroupRuntime, p: OffsetCommitParams, legacy: boolean): Promise<TopicPartitionErrors[]> {
  const now = rt.now();
  const errors = new Map<string, Map<number, number>>();
  const setError = (topic: string, partition: number, code: number) => {
    let m = errors.get(topic);
    if (!m) errors.set(topic, (m = new Map()));
    m.set(partition, code);
  };
  const valid: { topic: string; partition: number; value: CommittedOffset }[] = [];
  for (const t of p.topics) {
    for (const part of t.partitions) {
      if (!partitionExists(rt, t.name, part.partitionIndex)) setError(t.name, part.partitionIndex, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      else {
        setError(t.name, part.partitionIndex, ErrorCode.NONE);
        const commitTimestamp = part.commitTimestamp >= 0 ? part.commitTimestamp : now;
        valid.push({
          topic: t.name,
          partition: part.partitionIndex,
          value: {
            offset: part.committedOffset,
            leaderEpoch: part.committedLeaderEpoch,
            metadata: part.committedMetadata ?? '',
            commitTimestamp,
            expireTimestamp: p.retentionTimeMs >= 0 ? now + p.retentionTimeMs : null,
          },
        });
      }
    }
  }

  let group: ClassicGroup | null = null;
  if (!legacy) {
    const check = commitGroupError(rt, p);
    group = check.group;
    if (check.error !== ErrorCode.NONE) {
      for (const v of valid) setError(v.topic, v.partition, check.error);
      valid.length = 0;
      if (group) maybeForgetGroup(rt, group);
    }
  } else if (rt.closed) {
    for (const v of valid) setError(v.topic, v.partition, ErrorCode.NOT_COORDINATOR);
    valid.length = 0;
  }

  const toStore = valid.filter((v) => {
    if (Buffer.byteLength(v.value.metadata, 'utf8') <= rt.settings.offsetMetadataMaxBytes) return true;
    setError(v.topic, v.partition, ErrorCode.OFFSET_METADATA_TOO_LARGE);
    return false;
  });
  if (toStore.length > 0) {
    const records = toStore.map((v) => ({ key: offsetCommitKey(p.groupId, v.topic, v.partition, legacy), value: offsetCommitValue(v.value, rt.topics?.get(v.topic)?.topicId, rt.settings.kafka39Records ? 3 : 4) }));
    try {
      await rt.write(p.groupId, records, () => {
        for (const v of toStore) {
          if (legacy) setLegacyOffset(rt, p.groupId, v.topic, v.partition, v.value);
          else if (group && !group.is('Dead')) {
            // An empty group forgotten meanwhile comes back with its offsets.
            if (!rt.groups.has(p.groupId)) rt.groups.set(p.groupId, group);
            if (rt.groups.get(p.groupId) === group) group.setOffset(v.topic, v.partition, v.value);
          }
        }
      });
    } catch (err) {
      rt.log.warn(`Failed to store offsets of group ${p.groupId}: ${(err as Error).message}`);
      const code = storeErrorCode(err, 'offsets');
      for (const v of toStore) setError(v.topic, v.partition, code);
      if (group) maybeForgetGroup(rt, group);
    }
  } else if (group) {
    maybeForgetGroup(rt, group);
  }
  return [...errors].map(([name, m]) => ({ name, partitions: [...m].map(([partitionIndex, errorCode]) => ({ partitionIndex, errorCode })) }));
}

/**
 * OffsetFetch. `topics` null = every committed offset of the group (v2+). Unknown offsets are -1;
 * v0 (legacy) adds UNKNOWN_TOPIC_OR_PARTITION to those, as Kafka's ZooKeeper path does.
 */
export function fetchOffsets(
  rt: GroupRuntime,
  groupId: string,
  topics: TopicPartitions | null,
  legacy: boolean,
  member?: { memberId: string | null; memberEpoch: number },
): OffsetFetchResult {
  // v0 is sent to a partition leader, not to the coordinator.
  const unavailable = legacy ? (rt.closed ? ErrorCode.NOT_COORDINATOR : 0) : rt.coordinatorError(groupId);
  if (unavailable) return { errorCode: unavailable, topics: [] };
  const consumer = legacy ? null : rt.groups.get(groupId)?.consumer;
  if (consumer && member) {
    const memberError = consumerFetchError(consumer, member.memberId, member.memberEpoch);
    if (memberError) return { errorCode: memberError, topics: [] };
  }
  const lookup = legacy
    ? (t: string, p: number) => rt.legacyOffsets.get(groupId)?.get(t)?.get(p)
    : (t: string, p: number) => {
        const group = rt.groups.get(groupId);
        return group && !group.is('Dead') ? group.offset(t, p) : undefined;
      };
  const row = (partitionIndex: number, o: CommittedOffset | undefined) =>
    o
      ? { partitionIndex, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE }
      : { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: legacy ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.NONE };
  if (topics === null) {
    const all = new Map<string, Map<number, CommittedOffset>>();
    if (legacy) for (const [t, m] of rt.legacyOffsets.get(groupId) ?? []) all.set(t, m);
    else {
      const group = rt.groups.get(groupId);
      if (group && !group.is('Dead')) for (const [t, m] of group.offsets) all.set(t, m);
    }
    const out: FetchedOffsetsTopic[] = [...all].map(([name, m]) => ({ name, partitions: [...m].map(([p, o]) => row(p, o)) }));
    return { errorCode: ErrorCode.NONE, topics: out };
  }
  return {
    errorCode: ErrorCode.NONE,
    topics: topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => row(p, lookup(t.name, p))) })),
  };
}

/**
 * OffsetDelete: an empty group loses the offsets asked for; a live consumer group only those of
 * topics it does not subscribe to (else GROUP_SUBSCRIBED_TO_TOPIC).
 */
export async function deleteOffsets(rt: GroupRuntime, groupId: string, topics: TopicPartitions): Promise<{ errorCode: number; topics: TopicPartitionErrors[] }> {
  const unavailable = rt.coordinatorError(groupId);
  if (unavailable) return { errorCode: unavailable, topics: [] };
  const group = rt.groups.get(groupId);
  if (!group || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
  const live = !group.is('Empty');
  if (live && group.protocolType !== 'consumer') return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
  const records: CoordinatorRecord[] = [];
  const removed: [string, number][] = [];
  const result: TopicPartitionErrors[] = topics.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((partitionIndex) => {
      if (!partitionExists(rt, t.name, partitionIndex)) return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
      if (live && group.subscribedTopics?.has(t.name)) return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
      if (group.offset(t.name, partitionIndex)) {
        removed.push([t.name, partitionIndex]);
        records.push(offsetTombstone(groupId, t.name, partitionIndex));
      }
      return { partitionIndex, errorCode: ErrorCode.NONE };
    }),
  }));
  for (const [t, p] of removed) group.deleteOffset(t, p);
  if (group.is('Empty') && !group.hasOffsets() && group.pendingMembers.size === 0) {
    group.transitionTo('Dead', rt.now());
    rt.groups.delete(groupId);
    records.push(groupTombstone(groupId));
  }
  if (records.length > 0) {
    try {
      await rt.write(groupId, records, () => undefined);
    } catch (err) {
      return { errorCode: storeErrorCode(err, 'offsets'), topics: [] };
    }
  }
  return { errorCode: ErrorCode.NONE, topics: result };
}

/**
 * A topic was deleted: its committed offsets go too, with tombstones so a restart does not bring
 * them back, and an Empty group left without offsets is removed (Kafka's cleanupGroupMetadata on
 * partition deletion). A tombstone that cannot be written (the offsets partition is not here) is
 * only logged: the group's coordinator, wherever it is, writes its own.
 */
export async function removeOffsetsOfTopic(rt: GroupRuntime, topic: string): Promise<void> {
  const writes: Promise<unknown>[] = [];
  const write = (groupId: string, records: CoordinatorRecord[]) =>
    writes.push(rt.write(groupId, records, () => undefined).catch((err) => rt.log.warn(`Failed to write the tombstones of deleted topic ${topic} for group ${groupId}: ${(err as Error).message}`)));
  for (const group of [...rt.groups.values()]) {
    const partitions = group.offsets.get(topic);
    if (!partitions) continue;
    const records = [...partitions.keys()].map((p) => offsetTombstone(group.groupId, topic, p));
    group.offsets.delete(topic);
    // The same test as offset expiry's (persistence.ts): no classic or consumer-protocol member left.
    if (group.is('Empty') && !group.hasOffsets() && group.pendingMembers.size === 0 && (group.consumer?.members.size ?? 0) === 0) {
      group.transitionTo('Dead', rt.now());
      rt.groups.delete(group.groupId);
      records.push(groupTombstone(group.groupId));
      if (group.consumer) records.push(...consumerGroupTombstones(group.groupId));
    }
    write(group.groupId, records);
  }
  for (const [groupId, byTopic] of rt.legacyOffsets) {
    const partitions = byTopic.get(topic);
    if (!partitions) continue;
    const records = [...partitions.keys()].map((p) => offsetTombstone(groupId, topic, p, true));
    byTopic.delete(topic);
    write(groupId, records);
  }
  await Promise.all(writes);
}

/** Topics with committed offsets here that the cluster no longer has (deleted while this broker was away). */
export function topicsOfOffsetsGone(rt: GroupRuntime): string[] {
  const lookup = rt.topics;
  if (!lookup) return [];
  const names = new Set<string>();
  for (const group of rt.groups.values()) for (const name of group.offsets.keys()) names.add(name);
  for (const byTopic of rt.legacyOffsets.values()) for (const name of byTopic.keys()) names.add(name);
  return [...names].filter((name) => !lookup.get(name));
}
