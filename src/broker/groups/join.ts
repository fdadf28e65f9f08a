// JoinGroup, as Kafka's classic coordinator handles it: new members (with the MEMBER_ID_REQUIRED
// round trip from v4), known members rejoining, static members (group.instance.id) replacing their
// previous incarnation, and group.max.size. The answer is parked until the join phase completes.
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../../protocol/errors.js';
import { classicJoinToConsumerGroup } from './classic-members.js';
import { consumerGroupTombstones } from './consumer-persistence.js';
import type { ClassicGroup } from './group.js';
import { MemberMetadata } from './member.js';
import { storeGroup } from './persistence.js';
import {
  invokeJoin,
  invokeSync,
  joinError,
  maybeForgetGroup,
  maybePrepareRebalance,
  removeMemberAndUpdateGroup,
  removePendingMember,
  scheduleHeartbeatExpiry,
  tryCompleteJoin,
} from './rebalance.js';
import type { GroupRuntime } from './runtime.js';
import { NEW_MEMBER_JOIN_TIMEOUT_MS, type JoinGroupParams, type JoinGroupResult } from './types.js';

type Respond = (result: JoinGroupResult) => void;

export function joinGroup(rt: GroupRuntime, p: JoinGroupParams): Promise<JoinGroupResult> {
  return new Promise((resolve) => {
    let answered = false;
    const respond: Respond = (r) => {
      if (answered) return;
      answered = true;
      resolve(r);
    };
    try {
      doJoin(rt, p, respond);
    } catch (err) {
      rt.log.error(`JoinGroup of group ${p.groupId} failed: ${(err as Error).stack ?? err}`);
      respond(joinError(p.memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
    }
  });
}

function doJoin(rt: GroupRuntime, p: JoinGroupParams, respond: Respond): void {
  if (!p.groupId) return respond(joinError(p.memberId, ErrorCode.INVALID_GROUP_ID));
  const unavailable = rt.coordinatorError(p.groupId);
  if (unavailable) return respond(joinError(p.memberId, unavailable));
  if (p.sessionTimeoutMs < rt.settings.minSessionTimeoutMs || p.sessionTimeoutMs > rt.settings.maxSessionTimeoutMs) {
    return respond(joinError(p.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
  }
  const metadataBytes = protocolsSize(p.protocols);
  if (metadataBytes > rt.settings.memberMetadataMaxBytes) {
    // Refused before any group or member exists for it, on every path (new, rejoining, static).
    rt.log.warn(
      `JoinGroup of ${p.memberId || 'a new member'} (client ${p.clientId}) to group ${p.groupId} refused: its protocols take ${metadataBytes} bytes, more than kts.group.member.metadata.max.bytes ${rt.settings.memberMetadataMaxBytes}`,
    );
    return respond(joinError(p.memberId, ErrorCode.MESSAGE_TOO_LARGE));
  }
  const isUnknownMember = p.memberId === '';
  let group = rt.groups.get(p.groupId);
  let created = false;
  if (!group) {
    if (!isUnknownMember) return respond(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    group = rt.getOrCreateGroup(p.groupId);
    created = true;
  }
  if (group.consumer) {
    // A KIP-848 consumer group: a classic member joins a live one as a member speaking the classic
    // protocol inside it (classic-members.ts; whatever the migration policy, as Kafka); an empty
    // one becomes a classic group.
    if (group.consumer.members.size > 0) {
      classicJoinToConsumerGroup(rt, group, group.consumer, p).then(respond, (err) => {
        rt.log.error(`JoinGroup of group ${p.groupId} failed: ${(err as Error).stack ?? err}`);
        respond(joinError(p.memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
      });
      return;
    }
    group.consumer = null;
    // Its consumer-group records go, so that a restart does not bring the old type back.
    const groupId = group.groupId;
    rt.write(groupId, consumerGroupTombstones(groupId), () => undefined).catch((err) => rt.log.warn(`Failed to remove consumer group records of ${groupId}: ${(err as Error).message}`));
  }
  if (!acceptJoiningMember(rt, group, p.memberId)) {
    const member = group.get(p.memberId);
    if (member) removeMemberAndUpdateGroup(rt, group, member, `member ${p.memberId} refused: group is full`);
    else removePendingMember(rt, group, p.memberId);
    respond(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
  } else if (isUnknownMember) {
    doNewMemberJoin(rt, group, p, respond);
  } else {
    doCurrentMemberJoin(rt, group, p, respond);
  }
  if (group.is('PreparingRebalance')) tryCompleteJoin(rt, group);
  // Kafka 4.x's coordinator commits a group it creates with a record of it as it stands, without
  // members (Kafka 3.9's wrote nothing until the first SyncGroup).
  if (created && !rt.settings.kafka39Records && !group.consumer) {
    const groupId = group.groupId;
    storeGroup(rt, group, new Map(), { withoutMembers: true }).catch((err) => rt.log.warn(`Failed to write empty metadata for group ${groupId}: ${(err as Error).message}`));
  }
  maybeForgetGroup(rt, group);
}

/**
 * What a member's protocols take as JoinGroup encodes them (name and metadata with their lengths):
 * this is what the coordinator would hold for the member, so it is what the cap counts. Kafka has
 * no such cap: it holds whatever fits in socket.request.max.bytes and fails only at SyncGroup, when
 * the group's record is larger than __consumer_offsets accepts (UNKNOWN_SERVER_ERROR, as a
 * MESSAGE_TOO_LARGE append is mapped). Refusing at once, with the append's own error, says why.
 */
function protocolsSize(protocols: readonly { name: string; metadata: Buffer }[]): number {
  let total = 0;
  for (const p of protocols) total += 2 + Buffer.byteLength(p.name, 'utf8') + 4 + p.metadata.length;
  return total;
}

/** group.max.size: a full group takes no new members (rejoining members are always welcome). */
function acceptJoiningMember(rt: GroupRuntime, group: ClassicGroup, memberId: string): boolean {
  const max = rt.settings.maxSize;
  switch (group.state) {
    case 'Empty':
    case 'Dead':
      return true;
    case 'PreparingRebalance':
      return (group.get(memberId)?.isAwaitingJoin ?? false) || group.numMembersAwaitingJoin() < max;
    case 'CompletingRebalance':
    case 'Stable':
      return group.has(memberId) || group.size < max;
  }
}

function doNewMemberJoin(rt: GroupRuntime, group: ClassicGroup, p: JoinGroupParams, respond: Respond): void {
  if (group.is('Dead')) return respond(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
  if (!group.supportsProtocols(p.protocolType, p.protocols)) return respond(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
  const newMemberId = `${p.groupInstanceId ?? p.clientId}-${randomUUID()}`;
  if (p.groupInstanceId !== null) {
    const oldMemberId = group.staticMemberId(p.groupInstanceId);
    if (oldMemberId === undefined) addMemberAndRebalance(rt, group, p, newMemberId, respond);
    else updateStaticMemberAndRebalance(rt, group, p, oldMemberId, newMemberId, respond);
  } else if (p.requireKnownMemberId) {
    // KIP-394: hand out the id first, so a client that times out does not leave a ghost member.
    const timer = rt.schedule(() => removePendingMember(rt, group, newMemberId), p.sessionTimeoutMs);
    group.pendingMembers.set(newMemberId, timer);
    respond(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
  } else {
    addMemberAndRebalance(rt, group, p, newMemberId, respond);
  }
}

function doCurrentMemberJoin(rt: GroupRuntime, group: ClassicGroup, p: JoinGroupParams, respond: Respond): void {
  const memberId = p.memberId;
  if (group.is('Dead')) return respond(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
  if (!group.supportsProtocols(p.protocolType, p.protocols)) return respond(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
  if (group.pendingMembers.has(memberId)) {
    rt.cancel(group.pendingMembers.get(memberId));
    group.pendingMembers.delete(memberId);
    return addMemberAndRebalance(rt, group, p, memberId, respond);
  }
  if (group.isStaticMemberFenced(p.groupInstanceId, memberId)) return respond(joinError(memberId, ErrorCode.FENCED_INSTANCE_ID));
  const member = group.get(memberId);
  const instanceUnknown = p.groupInstanceId !== null && group.staticMemberId(p.groupInstanceId) === undefined;
  if (!member || instanceUnknown) return respond(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
  switch (group.state) {
    case 'PreparingRebalance':
      return updateMemberAndRebalance(rt, group, member, p, respond);
    case 'CompletingRebalance':
      // Same metadata: the member probably lost our answer; repeat it.
      if (member.matches(p.protocols)) return respond(currentGeneration(group, memberId, group.isLeader(memberId)));
      return updateMemberAndRebalance(rt, group, member, p, respond);
    case 'Stable':
      // A leader rejoining, or a member with new metadata (new subscription), asks for a rebalance.
      if (group.isLeader(memberId) || !member.matches(p.protocols)) return updateMemberAndRebalance(rt, group, member, p, respond);
      return respond(currentGeneration(group, memberId, false));
    case 'Empty':
    case 'Dead':
      return respond(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
  }
}

function currentGeneration(group: ClassicGroup, memberId: string, withMembers: boolean): JoinGroupResult {
  return {
    errorCode: ErrorCode.NONE,
    generationId: group.generationId,
    protocolType: group.protocolType,
    protocolName: group.protocolName,
    leader: group.leaderId ?? '',
    memberId,
    skipAssignment: false,
    members: withMembers ? group.currentMemberMetadata() : [],
  };
}

function addMemberAndRebalance(rt: GroupRuntime, group: ClassicGroup, p: JoinGroupParams, memberId: string, respond: Respond): void {
  const member = new MemberMetadata(memberId, p.groupInstanceId, p.clientId, p.clientHost, p.rebalanceTimeoutMs, p.sessionTimeoutMs, p.protocolType, p.protocols);
  member.isNew = true;
  // A member arriving while a new group waits out its initial delay extends the wait.
  if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
  group.add(member, respond);
  // A new member cannot heartbeat before it has a generation; drop it if it never completes a join.
  scheduleHeartbeatExpiry(rt, group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
  maybePrepareRebalance(rt, group, `Adding new member ${memberId} with group instance id ${p.groupInstanceId ?? 'None'}; client reason: ${p.reason ?? 'not provided'}`);
}

function updateMemberAndRebalance(rt: GroupRuntime, group: ClassicGroup, member: MemberMetadata, p: JoinGroupParams, respond: Respond): void {
  // A second JoinGroup replaces one still parked (the client gave up on the first).
  invokeJoin(member, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
  group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, respond);
  maybePrepareRebalance(rt, group, `Updating metadata for member ${member.memberId} during ${group.state}; client reason: ${p.reason ?? 'not provided'}`);
}

/**
 * A static member rejoining without its member id replaces its previous incarnation, whose parked
 * requests are fenced. In a stable group with an unchanged protocol this needs no rebalance: the
 * new id is persisted and the member keeps its assignment.
 */
function updateStaticMemberAndRebalance(
  rt: GroupRuntime,
  group: ClassicGroup,
  p: JoinGroupParams,
  oldMemberId: string,
  newMemberId: string,
  respond: Respond,
): void {
  const instanceId = p.groupInstanceId!;
  const currentLeader = group.leaderId ?? '';
  const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId, (old) => {
    invokeJoin(old, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    invokeSync(group, old, ErrorCode.FENCED_INSTANCE_ID);
  });
  scheduleHeartbeatExpiry(rt, group, member);
  const old = { protocols: member.protocols, rebalanceTimeoutMs: member.rebalanceTimeoutMs, sessionTimeoutMs: member.sessionTimeoutMs };
  group.updateMember(member, p.protocols, p.rebalanceTimeoutMs, p.sessionTimeoutMs, respond);
  switch (group.state) {
    case 'Stable': {
      if (group.protocolName !== group.selectProtocol()) {
        return maybePrepareRebalance(rt, group, `Group's selected protocol will change because static member ${newMemberId} with instance id ${instanceId} joined with change of protocol`);
      }
      const generation = group.generationId;
      const assignments = new Map([...group.members.values()].map((m) => [m.memberId, m.assignment]));
      storeGroup(rt, group, assignments).then(
        () => {
          const isLeader = group.isLeader(newMemberId);
          invokeJoin(member, {
            errorCode: ErrorCode.NONE,
            generationId: generation,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            // The old leader id, so that a replaced leader does not run a pointless assignment.
            leader: currentLeader,
            memberId: newMemberId,
            skipAssignment: p.supportSkippingAssignment && isLeader,
            members: p.supportSkippingAssignment && isLeader ? group.currentMemberMetadata() : [],
          });
        },
        (err) => {
          rt.log.warn(`Failed to persist static member ${newMemberId} of group ${group.groupId}: ${(err as Error).message}`);
          group.updateMember(member, old.protocols, old.rebalanceTimeoutMs, old.sessionTimeoutMs, null);
          if (group.get(newMemberId) === member) {
            group.replaceStaticMember(instanceId, newMemberId, oldMemberId, () => undefined);
            scheduleHeartbeatExpiry(rt, group, member);
          }
          respond({ ...joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE), generationId: group.generationId, protocolType: group.protocolType, protocolName: group.protocolName, leader: currentLeader });
        },
      );
      return;
    }
    case 'CompletingRebalance':
      // The others already have this generation's metadata: run another round so assignments agree.
      return maybePrepareRebalance(rt, group, `Updating metadata for static member ${newMemberId} with instance id ${instanceId}`);
    case 'PreparingRebalance':
      return; // the member's JoinGroup waits for the join phase like everyone else's
    default:
      respond(joinError(newMemberId, ErrorCode.UNKNOWN_SERVER_ERROR));
  }
}
