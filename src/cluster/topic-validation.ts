// What CreateTopics checks before anything is written, shared by the embedded and ZooKeeper stores.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { validateTopicConfigs } from '../config/topic-configs.js';
import { topicNameError, unifyCollisionChars } from './topic-names.js';

export function validateNewTopic(name: string, partitions: number, configs: Record<string, string>, existing: Iterable<string>): void {
  const nameError = topicNameError(name);
  if (nameError) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
  const unified = unifyCollisionChars(name);
  for (const other of existing) {
    if (other === name) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    if (unifyCollisionChars(other) === unified) {
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${name}' collides with existing topic: ${other}`);
    }
  }
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
  }
  validateConfigs(configs);
}

export function validateConfigs(configs: Record<string, string> | Map<string, string>): void {
  const error = validateTopicConfigs(configs instanceof Map ? configs : Object.entries(configs));
  if (error) throw new KafkaError(ErrorCode.INVALID_CONFIG, error);
}

/**
 * Refuses growth past the broker's partition ceiling (kts.max.partitions): each partition costs
 * memory and a directory, so a request for millions of them must be an error, not an allocation.
 */
export function checkPartitionLimit(existing: Iterable<{ partitions: number }>, adding: number, limit: number): void {
  let inUse = 0;
  for (const t of existing) inUse += t.partitions;
  if (inUse + adding > limit) {
    throw new KafkaError(
      ErrorCode.INVALID_PARTITIONS,
      `Adding ${adding} partition(s) would exceed the broker's limit of ${limit} partitions (kts.max.partitions); ${inUse} are in use.`,
    );
  }
}
