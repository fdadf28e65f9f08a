// Acknowledged records and the check that none was lost, moved or doubled: every record a producer
// saw acknowledged (acks=all) must be read back exactly once, at the partition and offset the
// acknowledgement named. Records never acknowledged may be there or not (a producer that gave up
// on one cannot know whether it was written).
import type { Kafka } from 'kafkajs';
import { kcat } from './kcat.js';

export interface PlacedRecord {
  partition: number;
  /** UNKNOWN_OFFSET when the acknowledgement named no offset (see below). */
  offset: number;
  value: string;
}

/**
 * librdkafka's offset for a record acknowledged without one (RD_KAFKA_OFFSET_INVALID). Its idempotent
 * producer acknowledges a batch implicitly when a later batch of the same producer succeeds after
 * the earlier batch's answer was lost (the broker died or the connection dropped after it wrote):
 * the sequence numbers prove it written, but not where. Such a record must still be read back
 * exactly once in its partition.
 */
export const UNKNOWN_OFFSET = -1001;

/** What a read-back breaks of the promise made by the acknowledgements; [] when it keeps it. */
export function ackedRecordProblems(acked: readonly PlacedRecord[], read: readonly PlacedRecord[]): string[] {
  const problems: string[] = [];
  const valueAt = new Map<string, string>();
  const copies = new Map<string, number>();
  for (const r of read) {
    const at = `${r.partition}@${r.offset}`;
    if (valueAt.has(at)) problems.push(`offset ${at} read twice`);
    valueAt.set(at, r.value);
    copies.set(r.value, (copies.get(r.value) ?? 0) + 1);
  }
  const ackedAt = new Map<string, string>();
  for (const a of acked) {
    if (a.offset === UNKNOWN_OFFSET) {
      const inPartition = read.filter((r) => r.partition === a.partition && r.value === a.value).length;
      if (inPartition !== 1) problems.push(`${a.value} acknowledged (offset unknown) in partition ${a.partition}, read ${inPartition} times there`);
      continue;
    }
    const at = `${a.partition}@${a.offset}`;
    if (ackedAt.has(at)) problems.push(`offset ${at} acknowledged for both ${ackedAt.get(at)} and ${a.value}`);
    ackedAt.set(at, a.value);
    const found = valueAt.get(at);
    if (found !== a.value) problems.push(`${a.value} acknowledged at ${at}, read ${found === undefined ? 'nothing' : found} there`);
    else if (copies.get(a.value) !== 1) problems.push(`${a.value} acknowledged once, read ${copies.get(a.value)} times`);
  }
  return problems;
}

/** Every record of the topic, read with kcat from the beginning to the end of each partition. */
export async function readAllWithKcat(bootstrap: string, topic: string): Promise<PlacedRecord[]> {
  const out = await kcat(['-b', bootstrap, '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p %o %s\\n'], { timeoutMs: 60_000 });
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [partition, offset, ...value] = line.split(' ');
      return { partition: Number(partition), offset: Number(offset), value: value.join(' ') };
    });
}

/**
 * kafkajs sends `perPartition` records to each of `partitions` partitions with acks=all, one batch
 * per partition; returns each acknowledged record with its offset (a batch's records take
 * consecutive offsets from the base offset the answer names).
 */
export async function produceAckedWithKafkajs(kafka: Kafka, topic: string, partitions: number, prefix: string, perPartition: number): Promise<PlacedRecord[]> {
  const producer = kafka.producer();
  await producer.connect();
  const acked: PlacedRecord[] = [];
  try {
    for (let partition = 0; partition < partitions; partition++) {
      const values = Array.from({ length: perPartition }, (_, i) => `${prefix}-p${partition}-${i}`);
      const [meta] = await producer.send({ topic, acks: -1, messages: values.map((value) => ({ partition, value })) });
      if (meta.errorCode !== 0) throw new Error(`produce to ${topic}-${partition} answered error ${meta.errorCode}`);
      values.forEach((value, i) => acked.push({ partition, offset: Number(meta.baseOffset) + i, value }));
    }
  } finally {
    await producer.disconnect();
  }
  return acked;
}
