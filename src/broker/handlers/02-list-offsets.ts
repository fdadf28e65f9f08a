// ListOffsets v0-v11. Timestamps: -1 latest (high watermark), -2 earliest (log start offset),
// -3 the record with the largest timestamp (v7+), -4 the earliest local offset (v8+, KIP-405: with
// no tiered storage, the log start offset), -5 the latest tiered offset (v9+) and -6 the earliest
// offset pending upload (v11+), both -1 without tiered storage as Kafka 4.4 answers; a special
// timestamp below its version is UNSUPPORTED_VERSION, as Kafka's. Otherwise the first offset whose
// timestamp is at or after the target. v10's timeout (for remote reads) has nothing to wait for. The current leader epoch (v4+) is checked and the answer carries the epoch
// of the records at the offset, as Kafka's. v0 answers a list of offsets (`oldStyleOffsets`) by Kafka's legacy rules.
// isolation_level 1 (read_committed, v2+) answers the last stable offset as the latest, and a
// timestamp lookup finds no offset at or past it (Kafka's lastFetchableOffset).
import type { Encodable } from '../../protocol/codec/schema.js';

import type { ListOffsetsPartition, ListOffsetsPartitionResponse } from '../../protocol/generated/02-list-offsets.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { errorCodeOf, lookupPartition } from './common.js';
import { authorized, Op, Resource } from '../auth/check.js';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;
const EARLIEST_PENDING_UPLOAD = -6;
/** The first version that knows each special timestamp below -3. */
const SINCE_VERSION = new Map([
  [EARLIEST_LOCAL, 8],
  [LATEST_TIERED, 9],
  [EARLIEST_PENDING_UPLOAD, 11],
]);
const CONSUMER_REPLICA_ID = -1;
const READ_COMMITTED = 1;

type PartitionLogLike = NonNullable<ReturnType<typeof lookupPartition>['log']>;

export default defineHandler({
  apiKey: 2,
  minVersion: 0,
  maxVersion: 11,
  async handle(request, ctx) {
    const topics = await Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(topic.partitions.map((p) => listOffset(ctx, topic.name, p, request.replicaId, ctx.apiVersion >= 2 && request.isolationLevel === READ_COMMITTED))),
      })),
    );
    return { topics };
  },
});

async function listOffset(ctx: RequestContext, topic: string, p: ListOffsetsPartition, replicaId: number, readCommitted: boolean): Promise<Encodable<ListOffsetsPartitionResponse>> {
  const base = { partitionIndex: p.partitionIndex, leaderEpoch: -1 };
  if (!authorized(ctx, Op.DESCRIBE, Resource.TOPIC, topic)) return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, timestamp: -1, offset: -1, oldStyleOffsets: [] };
  const lookup = lookupPartition(ctx.broker, topic, p.partitionIndex, ctx.apiVersion >= 4 ? p.currentLeaderEpoch : -1);
  if (!lookup.log) return { ...base, errorCode: lookup.errorCode, timestamp: -1, offset: -1, oldStyleOffsets: [] };
  const log = lookup.log;
  try {
    // Kafka's leader has noted its epoch at the log end since it took over.
    await log.maybeAssignEpochStartOffset(lookup.leaderEpoch);
    if (ctx.apiVersion === 0) return { ...base, errorCode: 0, timestamp: -1, offset: -1, oldStyleOffsets: legacyOffsets(ctx, log, p, replicaId) };
    const since = SINCE_VERSION.get(p.timestamp);
    if (since !== undefined && ctx.apiVersion < since) return { ...base, errorCode: ErrorCode.UNSUPPORTED_VERSION, timestamp: -1, offset: -1, oldStyleOffsets: [] };
    if (p.timestamp === LATEST_TIERED || p.timestamp === EARLIEST_PENDING_UPLOAD) return { ...base, errorCode: 0, timestamp: -1, offset: -1, oldStyleOffsets: [] };
    let found: { offset: number; timestamp: number } | null;
    // A consumer's latest is the high watermark; a replica's (a follower's fetcher after
    // OFFSET_OUT_OF_RANGE, or the debugging id -2) the log end, as Kafka answers a non-client request.
    if (p.timestamp === LATEST) found = { offset: replicaId !== CONSUMER_REPLICA_ID ? log.logEndOffset : readCommitted ? log.lastStableOffset : log.highWatermark, timestamp: -1 };
    else if (p.timestamp === EARLIEST || p.timestamp === EARLIEST_LOCAL) found = { offset: log.logStartOffset, timestamp: -1 };
    else if (p.timestamp === MAX_TIMESTAMP && ctx.apiVersion >= 7) found = await log.maxTimestampOffset();
    else if (p.timestamp < 0) return { ...base, errorCode: ErrorCode.INVALID_REQUEST, timestamp: -1, offset: -1, oldStyleOffsets: [] };
    else found = await log.offsetForTimestamp(p.timestamp);
    if (readCommitted && found && (p.timestamp >= 0 || p.timestamp === MAX_TIMESTAMP) && found.offset >= log.lastStableOffset) found = null;
    const offset = found?.offset ?? -1;
    // The epoch of the records at the answered offset (the latest one for the log end), as Kafka answers.
    const epoch = offset < 0 ? undefined : p.timestamp === LATEST ? log.leaderEpochs.latestEpoch() : log.leaderEpochs.epochForOffset(offset);
    return { ...base, leaderEpoch: epoch ?? -1, errorCode: 0, timestamp: found?.timestamp ?? -1, offset, oldStyleOffsets: [] };
  } catch (err) {
    const { code } = errorCodeOf(ctx.broker, err, `list offsets of ${topic}-${p.partitionIndex}`);
    return { ...base, errorCode: code, timestamp: -1, offset: -1, oldStyleOffsets: [] };
  }
}

/**
 * v0, as Kafka 3.9 answers it: the log's legacy offsets (segment modification times, see
 * PartitionLog.legacyOffsetsBefore), none past the high watermark for a consumer (replica id -1),
 * which gets the high watermark instead. A time before the first write answers [].
 */
function legacyOffsets(ctx: RequestContext, log: PartitionLogLike, p: ListOffsetsPartition, replicaId: number): number[] {
  const offsets = log.legacyOffsetsBefore(Number(p.timestamp), p.maxNumOffsets, ctx.broker.now());
  const highWatermark = log.highWatermark;
  if (replicaId !== CONSUMER_REPLICA_ID || !offsets.some((o) => o > highWatermark)) return offsets;
  return [highWatermark, ...offsets.filter((o) => o <= highWatermark)];
}
