// A KIP-848 consumer group in __consumer_offsets, as Kafka 4.4 keeps it (records in
// consumer-records.ts): after each change the group's records are compared with what was last
// written and only the differences are appended, in Kafka's order (member subscription, group
// epoch, target assignments, assignment epoch, current assignment; a member that left gets
// tombstones first). At start the latest record per key rebuilds groups, members, epochs and
// assignments, and the members' session timers start again, so live members carry on.
import type { Assignment } from './assignors.js';
import { ConsumerGroupState, ConsumerMember, type MemberState } from './consumer-group.js';
import {
  ConsumerRecordType,
  consumerGroupKey,
  consumerMemberKey,
  decodeConsumerValue,
  encodeConsumerValue,
  type CurrentMemberAssignmentRecord,
  type MemberMetadataRecord,
  type TopicPartitionsRecord,
} from './consumer-records.js';
import type { ClassicGroup } from './group.js';
import type { GroupRuntime } from './runtime.js';
import type { CoordinatorRecord } from './store.js';

const STATE_IDS: Record<MemberState, number> = { STABLE: 0, UNREVOKED_PARTITIONS: 1, UNRELEASED_PARTITIONS: 2 };
const STATES_BY_ID: MemberState[] = ['STABLE', 'UNREVOKED_PARTITIONS', 'UNRELEASED_PARTITIONS'];
/** Stands in the cache for a record whose write failed: it differs from any value, so it is written again. */
const UNKNOWN = '?';

function partitionsRecord(a: Assignment, epochs?: Map<string, number>, fallbackEpoch = -1): TopicPartitionsRecord[] {
  return [...a]
    .filter(([, s]) => s.size > 0)
    .map(([topicId, s]) => {
      const partitions = [...s].sort((x, y) => x - y);
      const out: TopicPartitionsRecord = { topicId, partitions };
      if (epochs) out.assignmentEpochs = partitions.map((p) => epochs.get(`${topicId}:${p}`) ?? fallbackEpoch);
      return out;
    });
}

function assignmentOf(list: TopicPartitionsRecord[]): Assignment {
  const out: Assignment = new Map();
  for (const t of list) {
    const s = out.get(t.topicId) ?? new Set<number>();
    for (const p of t.partitions) s.add(p);
    out.set(t.topicId, s);
  }
  return out;
}

function memberMetadata(m: ConsumerMember): MemberMetadataRecord {
  return {
    instanceId: m.instanceId,
    rackId: m.rackId,
    clientId: m.clientId,
    clientHost: m.clientHost,
    subscribedTopicNames: m.subscribedTopicNames,
    // Kafka stores "no regex" as an empty string.
    subscribedTopicRegex: m.subscribedTopicRegex ?? '',
    rebalanceTimeoutMs: m.rebalanceTimeoutMs,
    serverAssignor: m.serverAssignor,
    classicMemberMetadata: m.classic && {
      sessionTimeoutMs: m.classic.sessionTimeoutMs,
      supportedProtocols: m.classic.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
    },
  };
}

function currentAssignment(m: ConsumerMember): CurrentMemberAssignmentRecord {
  return {
    memberEpoch: m.memberEpoch,
    previousMemberEpoch: m.previousMemberEpoch,
    state: STATE_IDS[m.state],
    assignedPartitions: partitionsRecord(m.assigned, m.assignedEpochs, m.memberEpoch),
    partitionsPendingRevocation: partitionsRecord(m.pendingRevocation, m.assignedEpochs, m.memberEpoch),
  };
}

interface Desired {
  key: Buffer;
  value: Buffer | null;
}

/** The records the group should have now, in Kafka's order; `members` limits the member records looked at. */
function desiredRecords(groupId: string, state: ConsumerGroupState, members: Iterable<string>): Desired[] {
  const subscriptions: Desired[] = [];
  const targets: Desired[] = [];
  const currents: Desired[] = [];
  const gone: Desired[] = [];
  for (const memberId of members) {
    const m = state.members.get(memberId);
    const keys = [ConsumerRecordType.CurrentMemberAssignment, ConsumerRecordType.TargetAssignmentMember, ConsumerRecordType.MemberMetadata].map((t) =>
      consumerMemberKey(t, groupId, memberId),
    );
    if (!m) {
      // Kafka removes a member by tombstoning its current assignment, target and subscription.
      for (const key of keys) gone.push({ key, value: null });
      continue;
    }
    subscriptions.push({ key: keys[2], value: encodeConsumerValue(ConsumerRecordType.MemberMetadata, memberMetadata(m)) });
    const target = state.target.get(memberId) ?? new Map();
    targets.push({ key: keys[1], value: encodeConsumerValue(ConsumerRecordType.TargetAssignmentMember, { topicPartitions: partitionsRecord(target) }) });
    currents.push({ key: keys[0], value: encodeConsumerValue(ConsumerRecordType.CurrentMemberAssignment, currentAssignment(m)) });
  }
  return [
    ...gone,
    ...subscriptions,
    ...regexRecords(groupId, state),
    { key: consumerGroupKey(ConsumerRecordType.GroupMetadata, groupId), value: encodeConsumerValue(ConsumerRecordType.GroupMetadata, { epoch: state.groupEpoch, metadataHash: 0 }) },
    ...targets,
    {
      key: consumerGroupKey(ConsumerRecordType.TargetAssignmentMetadata, groupId),
      value: encodeConsumerValue(ConsumerRecordType.TargetAssignmentMetadata, { assignmentEpoch: state.assignmentEpoch, assignmentTimestamp: state.assignmentTimestamp }),
    },
    ...currents,
  ];
}

