// Fetch: one request per partition leader (all in parallel, long-polling up to maxWaitMs), and the
// decoding of what comes back into records: any message format, timestamp types, control batches
// skipped, aborted transactions filtered for read_committed, records before the fetch offset
// dropped (a batch may start earlier).
// Loaded by KafkaClient.fetch on first use, with the record codec and its compression codecs.
import type { PartitionData } from '../protocol/generated/01-fetch.js';
import '../protocol/records/codecs.js';
import { Attr, BatchOffset, LOG_OVERHEAD, decodeRecordBatch, decodeRecords } from '../protocol/records/index.js';
import { ErrorCode } from '../protocol/errors.js';
import type { Cluster } from './cluster.js';
import { kafkaError, type KafkaClientError } from './errors.js';
import { groupByTopic } from './admin.js';
import { routeToLeaders, tpKey, type TopicPartition } from './routing.js';
import { type FetchPartitionRequest, sendFetch } from './fetch-request.js';

export type TimestampType = 'CreateTime' | 'LogAppendTime' | 'NO_TIMESTAMP';

export interface FetchedRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: TimestampType;
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
}

export interface FetchRequestPartition extends TopicPartition {
  offset: number;
  maxBytes?: number;
}

export interface FetchedPartition extends TopicPartition {
  error?: KafkaClientError;
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  records: FetchedRecord[];
  /** Where the next fetch should start (past skipped control/aborted batches too). */
  nextOffset: number;
}

export interface FetchOptions {
  maxWaitMs?: number;
  minBytes?: number;
  maxBytes?: number;
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel?: 0 | 1;
}

export async function fetchPartitions(cluster: Cluster, requests: FetchRequestPartition[], opts: FetchOptions = {}): Promise<FetchedPartition[]> {
  const maxWaitMs = opts.maxWaitMs ?? 500;
  const isolation = opts.isolationLevel ?? 0;
  const byKey = new Map(requests.map((r) => [tpKey(r.topic, r.partition), r]));
  const answers = await routeToLeaders(
    cluster,
    requests,
    async (conn, batch) => {
      const topics = groupByTopic(batch).map(([topic, items]) => [topic, items.map((i) => ({ partition: i.partition, fetchOffset: i.offset, partitionMaxBytes: i.maxBytes ?? 1048576 }))] as [string, FetchPartitionRequest[]]);
      const answered = await sendFetch(conn, cluster, topics, { maxWaitMs, minBytes: opts.minBytes ?? 1, maxBytes: opts.maxBytes ?? 52428800, isolationLevel: isolation, timeoutMs: maxWaitMs + 30000 });
      const m = new Map<string, FetchedPartition>();
      for (const t of answered) {
        for (const p of t.partitions) {
          const req = byKey.get(tpKey(t.topic, p.partitionIndex));
          if (!req) continue;
          m.set(tpKey(t.topic, p.partitionIndex), decodePartition(req, p, isolation));
        }
      }
      return m;
    },
    2,
  );
  return requests.map((r) => {
    const a = answers.get(tpKey(r.topic, r.partition)) as FetchedPartition | { errorCode: number } | undefined;
    if (a && 'records' in a) return a;
    const code = a?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
    return { topic: r.topic, partition: r.partition, errorCode: code, error: kafkaError(code), highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: [], nextOffset: r.offset };
  });
}

function decodePartition(req: FetchRequestPartition, p: PartitionData, isolation: number): FetchedPartition {
  const base = {
    topic: req.topic,
    partition: req.partition,
    errorCode: p.errorCode,
    highWatermark: p.highWatermark,
    lastStableOffset: p.lastStableOffset ?? -1,
    logStartOffset: p.logStartOffset ?? -1,
  };
  if (p.errorCode !== 0) return { ...base, error: kafkaError(p.errorCode), records: [], nextOffset: req.offset };
  const aborted = isolation === 1 ? (p.abortedTransactions ?? []) : [];
  const { records, nextOffset } = decodeFetchedRecords(req.topic, req.partition, p.records ?? null, req.offset, aborted);
  return { ...base, records, nextOffset };
}

/** Decodes a partition's `records` bytes, starting at `fetchOffset`. */
export function decodeFetchedRecords(
  topic: string,
  partition: number,
  buf: Buffer | null,
  fetchOffset: number,
  abortedTransactions: { producerId: number; firstOffset: number }[] = [],
): { records: FetchedRecord[]; nextOffset: number } {
  const out: FetchedRecord[] = [];
  let nextOffset = fetchOffset;
  if (!buf || buf.length === 0) return { records: out, nextOffset };
  const aborted = [...abortedTransactions].sort((a, b) => a.firstOffset - b.firstOffset);
  const abortedProducers = new Set<number>();
  let pos = 0;
  while (buf.length - pos > 16) {
    const size = buf.readInt32BE(pos + BatchOffset.batchLength);
    const end = pos + LOG_OVERHEAD + size;
    if (size < 0 || end > buf.length) break;
    const magic = buf[pos + 16];
    if (magic === 2) {
      const batch = decodeRecordBatch(buf, pos);
      const h = batch.header;
      const lastOffset = h.baseOffset + h.lastOffsetDelta;
      while (aborted.length > 0 && aborted[0].firstOffset <= lastOffset) abortedProducers.add(aborted.shift()!.producerId);
      const transactional = (h.attributes & Attr.transactional) !== 0;
      if (batch.isControl) {
        // An abort marker ends that producer's aborted transaction.
        if (abortedProducers.has(h.producerId) && batch.records[0]?.key?.readInt16BE(2) === 0) abortedProducers.delete(h.producerId);
      } else if (!(transactional && abortedProducers.has(h.producerId))) {
        const timestampType: TimestampType = h.attributes & Attr.logAppendTime ? 'LogAppendTime' : 'CreateTime';
        for (const r of batch.records) {
          if (r.offset < fetchOffset) continue;
          out.push({ topic, partition, offset: r.offset, timestamp: r.timestamp, timestampType, key: r.key, value: r.value, headers: r.headers });
        }
      }
      nextOffset = Math.max(nextOffset, lastOffset + 1);
    } else {
      const attributes = buf[pos + 17];
      const timestampType: TimestampType = magic === 0 ? 'NO_TIMESTAMP' : attributes & Attr.logAppendTime ? 'LogAppendTime' : 'CreateTime';
      for (const r of decodeRecords(buf.subarray(pos, end))) {
        nextOffset = Math.max(nextOffset, r.offset + 1);
        if (r.offset < fetchOffset) continue;
        out.push({ topic, partition, offset: r.offset, timestamp: magic === 0 ? -1 : r.timestamp, timestampType, key: r.key, value: r.value, headers: [] });
      }
    }
    pos = end;
  }
  return { records: out, nextOffset };
}
