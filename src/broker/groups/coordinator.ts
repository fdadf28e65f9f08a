// The group coordinator (Kafka's classic GroupCoordinator) for every group: this broker is the
// coordinator of all partitions of __consumer_offsets. A facade over the state machine
// (join.ts, sync.ts, leave.ts), offsets (offsets.ts), admin (admin.ts) and persistence.
import { deleteGroups, describeGroup, listGroups } from './admin.js';
import { describeConsumerGroup, type ConsumerGroupDescription } from './consumer-describe.js';
import { consumerGroupHeartbeat, stopConsumerGroups, type ConsumerHeartbeatParams, type ConsumerHeartbeatResult } from './consumer-heartbeat.js';
import { joinGroup } from './join.js';
import { leaveGroup } from './leave.js';
import { commitOffsets, deleteOffsets, fetchOffsets, removeOffsetsOfTopic, topicsOfOffsetsGone } from './offsets.js';
import { expireOffsets, loadGroups } from './persistence.js';
import { invokeJoin, invokeSync, joinError } from './rebalance.js';
import { OffsetsPartitionOwnership } from './ownership.js';
import { commitTransactionalOffsets, completeTransactionalOffsets, hasPendingOffset, type TxnOffsetCommitParams } from './txn-offsets.js';
import { GroupRuntime } from './runtime.js';
import { MemoryCoordinatorLog, type CoordinatorLog } from './store.js';
import { heartbeat, syncGroup } from './sync.js';
import { leadsCoordinatorPartition, OFFSETS_TOPIC_CONFIGS, TopicCoordinatorLog, type LogManagerLike, type ReplicationLike, type TopicRegistryLike } from './topic-log.js';
import {
  nodeScheduler,
  OFFSETS_TOPIC,
  readGroupSettings,
  type ConfigSource,
  type GroupDescription,
  type HeartbeatParams,
  type JoinGroupParams,
  type JoinGroupResult,
  type LeaveGroupResult,
  type LeavingMember,
  type ListedGroup,
  type Logger,
  type OffsetCommitParams,
  type OffsetFetchResult,
  type Scheduler,
  type SyncGroupParams,
  type SyncGroupResult,
  type TopicPartitionErrors,
} from './types.js';
import { ErrorCode } from '../../protocol/errors.js';

export interface GroupCoordinatorOptions {
  /** Partition logs and topics: __consumer_offsets lives there. Without them (tests) `store` is used. */
  logs?: LogManagerLike;
  topics?: TopicRegistryLike;
  config: ConfigSource;
  now: () => number;
  log: Logger;
  nodeId: number;
  /** Timer seam (tests drive time by hand). Default: Node timers. */
  scheduler?: Scheduler;
  /** Persistence seam; default: __consumer_offsets through `logs`/`topics`, else in memory. */
  store?: CoordinatorLog;
  /** The replica manager once it runs: writes to a replicated __consumer_offsets wait for its ISR. */
  replication?: () => ReplicationLike | undefined;
}

type TopicPartitions = { name: string; partitionIndexes: number[] }[];

export class GroupCoordinator {
  private retentionTimer: unknown = null;

  private constructor(
    private readonly rt: GroupRuntime,
    readonly nodeId: number,
  ) {}

  static async start(opts: GroupCoordinatorOptions): Promise<GroupCoordinator> {
    const settings = readGroupSettings(opts.config);
    const store =
      opts.store ??
      (opts.logs && opts.topics
        ? new TopicCoordinatorLog(opts.logs, opts.topics, settings.offsetsTopicPartitions, opts.log, settings.offsetsTopicReplicationFactor, OFFSETS_TOPIC, { ...OFFSETS_TOPIC_CONFIGS, 'segment.bytes': String(settings.offsetsTopicSegmentBytes) }, {
            replication: opts.replication ?? (() => undefined),
            timeoutMs: settings.offsetCommitTimeoutMs,
          })
        : new MemoryCoordinatorLog(settings.offsetsTopicPartitions));
    const rt = new GroupRuntime(settings, store, opts.scheduler ?? nodeScheduler, opts.now, opts.log, opts.topics);
    const topics = opts.topics;
    if (typeof topics?.partitionState === 'function') {
      rt.ownsPartition = (partition) => leadsCoordinatorPartition(topics, OFFSETS_TOPIC, partition, opts.nodeId);
    }
    const started = Date.now();
    const loaded = await loadGroups(rt);
    if (loaded.groups > 0 || loaded.offsets > 0) {
      opts.log.info(`Loaded ${loaded.groups} groups and ${loaded.offsets} committed offsets from __consumer_offsets in ${Date.now() - started} ms`);
    }
    // A topic deleted while this broker was down (its offsets partitions offline then): its offsets
    // were never tombstoned. OffsetCommit refuses unknown topics, so such offsets can only be stale.
    for (const topic of topicsOfOffsetsGone(rt)) {
      opts.log.info(`Removing the committed offsets of topic ${topic}, which no longer exists`);
      await removeOffsetsOfTopic(rt, topic);
    }
    const coordinator = new GroupCoordinator(rt, opts.nodeId);
    if (typeof topics?.onStatesChanged === 'function') {
      const ownership = new OffsetsPartitionOwnership(rt);
      topics.onStatesChanged(() => void ownership.follow());
      void ownership.follow();
    }
    coordinator.scheduleRetentionCheck();
    return coordinator;
  }

