// Which __consumer_offsets partitions this broker coordinates, kept in line with their leadership
// in a ZooKeeper cluster (Kafka's GroupCoordinator.onElection / onResignation). A broker that
// becomes the leader of a partition reads its groups and offsets from its own replica (it was in
// the ISR, so it has every committed record) before serving them (COORDINATOR_LOAD_IN_PROGRESS
// meanwhile); one that stops leading drops them (its clients get NOT_COORDINATOR and look again).
// Without this the new coordinator knew only what it had loaded at its start, and the old one
// kept timers that wrote group records into a partition it no longer led.
import { ErrorCode } from '../../protocol/errors.js';
import { CoordinatorPartitionOwnership } from '../coordinator-ownership.js';
import { loadGroups } from './persistence.js';
import { invokeJoin, invokeSync, joinError } from './rebalance.js';
import type { GroupRuntime } from './runtime.js';
import { dropPendingOfPartition } from './txn-offsets.js';

export class OffsetsPartitionOwnership extends CoordinatorPartitionOwnership {
  constructor(private readonly rt: GroupRuntime) {
    // The start loaded every partition of the local log.
    super(rt, () => true);
  }

  protected owns(partition: number): boolean {
    return this.rt.ownsPartition(partition);
  }

  protected async load(gained: ReadonlySet<number>): Promise<void> {
    const { rt } = this;
    const started = Date.now();
    try {
      const loaded = await loadGroups(rt, gained);
      rt.log.info(`Elected coordinator of __consumer_offsets partitions ${[...gained].join(',')}: loaded ${loaded.groups} groups and ${loaded.offsets} committed offsets in ${Date.now() - started} ms`);
    } catch (err) {
      rt.log.warn(`Loading __consumer_offsets partitions ${[...gained].join(',')} failed: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Drops the groups of a partition another broker now leads, answering their parked requests. */
  protected resign(partition: number): void {
    const { rt } = this;
    let dropped = 0;
    for (const [groupId, group] of rt.groups) {
      if (rt.partitionFor(groupId) !== partition) continue;
      rt.cancel(group.joinTimer);
      rt.cancel(group.syncTimer);
      group.joinTimer = group.syncTimer = null;
      for (const member of group.members.values()) {
        rt.disarmHeartbeat(member);
        invokeJoin(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
        invokeSync(group, member, ErrorCode.NOT_COORDINATOR);
      }
      for (const m of group.consumer?.members.values() ?? []) {
        rt.cancel(m.sessionTimer);
        rt.cancel(m.revocationTimer);
        m.sessionTimer = m.revocationTimer = null;
      }
      rt.groups.delete(groupId);
      rt.legacyOffsets.delete(groupId);
      dropped++;
    }
    dropPendingOfPartition(rt, partition);
    if (dropped > 0) rt.log.info(`Resigned as coordinator of __consumer_offsets-${partition}: dropped ${dropped} groups`);
  }
}
