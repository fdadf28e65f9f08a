// __consumer_offsets as the coordinator's log: created on first need (compacted, internal, with
// offsets.topic.num.partitions partitions), written as uncompressed magic-2 batches, read back in
// full at start. Typed structurally against the storage engine and the topic registry.
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { Attr } from '../../protocol/records/batch-header.js';
import { buildRecordBatch, decodeRecordBatch, iterateBatches } from '../../protocol/records/index.js';
import type { CoordinatorLog, CoordinatorRecord } from './store.js';
import { OFFSETS_TOPIC, type Logger } from './types.js';

export interface PartitionLogLike {
  append(batches: Buffer, opts?: { leaderEpoch?: number }): Promise<unknown>;
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
  create(name: string, partitions: number, configs: Record<string, string>, opts?: { internal?: boolean }): Promise<unknown>;
}

const READ_CHUNK = 1 << 20;

/** What the coordinator gives __consumer_offsets (Kafka's groupMetadataTopicConfigs, offsets.topic.segment.bytes at its default). */
export const OFFSETS_TOPIC_CONFIGS: Readonly<Record<string, string>> = { 'cleanup.policy': 'compact', 'compression.type': 'producer', 'segment.bytes': '104857600' };

export class TopicCoordinatorLog implements CoordinatorLog {
  private creating: Promise<void> | null = null;

  constructor(
    private readonly logs: LogManagerLike,
    private readonly topics: TopicRegistryLike,
    private readonly configuredPartitions: number,
    private readonly log: Logger,
  ) {}

  partitionCount(): number {
    return this.topics.get(OFFSETS_TOPIC)?.partitions ?? this.configuredPartitions;
  }

  ensureCreated(): Promise<void> {
    // While a creation is under way the topic is already listed but its logs may not all exist:
    // everyone waits for the same creation.
    if (this.creating) return this.creating;
    if (this.topics.get(OFFSETS_TOPIC)) return Promise.resolve();
    this.creating = this.topics
      .create(OFFSETS_TOPIC, this.configuredPartitions, { ...OFFSETS_TOPIC_CONFIGS }, { internal: true })
      .then(
        () => this.log.info(`Created ${OFFSETS_TOPIC} with ${this.configuredPartitions} partitions`),
        (err) => {
          this.creating = null;
          // Another caller may have created it first.
          if (!this.topics.get(OFFSETS_TOPIC)) throw err;
        },
      );
    return this.creating;
  }

  /** The partition's log; a topic created elsewhere a moment ago may still be opening its logs. */
  private async partitionLog(partition: number): Promise<PartitionLogLike> {
    for (let attempt = 0; ; attempt++) {
      const log = this.logs.get(OFFSETS_TOPIC, partition);
      if (log) return log;
      if (attempt >= 20) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${OFFSETS_TOPIC}-${partition} is not available`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async append(partition: number, records: CoordinatorRecord[], timestamp: number): Promise<void> {
    await this.ensureCreated();
    const log = await this.partitionLog(partition);
    const batch = buildRecordBatch(
      records.map((r) => ({ key: r.key, value: r.value, timestamp })),
      { now: timestamp },
    );
    // The partition's leader epoch goes into the batch, as for a produce (Kafka's coordinator appends as the leader).
    const leaderEpoch = this.topics.partitionState?.(OFFSETS_TOPIC, partition)?.leaderEpoch;
    await log.append(batch, leaderEpoch === undefined ? undefined : { leaderEpoch });
  }

  async load(visit: (partition: number, record: CoordinatorRecord) => void): Promise<void> {
    const info = this.topics.get(OFFSETS_TOPIC);
    if (!info) return;
    for (let p = 0; p < info.partitions; p++) {
      const log = this.logs.get(OFFSETS_TOPIC, p);
      if (!log) continue;
      try {
        await this.loadPartition(p, log, visit);
      } catch (err) {
        // The group coordinator cannot start without its state: the start fails with this one line.
        throw new Error(`cannot load the groups of ${OFFSETS_TOPIC}-${p}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  private async loadPartition(p: number, log: PartitionLogLike, visit: (partition: number, record: CoordinatorRecord) => void): Promise<void> {
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
        this.log.warn(`Skipping corrupt batch up to offset ${skipTo} of ${OFFSETS_TOPIC}-${p}`);
        offset = skipTo + 1;
        continue;
      }
      let next = offset;
      for (const { position, header } of iterateBatches(records)) {
        const last = header.baseOffset + header.lastOffsetDelta;
        if (last < offset) continue;
        next = last + 1;
        if (header.attributes & Attr.control) continue;
        let decoded;
        try {
          decoded = decodeRecordBatch(records, position).records;
        } catch (err) {
          // It passed its CRC-32C, so it is stored as written: not damage to step over.
          throw new Error(`the batch of offsets ${header.baseOffset}..${last} cannot be decoded (${(err as Error).message})`, { cause: err });
        }
        for (const r of decoded) {
          if (r.offset < offset || !r.key) continue;
          visit(p, { key: Buffer.from(r.key), value: r.value ? Buffer.from(r.value) : null });
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
