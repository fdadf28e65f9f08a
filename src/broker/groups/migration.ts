// Online conversion between a classic group and a KIP-848 consumer group, as Kafka 4.4's
// GroupMetadataManager does it under group.consumer.migration.policy:
//   upgrade   - the first ConsumerGroupHeartbeat (epoch 0) to a classic group with members, using the
//               consumer embedded protocol, turns it into a consumer group. Each classic member
//               becomes a member speaking the classic protocol inside it, at the group's generation
//               as its epoch, owning what its last SyncGroup gave it; the group epoch and the
//               assignment epoch start at the generation.
//   downgrade - when the last member speaking the consumer protocol leaves (or is fenced) and only
//               classic members remain, the group becomes a classic group again at the group epoch
//               as its generation, each member holding its target assignment, and a rebalance starts.
// Empty groups convert either way whatever the policy (consumer-heartbeat.ts and join.ts do that).
// In __consumer_offsets the old type's records are tombstoned before the new type's are written,
// so a restart brings back the type the group had last.
import { decodeConsumerAssignment, decodeConsumerSubscription, encodeConsumerAssignment } from '../../protocol/codec/frames.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { Assignment } from './assignors.js';
import { ConsumerGroupState, ConsumerMember } from './consumer-group.js';
import { ConsumerRecordType, consumerGroupKey } from './consumer-records.js';
import type { ClassicGroup } from './group.js';
import { MemberMetadata } from './member.js';
import { groupTombstone, storeGroup } from './persistence.js';
import { invokeJoin, invokeSync, joinError, prepareRebalance, scheduleHeartbeatExpiry } from './rebalance.js';
import type { GroupRuntime } from './runtime.js';
import type { CoordinatorRecord } from './store.js';
import { CONSUMER_PROTOCOL_TYPE } from './types.js';

/** A conversion Kafka refuses: the request is answered with this code and message. */
export class ConversionRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Topic names -> topic ids, for the partitions of topics that exist (Kafka drops the others). */
export function assignmentByTopicId(rt: GroupRuntime, byName: readonly { topic: string; partitions: number[] }[] | null | undefined): Assignment {
  const out: Assignment = new Map();
  for (const t of byName ?? []) {
    const id = rt.topics?.get(t.topic)?.topicId;
    if (!id) continue;
    let s = out.get(id);
    if (!s) out.set(id, (s = new Set()));
    for (const p of t.partitions) s.add(p);
  }
  return out;
}

/** An assignment as a classic member receives it: ConsumerProtocolAssignment in the version of its subscription. */
export function encodeClassicAssignment(rt: GroupRuntime, a: Assignment, subscription: Buffer): Buffer {
  const version = subscription.length >= 2 ? Math.max(0, Math.min(subscription.readInt16BE(0), 3)) : 0;
  const assignedPartitions = [...a]
    .filter(([, s]) => s.size > 0)
    .map(([topicId, s]) => ({ topic: rt.topics?.getById?.(topicId)?.name ?? '', partitions: [...s].sort((x, y) => x - y) }))
    .filter((t) => t.topic !== '');
  return encodeConsumerAssignment(version, { assignedPartitions, userData: null });
}

export interface ClassicSubscription {
  topics: string[];
  rackId: string | null;
  ownedPartitions: { topic: string; partitions: number[] }[];
}

/** A JoinGroup protocol's metadata as the consumer protocol's subscription; throws on bad bytes. */
export function decodeSubscription(metadata: Buffer): ClassicSubscription {
  const s = decodeConsumerSubscription(metadata);
  return { topics: s.topics ?? [], rackId: s.rackId ?? null, ownedPartitions: s.ownedPartitions ?? [] };
}

