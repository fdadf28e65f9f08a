// ConsumerGroupHeartbeat (KIP-848), as Kafka's GroupMetadataManager.consumerGroupHeartbeat: join
// (epoch 0), heartbeats carrying the member epoch, leave (-1), a static member's temporary leave
// (-2); the group epoch moves on membership, subscription or subscribed-topic changes, and then
// the server-side assignor computes a new target. Session timeouts and rebalance (revocation)
// timeouts fence members. Also ConsumerGroupDescribe and the member checks of OffsetCommit/Fetch.
import { ErrorCode } from '../../protocol/errors.js';
import type { ConsumerGroupHeartbeatRequestData, ConsumerGroupHeartbeatResponseData } from '../../protocol/generated/68-consumer-group-heartbeat.js';
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
import { persistConsumerGroup } from './consumer-persistence.js';
import { canDowngrade, ConversionRefused, downgradeToClassicGroup, upgradeToConsumerGroup } from './migration.js';
import { groupTombstone } from './persistence.js';
import type { GroupRuntime } from './runtime.js';

/** The request's fields, and what the handler knows. */
export interface ConsumerHeartbeatParams
  extends Pick<ConsumerGroupHeartbeatRequestData, 'groupId' | 'memberId' | 'memberEpoch' | 'instanceId' | 'rackId' | 'rebalanceTimeoutMs' | 'subscribedTopicNames' | 'subscribedTopicRegex' | 'serverAssignor'> {
  /** The request's topicPartitions: what the member owns (topic id -> partitions); null = unchanged since the last heartbeat. */
  ownedTopicPartitions: ConsumerGroupHeartbeatRequestData['topicPartitions'];
  clientId: string;
  clientHost: string;
  apiVersion: number;
}

export type ConsumerHeartbeatResult = Omit<ConsumerGroupHeartbeatResponseData, 'throttleTimeMs'>;

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

