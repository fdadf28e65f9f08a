// A batching producer. Records queue per partition; a partition's queue is sent as one record batch
// when it reaches `batchSize` bytes, when `lingerMs` has passed since its first record, or on
// flush(). One batch per partition is in flight at a time, so order within a partition holds even
// across retries. Batches for partitions led by the same broker share a Produce request.
import type * as RecordCodec from '../protocol/records/index.js';

/** Kafka's compression ids; kts has a codec for each (src/protocol/records/codecs.ts). */
const COMPRESSION_IDS = [0, 1, 2, 3, 4];
let recordCodec: Promise<typeof RecordCodec> | undefined;
/** The record codec, with snappy/lz4/zstd registered, loaded by the first batch (not by an admin tool's start). */
const loadRecordCodec = () => (recordCodec ??= import('../protocol/records/codecs.js').then(() => import('../protocol/records/index.js')));
import { ErrorCode } from '../protocol/errors.js';
import type { Cluster, TopicMetadata } from './cluster.js';
import type { Answer, BrokerConnection } from './connection.js';
import { KafkaClientError, isRetriable, kafkaError } from './errors.js';
import { StickyPartitioner, partitionForKey } from './partitioner.js';
import { tpKey } from './routing.js';
import { API } from './versions.js';

export interface ProduceRecord {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: { key: string; value: Buffer | null }[];
  /** CreateTime; default now. */
  timestamp?: number;
  /** Explicit partition; default: the key's hash, or sticky for unkeyed records. */
  partition?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks=0. */
  offset: number;
  timestamp: number;
}

export interface ProducerOptions {
  /** -1 (all), 0 or 1. */
  acks?: number;
  /** 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  compression?: number;
  batchSize?: number;
  lingerMs?: number;
  requestTimeoutMs?: number;
  retries?: number;
  retryBackoffMs?: number;
  /** How long send() may wait for topic metadata or buffer space. */
  maxBlockMs?: number;
  bufferMemory?: number;
  maxRequestSize?: number;
}

interface Pending {
  record: ProduceRecord;
  timestamp: number;
  size: number;
  resolve(m: RecordMetadata): void;
  reject(e: Error): void;
}

interface PartitionQueue {
  topic: string;
  partition: number;
  records: Pending[];
  bytes: number;
  inFlight: boolean;
  firstAt: number;
  attempts: number;
  notBefore: number;
}

const RECORD_OVERHEAD = 24;

export class Producer {
  private readonly opts: Required<ProducerOptions>;
  private readonly queues = new Map<string, PartitionQueue>();
  private readonly sticky = new StickyPartitioner();
  private readonly metadataWaits = new Map<string, Promise<TopicMetadata>>();
  private lingerTimer: NodeJS.Timeout | null = null;
  private buffered = 0;
  private spaceWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private flushing = false;
  private inFlight = 0;

  constructor(
    private readonly cluster: Cluster,
    opts: ProducerOptions = {},
  ) {
    this.opts = {
      acks: opts.acks ?? -1,
      compression: opts.compression ?? 0,
      batchSize: opts.batchSize ?? 16384,
      lingerMs: opts.lingerMs ?? 5,
      requestTimeoutMs: opts.requestTimeoutMs ?? 30000,
      retries: opts.retries ?? 5,
      retryBackoffMs: opts.retryBackoffMs ?? 100,
      maxBlockMs: opts.maxBlockMs ?? 60000,
      bufferMemory: opts.bufferMemory ?? 32 * 1024 * 1024,
      maxRequestSize: opts.maxRequestSize ?? 1048576,
    };
    if (!COMPRESSION_IDS.includes(this.opts.compression)) {
      throw new KafkaClientError(`Compression codec ${this.opts.compression} is not available in kts`, {
        javaName: 'UnsupportedCompressionTypeException',
      });
    }
  }

  /** Sends one record and waits for its acknowledgement. */
  async send(topic: string, record: ProduceRecord): Promise<RecordMetadata> {
    let done!: Promise<RecordMetadata>;
    await this.enqueue(topic, record, (p) => (done = p));
    return done;
  }

