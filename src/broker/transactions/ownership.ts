// Which __transaction_state partitions this broker coordinates, kept in line with their leadership
// in a ZooKeeper cluster (Kafka's TransactionCoordinator.onElection / onResignation): a partition
// gained is read from the local replica (COORDINATOR_LOAD_IN_PROGRESS meanwhile) and its prepared
// transactions are completed; one lost is dropped (clients get NOT_COORDINATOR and look again).
import type { TransactionCoordinator } from './coordinator.js';

export class TransactionPartitionOwnership {
  private readonly held = new Set<number>();
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly coordinator: TransactionCoordinator,
    private readonly owns: (partition: number) => boolean,
  ) {
    // The start loaded every partition of the local log.
    for (let p = 0; p < coordinator.store.partitionCount(); p++) if (owns(p)) this.held.add(p);
    coordinator.isLoaded = (p) => this.held.has(p);
  }

  follow(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.coordinator.closed);
    })().finally(() => (this.running = null));
    return this.running;
  }

  private async pass(): Promise<void> {
    const c = this.coordinator;
    const gained = new Set<number>();
    for (let p = 0; p < c.store.partitionCount(); p++) {
      const leads = this.owns(p);
      if (this.held.has(p) && !leads) {
        this.held.delete(p);
        c.dropPartition(p);
      } else if (!this.held.has(p) && leads) gained.add(p);
    }
    if (gained.size === 0 || c.closed) return;
    for (const p of gained) c.loadingPartitions.add(p);
    try {
      for (const p of gained) c.dropPartition(p);
      await c.loadPartitions(gained);
      for (const p of gained) this.held.add(p);
    } catch {
      this.again = true;
    } finally {
      for (const p of gained) c.loadingPartitions.delete(p);
    }
    c.finishPrepared((p) => gained.has(p));
  }
}
