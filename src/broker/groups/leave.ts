// LeaveGroup: members leaving on their own (v0-v2: one member id), or a batch (v3+), where a
// static member may also be removed by its group.instance.id alone (admin removal).
import { ErrorCode } from '../../protocol/errors.js';
import { classicLeaveConsumerGroup } from './classic-members.js';
import { removeMemberAndUpdateGroup, removePendingMember } from './rebalance.js';
import type { GroupRuntime } from './runtime.js';
import type { LeaveGroupResult, LeavingMember } from './types.js';

export function leaveGroup(rt: GroupRuntime, groupId: string, leaving: LeavingMember[]): LeaveGroupResult {
  if (!groupId) return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
  const unavailable = rt.coordinatorError(groupId);
  if (unavailable) return { errorCode: unavailable, members: [] };
  const group = rt.groups.get(groupId);
  const answer = (m: LeavingMember, errorCode: number) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
  if (!group) return { errorCode: ErrorCode.NONE, members: leaving.map((m) => answer(m, ErrorCode.UNKNOWN_MEMBER_ID)) };
  if (group.consumer) return classicLeaveConsumerGroup(rt, group, group.consumer, leaving);
  if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
  const members = leaving.map((m) => {
    const reason = `Removing member ${m.memberId || m.groupInstanceId} on LeaveGroup; client reason: ${m.reason ?? 'not provided'}`;
    if (m.memberId === '') {
      const current = group.staticMemberId(m.groupInstanceId);
      const member = current === undefined ? undefined : group.get(current);
      if (!member) return answer(m, ErrorCode.UNKNOWN_MEMBER_ID);
      rt.log.info(`Member ${member.memberId} with group instance id ${m.groupInstanceId} has left group ${groupId} through an admin request`);
      removeMemberAndUpdateGroup(rt, group, member, reason);
      return answer(m, ErrorCode.NONE);
    }
    if (group.pendingMembers.has(m.memberId)) {
      removePendingMember(rt, group, m.memberId);
      return answer(m, ErrorCode.NONE);
    }
    if (group.isStaticMemberFenced(m.groupInstanceId, m.memberId)) return answer(m, ErrorCode.FENCED_INSTANCE_ID);
    const member = group.get(m.memberId);
    if (!member) return answer(m, ErrorCode.UNKNOWN_MEMBER_ID);
    rt.log.info(`Member ${m.memberId} has left group ${groupId} through explicit LeaveGroup; client reason: ${m.reason ?? 'not provided'}`);
    removeMemberAndUpdateGroup(rt, group, member, reason);
    return answer(m, ErrorCode.NONE);
  });
  return { errorCode: ErrorCode.NONE, members };
}
