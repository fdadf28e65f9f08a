// Produce v0-v13. v0-v2 carry legacy message sets (magic 0/1), up-converted to one magic-2 batch
// (Kafka 4 refuses them; kts serves them unless --as-kafka 4.x); v3+ carry exactly one magic-2
// batch per partition, appended as bytes; zstd needs v7+. acks=0 gets no response at all. v10+
// adds only tagged fields we leave empty; v12 is v11 for everything but transactions (below); v13 names topics by id (UNKNOWN_TOPIC_ID for an unknown one).
// As Kafka: transactional records in a request without a transactional id fail the whole request
// with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, and a control batch (a transaction marker) from a
// client is INVALID_RECORD: only the coordinator's WriteTxnMarkers ends transactions. KIP-890: a
// producer's first transactional batch in a partition is appended only once its coordinator confirms
// the partition is in its transaction (transactions/verification.ts; transaction.partition.
// verification.enable, true by default): else INVALID_TXN_STATE, or TRANSACTION_ABORTABLE for v11+.
// From v12 (transaction version 2) the leader adds the partition to the transaction instead: the
// client sends no AddPartitionsToTxn.
import type { Encodable } from '../../protocol/codec/schema.js';
import type { PartitionProduceResponse, TopicProduceData } from '../../protocol/generated/00-produce.js';
import { ErrorCode } from '../../protocol/errors.js';
import { Attr, BatchOffset, Compression, DEFAULT_MAX_DECOMPRESSED_BYTES, LOG_OVERHEAD } from '../../protocol/records/index.js';
import { defineHandler, type RequestContext } from '../api-handler.js';
import { prepareBatch, targetCodec, upConvertLegacySet } from '../produce-records.js';
import { errorCodeOf, lookupPartition } from './common.js';
import { authorized, Op, Resource } from '../auth/check.js';
import { appendVerified, produceVerificationError } from '../transactions/verification.js';
import { readInt64 } from '../../storage/batch-scan.js';
import { takeAppendTurn } from '../append-turns.js';

const MAGIC_OFFSET = BatchOffset.magic;

export default defineHandler({
  apiKey: 0,
  minVersion: 0,
  maxVersion: 13,
  async handle(request, ctx) {
    const acks: number = request.acks;
    const validAcks = acks === 0 || acks === 1 || acks === -1;
    if (request.transactionalId == null && ctx.apiVersion >= 3 && hasTransactionalRecords(request.topicData)) {
      if (acks === 0) return null;
      return {
        responses: request.topicData.map((topic) => ({
          name: topic.name,
          topicId: topic.topicId,
          partitionResponses: topic.partitionData.map((p) => errorResult(p.index, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)),
        })),
      };
    }
    // As KafkaApis: Write on the transactional id, then Write on each topic.
    const transactionalId: string | null = request.transactionalId ?? null;
    if (transactionalId !== null && !authorized(ctx, Op.WRITE, Resource.TRANSACTIONAL_ID, transactionalId)) {
      if (acks === 0) return null;
      return {
        responses: request.topicData.map((topic) => ({
          name: topic.name,
          topicId: topic.topicId,
          partitionResponses: topic.partitionData.map((p) => errorResult(p.index, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)),
        })),
      };
    }
    const responses = await Promise.all(
      request.topicData.map(async (topic) => {
        const name: string | undefined = ctx.apiVersion >= 13 ? ctx.broker.topics.getById(topic.topicId)?.name : topic.name;
        const denied = name !== undefined && !authorized(ctx, Op.WRITE, Resource.TOPIC, name);
        return {
          name: topic.name,
          topicId: topic.topicId,
          partitionResponses: await Promise.all(
            topic.partitionData.map((p) =>
              !validAcks
                ? errorResult(p.index, ErrorCode.INVALID_REQUIRED_ACKS)
                : denied
                  ? errorResult(p.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED)
                  : name === undefined
                  ? errorResult(p.index, ErrorCode.UNKNOWN_TOPIC_ID)
                  : producePartition(ctx, name, p.index, p.records, acks, request.timeoutMs, transactionalId),
            ),
          ),
        };
      }),
    );
    return acks === 0 ? null : { responses };
  },
});

function errorResult(index: number, errorCode: number, errorMessage: string | null = null): Encodable<PartitionProduceResponse> {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage };
}