/**
 * A record per regex the members subscribe with (the topics it matched), and tombstones for the
 * regexes no member uses any more, as Kafka 4.4. kts keeps no metadata log, so the version of the
 * metadata the regex was resolved against (Kafka's image offset) is written as -1.
 */
function regexRecords(groupId: string, state: ConsumerGroupState): Desired[] {
  const out: Desired[] = [];
  const current = new Set<string>();
  for (const [regex, { topics, timestamp }] of state.regexResolutions) {
    const key = consumerMemberKey(ConsumerRecordType.RegularExpression, groupId, regex);
    current.add(key.toString('hex'));
    out.push({ key, value: encodeConsumerValue(ConsumerRecordType.RegularExpression, { topics, version: -1, timestamp }) });
  }
  for (const keyHex of state.persisted.keys()) {
    if (!current.has(keyHex) && Buffer.from(keyHex, 'hex').readInt16BE(0) === ConsumerRecordType.RegularExpression) out.push({ key: Buffer.from(keyHex, 'hex'), value: null });
  }
  return out;
}

/** Member ids the cache holds records for. */
function persistedMembers(state: ConsumerGroupState): Set<string> {
  const out = new Set<string>();
  for (const keyHex of state.persisted.keys()) {
    const key = Buffer.from(keyHex, 'hex');
    const type = key.readInt16BE(0);
    if (type !== ConsumerRecordType.MemberMetadata && type !== ConsumerRecordType.TargetAssignmentMember && type !== ConsumerRecordType.CurrentMemberAssignment) continue;
    const groupLength = key.readInt16BE(2);
    const at = 4 + groupLength;
    out.add(key.toString('utf8', at + 2, at + 2 + key.readInt16BE(at)));
  }
  return out;
}

/**
 * Appends what changed in the group since the last write. `memberId`: the member a heartbeat was
 * about; the records of every member are compared when the epochs moved (targets were recomputed,
 * members may have left). Failures are logged; the records are written again with the next change.
 */
export async function persistConsumerGroup(rt: GroupRuntime, group: ClassicGroup, memberId: string | null): Promise<void> {
  const state = group.consumer;
  if (!state) return;
  const epochs = `${state.groupEpoch}:${state.assignmentEpoch}`;
  const members =
    epochs !== state.persistedEpochs || memberId === null
      ? new Set([...persistedMembers(state), ...state.members.keys()])
      : new Set([memberId, ...state.departed]);
  state.departed.clear();
  const records: CoordinatorRecord[] = [];
  for (const { key, value } of desiredRecords(group.groupId, state, members)) {
    const keyHex = key.toString('hex');
    const was = state.persisted.get(keyHex);
    if (value === null) {
      if (was === undefined) continue;
      state.persisted.delete(keyHex);
    } else {
      const valueHex = value.toString('hex');
      if (was === valueHex) continue;
      state.persisted.set(keyHex, valueHex);
    }
    records.push({ key, value });
  }
  state.persistedEpochs = epochs;
  if (records.length === 0) return;
  try {
    await rt.write(group.groupId, records, () => undefined);
  } catch (err) {
    for (const r of records) state.persisted.set(r.key.toString('hex'), UNKNOWN);
    state.persistedEpochs = '';
    rt.log.warn(`Failed to store consumer group ${group.groupId}: ${(err as Error).message}`);
  }
}

/** Tombstones for a consumer group that is deleted (its members are gone already). */
export function consumerGroupTombstones(groupId: string): CoordinatorRecord[] {
  return [
    { key: consumerGroupKey(ConsumerRecordType.TargetAssignmentMetadata, groupId), value: null },
    { key: consumerGroupKey(ConsumerRecordType.GroupMetadata, groupId), value: null },
  ];
}

