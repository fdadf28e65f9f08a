// The coordinator's shared state and services: the groups, the clock and timers, and ordered
// writes to __consumer_offsets. The state machine (join.ts, sync.ts, leave.ts, rebalance.ts) and
// the offsets code (offsets.ts) are functions over one GroupRuntime.
import { ErrorCode } from '../../protocol/errors.js';
import { ClassicGroup } from './group.js';
import type { MemberMetadata } from './member.js';
import { partitionForGroup } from './records.js';
import type { CoordinatorLog, CoordinatorRecord } from './store.js';
import type { CommittedOffset, GroupSettings, Logger, Scheduler, TopicLookup } from './types.js';

export class GroupRuntime {
  readonly groups = new Map<string, ClassicGroup>();
  /** OffsetCommit/OffsetFetch v0 (ZooKeeper-era) offsets: group -> topic -> partition. */
  readonly legacyOffsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  closed = false;
  /** Whether this broker leads a partition of __consumer_offsets (always, on a single broker). */
  ownsPartition: (partition: number) => boolean = () => true;
  private readonly writeTails = new Map<number, Promise<unknown>>();
  private readonly timers = new Set<unknown>();

  constructor(
    readonly settings: GroupSettings,
    readonly store: CoordinatorLog,
    readonly scheduler: Scheduler,
    readonly now: () => number,
    readonly log: Logger,
    readonly topics: TopicLookup | undefined,
  ) {}

  getOrCreateGroup(groupId: string): ClassicGroup {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new ClassicGroup(groupId, this.now());
      this.groups.set(groupId, group);
    }
    return group;
  }

  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.store.partitionCount());
  }

  /** Kafka's validateGroupStatus: NOT_COORDINATOR once closed or for a group another broker coordinates; else 0. */
  coordinatorError(groupId: string): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    if (!this.ownsPartition(this.partitionFor(groupId))) return ErrorCode.NOT_COORDINATOR;
    return ErrorCode.NONE;
  }

  /**
   * Appends records for a group and then runs `apply`, both in order with every other write to
   * the same partition, so in-memory state follows the log's order. Rejects if the append fails
   * (apply is then not run).
   */
  write<T>(groupId: string, records: CoordinatorRecord[], apply: () => T): Promise<T> {
    const partition = this.partitionFor(groupId);
    const tail = this.writeTails.get(partition) ?? Promise.resolve();
    const next = tail.then(
      async () => {
        if (records.length > 0) await this.store.append(partition, records, this.now());
        return apply();
      },
    );
    const settled = next.catch(() => undefined);
    this.writeTails.set(partition, settled);
    void settled.then(() => {
      if (this.writeTails.get(partition) === settled) this.writeTails.delete(partition);
    });
    return next;
  }

  /** Resolves once every write queued so far is done. */
  async drainWrites(): Promise<void> {
    await Promise.all([...this.writeTails.values()]);
  }

  schedule(fn: () => void, ms: number): unknown {
    const handle = this.scheduler.setTimeout(() => {
      this.timers.delete(handle);
      if (!this.closed) fn();
    }, ms);
    this.timers.add(handle);
    return handle;
  }

  cancel(handle: unknown): void {
    if (handle === null || handle === undefined) return;
    this.timers.delete(handle);
    this.scheduler.clearTimeout(handle);
  }

  cancelAllTimers(): void {
    for (const t of this.timers) this.scheduler.clearTimeout(t);
    this.timers.clear();
  }

  /** (Re)arms a member's session timer; `onExpire` decides what expiry means. */
  armHeartbeat(member: MemberMetadata, timeoutMs: number, onExpire: () => void): void {
    this.cancel(member.heartbeatTimer);
    member.heartbeatTimer = this.schedule(onExpire, timeoutMs);
  }

  disarmHeartbeat(member: MemberMetadata): void {
    this.cancel(member.heartbeatTimer);
    member.heartbeatTimer = null;
  }
}
