// Where a new partition's replicas go, as Kafka's AdminUtils.assignReplicasToBrokers does it, and the
// checks Kafka makes of an assignment a client names (CreateTopics / CreatePartitions
// `assignments`). Pure functions: the cluster metadata stores decide which brokers are live.
//
// Rack-unaware: the first replica of partition p is broker (p + start) mod n over the brokers sorted
// by id; the others follow at a shift that grows by one every n partitions, so leaders and followers
// both spread evenly. Rack-aware (every broker has a rack): the same walk over a list that alternates
// racks, skipping brokers whose rack (or self) already holds a replica until every rack has one.
import { ErrorCode, KafkaError } from '../protocol/errors.js';

export interface PlacementBroker {
  nodeId: number;
  rack: string | null;
}

export interface PlacementOptions {
  /** Index into the broker list of partition `firstPartition`'s first replica; random when absent. */
  fixedStartIndex?: number;
  /** The first partition id to place (CreatePartitions places from the current count). */
  firstPartition?: number;
  random?: (bound: number) => number;
}

const randomInt = (bound: number) => Math.floor(Math.random() * bound);

/** Partition id -> replicas (preferred leader first), for partitions firstPartition.. */
export function assignReplicasToBrokers(
  brokers: PlacementBroker[],
  partitions: number,
  replicationFactor: number,
  opts: PlacementOptions = {},
): Map<number, number[]> {
  if (partitions <= 0) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
  if (replicationFactor <= 0) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
  if (replicationFactor > brokers.length) {
    throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor: ${replicationFactor} larger than available brokers: ${brokers.length}.`);
  }
  const withRack = brokers.filter((b) => b.rack !== null && b.rack !== undefined);
  if (withRack.length === 0) return rackUnaware(brokers.map((b) => b.nodeId).sort((a, b) => a - b), partitions, replicationFactor, opts);
  if (withRack.length < brokers.length) {
    // Kafka's RackAwareMode.Enforced, what CreateTopics uses.
    throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Not all brokers have rack information for replica rack aware assignment.');
  }
  return rackAware(new Map(brokers.map((b) => [b.nodeId, b.rack!])), partitions, replicationFactor, opts);
}

function replicaIndex(firstReplicaIndex: number, secondReplicaShift: number, replica: number, brokerCount: number): number {
  const shift = 1 + ((secondReplicaShift + replica) % (brokerCount - 1));
  return (firstReplicaIndex + shift) % brokerCount;
}

function rackUnaware(ids: number[], partitions: number, rf: number, opts: PlacementOptions): Map<number, number[]> {
  const random = opts.random ?? randomInt;
  const n = ids.length;
  const startIndex = opts.fixedStartIndex !== undefined && opts.fixedStartIndex >= 0 ? opts.fixedStartIndex : random(n);
  let shift = opts.fixedStartIndex !== undefined && opts.fixedStartIndex >= 0 ? opts.fixedStartIndex : random(n);
  const result = new Map<number, number[]>();
  let partition = Math.max(0, opts.firstPartition ?? 0);
  for (let i = 0; i < partitions; i++, partition++) {
    if (partition > 0 && partition % n === 0) shift += 1;
    const first = (partition + startIndex) % n;
    const replicas = [ids[first]];
    for (let j = 0; j < rf - 1; j++) replicas.push(ids[replicaIndex(first, shift, j, n)]);
    result.set(partition, replicas);
  }
  return result;
}

/** Brokers ordered so that consecutive ones sit on different racks (racks and ids sorted). */
export function rackAlternatedBrokers(rackOf: Map<number, string>): number[] {
  const byRack = new Map<string, number[]>();
  for (const [id, rack] of rackOf) byRack.set(rack, [...(byRack.get(rack) ?? []), id]);
  const racks = [...byRack.keys()].sort();
  for (const ids of byRack.values()) ids.sort((a, b) => a - b);
  const cursors = new Map(racks.map((r) => [r, 0]));
  const result: number[] = [];
  for (let r = 0; result.length < rackOf.size; r = (r + 1) % racks.length) {
    const ids = byRack.get(racks[r])!;
    const at = cursors.get(racks[r])!;
    if (at < ids.length) {
      result.push(ids[at]);
      cursors.set(racks[r], at + 1);
    }
  }
  return result;
}

function rackAware(rackOf: Map<number, string>, partitions: number, rf: number, opts: PlacementOptions): Map<number, number[]> {
  const random = opts.random ?? randomInt;
  const rackCount = new Set(rackOf.values()).size;
  const arranged = rackAlternatedBrokers(rackOf);
  const n = arranged.length;
  const startIndex = opts.fixedStartIndex !== undefined && opts.fixedStartIndex >= 0 ? opts.fixedStartIndex : random(n);
  let shift = opts.fixedStartIndex !== undefined && opts.fixedStartIndex >= 0 ? opts.fixedStartIndex : random(n);
  const result = new Map<number, number[]>();
  let partition = Math.max(0, opts.firstPartition ?? 0);
  for (let i = 0; i < partitions; i++, partition++) {
    if (partition > 0 && partition % n === 0) shift += 1;
    const first = (partition + startIndex) % n;
    const leader = arranged[first];
    const replicas = [leader];
    const racksUsed = new Set([rackOf.get(leader)!]);
    const brokersUsed = new Set([leader]);
    let k = 0;
    for (let j = 0; j < rf - 1; j++) {
      for (;;) {
        const broker = arranged[replicaIndex(first, shift * rackCount, k, n)];
        const rack = rackOf.get(broker)!;
        k++;
        if ((!racksUsed.has(rack) || racksUsed.size === rackCount) && (!brokersUsed.has(broker) || brokersUsed.size === n)) {
          replicas.push(broker);
          racksUsed.add(rack);
          brokersUsed.add(broker);
          break;
        }
      }
    }
    result.set(partition, replicas);
  }
  return result;
}

/**
 * Checks an explicit assignment (partition id -> replicas) as Kafka's admin manager does: ids
 * consecutive from `firstPartition`, no empty or duplicate replica lists, one replication factor,
 * every broker live. Throws INVALID_REPLICA_ASSIGNMENT.
 */
export function validateReplicaAssignment(assignment: Map<number, number[]>, liveBrokers: Iterable<number>, firstPartition = 0, expectedFactor?: number): void {
  const bad = (message: string) => new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, message);
  const ids = [...assignment.keys()].sort((a, b) => a - b);
  if (ids.some((id, i) => id !== firstPartition + i)) {
    throw bad(`Partitions should be a consecutive ${firstPartition}-based integer sequence, got ${ids.join(', ')}.`);
  }
  const live = new Set(liveBrokers);
  const unknown = new Set<number>();
  let factor = expectedFactor;
  for (const [p, replicas] of assignment) {
    if (replicas.length === 0) throw bad(`Replica assignment for partition ${p} is empty.`);
    if (new Set(replicas).size !== replicas.length) throw bad(`Duplicate brokers not allowed in replica assignment: ${replicas.join(', ')} for partition id ${p}.`);
    if (factor === undefined) factor = replicas.length;
    else if (replicas.length !== factor) {
      throw bad(
        expectedFactor === undefined
          ? 'All partitions should have the same number of replicas.'
          : `Inconsistent replication factor between partitions, partition 0 has ${expectedFactor} while partition ${p} has ${replicas.length}.`,
      );
    }
    for (const id of replicas) if (!live.has(id)) unknown.add(id);
  }
  if (unknown.size > 0) throw bad(`Unknown broker(s) in replica assignment: ${[...unknown].join(', ')}.`);
}
