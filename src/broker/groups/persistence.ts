// Group state in __consumer_offsets: writing group metadata, loading everything back at start
// (latest value per key wins, tombstones delete), and expiring old offsets
// (offsets.retention.minutes, checked every offsets.retention.check.interval.ms).
import { armLoadedMembers, topicsView } from './consumer-heartbeat.js';
import { consumerGroupTombstones, LoadedConsumerGroup } from './consumer-persistence.js';
import { ClassicGroup } from './group.js';
import { assignorNameOf, type AssignorName } from './assignors.js';
import { MemberMetadata } from './member.js';
import {
  decodeGroupMetadataValue,
  decodeKey,
  decodeOffsetCommitValue,
  groupMetadataKey,
  groupMetadataValue,
  offsetCommitKey,
  type StoredGroup,
} from './records.js';
import { scheduleHeartbeatExpiry } from './rebalance.js';
import type { GroupRuntime } from './runtime.js';
import { addPending } from './txn-offsets.js';
import type { CoordinatorRecord } from './store.js';
import { CONSUMER_PROTOCOL_TYPE, type CommittedOffset } from './types.js';

/** Writes the group's metadata record (members with their assignments, or none when empty). */
export function storeGroup(rt: GroupRuntime, group: ClassicGroup, assignment: Map<string, Buffer>, opts: { withoutMembers?: boolean } = {}): Promise<void> {
  const value: StoredGroup = {
    protocolType: group.protocolType ?? '',
    generation: group.generationId,
    protocol: group.protocolName,
    leader: group.leaderId,
    currentStateTimestamp: group.currentStateTimestamp ?? -1,
    members: (opts.withoutMembers ? [] : [...group.members.values()]).map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeout: m.rebalanceTimeoutMs,
      sessionTimeout: m.sessionTimeoutMs,
      subscription: m.metadataFor(group.protocolName),
      assignment: assignment.get(m.memberId) ?? m.assignment,
    })),
  };
  return rt.write(group.groupId, [{ key: groupMetadataKey(group.groupId), value: groupMetadataValue(value) }], () => undefined);
}

export function offsetTombstone(groupId: string, topic: string, partition: number, legacy = false): CoordinatorRecord {
  return { key: offsetCommitKey(groupId, topic, partition, legacy), value: null };
}

export function groupTombstone(groupId: string): CoordinatorRecord {
  return { key: groupMetadataKey(groupId), value: null };
}

