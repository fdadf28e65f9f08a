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
import { GroupRuntime } from './runtime.js';
import { MemoryCoordinatorLog, type CoordinatorLog } from './store.js';
import { heartbeat, syncGroup } from './sync.js';
import { TopicCoordinatorLog, type LogManagerLike, type TopicRegistryLike } from './topic-log.js';
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
      (opts.logs && opts.topics ? new TopicCoordinatorLog(opts.logs, opts.topics, settings.offsetsTopicPartitions, opts.log) : new MemoryCoordinatorLog(settings.offsetsTopicPartitions));
    const rt = new GroupRuntime(settings, store, opts.scheduler ?? nodeScheduler, opts.now, opts.log, opts.topics);
    const topics = opts.topics;
    if (typeof topics?.partitionState === 'function') {
      rt.ownsPartition = (partition) => {
        const state = topics.partitionState!(OFFSETS_TOPIC, partition);
        return state === undefined || state.leader === opts.nodeId;
      };
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
  fetchOffsets(groupId: string, topics: TopicPartitions | null, legacy = false, member?: { memberId: string | null; memberEpoch: number }): OffsetFetchResult {
    return fetchOffsets(this.rt, groupId, topics, legacy, member);
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
