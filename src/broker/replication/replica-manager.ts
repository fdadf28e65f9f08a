// Replication in ZooKeeper mode (Kafka's ReplicaManager, without LeaderAndIsr RPCs: every broker
// watches the partition state nodes and acts on them). For each local log of a partition with more
// than one replica: this broker leads it (a LeaderPartition tracks followers, ISR and the high
// watermark, and shrinks/expands the ISR through conditional ZooKeeper writes), or follows it (a
// ReplicaFetcher per leader broker copies the leader's log). Partitions with one replica are left
// alone: their high watermark is their log end, as before.
import type { BrokerConnection, ClientSecurity } from '../../client/connection.js';
import type { BrokerConfig } from '../../config/broker-config.js';
import type { ClusterMetadata, PartitionState } from '../../cluster/cluster-metadata.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { LogManager, PartitionLog } from '../../storage/index.js';
import type { Logger } from '../logger.js';
import { LeaderPartition } from './leader-partition.js';
import { type FollowedPartition, ReplicaFetcher } from './replica-fetcher.js';
import { truncateForFollowing, truncateOutOfRange } from './follower-truncation.js';
import { REPLICATION_OFFSET_CHECKPOINT, readHighWatermarks, writeHighWatermarks } from './high-watermark-checkpoint.js';

