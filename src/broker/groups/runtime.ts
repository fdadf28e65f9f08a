// The coordinator's shared state and services: the groups, the clock and timers, and ordered
// writes to __consumer_offsets. The state machine (join.ts, sync.ts, leave.ts, rebalance.ts) and
// the offsets code (offsets.ts) are functions over one GroupRuntime.
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { ClassicGroup } from './group.js';
import type { MemberMetadata } from './member.js';
import { partitionForGroup } from './records.js';
import type { CoordinatorLog, CoordinatorRecord, TxnBatch } from './store.js';
import type { CommittedOffset, GroupSettings, Logger, Scheduler, TopicLookup } from './types.js';

export interface PendingTxnOffset {
  topic: string;
  partition: number;
  value: CommittedOffset;
}

export class GroupRuntime {
  readonly groups = new Map<string, ClassicGroup>();
  /** OffsetCommit/OffsetFetch v0 (ZooKeeper-era) offsets: group -> topic -> partition. */
  readonly legacyOffsets = new Map<string, Map<string, Map<number, CommittedOffset>>>();
  closed = false;
  /** Whether this broker leads a partition of __consumer_offsets (always, on a single broker). */
  ownsPartition: (partition: number) => boolean = () => true;
  /** Partitions of __consumer_offsets whose groups are being read in after this broker became their leader. */
  readonly loadingPartitions = new Set<number>();
  /**
   * Whether a partition's groups are in memory (OffsetsPartitionOwnership keeps it): between a new
   * leadership and the start of its load the partition is led but neither loaded nor loading.
   */
  isLoaded: (partition: number) => boolean = () => true;
  /** Offsets of open transactions (TxnOffsetCommit): producer id -> group -> "partition\0topic" -> offset, visible once committed. */
  readonly pendingTxnOffsets = new Map<number, Map<string, Map<string, PendingTxnOffset>>>();
  /** Per partition: the last queued append, and the last queued apply (which follows its append's replication). */
  private readonly writeTails = new Map<number, Promise<unknown>>();
  private readonly applyTails = new Map<number, Promise<unknown>>();
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
    const partition = this.partitionFor(groupId);
    if (!this.ownsPartition(partition)) return ErrorCode.NOT_COORDINATOR;
    // Kafka's groups are loaded before they are served; an answer from memory before the load
    // would be an empty group, and an OffsetFetch would answer -1 for every committed offset.
    if (this.loadingPartitions.has(partition) || !this.isLoaded(partition)) return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /**
   * Appends records for a group and then runs `apply` once the partition's ISR has them, both in
   * order with every other write to the same partition, so in-memory state follows the log's
   * order. Rejects if the append or its replication fails (apply is then not run: a commit the
   * ISR never confirmed is not served, as Kafka's pending offsets). The next append does not wait
   * for this one's replication, only its apply does. `txn`: the records are a transaction's offsets
   * (TxnOffsetCommit), written as a transactional batch of that producer.
   */
  write<T>(groupId: string, records: CoordinatorRecord[], apply: () => T, txn?: TxnBatch): Promise<T> {
    const partition = this.partitionFor(groupId);
    const appended = this.inOrder(partition, async () => {
      // A broker that no longer leads the partition must not write into its replica of it.
      if (records.length > 0 && !this.ownsPartition(partition)) {
        throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `this broker no longer leads __consumer_offsets-${partition}`);
      }
      // Wrapped: returning the promise itself would hold the next append until it settles.
      return records.length > 0 ? await this.store.append(partition, records, this.now(), txn) : undefined;
    });
    return this.afterAppend(partition, async () => {
      await (await appended)?.replicated;
      return apply();
    });
  }

  /** Runs `fn` after every append queued so far to the partition, and before any queued after. */
  inOrder<T>(partition: number, fn: () => Promise<T>): Promise<T> {
    return chain(this.writeTails, partition, fn);
  }

  /**
   * Runs `fn` after every apply queued so far to the partition (each waits for its append's
   * replication), and before any queued after: what follows a write sees its effect.
   */
  afterAppend<T>(partition: number, fn: () => Promise<T>): Promise<T> {
    return chain(this.applyTails, partition, fn);
  }

  /** Resolves once every write queued so far is done. */
  async drainWrites(): Promise<void> {
    await Promise.all([...this.writeTails.values(), ...this.applyTails.values()]);
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

/** Queues `fn` after the partition's tail in `tails`; a failure does not stop what follows. */
function chain<T>(tails: Map<number, Promise<unknown>>, partition: number, fn: () => Promise<T>): Promise<T> {
  const tail = tails.get(partition) ?? Promise.resolve();
  const next = tail.then(fn);
  const settled = next.catch(() => undefined);
  tails.set(partition, settled);
  void settled.then(() => {
    if (tails.get(partition) === settled) tails.delete(partition);
  });
  return next;
}