/** Kafka's validateOnlineUpgrade: throws ConversionRefused (GROUP_ID_NOT_FOUND) when the policy or the group says no. */
function validateOnlineUpgrade(rt: GroupRuntime, group: ClassicGroup): void {
  const id = group.groupId;
  if (!rt.settings.consumerMigration.upgrade) {
    throw new ConversionRefused(ErrorCode.GROUP_ID_NOT_FOUND, `Cannot upgrade classic group ${id} to consumer group because online upgrade is disabled.`);
  }
  if (group.protocolType !== CONSUMER_PROTOCOL_TYPE) {
    throw new ConversionRefused(ErrorCode.GROUP_ID_NOT_FOUND, `Cannot upgrade classic group ${id} to consumer group because the group does not use the consumer embedded protocol.`);
  }
  if (group.size > rt.settings.consumerMaxSize) {
    throw new ConversionRefused(ErrorCode.GROUP_ID_NOT_FOUND, `Cannot upgrade classic group ${id} to consumer group because the group size exceeds the consumer group maximum size.`);
  }
}

/**
 * Turns a classic group with members into a consumer group (the caller then handles the
 * heartbeat that asked for it). Throws ConversionRefused and changes nothing when Kafka refuses.
 */
export function upgradeToConsumerGroup(rt: GroupRuntime, group: ClassicGroup): ConsumerGroupState {
  validateOnlineUpgrade(rt, group);
  const id = group.groupId;
  // The joining member would not fit: Kafka converts, refuses the member and drops the conversion
  // with the failed request, so the group stays classic.
  if (group.size >= rt.settings.consumerMaxSize) {
    throw new ConversionRefused(ErrorCode.GROUP_MAX_SIZE_REACHED, `The consumer group has reached its maximum capacity of ${rt.settings.consumerMaxSize} members.`);
  }
  const state = new ConsumerGroupState();
  state.groupEpoch = group.generationId;
  state.assignmentEpoch = group.generationId;
  state.assignmentTimestamp = rt.now();
  // Read every member first: a malformed one leaves the classic group as it was.
  const converted: ConsumerMember[] = [];
  for (const cm of group.members.values()) {
    let assigned: Assignment = new Map();
    let subscription: ClassicSubscription;
    try {
      if (cm.assignment.length > 0) {
        const a = decodeConsumerAssignment(cm.assignment);
        if (a.userData && a.userData.length > 0) {
          throw new ConversionRefused(
            ErrorCode.GROUP_ID_NOT_FOUND,
            `Cannot upgrade classic group ${id} to consumer group because an unsupported custom assignor is in use. Please refer to the documentation or switch to a default assignor before re-attempting the upgrade.`,
          );
        }
        assigned = assignmentByTopicId(rt, a.assignedPartitions);
      }
      subscription = decodeSubscription(cm.metadataFor(group.protocolName ?? cm.protocols[0]?.name ?? null));
    } catch (err) {
      if (err instanceof ConversionRefused) throw err;
      throw new ConversionRefused(ErrorCode.GROUP_ID_NOT_FOUND, `Cannot upgrade classic group ${id} to consumer group because the embedded consumer protocol is malformed.`);
    }
    const m = new ConsumerMember(cm.memberId, cm.groupInstanceId, cm.clientId, cm.clientHost);
    m.memberEpoch = group.generationId;
    m.previousMemberEpoch = group.generationId;
    m.rackId = subscription.rackId;
    m.rebalanceTimeoutMs = cm.rebalanceTimeoutMs;
    m.subscribedTopicNames = [...new Set(subscription.topics)].sort();
    m.assigned = assigned;
    for (const [topicId, parts] of assigned) for (const p of parts) m.assignedEpochs.set(`${topicId}:${p}`, group.generationId);
    m.classic = { sessionTimeoutMs: cm.sessionTimeoutMs, protocols: cm.protocols.map((p) => ({ name: p.name, metadata: p.metadata })) };
    converted.push(m);
  }
  // Members waiting in a rebalance of the classic group rejoin the consumer group.
  for (const cm of group.members.values()) {
    invokeJoin(cm, joinError(cm.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    invokeSync(group, cm, ErrorCode.REBALANCE_IN_PROGRESS);
    rt.disarmHeartbeat(cm);
  }
  for (const timer of group.pendingMembers.values()) rt.cancel(timer);
  rt.cancel(group.joinTimer);
  rt.cancel(group.syncTimer);
  group.clearMembers(rt.now());
  for (const m of converted) {
    state.addMember(m);
    state.target.set(m.memberId, cloneAssignment(m.assigned));
  }
  state.restoreOwners();
  group.consumer = state;
  // The classic record goes first: the consumer group's records follow it (persistConsumerGroup).
  rt.write(id, [groupTombstone(id)], () => undefined).catch((err) => rt.log.warn(`Failed to remove the classic group record of ${id}: ${(err as Error).message}`));
  rt.log.info(`[GroupId ${id}] Converted the classic group to a consumer group (${converted.length} classic members, epoch ${state.groupEpoch}).`);
  return state;
}

function cloneAssignment(a: Assignment): Assignment {
  return new Map([...a].map(([t, s]) => [t, new Set(s)]));
}

/** Kafka's validateOnlineDowngradeWithFencedMembers: may the group become classic once `leaving` is gone? */
export function canDowngrade(rt: GroupRuntime, groupId: string, state: ConsumerGroupState, leaving: ConsumerMember): boolean {
  if (leaving.classic !== null) return false;
  const remaining = [...state.members.values()].filter((m) => m !== leaving);
  if (remaining.length === 0 || remaining.some((m) => m.classic === null)) return false;
  if (!rt.settings.consumerMigration.downgrade) {
    rt.log.info(`Cannot downgrade consumer group ${groupId} to classic group because the online downgrade is disabled.`);
    return false;
  }
  if (remaining.length > rt.settings.maxSize) {
    rt.log.info(`Cannot downgrade consumer group ${groupId} to classic group because its group size is greater than classic group max size.`);
    return false;
  }
  return true;
}

/**
 * Turns the consumer group into a classic group without `leaving` (checked with canDowngrade
 * first): its records are tombstoned, the classic group's record is written, and a rebalance
 * starts so the members rejoin as classic members. Resolves once the records are written.
 */
export function downgradeToClassicGroup(rt: GroupRuntime, group: ClassicGroup, state: ConsumerGroupState, leaving: ConsumerMember): Promise<void> {
  const id = group.groupId;
  const records: CoordinatorRecord[] = [];
  // Every record the consumer group has: member records first, then the group's own.
  const groupLevel = new Set([consumerGroupKey(ConsumerRecordType.TargetAssignmentMetadata, id).toString('hex'), consumerGroupKey(ConsumerRecordType.GroupMetadata, id).toString('hex')]);
  for (const keyHex of state.persisted.keys()) if (!groupLevel.has(keyHex)) records.push({ key: Buffer.from(keyHex, 'hex'), value: null });
  records.push({ key: consumerGroupKey(ConsumerRecordType.TargetAssignmentMetadata, id), value: null });
  records.push({ key: consumerGroupKey(ConsumerRecordType.GroupMetadata, id), value: null });
  const now = rt.now();
  group.consumer = null;
  group.clearMembers(now);
  group.generationId = state.groupEpoch;
  for (const m of state.members.values()) {
    if (m === leaving || m.classic === null) continue;
    group.add(new MemberMetadata(m.memberId, m.instanceId, m.clientId, m.clientHost, m.rebalanceTimeoutMs, m.classic.sessionTimeoutMs, CONSUMER_PROTOCOL_TYPE, m.classic.protocols));
  }
  group.protocolType = CONSUMER_PROTOCOL_TYPE;
  group.protocolName = group.selectProtocol();
  group.subscribedTopics = group.computeSubscribedTopics();
  for (const cm of group.members.values()) {
    cm.assignment = encodeClassicAssignment(rt, state.target.get(cm.memberId) ?? new Map(), cm.metadataFor(group.protocolName));
  }
  // Kafka's converted group starts Stable, then rebalances at once: the members learn it from their next heartbeat.
  group.state = 'Stable';
  group.currentStateTimestamp = now;
  rt.write(id, records, () => undefined).catch((err) => rt.log.warn(`Failed to remove the consumer group records of ${id}: ${(err as Error).message}`));
  const written = storeGroup(rt, group, new Map()).catch((err) => rt.log.warn(`Failed to write the classic group record of ${id}: ${(err as Error).message}`));
  for (const cm of group.members.values()) scheduleHeartbeatExpiry(rt, group, cm);
  prepareRebalance(rt, group, `Downgrade group ${id} from consumer to classic for member leaving.`);
  rt.log.info(`[GroupId ${id}] Converted the consumer group to a classic group (generation ${group.generationId}, ${group.size} members).`);
  return written;
}
