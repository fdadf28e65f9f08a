// Shared by the kts migrate tests: a source cluster filled with records whose offsets have holes of
// every kind (deleted records, transaction markers, an aborted transaction, compaction), and readers
// that give every partition's records as a consumer sees them (read_committed), to compare the two
// sides record by record.
import { Kafka, logLevel } from 'kafkajs';
import { KafkaClient, type FetchedRecord } from '../../../src/client/index.js';

/** Two hours ago: explicit timestamps that a topic's retention.ms of days keeps (Kafka deletes by record timestamp). */
export const BASE_TIMESTAMP = Math.floor(Date.now() / 1000) * 1000 - 2 * 3_600_000;

export interface TopicSpec {
  name: string;
  partitions: number;
  configs?: Record<string, string>;
  /** Records per partition. */
  perPartition: number;
  /** Keys repeat every `keys` records (but every 10th record's key is its own, so compaction leaves holes between survivors); default: every key distinct. */
  keys?: number;
  /** The producer's batch size: big batches move as bytes, small ones are coalesced. */
  batchSize: number;
}

/** Creates the topics and produces `perPartition` records into each partition, with headers and explicit timestamps. */
export async function fillTopics(bootstrap: string, specs: TopicSpec[]): Promise<void> {
  const client = await KafkaClient.connect(bootstrap);
  try {
    const created = await client.admin.createTopics(specs.map((s) => ({ name: s.name, numPartitions: s.partitions, replicationFactor: 1, configs: s.configs })));
    for (const c of created) if (c.error) throw c.error;
    for (const s of specs) {
      const producer = client.producer({ acks: -1, batchSize: s.batchSize, lingerMs: 5, bufferMemory: 64 << 20 });
      const acks: Promise<unknown>[] = [];
      for (let p = 0; p < s.partitions; p++) {
        for (let i = 0; i < s.perPartition; i++) {
          const k = s.keys && i % 10 !== 0 ? i % s.keys : `u${i}`;
          await producer.enqueue(
            s.name,
            {
              partition: p,
              key: Buffer.from(`${s.name}-k${k}`),
              value: Buffer.from(`${s.name}-${p}-v${i}-${'x'.repeat(i % 40)}`),
              headers: [
                { key: 'seq', value: Buffer.from(String(i)) },
                { key: 'bin', value: Buffer.from([p, i & 0xff, 0, 255]) },
                ...(i % 7 === 0 ? [{ key: 'empty', value: null }] : []),
              ],
              timestamp: BASE_TIMESTAMP + p * 1_000_000 + i,
            },
            (ack) => acks.push(ack),
          );
        }
      }
      await producer.flush();
      await Promise.all(acks);
      producer.close();
    }
  } finally {
    client.close();
  }
}

/** A committed and an aborted kafkajs transaction into `topic`-`partition`: markers and aborted records in the log. */
export async function transactions(bootstrap: string, topic: string, partition: number, count: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'migrate-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ transactionalId: `migrate-test-${topic}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const outcome of ['abort', 'commit', 'abort', 'commit'] as const) {
      const txn = await producer.transaction();
      await txn.send({
        topic,
        messages: Array.from({ length: count }, (_, i) => ({
          partition,
          key: `txn-${outcome}-${i}`,
          value: `${outcome}ed-${i}`,
          headers: { txn: outcome },
          timestamp: String(BASE_TIMESTAMP + 5_000_000 + i),
        })),
      });
      if (outcome === 'abort') await txn.abort();
      else await txn.commit();
    }
  } finally {
    await producer.disconnect();
  }
}

/** Every record of a partition a read_committed consumer reads, from its log start to its end. */
export async function readPartition(client: KafkaClient, topic: string, partition: number): Promise<FetchedRecord[]> {
  const [last] = await client.admin.listOffsets([{ topic, partition, timestamp: -1 }], { isolationLevel: 1 });
  const [first] = await client.admin.listOffsets([{ topic, partition, timestamp: -2 }]);
  for (const r of [last, first]) if (r.error) throw new Error(`ListOffsets ${topic}-${partition}: ${r.error.javaString}`);
  const [start, end] = [first.offset, last.offset];
  const out: FetchedRecord[] = [];
  let offset = start;
  while (offset < end) {
    const [f] = await client.fetch([{ topic, partition, offset, maxBytes: 8 << 20 }], { isolationLevel: 1, maxWaitMs: 100 });
    if (f.error) throw f.error;
    for (const r of f.records) if (r.offset < end) out.push(r);
    if (f.nextOffset <= offset) throw new Error(`${topic}-${partition}: no progress at ${offset} (end ${end})`);
    offset = f.nextOffset;
  }
  return out;
}

/** A record as text, to compare and to print in a failure. */
export function recordText(r: FetchedRecord): string {
  const hex = (b: Buffer | null) => (b === null ? 'null' : b.toString('hex'));
  return `${r.timestamp} ${hex(r.key)} ${hex(r.value)} [${r.headers.map((h) => `${h.key}=${hex(h.value)}`).join(',')}]`;
}

/** The first failing position of two partitions' records, or null when they are the same records in the same order. */
export function firstDifference(source: FetchedRecord[], target: FetchedRecord[]): string | null {
  const n = Math.max(source.length, target.length);
  for (let i = 0; i < n; i++) {
    const a = source[i] ? recordText(source[i]) : 'none';
    const b = target[i] ? recordText(target[i]) : 'none';
    if (a !== b) return `record #${i} (source offset ${source[i]?.offset}, target offset ${target[i]?.offset}): source ${a}, target ${b}; ${source.length} vs ${target.length} records`;
  }
  return null;
}

/**
 * Where a group at source offset `committed` must resume on the target, worked out from the records
 * alone: the target holds the source's records in order from offset 0, so it is the number of source
 * records before `committed`.
 */
export function expectedTargetOffset(source: FetchedRecord[], committed: number): number {
  let n = 0;
  while (n < source.length && source[n].offset < committed) n++;
  return n;
}

/** The sum of a topic's partition ends (records landed on the target, from offset 0). */
export async function landed(client: KafkaClient, topics: { name: string; partitions: number }[]): Promise<number> {
  const parts = topics.flatMap((t) => Array.from({ length: t.partitions }, (_, partition) => ({ topic: t.name, partition, timestamp: -1 })));
  const known = await client.metadata(topics.map((t) => t.name));
  const present = parts.filter((p) => known.topics.some((t) => t.name === p.topic && t.errorCode === 0));
  if (present.length === 0) return 0;
  return (await client.admin.listOffsets(present)).reduce((n, r) => n + Math.max(0, r.offset), 0);
}
