// A follower's fetcher for one leader broker (Kafka's ReplicaFetcherThread): one connection, one
// Fetch at a time carrying every partition this broker follows on that leader, with replica_id =
// this broker's id (Fetch <= v14's form; kts serves Fetch up to v12). The leader's batches are
// appended as they are (offsets, leader epochs: PartitionLog.appendAsFollower), and the follower's
// high watermark follows the leader's. Before a partition's first fetch it is truncated where the
// leader's log and this one part (ReplicaManager.truncateForFollowing); each fetch then names the
// epoch of this log's last batch (lastFetchedEpoch, KIP-320), so a tail the leader does not have
// is answered with a divergingEpoch and cut by the same rule before anything after it is copied.
import type { PartitionData } from '../../protocol/generated/01-fetch.js';
import { BrokerConnection, type ClientSecurity } from '../../client/connection.js';
import { API } from '../../client/versions.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { PartitionLog } from '../../storage/index.js';
import { followerTruncation } from '../../storage/leader-epoch-cache.js';
import type { Logger } from '../logger.js';

export interface FollowedPartition {
  topic: string;
  partition: number;
  log: PartitionLog;
  leaderEpoch: number;
  /** Set once the log was truncated for this leadership; fetching starts after. */
  truncated: boolean;
  /** No fetch before this time (an error backs the partition off). */
  delayedUntil: number;
  /** Consecutive "leader not there yet" errors (each doubles the next short delay). */
  quickRetries: number;
  /** The last fetch was answered OFFSET_OUT_OF_RANGE: the leader's offsets are asked before the next. */
  outOfRange?: boolean;
}

export interface FetcherOptions {
  nodeId: number;
  leaderId: number;
  host: string;
  port: number;
  maxWaitMs: number;
  maxBytes: number;
  /** replica.socket.timeout.ms: a request to the leader unanswered for this long closes the connection (retried). */
  requestTimeoutMs?: number;
  backoffMs: number;
  log: Logger;
  /** The inter-broker listener's TLS/SASL settings (security/inter-broker.ts); undefined: PLAINTEXT. */
  security?(): ClientSecurity | undefined;
  /** Truncates a partition's log before it is fetched in a new leadership (throws to retry later). */
  /** `stillFollowing`: whether `p` is still this fetcher's (checked right before a cut is queued). */
  truncate(conn: BrokerConnection, p: FollowedPartition, stillFollowing: () => boolean): Promise<void>;
  /** This broker's epoch (KIP-903), sent with each fetch; undefined while unknown (sent as -1). */
  brokerEpoch?(): number | undefined;
  /** A topic's id (Fetch v13+ names topics by id); undefined keeps the fetch at v12, by name. */
  topicId?(topic: string): string | undefined;
  /** After OFFSET_OUT_OF_RANGE: brings the log within the leader's (follower-truncation.ts's truncateOutOfRange). */
  resetOutOfRange?(conn: BrokerConnection, p: FollowedPartition, stillFollowing: () => boolean): Promise<boolean>;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * Answers meaning the leader has not yet taken up the leadership this follower acts on: it learns
 * of it from the same ZooKeeper write, usually within milliseconds, so the partition is retried
 * after QUICK_RETRY_MS, doubling up to replica.fetch.backoff.ms, instead of after the whole
 * backoff. In a failover the new leader's first acks=all write waits for this follower.
 */
const LEADER_NOT_THERE_YET: ReadonlySet<number> = new Set([ErrorCode.UNKNOWN_LEADER_EPOCH, ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.UNKNOWN_TOPIC_ID]);
/** Fetch v15 (KIP-903): the replica's id and broker epoch in ReplicaState, topics by id. */
const FETCH_WITH_EPOCH = 15;
const QUICK_RETRY_MS = 20;

export class ReplicaFetcher {
  readonly partitions = new Map<string, FollowedPartition>();
  private conn: BrokerConnection | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly loop: Promise<void>;

  constructor(readonly opts: FetcherOptions) {
    this.loop = this.run();
  }

  get address(): string {
    return `${this.opts.host}:${this.opts.port}`;
  }

  add(log: PartitionLog, leaderEpoch: number): void {
    const k = key(log.topic, log.partition);
    const existing = this.partitions.get(k);
    if (existing && existing.leaderEpoch === leaderEpoch && existing.log === log) return;
    this.partitions.set(k, { topic: log.topic, partition: log.partition, log, leaderEpoch, truncated: false, delayedUntil: 0, quickRetries: 0 });
    this.wake?.();
  }

  remove(topic: string, partition: number): void {
    this.partitions.delete(key(topic, partition));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.conn?.close();
    await this.loop;
  }

  private async idle(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
    this.wake = null;
  }