async function producePartition(ctx: RequestContext, topic: string, partition: number, records: Buffer | null, acks: number, timeoutMs: number, transactionalId: string | null): Promise<Encodable<PartitionProduceResponse>> {
  const found = lookupPartition(ctx.broker, topic, partition);
  if (!found.log) return errorResult(partition, found.errorCode);
  const { log, leaderEpoch } = found;
  if (!records || records.length === 0) return errorResult(partition, ErrorCode.INVALID_RECORD, 'Produce request with no records');
  // Taken before the first await: this connection's produces to the partition append in request order.
  const turn = takeAppendTurn(ctx.connection, log);
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
    await turn.ready;
    // acks=all with fewer in-sync replicas than min.insync.replicas: refused before anything is written.
    const replication = ctx.broker.replication;
    if (acks === -1 && replication) {
      const code = replication.checkEnoughReplicas(topic, partition);
      if (code) return errorResult(partition, code, `The size of the current ISR is below min.insync.replicas of ${topic}-${partition}`);
    }
    // The leadership may have moved while the batch was prepared (the awaits above): appended to
    // what is now a follower's log, the batch would be on no other replica.
    const still = lookupPartition(ctx.broker, topic, partition);
    if (!still.log || still.log !== log || still.leaderEpoch !== leaderEpoch) return errorResult(partition, still.errorCode || ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const notTakenUp = replication?.checkLeadershipTakenUp(topic, partition, leaderEpoch) ?? 0;
    if (notTakenUp) return errorResult(partition, notTakenUp);
    // The leader's epoch is written into the batch (Kafka's leader does so; producers send -1).
    const appendBatch = () => {
      const appended = log.append(batch, { now: ctx.broker.now(), leaderEpoch });
      turn.done(); // the batch has its place in the log's queue
      return appended;
    };
    let result: Awaited<ReturnType<typeof appendBatch>>;
    const verifier = ctx.broker.txnVerifier;
    const addsPartition = ctx.apiVersion >= 12;
    if (transactionalId !== null && verifier && ctx.apiVersion >= 3 && isTransactionalBatch(records) && (addsPartition || ctx.broker.config.getBoolean('transaction.partition.verification.enable'))) {
      // v12+ is transaction version 2: the leader adds the partition to the transaction itself.
      const q = { transactionalId, producerId: readInt64(records, BatchOffset.producerId), producerEpoch: records.readInt16BE(BatchOffset.producerEpoch), topic, partition, add: addsPartition };
      const verified = await appendVerified(verifier, log, q, async () => {
        // Leadership may have moved while the coordinator was asked.
        const now = lookupPartition(ctx.broker, topic, partition);
        if (now.log !== log || now.leaderEpoch !== leaderEpoch || replication?.checkLeadershipTakenUp(topic, partition, leaderEpoch)) return null;
        return appendBatch();
      });
      if (verified.errorCode) return errorResult(partition, produceVerificationError(verified.errorCode, ctx.apiVersion));
      if (!verified.result) return errorResult(partition, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      result = verified.result;
    } else {
      result = await appendBatch();
    }
    if (acks === -1 && replication && result.lastOffset >= 0) {
      // Answered once every in-sync replica has the batch (the high watermark passed it), without
      // holding anything else up: a pending promise, ended by the request timeout. A leadership
      // that ended meanwhile answers NOT_LEADER_OR_FOLLOWER, never success.
      const code = await replication.waitForReplication(topic, partition, result.lastOffset + 1, timeoutMs, leaderEpoch);
      if (code) return errorResult(partition, code, code === ErrorCode.REQUEST_TIMED_OUT ? `Not replicated to the ISR of ${topic}-${partition} within ${timeoutMs} ms` : null);
    }
    ctx.broker.metrics?.produced(topic, records.length, result.recordCount);
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
    ctx.broker.metrics?.produceFailed(topic);
    const { code, message } = errorCodeOf(ctx.broker, err, `produce to ${topic}-${partition}`);
    return errorResult(partition, code, message);
  } finally {
    turn.done(); // refused or failed before its append: the next produce need not wait for it
  }
}

function isTransactionalBatch(records: Buffer): boolean {
  return records.length > BatchOffset.attributes + 1 && records[BatchOffset.magic] === 2 && (records.readInt16BE(BatchOffset.attributes) & Attr.transactional) !== 0;
}

/** Whether any partition's batch carries the transactional bit (one header field read per partition). */
function hasTransactionalRecords(topicData: readonly TopicProduceData[]): boolean {
  for (const topic of topicData) {
    for (const p of topic.partitionData) {
      const records: Buffer | null = p.records;
      if (records && records.length > BatchOffset.attributes + 1 && records[BatchOffset.magic] === 2 && (records.readInt16BE(BatchOffset.attributes) & Attr.transactional) !== 0) return true;
    }
  }
  return false;
}

/** Produce v3+: exactly one magic-2 batch, whose codec this request version may carry. */
function checkSingleBatch(records: Buffer, apiVersion: number): { code: number; message: string | null } | null {
  if (records.length < LOG_OVERHEAD + 49 || records[MAGIC_OFFSET] !== 2) {
    return { code: ErrorCode.INVALID_RECORD, message: `Produce v${apiVersion} requires a single magic-2 record batch` };
  }
  const size = LOG_OVERHEAD + records.readInt32BE(BatchOffset.batchLength);
  if (size !== records.length) {
    return { code: ErrorCode.INVALID_RECORD, message: 'Produce requests must contain exactly one record batch per partition' };
  }
  const attributes = records.readInt16BE(BatchOffset.attributes);
  // Kafka answers a client's control batch with INVALID_RECORD and no message.
  if ((attributes & Attr.control) !== 0) return { code: ErrorCode.INVALID_RECORD, message: null };
  const codec = attributes & 0x07;
  if (codec === Compression.Zstd && apiVersion < 7) {
    return { code: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, message: 'zstd compression requires Produce v7 or later' };
  }
  return null;
}
