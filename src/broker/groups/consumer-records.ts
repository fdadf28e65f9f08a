// The records Kafka 4.4's group coordinator keeps a KIP-848 consumer group in, in __consumer_offsets:
// the key is an int16 record type and the key fields (classic, non-flexible encoding); the value
// is version 0 of a flexible message. Written by kts in the same types, versions and field order,
// so Kafka's own tools (kafka-dump-log --offsets-decoder) read kts's data as Kafka's.
//   type 3 ConsumerGroupMetadata          key: group             value: the group epoch
//   type 5 ConsumerGroupMemberMetadata    key: group, member     value: the member's subscription
//   type 6 ConsumerGroupTargetAssignmentMetadata  key: group     value: the assignment epoch
//   type 7 ConsumerGroupTargetAssignmentMember    key: group, member  value: its target partitions
//   type 8 ConsumerGroupCurrentMemberAssignment   key: group, member  value: epochs, state, partitions
//   type 16 ConsumerGroupRegularExpression       key: group, regex   value: the topics it matched
// Type 4 (subscription metadata, no longer written by Kafka 4.x) is skipped when read; type 16 is
// written as Kafka 4.4 does, and recomputed from the topics kts has at start.
import { codecFor } from '../../protocol/codec/compile.js';
import { Reader } from '../../protocol/codec/reader.js';
import { MAX_VERSION as MAX, type MessageSchema, type StructSchema } from '../../protocol/codec/schema.js';
import { Writer } from '../../protocol/codec/writer.js';

export const enum ConsumerRecordType {
  GroupMetadata = 3,
  MemberMetadata = 5,
  TargetAssignmentMetadata = 6,
  TargetAssignmentMember = 7,
  CurrentMemberAssignment = 8,
  RegularExpression = 16,
}

const V0: [number, number] = [0, MAX];

const GroupMetadataValue: MessageSchema = {
  name: 'ConsumerGroupMetadataValue',
  type: 'data',
  validVersions: [0, 0],
  flexibleVersions: V0,
  fields: [
    { name: 'epoch', type: 'int32', versions: V0 },
    { name: 'metadataHash', type: 'int64', versions: V0, default: 0, tagged: V0, tag: 0 },
  ],
};

const ClassicProtocol: StructSchema = { struct: 'ClassicProtocol', fields: [
  { name: 'name', type: 'string', versions: V0 },
  { name: 'metadata', type: 'bytes', versions: V0 },
] };

const MemberMetadataValue: MessageSchema = {
  name: 'ConsumerGroupMemberMetadataValue',
  type: 'data',
  validVersions: [0, 0],
  flexibleVersions: V0,
  fields: [
    { name: 'instanceId', type: 'string', versions: V0, nullable: V0 },
    { name: 'rackId', type: 'string', versions: V0, nullable: V0 },
    { name: 'clientId', type: 'string', versions: V0 },
    { name: 'clientHost', type: 'string', versions: V0 },
    { name: 'subscribedTopicNames', type: 'string', array: true, versions: V0 },
    { name: 'subscribedTopicRegex', type: 'string', versions: V0, nullable: V0 },
    { name: 'rebalanceTimeoutMs', type: 'int32', versions: V0, default: -1 },
    { name: 'serverAssignor', type: 'string', versions: V0, nullable: V0 },
    // Kafka 4.4 writes this tagged field even when null (a consumer-protocol member): so does kts.
    { name: 'classicMemberMetadata', versions: V0, nullable: V0, tagged: V0, tag: 0, type: { struct: 'ClassicMemberMetadata', fields: [
      { name: 'sessionTimeoutMs', type: 'int32', versions: V0 },
      { name: 'supportedProtocols', type: ClassicProtocol, array: true, versions: V0 },
    ] } },
  ],
};

const TargetAssignmentMetadataValue: MessageSchema = {
  name: 'ConsumerGroupTargetAssignmentMetadataValue',
  type: 'data',
  validVersions: [0, 0],
  flexibleVersions: V0,
  fields: [
    { name: 'assignmentEpoch', type: 'int32', versions: V0 },
    { name: 'assignmentTimestamp', type: 'int64', versions: V0, default: 0, tagged: V0, tag: 0 },
  ],
};

const TargetAssignmentMemberValue: MessageSchema = {
  name: 'ConsumerGroupTargetAssignmentMemberValue',
  type: 'data',
  validVersions: [0, 0],
  flexibleVersions: V0,
  fields: [
    { name: 'topicPartitions', array: true, versions: V0, type: { struct: 'TopicPartition', fields: [
      { name: 'topicId', type: 'uuid', versions: V0 },
      { name: 'partitions', type: 'int32', array: true, versions: V0 },
    ] } },
  ],
};

const TopicPartitions: StructSchema = { struct: 'TopicPartitions', fields: [
  { name: 'topicId', type: 'uuid', versions: V0 },
  { name: 'partitions', type: 'int32', array: true, versions: V0 },
  // KIP-1251: the epoch at which each partition was assigned to the member, aligned with partitions.
  { name: 'assignmentEpochs', type: 'int32', array: true, versions: V0, nullable: V0, default: null, tagged: V0, tag: 0 },
] };

