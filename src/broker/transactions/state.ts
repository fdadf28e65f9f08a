// One transactional id's state (Kafka's TransactionMetadata), and the transitions between its states.
// A transition is prepared (checked against the states it may come from, and marked pending so that
// concurrent requests get CONCURRENT_TRANSACTIONS), then written to __transaction_state, and only
// then applied: what the coordinator answers is always what the log holds.

/** Kafka's TransactionState ids, as written in __transaction_state values. */
export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnStateId = (typeof TxnState)[keyof typeof TxnState];

const NAMES: Record<TxnStateId, string> = {
  0: 'Empty',
  1: 'Ongoing',
  2: 'PrepareCommit',
  3: 'PrepareAbort',
  4: 'CompleteCommit',
  5: 'CompleteAbort',
  6: 'Dead',
  7: 'PrepareEpochFence',
};

export function stateName(state: TxnStateId): string {
  return NAMES[state];
}

export function stateByName(name: string): TxnStateId | undefined {
  const entry = Object.entries(NAMES).find(([, n]) => n === name);
  return entry ? (Number(entry[0]) as TxnStateId) : undefined;
}

/** Which states each state may be reached from (Kafka's validPreviousStates). */
const PREVIOUS: Record<TxnStateId, readonly TxnStateId[]> = {
  0: [TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  1: [TxnState.Ongoing, TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  2: [TxnState.Ongoing],
  // Transaction version 2 also aborts an empty or completed transaction (to bump the epoch).
  3: [TxnState.Ongoing, TxnState.PrepareEpochFence, TxnState.Empty, TxnState.CompleteCommit, TxnState.CompleteAbort],
  4: [TxnState.PrepareCommit],
  5: [TxnState.PrepareAbort],
  6: [TxnState.Empty, TxnState.CompleteAbort, TxnState.CompleteCommit],
  7: [TxnState.Ongoing],
};

/** States whose transactional id may expire after transactional.id.expiration.ms of silence. */
export function expirationAllowed(state: TxnStateId): boolean {
  return state === TxnState.Empty || state === TxnState.CompleteCommit || state === TxnState.CompleteAbort;
}

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const SHORT_MAX = 32767;
/** The transaction version of a client's requests (Kafka's TransactionVersion feature levels 0 and 2). */
export const TV_1 = 0;
export const TV_2 = 2;

/** An epoch the coordinator cannot bump again without rotating the producer id. */
export function epochExhausted(epoch: number): boolean {
  return epoch >= SHORT_MAX - 1;
}

/** A partition of a transaction as "topic:partition" is ambiguous; kept as topic -> partitions. */
export type TxnPartitions = Map<string, Set<number>>;

/** What a transition writes and, once written, applies. */
export interface TxnTransit {
  producerId: number;
  /** The producer id before this transition (Kafka's prevProducerId): the one a retry after a rotation still carries. */
  previousProducerId: number;
  /**
   * Transaction version 2 only: the producer id the transaction moves to once its markers are
   * written, because its end used the last epoch of the current one (-1: none).
   */
  nextProducerId: number;
  /** The transaction version of the client's requests that made this state (TV_1 or TV_2). */
  clientTransactionVersion: number;
  producerEpoch: number;
  lastProducerEpoch: number;
  timeoutMs: number;
  state: TxnStateId;
  partitions: TxnPartitions;
  startTimestamp: number;
  lastUpdateTimestamp: number;
}

export class TxnMetadata {
  previousProducerId = NO_PRODUCER_ID;
  nextProducerId = NO_PRODUCER_ID;
  clientTransactionVersion = TV_1;
  lastProducerEpoch = NO_PRODUCER_EPOCH;
  partitions: TxnPartitions = new Map();
  startTimestamp = -1;
  /** A transition being written; requests meanwhile get CONCURRENT_TRANSACTIONS. */
  pendingState: TxnStateId | null = null;
  /** An epoch fence whose write failed: the next one reuses the bumped epoch (never shown to a client). */
  failedEpochFence = false;

  constructor(
    readonly transactionalId: string,
    public producerId: number,
    public producerEpoch: number,
    public timeoutMs: number,
    public state: TxnStateId,
    public lastUpdateTimestamp: number,
  ) {}

  get pending(): boolean {
    return this.pendingState !== null;
  }

  hasPartition(topic: string, partition: number): boolean {
    return this.partitions.get(topic)?.has(partition) ?? false;
  }

  partitionList(): [string, number][] {
    const out: [string, number][] = [];
    for (const [topic, ps] of this.partitions) for (const p of ps) out.push([topic, p]);
    return out;
  }

  /** Marks `transit` pending after checking it may follow the current state. */
  private prepare(transit: TxnTransit): TxnTransit {
    if (this.pendingState !== null) throw new Error(`${this.transactionalId}: transition to ${stateName(transit.state)} while ${stateName(this.pendingState)} is pending`);
    if (!PREVIOUS[transit.state].includes(this.state)) {
      throw new Error(`${this.transactionalId}: ${stateName(this.state)} cannot move to ${stateName(transit.state)}`);
    }
    this.pendingState = transit.state;
    return transit;
  }

  private transit(over: Partial<TxnTransit> & { state: TxnStateId }): TxnTransit {
    return this.prepare({
      producerId: this.producerId,
      previousProducerId: this.producerId,
      nextProducerId: this.nextProducerId,
      clientTransactionVersion: this.clientTransactionVersion,
      producerEpoch: this.producerEpoch,
      lastProducerEpoch: this.lastProducerEpoch,
      timeoutMs: this.timeoutMs,
      partitions: this.partitions,
      startTimestamp: this.startTimestamp,
      lastUpdateTimestamp: this.lastUpdateTimestamp,
      ...over,
    });
  }

  /**
   * InitProducerId on Empty/Complete*: the epoch bumped (Kafka's prepareIncrementProducerEpoch).
   * `expectedEpoch` is a v3+ client's current epoch: a retry of a bump it did not hear about gets
   * the same epoch back; an epoch that is neither is a fenced producer (null).
   */
  prepareIncrementEpoch(timeoutMs: number, expectedEpoch: number | undefined, now: number): TxnTransit | null {
    const bumped = this.producerEpoch + 1;
    let epoch: number;
    let last: number;
    if (expectedEpoch === undefined) [epoch, last] = [bumped, NO_PRODUCER_EPOCH];
    else if (this.producerEpoch === NO_PRODUCER_EPOCH || expectedEpoch === this.producerEpoch) [epoch, last] = [bumped, this.producerEpoch];
    else if (expectedEpoch === this.lastProducerEpoch) [epoch, last] = [this.producerEpoch, this.lastProducerEpoch];
    else return null;
    return this.transit({ state: TxnState.Empty, producerEpoch: epoch, lastProducerEpoch: last, timeoutMs, partitions: new Map(), startTimestamp: -1, lastUpdateTimestamp: now });
  }

  /** Epochs exhausted: a new producer id at epoch 0 (Kafka's prepareProducerIdRotation). */
  prepareProducerIdRotation(newProducerId: number, timeoutMs: number, now: number, recordLastEpoch: boolean): TxnTransit {
    return this.transit({
      state: TxnState.Empty,
      producerId: newProducerId,
      producerEpoch: 0,
      lastProducerEpoch: recordLastEpoch ? this.producerEpoch : NO_PRODUCER_EPOCH,
      timeoutMs,
      partitions: new Map(),
      startTimestamp: -1,
      lastUpdateTimestamp: now,
    });
  }

  /**
   * An ongoing transaction's producer is fenced (a new InitProducerId, or its timeout): its epoch is
   * bumped in place and the transaction goes to PrepareAbort (Kafka's PrepareEpochFence, never
   * written). If that write fails the bumped epoch stays, unseen by any client, and the next fence
   * reuses it.
   */
  prepareFenceAndAbort(now: number): TxnTransit {
    if (!this.failedEpochFence && this.producerEpoch < SHORT_MAX) this.producerEpoch += 1;
    this.lastProducerEpoch = NO_PRODUCER_EPOCH;
    return this.transit({ state: TxnState.PrepareAbort, lastUpdateTimestamp: now, nextProducerId: NO_PRODUCER_ID, clientTransactionVersion: TV_1 });
  }

  prepareAddPartitions(added: [string, number][], now: number, clientTransactionVersion = this.clientTransactionVersion): TxnTransit {
    const partitions: TxnPartitions = new Map([...this.partitions].map(([t, ps]) => [t, new Set(ps)]));
    for (const [topic, p] of added) {
      let ps = partitions.get(topic);
      if (!ps) partitions.set(topic, (ps = new Set()));
      ps.add(p);
    }
    const fresh = this.state === TxnState.Empty || this.state === TxnState.CompleteAbort || this.state === TxnState.CompleteCommit;
    return this.transit({ state: TxnState.Ongoing, partitions, startTimestamp: fresh ? now : this.startTimestamp, lastUpdateTimestamp: now, clientTransactionVersion });
  }

  /** Transaction version 1's end: the markers at the current epoch. */
  prepareAbortOrCommit(commit: boolean, now: number): TxnTransit {
    return this.transit({ state: commit ? TxnState.PrepareCommit : TxnState.PrepareAbort, lastUpdateTimestamp: now, nextProducerId: NO_PRODUCER_ID, clientTransactionVersion: TV_1 });
  }

  /**
   * Transaction version 2's end (KIP-890): the markers at epoch + 1, so that a late batch of this
   * transaction is refused. When the epoch is exhausted (32766) the markers take the last epoch,
   * 32767, and `nextProducerId` (a fresh producer id) is what the client carries on with, at epoch 0
   * (Kafka's producer id rotation at the end of a transaction). An abort with nothing open (from
   * Empty or Complete*) starts its transaction now.
   */
  prepareEndV2(commit: boolean, now: number, nextProducerId: number): TxnTransit {
    const open = this.state === TxnState.Ongoing;
    return this.transit({
      state: commit ? TxnState.PrepareCommit : TxnState.PrepareAbort,
      producerEpoch: this.producerEpoch < SHORT_MAX ? this.producerEpoch + 1 : this.producerEpoch,
      lastProducerEpoch: this.producerEpoch,
      nextProducerId,
      clientTransactionVersion: TV_2,
      startTimestamp: open ? this.startTimestamp : now,
      lastUpdateTimestamp: now,
    });
  }

  /**
   * Every marker is written: Complete*, no partitions left. Transaction version 1 keeps the epoch
   * as the last epoch; version 2 keeps the epoch before the end's bump (what the client ended with)
   * and moves to the next producer id, at epoch 0, if the end rotated it.
   */
  prepareComplete(now: number): TxnTransit {
    this.failedEpochFence = false;
    const state = this.state === TxnState.PrepareCommit ? TxnState.CompleteCommit : TxnState.CompleteAbort;
    if (this.clientTransactionVersion >= TV_2) {
      const rotate = this.nextProducerId !== NO_PRODUCER_ID;
      return this.transit({
        state,
        ...(rotate ? { producerId: this.nextProducerId, producerEpoch: 0 } : {}),
        nextProducerId: NO_PRODUCER_ID,
        partitions: new Map(),
        lastUpdateTimestamp: now,
      });
    }
    return this.transit({ state, lastProducerEpoch: this.producerEpoch, partitions: new Map(), lastUpdateTimestamp: now });
  }

  /** What EndTxn v5 answers once this transaction's end is prepared: the id and epoch its Complete state will hold. */
  nextProducerIdAndEpoch(): { producerId: number; producerEpoch: number } {
    return this.nextProducerId !== NO_PRODUCER_ID ? { producerId: this.nextProducerId, producerEpoch: 0 } : { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }

  prepareDead(): TxnTransit {
    return this.transit({ state: TxnState.Dead, partitions: new Map() });
  }

  /** The transition is in the log: it becomes the state. */
  complete(transit: TxnTransit): void {
    this.previousProducerId = transit.previousProducerId;
    this.nextProducerId = transit.nextProducerId;
    this.clientTransactionVersion = transit.clientTransactionVersion;
    this.producerId = transit.producerId;
    this.producerEpoch = transit.producerEpoch;
    this.lastProducerEpoch = transit.lastProducerEpoch;
    this.timeoutMs = transit.timeoutMs;
    this.state = transit.state;
    this.partitions = transit.partitions;
    this.startTimestamp = transit.startTimestamp;
    this.lastUpdateTimestamp = transit.lastUpdateTimestamp;
    this.pendingState = null;
  }

  /** The write failed: nothing changes. */
  abandon(): void {
    this.pendingState = null;
  }
}
