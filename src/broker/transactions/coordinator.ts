// The transaction coordinator (Kafka's TransactionCoordinator + TransactionStateManager, KIP-98):
// every transactional id belongs to one partition of __transaction_state (hash of the id), whose
// leader coordinates it. Its state (state.ts) changes only once the change is in that partition;
// EndTxn answers once PrepareCommit/PrepareAbort is written, then the markers go to every partition
// of the transaction (markers.ts) and CompleteCommit/CompleteAbort is written. A restart reloads the
// partition and finishes what was prepared.
import { ErrorCode, errorName, KafkaError } from '../../protocol/errors.js';
import { partitionForGroup } from '../groups/records.js';
import type { CoordinatorLog } from '../groups/store.js';
import type { Logger } from '../logger.js';
import { TransactionPartitionOwnership } from './ownership.js';
import { TxnTimelines } from './timeline.js';
import { decodeTxnKey, decodeTxnValue, encodeTxnKey, encodeTxnValue } from './records.js';
import { epochExhausted, expirationAllowed, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, SHORT_MAX, stateByName, stateName, TV_1, TxnMetadata, TxnState, type TxnTransit } from './state.js';
import { raceTimeout } from '../../util/timeout.js';
import type { InitProducerIdResponseData } from '../../protocol/generated/22-init-producer-id.js';
import type { TransactionState } from '../../protocol/generated/65-describe-transactions.js';

export interface TxnSettings {
  /** TransactionLogValue version written: 1 as Kafka 4.x (transaction.version >= 1), 0 as Kafka 3.9. */
  logValueVersion?: 0 | 1;
  maxTimeoutMs: number;
  abortTimedOutIntervalMs: number;
  expirationMs: number;
  expirationIntervalMs: number;
}

/** One commit/abort marker for one partition. Rejects with a KafkaError the coordinator retries on. */
export interface MarkerWrite {
  topic: string;
  partition: number;
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  commit: boolean;
  transactionalId: string;
  /** The transaction version of the transaction ended (WriteTxnMarkers v2): 2 makes the partition check the epoch strictly. */
  transactionVersion?: number;
}

export interface TransactionCoordinatorOptions {
  store: CoordinatorLog;
  settings: TxnSettings;
  now: () => number;
  log: Logger;
  generateProducerId: () => Promise<number>;
  writeMarker: (m: MarkerWrite) => Promise<void>;
  /** Whether this broker leads a __transaction_state partition (always on a single broker). */
  ownsPartition?: (partition: number) => boolean;
  /** The coordinator epoch of a partition: its leader epoch. */
  coordinatorEpoch?: (partition: number) => number;
  /** Called when leadership of __transaction_state may have moved. */
  onStatesChanged?: (listener: () => void) => void;
  /** Whether this broker leads a data partition (its marker is a local append, not a request). */
  leadsPartition?: (topic: string, partition: number) => boolean;
  /**
   * Fault hook for crash tests: a transaction of an id it names stops after its markers are
   * written and before its Complete state is, so that a kill -9 can land exactly there.
   */
  haltBeforeComplete?: (transactionalId: string) => boolean;
}

/**
 * How long a request meeting a transaction whose markers are all local appends in progress waits
 * for them before answering CONCURRENT_TRANSACTIONS anyway.
 */
const LOCAL_COMPLETION_WAIT_MS = 5000;

export type InitResult = Omit<InitProducerIdResponseData, 'throttleTimeMs'>;

export type DescribedTransaction = TransactionState;

/** A group commit's bounds: far below the topic's max.message.bytes (1 MB), as few records as a busy coordinator gathers. */
const MAX_GROUP_RECORDS = 512;
const MAX_GROUP_BYTES = 256 * 1024;

interface AppendOutcome {
  code: number;
  replicated?: Promise<void>;
}

interface QueuedWrite {
  transactionalId: string;
  key: Buffer;
  value: Buffer | null;
  settle: (outcome: AppendOutcome) => void;
}

interface WriteGroup {
  records: QueuedWrite[];
  bytes: number;
}

const MARKER_RETRY_MIN_MS = 100;
const MARKER_RETRY_MAX_MS = 2000;