export interface ReplicaManagerOptions {
  nodeId: number;
  config: BrokerConfig;
  logs: LogManager;
  topics: ClusterMetadata;
  log: Logger;
  now: () => number;
  /** The inter-broker listener's TLS/SASL settings for the fetchers; undefined: PLAINTEXT. */
  interBrokerSecurity?(): ClientSecurity | undefined;
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`;

export class ReplicaManager {
  private readonly leaders = new Map<string, LeaderPartition>();
  /** Partition -> the leader broker this one follows it on. */
  private readonly following = new Map<string, number>();
  private readonly fetchers = new Map<number, ReplicaFetcher>();
  private readonly isrTimer: NodeJS.Timeout;
  private closed = false;

  private readonly checkpointTimer: NodeJS.Timeout;
  private lastCheckpoint = '';
  private checkpointing: Promise<void> = Promise.resolve();

  /** Seeds the high watermarks of replicated logs from replication-offset-checkpoint, then starts. */
  static async start(opts: ReplicaManagerOptions): Promise<ReplicaManager> {
    const replicated = opts.logs.all().filter((log) => (opts.topics.partitionState(log.topic, log.partition)?.replicas.length ?? 0) > 1);
    for (const [log, hw] of await readHighWatermarks(replicated)) log.setHighWatermark(Math.min(hw, log.logEndOffset));
    return new ReplicaManager(opts);
  }

  private constructor(private readonly opts: ReplicaManagerOptions) {
    this.checkpointTimer = setInterval(() => void this.checkpointHighWatermarks(), opts.config.getNumber('replica.high.watermark.checkpoint.interval.ms'));
    this.checkpointTimer.unref();
    const lagMs = this.lagMs();
    // Kafka checks every half of replica.lag.time.max.ms.
    this.isrTimer = setInterval(() => this.maybeShrinkIsrs(), Math.max(50, Math.floor(lagMs / 2)));
    this.isrTimer.unref();
    opts.topics.onStatesChanged?.(() => this.applyStates());
    this.applyStates();
  }

  private lagMs(): number {
    return this.opts.config.getNumber('replica.lag.time.max.ms');
  }

  /** The leader's state of a replicated partition this broker leads, if any. */
  leaderOf(topic: string, partition: number): LeaderPartition | undefined {
    return this.leaders.get(key(topic, partition));
  }

  /** Brings leaders and fetchers in line with the partition states (after every metadata refresh). */
  private applyStates(): void {
    if (this.closed) return;
    const { topics, logs, nodeId } = this.opts;
    const seen = new Set<string>();
    for (const log of logs.all()) {
      const state = topics.partitionState(log.topic, log.partition);
      if (!state || state.replicas.length <= 1 || !state.replicas.includes(nodeId)) continue;
      const k = key(log.topic, log.partition);
      seen.add(k);
      if (state.leader === nodeId) this.becomeLeader(k, log, state);
      else this.becomeFollower(k, log, state);
    }
    for (const k of [...this.leaders.keys()]) if (!seen.has(k)) this.stopLeading(k);
    for (const k of [...this.following.keys()]) if (!seen.has(k)) this.stopFollowing(k);
  }

  private becomeLeader(k: string, log: PartitionLog, state: PartitionState): void {
    this.stopFollowing(k);
    const current = this.leaders.get(k);
    if (current && current.leaderEpoch === state.leaderEpoch && current.log === log) {
      current.update(state.replicas, state.isr, state.zkVersion);
      return;
    }
    if (current && current.log === log && state.leaderEpoch === current.leaderEpoch + 1) {
      // The next epoch, still led here: no other broker can have led in between (each leadership
      // takes an epoch of its own), so this leadership goes on and the acks=all produces waiting in
      // it complete when the high watermark passes them, as in Kafka (only a lost leadership fails
      // them). A jump of more than one may hide another leader's epoch: that is a new leadership.
      this.opts.log.info(`[${log.name}] still leader, epoch ${current.leaderEpoch} -> ${state.leaderEpoch}, ISR [${state.isr.join(',')}]`);
      void log.maybeAssignEpochStartOffset(state.leaderEpoch).catch((err) => this.opts.log.warn(`[${log.name}] ${String(err)}`));
      current.continueAtEpoch(state.leaderEpoch, state.replicas, state.isr);
      return;
    }
    if (current) this.stopLeading(k);
    this.opts.log.info(`[${log.name}] leader at epoch ${state.leaderEpoch}, ISR [${state.isr.join(',')}], high watermark ${log.highWatermark}, log end ${log.logEndOffset}`);
    // The new epoch starts at the log end, noted before anything is written in it.
    void log.maybeAssignEpochStartOffset(state.leaderEpoch).catch((err) => this.opts.log.warn(`[${log.name}] ${String(err)}`));
    this.leaders.set(k, new LeaderPartition(log, this.opts.nodeId, state.leaderEpoch, state.replicas, state.isr, this.opts.now, state.zkVersion));
  }

  private stopLeading(k: string): void {
    const leader = this.leaders.get(k);
    if (!leader) return;
    this.leaders.delete(k);
    leader.close();
  }

  private becomeFollower(k: string, log: PartitionLog, state: PartitionState): void {
    this.stopLeading(k);
    if (state.leader < 0) {
      this.stopFollowing(k);
      return;
    }
    const leaderBroker = this.opts.topics.liveBrokers().find((b) => b.nodeId === state.leader);
    if (!leaderBroker) return;
    const previous = this.following.get(k);
    if (previous !== undefined && previous !== state.leader) this.stopFollowing(k);
    let fetcher = this.fetchers.get(state.leader);
    if (fetcher && fetcher.address !== `${leaderBroker.host}:${leaderBroker.port}`) {
      void fetcher.stop();
      this.fetchers.delete(state.leader);
      fetcher = undefined;
    }
    if (!fetcher) {
      const { config } = this.opts;
      fetcher = new ReplicaFetcher({
        nodeId: this.opts.nodeId,
        leaderId: state.leader,
        host: leaderBroker.host,
        port: leaderBroker.port,
        maxWaitMs: config.getNumber('replica.fetch.wait.max.ms'),
        maxBytes: config.getNumber('replica.fetch.max.bytes'),
        requestTimeoutMs: config.getNumber('replica.socket.timeout.ms'),
        backoffMs: config.getNumber('replica.fetch.backoff.ms'),
        log: this.opts.log,
        security: this.opts.interBrokerSecurity,
        truncate: (conn: BrokerConnection, p: FollowedPartition, stillFollowing: () => boolean) => truncateForFollowing(conn, p, this.opts.log, stillFollowing),
        brokerEpoch: () => this.opts.topics.liveBrokers().find((b) => b.nodeId === this.opts.nodeId)?.epoch,
        topicId: (topic: string) => this.opts.topics.get(topic)?.topicId,
        resetOutOfRange: (conn: BrokerConnection, p: FollowedPartition, stillFollowing: () => boolean) => truncateOutOfRange(conn, p, this.opts.nodeId, this.opts.log, stillFollowing),
      });
      this.fetchers.set(state.leader, fetcher);
    }
    if (previous === undefined || previous !== state.leader) {
      this.opts.log.info(`[${log.name}] follower of broker ${state.leader} at epoch ${state.leaderEpoch}, log end ${log.logEndOffset}`);
    }
    fetcher.add(log, state.leaderEpoch);
    this.following.set(k, state.leader);
  }

  private stopFollowing(k: string): void {
    const leaderId = this.following.get(k);
    if (leaderId === undefined) return;
    this.following.delete(k);
    const [topic, partition] = k.split('\u0000');
    const fetcher = this.fetchers.get(leaderId);
    fetcher?.remove(topic, Number(partition));
    if (fetcher && fetcher.partitions.size === 0) {
      this.fetchers.delete(leaderId);
      void fetcher.stop();
    }
  }

  // ---- called by the handlers ----

  /**
   * A follower's Fetch: its log end is `fetchOffset`; the ISR may grow. `replicaEpoch`: the broker
   * epoch the fetch carried (Fetch v15+; -1 when not known or older versions).
   */
  followerFetched(topic: string, partition: number, replicaId: number, fetchOffset: number, replicaEpoch = -1, logStartOffset = -1): void {
    const leader = this.leaders.get(key(topic, partition));
    if (!leader) return;
    leader.followerFetched(replicaId, fetchOffset, logStartOffset);
    const epochStart = leader.log.leaderEpochs.entries().find((e) => e.epoch === leader.leaderEpoch)?.startOffset ?? 0;
    // Only the replica that fetched can join (as Kafka's maybeExpandIsr): another follower's last
    // fetch may be from a broker that has gone since. Nor one in a controlled shutdown (it was taken
    // out on purpose) or no longer registered.
    if (this.opts.topics.shuttingDownBrokers?.().has(replicaId)) return;
    const registered = this.opts.topics.liveBrokers().find((b) => b.nodeId === replicaId);
    if (!registered) return;
    // KIP-903: a fetch carrying another epoch than the broker's registration (one sent by an earlier
    // incarnation, before a restart or a new session) does not bring it into the ISR; -1 is not checked.
    if (replicaEpoch !== -1 && registered.epoch !== undefined && replicaEpoch !== registered.epoch) return;
    const joining = leader.caughtUpReplicas(epochStart).filter((r) => r === replicaId);
    if (joining.length > 0) void this.changeIsr(topic, partition, leader, [...leader.isr, ...joining], 'caught up');
  }

  /**
   * DeleteRecords after the leader moved its log start to `offset`: waits for every live replica's
   * log start to follow (LeaderPartition.waitForLowWatermark). Null for a partition with one replica
   * (its log start is the answer).
   */
  waitForLowWatermark(topic: string, partition: number, offset: number, timeoutMs: number): Promise<{ errorCode: number; lowWatermark: number }> | null {
    const leader = this.leaders.get(key(topic, partition));
    if (!leader) return this.isReplicated(topic, partition) ? Promise.resolve({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, lowWatermark: -1 }) : null;
    return leader.waitForLowWatermark(offset, timeoutMs, (id) => this.opts.topics.liveBrokers().some((b) => b.nodeId === id));
  }

  /** min.insync.replicas of a topic (its override, else the broker's). */
  minInsyncReplicas(topic: string): number {
    const configs = this.opts.topics.get(topic)?.configs ?? new Map<string, string>();
    return Number(this.opts.config.topicValue('min.insync.replicas', configs));
  }

  /**
   * Before a produce's append, whatever its acks: NOT_LEADER_OR_FOLLOWER while this broker has not
   * taken up the leadership its partition state names (the state is read from ZooKeeper a moment
   * before applyStates runs, after awaits in the same reload). Appended in that window, a batch
   * came before the new epoch's start offset was noted, and an acks=all produce was answered
   * NOT_LEADER_OR_FOLLOWER after its append, which a producer without idempotence retries into a
   * duplicate. Kafka's leader takes produces only once its ReplicaManager made it the leader.
   */
  checkLeadershipTakenUp(topic: string, partition: number, leaderEpoch: number): number {
    const leader = this.leaders.get(key(topic, partition));
    if (!leader) return this.isReplicated(topic, partition) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : 0;
    return leaderEpoch > leader.leaderEpoch ? ErrorCode.NOT_LEADER_OR_FOLLOWER : 0;
  }

  /** acks=all before the append: NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas. */
  checkEnoughReplicas(topic: string, partition: number): number {
    const leader = this.leaders.get(key(topic, partition));
    if (!leader) return 0; // one replica: the ISR is this broker
    return leader.isr.length < this.minInsyncReplicas(topic) ? ErrorCode.NOT_ENOUGH_REPLICAS : 0;
  }

  /**
   * acks=all after the append: resolves with the error code once the high watermark passes
   * `nextOffset`. `leaderEpoch` is the epoch the batch was appended in: if this broker's current
   * leadership did not already hold at that epoch (the leadership moved while the append was on its
   * way), the batch may be on no other replica and is cut when this log follows the new leader, so
   * the answer is NOT_LEADER_OR_FOLLOWER, never success (Kafka's checkEnoughReplicasReachOffset on
   * a partition that is no longer led here). An epoch bump that kept this broker the leader keeps
   * the wait. Only a partition with one replica has no leader state.
   */
  waitForReplication(topic: string, partition: number, nextOffset: number, timeoutMs: number, leaderEpoch?: number): Promise<number> {
    const leader = this.leaders.get(key(topic, partition));
    if (!leader) return Promise.resolve(this.isReplicated(topic, partition) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : 0);
    if (leaderEpoch !== undefined && (leaderEpoch < leader.firstEpoch || leaderEpoch > leader.leaderEpoch)) return Promise.resolve(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    return leader.waitForHighWatermark(nextOffset, timeoutMs, () => this.minInsyncReplicas(topic));
  }

  private isReplicated(topic: string, partition: number): boolean {
    return (this.opts.topics.partitionState(topic, partition)?.replicas.length ?? 0) > 1;
  }

  // ---- ISR ----

  private maybeShrinkIsrs(): void {
    const lagMs = this.lagMs();
    for (const [k, leader] of this.leaders) {
      const lagging = leader.outOfSyncReplicas(lagMs);
      if (lagging.length === 0) continue;
      const [topic, partition] = k.split('\u0000');
      void this.changeIsr(topic, Number(partition), leader, leader.isr.filter((r) => !lagging.includes(r)), `lagging more than ${lagMs} ms: ${lagging.join(',')}`);
    }
  }

  /**
   * Writes the new ISR to the state node, conditioned on the version this broker last read: a leader
   * that ZooKeeper no longer hears, or whose state was superseded, changes nothing (and so can never
   * shrink the ISR to itself and acknowledge acks=all alone).
   */
  private async changeIsr(topic: string, partition: number, leader: LeaderPartition, isr: number[], why: string): Promise<void> {
    const alterIsr = this.opts.topics.alterIsr?.bind(this.opts.topics);
    if (!alterIsr || leader.isrChangeInFlight) return;
    const state = this.opts.topics.partitionState(topic, partition);
    if (!state || state.leader !== this.opts.nodeId || state.leaderEpoch !== leader.leaderEpoch || state.zkVersion === undefined) return;
    leader.isrChangeInFlight = true;
    // Before the write leaves: ZooKeeper may apply it before this broker hears the answer.
    leader.proposeIsr(isr, state.zkVersion);
    try {
      const updated = await alterIsr(topic, partition, isr, state.zkVersion);
      if (!updated) leader.isrChangeRefused(state.zkVersion);
      else if (this.leaders.get(key(topic, partition)) === leader) {
        this.opts.log.info(`[${topic}-${partition}] ISR [${state.isr.join(',')}] -> [${isr.join(',')}] (${why})`);
        leader.update(updated.replicas, updated.isr, updated.zkVersion);
      }
    } catch (err) {
      // The outcome is unknown (the write may be applied): the joining followers keep counting
      // until a newer state shows how it ended.
      this.opts.log.warn(`[${topic}-${partition}] ISR change to [${isr.join(',')}] failed: ${(err as Error).message}`);
    } finally {
      leader.isrChangeInFlight = false;
    }
  }

  /** Writes replication-offset-checkpoint when a high watermark moved (one write at a time). */
  checkpointHighWatermarks(): Promise<void> {
    this.checkpointing = this.checkpointing.then(async () => {
      const logs = [...this.leaders.values()].map((l) => l.log);
      for (const k of this.following.keys()) {
        const [topic, partition] = k.split('\u0000');
        const log = this.opts.logs.get(topic, Number(partition));
        if (log) logs.push(log);
      }
      const signature = logs.map((l) => `${l.logDir}/${l.name}:${l.highWatermark}`).sort().join(',');
      if (signature === this.lastCheckpoint) return;
      await writeHighWatermarks(logs).catch((err) => this.opts.log.warn(`Writing ${REPLICATION_OFFSET_CHECKPOINT} failed: ${(err as Error).message}`));
      this.lastCheckpoint = signature;
    });
    return this.checkpointing;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.checkpointTimer);
    clearInterval(this.isrTimer);
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()));
    await this.checkpointHighWatermarks();
    for (const k of [...this.leaders.keys()]) this.stopLeading(k);
    this.fetchers.clear();
    this.following.clear();
  }
}
