// What the leader of a replicated partition keeps (Kafka's Partition on its leader): each follower's
// log end offset (its fetch offset) and when it was last caught up, the in-sync replicas, the high
// watermark (the smallest log end over the maximal ISR; it never goes back) and the acks=all
// produces waiting for it. ISR changes are proposed to ZooKeeper by the replica manager, conditioned
// on the state node's version; this class only decides what to propose.
//
// The maximal ISR (Kafka's, KIP-497) is the ISR plus the followers an expansion in flight adds: once
// the write is sent, ZooKeeper may hold the larger ISR before the leader hears so, and the controller
// may elect any of its members. A high watermark over the smaller ISR would acknowledge acks=all
// records the joining follower lacks, and lose them if it is elected. A shrink needs no such care:
// the leader keeps the larger ISR until the write is answered.
import { ErrorCode } from '../../protocol/errors.js';
import type { PartitionLog } from '../../storage/index.js';

interface FollowerState {
  /** Its fetch offset: every record below is on the follower. -1 until it fetched in this leadership. */
  logEndOffset: number;
  lastCaughtUpTimeMs: number;
  lastFetchTimeMs: number;
  /** The leader's log end at its previous fetch (Kafka's lastFetchLeaderLogEndOffset). */
  lastFetchLeaderLogEnd: number;
  /** The log start its last fetch named (-1 until then): DeleteRecords waits for it. */
  logStartOffset: number;
}

interface LowWatermarkWaiter {
  requiredOffset: number;
  alive(replicaId: number): boolean;
  resolve(answer: { errorCode: number; lowWatermark: number }): void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  requiredOffset: number;
  resolve(errorCode: number): void;
  timer: NodeJS.Timeout;
}

export class LeaderPartition {
  private readonly followers = new Map<number, FollowerState>();
  private waiters: Waiter[] = [];
  private lowWatermarkWaiters: LowWatermarkWaiter[] = [];
  private readonly unsubscribe: () => void;
  private closed = false;
  /** An ISR write is on its way: no second one until it is answered. */
  isrChangeInFlight = false;
  /**
   * Followers an ISR expansion adds, from when it is sent until the leader knows how it ended: a
   * state newer than the one the write was conditioned on (`basedOn`), or an answer.
   */
  private joining: { replicas: number[]; basedOn: number | undefined } | null = null;

  /** The epoch this broker's leadership began at; `leaderEpoch` is the latest of it (they differ after a bump that kept the leader). */
  readonly firstEpoch: number;

  constructor(
    readonly log: PartitionLog,
    readonly nodeId: number,
    public leaderEpoch: number,
    private replicas: number[],
    public isr: number[],
    private readonly now: () => number,
    /** The state node's version the ISR comes from (ZooKeeper mode). */
    private zkVersion?: number,
  ) {
    this.firstEpoch = leaderEpoch;
    const start = now();
    for (const r of replicas) {
      if (r !== nodeId) this.followers.set(r, { logEndOffset: -1, lastCaughtUpTimeMs: start, lastFetchTimeMs: start, lastFetchLeaderLogEnd: -1, logStartOffset: -1 });
    }
    // A fresh process knows no high watermark: it starts from its own log end (this log was chosen
    // from the ISR, so every acknowledged record is in it).
    log.setHighWatermark(log.highWatermark);
    this.unsubscribe = log.onAppend(() => this.maybeAdvanceHighWatermark());
    this.maybeAdvanceHighWatermark();
  }

  /**
   * The cluster's view changed (same leader epoch): replicas and ISR as the state node says. A
   * state older than the one the ISR already comes from is ignored (its replicas are taken).
   */
  update(replicas: number[], isr: number[], zkVersion?: number): void {
    this.replicas = replicas;
    const stale = zkVersion !== undefined && this.zkVersion !== undefined && zkVersion < this.zkVersion;
    if (!stale) {
      this.isr = isr;
      this.zkVersion = zkVersion;
      if (this.joining && (zkVersion === undefined || this.joining.basedOn === undefined || zkVersion > this.joining.basedOn)) this.joining = null;
    }
    const start = this.now();
    for (const r of replicas) {
      if (r !== this.nodeId && !this.followers.has(r)) this.followers.set(r, { logEndOffset: -1, lastCaughtUpTimeMs: start, lastFetchTimeMs: start, lastFetchLeaderLogEnd: -1, logStartOffset: -1 });
    }
    this.maybeAdvanceHighWatermark();
  }