  private scheduleRetentionCheck(): void {
    this.retentionTimer = this.rt.schedule(() => {
      expireOffsets(this.rt)
        .catch((err) => this.rt.log.warn(`Offset expiry failed: ${(err as Error).message}`))
        .finally(() => {
          if (!this.rt.closed) this.scheduleRetentionCheck();
        });
    }, this.rt.settings.offsetsRetentionCheckIntervalMs);
  }

  /** The __consumer_offsets partition of a group. */
  partitionFor(groupId: string): number {
    return this.rt.partitionFor(groupId);
  }

  /** FindCoordinator creates __consumer_offsets when it is first needed. */
  async ensureOffsetsTopic(): Promise<void> {
    await this.rt.store.ensureCreated();
  }

  joinGroup(params: JoinGroupParams): Promise<JoinGroupResult> {
    return joinGroup(this.rt, params);
  }

  syncGroup(params: SyncGroupParams): Promise<SyncGroupResult> {
    return syncGroup(this.rt, params);
  }

  heartbeat(params: HeartbeatParams): number {
    return heartbeat(this.rt, params);
  }

  leaveGroup(groupId: string, members: LeavingMember[]): LeaveGroupResult {
    return leaveGroup(this.rt, groupId, members);
  }

  /** `legacy` = OffsetCommit v0 (ZooKeeper-era namespace, no group checks). */
  commitOffsets(params: OffsetCommitParams, legacy = false): Promise<TopicPartitionErrors[]> {
    return commitOffsets(this.rt, params, legacy);
  }

  /** `topics` null = all of the group's offsets. `legacy` = OffsetFetch v0. */
  /**
   * `requireStable` (OffsetFetch v7+): a partition with an offset of an open transaction answers
   * UNSTABLE_OFFSET_COMMIT (offset -1), so the consumer retries once the transaction ends.
   */
  fetchOffsets(groupId: string, topics: TopicPartitions | null, legacy = false, member?: { memberId: string | null; memberEpoch: number }, requireStable = false): OffsetFetchResult {
    const result = fetchOffsets(this.rt, groupId, topics, legacy, member);
    if (!requireStable || result.errorCode !== 0 || this.rt.pendingTxnOffsets.size === 0) return result;
    for (const t of result.topics) {
      t.partitions = t.partitions.map((p) =>
        hasPendingOffset(this.rt, groupId, t.name, p.partitionIndex) ? { ...p, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT } : p,
      );
    }
    return result;
  }

  /** TxnOffsetCommit: the offsets stay pending until the transaction's marker reaches their partition. */
  commitTransactionalOffsets(params: TxnOffsetCommitParams): Promise<TopicPartitionErrors[]> {
    const topics = this.rt.topics;
    const exists = (topic: string, partition: number) => {
      if (!topics) return true;
      const info = topics.get(topic);
      return info !== undefined && partition >= 0 && partition < info.partitions;
    };
    return commitTransactionalOffsets(this.rt, params, exists);
  }

  /**
   * Writes a transaction marker into __consumer_offsets-`partition` (`append` does the write, in
   * order with the coordinator's own writes there) and then commits or drops the producer's pending
   * offsets of the groups of that partition.
   */
  writeTxnMarker(partition: number, producerId: number, commit: boolean, append: () => Promise<void>): Promise<void> {
    const appended = this.rt.inOrder(partition, append);
    // After the applies queued before it: the transaction's offsets are pending by then.
    return this.rt.afterAppend(partition, async () => {
      await appended;
      const n = completeTransactionalOffsets(this.rt, partition, producerId, commit);
      if (n > 0) this.rt.log.info(`Committed ${n} transactional offsets of producer ${producerId} in __consumer_offsets-${partition}`);
    });
  }

  consumerGroupHeartbeat(params: ConsumerHeartbeatParams): Promise<ConsumerHeartbeatResult> {
    return consumerGroupHeartbeat(this.rt, params);
  }

  describeConsumerGroups(groupIds: string[]): ConsumerGroupDescription[] {
    return groupIds.map((id) => describeConsumerGroup(this.rt, id));
  }

  deleteOffsets(groupId: string, topics: TopicPartitions): Promise<{ errorCode: number; topics: TopicPartitionErrors[] }> {
    return deleteOffsets(this.rt, groupId, topics);
  }

  listGroups(statesFilter: string[] = [], typesFilter: string[] = []): ListedGroup[] {
    return listGroups(this.rt, statesFilter, typesFilter);
  }

  describeGroups(groupIds: string[]): GroupDescription[] {
    return groupIds.map((id) => describeGroup(this.rt, id));
  }

  deleteGroups(groupIds: string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return deleteGroups(this.rt, groupIds);
  }

  /** Call when a topic is deleted: its committed offsets are removed too. */
  onTopicDeleted(topic: string): Promise<void> {
    return removeOffsetsOfTopic(this.rt, topic);
  }

  /** Runs the offset expiry now (normally every offsets.retention.check.interval.ms). */
  expireOffsets(): Promise<number> {
    return expireOffsets(this.rt);
  }

  /** Stops timers, answers parked requests (NOT_COORDINATOR: clients look again) and lets writes finish. */
  async close(): Promise<void> {
    if (this.rt.closed) return;
    this.rt.closed = true;
    this.rt.cancel(this.retentionTimer);
    stopConsumerGroups(this.rt);
    this.rt.cancelAllTimers();
    for (const group of this.rt.groups.values()) {
      for (const member of group.members.values()) {
        invokeJoin(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
        invokeSync(group, member, ErrorCode.NOT_COORDINATOR);
      }
    }
    await this.rt.drainWrites();
  }
}