const CurrentMemberAssignmentValue: MessageSchema = {
  name: 'ConsumerGroupCurrentMemberAssignmentValue',
  type: 'data',
  validVersions: [0, 0],
  flexibleVersions: V0,
  fields: [
    { name: 'memberEpoch', type: 'int32', versions: V0 },
    { name: 'previousMemberEpoch', type: 'int32', versions: V0 },
    { name: 'state', type: 'int8', versions: V0 },
    { name: 'assignedPartitions', type: TopicPartitions, array: true, versions: V0 },
    { name: 'partitionsPendingRevocation', type: TopicPartitions, array: true, versions: V0 },
  ],
};

const RegularExpressionValue: MessageSchema = {
  name: 'ConsumerGroupRegularExpressionValue',
  type: 'data',
  validVersions: [0, 0],
  flexibleVersions: V0,
  fields: [
    { name: 'topics', type: 'string', array: true, versions: V0 },
    // Kafka: the version of the metadata image the regex was resolved against.
    { name: 'version', type: 'int64', versions: V0 },
    { name: 'timestamp', type: 'int64', versions: V0 },
  ],
};

export interface RegularExpressionRecord {
  topics: string[];
  version: number;
  timestamp: number;
}

export interface GroupMetadataRecord {
  epoch: number;
  metadataHash: number;
}

export interface MemberMetadataRecord {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
  /** Set for a member using the classic protocol inside the consumer group. */
  classicMemberMetadata: { sessionTimeoutMs: number; supportedProtocols: { name: string; metadata: Buffer }[] } | null;
}

export interface TargetAssignmentMetadataRecord {
  assignmentEpoch: number;
  assignmentTimestamp: number;
}

export interface TopicPartitionsRecord {
  topicId: string;
  partitions: number[];
  assignmentEpochs?: number[] | null;
}

export interface TargetAssignmentMemberRecord {
  topicPartitions: TopicPartitionsRecord[];
}

export interface CurrentMemberAssignmentRecord {
  memberEpoch: number;
  previousMemberEpoch: number;
  /** Kafka's MemberState ids: 0 stable, 1 unrevoked partitions, 2 unreleased partitions. */
  state: number;
  assignedPartitions: TopicPartitionsRecord[];
  partitionsPendingRevocation: TopicPartitionsRecord[];
}

const VALUE_SCHEMAS: Record<number, MessageSchema> = {
  [ConsumerRecordType.GroupMetadata]: GroupMetadataValue,
  [ConsumerRecordType.MemberMetadata]: MemberMetadataValue,
  [ConsumerRecordType.TargetAssignmentMetadata]: TargetAssignmentMetadataValue,
  [ConsumerRecordType.TargetAssignmentMember]: TargetAssignmentMemberValue,
  [ConsumerRecordType.CurrentMemberAssignment]: CurrentMemberAssignmentValue,
  [ConsumerRecordType.RegularExpression]: RegularExpressionValue,
};

/** The value bytes of a record of `type`: int16 version 0, then the flexible message. */
export function encodeConsumerValue(type: ConsumerRecordType, value: object): Buffer {
  const w = new Writer();
  try {
    w.int16(0);
    codecFor(VALUE_SCHEMAS[type], 0).encode(w, value);
    return w.finishBuffer();
  } finally {
    w.release();
  }
}

/** Decodes a value of `type` (any version is read as version 0: Kafka has no other). */
export function decodeConsumerValue(type: ConsumerRecordType.GroupMetadata, buf: Buffer): GroupMetadataRecord;
export function decodeConsumerValue(type: ConsumerRecordType.MemberMetadata, buf: Buffer): MemberMetadataRecord;
export function decodeConsumerValue(type: ConsumerRecordType.TargetAssignmentMetadata, buf: Buffer): TargetAssignmentMetadataRecord;
export function decodeConsumerValue(type: ConsumerRecordType.TargetAssignmentMember, buf: Buffer): TargetAssignmentMemberRecord;
export function decodeConsumerValue(type: ConsumerRecordType.CurrentMemberAssignment, buf: Buffer): CurrentMemberAssignmentRecord;
export function decodeConsumerValue(type: ConsumerRecordType.RegularExpression, buf: Buffer): RegularExpressionRecord;
export function decodeConsumerValue(type: ConsumerRecordType, buf: Buffer): unknown {
  const r = new Reader(buf, 2, buf.length);
  return codecFor(VALUE_SCHEMAS[type], 0).decode(r);
}

/** Key of a group-level record (types 3 and 6): int16 type, group. */
export function consumerGroupKey(type: ConsumerRecordType, groupId: string): Buffer {
  const group = Buffer.from(groupId, 'utf8');
  const b = Buffer.alloc(4 + group.length);
  b.writeInt16BE(type, 0);
  b.writeInt16BE(group.length, 2);
  group.copy(b, 4);
  return b;
}

/** Key of a member-level record (types 5, 7 and 8): int16 type, group, member id; type 16: group, regex. */
export function consumerMemberKey(type: ConsumerRecordType, groupId: string, memberId: string): Buffer {
  const member = Buffer.from(memberId, 'utf8');
  const tail = Buffer.alloc(2 + member.length);
  tail.writeInt16BE(member.length, 0);
  member.copy(tail, 2);
  return Buffer.concat([consumerGroupKey(type, groupId), tail]);
}
