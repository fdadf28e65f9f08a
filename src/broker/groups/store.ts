// The persistence seam of the group coordinator: an append-only, per-partition log of key/value
// records (what __consumer_offsets is). The broker uses the topic-backed implementation
// (topic-log.ts); unit tests use the in-memory one below, which keeps records the same way.

export interface CoordinatorRecord {
  key: Buffer;
  /** null = tombstone (the key is deleted; compaction drops it later). */
  value: Buffer | null;
}

export interface CoordinatorLog {
  /** Partitions of __consumer_offsets: the existing topic's, else offsets.topic.num.partitions. */
  partitionCount(): number;
  /** Creates the topic if missing (FindCoordinator does this, as Kafka does). */
  ensureCreated(): Promise<void>;
  /** Appends the records as one batch; resolves once they are in the log. */
  append(partition: number, records: CoordinatorRecord[], timestamp: number): Promise<void>;
  /** Every record, partition by partition, in offset order. */
  load(visit: (partition: number, record: CoordinatorRecord) => void): Promise<void>;
}

/** Records kept in memory, partition by partition: for tests and for a broker without storage. */
export class MemoryCoordinatorLog implements CoordinatorLog {
  readonly partitions: CoordinatorRecord[][];
  created = false;
  /** Test hook: make the next appends fail. */
  failAppends: Error | null = null;

  constructor(readonly numPartitions = 50) {
    this.partitions = Array.from({ length: numPartitions }, () => []);
  }

  partitionCount(): number {
    return this.numPartitions;
  }

  async ensureCreated(): Promise<void> {
    this.created = true;
  }

  async append(partition: number, records: CoordinatorRecord[]): Promise<void> {
    if (this.failAppends) throw this.failAppends;
    this.created = true;
    this.partitions[partition].push(...records.map((r) => ({ key: Buffer.from(r.key), value: r.value && Buffer.from(r.value) })));
  }

  async load(visit: (partition: number, record: CoordinatorRecord) => void): Promise<void> {
    this.partitions.forEach((records, p) => records.forEach((r) => visit(p, r)));
  }
}
