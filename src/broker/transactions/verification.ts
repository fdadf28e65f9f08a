// KIP-890's defence on the partition leader (Kafka's AddPartitionsToTxnManager and the log's
// verification guard): before the first transactional batch of a producer is appended to a
// partition where it has no open transaction, the leader asks the transaction coordinator whether
// the partition is in that producer's ongoing transaction (AddPartitionsToTxn with verifyOnly, or
// a direct call when this broker is the coordinator). A batch its coordinator never heard of would
// otherwise open a transaction no marker ever ends (a hanging transaction holding the LSO back).
//
// Verification of one producer's first batches on one partition is serialized, so that its
// batches in flight are appended in the order they came; a marker written meanwhile (the
// transaction ended while it was being verified) drops the guard and the batch is refused.
import { BrokerConnection, type ClientSecurity } from '../../client/connection.js';
import { API } from '../../client/versions.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { BrokerContext } from '../broker-context.js';
import { TXN_TOPIC } from './records.js';
import { TV_2 } from './state.js';

export interface VerifyQuery {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  topic: string;
  partition: number;
  /** Transaction version 2 (Produce v12+, TxnOffsetCommit v5+): the coordinator adds the partition. */
  add?: boolean;
}

type VerifierBroker = Pick<BrokerContext, 'nodeId' | 'topics' | 'txnCoordinator' | 'log'>;

/** A pending verification per partition log and producer; a marker for the producer drops it. */
const guards = new WeakMap<object, Map<number, object>>();
/** The tail of the serialized first-batch appends per partition log and producer. */
const tails = new WeakMap<object, Map<number, Promise<void>>>();

/** A marker for `producerId` was written to `log`: a verification in progress there no longer holds. */
export function clearVerificationGuard(log: object, producerId: number): void {
  guards.get(log)?.delete(producerId);
}

/**
 * Runs `append` for a transactional batch of `q`'s producer once the partition is known to be in its
 * transaction: at once when the log already has the producer's open transaction at this epoch, else
 * after the coordinator confirms it. Returns the append's result, or the error code to answer.
 */
export async function appendVerified<T>(
  verifier: TxnVerifier,
  log: { producerState: { entry(id: number): { epoch: number; currentTxnFirstOffset: number } | undefined } },
  q: VerifyQuery,
  append: () => Promise<T>,
): Promise<{ errorCode: number; result?: T }> {
  const open = () => {
    const e = log.producerState.entry(q.producerId);
    return e !== undefined && e.currentTxnFirstOffset >= 0 && e.epoch === q.producerEpoch;
  };
  if (open()) return { errorCode: 0, result: await append() };
  let byProducer = tails.get(log);
  if (!byProducer) tails.set(log, (byProducer = new Map()));
  const previous = byProducer.get(q.producerId) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  byProducer.set(q.producerId, mine);
  try {
    await previous;
    if (open()) return { errorCode: 0, result: await append() };
    let byLog = guards.get(log);
    if (!byLog) guards.set(log, (byLog = new Map()));
    let guard = byLog.get(q.producerId);
    if (!guard) byLog.set(q.producerId, (guard = {}));
    const errorCode = leaderAnswer(await verifier.verify(q));
    if (errorCode) return { errorCode };
    // The transaction ended (its marker was written here) while the coordinator was asked.
    if (guards.get(log)?.get(q.producerId) !== guard) return { errorCode: ErrorCode.INVALID_TXN_STATE };
    return { errorCode: 0, result: await append() };
  } finally {
    release();
    if (byProducer.get(q.producerId) === mine) byProducer.delete(q.producerId);
  }
}

interface Waiting {
  q: VerifyQuery;
  resolve: (code: number) => void;
}

/**
 * Asks the coordinator of a transactional id: the local TransactionCoordinator, or the leader of its
 * __transaction_state partition with AddPartitionsToTxn v4-5 (verifyOnly, or adding the
 * partition for transaction version 2), one request per
 * coordinator for everything that waits (the requests of one turn of the event loop are batched).
 * Answers the coordinator's code (leaderAnswer maps it for a producer).
 */
export class TxnVerifier {
  private readonly conns = new Map<number, Promise<BrokerConnection>>();
  private readonly queued = new Map<number, Waiting[]>();
  private closed = false;

  constructor(
    private readonly broker: VerifierBroker,
    /** The inter-broker listener's TLS/SASL settings (security/inter-broker.ts). */
    private readonly security: () => ClientSecurity | undefined = () => undefined,
  ) {}

  async verify(q: VerifyQuery): Promise<number> {
    const coordinator = this.broker.txnCoordinator;
    if (!coordinator || this.closed) return ErrorCode.NOT_ENOUGH_REPLICAS;
    const txnPartition = coordinator.partitionFor(q.transactionalId);
    const state = this.broker.topics.partitionState(TXN_TOPIC, txnPartition);
    const leader = state === undefined ? this.broker.nodeId : state.leader;
    let code: number;
    if (leader === this.broker.nodeId) {
      code = q.add ? await coordinator.addPartitions(q.transactionalId, q.producerId, q.producerEpoch, [[q.topic, q.partition]], TV_2) : await coordinator.verifyPartitionInTransaction(q);
    }
    else if (leader < 0) code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    else code = await this.askRemote(leader, q);
    return code;
  }

