// Which __transaction_state partitions this broker coordinates, kept in line with their leadership
// in a ZooKeeper cluster (Kafka's TransactionCoordinator.onElection / onResignation): a partition
// gained is read from the local replica (COORDINATOR_LOAD_IN_PROGRESS meanwhile) and its prepared
// transactions are completed; one lost is dropped (clients get NOT_COORDINATOR and look again).
import { CoordinatorPartitionOwnership } from '../coordinator-ownership.js';
import type { TransactionCoordinator } from './coordinator.js';

export class TransactionPartitionOwnership extends CoordinatorPartitionOwnership {
  constructor(
    private readonly coordinator: TransactionCoordinator,
    private readonly leads: (partition: number) => boolean,
  ) {
    // The start loaded every partition of the local log; it serves those it leads.
    super(coordinator, leads);
  }

  protected owns(partition: number): boolean {
    return this.leads(partition);
  }

  protected resign(partition: number): void {
    this.coordinator.dropPartition(partition);
  }

  protected async load(gained: ReadonlySet<number>): Promise<void> {
    for (const p of gained) this.coordinator.dropPartition(p);
    await this.coordinator.loadPartitions(gained);
  }

  /** Completes the prepared transactions of the partitions gained, loaded or not. */
  protected override afterLoad(gained: ReadonlySet<number>): void {
    this.coordinator.finishPrepared((p) => gained.has(p));
  }
}
