// Fetch v0-v17 (Kafka 3.9's range). The current leader epoch (v9+) is checked as Kafka does; a
// fetcher whose last fetched epoch (v12+) ended earlier here gets a divergingEpoch to truncate to.
// Batches are served as stored bytes (v4+); v0-v1 get magic-0 and v2-v3 magic-1 message sets
// (down-converted); zstd needs v10+. Long poll: wait up to maxWaitMs for minBytes. Fetch sessions
// (v7+) are declined by answering session id 0, so clients keep sending full fetches. v13+ name
// topics by id (KIP-516): an id this broker does not know gets UNKNOWN_TOPIC_ID, listed after the
// known topics and not cutting the long poll short, as Kafka does. v15-v17's additions (replica
// state, node endpoints, replica directory) are for followers.
// Consumers read below the high watermark; followers (replica_id >= 0) up to the log end
// (replication/replica-manager.ts). isolation_level 1 (read_committed, v4+) reads below the last
// stable offset and gets the aborted transactions of the range it reads (storage/log-read.ts);
// every answer carries the partition's last stable offset, as Kafka's.
import type { Encodable } from '../../protocol/codec/schema.js';

import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { Compression, downConvertBatches, iterateBatches } from '../../protocol/records/index.js';
import type { PartitionLog } from '../../storage/index.js';
import type { FetchRequestData, PartitionData } from '../../protocol/generated/01-fetch.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { errorCodeOf, lookupPartition } from './common.js';
import { authorized, clusterAuthorized, Op, Resource } from '../auth/check.js';

const EMPTY = Buffer.alloc(0);
const READ_COMMITTED = 1;

export default defineHandler({
  apiKey: 1,
  minVersion: 0,
  maxVersion: 18,
  async handle(request, ctx) {
    if (ctx.apiVersion >= 7 && request.sessionId !== 0) {
      return { errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] };
    }
    const maxWaitMs = Math.max(0, request.maxWaitMs);
    const minBytes = Math.max(0, request.minBytes);
    const deadline = ctx.broker.now() + maxWaitMs;
    // A follower's fetch (replica_id = its broker id: the field up to v14, ReplicaState from v15) reads
    // past the high watermark; its fetch offset is its log end, recorded by the first read (readAll).
    const replicaId: number = (ctx.apiVersion >= 15 ? request.replicaState?.replicaId : request.replicaId) ?? -1;
    const replicaEpoch = Number((ctx.apiVersion >= 15 ? request.replicaState?.replicaEpoch : undefined) ?? -1);
    // As KafkaApis: a follower needs ClusterAction on the cluster, a consumer Read on each topic.
    const followerDenied = replicaId >= 0 && !clusterAuthorized(ctx, Op.CLUSTER_ACTION);
    for (let first = true; ; first = false) {
      const { responses, bytes, logs, hasError } = await readAll(request, ctx, replicaId, replicaEpoch, first && !followerDenied, followerDenied);
      const remaining = deadline - ctx.broker.now();
      if (bytes >= minBytes || hasError || remaining <= 0 || logs.length === 0) {
        if (ctx.broker.metrics && bytes > 0) countFetched(ctx, responses, replicaId >= 0);
        return { errorCode: 0, sessionId: 0, responses };
      }
      await waitForAppend(logs, remaining);
    }
  },
});

/**
 * `recordFollower`: the first read of a follower's fetch records its position on each partition the
 * fetch passes the checks of (Kafka's updateFollowerFetchState after its read): a fetch fenced by
 * its current leader epoch, one whose tail diverged (its fetch offset counts records this leader does
 * not have) or one outside this log moves neither the high watermark nor the ISR.
 */