export class TransactionCoordinator {
  readonly txns = new Map<string, TxnMetadata>();
  readonly loadingPartitions = new Set<number>();
  /**
   * Whether a partition this broker leads has been taken up (read from the replica) by the
   * ownership follower (ownership.ts); always, without one (a lone broker loads everything at start).
   */
  isLoaded: (partition: number) => boolean = () => true;
  closed = false;
  /** Per partition of __transaction_state: the last append queued, and the last apply (after its replication). */
  private readonly writeTails = new Map<number, Promise<unknown>>();
  private readonly applyTails = new Map<number, Promise<unknown>>();
  /** Per partition of __transaction_state: the records waiting for the append in flight (group commit). */
  private readonly openGroups = new Map<number, WriteGroup>();
  private closeNow: () => void = () => {};
  /** Resolves when close() begins: writes waiting for the ISR give up. */
  private readonly closing = new Promise<void>((resolve) => (this.closeNow = resolve));
  private readonly markerRuns = new Set<Promise<void>>();
  /** Completions (markers, then the Complete state) of transactions whose partitions this broker all leads. */
  private readonly localCompletions = new Map<TxnMetadata, Promise<void>>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private readonly ownsPartition: (partition: number) => boolean;
  /** Each transaction's steps, for a DEBUG line once it is complete. */
  private readonly timelines: TxnTimelines;

  private constructor(private readonly opts: TransactionCoordinatorOptions) {
    this.ownsPartition = opts.ownsPartition ?? (() => true);
    this.timelines = new TxnTimelines(opts.log);
  }

  static async start(opts: TransactionCoordinatorOptions): Promise<TransactionCoordinator> {
    const c = new TransactionCoordinator(opts);
    const started = Date.now();
    const loaded = await c.loadPartitions();
    if (loaded > 0) opts.log.info(`Loaded ${loaded} transactional ids from __transaction_state in ${Date.now() - started} ms`);
    c.finishPrepared(() => true);
    if (opts.onStatesChanged) {
      const ownership = new TransactionPartitionOwnership(c, c.ownsPartition);
      opts.onStatesChanged(() => void ownership.follow());
      void ownership.follow();
    }
    const every = (ms: number, fn: () => Promise<unknown>) => {
      let running = false;
      const t = setInterval(() => {
        if (running || c.closed) return;
        running = true;
        fn()
          .catch((err) => opts.log.warn(`Transaction coordinator task failed: ${(err as Error).message}`))
          .finally(() => (running = false));
      }, ms);
      t.unref();
      c.timers.push(t);
    };
    every(opts.settings.abortTimedOutIntervalMs, () => c.abortTimedOutTransactions());
    every(opts.settings.expirationIntervalMs, () => c.expireTransactionalIds());
    return c;
  }

  get store(): CoordinatorLog {
    return this.opts.store;
  }

  partitionFor(transactionalId: string): number {
    return partitionForGroup(transactionalId, this.opts.store.partitionCount());
  }

  /** FindCoordinator creates __transaction_state when it is first needed, as Kafka does. */
  ensureTopic(): Promise<void> {
    return this.opts.store.ensureCreated();
  }

