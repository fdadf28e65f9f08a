// __consumer_offsets as the coordinator's log: created on first need (compacted, internal, with
// offsets.topic.num.partitions partitions), written as uncompressed magic-2 batches, read back in
// full at start. Typed structurally against the storage engine and the topic registry.
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { Attr } from '../../protocol/records/batch-header.js';
import { buildRecordBatch, decodeRecordBatch, iterateBatches } from '../../protocol/records/index.js';
import type { AppendedRecords, CoordinatorLog, CoordinatorRecord, TxnBatch } from './store.js';
import { OFFSETS_TOPIC, type Logger } from './types.js';

export interface PartitionLogLike {
  append(batches: Buffer, opts?: { leaderEpoch?: number }): Promise<{ lastOffset: number }>;
  /** Idempotence state: the sequence a transactional batch of the coordinator continues from. */
  readonly producerState?: { entry(producerId: number): { epoch: number; batches: { lastSeq: number }[] } | undefined };
  read(offset: number, maxBytes: number): Promise<{ records: Buffer }>;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
}

export interface LogManagerLike {
  get(topic: string, partition: number): PartitionLogLike | undefined;
}

export interface TopicRegistryLike {
  get(name: string): { partitions: number } | undefined;
  partitionState?(topic: string, partition: number): { leader: number; leaderEpoch?: number } | undefined;
  liveBrokers?(): unknown[];
  onStatesChanged?(listener: () => void): void;
  create(name: string, partitions: number, configs: Record<string, string>, opts?: { internal?: boolean; replicationFactor?: number }): Promise<unknown>;
}

/** The replica manager's acks=all checks (ZooKeeper mode; absent on a broker without replication). */
export interface ReplicationLike {
  /** NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas, else 0. */
  checkEnoughReplicas(topic: string, partition: number): number;
  /** Resolves with 0 once the high watermark reaches `nextOffset`, else with the produce error. */
  waitForReplication(topic: string, partition: number, nextOffset: number, timeoutMs: number, leaderEpoch?: number): Promise<number>;
}

/** How the coordinator's appends wait for the ISR: Kafka's offsets.commit.required.acks=-1 and its timeout. */
export interface CoordinatorAcks {
  /** The replica manager once it runs (it starts after the coordinators). */
  replication: () => ReplicationLike | undefined;
  timeoutMs: number;
  /**
   * The topic's min.insync.replicas (Kafka's transaction.state.log.min.isr), capped by the
   * replication factor it is created with; absent: the broker's default.
   */
  minInsyncReplicas?: number;
}

/**
 * Whether this broker coordinates a partition of a coordinator topic (__consumer_offsets,
 * __transaction_state): it does when the partition's state names it the leader. In a cluster
 * (`onStatesChanged`: the states are followed from ZooKeeper) a partition whose state this broker
 * has not read yet is not its own, as Kafka's coordinator owns a partition only from its election
 * on: a broker learns of a new topic (and creates its logs) a moment before its state, and
 * "owned" then had it acknowledge commits that no other replica had, followers included (seen as
 * NOT_COORDINATOR for the next commit in test/e2e/cluster/offset-commit-replication.test.ts). A
 * lone broker leads every partition, also those of a topic it has not created yet (the first write
 * creates it).
 */
export function leadsCoordinatorPartition(topics: TopicRegistryLike, topic: string, partition: number, nodeId: number): boolean {
  const state = topics.partitionState?.(topic, partition);
  if (state === undefined) return typeof topics.onStatesChanged !== 'function';
  return state.leader === nodeId;
}

const READ_CHUNK = 1 << 20;
const LOCAL_ONLY: AppendedRecords = { replicated: Promise.resolve() };

/** What the coordinator gives __consumer_offsets (Kafka's groupMetadataTopicConfigs, offsets.topic.segment.bytes at its default). */
export const OFFSETS_TOPIC_CONFIGS: Readonly<Record<string, string>> = { 'cleanup.policy': 'compact', 'compression.type': 'producer', 'segment.bytes': '104857600' };

