// Produce v0-v11. v0-v2 carry legacy message sets (magic 0/1), up-converted to one magic-2 batch;
// v3+ carry exactly one magic-2 batch per partition, appended as bytes; zstd needs v7+.
// acks=0 gets no response at all. v10+ adds only tagged fields we leave empty.
import { ErrorCode } from '../../protocol/errors.js';
import { BatchOffset, Compression, DEFAULT_MAX_DECOMPRESSED_BYTES, LOG_OVERHEAD } from '../../protocol/records/index.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { prepareBatch, targetCodec, upConvertLegacySet } from '../produce-records.js';
import { errorCodeOf, lookupPartition } from './common.js';

const MAGIC_OFFSET = BatchOffset.magic;

export default defineHandler({
  apiKey: 0,
  minVersion: 0,
  maxVersion: 11,
  async handle(request, ctx) {
    const acks: number = request.acks;
    const validAcks = acks === 0 || acks === 1 || acks === -1;
    const responses = await Promise.all(
      request.topicData.map(async (topic: any) => ({
        name: topic.name,
        partitionResponses: await Promise.all(
          topic.partitionData.map((p: any) =>
            validAcks ? producePartition(ctx, topic.name, p.index, p.records, acks, request.timeoutMs) : errorResult(p.index, ErrorCode.INVALID_REQUIRED_ACKS),
          ),
        ),
      })),
    );
    return acks === 0 ? null : { responses };
  },
});

function errorResult(index: number, errorCode: number, errorMessage: string | null = null) {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage };
}

async function producePartition(ctx: RequestContext, topic: string, partition: number, records: Buffer | null, acks: number, timeoutMs: number) {
  const found = lookupPartition(ctx.broker, topic, partition);
  if (!found.log) return errorResult(partition, found.errorCode);
  const { log, leaderEpoch } = found;
  if (!records || records.length === 0) return errorResult(partition, ErrorCode.INVALID_RECORD, 'Produce request with no records');
  try {
    // Compressed batches are checked inside; compression.type may ask for another codec (produce-records.ts).
    const topicConfigs = ctx.broker.topics.get(topic)?.configs ?? new Map<string, string>();
    const target = targetCodec(ctx.broker.config.topicValue('compression.type', topicConfigs));
    // A batch may not inflate past what one request could carry uncompressed.
    const maxDecompressedBytes = Math.min(DEFAULT_MAX_DECOMPRESSED_BYTES, ctx.broker.config.getNumber('socket.request.max.bytes'));
    let batch: Buffer;
    if (ctx.apiVersion < 3) {
      const logAppendTime = log.config.messageTimestampType === 'LogAppendTime' ? ctx.broker.now() : undefined;
      batch = await upConvertLegacySet(records, target, { logAppendTime, maxDecompressedBytes });
    } else {
      const invalid = checkSingleBatch(records, ctx.apiVersion);
      if (invalid) return errorResult(partition, invalid.code, invalid.message);
      batch = await prepareBatch(records, target, { maxDecompressedBytes, maxMessageBytes: log.config.maxMessageBytes });
    }
    // acks=all with fewer in-sync replicas than min.insync.replicas: refused before anything is written.
    const replication = ctx.broker.replication;
    if (acks === -1 && replication) {
      const code = replication.checkEnoughReplicas(topic, partition);
      if (code) return errorResult(partition, code, `The size of the current ISR is below min.insync.replicas of ${topic}-${partition}`);
    }
    // The leader's epoch is written into the batch (Kafka's leader does so; producers send -1).
    const result = await log.append(batch, { now: ctx.broker.now(), leaderEpoch });
    if (acks === -1 && replication && result.lastOffset >= 0) {
      // Answered once every in-sync replica has the batch (the high watermark passed it), without
      // holding anything else up: a pending promise, ended by the request timeout.
      const code = await replication.waitForReplication(topic, partition, result.lastOffset + 1, timeoutMs);
      if (code) return errorResult(partition, code, code === ErrorCode.REQUEST_TIMED_OUT ? `Not replicated to the ISR of ${topic}-${partition} within ${timeoutMs} ms` : null);
    }
    if (result.recordCount === 0 && result.baseOffset >= 0) {
      // An idempotent producer's retry of a batch already stored: answered with the first write's offsets.
      ctx.broker.log.info(`[${topic}-${partition}] duplicate batch answered with its stored offsets ${result.baseOffset}-${result.lastOffset}`);
    }
    return {
      index: partition,
      errorCode: 0,
      baseOffset: result.baseOffset,
      logAppendTimeMs: result.logAppendTime,
      logStartOffset: result.logStartOffset,
    };
  } catch (err) {
    const { code, message } = errorCodeOf(ctx.broker, err, `produce to ${topic}-${partition}`);
    return errorResult(partition, code, message);
  }
}

/** Produce v3+: exactly one magic-2 batch, whose codec this request version may carry. */
function checkSingleBatch(records: Buffer, apiVersion: number): { code: number; message: string } | null {
  if (records.length < LOG_OVERHEAD + 49 || records[MAGIC_OFFSET] !== 2) {
    return { code: ErrorCode.INVALID_RECORD, message: `Produce v${apiVersion} requires a single magic-2 record batch` };
  }
  const size = LOG_OVERHEAD + records.readInt32BE(BatchOffset.batchLength);
  if (size !== records.length) {
    return { code: ErrorCode.INVALID_RECORD, message: 'Produce requests must contain exactly one record batch per partition' };
  }
  const codec = records.readInt16BE(BatchOffset.attributes) & 0x07;
  if (codec === Compression.Zstd && apiVersion < 7) {
    return { code: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, message: 'zstd compression requires Produce v7 or later' };
  }
  return null;
}