  private async run(): Promise<void> {
    const { log } = this.opts;
    while (!this.stopped) {
      const now = Date.now();
      const ready = [...this.partitions.values()].filter((p) => p.delayedUntil <= now);
      if (ready.length === 0) {
        const next = Math.min(...[...this.partitions.values()].map((p) => p.delayedUntil), now + 1000);
        await this.idle(Math.max(10, next - now));
        continue;
      }
      try {
        if (!this.conn || this.conn.closed) {
          this.conn = await BrokerConnection.open(this.opts.host, this.opts.port, {
            clientId: `broker-${this.opts.nodeId}-fetcher-0`,
            security: this.opts.security?.(),
            connectTimeoutMs: 10_000,
            requestTimeoutMs: this.opts.requestTimeoutMs ?? this.opts.maxWaitMs + 30_000,
          });
        }
        const conn = this.conn;
        for (const p of ready.filter((p) => !p.truncated)) {
          try {
            await this.opts.truncate(conn, p, () => !this.stopped && this.partitions.get(key(p.topic, p.partition)) === p);
            p.truncated = true;
          } catch (err) {
            log.warn(`[ReplicaFetcher leader=${this.opts.leaderId}] truncating ${p.topic}-${p.partition} failed (retried): ${(err as Error).message}`);
            this.backOff(p, err instanceof KafkaError ? err.code : undefined);
          }
        }
        for (const p of ready.filter((p) => p.truncated && p.outOfRange && this.partitions.get(key(p.topic, p.partition)) === p)) {
          try {
            const cut = await this.opts.resetOutOfRange!(conn, p, () => !this.stopped && this.partitions.get(key(p.topic, p.partition)) === p);
            p.outOfRange = false;
            // Nothing to cut: the leader's log merely moved (or the answer came from another
            // leadership); the next fetch waits a backoff, so a fetch the leader keeps refusing
            // does not spin.
            if (!cut) this.backOff(p, undefined);
          } catch (err) {
            log.warn(`[ReplicaFetcher leader=${this.opts.leaderId}] resetting ${p.topic}-${p.partition} after OFFSET_OUT_OF_RANGE failed (retried): ${(err as Error).message}`);
            this.backOff(p, err instanceof KafkaError ? err.code : undefined);
          }
        }
        const fetching = ready.filter((p) => p.truncated && !p.outOfRange && p.delayedUntil <= now && this.partitions.get(key(p.topic, p.partition)) === p);
        if (fetching.length > 0) await this.fetchOnce(conn, fetching);
      } catch (err) {
        if (this.stopped) break;
        log.warn(`[ReplicaFetcher leader=${this.opts.leaderId}] fetch from ${this.address} failed: ${(err as Error).message}`);
        this.conn?.close();
        this.conn = null;
        await this.idle(this.opts.backoffMs);
      }
    }
    this.conn?.close();
  }

  /** No fetch of `p` for replica.fetch.backoff.ms, or briefly when the leader is only catching up. */
  private backOff(p: FollowedPartition, errorCode: number | undefined): void {
    const quick = errorCode !== undefined && LEADER_NOT_THERE_YET.has(errorCode);
    const ms = quick ? Math.min(this.opts.backoffMs, QUICK_RETRY_MS * 2 ** p.quickRetries++) : this.opts.backoffMs;
    p.delayedUntil = Date.now() + ms;
  }

  private async fetchOnce(conn: BrokerConnection, partitions: FollowedPartition[]): Promise<void> {
    const byTopic = new Map<string, FollowedPartition[]>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    const sent = new Map(partitions.map((p) => [key(p.topic, p.partition), { p, fetchOffset: p.log.logEndOffset }]));
    // KIP-903: with the broker epoch (v15) when the leader serves it and every topic's id is known,
    // so that the leader admits to the ISR only this broker's current incarnation, not a fetch sent
    // before a restart or a new ZooKeeper session; else v12, by name.
    const ids = new Map([...byTopic.keys()].map((topic) => [topic, this.opts.topicId?.(topic)]));
    const byEpoch = (conn.brokerVersions.get(API.Fetch)?.[1] ?? 0) >= FETCH_WITH_EPOCH && [...ids.values()].every((id) => id !== undefined);
    const version = byEpoch ? FETCH_WITH_EPOCH : Math.min(conn.version(API.Fetch), 12);
    const names = new Map([...ids].map(([topic, id]) => [id, topic]));
    // A long poll must not outlast the backoff of a partition left out of it (it is fetched next).
    const now = Date.now();
    let maxWaitMs = this.opts.maxWaitMs;
    for (const p of this.partitions.values()) if (p.delayedUntil > now) maxWaitMs = Math.min(maxWaitMs, p.delayedUntil - now);
    const body = await conn.send(API.Fetch, version, {
      replicaId: this.opts.nodeId,
      replicaState: { replicaId: this.opts.nodeId, replicaEpoch: this.opts.brokerEpoch?.() ?? -1 },
      maxWaitMs,
      minBytes: 1,
      maxBytes: 10 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic].map(([topic, ps]) => ({
        topic,
        topicId: ids.get(topic),
        partitions: ps.map((p) => ({
          partition: p.partition,
          currentLeaderEpoch: p.leaderEpoch,
          fetchOffset: sent.get(key(p.topic, p.partition))!.fetchOffset,
          // KIP-320: the epoch of this log's last batch, so that the leader answers a divergingEpoch
          // when this log's tail is not its log (a batch that landed after the truncation).
          lastFetchedEpoch: p.log.leaderEpochs.latestEpoch() ?? -1,
          logStartOffset: p.log.logStartOffset,
          partitionMaxBytes: this.opts.maxBytes,
        })),
      })),
      forgottenTopicsData: [],
      rackId: '',
    });
    for (const t of body.responses) {
      const topic: string | undefined = byEpoch ? names.get(t.topicId) : t.topic;
      if (topic === undefined) continue;
      for (const r of t.partitions) {
        const entry = sent.get(key(topic, r.partitionIndex));
        if (!entry || this.partitions.get(key(topic, r.partitionIndex)) !== entry.p) continue; // reassigned meanwhile
        await this.handlePartition(entry.p, entry.fetchOffset, r);
      }
    }
  }

