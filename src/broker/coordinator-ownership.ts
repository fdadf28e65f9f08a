// Which partitions of a coordinator's log (__consumer_offsets, __transaction_state) this broker
// coordinates, kept in line with their leadership in a ZooKeeper cluster (Kafka's
// onElection / onResignation): a partition gained is read from the local replica before it is served
// (COORDINATOR_LOAD_IN_PROGRESS meanwhile); one lost is dropped (its clients get NOT_COORDINATOR and
// look again). What is read and dropped is each coordinator's own: groups/ownership.ts,
// transactions/ownership.ts.
import { CoalescedPasses } from '../util/coalesced-passes.js';

/** What the two coordinators have in common, as this needs it. */
export interface OwnedCoordinator {
  readonly store: { partitionCount(): number };
  readonly closed: boolean;
  readonly loadingPartitions: Set<number>;
  isLoaded: (partition: number) => boolean;
}

export abstract class CoordinatorPartitionOwnership {
  /** Partitions whose state is in memory. */
  private readonly held = new Set<number>();
  private readonly passes: CoalescedPasses;

  /** `heldAtStart`: the partitions the coordinator's start loaded and serves. */
  constructor(
    private readonly target: OwnedCoordinator,
    heldAtStart: (partition: number) => boolean,
  ) {
    for (let p = 0; p < target.store.partitionCount(); p++) if (heldAtStart(p)) this.held.add(p);
    target.isLoaded = (p) => this.held.has(p);
    this.passes = new CoalescedPasses(() => this.pass(), () => target.closed);
  }

  /** Whether this broker leads `partition` now. */
  protected abstract owns(partition: number): boolean;
  /** Drops the state of a partition another broker now leads. */
  protected abstract resign(partition: number): void;
  /** Reads the partitions gained from the local replica; a rejection is tried again in one more pass. */
  protected abstract load(gained: ReadonlySet<number>): Promise<void>;
  /** After a load of `gained`, done or failed. */
  protected afterLoad(_gained: ReadonlySet<number>): void {}

  /** Loads what this broker now leads and drops what it no longer does; calls made meanwhile coalesce into one more pass. */
  follow(): Promise<void> {
    return this.passes.request();
  }

  private async pass(): Promise<void> {
    const t = this.target;
    const gained = new Set<number>();
    for (let p = 0; p < t.store.partitionCount(); p++) {
      const leads = this.owns(p);
      if (this.held.has(p) && !leads) {
        this.held.delete(p);
        this.resign(p);
      } else if (!this.held.has(p) && leads) gained.add(p);
    }
    if (gained.size === 0 || t.closed) return;
    for (const p of gained) t.loadingPartitions.add(p);
    try {
      await this.load(gained);
      for (const p of gained) this.held.add(p);
    } catch {
      this.passes.repeat();
    } finally {
      for (const p of gained) t.loadingPartitions.delete(p);
    }
    this.afterLoad(gained);
  }
}
