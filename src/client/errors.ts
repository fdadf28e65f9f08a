// Errors the client raises. A Kafka error code becomes a KafkaClientError carrying the code, the
// Java exception name Kafka's tools print (`org.apache.kafka.common.errors.TopicExistsException`)
// and the broker's own message when it sent one.
import { ErrorCode, errorName } from '../protocol/errors.js';

const E = ErrorCode;

/** Java exception simple names (org.apache.kafka.common.errors.*) and a default message per code. */
const KNOWN: Record<number, [javaName: string, message: string, retriable?: true]> = {
  [E.UNKNOWN_SERVER_ERROR]: ['UnknownServerException', 'The server experienced an unexpected error when processing the request.'],
  [E.OFFSET_OUT_OF_RANGE]: ['OffsetOutOfRangeException', 'The requested offset is not within the range of offsets maintained by the server.'],
  [E.CORRUPT_MESSAGE]: ['CorruptRecordException', 'This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.', true],
  [E.UNKNOWN_TOPIC_OR_PARTITION]: ['UnknownTopicOrPartitionException', 'This server does not host this topic-partition.', true],
  [E.LEADER_NOT_AVAILABLE]: ['LeaderNotAvailableException', 'There is no leader for this topic-partition as we are in the middle of a leadership election.', true],
  [E.NOT_LEADER_OR_FOLLOWER]: ['NotLeaderOrFollowerException', 'For requests intended only for the leader, this error indicates that the broker is not the current leader.', true],
  [E.REQUEST_TIMED_OUT]: ['TimeoutException', 'The request timed out.', true],
  [E.MESSAGE_TOO_LARGE]: ['RecordTooLargeException', 'The request included a message larger than the max message size the server will accept.'],
  [E.NETWORK_EXCEPTION]: ['NetworkException', 'The server disconnected before a response was received.', true],
  [E.COORDINATOR_LOAD_IN_PROGRESS]: ['CoordinatorLoadInProgressException', 'The coordinator is loading and hence can\'t process requests.', true],
  [E.COORDINATOR_NOT_AVAILABLE]: ['CoordinatorNotAvailableException', 'The coordinator is not available.', true],
  [E.NOT_COORDINATOR]: ['NotCoordinatorException', 'This is not the correct coordinator.', true],
  [E.INVALID_TOPIC_EXCEPTION]: ['InvalidTopicException', 'The request attempted to perform an operation on an invalid topic.'],
  [E.RECORD_LIST_TOO_LARGE]: ['RecordBatchTooLargeException', 'The request included message batch larger than the configured segment size on the server.'],
  [E.NOT_ENOUGH_REPLICAS]: ['NotEnoughReplicasException', 'Messages are rejected since there are fewer in-sync replicas than required.', true],
  [E.NOT_ENOUGH_REPLICAS_AFTER_APPEND]: ['NotEnoughReplicasAfterAppendException', 'Messages are written to the log, but to fewer in-sync replicas than required.', true],
  [E.INVALID_REQUIRED_ACKS]: ['InvalidRequiredAcksException', 'Produce request specified an invalid value for required acks.'],
  [E.ILLEGAL_GENERATION]: ['IllegalGenerationException', 'Specified group generation id is not valid.'],
  [E.INCONSISTENT_GROUP_PROTOCOL]: ['InconsistentGroupProtocolException', 'The group member\'s supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list.'],
  [E.INVALID_GROUP_ID]: ['InvalidGroupIdException', 'The configured groupId is invalid.'],
  [E.UNKNOWN_MEMBER_ID]: ['UnknownMemberIdException', 'The coordinator is not aware of this member.'],
  [E.INVALID_SESSION_TIMEOUT]: ['InvalidSessionTimeoutException', 'The session timeout is not within the range allowed by the broker.'],
  [E.REBALANCE_IN_PROGRESS]: ['RebalanceInProgressException', 'The group is rebalancing, so a rejoin is needed.'],
  [E.TOPIC_AUTHORIZATION_FAILED]: ['TopicAuthorizationException', 'Topic authorization failed.'],
  [E.GROUP_AUTHORIZATION_FAILED]: ['GroupAuthorizationException', 'Group authorization failed.'],
  [E.CLUSTER_AUTHORIZATION_FAILED]: ['ClusterAuthorizationException', 'Cluster authorization failed.'],
  [E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED]: ['TransactionalIdAuthorizationException', 'Transactional Id authorization failed.'],
  [E.SECURITY_DISABLED]: ['SecurityDisabledException', 'Security features are disabled.'],
  [E.INVALID_TIMESTAMP]: ['InvalidTimestampException', 'The timestamp of the message is out of acceptable range.'],
  [E.UNSUPPORTED_VERSION]: ['UnsupportedVersionException', 'The version of API is not supported.'],
  [E.TOPIC_ALREADY_EXISTS]: ['TopicExistsException', 'Topic with this name already exists.'],
  [E.INVALID_PARTITIONS]: ['InvalidPartitionsException', 'Number of partitions is below 1.'],
  [E.INVALID_REPLICATION_FACTOR]: ['InvalidReplicationFactorException', 'Replication factor is below 1 or larger than the number of available brokers.'],
  [E.INVALID_REPLICA_ASSIGNMENT]: ['InvalidReplicaAssignmentException', 'Replica assignment is invalid.'],
  [E.INVALID_CONFIG]: ['InvalidConfigurationException', 'Configuration is invalid.'],
  [E.NOT_CONTROLLER]: ['NotControllerException', 'This is not the correct controller for this cluster.', true],
  [E.PREFERRED_LEADER_NOT_AVAILABLE]: ['PreferredLeaderNotAvailableException', 'The preferred leader was not available.', true],
  [E.ELIGIBLE_LEADERS_NOT_AVAILABLE]: ['EligibleLeadersNotAvailableException', 'Eligible topic partition leaders are not available.', true],
  [E.ELECTION_NOT_NEEDED]: ['ElectionNotNeededException', 'Leader election not needed for topic partition.', true],
  [E.INVALID_REQUEST]: ['InvalidRequestException', 'This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker.'],
  [E.POLICY_VIOLATION]: ['PolicyViolationException', 'Request parameters do not satisfy the configured policy.'],
  [E.KAFKA_STORAGE_ERROR]: ['KafkaStorageException', 'Disk error when trying to access log file on the disk.', true],
  [E.NON_EMPTY_GROUP]: ['GroupNotEmptyException', 'The group is not empty.'],
  [E.GROUP_ID_NOT_FOUND]: ['GroupIdNotFoundException', 'The group id does not exist.'],
  [E.TOPIC_DELETION_DISABLED]: ['TopicDeletionDisabledException', 'Topic deletion is disabled.'],
  [E.FENCED_LEADER_EPOCH]: ['FencedLeaderEpochException', 'The leader epoch in the request is older than the epoch on the broker.', true],
  [E.UNKNOWN_LEADER_EPOCH]: ['UnknownLeaderEpochException', 'The leader epoch in the request is newer than the epoch on the broker.', true],
  [E.UNSUPPORTED_COMPRESSION_TYPE]: ['UnsupportedCompressionTypeException', 'The requesting client does not support the compression type of given partition.'],
  [E.OFFSET_NOT_AVAILABLE]: ['OffsetNotAvailableException', 'The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing.', true],
  [E.MEMBER_ID_REQUIRED]: ['MemberIdRequiredException', 'The group member needs to have a valid member id before actually entering a consumer group.'],
  [E.GROUP_SUBSCRIBED_TO_TOPIC]: ['GroupSubscribedToTopicException', 'Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.'],
  [E.INVALID_RECORD]: ['InvalidRecordException', 'This record has failed the validation on broker and hence will be rejected.'],
  [E.UNSTABLE_OFFSET_COMMIT]: ['UnstableOffsetCommitException', 'There are unstable offsets that need to be cleared.', true],
  [E.THROTTLING_QUOTA_EXCEEDED]: ['ThrottlingQuotaExceededException', 'The throttling quota has been exceeded.', true],
  [E.RESOURCE_NOT_FOUND]: ['ResourceNotFoundException', 'A request illegally referred to a resource that does not exist.'],
  [E.UNKNOWN_TOPIC_ID]: ['UnknownTopicIdException', 'This server does not host this topic ID.', true],
  [E.NO_REASSIGNMENT_IN_PROGRESS]: ['NoReassignmentInProgressException', 'No partition reassignment is in progress.'],
  [E.POSITION_OUT_OF_RANGE]: ['PositionOutOfRangeException', 'Requested position is not greater than or equal to zero, and less than the size of the snapshot.'],
};