  /** NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS / 0 for a transactional id. */
  coordinatorError(transactionalId: string): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    const p = this.partitionFor(transactionalId);
    if (!this.ownsPartition(p)) return ErrorCode.NOT_COORDINATOR;
    // Elected, but the load has not begun (the state is read before the listener runs, and a pass
    // loading other partitions delays it): the ids are not in memory yet, and the load will replace
    // whatever was answered meanwhile, a new producer id included (INVALID_PRODUCER_ID_MAPPING next).
    if (this.loadingPartitions.has(p) || !this.isLoaded(p)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  // ---- InitProducerId ----

  async initProducerId(transactionalId: string, timeoutMs: number, expected?: { producerId: number; producerEpoch: number }): Promise<InitResult> {
    const fail = (errorCode: number): InitResult => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST);
    if (!(timeoutMs > 0 && timeoutMs <= this.opts.settings.maxTimeoutMs)) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const err = this.coordinatorError(transactionalId);
    if (err) return fail(err);
    let txn = this.txns.get(transactionalId);
    if (!txn) {
      const producerId = await this.opts.generateProducerId();
      const again = this.coordinatorError(transactionalId);
      if (again) return fail(again);
      txn = this.txns.get(transactionalId) ?? new TxnMetadata(transactionalId, producerId, NO_PRODUCER_EPOCH, timeoutMs, TxnState.Empty, this.opts.now());
      this.txns.set(transactionalId, txn);
    }
    await this.awaitLocalCompletion(txn);
    // A producer id for a rotation is fetched before the checks, so that they and the transition
    // happen with no await between them.
    const rotation = epochExhausted(txn.producerEpoch) ? await this.opts.generateProducerId() : -1;
    if (txn.pending) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    if (expected && !(txn.producerEpoch === NO_PRODUCER_EPOCH || expected.producerId === txn.producerId || (expected.producerId === txn.previousProducerId && epochExhausted(expected.producerEpoch)))) {
      return fail(ErrorCode.PRODUCER_FENCED);
    }
    const now = this.opts.now();
    switch (txn.state) {
      case TxnState.PrepareAbort:
      case TxnState.PrepareCommit:
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case TxnState.Empty:
      case TxnState.CompleteAbort:
      case TxnState.CompleteCommit: {
        let transit: TxnTransit | null;
        if (epochExhausted(txn.producerEpoch) && (!expected || expected.producerEpoch === txn.producerEpoch)) {
          transit = txn.prepareProducerIdRotation(rotation, timeoutMs, now, expected !== undefined);
        } else {
          transit = txn.prepareIncrementEpoch(timeoutMs, expected?.producerEpoch, now);
          if (!transit) return fail(ErrorCode.PRODUCER_FENCED);
        }
        const code = await this.persist(txn, transit);
        if (code) return fail(code);
        this.opts.log.info(`Initialized transactionalId ${transactionalId} with producerId ${transit.producerId} and producer epoch ${transit.producerEpoch} on partition __transaction_state-${this.partitionFor(transactionalId)}`);
        return { errorCode: 0, producerId: transit.producerId, producerEpoch: transit.producerEpoch };
      }
      case TxnState.Ongoing: {
        // The old producer is fenced and its transaction aborted; this one retries (and gets the next epoch).
        const code = await this.fenceAndAbort(txn, now);
        return fail(code || ErrorCode.CONCURRENT_TRANSACTIONS);
      }
      default:
        throw new Error(`transactional id ${transactionalId} is ${stateName(txn.state)}, which it never should be here`);
    }
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn ----

  /** The transaction's own checks (Kafka's handleAddPartitionsToTransaction); 0 = added. */
  async addPartitions(transactionalId: string, producerId: number, producerEpoch: number, partitions: [string, number][], clientTransactionVersion = TV_1): Promise<number> {
    if (!transactionalId) return ErrorCode.INVALID_REQUEST;
    const err = this.coordinatorError(transactionalId);
    if (err) return err;
    const txn = this.txns.get(transactionalId);
    if (!txn) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    await this.awaitLocalCompletion(txn);
    if (txn.state !== TxnState.Ongoing) this.timelines.added(txn);
    // A transition in progress is answered first, as Kafka does (its markers are sent while the Complete
    // state is pending): with transactions v2 the producer may already use the producer id a rotation on
    // epoch exhaustion is completing, which becomes the transaction's only once the Complete state is
    // written. Checked after it, the retriable answer would be the fatal INVALID_PRODUCER_ID_MAPPING.
    if (txn.pending || txn.state === TxnState.PrepareCommit || txn.state === TxnState.PrepareAbort) return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (txn.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (txn.state === TxnState.Ongoing && partitions.every(([t, p]) => txn.hasPartition(t, p))) return ErrorCode.NONE;
    const code = await this.persist(txn, txn.prepareAddPartitions(partitions, this.opts.now(), clientTransactionVersion));
    if (code === 0) this.timelines.mark(txn, 'ongoing');
    return code;
  }

  /**
   * KIP-890's verification for Produce (a partition leader asks, with AddPartitionsToTxn verifyOnly
   * or directly): 0 when the partition was added to the ongoing transaction of this producer,
   * TRANSACTION_ABORTABLE when it was not.
   */
  async verifyPartitionInTransaction(q: { transactionalId: string; producerId: number; producerEpoch: number; topic: string; partition: number }): Promise<number> {
    if (!q.transactionalId) return ErrorCode.INVALID_REQUEST;
    const err = this.coordinatorError(q.transactionalId);
    if (err) return err;
    const txn = this.txns.get(q.transactionalId);
    if (!txn || txn.producerId !== q.producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (txn.producerEpoch !== q.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (txn.state === TxnState.Ongoing && txn.hasPartition(q.topic, q.partition)) return ErrorCode.NONE;
    // A transition being written (its AddPartitionsToTxn, or its end) may change the answer: asked again.
    if (txn.pending || txn.state === TxnState.PrepareCommit || txn.state === TxnState.PrepareAbort) return ErrorCode.CONCURRENT_TRANSACTIONS;
    return ErrorCode.TRANSACTION_ABORTABLE;
  }

  // ---- EndTxn ----

  async endTransaction(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<number> {
    if (!transactionalId) return ErrorCode.INVALID_REQUEST;
    const err = this.coordinatorError(transactionalId);
    if (err) return err;
    const txn = this.txns.get(transactionalId);
    if (!txn || txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    // Transactions v1: a client's epoch must be the current one.
    if (producerEpoch !== txn.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    // A retried EndTxn of a transaction completing here gets the outcome.
    this.timelines.mark(txn, 'end');
    await this.awaitLocalCompletion(txn);
    if (txn.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (producerEpoch !== txn.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (txn.pending) return ErrorCode.CONCURRENT_TRANSACTIONS;
    switch (txn.state) {
      case TxnState.Ongoing: {
        const transit = txn.prepareAbortOrCommit(commit, this.opts.now());
        const code = await this.persist(txn, transit);
        if (code !== 0) return code;
        this.timelines.mark(txn, 'prepared');
        const partitions = txn.partitionList();
        const completing = this.sendMarkers(txn, commit);
        // As Kafka, the answer goes once the Prepare state is written; the markers and the Complete
        // state follow. Kafka then answers the client's next request CONCURRENT_TRANSACTIONS until
        // they are done (kafkajs backs off 300 ms and more). When every marker is a local append
        // (milliseconds) that request waits for them here instead (awaitLocalCompletion): the same
        // outcome as the client's retry, sooner, and the markers are written while the answer
        // travels and the client prepares its next transaction.
        const leads = this.opts.leadsPartition;
        if (leads && partitions.every(([t, p]) => leads(t, p))) {
          this.localCompletions.set(txn, completing);
          void completing.finally(() => {
            if (this.localCompletions.get(txn) === completing) this.localCompletions.delete(txn);
          });
        }
        return 0;
      }
      case TxnState.CompleteCommit:
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case TxnState.CompleteAbort:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case TxnState.PrepareCommit:
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case TxnState.PrepareAbort:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
  }

  /**
   * EndTxn v5 (transaction version 2, KIP-890 part 2): every end bumps the producer epoch; the
   * markers carry the new epoch, so a late batch of the ended transaction is refused in every
   * partition, and the client carries on at the epoch answered. At the last epoch (32766) the end
   * rotates the producer id: the markers take epoch 32767 and the client carries on with a new
   * producer id at epoch 0. A retry (the epoch before the bump, or the old producer id at 32766
   * after a rotation) of an end already done gets the same answer; as Kafka's, it is recognised from
   * the state in __transaction_state alone, so also after a restart or a coordinator move. An
   * abort with nothing open still bumps the epoch. Kafka's table: for Empty / CompleteAbort /
   * CompleteCommit, an abort at the current epoch bumps; a retry of the same end answers again;
   * anything else is INVALID_TXN_STATE (PRODUCER_FENCED for a retry of an Empty id).
   */
  async endTransactionV2(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<InitResult> {
    const fail = (errorCode: number): InitResult => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (!transactionalId) return fail(ErrorCode.INVALID_REQUEST);
    const err = this.coordinatorError(transactionalId);
    if (err) return fail(err);
    const txn = this.txns.get(transactionalId);
    if (!txn) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    this.timelines.mark(txn, 'end');
    await this.awaitLocalCompletion(txn);
    // The producer id of a rotation is fetched before the checks, so that they and the transition
    // happen with no await between them (an id fetched for nothing is only skipped, as Kafka's).
    let nextProducerId = NO_PRODUCER_ID;
    if (epochExhausted(txn.producerEpoch) && txn.producerId === producerId && txn.producerEpoch === producerEpoch && txn.producerEpoch < SHORT_MAX) {
      nextProducerId = await this.opts.generateProducerId();
      const again = this.coordinatorError(transactionalId);
      if (again) return fail(again);
    }
    const retryOnOverflow = txn.previousProducerId === producerId && producerEpoch === SHORT_MAX - 1 && txn.producerEpoch === 0 && txn.producerId !== producerId;
    const retryOnEpochBump = txn.producerId === producerId && txn.producerEpoch === producerEpoch + 1;
    const isRetry = retryOnOverflow || retryOnEpochBump;
    if (txn.producerId !== producerId && !retryOnOverflow) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const current = producerEpoch === txn.producerEpoch;
    let validEpoch: boolean;
    switch (txn.state) {
      case TxnState.PrepareCommit:
      case TxnState.PrepareAbort:
        validEpoch = retryOnEpochBump;
        break;
      case TxnState.CompleteCommit:
      case TxnState.CompleteAbort:
        validEpoch = isRetry || current;
        break;
      default:
        validEpoch = current;
    }
    if (!validEpoch) return fail(ErrorCode.PRODUCER_FENCED);
    if (txn.pending) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    const answerAgain = (): InitResult => ({ errorCode: 0, producerId: txn.producerId, producerEpoch: txn.producerEpoch });
    const end = async (): Promise<InitResult> => {
      if (epochExhausted(txn.producerEpoch) && txn.producerEpoch < SHORT_MAX && nextProducerId === NO_PRODUCER_ID) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      const rotation = epochExhausted(txn.producerEpoch) && txn.producerEpoch < SHORT_MAX ? nextProducerId : NO_PRODUCER_ID;
      const code = await this.persist(txn, txn.prepareEndV2(commit, this.opts.now(), rotation));
      if (code !== 0) return fail(code);
      if (rotation !== NO_PRODUCER_ID) this.opts.log.info(`The epochs of producer id ${producerId} (transactional id ${transactionalId}) are exhausted: its markers take epoch ${txn.producerEpoch}, and it carries on as producer id ${rotation}`);
      const answer = { errorCode: 0, ...txn.nextProducerIdAndEpoch() };
      this.timelines.mark(txn, 'prepared');
      this.startCompletion(txn, commit);
      return answer;
    };
    switch (txn.state) {
      case TxnState.Ongoing:
        return end();
      case TxnState.Empty:
        return commit ? fail(ErrorCode.INVALID_TXN_STATE) : end();
      case TxnState.CompleteCommit:
        if (commit) return isRetry ? answerAgain() : fail(ErrorCode.INVALID_TXN_STATE);
        return isRetry ? fail(ErrorCode.INVALID_TXN_STATE) : end();
      case TxnState.CompleteAbort:
        if (!commit) return isRetry ? answerAgain() : end();
        return fail(ErrorCode.INVALID_TXN_STATE);
      case TxnState.PrepareCommit:
        return fail(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
      case TxnState.PrepareAbort:
        return fail(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
      default:
        return fail(ErrorCode.INVALID_TXN_STATE);
    }
  }

  /** Markers, then the Complete state; a request meeting it waits when every marker is a local append. */
  private startCompletion(txn: TxnMetadata, commit: boolean): void {
    const partitions = txn.partitionList();
    const completing = this.sendMarkers(txn, commit);
    const leads = this.opts.leadsPartition;
    if (leads && partitions.every(([t, p]) => leads(t, p))) {
      this.localCompletions.set(txn, completing);
      void completing.finally(() => {
        if (this.localCompletions.get(txn) === completing) this.localCompletions.delete(txn);
      });
    }
  }

  /** Waits (at most LOCAL_COMPLETION_WAIT_MS) for the local completion of `txn` in progress, if any. */
  private async awaitLocalCompletion(txn: TxnMetadata): Promise<void> {
    const completing = this.localCompletions.get(txn);
    if (!completing) return;
    await raceTimeout(completing, LOCAL_COMPLETION_WAIT_MS, () => undefined);
  }

  /** Fences the producer of an ongoing transaction and aborts it (a new InitProducerId, or the transaction's timeout). */
  private async fenceAndAbort(txn: TxnMetadata, now: number): Promise<number> {
    const transit = txn.prepareFenceAndAbort(now);
    const code = await this.persist(txn, transit);
    if (code) {
      txn.failedEpochFence = true;
      this.opts.log.warn(`The epoch fence of ${txn.transactionalId} (epoch ${txn.producerEpoch}) could not be written: ${errorName(code)}`);
      return code;
    }
    this.sendMarkers(txn, false);
    return 0;
  }

  // ---- markers ----

  /** Writes the markers of a prepared transaction, then its Complete state; retried until done or no longer coordinated. */
  private sendMarkers(txn: TxnMetadata, commit: boolean): Promise<void> {
    const run = this.completeTransaction(txn, commit)
      .catch((err) => this.opts.log.warn(`Completing the transaction of ${txn.transactionalId} failed: ${(err as Error).message}`))
      .finally(() => this.markerRuns.delete(run));
    this.markerRuns.add(run);
    return run;
  }

  private stillCoordinates(txn: TxnMetadata): boolean {
    return !this.closed && this.txns.get(txn.transactionalId) === txn && this.coordinatorError(txn.transactionalId) === ErrorCode.NONE;
  }

  private async completeTransaction(txn: TxnMetadata, commit: boolean): Promise<void> {
    const partition = this.partitionFor(txn.transactionalId);
    const coordinatorEpoch = this.opts.coordinatorEpoch?.(partition) ?? 0;
    const base = { producerId: txn.producerId, producerEpoch: txn.producerEpoch, coordinatorEpoch, commit, transactionalId: txn.transactionalId, transactionVersion: txn.clientTransactionVersion };
    await Promise.all(txn.partitionList().map(([topic, p]) => this.writeMarkerRetrying({ ...base, topic, partition: p }, txn)));
    this.timelines.mark(txn, 'markers');
    if (this.opts.haltBeforeComplete?.(txn.transactionalId) && this.stillCoordinates(txn)) {
      this.opts.log.warn(`Fault hook: the ${commit ? 'COMMIT' : 'ABORT'} markers of ${txn.transactionalId} are written; its Complete state is not (halted before it)`);
      return;
    }
    for (let delay = MARKER_RETRY_MIN_MS; this.stillCoordinates(txn); delay = Math.min(delay * 2, MARKER_RETRY_MAX_MS)) {
      if (txn.pending) {
        await sleep(delay);
        continue;
      }
      const partitions = txn.partitionList().length;
      const code = await this.persist(txn, txn.prepareComplete(this.opts.now()));
      if (code === 0) {
        this.timelines.completed(txn, () => ({ transactionalId: txn.transactionalId, producerId: txn.producerId, producerEpoch: txn.producerEpoch, commit, partitions }));
        return;
      }
      if (code === ErrorCode.NOT_COORDINATOR) return;
      await sleep(delay);
    }
  }

  private async writeMarkerRetrying(m: MarkerWrite, txn: TxnMetadata): Promise<void> {
    for (let delay = MARKER_RETRY_MIN_MS; this.stillCoordinates(txn); delay = Math.min(delay * 2, MARKER_RETRY_MAX_MS)) {
      try {
        await this.opts.writeMarker(m);
        return;
      } catch (err) {
        const code = err instanceof KafkaError ? err.code : -1;
        // A deleted topic needs no marker (Kafka drops the partition from the pending markers).
        if (code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return;
        // The partition already has a newer producer epoch: the marker is stale, nothing to end there.
        if (code === ErrorCode.INVALID_PRODUCER_EPOCH) return;
        this.opts.log.debug?.(`Marker for ${m.topic}-${m.partition} of ${m.transactionalId} failed (${(err as Error).message}); retrying in ${delay} ms`);
        await sleep(delay);
      }
    }
  }

  // ---- timeouts and expiry ----

  /** Aborts every ongoing transaction older than its timeout (transaction.abort.timed.out.transaction.cleanup.interval.ms). */
  async abortTimedOutTransactions(): Promise<number> {
    const now = this.opts.now();
    let aborted = 0;
    for (const txn of [...this.txns.values()]) {
      if (txn.state !== TxnState.Ongoing || txn.pending || txn.startTimestamp + txn.timeoutMs >= now) continue;
      if (this.coordinatorError(txn.transactionalId)) continue;
      this.opts.log.info(`Aborting the transaction of ${txn.transactionalId} (producerId ${txn.producerId}, epoch ${txn.producerEpoch}): open for more than its timeout of ${txn.timeoutMs} ms`);
      if ((await this.fenceAndAbort(txn, now)) === 0) aborted++;
    }
    return aborted;
  }

  /** Forgets transactional ids idle for transactional.id.expiration.ms (a tombstone in __transaction_state). */
  async expireTransactionalIds(): Promise<number> {
    const now = this.opts.now();
    let expired = 0;
    for (const txn of [...this.txns.values()]) {
      if (txn.pending || !expirationAllowed(txn.state) || txn.lastUpdateTimestamp > now - this.opts.settings.expirationMs) continue;
      if (this.coordinatorError(txn.transactionalId)) continue;
      const transit = txn.prepareDead();
      const code = await this.write(txn, null, () => {
        txn.complete(transit);
        if (this.txns.get(txn.transactionalId) === txn) this.txns.delete(txn.transactionalId);
      });
      if (code) txn.abandon();
      else expired++;
    }
    if (expired > 0) this.opts.log.info(`Removed ${expired} expired transactional ids`);
    return expired;
  }

  // ---- DescribeTransactions / ListTransactions ----

  describe(transactionalId: string): DescribedTransaction {
    const out: DescribedTransaction = { errorCode: 0, transactionalId, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1, topics: [] };
    if (!transactionalId) return { ...out, errorCode: ErrorCode.INVALID_REQUEST };
    const err = this.coordinatorError(transactionalId);
    if (err) return { ...out, errorCode: err };
    const txn = this.txns.get(transactionalId);
    if (!txn || txn.state === TxnState.Dead) return { ...out, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
    return {
      ...out,
      transactionState: stateName(txn.state),
      transactionTimeoutMs: txn.timeoutMs,
      transactionStartTimeMs: txn.startTimestamp,
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
      topics: [...txn.partitions].map(([topic, ps]) => ({ topic, partitions: [...ps] })),
    };
  }

  list(stateFilters: string[], producerIdFilters: number[], durationFilterMs: number): {
    errorCode: number;
    unknownStateFilters: string[];
    transactionStates: { transactionalId: string; producerId: number; transactionState: string }[];
  } {
    if (this.closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, unknownStateFilters: [], transactionStates: [] };
    if (this.loadingPartitions.size > 0) return { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, unknownStateFilters: [], transactionStates: [] };
    const unknownStateFilters = stateFilters.filter((s) => stateByName(s) === undefined);
    const states = new Set(stateFilters.map(stateByName).filter((s) => s !== undefined));
    const pids = new Set(producerIdFilters);
    const now = this.opts.now();
    const transactionStates = [...this.txns.values()]
      .filter((t) => t.state !== TxnState.Dead && this.ownsPartition(this.partitionFor(t.transactionalId)))
      .filter((t) => pids.size === 0 || pids.has(t.producerId))
      .filter((t) => stateFilters.length === 0 || states.has(t.state))
      .filter((t) => durationFilterMs < 0 || now - t.startTimestamp > durationFilterMs)
      .map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: stateName(t.state) }));
    return { errorCode: 0, unknownStateFilters, transactionStates };
  }

  // ---- persistence ----

  /** Writes a prepared transition and applies it; the error code a client gets (0 = done). */
  private async persist(txn: TxnMetadata, transit: TxnTransit): Promise<number> {
    const value = encodeTxnValue(transit, this.opts.settings.logValueVersion ?? 1);
    const code = await this.write(txn, value, () => txn.complete(transit));
    if (code) txn.abandon();
    return code;
  }

  /**
   * Appends one record for `txn` in order with every other write to its partition, then runs
   * `apply` once the partition's ISR has it (the high watermark covers it: acks=-1, as Kafka's
   * transaction log), also in order. The next append does not wait for this one's replication,
   * only its apply does. A record the ISR did not confirm is not applied: the client gets an error
   * and retries, so no client is ever told of a state a new coordinator might not have.
   *
   * Group commit: the records of other transactional ids that come while an append to the same
   * partition is in flight go together in the next append (one batch, one write), applied in the
   * order they came. A transactional id has one transition in flight at a time, so a group never
   * holds two of the same id.
   */
  private write(txn: TxnMetadata, value: Buffer | null, apply: () => void): Promise<number> {
    const partition = this.partitionFor(txn.transactionalId);
    const appended = this.appendGrouped(partition, { transactionalId: txn.transactionalId, key: encodeTxnKey(txn.transactionalId), value });
    return chain(this.applyTails, partition, async () => {
      const { code, replicated } = await appended;
      if (code) return code;
      try {
        // A close does not wait for the ISR: what was appended is reloaded from the log.
        if ((await Promise.race([replicated!.then(() => true), this.closing])) !== true) return ErrorCode.NOT_COORDINATOR;
      } catch (err) {
        this.opts.log.warn(`Replicating the state of ${txn.transactionalId} to __transaction_state-${partition} failed: ${(err as Error).message}`);
        return appendErrorToClient(err);
      }
      // Leadership may have moved while the ISR was awaited; the new leader loaded its own copy.
      if (!this.ownsPartition(partition) || this.closed) return ErrorCode.NOT_COORDINATOR;
      apply();
      return 0;
    });
  }

  /** Queues a record for the partition's next append: the open group while one is in flight, else a new one. */
  private appendGrouped(partition: number, w: Omit<QueuedWrite, 'settle'>): Promise<AppendOutcome> {
    return new Promise((settle) => {
      const size = w.key.length + (w.value?.length ?? 0);
      const open = this.openGroups.get(partition);
      if (open && open.records.length < MAX_GROUP_RECORDS && open.bytes + size <= MAX_GROUP_BYTES) {
        open.records.push({ ...w, settle });
        open.bytes += size;
        return;
      }
      const group: WriteGroup = { records: [{ ...w, settle }], bytes: size };
      this.openGroups.set(partition, group);
      void chain(this.writeTails, partition, async () => {
        // From here on, records that come wait for the next group.
        if (this.openGroups.get(partition) === group) this.openGroups.delete(partition);
        const outcome = await this.appendGroup(partition, group.records);
        for (const r of group.records) r.settle(outcome);
      });
    });
  }

  private async appendGroup(partition: number, records: QueuedWrite[]): Promise<AppendOutcome> {
    if (!this.ownsPartition(partition) || this.closed) return { code: ErrorCode.NOT_COORDINATOR };
    try {
      const { replicated } = await this.opts.store.append(partition, records.map((r) => ({ key: r.key, value: r.value })), this.opts.now());
      return { code: 0, replicated };
    } catch (err) {
      const ids = records.map((r) => r.transactionalId).join(', ');
      this.opts.log.warn(`Writing the state of ${ids} to __transaction_state-${partition} failed: ${(err as Error).message}`);
      return { code: appendErrorToClient(err) };
    }
  }

  /** Reads partitions of __transaction_state into memory (all at start, or those just gained); returns how many ids. */
  async loadPartitions(only?: ReadonlySet<number>): Promise<number> {
    const loaded = new Map<string, TxnMetadata>();
    await this.opts.store.load((partition, record) => {
      const id = decodeTxnKey(record.key);
      if (id === null) return;
      if (record.value === null) {
        loaded.delete(id);
        return;
      }
      const v = decodeTxnValue(record.value);
      const txn = new TxnMetadata(id, v.producerId, v.producerEpoch, v.timeoutMs, v.state, v.lastUpdateTimestamp);
      txn.partitions = v.partitions;
      txn.startTimestamp = v.startTimestamp;
      // As Kafka's load: the last epoch is not in the log (-1); the rotation and the client's
      // transaction version are, so a retried EndTxn v5 and a rotation in progress survive.
      txn.previousProducerId = v.previousProducerId;
      txn.nextProducerId = v.nextProducerId;
      txn.clientTransactionVersion = v.clientTransactionVersion;
      loaded.set(id, txn);
    }, only);
    for (const [id, txn] of loaded) this.txns.set(id, txn);
    return loaded.size;
  }

  /** After a load: transactions found prepared get their markers and their Complete state (Kafka does the same). */
  finishPrepared(inPartition: (partition: number) => boolean): void {
    for (const txn of this.txns.values()) {
      if (txn.pending || !inPartition(this.partitionFor(txn.transactionalId))) continue;
      if (txn.state === TxnState.PrepareCommit || txn.state === TxnState.PrepareAbort) {
        this.opts.log.info(`Completing the ${txn.state === TxnState.PrepareCommit ? 'commit' : 'abort'} of ${txn.transactionalId} found prepared in __transaction_state`);
        this.sendMarkers(txn, txn.state === TxnState.PrepareCommit);
      }
    }
  }

  /** Drops the transactional ids of a partition another broker now leads. */
  dropPartition(partition: number): number {
    let dropped = 0;
    for (const id of [...this.txns.keys()]) {
      if (this.partitionFor(id) !== partition) continue;
      this.txns.delete(id);
      dropped++;
    }
    return dropped;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeNow();
    for (const t of this.timers) clearInterval(t);
    // Marker loops see `closed` and stop; what was prepared is completed after the next start.
    await Promise.all([...this.writeTails.values(), ...this.applyTails.values()]);
    await Promise.allSettled([...this.markerRuns]);
  }
}

/** Kafka's mapping of a failed __transaction_state append to what the client is told. */
function appendErrorToClient(err: unknown): number {
  const code = err instanceof KafkaError ? err.code : -1;
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR;
    default:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}

/** Runs `fn` after the last task chained for `partition` settles; the tail is forgotten once it is the last. */
function chain<T>(tails: Map<number, Promise<unknown>>, partition: number, fn: () => Promise<T>): Promise<T> {
  const next = (tails.get(partition) ?? Promise.resolve()).then(fn, fn);
  tails.set(partition, next);
  const forget = () => {
    if (tails.get(partition) === next) tails.delete(partition);
  };
  next.then(forget, forget);
  return next;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref?.());
}
