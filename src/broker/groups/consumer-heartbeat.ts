// ConsumerGroupHeartbeat (KIP-848), as Kafka's GroupMetadataManager.consumerGroupHeartbeat: join
// (epoch 0), heartbeats carrying the member epoch, leave (-1), a static member's temporary leave
// (-2); the group epoch moves on membership, subscription or subscribed-topic changes, and then
// the server-side assignor computes a new target. Session timeouts and rebalance (revocation)
// timeouts fence members. Also ConsumerGroupDescribe and the member checks of OffsetCommit/Fetch.
import { ErrorCode } from '../../protocol/errors.js';
import { assignorNameOf, type Assignment, type AssignorName } from './assignors.js';
import {
  assignmentEquals,
  ConsumerGroupState,
  ConsumerMember,
  isSubset,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  type AssignorTopicWithInternal,
} from './consumer-group.js';
import type { ClassicGroup } from './group.js';
import { consumerGroupMetadataKey, consumerGroupMetadataValue } from './records.js';
import type { GroupRuntime } from './runtime.js';

export interface ConsumerHeartbeatParams {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  /** What the member owns (topic id -> partitions); null = unchanged since the last heartbeat. */
  ownedTopicPartitions: { topicId: string; partitions: number[] }[] | null;
  clientId: string;
  clientHost: string;
  apiVersion: number;
}

export interface ConsumerHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicPartitions: { topicId: string; partitions: number[] }[] } | null;
}

class HeartbeatError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const fail = (code: number, message: string): never => {
  throw new HeartbeatError(code, message);
};

/** The topics as the assignors see them (consumer groups never subscribe to __consumer_offsets by regex). */
export function topicsView(rt: GroupRuntime): AssignorTopicWithInternal[] {
  const list = rt.topics?.list?.() ?? [];
  return list.map((t) => ({ topicId: t.topicId, name: t.name, partitions: t.partitions, internal: t.internal }));
}

function configuredAssignors(rt: GroupRuntime): AssignorName[] {
  const names = rt.settings.consumerAssignors.map(assignorNameOf).filter((n): n is AssignorName => n !== null);
  return names.length > 0 ? names : ['uniform'];
}

function toAssignment(list: { topicId: string; partitions: number[] }[]): Assignment {
  const out: Assignment = new Map();
  for (const t of list) {
    let s = out.get(t.topicId);
    if (!s) out.set(t.topicId, (s = new Set()));
    for (const p of t.partitions) s.add(p);
  }
  return out;
}

export function assignmentList(a: Assignment): { topicId: string; partitions: number[] }[] {
  return [...a].filter(([, s]) => s.size > 0).map(([topicId, s]) => ({ topicId, partitions: [...s].sort((x, y) => x - y) }));
}

