// The persistence seam of the group coordinator: an append-only, per-partition log of key/value
// records (what __consumer_offsets is). The broker uses the topic-backed implementation
// (topic-log.ts); unit tests use the in-memory one below, which keeps records the same way.

export interface CoordinatorRecord {
  key: Buffer;
  /** null = tombstone (the key is deleted; compaction drops it later). */
  value: Buffer | null;
}

/** The producer of a transactional batch (TxnOffsetCommit's offsets), and a control batch's marker. */
export interface TxnBatch {
  producerId: number;
  producerEpoch: number;
}

export interface AppendedRecords {
  replicated: Promise<void>;
}

const LOCAL_ONLY: AppendedRecords = { replicated: Promise.resolve() };

export interface CoordinatorLog {
  /** Partitions of __consumer_offsets: the existing topic's, else offsets.topic.num.partitions. */
  partitionCount(): number;
  /** Creates the topic if missing (FindCoordinator does this, as Kafka does). */
  ensureCreated(): Promise<void>;
  /**
   * Appends the records as one batch; resolves once they are in the local log, with `replicated`:
   * it resolves once the partition's ISR has them too (Kafka's coordinators append with acks=-1),
   * or rejects with the error a produce with acks=all would get (a KafkaError: NOT_ENOUGH_REPLICAS_AFTER_APPEND,
   * REQUEST_TIMED_OUT, NOT_LEADER_OR_FOLLOWER). Until then the write is not acknowledged.
   */
  append(partition: number, records: CoordinatorRecord[], timestamp: number, txn?: TxnBatch): Promise<AppendedRecords>;
  /**
   * Every record, partition by partition, in offset order (of the `only` partitions when given).
   * A record of a transactional batch comes with its producer id; `onMarker` gets each
   * transaction marker (control batch).
   */
  load(
    visit: (partition: number, record: CoordinatorRecord, txnProducerId?: number) => void,
    only?: ReadonlySet<number>,
    onMarker?: (partition: number, producerId: number, commit: boolean) => void,
  ): Promise<void>;
}

type StoredRecord = CoordinatorRecord & { txnProducerId?: number; marker?: { producerId: number; commit: boolean } };

/** Records kept in memory, partition by partition: for tests and for a broker without storage. */
export class MemoryCoordinatorLog implements CoordinatorLog {
  readonly partitions: StoredRecord[][];
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

  async append(partition: number, records: CoordinatorRecord[], _timestamp?: number, txn?: TxnBatch): Promise<AppendedRecords> {
    if (this.failAppends) throw this.failAppends;
    this.created = true;
    this.partitions[partition].push(...records.map((r) => ({ key: Buffer.from(r.key), value: r.value && Buffer.from(r.value), txnProducerId: txn?.producerId })));
    return LOCAL_ONLY;
  }

  /** A transaction marker, as the transaction coordinator writes one. */
  async appendMarker(partition: number, producerId: number, commit: boolean): Promise<void> {
    this.partitions[partition].push({ key: Buffer.alloc(0), value: null, marker: { producerId, commit } });
  }

  async load(
    visit: (partition: number, record: CoordinatorRecord, txnProducerId?: number) => void,
    only?: ReadonlySet<number>,
    onMarker?: (partition: number, producerId: number, commit: boolean) => void,
  ): Promise<void> {
    this.partitions.forEach((records, p) => {
      if (only && !only.has(p)) return;
      for (const r of records as StoredRecord[]) {
        if (r.marker) onMarker?.(p, r.marker.producerId, r.marker.commit);
        else visit(p, r, r.txnProducerId);
      }
    });
  }
}
