// The rebalance cycle of a classic group, shared by join, sync, heartbeat and leave:
//   Stable/CompletingRebalance/Empty --(member joins, leaves or fails)--> PreparingRebalance
//   PreparingRebalance --(all members rejoined, or the rebalance timeout)--> CompletingRebalance (or Empty)
//   CompletingRebalance --(leader's SyncGroup stored)--> Stable
// Timers: each member's session (heartbeat) timer, the join phase timer (with the initial delay for
// a group that was empty), and the deadline for members to send SyncGroup after a join phase.
import { ErrorCode } from '../../protocol/errors.js';
import type { ClassicGroup } from './group.js';
import { EMPTY, type MemberMetadata } from './member.js';
import { storeGroup } from './persistence.js';
import type { GroupRuntime } from './runtime.js';
import type { JoinGroupResult } from './types.js';

export function joinError(memberId: string, errorCode: number): JoinGroupResult {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, skipAssignment: false, members: [] };
}

/** Answers a member's parked JoinGroup, if it has one. */
export function invokeJoin(member: MemberMetadata, result: JoinGroupResult): boolean {
  const respond = member.awaitingJoin;
  if (!respond) return false;
  member.awaitingJoin = null;
  respond(result);
  return true;
}

/** Answers a member's parked SyncGroup, if it has one. */
export function invokeSync(group: ClassicGroup, member: MemberMetadata, errorCode: number): boolean {
  const respond = member.awaitingSync;
  if (!respond) return false;
  member.awaitingSync = null;
  const ok = errorCode === ErrorCode.NONE;
  respond({ errorCode, protocolType: ok ? group.protocolType : null, protocolName: ok ? group.protocolName : null, assignment: ok ? member.assignment : EMPTY });
  return true;
}

/** The member is alive: expect its next heartbeat within `timeoutMs` (its session timeout by default). */
export function scheduleHeartbeatExpiry(rt: GroupRuntime, group: ClassicGroup, member: MemberMetadata, timeoutMs = member.sessionTimeoutMs): void {
  rt.armHeartbeat(member, timeoutMs, () => onHeartbeatExpired(rt, group, member));
}

function onHeartbeatExpired(rt: GroupRuntime, group: ClassicGroup, member: MemberMetadata): void {
  member.heartbeatTimer = null;
  if (rt.groups.get(group.groupId) !== group || group.get(member.memberId) !== member) return;
  // Members taking part in a rebalance need not heartbeat; the rebalance's own timeouts cover them.
  // A new member is the exception: it has never completed a join and may be long gone.
  if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) return;
  rt.log.info(`Member ${member.memberId} in group ${group.groupId} has failed, removing it from the group`);
  removeMemberAndUpdateGroup(rt, group, member, `removing member ${member.memberId} on heartbeat expiration`);
}