/** Rebuilds every group and offset from the log (those of the `only` partitions when given). */
export async function loadGroups(rt: GroupRuntime, only?: ReadonlySet<number>): Promise<{ groups: number; offsets: number }> {
  const metadata = new Map<string, StoredGroup | null>();
  const offsets = new Map<string, Map<string, CommittedOffset | null>>();
  const legacy = new Map<string, Map<string, CommittedOffset | null>>();
  const consumerGroups = new Map<string, LoadedConsumerGroup>();
  const consumerGroup = (groupId: string) => {
    let g = consumerGroups.get(groupId);
    if (!g) consumerGroups.set(groupId, (g = new LoadedConsumerGroup()));
    return g;
  };
  // Offsets of transactions (TxnOffsetCommit) not yet ended in the log: producer id -> group -> tp.
  const pendingTxn = new Map<number, Map<string, Map<string, CommittedOffset>>>();
  let skipped = 0;
  const before = new Set(rt.groups.keys());
  await rt.store.load((partition, record, txnProducerId) => {
    try {
      const key = decodeKey(record.key);
      if (!key) return;
      if (key.type === 'group') {
        metadata.set(key.group, record.value ? decodeGroupMetadataValue(record.value) : null);
      } else if (key.type === 'consumer-group') {
        consumerGroup(key.group).set(record.key, 3, null, record.value);
      } else if (key.type === 'consumer-record') {
        consumerGroup(key.group).set(record.key, key.recordType, key.memberId, record.value);
      } else if (txnProducerId !== undefined && !key.legacy && record.value) {
        let byGroup = pendingTxn.get(txnProducerId);
        if (!byGroup) pendingTxn.set(txnProducerId, (byGroup = new Map()));
        let entries = byGroup.get(key.group);
        if (!entries) byGroup.set(key.group, (entries = new Map()));
        entries.set(`${key.partition}\u0000${key.topic}`, decodeOffsetCommitValue(record.value));
      } else {
        const byGroup = key.legacy ? legacy : offsets;
        let entries = byGroup.get(key.group);
        if (!entries) byGroup.set(key.group, (entries = new Map()));
        // Re-insert so iteration order follows the log's latest order.
        const tp = `${key.partition}\u0000${key.topic}`;
        entries.delete(tp);
        entries.set(tp, record.value ? decodeOffsetCommitValue(record.value) : null);
      }
    } catch (err) {
      skipped++;
      if (skipped <= 5) rt.log.warn(`Skipping unreadable record in __consumer_offsets-${partition}: ${(err as Error).message}`);
    }
  }, only, (partition, producerId, commit) => {
    // A marker ends the producer's transaction in this partition: its offsets become committed, or go.
    const byGroup = pendingTxn.get(producerId);
    if (!byGroup) return;
    for (const [groupId, pending] of [...byGroup]) {
      if (rt.partitionFor(groupId) !== partition) continue;
      byGroup.delete(groupId);
      if (!commit) continue;
      let entries = offsets.get(groupId);
      if (!entries) offsets.set(groupId, (entries = new Map()));
      for (const [tp, value] of pending) {
        entries.delete(tp);
        entries.set(tp, value);
      }
    }
    if (byGroup.size === 0) pendingTxn.delete(producerId);
  });

  const now = rt.now();
  for (const [groupId, stored] of metadata) {
    if (!stored) continue;
    rt.groups.set(groupId, restoreGroup(groupId, stored, now));
  }
  const topics = topicsView(rt);
  for (const [groupId, loaded] of consumerGroups) {
    if (metadata.get(groupId)) continue;
    let state;
    try {
      state = loaded.restore();
    } catch (err) {
      skipped++;
      rt.log.warn(`Skipping unreadable consumer group ${groupId} in __consumer_offsets: ${(err as Error).message}`);
      continue;
    }
    if (!state) continue;
    // A KIP-848 group comes back whole: members, epochs, target and current assignments.
    const group = rt.getOrCreateGroup(groupId);
    group.consumer = state;
    state.assignor = state.chooseAssignor(rt.settings.consumerAssignors.map(assignorNameOf).filter((n): n is AssignorName => n !== null));
    state.metadataKey = state.computeMetadataKey(topics);
    if (state.members.size === 0) group.currentStateTimestamp = now;
  }
  let offsetCount = 0;
  for (const [groupId, entries] of offsets) {
    for (const [tp, value] of entries) {
      if (!value) continue;
      const [partition, topic] = splitTp(tp);
      // Offsets without group metadata belong to a simple (non-managed) group.
      rt.getOrCreateGroup(groupId).setOffset(topic, partition, value);
      offsetCount++;
    }
  }
  for (const [groupId, entries] of legacy) {
    for (const [tp, value] of entries) {
      if (!value) continue;
      const [partition, topic] = splitTp(tp);
      setLegacyOffset(rt, groupId, topic, partition, value);
      offsetCount++;
    }
  }
  for (const [producerId, byGroup] of pendingTxn) {
    for (const [groupId, pending] of byGroup) {
      addPending(rt, producerId, groupId, [...pending].map(([tp, value]) => {
        const [partition, topic] = splitTp(tp);
        return { topic, partition, value };
      }));
    }
  }
  const loaded = [...rt.groups.values()].filter((g) => !before.has(g.groupId));
  for (const group of loaded) {
    for (const member of group.members.values()) scheduleHeartbeatExpiry(rt, group, member);
    armLoadedMembers(rt, group);
  }
  return { groups: loaded.length, offsets: offsetCount };
}

function splitTp(tp: string): [number, string] {
  const i = tp.indexOf('\u0000');
  return [Number(tp.slice(0, i)), tp.slice(i + 1)];
}

