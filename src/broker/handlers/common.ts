// Small pieces every partition-level handler needs: find the partition's log, turn an exception
// into a Kafka error code (the one place where that mapping happens).
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { PartitionLog } from '../../storage/index.js';
import type { BrokerContext } from '../broker-context.js';

export type PartitionLookup = { log: PartitionLog; errorCode: 0 } | { log: null; errorCode: number };

export function lookupPartition(broker: BrokerContext, topic: string, partition: number): PartitionLookup {
  const info = broker.topics.get(topic);
  if (!info || partition < 0 || partition >= info.partitions) return { log: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  const log = broker.logs.get(topic, partition);
  if (!log) return { log: null, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  return { log, errorCode: 0 };
}

/** KafkaError -> its code; anything else is logged and becomes UNKNOWN_SERVER_ERROR. */
export function errorCodeOf(broker: BrokerContext, err: unknown, what: string): { code: number; message: string } {
  if (err instanceof KafkaError) return { code: err.code, message: err.message };
  broker.log.error(`Unexpected error during ${what}: ${(err as Error)?.stack ?? err}`);
  return { code: ErrorCode.UNKNOWN_SERVER_ERROR, message: 'Unexpected error' };
}