/** Removes a member (left, expired or fenced) and moves the group on. */
export function removeMemberAndUpdateGroup(rt: GroupRuntime, group: ClassicGroup, member: MemberMetadata, reason: string): void {
  // A member may expire with its JoinGroup still parked; tell it to start over.
  invokeJoin(member, joinError(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
  invokeSync(group, member, ErrorCode.UNKNOWN_MEMBER_ID);
  rt.disarmHeartbeat(member);
  group.remove(member.memberId);
  switch (group.state) {
    case 'Dead':
    case 'Empty':
      break;
    case 'Stable':
    case 'CompletingRebalance':
      maybePrepareRebalance(rt, group, reason);
      break;
    case 'PreparingRebalance':
      tryCompleteJoin(rt, group);
      break;
  }
}

/** Drops a member id handed out with MEMBER_ID_REQUIRED that never came back. */
export function removePendingMember(rt: GroupRuntime, group: ClassicGroup, memberId: string): void {
  const timer = group.pendingMembers.get(memberId);
  if (!group.pendingMembers.delete(memberId)) return;
  rt.cancel(timer);
  if (group.is('PreparingRebalance')) tryCompleteJoin(rt, group);
  maybeForgetGroup(rt, group);
}

export function maybePrepareRebalance(rt: GroupRuntime, group: ClassicGroup, reason: string): void {
  if (group.canRebalance()) prepareRebalance(rt, group, reason);
}

export function prepareRebalance(rt: GroupRuntime, group: ClassicGroup, reason: string): void {
  // Members waiting for an assignment will not get one: they must rejoin.
  if (group.is('CompletingRebalance')) resetAndPropagateAssignmentError(rt, group, ErrorCode.REBALANCE_IN_PROGRESS);
  rt.cancel(group.syncTimer);
  group.syncTimer = null;
  const initial = group.is('Empty') && rt.settings.initialRebalanceDelayMs > 0;
  group.transitionTo('PreparingRebalance', rt.now());
  rt.log.info(`Preparing to rebalance group ${group.groupId} in state PreparingRebalance with old generation ${group.generationId} (__consumer_offsets-${rt.partitionFor(group.groupId)}) (reason: ${reason})`);
  if (initial) {
    const delay = rt.settings.initialRebalanceDelayMs;
    scheduleInitialJoin(rt, group, delay, Math.max(group.rebalanceTimeoutMs() - delay, 0));
  } else {
    scheduleJoin(rt, group, group.rebalanceTimeoutMs());
    tryCompleteJoin(rt, group);
  }
}

/** The join phase ends when every member has rejoined, or at the rebalance timeout. */
function scheduleJoin(rt: GroupRuntime, group: ClassicGroup, timeoutMs: number): void {
  rt.cancel(group.joinTimer);
  group.joinTimerKind = 'normal';
  group.joinTimer = rt.schedule(() => {
    group.joinTimer = null;
    completeJoin(rt, group);
  }, timeoutMs);
}

/**
 * A group that was empty waits group.initial.rebalance.delay.ms for more members before its first
 * generation, extending the wait (up to the rebalance timeout) while new members keep arriving.
 */
function scheduleInitialJoin(rt: GroupRuntime, group: ClassicGroup, delayMs: number, remainingMs: number): void {
  rt.cancel(group.joinTimer);
  group.joinTimerKind = 'initial';
  group.joinTimer = rt.schedule(() => {
    group.joinTimer = null;
    if (group.newMemberAdded && remainingMs > 0) {
      group.newMemberAdded = false;
      const delay = Math.min(rt.settings.initialRebalanceDelayMs, remainingMs);
      scheduleInitialJoin(rt, group, delay, Math.max(remainingMs - rt.settings.initialRebalanceDelayMs, 0));
    } else {
      completeJoin(rt, group);
    }
  }, delayMs);
}

/** Completes the join phase early once nobody is missing (not during the initial delay). */
export function tryCompleteJoin(rt: GroupRuntime, group: ClassicGroup): void {
  if (group.is('PreparingRebalance') && group.joinTimerKind === 'normal' && group.hasAllMembersJoined()) completeJoin(rt, group);
}

function completeJoin(rt: GroupRuntime, group: ClassicGroup): void {
  rt.cancel(group.joinTimer);
  group.joinTimer = null;
  group.joinTimerKind = null;
  if (!group.is('PreparingRebalance') || rt.groups.get(group.groupId) !== group) return;
  // Dynamic members that did not rejoin in time are out; static ones stay until their session ends.
  for (const m of group.notYetRejoinedMembers()) {
    if (m.isStatic) continue;
    rt.log.info(`Member ${m.memberId} in group ${group.groupId} did not rejoin in time, removing it from the group`);
    invokeSync(group, m, ErrorCode.UNKNOWN_MEMBER_ID);
    rt.disarmHeartbeat(m);
    group.remove(m.memberId);
  }
  if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
    // Only static members that have not rejoined are left: wait for them or for their sessions to end.
    rt.log.error(`Group ${group.groupId} could not complete rebalance because no members rejoined`);
    scheduleJoin(rt, group, group.rebalanceTimeoutMs());
    return;
  }
  const now = rt.now();
  group.initNextGeneration(now);
  if (group.is('Empty')) {
    rt.log.info(`Group ${group.groupId} with generation ${group.generationId} is now empty (__consumer_offsets-${rt.partitionFor(group.groupId)})`);
    storeGroup(rt, group, new Map()).catch((err) =>
      rt.log.warn(`Failed to write empty metadata for group ${group.groupId}: ${(err as Error).message}`),
    );
    return;
  }
  rt.log.info(`Stabilized group ${group.groupId} generation ${group.generationId} (__consumer_offsets-${rt.partitionFor(group.groupId)}) with ${group.size} members`);
  for (const member of group.members.values()) {
    invokeJoin(member, {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment: false,
      members: group.isLeader(member.memberId) ? group.currentMemberMetadata() : [],
    });
    scheduleHeartbeatExpiry(rt, group, member);
    member.isNew = false;
    group.pendingSyncMembers.add(member.memberId);
  }
  schedulePendingSync(rt, group);
}

/** Members of a new generation that never send SyncGroup are removed after the rebalance timeout. */
function schedulePendingSync(rt: GroupRuntime, group: ClassicGroup): void {
  rt.cancel(group.syncTimer);
  const generation = group.generationId;
  group.syncTimer = rt.schedule(() => {
    group.syncTimer = null;
    if (generation !== group.generationId || rt.groups.get(group.groupId) !== group) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.pendingSyncMembers.size === 0) return;
    const missing = [...group.pendingSyncMembers];
    rt.log.info(`Group ${group.groupId} removed members who haven't sent their sync requests: ${missing.join(', ')}`);
    for (const id of missing) {
      const m = group.get(id);
      if (!m) continue;
      invokeJoin(m, joinError(id, ErrorCode.UNKNOWN_MEMBER_ID));
      rt.disarmHeartbeat(m);
      group.remove(id);
    }
    group.pendingSyncMembers.clear();
    prepareRebalance(rt, group, `Removing ${missing.join(', ')} on pending sync request expiration`);
  }, group.rebalanceTimeoutMs());
}

export function removePendingSyncMember(rt: GroupRuntime, group: ClassicGroup, memberId: string): void {
  group.pendingSyncMembers.delete(memberId);
  if (group.pendingSyncMembers.size === 0) {
    rt.cancel(group.syncTimer);
    group.syncTimer = null;
  }
}

/** Hands every member its assignment (or the error) and restarts their session timers. */
export function propagateAssignment(rt: GroupRuntime, group: ClassicGroup, errorCode: number): void {
  for (const member of group.members.values()) {
    if (invokeSync(group, member, errorCode)) scheduleHeartbeatExpiry(rt, group, member);
  }
}

export function resetAndPropagateAssignmentError(rt: GroupRuntime, group: ClassicGroup, errorCode: number): void {
  for (const member of group.members.values()) member.assignment = EMPTY;
  propagateAssignment(rt, group, errorCode);
}

/** A group with nothing in it (no members, offsets or history) need not be remembered. */
export function maybeForgetGroup(rt: GroupRuntime, group: ClassicGroup): void {
  if (group.is('Empty') && group.size === 0 && group.pendingMembers.size === 0 && group.generationId === 0 && !group.hasOffsets() && !group.consumer) {
    if (rt.groups.get(group.groupId) === group) rt.groups.delete(group.groupId);
  }
}