  private askRemote(nodeId: number, q: VerifyQuery): Promise<number> {
    return new Promise((resolve) => {
      let waiting = this.queued.get(nodeId);
      if (!waiting) {
        this.queued.set(nodeId, (waiting = []));
        setImmediate(() => void this.flush(nodeId));
      }
      waiting.push({ q, resolve });
    });
  }

  private async flush(nodeId: number): Promise<void> {
    const waiting = this.queued.get(nodeId) ?? [];
    this.queued.delete(nodeId);
    const all = (code: number) => waiting.forEach((w) => w.resolve(code));
    // One entry per transactional id in the request (its key); a second query of the same id waits for the next.
    const byTxn = new Map<string, Waiting[]>();
    const later: Waiting[] = [];
    for (const w of waiting) {
      const same = byTxn.get(w.q.transactionalId);
      if (!same) byTxn.set(w.q.transactionalId, [w]);
      else if (same[0].q.producerId === w.q.producerId && same[0].q.producerEpoch === w.q.producerEpoch && !same[0].q.add === !w.q.add) same.push(w);
      else later.push(w);
    }
    for (const w of later) void this.askRemote(nodeId, w.q).then(w.resolve);
    const transactions = [...byTxn.values()].map((ws) => {
      const topics = new Map<string, Set<number>>();
      for (const { q } of ws) {
        let ps = topics.get(q.topic);
        if (!ps) topics.set(q.topic, (ps = new Set()));
        ps.add(q.partition);
      }
      const { transactionalId, producerId, producerEpoch } = ws[0].q;
      return { transactionalId, producerId, producerEpoch, verifyOnly: !ws[0].q.add, topics: [...topics].map(([name, ps]) => ({ name, partitions: [...ps] })) };
    });
    let body;
    try {
      const conn = await this.connection(nodeId);
      body = await conn.request(API.AddPartitionsToTxn, { transactions });
    } catch (err) {
      this.broker.log.warn(`Verifying transactional partitions with broker ${nodeId} failed: ${(err as Error).message}`);
      this.drop(nodeId);
      return all(ErrorCode.NETWORK_EXCEPTION);
    }
    // A refusal of the whole request: the producer is not to see CLUSTER_AUTHORIZATION_FAILED.
    if (body.errorCode) return all(body.errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED ? ErrorCode.INVALID_TXN_STATE : body.errorCode);
    const codes = new Map<string, number>();
    for (const t of body.resultsByTransaction ?? []) {
      for (const topic of t.topicResults ?? []) {
        for (const p of topic.resultsByPartition ?? []) codes.set(`${t.transactionalId}\0${topic.name}\0${p.partitionIndex}`, p.partitionErrorCode);
      }
    }
    for (const w of byTxn.values()) {
      for (const { q, resolve } of w) resolve(codes.get(`${q.transactionalId}\0${q.topic}\0${q.partition}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR);
    }
  }

  private connection(nodeId: number): Promise<BrokerConnection> {
    let p = this.conns.get(nodeId);
    if (!p) {
      const endpoint = this.broker.topics.liveBrokers().find((b) => b.nodeId === nodeId);
      if (!endpoint) return Promise.reject(new Error(`broker ${nodeId} is not alive`));
      p = BrokerConnection.open(endpoint.host, endpoint.port, { clientId: `broker-${this.broker.nodeId}-txn-verifier`, connectTimeoutMs: 10_000, requestTimeoutMs: 30_000, security: this.security() });
      this.conns.set(nodeId, p);
      p.then(
        (c) => c.onClose(() => this.conns.get(nodeId) === p && this.conns.delete(nodeId)),
        () => this.conns.get(nodeId) === p && this.conns.delete(nodeId),
      );
    }
    return p;
  }

  private drop(nodeId: number): void {
    const p = this.conns.get(nodeId);
    this.conns.delete(nodeId);
    p?.then((c) => c.close(), () => {});
  }

  close(): void {
    this.closed = true;
    for (const p of this.conns.values()) p.then((c) => c.close(), () => {});
    this.conns.clear();
  }
}

/**
 * The coordinator's answer as the leader gives it to the producer (Kafka's ReplicaManager): a fenced
 * producer is INVALID_PRODUCER_EPOCH; a coordinator busy, moving or loading is the retriable
 * NOT_ENOUGH_REPLICAS (producers do not know those codes from a Produce).
 */
function leaderAnswer(code: number): number {
  switch (code) {
    case ErrorCode.PRODUCER_FENCED:
      return ErrorCode.INVALID_PRODUCER_EPOCH;
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.NOT_ENOUGH_REPLICAS;
    default:
      return code;
  }
}

/** TRANSACTION_ABORTABLE is for Produce v11+ clients; older ones are told INVALID_TXN_STATE. */
export function produceVerificationError(code: number, produceVersion: number): number {
  return code === ErrorCode.TRANSACTION_ABORTABLE && produceVersion < 11 ? ErrorCode.INVALID_TXN_STATE : code;
}
