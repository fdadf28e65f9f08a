// Classic members inside a KIP-848 consumer group (Kafka 4.4's classicGroupJoinToConsumerGroup and
// its SyncGroup/Heartbeat/LeaveGroup counterparts): JoinGroup, SyncGroup and Heartbeat are
// translated onto the consumer group. A JoinGroup is the member's heartbeat with its subscription
// (from its protocol metadata) and the partitions it still owns; it is answered at once with the
// member epoch as the generation and no leader (the server assigns), SyncGroup hands out what the
// member may own now, and Heartbeat answers REBALANCE_IN_PROGRESS when the member must join again
// (the group moved on, it has partitions to give up, or partitions it waited for are free).
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/errors.js';
import { ConsumerMember, type ConsumerGroupState } from './consumer-group.js';
import { armSession, cancelClassicTimers, configuredAssignors, disarm, fenceAndPersist, replaceStaticMember, topicsView } from './consumer-heartbeat.js';
import { persistConsumerGroup } from './consumer-persistence.js';
import type { ClassicGroup } from './group.js';
import { EMPTY } from './member.js';
import { assignmentByTopicId, decodeSubscription, encodeClassicAssignment, type ClassicSubscription } from './migration.js';
import { joinError } from './rebalance.js';
import type { GroupRuntime } from './runtime.js';
import { CONSUMER_PROTOCOL_TYPE, type HeartbeatParams, type JoinGroupParams, type JoinGroupResult, type LeaveGroupResult, type LeavingMember, type SyncGroupParams, type SyncGroupResult } from './types.js';

class ClassicError extends Error {
  constructor(readonly code: number) {
    super(`error ${code}`);
  }
}

const fail = (code: number): never => {
  throw new ClassicError(code);
};

/** Kafka's validateConsumerGroupMember: by instance id when given (fenced if the ids differ), else by member id. */
function memberOf(state: ConsumerGroupState, memberId: string, instanceId: string | null): ConsumerMember {
  if (instanceId !== null) {
    const id = state.staticMembers.get(instanceId);
    const member = id !== undefined ? state.members.get(id) : undefined;
    if (!member) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (member.memberId !== memberId) fail(ErrorCode.FENCED_INSTANCE_ID);
    return member;
  }
  return state.members.get(memberId) ?? fail(ErrorCode.UNKNOWN_MEMBER_ID);
}

function classicMemberOf(state: ConsumerGroupState, memberId: string, instanceId: string | null): ConsumerMember {
  const member = memberOf(state, memberId, instanceId);
  if (member.classic === null) fail(ErrorCode.UNKNOWN_MEMBER_ID);
  return member;
}

/** A classic member that must rejoin gets its rebalance timeout to do so, or is fenced. */
function armJoinTimeout(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, m: ConsumerMember): void {
  if (m.joinTimer !== null) return;
  m.joinTimer = rt.schedule(() => {
    m.joinTimer = null;
    if (state.members.get(m.memberId) !== m || group.consumer !== state) return;
    fenceAndPersist(rt, group, state, m, `the classic member failed to join within the rebalance timeout of ${m.rebalanceTimeoutMs} ms`);
  }, m.rebalanceTimeoutMs);
}

function armSyncTimeout(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, m: ConsumerMember, timeoutMs: number): void {
  rt.cancel(m.syncTimer);
  m.syncTimer = rt.schedule(() => {
    m.syncTimer = null;
    if (state.members.get(m.memberId) !== m || group.consumer !== state) return;
    fenceAndPersist(rt, group, state, m, `the member failed to sync within ${timeoutMs} ms`);
  }, timeoutMs);
}

