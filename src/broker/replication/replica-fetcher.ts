// A follower's fetcher for one leader broker (Kafka's ReplicaFetcherThread): one connection, one
// Fetch at a time carrying every partition this broker follows on that leader, with replica_id =
// this broker's id (Fetch <= v14's form; kts serves Fetch up to v12). The leader's batches are
// appended as they are (offsets, leader epochs: PartitionLog.appendAsFollower), and the follower's
// high watermark follows the leader's. Before a partition's first fetch it is truncated where the
// leader's log and this one part (ReplicaManager.truncateForFollowing).
import { BrokerConnection } from '../../client/connection.js';
import { API } from '../../client/versions.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { PartitionLog } from '../../storage/index.js';
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
}

export interface FetcherOptions {
  nodeId: number;
  leaderId: number;
  host: string;
  port: number;
  maxWaitMs: number;
  maxBytes: number;
  backoffMs: number;
  log: Logger;
  /** Truncates a partition's log before it is fetched in a new leadership (throws to retry later). */
  truncate(conn: BrokerConnection, p: FollowedPartition): Promise<void>;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    this.partitions.set(k, { topic: log.topic, partition: log.partition, log, leaderEpoch, truncated: false, delayedUntil: 0 });
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
            connectTimeoutMs: 10_000,
            requestTimeoutMs: this.opts.maxWaitMs + 30_000,
          });
        }
        const conn = this.conn;
        for (const p of ready.filter((p) => !p.truncated)) {
          try {
            await this.opts.truncate(conn, p);
            p.truncated = true;
          } catch (err) {
            log.warn(`[ReplicaFetcher leader=${this.opts.leaderId}] truncating ${p.topic}-${p.partition} failed (retried): ${(err as Error).message}`);
            p.delayedUntil = Date.now() + this.opts.backoffMs;
          }
        }
        const fetching = ready.filter((p) => p.truncated && this.partitions.get(key(p.topic, p.partition)) === p);
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

  private async fetchOnce(conn: BrokerConnection, partitions: FollowedPartition[]): Promise<void> {
    const byTopic = new Map<string, FollowedPartition[]>();
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p]);
    const sent = new Map(partitions.map((p) => [key(p.topic, p.partition), { p, fetchOffset: p.log.logEndOffset }]));
    const version = Math.min(conn.version(API.Fetch), 12);
    const body = await conn.send(API.Fetch, version, {
      replicaId: this.opts.nodeId,
      maxWaitMs: this.opts.maxWaitMs,
      minBytes: 1,
      maxBytes: 10 * 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [...byTopic].map(([topic, ps]) => ({
        topic,
        partitions: ps.map((p) => ({
          partition: p.partition,
          currentLeaderEpoch: p.leaderEpoch,
          fetchOffset: sent.get(key(p.topic, p.partition))!.fetchOffset,
          lastFetchedEpoch: -1,
          logStartOffset: p.log.logStartOffset,
          partitionMaxBytes: this.opts.maxBytes,
        })),
      })),
      forgottenTopicsData: [],
      rackId: '',
    });
    for (const t of body.responses as any[]) {
      for (const r of t.partitions as any[]) {
        const entry = sent.get(key(t.topic, r.partitionIndex));
        if (!entry || this.partitions.get(key(t.topic, r.partitionIndex)) !== entry.p) continue; // reassigned meanwhile
        await this.handlePartition(entry.p, entry.fetchOffset, r);
      }
    }
  }

  private async handlePartition(p: FollowedPartition, fetchOffset: number, r: any): Promise<void> {
    const { log } = this.opts;
    if (r.errorCode !== 0) {
      // Not (yet) the leader, an epoch one side has not heard of, or an offset it does not have: wait
      // for the metadata to settle (a new leadership re-adds the partition and truncates it again).
      if (r.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) p.truncated = false;
      log.info(`[ReplicaFetcher leader=${this.opts.leaderId}] ${p.topic}-${p.partition} at ${fetchOffset}: error ${r.errorCode}; backing off`);
      p.delayedUntil = Date.now() + this.opts.backoffMs;
      return;
    }
    const records: Buffer | null = r.records;
    if (records && records.length > 0 && p.log.logEndOffset === fetchOffset) await p.log.appendAsFollower(records);
    // The follower's high watermark: the leader's, as far as this log reaches.
    p.log.setHighWatermark(Math.min(Number(r.highWatermark), p.log.logEndOffset));
  }
}