  /**
   * A new leader epoch with this broker still the leader (an ISR or replica-set change the controller
   * wrote with a bump): as Kafka's makeLeader for a leader re-elected, the followers' log ends are
   * kept, their catch-up clocks restart (now for ISR members, never for the others), and the produces
   * waiting for the high watermark go on waiting: they complete when it passes them.
   */
  continueAtEpoch(leaderEpoch: number, replicas: number[], isr: number[]): void {
    this.leaderEpoch = leaderEpoch;
    const now = this.now();
    const leaderEnd = this.log.logEndOffset;
    for (const [r, f] of this.followers) {
      const inSync = isr.includes(r);
      f.lastCaughtUpTimeMs = inSync ? now : 0;
      f.lastFetchTimeMs = inSync ? now : 0;
      f.lastFetchLeaderLogEnd = leaderEnd;
    }
    this.update(replicas, isr);
  }

  /** A follower's fetch at `fetchOffset` (it has everything below). */
  followerFetched(replicaId: number, fetchOffset: number, logStartOffset = -1): void {
    const f = this.followers.get(replicaId);
    if (!f) return;
    f.logStartOffset = logStartOffset;
    const now = this.now();
    const leaderEnd = this.log.logEndOffset;
    // As Kafka's Replica.updateFetchState: caught up when it asked for the log end, or for what was
    // the log end at its previous fetch (it was caught up then).
    if (fetchOffset >= leaderEnd) f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, now);
    else if (fetchOffset >= f.lastFetchLeaderLogEnd && f.lastFetchLeaderLogEnd >= 0) f.lastCaughtUpTimeMs = Math.max(f.lastCaughtUpTimeMs, f.lastFetchTimeMs);
    f.logEndOffset = fetchOffset;
    f.lastFetchTimeMs = now;
    f.lastFetchLeaderLogEnd = leaderEnd;
    this.maybeAdvanceHighWatermark();
    this.completeLowWatermarkWaiters();
  }

  /**
   * Kafka's lowWatermarkIfLeader: the smallest log start of this log and of the replicas whose
   * broker is alive (a follower that has not fetched in this leadership counts as -1).
   */
  lowWatermark(alive: (replicaId: number) => boolean): number {
    let low = this.log.logStartOffset;
    for (const [r, f] of this.followers) if (this.replicas.includes(r) && alive(r) && f.logStartOffset < low) low = f.logStartOffset;
    return low;
  }

  /**
   * DeleteRecords on a replicated partition (Kafka's DelayedDeleteRecords): resolves once every live
   * replica's log start reached `requiredOffset` (NONE and the low watermark), after `timeoutMs`
   * (REQUEST_TIMED_OUT, -1) or when this leadership ends (NOT_LEADER_OR_FOLLOWER, -1).
   */
  waitForLowWatermark(requiredOffset: number, timeoutMs: number, alive: (replicaId: number) => boolean): Promise<{ errorCode: number; lowWatermark: number }> {
    if (this.closed) return Promise.resolve({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, lowWatermark: -1 });
    const now = this.lowWatermark(alive);
    if (now >= requiredOffset) return Promise.resolve({ errorCode: 0, lowWatermark: now });
    return new Promise((resolve) => {
      const waiter: LowWatermarkWaiter = {
        requiredOffset,
        alive,
        resolve,
        timer: setTimeout(() => {
          this.lowWatermarkWaiters = this.lowWatermarkWaiters.filter((w) => w !== waiter);
          resolve({ errorCode: ErrorCode.REQUEST_TIMED_OUT, lowWatermark: -1 });
        }, Math.max(0, timeoutMs)),
      };
      this.lowWatermarkWaiters.push(waiter);
    });
  }

  private completeLowWatermarkWaiters(): void {
    if (this.lowWatermarkWaiters.length === 0) return;
    for (const w of [...this.lowWatermarkWaiters]) {
      const low = this.lowWatermark(w.alive);
      if (low < w.requiredOffset) continue;
      this.lowWatermarkWaiters = this.lowWatermarkWaiters.filter((x) => x !== w);
      clearTimeout(w.timer);
      w.resolve({ errorCode: 0, lowWatermark: low });
    }
  }

  /**
   * An ISR write is about to be sent, conditioned on the state version `basedOn`: the followers it
   * adds count for the high watermark from now on (the maximal ISR).
   */
  proposeIsr(isr: number[], basedOn: number | undefined): void {
    const adding = isr.filter((r) => !this.isr.includes(r));
    if (adding.length > 0) this.joining = { replicas: adding, basedOn };
  }

  /**
   * The write proposed on `basedOn` was refused, or never sent, and the cache has been read since:
   * the state there is the outcome, and it was applied through update().
   */
  isrChangeRefused(basedOn: number | undefined): void {
    if (this.joining?.basedOn === basedOn) this.joining = null;
  }

  /** The ISR the high watermark waits for: the ISR and the followers an expansion in flight adds. */
  maximalIsr(): number[] {
    return this.joining ? [...this.isr, ...this.joining.replicas.filter((r) => !this.isr.includes(r))] : this.isr;
  }

  /** ISR members not caught up within `lagMs` (never the leader). */
  outOfSyncReplicas(lagMs: number): number[] {
    const now = this.now();
    return this.isr.filter((r) => r !== this.nodeId && now - (this.followers.get(r)?.lastCaughtUpTimeMs ?? 0) > lagMs);
  }

  /** Followers outside the ISR that have reached the high watermark (and this leadership's start). */
  caughtUpReplicas(epochStartOffset: number): number[] {
    const hw = this.log.highWatermark;
    return [...this.followers]
      .filter(([r, f]) => !this.isr.includes(r) && this.replicas.includes(r) && f.logEndOffset >= hw && f.logEndOffset >= epochStartOffset)
      .map(([r]) => r);
  }

  private maybeAdvanceHighWatermark(): void {
    if (this.closed) return;
    let min = this.log.logEndOffset;
    for (const r of this.maximalIsr()) {
      if (r === this.nodeId) continue;
      const f = this.followers.get(r);
      min = Math.min(min, f ? f.logEndOffset : -1);
    }
    if (min > this.log.highWatermark) this.log.setHighWatermark(min);
    this.completeWaiters();
  }

  /**
   * Resolves with an error code once the high watermark passes `requiredOffset` (NONE, or
   * NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR is below `minIsr` then), after `timeoutMs`
   * (REQUEST_TIMED_OUT) or when this leadership ends (NOT_LEADER_OR_FOLLOWER).
   */
  waitForHighWatermark(requiredOffset: number, timeoutMs: number, minIsr: () => number): Promise<number> {
    if (this.closed) return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const done = (): number => (this.isr.length < minIsr() ? ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND : 0);
    if (this.log.highWatermark >= requiredOffset) return Promise.resolve(done());
    return new Promise((resolve) => {
      const waiter: Waiter = {
        requiredOffset,
        resolve: (code) => resolve(code < 0 ? done() : code),
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(ErrorCode.REQUEST_TIMED_OUT);
        }, Math.max(0, timeoutMs)),
      };
      this.waiters.push(waiter);
    });
  }

  private completeWaiters(): void {
    if (this.waiters.length === 0) return;
    const hw = this.log.highWatermark;
    const ready = this.waiters.filter((w) => w.requiredOffset <= hw);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.requiredOffset > hw);
    for (const w of ready) {
      clearTimeout(w.timer);
      w.resolve(-1);
    }
  }

  /** Leadership ended: waiting produces answer NOT_LEADER_OR_FOLLOWER. */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    }
    this.waiters = [];
    for (const w of this.lowWatermarkWaiters) {
      clearTimeout(w.timer);
      w.resolve({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, lowWatermark: -1 });
    }
    this.lowWatermarkWaiters = [];
  }
}
