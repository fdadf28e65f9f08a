// The source tasks' producer: an idempotent producer whose id, epoch and per-partition sequence
// numbers the worker keeps in its offsets file. A batch sent again after a crash with the same
// producer id and sequence numbers is recognised by the broker as a duplicate (it answers with the
// first write's offsets), which is what lets a restarted source task re-send its last unconfirmed
// batch without writing its records twice.
import { buildRecordBatch } from '../protocol/records/index.js';
import { ErrorCode } from '../protocol/index.js';
import type { Cluster } from '../client/cluster.js';
import { KafkaClientError, isRetriable, kafkaError } from '../client/errors.js';
import { API } from '../client/versions.js';

export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

export interface OutgoingRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: { key: string; value: Buffer | null }[];
  timestamp: number;
}

export class SequenceError extends Error {
  override name = 'SequenceError';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function initProducerId(cluster: Cluster): Promise<ProducerIdentity> {
  for (let attempt = 0; ; attempt++) {
    const md = cluster.metadata.brokers.length > 0 ? cluster.metadata : await cluster.refresh([]);
    const broker = md.brokers[attempt % md.brokers.length];
    const conn = await cluster.node(broker.nodeId);
    const body = await conn.request(API.InitProducerId, { transactionalId: null, transactionTimeoutMs: 2147483647, producerId: -1, producerEpoch: -1 });
    if (body.errorCode === 0) return { producerId: Number(body.producerId), producerEpoch: body.producerEpoch };
    if (!isRetriable(body.errorCode) || attempt >= 20) throw kafkaError(body.errorCode);
    await sleep(Math.min(100 * 2 ** attempt, 1000));
  }
}

/**
 * Sends `records` as one batch to topic-partition with the given first sequence number, retrying
 * retriable errors until `deadline` (a retry is safe: same sequence numbers). Resolves with the base
 * offset; throws SequenceError when the broker does not know the producer or the sequence.
 */
export async function sendBatch(
  cluster: Cluster,
  id: ProducerIdentity,
  topic: string,
  partition: number,
  baseSequence: number,
  records: OutgoingRecord[],
  deadline: number,
): Promise<number> {
  const batch = buildRecordBatch(records, { producerId: id.producerId, producerEpoch: id.producerEpoch, baseSequence });
  for (let attempt = 0; ; attempt++) {
    let code: number;
    let message: string | null = null;
    try {
      await cluster.topicMetadata(topic, attempt > 0);
      const leader = cluster.leaderOf(topic, partition);
      if (leader < 0) throw kafkaError(ErrorCode.LEADER_NOT_AVAILABLE);
      const conn = await cluster.node(leader);
      const body = await conn.request(API.Produce, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 30000,
        topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
      });
      const p = body.responses?.[0]?.partitionResponses?.[0];
      code = p?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      message = p?.errorMessage ?? null;
      if (code === 0 || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) return Number(p.baseOffset);
    } catch (err) {
      if (!(err instanceof KafkaClientError) || !(err.retriable || (err.code !== undefined && isRetriable(err.code)))) throw err;
      code = err.code ?? ErrorCode.NETWORK_EXCEPTION;
    }
    if (code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code === ErrorCode.UNKNOWN_PRODUCER_ID || code === ErrorCode.INVALID_PRODUCER_EPOCH) {
      throw new SequenceError(`${topic}-${partition}: the broker refused sequence ${baseSequence} of producer ${id.producerId} (error ${code})`);
    }
    if (!isRetriable(code) || Date.now() >= deadline) throw kafkaError(code, message);
    await sleep(Math.min(100 * 2 ** attempt, 1000));
  }
}