export class KafkaClientError extends Error {
  /** Kafka error code, when the failure came from a broker answer. */
  readonly code?: number;
  /** e.g. `TopicExistsException`. */
  readonly javaName?: string;
  readonly retriable: boolean;
  /** A suggestion for a person at a terminal. */
  hint?: string;
  /** For a failed connect: the socket's error code (`ECONNREFUSED`, `ENOTFOUND`). */
  socketCode?: string;

  constructor(message: string, opts: { code?: number; javaName?: string; retriable?: boolean; hint?: string } = {}) {
    super(message);
    this.name = 'KafkaClientError';
    this.code = opts.code;
    this.javaName = opts.javaName;
    this.retriable = opts.retriable ?? false;
    this.hint = opts.hint;
  }

  /** `org.apache.kafka.common.errors.X: message`, as Kafka's tools print exceptions. */
  get javaString(): string {
    return this.javaName ? `org.apache.kafka.common.errors.${this.javaName}: ${this.message}` : this.message;
  }
}

/** The error for a non-zero Kafka error code; `message` is the broker's text when it sent one. */
export function kafkaError(code: number, message?: string | null): KafkaClientError {
  const known = KNOWN[code];
  return new KafkaClientError(message || known?.[1] || `Kafka error ${errorName(code)} (${code})`, {
    code,
    javaName: known?.[0],
    retriable: known?.[2] ?? false,
  });
}

