// How a failed write to __consumer_offsets is reported to clients (Kafka's mapping): errors of
// the log become coordinator errors, which clients treat as "find the coordinator and retry".
import { ErrorCode } from '../../protocol/errors.js';

export function storeErrorCode(err: unknown, writing: 'group' | 'offsets'): number {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'number') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.REQUEST_TIMED_OUT:
      return writing === 'group' ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.REQUEST_TIMED_OUT;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return writing === 'group' ? ErrorCode.UNKNOWN_SERVER_ERROR : ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return code;
  }
}
