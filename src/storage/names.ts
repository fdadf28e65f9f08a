// Names on disk: partition directories `<topic>-<partition>`, and which topic names are legal.
import { ErrorCode, KafkaError } from '../protocol/errors.js';

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

export function isLegalTopicName(name: string): boolean {
  return LEGAL_TOPIC.test(name) && name !== '.' && name !== '..';
}

export function checkTopicPartition(topic: string, partition: number): void {
  if (typeof topic !== 'string' || !isLegalTopicName(topic)) {
    throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `'${String(topic)}' is not a legal topic name`);
  }
  if (!Number.isInteger(partition) || partition < 0 || partition > 0x7fffffff) {
    throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `${partition} is not a valid partition number`);
  }
}

export const partitionDirName = (topic: string, partition: number): string => `${topic}-${partition}`;

/** `<topic>-<partition>` -> its parts, or undefined for anything else (including `*-delete` dirs). */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const m = /^(.+)-(\d{1,10})$/.exec(name);
  if (!m) return undefined;
  const partition = Number(m[2]);
  if (partition > 0x7fffffff || String(partition) !== m[2] || !isLegalTopicName(m[1])) return undefined;
  return { topic: m[1], partition };
}

/** Kafka's marker for a partition dir being deleted: `<topic>-<partition>.<uuid>-delete`. */
export const isDeletedPartitionDir = (name: string): boolean => /\.[0-9a-f]{32}-delete$/.test(name);
