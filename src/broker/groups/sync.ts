// SyncGroup and Heartbeat. After a join phase every member sends SyncGroup; the leader's carries
// the assignment, which is persisted with the group metadata before anyone gets theirs and the
// group turns Stable. Heartbeats keep sessions alive and tell members about a rebalance.
import { ErrorCode } from '../../protocol/errors.js';
import { classicHeartbeatToConsumerGroup, classicSyncToConsumerGroup } from './classic-members.js';
import type { ClassicGroup } from './group.js';
import { EMPTY, type MemberMetadata } from './member.js';
import { storeGroup } from './persistence.js';
import {
  maybePrepareRebalance,
  propagateAssignment,
  removePendingSyncMember,
  resetAndPropagateAssignmentError,
  scheduleHeartbeatExpiry,
} from './rebalance.js';
import type { GroupRuntime } from './runtime.js';
import { storeErrorCode } from './store-errors.js';
import type { HeartbeatParams, SyncGroupParams, SyncGroupResult } from './types.js';

function syncError(errorCode: number): SyncGroupResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

export function syncGroup(rt: GroupRuntime, p: SyncGroupParams): Promise<SyncGroupResult> {
  return new Promise((resolve) => {
    let answered = false;
    const respond = (r: SyncGroupResult) => {
      if (answered) return;
      answered = true;
      resolve(r);
    };
    try {
      doSync(rt, p, respond);
    } catch (err) {
      rt.log.error(`SyncGroup of group ${p.groupId} failed: ${(err as Error).stack ?? err}`);
      respond(syncError(ErrorCode.UNKNOWN_SERVER_ERROR));
    }
  });
}

function doSync(rt: GroupRuntime, p: SyncGroupParams, respond: (r: SyncGroupResult) => void): void {
  if (!p.groupId) return respond(syncError(ErrorCode.INVALID_GROUP_ID));
  const unavailable = rt.coordinatorError(p.groupId);
  if (unavailable) return respond(syncError(unavailable));
  const group = rt.groups.get(p.groupId);
  if (!group) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  if (group.consumer) return respond(classicSyncToConsumerGroup(rt, group, group.consumer, p));
  if (group.is('Dead')) return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
  if (group.isStaticMemberFenced(p.groupInstanceId, p.memberId)) return respond(syncError(ErrorCode.FENCED_INSTANCE_ID));
  const member = group.get(p.memberId);
  if (!member) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  if (p.generationId !== group.generationId) return respond(syncError(ErrorCode.ILLEGAL_GENERATION));
  if ((p.protocolType !== null && p.protocolType !== group.protocolType) || (p.protocolName !== null && p.protocolName !== group.protocolName)) {
    return respond(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
  }
  const oversized = p.assignments.find((a) => a.assignment.length > rt.settings.memberMetadataMaxBytes);
  if (oversized) return refuseOversizedAssignment(rt, group, member, oversized, respond);
  switch (group.state) {
    case 'Empty':
      return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    case 'PreparingRebalance':
      return respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
    case 'CompletingRebalance': {
      if (member.awaitingSync) member.awaitingSync(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      member.awaitingSync = respond;
      removePendingSyncMember(rt, group, member.memberId);
      if (!group.isLeader(member.memberId)) return;
      const generation = group.generationId;
      const given = new Map(p.assignments.map((a) => [a.memberId, a.assignment]));
      const assignment = new Map([...group.members.keys()].map((id) => [id, given.get(id) ?? EMPTY]));
      const missing = [...group.members.keys()].filter((id) => !given.has(id));
      rt.log.info(`Assignment received from leader ${member.memberId} for group ${group.groupId} for generation ${generation}. The group has ${group.size} members, ${group.staticMembers.size} of which are static.`);
      if (missing.length > 0) rt.log.warn(`Setting empty assignments for members ${missing.join(', ')} of ${group.groupId} for generation ${generation}`);
      storeGroup(rt, group, assignment).then(
        () => {
          // Someone may have joined or left while we were writing: only the same round completes.
          if (!group.is('CompletingRebalance') || group.generationId !== generation || rt.groups.get(group.groupId) !== group) return;
          for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY;
          propagateAssignment(rt, group, ErrorCode.NONE);
          group.transitionTo('Stable', rt.now());
        },
        (err) => {
          rt.log.warn(`Failed to store assignment of group ${group.groupId} generation ${generation}: ${(err as Error).message}`);
          if (!group.is('CompletingRebalance') || group.generationId !== generation) return;
          resetAndPropagateAssignmentError(rt, group, storeErrorCode(err, 'group'));
          maybePrepareRebalance(rt, group, `Error when storing group assignment during SyncGroup (member: ${member.memberId})`);
        },
      );
      return;
    }
    case 'Stable':
      removePendingSyncMember(rt, group, member.memberId);
      scheduleHeartbeatExpiry(rt, group, member);
      return respond({ errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
    default:
      return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
  }
}

/**
 * An assignment larger than kts.group.member.metadata.max.bytes is never held. The sender gets
 * MESSAGE_TOO_LARGE; when it is the leader completing a rebalance, the round fails as it would if
 * the group's record could not be written (Kafka's path for an oversized record): the members
 * waiting get REBALANCE_IN_PROGRESS and rejoin.
 */
function refuseOversizedAssignment(
  rt: GroupRuntime,
  group: ClassicGroup,
  member: MemberMetadata,
  oversized: { memberId: string; assignment: Buffer },
  respond: (r: SyncGroupResult) => void,
): void {
  rt.log.warn(
    `SyncGroup of ${member.memberId} in group ${group.groupId} refused: the assignment for ${oversized.memberId} takes ${oversized.assignment.length} bytes, more than kts.group.member.metadata.max.bytes ${rt.settings.memberMetadataMaxBytes}`,
  );
  respond(syncError(ErrorCode.MESSAGE_TOO_LARGE));
  if (!group.is('CompletingRebalance') || !group.isLeader(member.memberId)) return;
  if (member.awaitingSync) member.awaitingSync(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
  member.awaitingSync = null;
  resetAndPropagateAssignmentError(rt, group, ErrorCode.REBALANCE_IN_PROGRESS);
  maybePrepareRebalance(rt, group, `Leader ${member.memberId} sent an assignment larger than kts.group.member.metadata.max.bytes`);
}

export function heartbeat(rt: GroupRuntime, p: HeartbeatParams): number {
  if (!p.groupId) return ErrorCode.INVALID_GROUP_ID;
  const unavailable = rt.coordinatorError(p.groupId);
  if (unavailable) return unavailable;
  const group = rt.groups.get(p.groupId);
  if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (group.consumer) return classicHeartbeatToConsumerGroup(rt, group, group.consumer, p);
  if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  if (group.isStaticMemberFenced(p.groupInstanceId, p.memberId)) return ErrorCode.FENCED_INSTANCE_ID;
  const member = group.get(p.memberId);
  if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (p.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
  switch (group.state) {
    case 'Empty':
      return ErrorCode.UNKNOWN_MEMBER_ID;
    case 'CompletingRebalance':
    case 'Stable':
      // Members may heartbeat between their JoinGroup answer and SyncGroup: that is fine.
      scheduleHeartbeatExpiry(rt, group, member);
      return ErrorCode.NONE;
    case 'PreparingRebalance':
      scheduleHeartbeatExpiry(rt, group, member);
      return ErrorCode.REBALANCE_IN_PROGRESS;
    default:
      return ErrorCode.UNKNOWN_MEMBER_ID;
  }
}
