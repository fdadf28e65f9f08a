// DeleteRecords v0-v2: advance each partition's log start offset; -1 means the high watermark.
import { defineHandler } from '../api-handler.js';
import { errorCodeOf, lookupPartition } from './common.js';
import { ErrorCode } from '../../protocol/errors.js';
import { authorized, Op, Resource } from '../auth/check.js';

export default defineHandler({
  apiKey: 21,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, ctx) {
    const topics = await Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(
          topic.partitions.map(async (p) => {
            if (!authorized(ctx, Op.DELETE, Resource.TOPIC, topic.name)) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
            const { log, errorCode } = lookupPartition(ctx.broker, topic.name, p.partitionIndex);
            if (!log) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode };
            try {
              const target = p.offset === -1 ? log.highWatermark : p.offset;
              const lowWatermark = await log.deleteRecordsBefore(target);
              // Replicated: answered once every live replica's log start followed (its fetcher takes
              // the leader's from its next fetch answer), or REQUEST_TIMED_OUT at the request's timeout.
              const replicated = ctx.broker.replication?.waitForLowWatermark(topic.name, p.partitionIndex, target, request.timeoutMs);
              if (replicated) return { partitionIndex: p.partitionIndex, ...(await replicated) };
              return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: 0 };
            } catch (err) {
              const { code } = errorCodeOf(ctx.broker, err, `delete records of ${topic.name}-${p.partitionIndex}`);
              return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: code };
            }
          }),
        ),
      })),
    );
    return { topics };
  },
});
