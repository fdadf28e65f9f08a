// The admin side of groups: ListGroups, DescribeGroups and DeleteGroups.
import { ErrorCode } from '../../protocol/errors.js';
import { EMPTY } from './member.js';
import { consumerGroupTombstones } from './consumer-persistence.js';
import { groupTombstone, offsetTombstone } from './persistence.js';
import type { GroupRuntime } from './runtime.js';
import { storeErrorCode } from './store-errors.js';
import type { GroupDescription, ListedGroup } from './types.js';

/** Every live group; filters are case-insensitive, empty = no filter. Only "classic" groups exist here. */
export function listGroups(rt: GroupRuntime, statesFilter: string[] = [], typesFilter: string[] = []): ListedGroup[] {
  const states = new Set(statesFilter.map((s) => s.toLowerCase()));
  const types = new Set(typesFilter.map((s) => s.toLowerCase()));
  const out: ListedGroup[] = [];
  for (const group of rt.groups.values()) {
    if (group.is('Dead') || !rt.ownsPartition(rt.partitionFor(group.groupId))) continue;
    // A KIP-848 group lists as Kafka's ConsumerGroup does: type "consumer", protocol type "consumer".
    const type = group.consumer ? 'consumer' : 'classic';
    const state = group.consumer ? group.consumer.state() : group.state;
    if (types.size > 0 && !types.has(type)) continue;
    if (states.size > 0 && !states.has(state.toLowerCase())) continue;
    out.push({ groupId: group.groupId, protocolType: group.consumer ? 'consumer' : (group.protocolType ?? ''), groupState: state, groupType: type });
  }
  return out;
}

/**
 * Kafka answers an unknown group as a Dead one with no error. Member metadata and assignments
 * are only shown for a Stable group (mid-rebalance they are not settled).
 */
export function describeGroup(rt: GroupRuntime, groupId: string): GroupDescription {
  const dead: GroupDescription = { errorCode: ErrorCode.NONE, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
  const unavailable = rt.coordinatorError(groupId);
  if (unavailable) return { ...dead, errorCode: unavailable, groupState: '' };
  const group = rt.groups.get(groupId);
  if (!group || group.is('Dead')) return dead;
  // Kafka 4 answers DescribeGroups for a consumer group with GROUP_ID_NOT_FOUND (use ConsumerGroupDescribe).
  if (group.consumer) return { ...dead, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, groupState: '' };
  const stable = group.is('Stable');
  return {
    errorCode: ErrorCode.NONE,
    groupId,
    groupState: group.state,
    protocolType: group.protocolType ?? '',
    protocolData: stable ? (group.protocolName ?? '') : '',
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberMetadata: stable ? m.metadataFor(group.protocolName) : EMPTY,
      memberAssignment: stable ? m.assignment : EMPTY,
    })),
  };
}

/** DeleteGroups: only empty groups; their offsets and metadata get tombstones. */
export async function deleteGroups(rt: GroupRuntime, groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
  return Promise.all(
    groupIds.map(async (groupId) => {
      const unavailable = rt.coordinatorError(groupId);
      if (unavailable) return { groupId, errorCode: unavailable };
      const group = rt.groups.get(groupId);
      if (!group || group.is('Dead')) return { groupId, errorCode: ErrorCode.GROUP_ID_NOT_FOUND };
      if (!group.is('Empty') || group.pendingMembers.size > 0 || (group.consumer?.members.size ?? 0) > 0) return { groupId, errorCode: ErrorCode.NON_EMPTY_GROUP };
      const records = [...group.allOffsets()].map(([t, p]) => offsetTombstone(groupId, t, p));
      records.push(groupTombstone(groupId));
      if (group.consumer) records.push(...consumerGroupTombstones(groupId));
      group.transitionTo('Dead', rt.now());
      rt.groups.delete(groupId);
      rt.cancel(group.joinTimer);
      rt.cancel(group.syncTimer);
      try {
        await rt.write(groupId, records, () => undefined);
      } catch (err) {
        rt.log.warn(`Failed to write tombstones of deleted group ${groupId}: ${(err as Error).message}`);
        return { groupId, errorCode: storeErrorCode(err, 'offsets') };
      }
      rt.log.info(`Group ${groupId} deleted (${records.length - 1} offsets removed)`);
      return { groupId, errorCode: ErrorCode.NONE };
    }),
  );
}