export function configuredAssignors(rt: GroupRuntime): AssignorName[] {
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

/**
 * The consumer group of a heartbeat. A joining member (epoch 0) turns an empty classic group into
 * a consumer group whatever the migration policy, and a classic group with members when the
 * policy allows upgrades (migration.ts).
 */
function consumerGroupFor(rt: GroupRuntime, p: ConsumerHeartbeatParams): { group: ClassicGroup; state: ConsumerGroupState } {
  let group = rt.groups.get(p.groupId);
  if (group && !group.consumer) {
    if (p.memberEpoch !== 0) fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a consumer group.`);
    const emptyClassic = group.is('Empty') && group.size === 0 && group.pendingMembers.size === 0;
    if (emptyClassic) {
      // Its classic record (if any) goes: the group is a consumer group from now on, offsets kept.
      if (group.generationId > 0 || group.protocolType !== null) {
        const id = group.groupId;
        rt.write(id, [groupTombstone(id)], () => undefined).catch((err) => rt.log.warn(`Failed to remove the classic group record of ${id}: ${(err as Error).message}`));
      }
      group.consumer = new ConsumerGroupState();
      rt.log.info(`[GroupId ${group.groupId}] Converted the empty classic group to a consumer group.`);
    } else {
      group.consumer = upgradeToConsumerGroup(rt, group);
      for (const m of group.consumer.members.values()) armSession(rt, group, group.consumer, m);
    }
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
  let group: ClassicGroup | null = null;
  let result: ConsumerHeartbeatResult;
  try {
    validate(rt, p);
    if (p.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      const g = rt.groups.get(p.groupId);
      const state = g?.consumer;
      if (!g || !state) return error(ErrorCode.UNKNOWN_MEMBER_ID, `Consumer group ${p.groupId} not found.`);
      group = g;
      const left = leave(rt, g, state, p);
      result = left.result;
      // A downgrade wrote the group's new records itself: the answer waits for them.
      if (left.downgraded) {
        await left.downgraded;
        return result;
      }
    } else {
      const found = consumerGroupFor(rt, p);
      group = found.group;
      result = heartbeatMember(rt, found.group, found.state, p, interval);
    }
  } catch (err) {
    if (err instanceof HeartbeatError || err instanceof ConversionRefused) return error(err.code, err.message);
    throw err;
  }
  // As Kafka, the answer waits for the group's changed records to be written.
  if (group) await persistConsumerGroup(rt, group, result.memberId ?? p.memberId);
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
        // A classic member's instance is taken over at once (Kafka checks the release only between consumer-protocol members).
        if (previous.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH && previous.classic === null) {
          fail(ErrorCode.UNRELEASED_INSTANCE_ID, `Static member ${previous.memberId} with instance id ${p.instanceId} is not released yet.`);
        }
        // The static member comes back under a new member id: it takes over its old place.
        member = new ConsumerMember(p.memberId, p.instanceId, p.clientId, p.clientHost);
        member.memberEpoch = previous.previousMemberEpoch;
        member.previousMemberEpoch = previous.previousMemberEpoch;
        member.pendingRevocation = previous.pendingRevocation;
        member.state = previous.state;
        replaceStaticMember(rt, state, previous, member);
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
  // A member heartbeating with ConsumerGroupHeartbeat speaks the consumer protocol.
  if (m.classic !== null) {
    m.classic = null;
    cancelClassicTimers(rt, m);
  }
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
  if (bump) state.groupEpoch++;
  // A member that left moved the group epoch on without a new target (as Kafka): it is computed now.
  if (state.groupEpoch > state.assignmentEpoch) {
    state.computeTarget(topics, configuredAssignors(rt), rt.now());
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

function leave(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, p: ConsumerHeartbeatParams): { result: ConsumerHeartbeatResult; downgraded: Promise<void> | null } {
  let member = state.members.get(p.memberId);
  if (!member && p.instanceId !== null) {
    const id = state.staticMembers.get(p.instanceId);
    member = id !== undefined ? state.members.get(id) : undefined;
    if (member) fail(ErrorCode.FENCED_INSTANCE_ID, `Static member ${p.memberId} with instance id ${p.instanceId} was replaced by ${member.memberId}.`);
  }
  if (!member) fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
  const m = member!;
  let downgraded: Promise<void> | null = null;
  if (p.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
    // A static member stepping out briefly keeps its partitions until its session times out.
    m.previousMemberEpoch = m.memberEpoch >= 0 ? m.memberEpoch : m.previousMemberEpoch;
    m.memberEpoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
    armSession(rt, group, state, m);
  } else {
    downgraded = fenceMember(rt, group, state, m, 'the member left the group');
  }
  return { result: { errorCode: ErrorCode.NONE, errorMessage: null, memberId: p.memberId, memberEpoch: p.memberEpoch, heartbeatIntervalMs: 0, assignment: null }, downgraded };
}

/**
 * A static member back under a new member id takes over its old place: the subscription, the
 * assignment and the target assignment move to the replacement; the old member's timers stop.
 */
export function replaceStaticMember(rt: GroupRuntime, state: ConsumerGroupState, previous: ConsumerMember, replacement: ConsumerMember): void {
  replacement.subscribedTopicNames = previous.subscribedTopicNames;
  replacement.subscribedTopicRegex = previous.subscribedTopicRegex;
  replacement.compiledRegex = previous.compiledRegex;
  replacement.serverAssignor = previous.serverAssignor;
  replacement.assigned = previous.assigned;
  replacement.assignedEpochs = previous.assignedEpochs;
  const target = state.target.get(previous.memberId);
  disarm(rt, previous);
  state.removeMember(previous);
  state.addMember(replacement);
  if (target) state.target.set(replacement.memberId, target);
}

export function disarm(rt: GroupRuntime, m: ConsumerMember): void {
  rt.cancel(m.sessionTimer);
  rt.cancel(m.revocationTimer);
  m.sessionTimer = null;
  m.revocationTimer = null;
  cancelClassicTimers(rt, m);
}

export function cancelClassicTimers(rt: GroupRuntime, m: ConsumerMember): void {
  rt.cancel(m.joinTimer);
  rt.cancel(m.syncTimer);
  m.joinTimer = null;
  m.syncTimer = null;
}

/**
 * A member leaves or is fenced: when it was the last one speaking the consumer protocol and the
 * policy allows it, the group becomes a classic group again (the promise: its records written);
 * otherwise the member is removed and the group moves to a new epoch (null).
 */
export function fenceMember(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, m: ConsumerMember, reason: string): Promise<void> | null {
  if (!canDowngrade(rt, group.groupId, state, m)) {
    removeMember(rt, group, state, m, reason);
    return null;
  }
  for (const other of state.members.values()) disarm(rt, other);
  rt.log.info(`Member ${m.memberId} left consumer group ${group.groupId} (${reason}); only classic members remain`);
  return downgradeToClassicGroup(rt, group, state, m);
}

/**
 * Removes a member and moves the group to a new epoch; as Kafka, the new target is computed at the
 * next heartbeat or join of a member (the group is Assigning meanwhile).
 */
function removeMember(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, m: ConsumerMember, reason: string): void {
  disarm(rt, m);
  state.removeMember(m);
  state.groupEpoch++;
  // The last member gone: the (empty) target is written with the new epoch at once.
  if (state.members.size === 0) state.computeTarget(topicsView(rt), configuredAssignors(rt), rt.now());
  if (state.members.size === 0) group.currentStateTimestamp = rt.now();
  rt.log.info(`Member ${m.memberId} removed from consumer group ${group.groupId} (${reason}); group epoch ${state.groupEpoch}`);
}

/** The member must heartbeat again within its session (a classic member's own session timeout). */
export function armSession(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, m: ConsumerMember): void {
  rt.cancel(m.sessionTimer);
  const timeoutMs = m.classic?.sessionTimeoutMs ?? rt.settings.consumerSessionTimeoutMs;
  m.sessionTimer = rt.schedule(() => {
    if (state.members.get(m.memberId) !== m || group.consumer !== state) return;
    fenceAndPersist(rt, group, state, m, `its session timed out after ${timeoutMs} ms`);
  }, timeoutMs);
}

/** Fences a member from a timer: the group's records are written afterwards. */
export function fenceAndPersist(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, m: ConsumerMember, reason: string): void {
  if (fenceMember(rt, group, state, m, reason) === null) void persistConsumerGroup(rt, group, null);
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
    fenceAndPersist(rt, group, state, m, `it did not revoke its partitions within its rebalance timeout of ${m.rebalanceTimeoutMs} ms`);
  }, m.rebalanceTimeoutMs);
}

/**
 * OffsetCommit's member check for a consumer group (Kafka's ConsumerGroup.validateOffsetCommit):
 * 0 = go ahead.
 */
export function consumerCommitError(
  state: ConsumerGroupState,
  memberId: string,
  memberEpoch: number,
  apiVersion: number,
  /** The partitions committed: an older epoch commits only those held since then (KIP-1251). */
  partitions: readonly { topicId: string | undefined; partition: number }[],
): number {
  if (memberEpoch < 0 && memberId === '' && state.members.size === 0) return ErrorCode.NONE;
  if (memberEpoch < 0 && state.members.size === 0) return ErrorCode.NONE;
  const member = state.members.get(memberId);
  if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
  // A classic member commits with its generation (its member epoch) at any version.
  if (member.classic === null && apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
  const refused = member.classic !== null ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.STALE_MEMBER_EPOCH;
  if (memberEpoch === member.memberEpoch) return ErrorCode.NONE;
  if (memberEpoch > member.memberEpoch) return refused;
  // KIP-1251: an older epoch still commits the partitions the member held since that epoch.
  const heldSince = (topicId: string | undefined, partition: number) => {
    if (topicId === undefined) return undefined;
    const held = member.assigned.get(topicId)?.has(partition) || member.pendingRevocation.get(topicId)?.has(partition);
    return held ? member.assignedEpochs.get(`${topicId}:${partition}`) : undefined;
  };
  return partitions.every((p) => {
    const since = heldSince(p.topicId, p.partition);
    return since !== undefined && memberEpoch >= since;
  })
    ? ErrorCode.NONE
    : refused;
}

/** OffsetFetch v9+'s member check (Kafka's validateOffsetFetch): 0 = go ahead. */
export function consumerFetchError(state: ConsumerGroupState, memberId: string | null, memberEpoch: number): number {
  if (memberEpoch < 0 && (memberId === null || memberId === '')) return ErrorCode.NONE;
  const member = state.members.get(memberId ?? '');
  if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
  if (memberEpoch !== member.memberEpoch) return member.classic !== null ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.STALE_MEMBER_EPOCH;
  return ErrorCode.NONE;
}

/** Starts the timers of members loaded from the log: as after a heartbeat, they must heartbeat again within their session. */
export function armLoadedMembers(rt: GroupRuntime, group: ClassicGroup): void {
  const state = group.consumer;
  if (!state) return;
  for (const m of state.members.values()) {
    armSession(rt, group, state, m);
    armRevocation(rt, group, state, m);
  }
}

/** Closes the consumer groups' timers (coordinator shutdown). */
export function stopConsumerGroups(rt: GroupRuntime): void {
  for (const group of rt.groups.values()) for (const m of group.consumer?.members.values() ?? []) disarm(rt, m);
}
