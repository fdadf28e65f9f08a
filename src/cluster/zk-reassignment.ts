// Partition reassignment on the ZooKeeper-mode controller (KIP-455, Kafka's KafkaController
// onPartitionReassignment without its RPCs): brokers watch the znodes, so writing them is telling
// the brokers.
//
// U. AlterPartitionReassignments writes RS = TRS ++ ORS, adding_replicas = AR, removing_replicas =
//    RR into the topic znode (guarded by the controller epoch and the node's version). Brokers in AR
//    see themselves assigned, create the log and start fetching; the leader adds them to the ISR
//    once they have caught up.
// B. Once every target replica is in the ISR, one multi (controller epoch checked, state and topic
//    nodes at the versions read) moves leadership into TRS if needed (first live target replica in
//    the ISR), bumps the leader epoch, drops RR from the ISR, and writes RS = TRS with AR/RR gone.
//    Brokers left out stop following and delete their logs (zk-cluster-metadata syncLocalLogs).
// The state lives in the znodes only, so a new controller carries on where the last one stopped.
//
// Kafka's A1 leader-epoch bump when a reassignment starts is left out: it existed to carry the new
// replica set to the brokers in LeaderAndIsr, and here every broker reads it from the topic znode.
// Legacy /admin/reassign_partitions requests (written by pre-2.4 tools) are not read.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { Logger } from '../broker/logger.js';
import type { PartitionState } from './cluster-metadata.js';
import {
  isBeingReassigned,
  isReassignmentComplete,
  planReassignment,
  targetReplicas,
  type OngoingReassignment,
  type ReassignmentRequest,
  type ReplicaAssignment,
} from './partition-reassignment.js';
import { isNoNode, type ZkSession } from './zk-session.js';
import type { Op } from './zookeeper-client.js';

/** A topic's assignment as the controller's cache holds it. */
export interface ReassignableTopic {
  name: string;
  assignment: Map<number, number[]>;
  adding: Map<number, number[]>;
  removing: Map<number, number[]>;
}

export interface ReassignmentView {
  liveBrokerIds(): Set<number>;
  /** Brokers in a controlled shutdown: never made leader. */
  shuttingDownBrokerIds(): Set<number>;
  topics(): Iterable<ReassignableTopic>;
  topic(name: string): ReassignableTopic | undefined;
  partitionState(topic: string, partition: number): PartitionState | undefined;
  requestReload(): void;
}

export interface ZkReassignmentOptions {
  zk: ZkSession;
  log: Logger;
  view: ReassignmentView;
  /** A multi whose first op checks the controller epoch this broker won with. */
  guardedMulti(ops: Op[]): Promise<unknown>;
  /** The current controller epoch (for the state nodes written). */
  controllerEpoch(): Promise<number>;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const topicPath = (topic: string) => `/brokers/topics/${topic}`;
const statePath = (topic: string, partition: number) => `/brokers/topics/${topic}/partitions/${partition}/state`;

/** The full replica assignment of a partition in the cache, undefined when it does not exist. */
export function assignmentOf(topic: ReassignableTopic | undefined, partition: number): ReplicaAssignment | undefined {
  const replicas = topic?.assignment.get(partition);
  if (!topic || !replicas) return undefined;
  return { replicas, adding: topic.adding.get(partition) ?? [], removing: topic.removing.get(partition) ?? [] };
}

/** Sets (or, with an empty AR and RR, clears) one partition's entries of a topic znode's JSON. */
function applyToTopicJson(doc: any, partition: number, a: ReplicaAssignment): void {
  const key = String(partition);
  doc.partitions[key] = a.replicas;
  doc.adding_replicas = { ...(doc.adding_replicas ?? {}) };
  doc.removing_replicas = { ...(doc.removing_replicas ?? {}) };
  delete doc.adding_replicas[key];
  delete doc.removing_replicas[key];
  if (a.adding.length > 0) doc.adding_replicas[key] = a.adding;
  if (a.removing.length > 0) doc.removing_replicas[key] = a.removing;
  doc.version = Math.max(3, Number(doc.version ?? 3));
}

export class ZkReassignments {
  constructor(private readonly opts: ZkReassignmentOptions) {}

