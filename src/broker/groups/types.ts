// Shapes shared by the group coordinator's parts: the classic protocol's states, what the
// handlers pass in and get back, and the seams (clock/timers, persistence, topics) the
// coordinator depends on. Structural on purpose: unit tests build them without a broker. Where a
// shape is a request's or response's own, it is the generated type (less throttleTimeMs and the fields
// the handler adds), so the two cannot drift apart.
import type { JoinGroupRequestData, JoinGroupRequestProtocol, JoinGroupResponseData, JoinGroupResponseMember } from '../../protocol/generated/11-join-group.js';
import type { HeartbeatRequestData } from '../../protocol/generated/12-heartbeat.js';
import type { LeaveGroupResponseData } from '../../protocol/generated/13-leave-group.js';
import type { SyncGroupRequestData, SyncGroupResponseData } from '../../protocol/generated/14-sync-group.js';
import type { DescribedGroup, DescribedGroupMember } from '../../protocol/generated/15-describe-groups.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead', 'Empty'];

export type Protocol = JoinGroupRequestProtocol;

/** The request's fields (memberId '' for a member joining for the first time), and what the handler knows. */
export interface JoinGroupParams extends Pick<JoinGroupRequestData, 'groupId' | 'memberId' | 'groupInstanceId' | 'rebalanceTimeoutMs' | 'sessionTimeoutMs' | 'protocolType' | 'protocols'> {
  /** JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED and a member id to rejoin with. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+ (KIP-814). */
  supportSkippingAssignment: boolean;
  clientId: string;
  /** As Kafka shows it: `/127.0.0.1`. */
  clientHost: string;
  reason?: string | null;
}

export type JoinGroupMember = JoinGroupResponseMember;

export type JoinGroupResult = Omit<JoinGroupResponseData, 'throttleTimeMs'>;

/** The request as it came (protocolType and protocolName, v5+, are checked against the group's when given). */
export type SyncGroupParams = SyncGroupRequestData;

export type SyncGroupResult = Omit<SyncGroupResponseData, 'throttleTimeMs'>;

export type HeartbeatParams = HeartbeatRequestData;

export interface LeavingMember {
  memberId: string;
  groupInstanceId: string | null;
  reason?: string | null;
}

export type LeaveGroupResult = Pick<LeaveGroupResponseData, 'errorCode' | 'members'>;

/** A committed offset as Kafka's OffsetAndMetadata. */
export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** Only from OffsetCommit v2-v4 with an explicit retention time (value schema v1). */
  expireTimestamp: number | null;
}

export interface OffsetCommitParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** The request's version: a consumer group's members must commit with v9+. */
  apiVersion?: number;
  /** OffsetCommit v2-v4 retention time; -1 = the broker's offsets.retention.minutes. */
  retentionTimeMs: number;
  topics: {
    name: string;
    partitions: { partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; commitTimestamp: number; committedMetadata: string | null }[];
  }[];
}

export interface TopicPartitionErrors {
  name: string;
  partitions: { partitionIndex: number; errorCode: number }[];
}

export interface FetchedOffsetsTopic {
  name: string;
  partitions: { partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; metadata: string | null; errorCode: number }[];
}

export interface OffsetFetchResult {
  errorCode: number;
  topics: FetchedOffsetsTopic[];
}

export type GroupMemberDescription = DescribedGroupMember;

/** DescribeGroups' group less errorMessage and authorizedOperations, which the handler fills in. */
export type GroupDescription = Omit<DescribedGroup, 'errorMessage' | 'authorizedOperations'>;

export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: GroupState | 'Assigning' | 'Reconciling';
  groupType: string;
}

/** Timers, so tests can move time by hand. The default uses Node's timers. */
export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const nodeScheduler: Scheduler = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** What the coordinator asks of the topic registry (validating commits, creating its topic). */
export interface TopicLookup {
  get(name: string): { partitions: number; internal?: boolean; topicId?: string } | undefined;
  /** Every topic, and by id: consumer groups subscribe by name or regex and assign by topic id. */
  list?(): { name: string; topicId: string; partitions: number; internal?: boolean }[];
  getById?(topicId: string): { name: string; topicId: string; partitions: number } | undefined;
  /** Who leads a partition (a broker of a cluster coordinates only the groups of the partitions it leads). */
  partitionState?(topic: string, partition: number): { leader: number } | undefined;
}