  /**
   * Queues a record; resolves once it is accepted (waiting for topic metadata or buffer space).
   * `onQueued` receives the promise of its acknowledgement.
   */
  async enqueue(topic: string, record: ProduceRecord, onQueued?: (ack: Promise<RecordMetadata>) => void): Promise<void> {
    const md = await this.topicMetadata(topic);
    const n = md.partitions.length;
    let partition: number;
    if (record.partition !== undefined) {
      if (record.partition >= n) {
        throw new KafkaClientError(`Invalid partition given with record: ${record.partition} is not in the range [0...${n}].`, { javaName: 'KafkaException' });
      }
      partition = record.partition;
    } else if (record.key) {
      partition = partitionForKey(record.key, n);
    } else {
      partition = this.sticky.partition(topic, md.partitions.map((x) => x.leader));
    }
    const size = recordSize(record);
    if (size > this.opts.maxRequestSize) {
      throw new KafkaClientError(
        `The message is ${size} bytes when serialized which is larger than ${this.opts.maxRequestSize}, which is the value of the max.request.size configuration.`,
        { javaName: 'RecordTooLargeException' },
      );
    }
    const deadline = Date.now() + this.opts.maxBlockMs;
    while (this.buffered + size > this.opts.bufferMemory && this.buffered > 0) {
      if (Date.now() > deadline) throw new KafkaClientError(`Failed to allocate memory within the configured max blocking time ${this.opts.maxBlockMs} ms.`, { javaName: 'TimeoutException' });
      await new Promise<void>((r) => this.spaceWaiters.push(r));
    }
    const key = tpKey(topic, partition);
    let q = this.queues.get(key);
    if (!q) {
      q = { topic, partition, records: [], bytes: 0, inFlight: false, firstAt: 0, attempts: 0, notBefore: 0 };
      this.queues.set(key, q);
    }
    const ack = new Promise<RecordMetadata>((resolve, reject) => {
      if (q.records.length === 0) q.firstAt = Date.now();
      q.records.push({ record, timestamp: record.timestamp ?? Date.now(), size, resolve, reject });
    });
    ack.catch(() => undefined);
    q.bytes += size;
    this.buffered += size;
    onQueued?.(ack);
    if (q.bytes >= this.opts.batchSize || this.opts.lingerMs <= 0) this.drain();
    else this.scheduleLinger();
  }

  /** Sends everything queued and waits until every record is acknowledged or failed. */
  async flush(): Promise<void> {
    this.flushing = true;
    try {
      for (;;) {
        this.drain();
        if (this.buffered === 0 && this.inFlight === 0) return;
        await new Promise<void>((r) => this.idleWaiters.push(r));
      }
    } finally {
      this.flushing = false;
    }
  }

  private async topicMetadata(topic: string): Promise<TopicMetadata> {
    const known = this.cluster.topic(topic);
    if (known && known.errorCode === 0 && known.partitions.length > 0) return known;
    let wait = this.metadataWaits.get(topic);
    if (!wait) {
      wait = this.waitForTopic(topic).finally(() => this.metadataWaits.delete(topic));
      this.metadataWaits.set(topic, wait);
    }
    return wait;
  }

  /** Like Kafka's producer: asks with auto-creation allowed, until the topic shows up or max.block.ms. */
  private async waitForTopic(topic: string): Promise<TopicMetadata> {
    const deadline = Date.now() + this.opts.maxBlockMs;
    let delay = 50;
    for (;;) {
      await this.cluster.refresh([topic], { allowAutoCreate: true });
      const t = this.cluster.topic(topic);
      if (t && t.errorCode === 0 && t.partitions.length > 0) return t;
      if (t && t.errorCode !== 0 && !isRetriable(t.errorCode) && t.errorCode !== ErrorCode.LEADER_NOT_AVAILABLE) throw kafkaError(t.errorCode);
      if (Date.now() + delay > deadline) {
        throw new KafkaClientError(`Topic ${topic} not present in metadata after ${this.opts.maxBlockMs} ms.`, { javaName: 'TimeoutException' });
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 500);
    }
  }