export function isRetriable(code: number): boolean {
  return KNOWN[code]?.[2] ?? false;
}

/** Throws kafkaError(code, message) unless code is 0. */
export function check(code: number | undefined, message?: string | null): void {
  if (code && code !== ErrorCode.NONE) throw kafkaError(code, message);
}

/** No broker answered within the connect budget, or every address refused the connection. */
export class BrokerUnreachableError extends KafkaClientError {
  /** `refused`: every address refused (or did not resolve) at once; `silent`: the budget ran out. */
  readonly reason: 'refused' | 'silent';
  constructor(bootstrap: string, waitedMs: number, cause?: string, reason: 'refused' | 'silent' = 'silent') {
    const check =
      reason === 'refused' && cause?.includes('ENOTFOUND')
        ? 'Check the host name (it does not resolve), or give another address with --bootstrap-server or $KTS_BOOTSTRAP_SERVER.'
        : reason === 'refused'
        ? 'Check that a broker is running and listening there (kts server-start starts one), or give another address with --bootstrap-server or $KTS_BOOTSTRAP_SERVER.'
        : 'Check the address, and that no firewall or proxy drops the connection; KTS_CONNECT_TIMEOUT_MS sets the wait.';
    super(
      reason === 'refused'
        ? `Could not connect to any broker at ${bootstrap}: ${cause ?? 'connection refused'}. ${check}`
        : `Could not connect to any broker at ${bootstrap} within ${Math.round(waitedMs / 100) / 10} s${cause ? ` (${cause})` : ''}. ${check}`,
      {
        retriable: true,
        hint: 'is a broker running there? Start one with `kts server-start`, or point the tool elsewhere with --bootstrap-server or $KTS_BOOTSTRAP_SERVER (KTS_CONNECT_TIMEOUT_MS sets the wait).',
      },
    );
    this.name = 'BrokerUnreachableError';
    this.reason = reason;
  }
}

/** A request got no answer within its timeout. */
export class RequestTimeoutError extends KafkaClientError {
  constructor(what: string, ms: number) {
    super(`Timed out waiting for a response to ${what} after ${ms} ms`, { code: ErrorCode.REQUEST_TIMED_OUT, javaName: 'TimeoutException', retriable: true });
    this.name = 'RequestTimeoutError';
  }
}