  /**
   * The leader's answer to lastFetchedEpoch: where that epoch ends in its log (Kafka's
   * truncateOnFetchResponse). The cut is Kafka's rule, as for an OffsetForLeaderEpoch answer; when
   * this log lacks the epoch named, the next fetch names an older one and the leader answers again.
   */
  private async truncateOnDivergence(p: FollowedPartition, fetchOffset: number, leader: { epoch: number; endOffset: number }): Promise<void> {
    const { log } = this.opts;
    if (p.log.logEndOffset !== fetchOffset) return; // the log moved since the fetch was sent: fetch again
    const point = followerTruncation(p.log.leaderEpochs, leader, fetchOffset, p.log.highWatermark);
    log.info(`[${p.log.name}] diverged from the leader at epoch ${p.leaderEpoch} (its epoch ${leader.epoch} ends at ${leader.endOffset}): truncating from ${fetchOffset} to ${point.offset}`);
    try {
      await p.log.truncateTo(point.offset, { belowHighWatermark: true });
    } catch (err) {
      log.warn(`[ReplicaFetcher leader=${this.opts.leaderId}] truncating ${p.topic}-${p.partition} to ${point.offset} failed (retried): ${(err as Error).message}`);
      this.backOff(p, err instanceof KafkaError ? err.code : undefined);
    }
  }

  private async handlePartition(p: FollowedPartition, fetchOffset: number, r: PartitionData): Promise<void> {
    const { log } = this.opts;
    if (r.errorCode !== 0) {
      // Not (yet) the leader, an epoch one side has not heard of, or an offset it does not have: wait
      // for the metadata to settle (a new leadership re-adds the partition and truncates it again).
      if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE && this.opts.resetOutOfRange) {
        // Asked of the leader at once (no backoff), as Kafka's fetcher handles it in the same round.
        log.info(`[ReplicaFetcher leader=${this.opts.leaderId}] ${p.topic}-${p.partition} at ${fetchOffset}: OFFSET_OUT_OF_RANGE; asking the leader for its log start and end`);
        p.outOfRange = true;
        this.wake?.();
        return;
      }
      if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) p.truncated = false;
      log.info(`[ReplicaFetcher leader=${this.opts.leaderId}] ${p.topic}-${p.partition} at ${fetchOffset}: error ${r.errorCode}; backing off`);
      this.backOff(p, r.errorCode);
      return;
    }
    p.quickRetries = 0;
    const diverging = r.divergingEpoch;
    if (diverging && (diverging.epoch >= 0 || Number(diverging.endOffset) >= 0)) {
      // Nothing else of the answer is used: the high watermark waits for the log to be cut (as Kafka).
      await this.truncateOnDivergence(p, fetchOffset, { epoch: diverging.epoch, endOffset: Number(diverging.endOffset) });
      return;
    }
    const records: Buffer | null = r.records;
    if (records && records.length > 0 && p.log.logEndOffset === fetchOffset) await p.log.appendAsFollower(records);
    // The follower's high watermark: the leader's, as far as this log reaches.
    p.log.setHighWatermark(Math.min(Number(r.highWatermark), p.log.logEndOffset));
    // The leader's log start (DeleteRecords, retention) moves this one's too (Kafka's
    // maybeIncrementLogStartOffset with LeaderOffsetIncremented): as leader later, this log must not
    // serve records the old leader had deleted.
    const leaderStart = Number(r.logStartOffset);
    if (leaderStart > p.log.logStartOffset && leaderStart <= p.log.highWatermark) {
      const reason = `the leader's log start, moved by its retention or DeleteRecords`;
      await p.log.deleteRecordsBefore(leaderStart, reason).catch((err) => log.warn(`[${p.log.name}] following the leader's log start ${leaderStart} failed: ${(err as Error).message}`));
    }
  }
}
