// ListOffsets v0-v7. Timestamps: -1 latest (high watermark), -2 earliest (log start offset),
// -3 the record with the largest timestamp (v7+), otherwise the first offset whose timestamp is at
// or after the target. The current leader epoch (v4+) is checked and the answer carries the epoch
// of the records at the offset, as Kafka's. v0 answers a list of offsets (`oldStyleOffsets`) by Kafka's legacy rules.
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { errorCodeOf, lookupPartition } from './common.js';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const CONSUMER_REPLICA_ID = -1;

type PartitionLogLike = NonNullable<ReturnType<typeof lookupPartition>['log']>;

export default defineHandler({
  apiKey: 2,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, ctx) {
    const topics = await Promise.all(
      request.topics.map(async (topic: any) => ({
        name: topic.name,
        partitions: await Promise.all(topic.partitions.map((p: any) => listOffset(ctx, topic.name, p, request.replicaId))),
      })),
    );
    return { topics };
  },
});

async function listOffset(ctx: RequestContext, topic: string, p: any, replicaId: number) {
  const base = { partitionIndex: p.partitionIndex, leaderEpoch: -1 };
  const lookup = lookupPartition(ctx.broker, topic, p.partitionIndex, ctx.apiVersion >= 4 ? p.currentLeaderEpoch : -1);
  if (!lookup.log) return { ...base, errorCode: lookup.errorCode, timestamp: -1, offset: -1, oldStyleOffsets: [] };
  const log = lookup.log;
  try {
    // Kafka's leader has noted its epoch at the log end since it took over.
    await log.maybeAssignEpochStartOffset(lookup.leaderEpoch);
    if (ctx.apiVersion === 0) return { ...base, errorCode: 0, timestamp: -1, offset: -1, oldStyleOffsets: legacyOffsets(ctx, log, p, replicaId) };
    let found: { offset: number; timestamp: number } | null;
    if (p.timestamp === LATEST) found = { offset: log.highWatermark, timestamp: -1 };
    else if (p.timestamp === EARLIEST) found = { offset: log.logStartOffset, timestamp: -1 };
    else if (p.timestamp === MAX_TIMESTAMP && ctx.apiVersion >= 7) found = await log.maxTimestampOffset();
    else if (p.timestamp < 0) return { ...base, errorCode: ErrorCode.INVALID_REQUEST, timestamp: -1, offset: -1, oldStyleOffsets: [] };
    else found = await log.offsetForTimestamp(p.timestamp);
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
function legacyOffsets(ctx: RequestContext, log: PartitionLogLike, p: any, replicaId: number): number[] {
  const offsets = log.legacyOffsetsBefore(Number(p.timestamp), p.maxNumOffsets, ctx.broker.now());
  const highWatermark = log.highWatermark;
  if (replicaId !== CONSUMER_REPLICA_ID || !offsets.some((o) => o > highWatermark)) return offsets;
  return [highWatermark, ...offsets.filter((o) => o <= highWatermark)];
}