export class TopicCoordinatorLog implements CoordinatorLog {
  private creating: Promise<void> | null = null;

  constructor(
    private readonly logs: LogManagerLike,
    private readonly topics: TopicRegistryLike,
    private readonly configuredPartitions: number,
    private readonly log: Logger,
    private readonly configuredReplicationFactor = 1,
    /** The same log serves the transaction coordinator's __transaction_state. */
    private readonly topic = OFFSETS_TOPIC,
    private readonly topicConfigs: Readonly<Record<string, string>> = OFFSETS_TOPIC_CONFIGS,
    private readonly acks?: CoordinatorAcks,
  ) {}

  partitionCount(): number {
    return this.topics.get(this.topic)?.partitions ?? this.configuredPartitions;
  }

  ensureCreated(): Promise<void> {
    // While a creation is under way the topic is already listed but its logs may not all exist:
    // everyone waits for the same creation.
    if (this.creating) return this.creating;
    if (this.topics.get(this.topic)) return Promise.resolve();
    // offsets.topic.replication.factor copies, so that a group's coordinator moves to another
    // broker with its state when the leader of its partition dies. Kafka refuses to create the
    // topic while fewer brokers are alive (COORDINATOR_NOT_AVAILABLE until enough have registered);
    // kts takes what is there, so that a one- or two-broker cluster keeps working groups.
    const live = this.topics.liveBrokers?.().length ?? 1;
    const replicationFactor = Math.max(1, Math.min(this.configuredReplicationFactor, live));
    const configs = { ...this.topicConfigs };
    const minIsr = this.acks?.minInsyncReplicas;
    if (minIsr !== undefined) configs['min.insync.replicas'] = String(Math.max(1, Math.min(minIsr, replicationFactor)));
    this.creating = this.topics
      .create(this.topic, this.configuredPartitions, configs, { internal: true, replicationFactor })
      .then(
        () => this.log.info(`Created ${this.topic} with ${this.configuredPartitions} partitions and replication factor ${replicationFactor}`),
        (err) => {
          this.creating = null;
          // Another caller may have created it first.
          if (!this.topics.get(this.topic)) throw err;
        },
      );
    return this.creating;
  }

