// startCluster's moveLeader / moveCoordinator: a leadership change through the cluster's own
// controller, as `kts reassign-partitions` and `kts leader-election` drive it. The target broker is
// put first in the partition's replica list (AlterPartitionReassignments with the same replicas in a
// new order: no data moves), then a PREFERRED ElectLeaders makes it the leader; clients see
// NOT_LEADER_OR_FOLLOWER / NOT_COORDINATOR and follow, as after a reassignment in production.
import { partitionForGroup } from '../broker/groups/records.js';
import { ErrorCode } from '../protocol/index.js';
import { KafkaClient, type PartitionMetadata } from '../client/index.js';

const POLL_MS = 25;
const OFFSETS_TOPIC = '__consumer_offsets';

async function until<T>(what: string, deadline: number, look: () => Promise<T | undefined>): Promise<T> {
  let last = '';
  for (;;) {
    try {
      const v = await look();
      if (v !== undefined) return v;
    } catch (err) {
      last = `: ${(err as Error).message}`;
    }
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}${last}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Makes broker `to` the leader of topic-partition (it must hold a replica); resolves once the metadata says so. */
export async function moveLeader(bootstrap: string, topic: string, partition: number, to: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const client = await KafkaClient.connect(bootstrap, { clientId: 'kts-kit-move' });
  try {
    const state = async (): Promise<PartitionMetadata> => {
      const md = await client.topic(topic, true);
      const p = md.partitions.find((x) => x.partition === partition);
      if (!p) throw new RangeError(`${topic} has no partition ${partition} (it has ${md.partitions.length})`);
      return p;
    };
    const now = await state();
    if (now.leader === to) return;
    if (!now.replicas.includes(to)) throw new RangeError(`broker ${to} holds no replica of ${topic}-${partition} (replicas ${now.replicas.join(',')})`);
    // A preferred election only picks a replica in the ISR: a follower still catching up gets there first.
    await until(`broker ${to} in the ISR of ${topic}-${partition}`, deadline, async () => ((await state()).isr.includes(to) ? true : undefined));
    if (now.replicas[0] !== to) {
      const replicas = [to, ...now.replicas.filter((r) => r !== to)];
      const [result] = await client.admin.alterPartitionReassignments([{ topic, partition, replicas }]);
      if (result.error) throw result.error;
      await until(`${topic}-${partition}'s replicas to become ${replicas.join(',')}`, deadline, async () => ((await state()).replicas[0] === to ? true : undefined));
    }
    await until(`broker ${to} to lead ${topic}-${partition}`, deadline, async () => {
      if ((await state()).leader === to) return true;
      const [elected] = await client.admin.electLeaders('PREFERRED', [{ topic, partition }]);
      // ELECTION_NOT_NEEDED: the controller already made it the leader (the metadata catches up).
      if (elected?.error && elected.error.code !== ErrorCode.ELECTION_NOT_NEEDED) throw elected.error;
      return (await state()).leader === to ? true : undefined;
    });
    // Every broker's metadata agrees, so a client asking any of them is sent to `to`.
    for (const b of (await client.metadata([])).brokers) {
      const single = await KafkaClient.connect(`${b.host}:${b.port}`, { clientId: 'kts-kit-move' });
      try {
        await until(`broker ${b.nodeId} to know ${to} leads ${topic}-${partition}`, deadline, async () => {
          const md = await single.topic(topic, true);
          return md.partitions.find((x) => x.partition === partition)?.leader === to ? true : undefined;
        });
      } finally {
        single.close();
      }
    }
  } finally {
    client.close();
  }
}

/** The __consumer_offsets partition that holds `groupId` (Kafka's abs(hashCode) % partitions). */
export async function coordinatorPartition(bootstrap: string, groupId: string): Promise<number> {
  const client = await KafkaClient.connect(bootstrap, { clientId: 'kts-kit-move' });
  try {
    const md = await client.topic(OFFSETS_TOPIC, true);
    if (md.partitions.length === 0) throw new Error(`${OFFSETS_TOPIC} does not exist yet: a group has to be used before its coordinator can move`);
    return partitionForGroup(groupId, md.partitions.length);
  } finally {
    client.close();
  }
}

/** Makes broker `to` the coordinator of `groupId` by moving its __consumer_offsets partition's leadership. */
export async function moveCoordinator(bootstrap: string, groupId: string, to: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await moveLeader(bootstrap, OFFSETS_TOPIC, await coordinatorPartition(bootstrap, groupId), to, timeoutMs);
  // The new leader loads the partition's groups before it answers as their coordinator.
  const client = await KafkaClient.connect(bootstrap, { clientId: 'kts-kit-move' });
  try {
    await until(`broker ${to} to coordinate group '${groupId}'`, deadline, async () => ((await client.groups.findCoordinator(groupId, 1000)) === to ? true : undefined));
  } finally {
    client.close();
  }
}