async function readAll(request: FetchRequestData, ctx: RequestContext, replicaId: number, replicaEpoch: number, recordFollower: boolean, followerDenied: boolean) {
  const version = ctx.apiVersion;
  const follower = replicaId >= 0;
  let remainingBytes = version >= 3 ? Math.max(0, request.maxBytes) : Number.MAX_SAFE_INTEGER;
  let bytes = 0;
  let hasError = false;
  const logs: PartitionLog[] = [];
  const responses = [];
  const unknownIds = [];
  for (const topic of request.topics) {
    const name: string | undefined = version >= 13 ? ctx.broker.topics.getById(topic.topicId)?.name : topic.topic;
    if (name === undefined) {
      unknownIds.push({ topicId: topic.topicId, partitions: topic.partitions.map((p) => partitionError(p.partition, ErrorCode.UNKNOWN_TOPIC_ID)) });
      continue;
    }
    const partitions = [];
    if (follower ? followerDenied : !authorized(ctx, Op.READ, Resource.TOPIC, name)) {
      hasError = true;
      responses.push({ topic: name, topicId: topic.topicId, partitions: topic.partitions.map((p) => partitionError(p.partition, ErrorCode.TOPIC_AUTHORIZATION_FAILED)) });
      continue;
    }
    for (const p of topic.partitions) {
      const { log, errorCode } = lookupPartition(ctx.broker, name, p.partition, version >= 9 ? p.currentLeaderEpoch : -1);
      if (!log) {
        hasError = true;
        partitions.push(partitionError(p.partition, errorCode));
        continue;
      }
      if (follower && !isAssignedReplica(ctx, name, p.partition, replicaId)) {
        // Kafka's followerReplicaOrThrow: a broker outside the replica set is served nothing and
        // counts for nothing. With an epoch that matched, the pair (replica, epoch) is not known
        // here yet (a reassignment this broker has not heard of): UNKNOWN_LEADER_EPOCH, retried;
        // without one, NOT_LEADER_OR_FOLLOWER.
        hasError = true;
        const epochSent = version >= 9 && p.currentLeaderEpoch >= 0;
        partitions.push(partitionError(p.partition, epochSent ? ErrorCode.UNKNOWN_LEADER_EPOCH : ErrorCode.NOT_LEADER_OR_FOLLOWER));
        continue;
      }
      logs.push(log);
      const limit = Math.min(Math.max(0, p.partitionMaxBytes), remainingBytes);
      try {
        const divergingEpoch = version >= 12 ? divergence(log, p.fetchOffset, p.lastFetchedEpoch) : null;
        if (divergingEpoch) {
          // The fetcher's log has records of an epoch this log ended earlier: it must truncate first.
          hasError = true; // answer at once, as Kafka does not wait on a diverged fetcher
          partitions.push({
            ...partitionError(p.partition, 0),
            highWatermark: log.highWatermark,
            lastStableOffset: log.lastStableOffset,
            logStartOffset: log.logStartOffset,
            divergingEpoch,
          });
          continue;
        }
        if (follower && recordFollower && p.fetchOffset >= log.logStartOffset && p.fetchOffset <= log.logEndOffset) {
          ctx.broker.replication?.followerFetched(name, p.partition, replicaId, p.fetchOffset, replicaEpoch, version >= 5 ? Number(p.logStartOffset) : -1);
        }
        // Kafka hands the first partition with data at least one whole batch, whatever the limits.
        const readCommitted = !follower && version >= 4 && request.isolationLevel === READ_COMMITTED;
        const read = await log.read(p.fetchOffset, limit, { minOneBatch: bytes === 0, toLogEnd: follower, readCommitted });
        const records = version >= 4 ? checkCodecs(read.records, version) : downConvert(read.records, version, p.fetchOffset);
        bytes += records.length;
        remainingBytes = Math.max(0, remainingBytes - records.length);
        partitions.push({
          partitionIndex: p.partition,
          errorCode: 0,
          highWatermark: read.highWatermark,
          lastStableOffset: read.lastStableOffset,
          logStartOffset: read.logStartOffset,
          abortedTransactions: read.abortedTransactions ?? null,
          preferredReadReplica: -1,
          records,
        });
      } catch (err) {
        hasError = true;
        const { code } = errorCodeOf(ctx.broker, err, `fetch from ${name}-${p.partition}`);
        partitions.push({
          ...partitionError(p.partition, code),
          highWatermark: log.highWatermark,
          lastStableOffset: log.lastStableOffset,
          logStartOffset: log.logStartOffset,
        });
      }
    }
    responses.push({ topic: name, topicId: topic.topicId, partitions });
  }
  responses.push(...unknownIds);
  return { responses, bytes, logs, hasError };
}

/** Whether broker `replicaId` holds a replica of the partition (adding replicas of a move included). */
function isAssignedReplica(ctx: RequestContext, topic: string, partition: number, replicaId: number): boolean {
  return ctx.broker.topics.partitionState(topic, partition)?.replicas.includes(replicaId) ?? false;
}

/**
 * Fetch v12+ with lastFetchedEpoch (KIP-595, Kafka's leader does this for any fetcher): where that
 * epoch ended here, when the fetcher's position lies past it, or the epoch is unknown here.
 */
function divergence(log: PartitionLog, fetchOffset: number, lastFetchedEpoch: number): { epoch: number; endOffset: number } | null {
  if (lastFetchedEpoch === undefined || lastFetchedEpoch < 0) return null;
  const { epoch, endOffset } = log.endOffsetForEpoch(lastFetchedEpoch);
  if (epoch < 0 || endOffset < 0) {
    throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `could not determine the end offset of the last fetched epoch ${lastFetchedEpoch}`);
  }
  if (fetchOffset < log.logStartOffset) throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${fetchOffset} is before the log start ${log.logStartOffset}`);
  return epoch < lastFetchedEpoch || endOffset < fetchOffset ? { epoch, endOffset } : null;
}

/** Bytes out per topic, counted once for the answer that is sent (not for each long-poll round). */
function countFetched(ctx: RequestContext, responses: { topic?: string; partitions: { records: Buffer }[] }[], follower: boolean): void {
  for (const t of responses) {
    if (t.topic === undefined) continue;
    let bytes = 0;
    for (const p of t.partitions) bytes += p.records.length;
    if (bytes > 0) ctx.broker.metrics!.fetched(t.topic, bytes, follower);
  }
}

function partitionError(partitionIndex: number, errorCode: number): Encodable<PartitionData> & { records: Buffer } {
  return {
    partitionIndex,
    errorCode,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY,
  };
}

/** zstd batches reach only clients that asked with Fetch v10+. */
function checkCodecs(records: Buffer, version: number): Buffer {
  if (version >= 10 || records.length === 0) return records;
  for (const { header } of iterateBatches(records)) {
    if ((header.attributes & 0x07) === Compression.Zstd) {
      throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 'zstd batches need Fetch v10 or later');
    }
  }
  return records;
}

function downConvert(records: Buffer, version: number, fetchOffset: number): Buffer {
  if (records.length === 0) return records;
  return downConvertBatches(records, version <= 1 ? 0 : 1, fetchOffset);
}

function waitForAppend(logs: PartitionLog[], timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribers: (() => void)[] = [];
    const done = () => {
      clearTimeout(timer);
      for (const unsubscribe of unsubscribers) unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    for (const log of logs) unsubscribers.push(log.onAppend(done));
  });
}