  /** The partition's log; a topic created elsewhere a moment ago may still be opening its logs. */
  private async partitionLog(partition: number): Promise<PartitionLogLike> {
    for (let attempt = 0; ; attempt++) {
      const log = this.logs.get(this.topic, partition);
      if (log) return log;
      if (attempt >= 20) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${this.topic}-${partition} is not available`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async append(partition: number, records: CoordinatorRecord[], timestamp: number, txn?: TxnBatch): Promise<AppendedRecords> {
    await this.ensureCreated();
    const log = await this.partitionLog(partition);
    // acks=-1, as Kafka's coordinators append: refused before the write when the ISR is below
    // min.insync.replicas, acknowledged only once the ISR has it.
    const replication = this.acks?.replication();
    const notEnough = replication?.checkEnoughReplicas(this.topic, partition) ?? 0;
    if (notEnough) throw new KafkaError(notEnough, `${this.topic}-${partition} has fewer in-sync replicas than min.insync.replicas`);
    // A transaction's offsets (TxnOffsetCommit) are a transactional batch of its producer, so that
    // its marker commits or aborts them. The coordinator's writes to a partition are serialized, so
    // the next sequence is the producer's last one here plus one (0 at a new epoch).
    let producer = {};
    if (txn) {
      const entry = log.producerState?.entry(txn.producerId);
      const last = entry && entry.epoch === txn.producerEpoch ? entry.batches[entry.batches.length - 1]?.lastSeq : undefined;
      const baseSequence = last === undefined ? 0 : last === 0x7fffffff ? 0 : last + 1;
      producer = { producerId: txn.producerId, producerEpoch: txn.producerEpoch, baseSequence, transactional: true };
    }
    const batch = buildRecordBatch(
      records.map((r) => ({ key: r.key, value: r.value, timestamp })),
      { now: timestamp, ...producer },
    );
    // The partition's leader epoch goes into the batch, as for a produce (Kafka's coordinator appends as the leader).
    const leaderEpoch = this.topics.partitionState?.(this.topic, partition)?.leaderEpoch;
    const { lastOffset } = await log.append(batch, leaderEpoch === undefined ? undefined : { leaderEpoch });
    if (!replication || !this.acks || lastOffset < 0) return LOCAL_ONLY;
    const replicated = replication.waitForReplication(this.topic, partition, lastOffset + 1, this.acks.timeoutMs, leaderEpoch).then((code) => {
      if (code !== ErrorCode.NONE) throw new KafkaError(code, `${this.topic}-${partition}: offset ${lastOffset} not acknowledged by the in-sync replicas (error ${code})`);
    });
    // Whoever appended handles the outcome; this keeps an unawaited failure from being unhandled.
    replicated.catch(() => {});
    return { replicated };
  }

  async load(
    visit: (partition: number, record: CoordinatorRecord, txnProducerId?: number) => void,
    only?: ReadonlySet<number>,
    onMarker?: (partition: number, producerId: number, commit: boolean) => void,
  ): Promise<void> {
    const info = this.topics.get(this.topic);
    if (!info) return;
    for (let p = 0; p < info.partitions; p++) {
      if (only && !only.has(p)) continue;
      const log = this.logs.get(this.topic, p);
      if (!log) continue;
      try {
        await this.loadPartition(p, log, visit, onMarker);
      } catch (err) {
        // The coordinator cannot start without its state: the start fails with this one line.
        throw new Error(`cannot load the ${this.topic === OFFSETS_TOPIC ? 'groups' : 'transactions'} of ${this.topic}-${p}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  private async loadPartition(
    p: number,
    log: PartitionLogLike,
    visit: (partition: number, record: CoordinatorRecord, txnProducerId?: number) => void,
    onMarker?: (partition: number, producerId: number, commit: boolean) => void,
  ): Promise<void> {
    let offset = log.logStartOffset;
    let chunk = READ_CHUNK;
    while (offset < log.logEndOffset) {
      let records: Buffer;
      try {
        ({ records } = await log.read(offset, chunk));
      } catch (err) {
        // A batch corrupt on disk (the storage layer logged it): what it held is lost; go on after it.
        const skipTo = (err as { corruptLastOffset?: number }).corruptLastOffset;
        if (skipTo === undefined) throw err;
        this.log.warn(`Skipping corrupt batch up to offset ${skipTo} of ${this.topic}-${p}`);
        offset = skipTo + 1;
        continue;
      }
      let next = offset;
      for (const { position, header } of iterateBatches(records)) {
        const last = header.baseOffset + header.lastOffsetDelta;
        if (last < offset) continue;
        next = last + 1;
        const transactional = (header.attributes & Attr.transactional) !== 0;
        if (header.attributes & Attr.control) {
          // A transaction marker: COMMIT (1) or ABORT (0) in the key of its one record.
          if (!onMarker || !transactional) continue;
          const [marker] = decodeRecordBatch(records, position).records;
          const type = marker?.key && marker.key.length >= 4 ? marker.key.readInt16BE(2) : -1;
          if (type === 0 || type === 1) onMarker(p, header.producerId, type === 1);
          continue;
        }
        let decoded;
        try {
          decoded = decodeRecordBatch(records, position).records;
        } catch (err) {
          // It passed its CRC-32C, so it is stored as written: not damage to step over.
          throw new Error(`the batch of offsets ${header.baseOffset}..${last} cannot be decoded (${(err as Error).message})`, { cause: err });
        }
        for (const r of decoded) {
          if (r.offset < offset || !r.key) continue;
          visit(p, { key: Buffer.from(r.key), value: r.value ? Buffer.from(r.value) : null }, transactional ? header.producerId : undefined);
        }
      }
      if (next === offset) {
        // Nothing whole came back: a batch larger than the chunk, or the end of what is readable.
        if (records.length === 0 || chunk >= 1 << 30) break;
        chunk *= 2;
        continue;
      }
      offset = next;
    }
  }
}
