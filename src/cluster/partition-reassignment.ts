// KIP-455 partition reassignment, the pure part: how a partition's full replica set (RS), adding
// (AR) and removing (RR) replicas follow from its current state and a target (TRS), the checks
// Kafka's controller makes of a target, and when a reassignment is complete. The controller
// (zk-reassignment.ts) stores RS/AR/RR in the topic znode, so a new controller resumes from there.
//
// RS = TRS ++ ORS (distinct, targets first), AR = RS - ORS, RR = RS - TRS, where ORS (the origin)
// is RS - AR of the state before: a second reassignment of a moving partition keeps the first one's
// origin, and cancelling is reassigning to the origin (AR and RR empty at once).
import { ErrorCode, KafkaError } from '../protocol/errors.js';

export interface ReplicaAssignment {
  /** The full replica set, preferred leader first (during a reassignment: targets, then origin). */
  replicas: number[];
  adding: number[];
  removing: number[];
}

const minus = (a: number[], b: number[]) => a.filter((x) => !b.includes(x));

export const isBeingReassigned = (a: ReplicaAssignment) => a.adding.length > 0 || a.removing.length > 0;
export const originReplicas = (a: ReplicaAssignment) => minus(a.replicas, a.adding);
export const targetReplicas = (a: ReplicaAssignment) => minus(a.replicas, a.removing);

/** The state after asking for `target` (Kafka's ReplicaAssignment.reassignTo). */
export function reassignTo(current: ReplicaAssignment, target: number[]): ReplicaAssignment {
  const origin = originReplicas(current);
  const full = [...new Set([...target, ...origin])];
  return { replicas: full, adding: minus(full, origin), removing: minus(full, target) };
}

/** Phase B may run: every target replica is in the ISR (trivially so when nothing moves). */
export function isReassignmentComplete(a: ReplicaAssignment, isr: number[]): boolean {
  return !isBeingReassigned(a) || targetReplicas(a).every((r) => isr.includes(r));
}

/** Scala's List toString, as Kafka's controller messages show a Seq[Int]. */
const scalaList = (ids: number[]) => `List(${ids.join(', ')})`;

/**
 * Kafka's controller checks of a target replica list (validateReplicas): none empty or duplicated,
 * no negative id, and every replica it adds on a live broker. Null when it is acceptable.
 */
export function checkTargetReplicas(current: ReplicaAssignment, target: number[], liveBrokers: number[]): KafkaError | null {
  const bad = (message: string) => new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, message);
  if (target.length === 0) return bad('Empty replica list specified in partition reassignment.');
  if (new Set(target).size !== target.length) return bad(`Duplicate replica ids in partition reassignment replica list: ${scalaList(target)}`);
  if (target.some((r) => r < 0)) return bad(`Invalid broker id in replica list: ${scalaList(target)}`);
  const adding = reassignTo(current, target).adding;
  if (adding.some((r) => !liveBrokers.includes(r))) {
    return bad(`Replica assignment has brokers that are not alive. Replica list: ${scalaList(adding)}, live broker list: Set(${liveBrokers.join(', ')})`);
  }
  return null;
}

/** One partition of an AlterPartitionReassignments request; `replicas` null cancels. */
export interface ReassignmentRequest {
  topic: string;
  partition: number;
  replicas: number[] | null;
}

/** One partition of a ListPartitionReassignments answer. */
export interface OngoingReassignment extends ReplicaAssignment {
  topic: string;
  partition: number;
}

/** What a reassignment request comes to for one partition, before anything is written. */
export type ReassignmentPlan = { error: KafkaError } | { next: ReplicaAssignment };

/**
 * Kafka's order of checks for one partition: the target's own checks, then whether there is
 * anything to cancel, then whether the partition exists (`current` undefined: it does not).
 */
export function planReassignment(current: ReplicaAssignment | undefined, target: number[] | null, liveBrokers: number[]): ReassignmentPlan {
  const known = current ?? { replicas: [], adding: [], removing: [] };
  if (target !== null) {
    const error = checkTargetReplicas(known, target, liveBrokers);
    if (error) return { error };
  }
  if (target === null && !isBeingReassigned(known)) {
    return { error: new KafkaError(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, 'No partition reassignment is in progress.') };
  }
  if (!current) return { error: new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.') };
  return { next: reassignTo(current, target ?? originReplicas(current)) };
}