  /** The ongoing reassignments the cache shows: of `partitions`, or every one. */
  list(partitions: { topic: string; partition: number }[] | null): OngoingReassignment[] {
    const { view } = this.opts;
    const asked = partitions ?? [...view.topics()].flatMap((t) => [...t.assignment.keys()].map((partition) => ({ topic: t.name, partition })));
    const out: OngoingReassignment[] = [];
    for (const { topic, partition } of asked) {
      const a = assignmentOf(view.topic(topic), partition);
      if (a && isBeingReassigned(a)) out.push({ topic, partition, ...a });
    }
    return out;
  }

  /** Phase U for each request; each partition's error (null: written), in the order asked. */
  async alter(requests: ReassignmentRequest[]): Promise<(Error | null)[]> {
    const { view, log } = this.opts;
    const live = [...view.liveBrokerIds()].sort((a, b) => a - b);
    const results: (Error | null)[] = requests.map(() => null);
    const accepted = new Map<string, { index: number; partition: number; next: ReplicaAssignment }[]>();
    // As Kafka's controller: no reassignment (nor cancellation) of a topic queued for deletion.
    const deleting = new Set(await this.opts.zk.getChildren('/admin/delete_topics').catch((err) => (isNoNode(err) ? [] : Promise.reject(err))));
    requests.forEach((r, index) => {
      if (deleting.has(r.topic)) {
        log.info(`Skipping reassignment of ${r.topic}-${r.partition} since the topic is currently being deleted`);
        results[index] = new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.');
        return;
      }
      const plan = planReassignment(assignmentOf(view.topic(r.topic), r.partition), r.replicas, live);
      if ('error' in plan) results[index] = plan.error;
      else accepted.set(r.topic, [...(accepted.get(r.topic) ?? []), { index, partition: r.partition, next: plan.next }]);
    });
    for (const [topic, changes] of accepted) {
      try {
        await this.rewriteTopic(topic, changes);
        for (const c of changes) {
          log.info(`Partition ${topic}-${c.partition}: reassigning to [${targetReplicas(c.next).join(',')}] (replicas ${c.next.replicas.join(',')}, adding ${c.next.adding.join(',') || '-'}, removing ${c.next.removing.join(',') || '-'})`);
        }
      } catch (err) {
        const error = isNoNode(err) ? new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.') : controllerMoved(err) ?? err;
        for (const c of changes) results[c.index] = error as Error;
      }
    }
    view.requestReload();
    return results;
  }

  /** Read-modify-write of a topic znode, retried when a concurrent writer (CreatePartitions) won. */
  private async rewriteTopic(topic: string, changes: { partition: number; next: ReplicaAssignment }[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const node = await this.opts.zk.getData(topicPath(topic));
      const doc = JSON.parse(node.data!.toString('utf8'));
      for (const c of changes) {
        if (!doc.partitions?.[String(c.partition)]) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.');
        applyToTopicJson(doc, c.partition, c.next);
      }
      try {
        await this.opts.guardedMulti([{ op: 'setData', path: topicPath(topic), data: json(doc), version: node.stat.version }]);
        return;
      } catch (err) {
        if (attempt < 5 && isBadVersionOf(err, 1)) continue;
        throw err;
      }
    }
  }

  /**
   * One controller pass: phase B for every partition whose targets are all in the ISR, and the ISR
   * and leader of any partition brought back within its replica set (a cancelled reassignment's
   * adding replicas, or a removed replica a leader let back in before it saw the new assignment).
   */
  async act(): Promise<void> {
    const { view } = this.opts;
    const shuttingDown = view.shuttingDownBrokerIds();
    const live = new Set([...view.liveBrokerIds()].filter((id) => !shuttingDown.has(id)));
    for (const topic of view.topics()) {
      for (const partition of topic.assignment.keys()) {
        const a = assignmentOf(topic, partition)!;
        const state = view.partitionState(topic.name, partition);
        if (!state) continue;
        if (isBeingReassigned(a)) {
          if (isReassignmentComplete(a, state.isr)) await this.complete(topic.name, partition, a, state, live);
        } else if (state.leader !== -1 && (!a.replicas.includes(state.leader) || state.isr.some((r) => !a.replicas.includes(r)))) {
          await this.confine(topic.name, partition, a.replicas, state, live);
        }
      }
    }
  }