function validate(rt: GroupRuntime, p: ConsumerHeartbeatParams): void {
  if (!p.groupId) fail(ErrorCode.INVALID_REQUEST, 'GroupId can\'t be empty.');
  if (p.instanceId === '') fail(ErrorCode.INVALID_REQUEST, 'InstanceId can\'t be empty.');
  if (p.rackId === '') fail(ErrorCode.INVALID_REQUEST, 'RackId can\'t be empty.');
  if (p.apiVersion >= 1 || p.memberEpoch !== 0) {
    if (!p.memberId) fail(ErrorCode.INVALID_REQUEST, 'MemberId can\'t be empty.');
  }
  if (p.memberEpoch === 0) {
    if (p.rebalanceTimeoutMs === -1) fail(ErrorCode.INVALID_REQUEST, 'RebalanceTimeoutMs must be provided in first request.');
    if (p.ownedTopicPartitions === null || p.ownedTopicPartitions.length > 0) fail(ErrorCode.INVALID_REQUEST, 'TopicPartitions must be empty when (re-)joining.');
    if (p.subscribedTopicNames === null && p.subscribedTopicRegex === null) {
      fail(ErrorCode.INVALID_REQUEST, 'SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
    }
  } else if (p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    if (p.instanceId === null) fail(ErrorCode.INVALID_REQUEST, 'InstanceId can\'t be null.');
  } else if (p.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    fail(ErrorCode.INVALID_REQUEST, `MemberEpoch is invalid.`);
  }
  if (p.serverAssignor !== null && !configuredAssignors(rt).includes(assignorNameOf(p.serverAssignor) as AssignorName)) {
    fail(ErrorCode.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${p.serverAssignor} is not supported. Supported assignors: ${configuredAssignors(rt).join(', ')}.`);
  }
}

/** The consumer group of a heartbeat; an empty classic group becomes one when a member joins. */
function consumerGroupFor(rt: GroupRuntime, p: ConsumerHeartbeatParams): { group: ClassicGroup; state: ConsumerGroupState } {
  let group = rt.groups.get(p.groupId);
  if (group && !group.consumer) {
    const emptyClassic = group.is('Empty') && group.size === 0 && group.pendingMembers.size === 0;
    if (!emptyClassic) fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a consumer group.`);
    if (p.memberEpoch !== 0) fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
    group.consumer = new ConsumerGroupState();
  }
  if (!group) {
    if (p.memberEpoch !== 0) fail(ErrorCode.UNKNOWN_MEMBER_ID, `Consumer group ${p.groupId} not found.`);
    group = rt.getOrCreateGroup(p.groupId);
    group.consumer = new ConsumerGroupState();
  }
  return { group, state: group.consumer! };
}

function compileRegex(source: string): RegExp {
  try {
    // Kafka uses RE2J and matches the whole name; JavaScript's RegExp is close enough for the
    // patterns clients send (anchored here to match the whole name as Java's Pattern.matches).
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    return fail(ErrorCode.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex ${source} is not a valid regular expression: ${(err as Error).message}`);
  }
}

/** The epoch checks of Kafka's throwIfMemberEpochIsInvalid. */
function checkEpoch(member: ConsumerMember, received: number, owned: Assignment | null): void {
  if (received > member.memberEpoch) {
    fail(ErrorCode.FENCED_MEMBER_EPOCH, `The consumer group member has a greater member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`);
  }
  if (received < member.memberEpoch) {
    // The member may have missed the answer that moved it to its current epoch: accepted if
    // what it owns is still within its assignment.
    if (received !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assigned)) {
      fail(ErrorCode.FENCED_MEMBER_EPOCH, `The consumer group member has a smaller member epoch (${received}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`);
    }
  }
}

export async function consumerGroupHeartbeat(rt: GroupRuntime, p: ConsumerHeartbeatParams): Promise<ConsumerHeartbeatResult> {
  const interval = rt.settings.consumerHeartbeatIntervalMs;
  const error = (code: number, message: string | null): ConsumerHeartbeatResult => ({
    errorCode: code,
    errorMessage: message,
    memberId: null,
    memberEpoch: 0,
    heartbeatIntervalMs: 0,
    assignment: null,
  });
  const unavailable = p.groupId ? rt.coordinatorError(p.groupId) : 0;
  if (unavailable) return error(unavailable, null);
  let epochBefore = -1;
  let group: ClassicGroup | null = null;
  let result: ConsumerHeartbeatResult;
  try {
    validate(rt, p);
    if (p.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      const g = rt.groups.get(p.groupId);
      const state = g?.consumer;
      if (!g || !state) return error(ErrorCode.UNKNOWN_MEMBER_ID, `Consumer group ${p.groupId} not found.`);
      group = g;
      epochBefore = state.groupEpoch;
      result = leave(rt, g, state, p);
    } else {
      const found = consumerGroupFor(rt, p);
      group = found.group;
      epochBefore = found.state.groupEpoch;
      result = heartbeatMember(rt, found.group, found.state, p, interval);
    }
  } catch (err) {
    if (err instanceof HeartbeatError) return error(err.code, err.message);
    throw err;
  }
  if (group?.consumer && group.consumer.groupEpoch !== epochBefore) await persistEpoch(rt, group);
  return result;
}

function heartbeatMember(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, p: ConsumerHeartbeatParams, interval: number): ConsumerHeartbeatResult {
  const owned = p.ownedTopicPartitions === null ? null : toAssignment(p.ownedTopicPartitions);
  let member = state.members.get(p.memberId);
  let bump = false;
  let replaced = false;
  if (p.memberEpoch === 0) {
    if (p.instanceId !== null) {
      const previousId = state.staticMembers.get(p.instanceId);
      const previous = previousId !== undefined ? state.members.get(previousId) : undefined;
      if (previous && previous.memberId !== p.memberId) {
        if (previous.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          fail(ErrorCode.UNRELEASED_INSTANCE_ID, `Static member ${previous.memberId} with instance id ${p.instanceId} is not released yet.`);
        }
        // The static member comes back under a new member id: it takes over its old place.
        member = new ConsumerMember(p.memberId, p.instanceId, p.clientId, p.clientHost);
        member.memberEpoch = previous.previousMemberEpoch;
        member.previousMemberEpoch = previous.previousMemberEpoch;
        member.assigned = previous.assigned;
        member.pendingRevocation = previous.pendingRevocation;
        member.state = previous.state;
        member.subscribedTopicNames = previous.subscribedTopicNames;
        member.subscribedTopicRegex = previous.subscribedTopicRegex;
        member.compiledRegex = previous.compiledRegex;
        member.serverAssignor = previous.serverAssignor;
        const target = state.target.get(previous.memberId);
        disarm(rt, previous);
        state.removeMember(previous);
        state.addMember(member);
        if (target) state.target.set(member.memberId, target);
        state.reconcile(member, null);
        replaced = true;
      }
    }
    if (!member) {
      if (state.members.size >= rt.settings.consumerMaxSize) fail(ErrorCode.GROUP_MAX_SIZE_REACHED, `The consumer group has reached its maximum capacity of ${rt.settings.consumerMaxSize} members.`);
      member = new ConsumerMember(p.memberId || cryptoMemberId(), p.instanceId, p.clientId, p.clientHost);
      state.addMember(member);
      bump = true;
    } else if (!replaced) {
      // A known member joining again (it was fenced, or lost an answer): it dropped everything.
      state.resetMember(member);
      bump = true;
    }
  } else {
    if (!member) fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
    checkEpoch(member!, p.memberEpoch, owned);
  }
  const m = member!;
  m.clientId = p.clientId;
  m.clientHost = p.clientHost;
  if (p.rackId !== null) m.rackId = p.rackId;
  if (p.rebalanceTimeoutMs !== -1) m.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
  // Names and regex are two parts of one subscription (the member gets the union); each is sent
  // when it changes, and an empty regex is none (librdkafka sends names with regex "").
  if (p.subscribedTopicNames !== null) {
    const names = [...new Set(p.subscribedTopicNames)].sort();
    if (names.join('\u0000') !== m.subscribedTopicNames.join('\u0000')) bump = true;
    m.subscribedTopicNames = names;
  }
  if (p.subscribedTopicRegex !== null) {
    const regex = p.subscribedTopicRegex === '' ? null : p.subscribedTopicRegex;
    if (regex !== m.subscribedTopicRegex) bump = true;
    m.compiledRegex = regex === null ? null : compileRegex(regex);
    m.subscribedTopicRegex = regex;
  }
  if (p.serverAssignor !== null && p.serverAssignor !== m.serverAssignor) {
    m.serverAssignor = p.serverAssignor;
    bump = true;
  }
  const topics = topicsView(rt);
  if (!bump && state.computeMetadataKey(topics) !== state.metadataKey) bump = true;
  if (bump) {
    state.groupEpoch++;
    state.computeTarget(topics, configuredAssignors(rt));
    rt.log.info(`Consumer group ${group.groupId} moved to epoch ${state.groupEpoch} (assignor ${state.assignor}, ${state.members.size} members)`);
  }
  const assignedBefore = m.assigned;
  const epochBefore = m.memberEpoch;
  state.reconcile(m, owned);
  armSession(rt, group, state, m);
  armRevocation(rt, group, state, m);
  const send = p.memberEpoch === 0 || !assignmentEquals(assignedBefore, m.assigned) || epochBefore !== m.memberEpoch || (owned !== null && !assignmentEquals(owned, m.assigned));
  return {
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    memberId: m.memberId,
    memberEpoch: m.memberEpoch,
    heartbeatIntervalMs: rt.settings.consumerHeartbeatIntervalMs || interval,
    assignment: send ? { topicPartitions: assignmentList(m.assigned) } : null,
  };
}

function cryptoMemberId(): string {
  // v0: the coordinator names the member (Kafka: a random Uuid in base64).
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
}

function leave(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, p: ConsumerHeartbeatParams): ConsumerHeartbeatResult {
  let member = state.members.get(p.memberId);
  if (!member && p.instanceId !== null) {
    const id = state.staticMembers.get(p.instanceId);
    member = id !== undefined ? state.members.get(id) : undefined;
    if (member) fail(ErrorCode.FENCED_INSTANCE_ID, `Static member ${p.memberId} with instance id ${p.instanceId} was replaced by ${member.memberId}.`);
  }
  if (!member) fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
  const m = member!;
  if (p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    // A static member stepping out briefly keeps its partitions until its session times out.
    m.previousMemberEpoch = m.memberEpoch >= 0 ? m.memberEpoch : m.previousMemberEpoch;
    m.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
    armSession(rt, group, state, m);
  } else {
    removeMember(rt, group, state, m, 'the member left the group');
  }
  return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: p.memberId, memberEpoch: p.memberEpoch, heartbeatIntervalMs: 0, assignment: null };
}

function disarm(rt: GroupRuntime, m: ConsumerMember): void {
  rt.cancel(m.sessionTimer);
  rt.cancel(m.revocationTimer);
  m.sessionTimer = null;
  m.revocationTimer = null;
}

/** Removes a member, moves the group to a new epoch and recomputes the target. */
function removeMember(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, m: ConsumerMember, reason: string): void {
  disarm(rt, m);
  state.removeMember(m);
  state.groupEpoch++;
  state.computeTarget(topicsView(rt), configuredAssignors(rt));
  if (state.members.size === 0) group.currentStateTimestamp = rt.now();
  rt.log.info(`Member ${m.memberId} removed from consumer group ${group.groupId} (${reason}); group epoch ${state.groupEpoch}`);
}

function armSession(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, m: ConsumerMember): void {
  rt.cancel(m.sessionTimer);
  m.sessionTimer = rt.schedule(() => {
    if (state.members.get(m.memberId) !== m || group.consumer !== state) return;
    removeMember(rt, group, state, m, `its session timed out after ${rt.settings.consumerSessionTimeoutMs} ms`);
    void persistEpoch(rt, group);
  }, rt.settings.consumerSessionTimeoutMs);
}

/** A member that does not give up its revoked partitions within its rebalance timeout is fenced. */
function armRevocation(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, m: ConsumerMember): void {
  if (m.state !== 'UNREVOKED_PARTITIONS') {
    rt.cancel(m.revocationTimer);
    m.revocationTimer = null;
    return;
  }
  if (m.revocationTimer !== null) return;
  m.revocationTimer = rt.schedule(() => {
    m.revocationTimer = null;
    if (state.members.get(m.memberId) !== m || m.state !== 'UNREVOKED_PARTITIONS') return;
    removeMember(rt, group, state, m, `it did not revoke its partitions within its rebalance timeout of ${m.rebalanceTimeoutMs} ms`);
    void persistEpoch(rt, group);
  }, m.rebalanceTimeoutMs);
}

/** ConsumerGroupMetadata record: the group epoch survives a restart (members rejoin above it). */
async function persistEpoch(rt: GroupRuntime, group: ClassicGroup): Promise<void> {
  const state = group.consumer;
  if (!state) return;
  try {
    await rt.write(group.groupId, [{ key: consumerGroupMetadataKey(group.groupId), value: consumerGroupMetadataValue(state.groupEpoch) }], () => undefined);
  } catch (err) {
    rt.log.warn(`Failed to store the epoch of consumer group ${group.groupId}: ${(err as Error).message}`);
  }
}

/**
 * OffsetCommit's member check for a consumer group (Kafka's ConsumerGroup.validateOffsetCommit):
 * 0 = go ahead.
 */
export function consumerCommitError(state: ConsumerGroupState, memberId: string, memberEpoch: number, apiVersion: number): number {
  if (memberEpoch < 0 && memberId === '' && state.members.size === 0) return ErrorCode.NONE;
  if (memberEpoch < 0 && state.members.size === 0) return ErrorCode.NONE;
  const member = state.members.get(memberId);
  if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
  if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
  return ErrorCode.NONE;
}

/** OffsetFetch v9+'s member check (Kafka's validateOffsetFetch): 0 = go ahead. */
export function consumerFetchError(state: ConsumerGroupState, memberId: string | null, memberEpoch: number): number {
  if (memberEpoch < 0 && (memberId === null || memberId === '')) return ErrorCode.NONE;
  const member = state.members.get(memberId ?? '');
  if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
  return ErrorCode.NONE;
}

/** Closes the consumer groups' timers (coordinator shutdown). */
export function stopConsumerGroups(rt: GroupRuntime): void {
  for (const group of rt.groups.values()) for (const m of group.consumer?.members.values() ?? []) disarm(rt, m);
}