/** One group's records as read from the log (latest value per key, tombstones remove). */
export class LoadedConsumerGroup {
  /** key hex -> [record type, member id or null, value] */
  readonly records = new Map<string, { type: number; memberId: string | null; value: Buffer }>();

  set(key: Buffer, type: number, memberId: string | null, value: Buffer | null): void {
    const keyHex = key.toString('hex');
    if (value === null) this.records.delete(keyHex);
    else this.records.set(keyHex, { type, memberId, value });
  }

  /** The group, or null when it has no group metadata record (deleted, or never a consumer group). */
  restore(): ConsumerGroupState | null {
    const state = new ConsumerGroupState();
    let hasEpoch = false;
    let hasTargetEpoch = false;
    const member = (id: string) => {
      let m = state.members.get(id);
      if (!m) state.members.set(id, (m = new ConsumerMember(id, null, '', '')));
      return m;
    };
    for (const [keyHex, { type, memberId, value }] of this.records) {
      state.persisted.set(keyHex, value.toString('hex'));
      switch (type) {
        case ConsumerRecordType.GroupMetadata:
          state.groupEpoch = decodeConsumerValue(ConsumerRecordType.GroupMetadata, value).epoch;
          hasEpoch = true;
          break;
        case ConsumerRecordType.TargetAssignmentMetadata: {
          const v = decodeConsumerValue(ConsumerRecordType.TargetAssignmentMetadata, value);
          state.assignmentEpoch = v.assignmentEpoch;
          state.assignmentTimestamp = v.assignmentTimestamp;
          hasTargetEpoch = true;
          break;
        }
        case ConsumerRecordType.MemberMetadata: {
          const v = decodeConsumerValue(ConsumerRecordType.MemberMetadata, value);
          const m = member(memberId!);
          m.instanceId = v.instanceId;
          m.rackId = v.rackId;
          m.clientId = v.clientId;
          m.clientHost = v.clientHost;
          m.subscribedTopicNames = [...v.subscribedTopicNames].sort();
          m.subscribedTopicRegex = v.subscribedTopicRegex ? v.subscribedTopicRegex : null;
          m.rebalanceTimeoutMs = v.rebalanceTimeoutMs;
          m.serverAssignor = v.serverAssignor;
          m.classic = v.classicMemberMetadata && {
            sessionTimeoutMs: v.classicMemberMetadata.sessionTimeoutMs,
            protocols: v.classicMemberMetadata.supportedProtocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
          };
          break;
        }
        case ConsumerRecordType.RegularExpression: {
          // The key's second string is the regex; kept so an unchanged resolution is not written again.
          const v = decodeConsumerValue(ConsumerRecordType.RegularExpression, value);
          state.regexResolutions.set(memberId!, { topics: [...v.topics], timestamp: v.timestamp });
          break;
        }
        case ConsumerRecordType.TargetAssignmentMember:
          state.target.set(memberId!, assignmentOf(decodeConsumerValue(ConsumerRecordType.TargetAssignmentMember, value).topicPartitions));
          break;
        case ConsumerRecordType.CurrentMemberAssignment: {
          const v = decodeConsumerValue(ConsumerRecordType.CurrentMemberAssignment, value);
          const m = member(memberId!);
          m.memberEpoch = v.memberEpoch;
          m.previousMemberEpoch = v.previousMemberEpoch;
          m.state = STATES_BY_ID[v.state] ?? 'STABLE';
          m.assigned = assignmentOf(v.assignedPartitions);
          m.pendingRevocation = assignmentOf(v.partitionsPendingRevocation);
          m.assignedEpochs = new Map();
          for (const t of [...v.assignedPartitions, ...v.partitionsPendingRevocation]) {
            t.partitions.forEach((p, i) => m.assignedEpochs.set(`${t.topicId}:${p}`, t.assignmentEpochs?.[i] ?? v.memberEpoch));
          }
          break;
        }
      }
    }
    if (!hasEpoch) return null;
    if (!hasTargetEpoch) state.assignmentEpoch = 0;
    for (const m of state.members.values()) {
      if (m.instanceId !== null) state.staticMembers.set(m.instanceId, m.memberId);
      if (m.subscribedTopicRegex !== null) {
        try {
          m.compiledRegex = new RegExp(`^(?:${m.subscribedTopicRegex})$`);
        } catch {
          m.compiledRegex = null; // it was accepted when it was written; a regex JavaScript refuses matches nothing
        }
      }
    }
    for (const id of [...state.target.keys()]) if (!state.members.has(id)) state.target.delete(id);
    state.restoreOwners();
    state.persistedEpochs = `${state.groupEpoch}:${state.assignmentEpoch}`;
    return state;
  }
}