/** JoinGroup of a classic member to a consumer group with members. */
export async function classicJoinToConsumerGroup(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, p: JoinGroupParams): Promise<JoinGroupResult> {
  const isUnknown = p.memberId === '';
  // Kafka names members of a consumer group with a random Uuid, whatever the protocol.
  const memberId = isUnknown ? Buffer.from(randomUUID().replace(/-/g, ''), 'hex').toString('base64url') : p.memberId;
  let member: ConsumerMember;
  let subscription: ClassicSubscription;
  try {
    if (state.members.size >= rt.settings.consumerMaxSize && (isUnknown || !state.members.has(memberId))) fail(ErrorCode.GROUP_MAX_SIZE_REACHED);
    if (!state.supportsClassicProtocols(p.protocolType, p.protocols.map((x) => x.name))) fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    if (p.requireKnownMemberId && isUnknown && p.groupInstanceId === null) {
      rt.log.info(`[GroupId ${group.groupId}] Dynamic member with unknown member id joins the consumer group. Created a new member id ${memberId} and requesting the member to rejoin with this id.`);
      return joinError(memberId, ErrorCode.MEMBER_ID_REQUIRED);
    }
    try {
      subscription = decodeSubscription(p.protocols[0].metadata);
    } catch {
      return fail(ErrorCode.UNKNOWN_SERVER_ERROR);
    }
    member = joiningMember(rt, state, p, memberId, isUnknown);
  } catch (err) {
    if (err instanceof ClassicError) return joinError(p.memberId, err.code);
    throw err;
  }
  const isNew = !state.members.has(member.memberId);
  let bump = isNew;
  member.clientId = p.clientId;
  member.clientHost = p.clientHost;
  if (subscription.rackId !== null) member.rackId = subscription.rackId;
  if (p.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
  const names = [...new Set(subscription.topics)].sort();
  if (names.join('\u0000') !== member.subscribedTopicNames.join('\u0000')) bump = true;
  member.subscribedTopicNames = names;
  member.classic = { sessionTimeoutMs: p.sessionTimeoutMs, protocols: p.protocols.map((x) => ({ name: x.name, metadata: x.metadata })) };
  if (isNew) {
    state.addMember(member);
    rt.log.info(`[GroupId ${group.groupId}] Member ${member.memberId} joins the consumer group using the classic protocol.`);
  }
  const topics = topicsView(rt);
  if (!bump && state.computeMetadataKey(topics) !== state.metadataKey) bump = true;
  if (bump) state.groupEpoch++;
  if (state.groupEpoch > state.assignmentEpoch) {
    state.computeTarget(topics, configuredAssignors(rt), rt.now());
    rt.log.info(`Consumer group ${group.groupId} moved to epoch ${state.groupEpoch} (assignor ${state.assignor}, ${state.members.size} members)`);
  }
  // What it still owns (cooperative members list it in their subscription; eager ones own nothing when they rejoin).
  state.reconcile(member, assignmentByTopicId(rt, subscription.ownedPartitions));
  await persistConsumerGroup(rt, group, member.memberId);
  if (group.consumer !== state || state.members.get(member.memberId) !== member) return joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
  rt.cancel(member.joinTimer);
  member.joinTimer = null;
  armSession(rt, group, state, member);
  armSyncTimeout(rt, group, state, member, p.rebalanceTimeoutMs);
  return {
    errorCode: ErrorCode.NONE,
    generationId: member.memberEpoch,
    protocolType: CONSUMER_PROTOCOL_TYPE,
    protocolName: member.classic!.protocols[0].name,
    leader: '',
    memberId: member.memberId,
    skipAssignment: false,
    members: [],
  };
}

/** The member a JoinGroup is for: known, new, or a static member taking over its instance's place. */
function joiningMember(rt: GroupRuntime, state: ConsumerGroupState, p: JoinGroupParams, memberId: string, isUnknown: boolean): ConsumerMember {
  if (p.groupInstanceId === null) return state.members.get(memberId) ?? new ConsumerMember(memberId, null, p.clientId, p.clientHost);
  const existingId = state.staticMembers.get(p.groupInstanceId);
  const existing = existingId !== undefined ? state.members.get(existingId) : undefined;
  if (!isUnknown) {
    if (!existing) fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (existing!.memberId !== memberId) fail(ErrorCode.FENCED_INSTANCE_ID);
    return existing!;
  }
  if (!existing) return new ConsumerMember(memberId, p.groupInstanceId, p.clientId, p.clientHost);
  // The instance comes back under a new member id: it takes over the old member's place at epoch 0.
  const replacement = new ConsumerMember(memberId, p.groupInstanceId, p.clientId, p.clientHost);
  replacement.rackId = existing.rackId;
  replacement.rebalanceTimeoutMs = existing.rebalanceTimeoutMs;
  replaceStaticMember(rt, state, existing, replacement);
  state.restoreOwners();
  rt.log.info(`[GroupId ${p.groupId}] Static member with instance id ${p.groupInstanceId} re-joins the consumer group using the classic protocol. Created a new member ${memberId} to replace the existing member ${existing.memberId}.`);
  return replacement;
}

/** Whether a new round has started that the member must join (Kafka's throwIfRebalanceInProgress). */
function mustRejoin(state: ConsumerGroupState, m: ConsumerMember): boolean {
  return state.groupEpoch > m.memberEpoch && m.state !== 'UNREVOKED_PARTITIONS';
}

/** SyncGroup of a classic member of a consumer group: its current assignment. */
export function classicSyncToConsumerGroup(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, p: SyncGroupParams): SyncGroupResult {
  const error = (errorCode: number): SyncGroupResult => ({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY });
  try {
    const m = classicMemberOf(state, p.memberId, p.groupInstanceId);
    if (p.generationId !== m.memberEpoch) fail(ErrorCode.ILLEGAL_GENERATION);
    const protocolName = m.classic!.protocols[0].name;
    if ((p.protocolType !== null && p.protocolType !== CONSUMER_PROTOCOL_TYPE) || (p.protocolName !== null && p.protocolName !== protocolName)) fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    if (mustRejoin(state, m)) {
      armJoinTimeout(rt, group, state, m);
      fail(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    rt.cancel(m.syncTimer);
    m.syncTimer = null;
    armSession(rt, group, state, m);
    return { errorCode: ErrorCode.NONE, protocolType: p.protocolType, protocolName: p.protocolName, assignment: encodeClassicAssignment(rt, m.assigned, m.classic!.protocols[0].metadata) };
  } catch (err) {
    if (err instanceof ClassicError) return error(err.code);
    throw err;
  }
}

/** Heartbeat of a classic member of a consumer group. */
export function classicHeartbeatToConsumerGroup(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, p: HeartbeatParams): number {
  try {
    const m = classicMemberOf(state, p.memberId, p.groupInstanceId);
    if (p.generationId !== m.memberEpoch) fail(ErrorCode.ILLEGAL_GENERATION);
    armSession(rt, group, state, m);
    // Kafka 4.4 asks it to rejoin once a new target exists (the assignment epoch, not the group
    // epoch). A group whose epoch moved without one (a member left) gets it now, so this member's
    // next heartbeat tells it to rejoin: classic members have no other request that would.
    const rejoin = m.memberEpoch < state.assignmentEpoch;
    if (state.groupEpoch > state.assignmentEpoch) {
      state.computeTarget(topicsView(rt), configuredAssignors(rt), rt.now());
      void persistConsumerGroup(rt, group, null);
    }
    if (rejoin || m.state === 'UNREVOKED_PARTITIONS' || (m.state === 'UNRELEASED_PARTITIONS' && !state.waitingOnUnreleasedPartition(m))) {
      armJoinTimeout(rt, group, state, m);
      return ErrorCode.REBALANCE_IN_PROGRESS;
    }
    return ErrorCode.NONE;
  } catch (err) {
    if (err instanceof ClassicError) return err.code;
    throw err;
  }
}

/** LeaveGroup of classic members of a consumer group (one new group epoch for all of them). */
export function classicLeaveConsumerGroup(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, leaving: LeavingMember[]): LeaveGroupResult {
  let removed = 0;
  const members = leaving.map((l) => {
    let memberId = l.memberId;
    try {
      let m: ConsumerMember;
      if (l.groupInstanceId === null) {
        m = classicMemberOf(state, l.memberId, null);
      } else {
        const id = state.staticMembers.get(l.groupInstanceId);
        m = (id !== undefined ? state.members.get(id) : undefined) ?? fail(ErrorCode.UNKNOWN_MEMBER_ID);
        // An admin may remove a static member by its instance id alone.
        if (l.memberId !== '' && m.memberId !== l.memberId) fail(ErrorCode.FENCED_INSTANCE_ID);
        if (m.classic === null) fail(ErrorCode.UNKNOWN_MEMBER_ID);
        memberId = m.memberId;
      }
      rt.log.info(`[Group ${group.groupId}] Member ${m.memberId} has left group through explicit \`LeaveGroup\` request; client reason: ${l.reason ?? 'not provided'}`);
      disarm(rt, m);
      cancelClassicTimers(rt, m);
      state.removeMember(m);
      removed++;
      return { memberId, groupInstanceId: l.groupInstanceId, errorCode: ErrorCode.NONE };
    } catch (err) {
      if (err instanceof ClassicError) return { memberId, groupInstanceId: l.groupInstanceId, errorCode: err.code };
      throw err;
    }
  });
  if (removed > 0) {
    // The new target comes with the next heartbeat or join of a member, as after any leave.
    state.groupEpoch++;
    if (state.members.size === 0) group.currentStateTimestamp = rt.now();
    void persistConsumerGroup(rt, group, null);
  }
  return { errorCode: ErrorCode.NONE, members };
}