  /** `live`: the brokers that may lead (registered, not shutting down). */
  private async complete(topic: string, partition: number, a: ReplicaAssignment, state: PartitionState, live: Set<number>): Promise<void> {
    const target = targetReplicas(a);
    const leader = target.includes(state.leader) && live.has(state.leader) ? state.leader : target.find((r) => live.has(r) && state.isr.includes(r));
    // No live target replica in the ISR: wait (a later pass, when one is back, completes it).
    if (leader === undefined) return;
    const isr = state.isr.filter((r) => target.includes(r));
    const node = await this.opts.zk.getData(topicPath(topic));
    const doc = JSON.parse(node.data!.toString('utf8'));
    applyToTopicJson(doc, partition, { replicas: target, adding: [], removing: [] });
    const fields = { controller_epoch: await this.opts.controllerEpoch(), leader, version: 1, leader_epoch: state.leaderEpoch + 1, isr };
    try {
      await this.opts.guardedMulti([
        { op: 'setData', path: statePath(topic, partition), data: json(fields), version: state.zkVersion ?? -1 },
        { op: 'setData', path: topicPath(topic), data: json(doc), version: node.stat.version },
      ]);
    } catch (err) {
      if ((err as { code?: number }).code === undefined) throw err;
      // Someone moved first (the leader changed the ISR, a topic write): the next pass decides again.
      this.opts.view.requestReload();
      return;
    }
    this.opts.log.info(
      `Partition ${topic}-${partition}: reassignment to [${target.join(',')}] completed (leader ${state.leader} -> ${leader}, leader epoch ${fields.leader_epoch}, ISR ${isr.join(',')})`,
    );
  }

  /** Leader and ISR within the replica set: a leader outside it hands over to a replica in the ISR. */
  private async confine(topic: string, partition: number, replicas: number[], state: PartitionState, live: Set<number>): Promise<void> {
    const isr = state.isr.filter((r) => replicas.includes(r));
    const leader = replicas.includes(state.leader) ? state.leader : (replicas.find((r) => live.has(r) && isr.includes(r)) ?? -1);
    const fields = { controller_epoch: await this.opts.controllerEpoch(), leader, version: 1, leader_epoch: state.leaderEpoch + (leader === state.leader ? 0 : 1), isr: leader === -1 ? state.isr : isr };
    try {
      await this.opts.guardedMulti([{ op: 'setData', path: statePath(topic, partition), data: json(fields), version: state.zkVersion ?? -1 }]);
      this.opts.log.info(`Partition ${topic}-${partition}: leader ${state.leader} -> ${leader}, ISR ${state.isr.join(',')} -> ${fields.isr.join(',')} (within replicas ${replicas.join(',')})`);
    } catch (err) {
      if ((err as { code?: number }).code === undefined) throw err;
      this.opts.view.requestReload();
    }
  }
}

/** ZooKeeper's BADVERSION (-103) from the multi's op at `index` (0 is the controller-epoch check). */
function isBadVersionOf(err: unknown, index: number): boolean {
  const e = err as { code?: number; failedIndex?: number };
  return e.code === -103 && e.failedIndex === index;
}

/** A failed controller-epoch check: this broker is no longer the controller. */
function controllerMoved(err: unknown): KafkaError | undefined {
  const e = err as { code?: number; failedIndex?: number };
  if (e.code === -103 && e.failedIndex === 0) return new KafkaError(ErrorCode.NOT_CONTROLLER, 'This is not the correct controller for this cluster.');
  return undefined;
}