function restoreGroup(groupId: string, stored: StoredGroup, now: number): ClassicGroup {
  const group = new ClassicGroup(groupId, now);
  for (const m of stored.members) {
    const member = new MemberMetadata(
      m.memberId,
      m.groupInstanceId,
      m.clientId,
      m.clientHost,
      m.rebalanceTimeout,
      m.sessionTimeout,
      stored.protocolType,
      [{ name: stored.protocol ?? '', metadata: m.subscription }],
    );
    member.assignment = m.assignment;
    group.add(member);
  }
  group.protocolType = stored.protocolType === '' ? null : stored.protocolType;
  group.generationId = stored.generation;
  group.protocolName = stored.protocol;
  group.leaderId = stored.leader !== null && group.has(stored.leader) ? stored.leader : (group.members.keys().next().value ?? null);
  group.state = group.size > 0 ? 'Stable' : 'Empty';
  group.currentStateTimestamp = stored.currentStateTimestamp >= 0 ? stored.currentStateTimestamp : null;
  group.subscribedTopics = group.computeSubscribedTopics();
  return group;
}

export function setLegacyOffset(rt: GroupRuntime, groupId: string, topic: string, partition: number, value: CommittedOffset): void {
  let byTopic = rt.legacyOffsets.get(groupId);
  if (!byTopic) rt.legacyOffsets.set(groupId, (byTopic = new Map()));
  let byPartition = byTopic.get(topic);
  if (!byPartition) byTopic.set(topic, (byPartition = new Map()));
  byPartition.set(partition, value);
}

/**
 * Kafka's offset expiry (KIP-211): an empty group's offsets expire once the group has been empty
 * for the retention period; a stable consumer group's offsets of topics it no longer subscribes to
 * expire by commit time; a simple group's (no protocol type) by commit time. Offsets committed
 * with an explicit retention time (v2-v4) expire at their own time. An empty group left without
 * offsets is deleted.
 */
export async function expireOffsets(rt: GroupRuntime): Promise<number> {
  const now = rt.now();
  const retention = rt.settings.offsetsRetentionMs;
  let expiredTotal = 0;
  const writes: Promise<unknown>[] = [];
  for (const group of [...rt.groups.values()]) {
    if (group.is('Dead')) continue;
    let base: ((o: CommittedOffset) => number) | null = null;
    let keep = new Set<string>();
    if (group.consumer && group.consumer.members.size > 0) {
      // A live consumer group: offsets of topics it subscribes to never expire.
      base = (o) => o.commitTimestamp;
      const topics = topicsView(rt);
      for (const m of group.consumer.members.values()) {
        for (const id of group.consumer.subscribedTopicIds(m, topics)) {
          const t = topics.find((x) => x.topicId === id);
          if (t) keep.add(t.name);
        }
      }
    } else if (group.consumer) {
      base = (o) => group.currentStateTimestamp ?? o.commitTimestamp;
    } else if (group.protocolType !== null && group.is('Empty')) {
      base = (o) => group.currentStateTimestamp ?? o.commitTimestamp;
    } else if (group.protocolType === CONSUMER_PROTOCOL_TYPE && group.subscribedTopics !== null && group.is('Stable')) {
      base = (o) => o.commitTimestamp;
      keep = group.subscribedTopics;
    } else if (group.protocolType === null) {
      base = (o) => o.commitTimestamp;
    }
    const records: CoordinatorRecord[] = [];
    if (base) {
      for (const [topic, partition, o] of [...group.allOffsets()]) {
        if (keep.has(topic)) continue;
        const expired = o.expireTimestamp !== null ? now >= o.expireTimestamp : now - base(o) >= retention;
        if (!expired) continue;
        group.deleteOffset(topic, partition);
        records.push(offsetTombstone(group.groupId, topic, partition));
      }
    }
    expiredTotal += records.length;
    const deleteGroup = group.is('Empty') && !group.hasOffsets() && group.pendingMembers.size === 0 && (group.consumer?.members.size ?? 0) === 0;
    if (deleteGroup) {
      group.transitionTo('Dead', now);
      rt.groups.delete(group.groupId);
      records.push(groupTombstone(group.groupId));
      if (group.consumer) records.push(...consumerGroupTombstones(group.groupId));
    }
    if (records.length === 0) continue;
    if (expiredTotal > 0 || deleteGroup) {
      rt.log.info(`Removed ${records.length - (deleteGroup ? 1 : 0)} expired offsets of group ${group.groupId}${deleteGroup ? ' and the group' : ''}`);
    }
    writes.push(
      rt.write(group.groupId, records, () => undefined).catch((err) => rt.log.warn(`Failed to write expiry tombstones for group ${group.groupId}: ${(err as Error).message}`)),
    );
  }
  await Promise.all(writes);
  return expiredTotal;
}