/** What the coordinator reads from the broker config. */
export interface ConfigSource {
  getNumber(key: string): number;
  getString?(key: string): string;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** The group coordinator's settings, read once at start. */
export interface GroupSettings {
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  initialRebalanceDelayMs: number;
  maxSize: number;
  offsetsTopicPartitions: number;
  /** offsets.topic.replication.factor: the copies of __consumer_offsets in a ZooKeeper cluster. */
  offsetsTopicReplicationFactor: number;
  /** offsets.commit.timeout.ms: how long a write to __consumer_offsets waits for its ISR. */
  offsetCommitTimeoutMs: number;
  /** offsets.topic.segment.bytes: small segments let the cleaner keep __consumer_offsets small. */
  offsetsTopicSegmentBytes: number;
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
  /**
   * kts.group.member.metadata.max.bytes: the most a member's JoinGroup protocols (names and
   * metadata, as encoded) or one assignment of the leader's SyncGroup may take (see join.ts).
   */
  memberMetadataMaxBytes: number;
  /** KIP-848 consumer groups (group.consumer.*). */
  consumerSessionTimeoutMs: number;
  consumerHeartbeatIntervalMs: number;
  consumerMaxSize: number;
  /** group.consumer.assignors as given (names or class names); the first is the default. */
  consumerAssignors: string[];
  /**
   * group.consumer.migration.policy: whether a classic group with members may be converted to a
   * consumer group (upgrade) and back (downgrade). Empty groups convert either way regardless.
   */
  consumerMigration: { upgrade: boolean; downgrade: boolean };
  /**
   * Write __consumer_offsets as Kafka 3.9's coordinator did (kts.as.kafka=3.9): OffsetCommitValue v3
   * and no record for a classic group at its creation. Otherwise as Kafka 4.x: OffsetCommitValue v4
   * with the topic id, and an empty GroupMetadataValue when JoinGroup creates a classic group.
   */
  kafka39Records?: boolean;
}

/** Kafka's ConsumerGroupMigrationPolicy.parse: case-insensitive, anything unknown is disabled. */
export function parseMigrationPolicy(value: string | undefined): { upgrade: boolean; downgrade: boolean } {
  switch ((value ?? 'bidirectional').toLowerCase()) {
    case 'bidirectional':
      return { upgrade: true, downgrade: true };
    case 'upgrade':
      return { upgrade: true, downgrade: false };
    case 'downgrade':
      return { upgrade: false, downgrade: true };
    default:
      return { upgrade: false, downgrade: false };
  }
}

export function readGroupSettings(config: ConfigSource): GroupSettings {
  const num = (key: string, fallback: number) => {
    const v = config.getNumber(key);
    return Number.isFinite(v) ? v : fallback;
  };
  return {
    minSessionTimeoutMs: num('group.min.session.timeout.ms', 6000),
    maxSessionTimeoutMs: num('group.max.session.timeout.ms', 1800000),
    initialRebalanceDelayMs: num('group.initial.rebalance.delay.ms', 3000),
    maxSize: num('group.max.size', 2147483647),
    offsetsTopicPartitions: Math.max(1, num('offsets.topic.num.partitions', 50)),
    offsetsTopicReplicationFactor: Math.max(1, num('offsets.topic.replication.factor', 3)),
    offsetCommitTimeoutMs: num('offsets.commit.timeout.ms', 5000),
    offsetsTopicSegmentBytes: num('offsets.topic.segment.bytes', 104857600),
    offsetsRetentionMs: num('offsets.retention.minutes', 10080) * 60_000,
    offsetsRetentionCheckIntervalMs: num('offsets.retention.check.interval.ms', 600000),
    offsetMetadataMaxBytes: num('offset.metadata.max.bytes', 4096),
    memberMetadataMaxBytes: num('kts.group.member.metadata.max.bytes', 1 << 20),
    consumerSessionTimeoutMs: num('group.consumer.session.timeout.ms', 45000),
    consumerHeartbeatIntervalMs: num('group.consumer.heartbeat.interval.ms', 5000),
    consumerMaxSize: num('group.consumer.max.size', 2147483647),
    consumerAssignors: (config.getString?.('group.consumer.assignors') || 'uniform,range')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    consumerMigration: parseMigrationPolicy(config.getString?.('group.consumer.migration.policy') || undefined),
    kafka39Records: config.getString?.('kts.as.kafka') === '3.9',
  };
}

/** Kafka's name for the internal topic and the consumer protocol type. */
export const OFFSETS_TOPIC = '__consumer_offsets';
export const CONSUMER_PROTOCOL_TYPE = 'consumer';
/** A new member that never completes its first join is dropped after this long (Kafka's constant). */
export const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;