  private scheduleLinger(): void {
    if (this.lingerTimer) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      this.drain();
    }, this.opts.lingerMs);
  }

  /** Sends every ready queue (all of them when flushing). */
  private drain(): void {
    const now = Date.now();
    const byLeader = new Map<number, { q: PartitionQueue; batch: Pending[] }[]>();
    let waiting = false;
    for (const q of this.queues.values()) {
      if (q.inFlight || q.records.length === 0) continue;
      const ready = this.flushing || q.bytes >= this.opts.batchSize || now - q.firstAt >= this.opts.lingerMs || this.opts.lingerMs <= 0;
      if (!ready || now < q.notBefore) {
        waiting = true;
        continue;
      }
      const leader = this.cluster.leaderOf(q.topic, q.partition);
      const batch: Pending[] = [];
      let bytes = 0;
      while (q.records.length > 0 && (batch.length === 0 || bytes + q.records[0].size <= this.opts.batchSize)) {
        const p = q.records.shift()!;
        bytes += p.size;
        batch.push(p);
      }
      q.bytes -= bytes;
      q.firstAt = now;
      q.inFlight = true;
      const md = this.cluster.topic(q.topic);
      if (md) this.sticky.next(q.topic, q.partition, md.partitions.map((x) => x.leader));
      const list = byLeader.get(leader) ?? [];
      list.push({ q, batch });
      byLeader.set(leader, list);
    }
    for (const [leader, items] of byLeader) {
      this.inFlight++;
      void this.sendTo(leader, items).finally(() => {
        this.inFlight--;
        this.afterSend();
      });
    }
    if (waiting) {
      const earliest = Math.min(
        ...[...this.queues.values()].filter((q) => !q.inFlight && q.records.length > 0).map((q) => Math.max(q.notBefore, q.firstAt + this.opts.lingerMs)),
      );
      if (!this.lingerTimer && Number.isFinite(earliest)) {
        this.lingerTimer = setTimeout(() => {
          this.lingerTimer = null;
          this.drain();
        }, Math.max(1, earliest - now));
      }
    }
  }

  private afterSend(): void {
    this.drain();
    if (this.inFlight === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async sendTo(leader: number, items: { q: PartitionQueue; batch: Pending[] }[]): Promise<void> {
    let conn: BrokerConnection;
    let response: Answer<typeof API.Produce> | null;
    const acks = this.opts.acks;
    try {
      if (leader < 0) throw kafkaError(ErrorCode.LEADER_NOT_AVAILABLE);
      const { buildRecordBatch } = await loadRecordCodec();
      conn = await this.cluster.node(leader);
      const topics = new Map<string, { index: number; records: Buffer }[]>();
      for (const { q, batch } of items) {
        const records = buildRecordBatch(
          batch.map((p) => ({ key: p.record.key ?? null, value: p.record.value, headers: p.record.headers, timestamp: p.timestamp })),
          { compression: this.opts.compression },
        );
        const list = topics.get(q.topic) ?? [];
        list.push({ index: q.partition, records });
        topics.set(q.topic, list);
      }
      response = await conn.request(
        API.Produce,
        {
          transactionalId: null,
          acks,
          timeoutMs: this.opts.requestTimeoutMs,
          topicData: [...topics].map(([name, partitionData]) => ({ name, partitionData })),
        },
        { noResponse: acks === 0, timeoutMs: this.opts.requestTimeoutMs + 5000 },
      );
    } catch (err) {
      const e = err instanceof KafkaClientError ? err : new KafkaClientError((err as Error).message, { retriable: true });
      for (const item of items) this.settle(item.q, item.batch, e.code ?? ErrorCode.NETWORK_EXCEPTION, e);
      return;
    }
    if (acks === 0 || response === null) { // null only with acks=0 (noResponse)
      for (const { q, batch } of items) this.complete(q, batch, -1);
      return;
    }
    const results = new Map<string, { errorCode: number; baseOffset: number; errorMessage?: string | null }>();
    for (const t of response.responses) {
      for (const p of t.partitionResponses) results.set(tpKey(t.name, p.index), p);
    }
    for (const { q, batch } of items) {
      const r = results.get(tpKey(q.topic, q.partition));
      if (!r) this.settle(q, batch, ErrorCode.UNKNOWN_SERVER_ERROR, kafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for the partition'));
      else if (r.errorCode !== 0) this.settle(q, batch, r.errorCode, kafkaError(r.errorCode, r.errorMessage));
      else this.complete(q, batch, r.baseOffset);
    }
  }

  private complete(q: PartitionQueue, batch: Pending[], baseOffset: number): void {
    q.inFlight = false;
    q.attempts = 0;
    this.release(batch);
    batch.forEach((p, i) => p.resolve({ topic: q.topic, partition: q.partition, offset: baseOffset < 0 ? -1 : baseOffset + i, timestamp: p.timestamp }));
  }

  /** A failed batch: back to the front of its queue if retriable and attempts remain, else rejected. */
  private settle(q: PartitionQueue, batch: Pending[], code: number, err: KafkaClientError): void {
    q.inFlight = false;
    const retriable = err.retriable || isRetriable(code);
    if (retriable && q.attempts < this.opts.retries) {
      q.attempts++;
      q.records.unshift(...batch);
      q.bytes += batch.reduce((s, p) => s + p.size, 0);
      q.notBefore = Date.now() + this.opts.retryBackoffMs;
      void this.cluster.refresh([q.topic]).catch(() => undefined);
      return;
    }
    q.attempts = 0;
    this.release(batch);
    for (const p of batch) p.reject(err);
  }

  private release(batch: Pending[]): void {
    for (const p of batch) this.buffered -= p.size;
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const w of waiters) w();
  }

  close(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
  }
}

function recordSize(r: ProduceRecord): number {
  let size = RECORD_OVERHEAD + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers ?? []) size += Buffer.byteLength(h.key) + (h.value?.length ?? 0) + 4;
  return size;
}
