// The controller's half of ZooKeeper-mode metadata (Kafka's KafkaController, without its RPCs):
// winning /controller, and deciding partition states. It creates the state node of each new
// partition, elects leaders from the ISR when a leader's broker is gone, takes dead followers out of
// ISRs and finishes topic deletions. Every write is guarded by the /controller_epoch version this
// broker won with, so a displaced controller's writes fail; partition writes are also conditioned on
// the state node's version, so a leader's concurrent ISR change is never overwritten.
//
// Controlled shutdown: a stopping broker creates the ephemeral
// /kts/controlled_shutdown/<id> (CONTROLLED_SHUTDOWN_PATH) and waits for its cache to show that it
// leads nothing another ISR member could lead and is in no ISR. The controller watches those nodes:
// it moves leadership of the broker's partitions to the next live ISR member and takes it out of
// every ISR, as Kafka's controller does on a ControlledShutdown request. A znode rather than
// Kafka's RPC, because everything else the controller learns comes through watches too (no
// broker-to-broker control connections), and an ephemeral node cannot outlive the broker that asked:
// a broker killed mid-shutdown is simply gone.
//
// Preferred replica election: every leader.imbalance.check.interval.seconds the controller counts,
// per broker, the partitions whose first replica it is but which another broker leads; above
// leader.imbalance.per.broker.percentage it moves them back (if the preferred replica is live and
// in the ISR). ElectLeaders requests are queued and run in the same passes.
//
// It reads the cluster through a ControllerView (the broker's watched cache) and never keeps its own
// copy: each pass decides from what the last reload saw, and the watches bring the next pass.
import type { BrokerConfig } from '../config/broker-config.js';
import { ErrorCode } from '../protocol/errors.js';
import type { Logger } from '../broker/logger.js';
import type { PartitionState } from './cluster-metadata.js';
import { isNodeExists, type ZkSession } from './zk-session.js';
import type { Op } from './zookeeper-client.js';
import { ZkReassignments, type ReassignableTopic } from './zk-reassignment.js';

/** A topic as the controller sees it. */
export interface ControllerTopic extends ReassignableTopic {
  name: string;
  configs: Map<string, string>;
  /** partition -> replica broker ids, preferred leader first. */
  assignment: Map<number, number[]>;
}

/** The state node's JSON fields the controller decides (version is always 1). */
export interface PartitionStateFields {
  controller_epoch: number;
  leader: number;
  leader_epoch: number;
  isr: number[];
}

/** Ephemeral children <broker id>: brokers in a controlled shutdown (a kts path, not Kafka's layout). */
export const CONTROLLED_SHUTDOWN_PATH = '/kts/controlled_shutdown';

export type ElectionType = 'PREFERRED' | 'UNCLEAN';

/** One partition's outcome of an ElectLeaders request (Kafka's ApiError: a code and a message or null). */
export interface ElectionResult {
  topic: string;
  partition: number;
  errorCode: number;
  errorMessage: string | null;
}

/** What the controller reads of the broker's cache, and how it asks for a fresh look. */
export interface ControllerView {
  liveBrokerIds(): Set<number>;
  /** Brokers with a node under CONTROLLED_SHUTDOWN_PATH. */
  shuttingDownBrokerIds(): Set<number>;
  topics(): Iterable<ControllerTopic>;
  topic(name: string): ControllerTopic | undefined;
  partitionState(topic: string, partition: number): PartitionState | undefined;
  /** A one-shot watch on `path` that triggers a reload (undefined when one is already armed). */
  watcher(path: string): ((event: unknown) => void) | undefined;
  /** Asks for another reload pass (not awaited: the caller may be inside one). */
  requestReload(): void;
}

export interface ZkControllerOptions {
  zk: ZkSession;
  nodeId: number;
  config: BrokerConfig;
  log: Logger;
  view: ControllerView;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

export const partitionStatePath = (topic: string, partition: number) => `/brokers/topics/${topic}/partitions/${partition}/state`;

export class ZkController {
  /** The /controller_epoch zkVersion this broker won with; -1 when it has not won (or lost its session). */
  private epochZkVersion = -1;
  /** Set by the imbalance timer; the next pass runs the preferred replica election. */
  private rebalanceDue = false;
  private rebalanceTimer: NodeJS.Timeout | null = null;
  /** ElectLeaders requests waiting for the next pass. */
  private pendingElections: { type: ElectionType; partitions: { topic: string; partition: number }[] | null; done: (results: ElectionResult[]) => void; fail: (err: Error) => void }[] = [];

  /** Topics queued for deletion and held back by a reassignment (each logged once). */
  private readonly deletionsHeld = new Set<string>();

  /** Partition reassignments (KIP-455): started by AlterPartitionReassignments, finished in act(). */
  readonly reassignments: ZkReassignments;

  constructor(private readonly opts: ZkControllerOptions) {
    this.reassignments = new ZkReassignments({
      zk: opts.zk,
      log: opts.log,
      view: opts.view,
      guardedMulti: (ops) => opts.zk.multi([{ op: 'check', path: '/controller_epoch', version: this.epochZkVersion }, ...ops]),
      controllerEpoch: async () => Number((await opts.zk.getData('/controller_epoch')).data?.toString() ?? '0'),
    });
  }

  /** Whether this broker won the last election it took part in (and its session has not been lost since). */
  holdsEpoch(): boolean {
    return this.epochZkVersion >= 0;
  }

  /** A new ZooKeeper session: whatever this broker won went with the old one's /controller. */
  sessionLost(): void {
    this.epochZkVersion = -1;
    this.stopRebalanceTimer();
    for (const request of this.pendingElections.splice(0)) request.fail(new Error('This broker is no longer the controller'));
  }

  close(): void {
    this.sessionLost();
  }

  private startRebalanceTimer(): void {
    const { config } = this.opts;
    this.stopRebalanceTimer();
    if (!config.getBoolean('auto.leader.rebalance.enable')) return;
    const intervalMs = config.getNumber('leader.imbalance.check.interval.seconds') * 1000;
    this.rebalanceTimer = setInterval(() => {
      this.rebalanceDue = true;
      this.opts.view.requestReload();
    }, Math.min(intervalMs, 2 ** 31 - 1));
    this.rebalanceTimer.unref();
  }

  private stopRebalanceTimer(): void {
    if (this.rebalanceTimer) clearInterval(this.rebalanceTimer);
    this.rebalanceTimer = null;
  }

  /**
   * ElectLeaders (this broker must be the controller): run in the next pass. `partitions` null: every
   * partition (the results then name only those elected or failed, as Kafka's).
   */
  electLeaders(type: ElectionType, partitions: { topic: string; partition: number }[] | null): Promise<ElectionResult[]> {
    return new Promise((done, fail) => {
      this.pendingElections.push({ type, partitions, done, fail });
      this.opts.view.requestReload();
    });
  }

  /**
   * Kafka's election: create the ephemeral /controller and bump /controller_epoch in one multi.
   * True when this broker won (the caller then reloads, which runs the first controller pass).
   */
  async elect(): Promise<boolean> {
    const { zk, nodeId, log } = this.opts;
    try {
      await zk.create('/controller_epoch', Buffer.from('0'), 'persistent').catch((e) => (isNodeExists(e) ? undefined : Promise.reject(e)));
      const epochNode = await zk.getData('/controller_epoch');
      const epoch = Number(epochNode.data?.toString() ?? '0');
      const [, epochResult] = await zk.multi([
        { op: 'create', path: '/controller', data: json({ version: 2, brokerid: nodeId, timestamp: String(Date.now()), kraftControllerEpoch: -1 }), mode: 'ephemeral' },
        { op: 'setData', path: '/controller_epoch', data: Buffer.from(String(epoch + 1)), version: epochNode.stat.version },
      ]);
      this.epochZkVersion = epochResult.op === 'setData' ? epochResult.stat.version : -1;
      log.info(`Broker ${nodeId} is the controller (epoch ${epoch + 1})`);
      if (this.holdsEpoch()) this.startRebalanceTimer();
      return this.holdsEpoch();
    } catch (err) {
      // NodeExists / BadVersion: another broker won. Anything else: the next watch retries.
      if (!isNodeExists(err) && !(err as { code?: number }).code) log.warn(`Controller election failed: ${(err as Error).message}`);
      return false;
    }
  }

  /** Writes guarded by the controller epoch: a displaced controller's writes fail. */
  private guarded(op: Op) {
    return this.opts.zk.multi([{ op: 'check', path: '/controller_epoch', version: this.epochZkVersion }, op]);
  }

  /** One controller pass over the cache the last reload made. */
  async act(): Promise<void> {
    const { zk, view } = this.opts;
    const live = view.liveBrokerIds();
    const shuttingDown = view.shuttingDownBrokerIds();
    const epochNode = await zk.getData('/controller_epoch');
    const controllerEpoch = Number(epochNode.data?.toString() ?? '0');

    for (const name of await zk.getChildren('/admin/delete_topics', view.watcher('/admin/delete_topics'))) {
      // As Kafka's TopicDeletionManager: a topic with a reassignment in progress is ineligible for
      // deletion until the reassignment ends (the pass after it completes deletes it); deleting it
      // meanwhile would pull the partition from under the move's replicas.
      const topic = view.topic(name);
      if (topic && (topic.adding.size > 0 || topic.removing.size > 0)) {
        if (!this.deletionsHeld.has(name)) this.opts.log.info(`Deletion of topic ${name} held back: topic reassignment in progress`);
        this.deletionsHeld.add(name);
        continue;
      }
      this.deletionsHeld.delete(name);
      await this.deleteTopicNodes(name);
    }
    // Leaders' ISR changes: every broker watches the state nodes already, so the notifications are
    // only taken away (as Kafka's controller does once it has sent UpdateMetadata).
    for (const child of await zk.getChildren('/isr_change_notification', view.watcher('/isr_change_notification'))) {
      await zk.deleteIfExists(`/isr_change_notification/${child}`);
    }

    const electable = (r: number) => live.has(r) && !shuttingDown.has(r);
    // Each partition's decision reads this pass's view and writes only its own state node: all are
    // sent at once, so a broker's death costs the coordinator's group commits, not one round trip
    // and fsync per partition it led, before the new leaders are known.
    const decisions: Promise<void>[] = [];
    for (const topic of view.topics()) {
      for (const [p, replicas] of topic.assignment) decisions.push(this.decidePartition(topic, p, replicas, live, electable, controllerEpoch));
    }
    await Promise.all(decisions);
    await this.reassignments.act();

    for (const request of this.pendingElections.splice(0)) {
      try {
        request.done(await this.runElection(request.type, request.partitions, electable, controllerEpoch));
      } catch (err) {
        request.fail(err as Error);
      }
    }
    if (this.rebalanceDue) {
      this.rebalanceDue = false;
      await this.rebalanceLeaders(electable, controllerEpoch);
    }
    // Another pass sees what this one wrote (the state watches fire too).
  }

  private async decidePartition(
    topic: ControllerTopic,
    p: number,
    replicas: number[],
    live: Set<number>,
    electable: (broker: number) => boolean,
    controllerEpoch: number,
  ): Promise<void> {
    const { zk, view, log } = this.opts;
    const path = partitionStatePath(topic.name, p);
    const current = view.partitionState(topic.name, p);
    if (!current) {
      const leader = replicas.find(electable) ?? -1;
      const state = { controller_epoch: controllerEpoch, leader, version: 1, leader_epoch: 0, isr: leader === -1 ? replicas.slice(0, 1) : replicas.filter(electable) };
      await zk.mkdirp(`/brokers/topics/${topic.name}/partitions/${p}`);
      await this.guarded({ op: 'create', path, data: json(state), mode: 'persistent' }).catch((e) => (isNodeExists(e) ? undefined : Promise.reject(e)));
      return;
    }
    const leaderLive = current.leader !== -1 && live.has(current.leader);
    if (leaderLive && !electable(current.leader)) {
      // Controlled shutdown of the leader: the next live ISR member leads, the stopping broker leaves
      // the ISR. None: it stays leader until it is gone (it is the last copy in sync).
      const next = replicas.find((r) => r !== current.leader && electable(r) && current.isr.includes(r));
      if (next !== undefined) {
        const state = { controller_epoch: controllerEpoch, leader: next, leader_epoch: current.leaderEpoch + 1, isr: current.isr.filter(electable) };
        if (await this.writeState(path, current, state)) {
          log.info(`Partition ${topic.name}-${p}: leader ${current.leader} -> ${next} (leader epoch ${state.leader_epoch}, ISR ${state.isr.join(',')}; controlled shutdown of ${current.leader})`);
        }
        return;
      }
    }
    if (leaderLive) {
      // A follower's broker is gone or stopping: out of the ISR at once (Kafka's controller does the
      // same on broker death, rather than waiting replica.lag.time.max.ms for the leader to notice).
      // The leader epoch stays: only the ISR changed.
      const isr = current.isr.filter((r) => r === current.leader || electable(r));
      if (isr.length === current.isr.length) return;
      if (await this.writeState(path, current, { controller_epoch: controllerEpoch, leader: current.leader, leader_epoch: current.leaderEpoch, isr })) {
        log.info(`Partition ${topic.name}-${p}: ISR ${current.isr.join(',')} -> ${isr.join(',')} (broker gone or shutting down)`);
      }
      return;
    }
    // Leader gone (or offline and a replica is back): the first live replica that is in the ISR.
    // unclean.leader.election.enable=false: none in the ISR leaves the partition offline (-1), its
    // ISR as it was, until an ISR member returns; no acknowledged record is lost.
    const unclean = this.opts.config.getBoolean('unclean.leader.election.enable') || topic.configs.get('unclean.leader.election.enable') === 'true';
    const leader = replicas.find((r) => electable(r) && current.isr.includes(r)) ?? (unclean ? replicas.find(electable) : undefined) ?? -1;
    if (leader === current.leader) return;
    await this.writeLeader(topic.name, p, current, leader, controllerEpoch, electable, 'leader gone');
  }

  /** A new leader (or -1) with a new leader epoch; the ISR keeps its electable members (or is the leader alone, unclean). */
  private async writeLeader(topic: string, p: number, current: PartitionState, leader: number, controllerEpoch: number, electable: (b: number) => boolean, why: string): Promise<boolean> {
    const isrElectable = current.isr.filter(electable);
    const state = {
      controller_epoch: controllerEpoch,
      leader,
      leader_epoch: current.leaderEpoch + 1,
      isr: leader === -1 ? current.isr : isrElectable.includes(leader) ? isrElectable : [leader],
    };
    if (!(await this.writeState(partitionStatePath(topic, p), current, state))) return false;
    this.opts.log.info(`Partition ${topic}-${p}: leader ${current.leader} -> ${leader} (leader epoch ${state.leader_epoch}, ISR ${state.isr.join(',')}; ${why})`);
    return true;
  }

  /**
   * Kafka's auto leader rebalance: per preferred broker, the share of its partitions another broker
   * leads; above leader.imbalance.per.broker.percentage, those whose preferred replica is live and in
   * the ISR get it back.
   */
  private async rebalanceLeaders(electable: (b: number) => boolean, controllerEpoch: number): Promise<void> {
    const { view, config } = this.opts;
    // As Kafka's checkAndTriggerAutoLeaderRebalance: nothing while any partition is being reassigned
    // (its leader is the reassignment's to move; the next check after it completes rebalances).
    if ([...view.topics()].some((t) => t.adding.size > 0 || t.removing.size > 0)) return;
    const byPreferred = new Map<number, { topic: string; partition: number; state: PartitionState }[]>();
    let total = 0;
    const imbalanced = new Map<number, number>();
    for (const topic of view.topics()) {
      for (const [p, replicas] of topic.assignment) {
        const state = view.partitionState(topic.name, p);
        const preferred = replicas[0];
        if (!state || preferred === undefined) continue;
        const mine = byPreferred.get(preferred) ?? [];
        mine.push({ topic: topic.name, partition: p, state });
        byPreferred.set(preferred, mine);
        if (state.leader !== preferred) imbalanced.set(preferred, (imbalanced.get(preferred) ?? 0) + 1);
        total++;
      }
    }
    if (total === 0) return;
    const threshold = config.getNumber('leader.imbalance.per.broker.percentage') / 100;
    for (const [preferred, partitions] of byPreferred) {
      const ratio = (imbalanced.get(preferred) ?? 0) / partitions.length;
      if (ratio <= threshold || !electable(preferred)) continue;
      this.opts.log.info(`Leader imbalance ratio of broker ${preferred} is ${ratio.toFixed(2)}: electing it where it is preferred`);
      for (const { topic, partition, state } of partitions) {
        if (state.leader === preferred || !state.isr.includes(preferred)) continue;
        await this.writeLeader(topic, partition, state, preferred, controllerEpoch, () => true, 'preferred replica election');
      }
    }
  }

  /** One ElectLeaders request, as Kafka's controller answers it partition by partition. */
  private async runElection(type: ElectionType, requested: { topic: string; partition: number }[] | null, electable: (b: number) => boolean, controllerEpoch: number): Promise<ElectionResult[]> {
    const { view } = this.opts;
    const assignmentOf = new Map<string, ControllerTopic>();
    for (const topic of view.topics()) assignmentOf.set(topic.name, topic);
    const all = requested === null;
    const partitions = requested ?? [...assignmentOf.values()].flatMap((t) => [...t.assignment.keys()].map((partition) => ({ topic: t.name, partition })));
    const results: ElectionResult[] = [];
    for (const { topic, partition } of partitions) {
      const result = (errorCode: number, errorMessage: string | null) => results.push({ topic, partition, errorCode, errorMessage });
      const replicas = assignmentOf.get(topic)?.assignment.get(partition);
      const state = view.partitionState(topic, partition);
      if (!replicas || !state) {
        result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'The partition does not exist.');
        continue;
      }
      if (type === 'PREFERRED') {
        const preferred = replicas[0];
        if (state.leader === preferred) {
          // Kafka leaves partitions that need nothing out of an --all-topic-partitions answer.
          if (!all) result(ErrorCode.ELECTION_NOT_NEEDED, 'Leader election not needed for topic partition.');
          continue;
        }
        if (!electable(preferred) || !state.isr.includes(preferred)) {
          result(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, `Failed to elect leader for partition ${topic}-${partition} under strategy PreferredReplicaPartitionLeaderElectionStrategy`);
          continue;
        }
        const ok = await this.writeLeader(topic, partition, state, preferred, controllerEpoch, () => true, 'preferred replica election');
        result(ok ? ErrorCode.NONE : ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, ok ? null : `Failed to elect leader for partition ${topic}-${partition} under strategy PreferredReplicaPartitionLeaderElectionStrategy`);
        continue;
      }
      // UNCLEAN: only partitions without a live leader; the first live ISR member, else any live replica.
      if (state.leader !== -1 && view.liveBrokerIds().has(state.leader)) {
        if (!all) result(ErrorCode.ELECTION_NOT_NEEDED, 'Leader election not needed for topic partition.');
        continue;
      }
      const leader = replicas.find((r) => electable(r) && state.isr.includes(r)) ?? replicas.find(electable);
      const ok = leader !== undefined && (await this.writeLeader(topic, partition, state, leader, controllerEpoch, electable, 'unclean leader election'));
      result(ok ? ErrorCode.NONE : ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, ok ? null : `Failed to elect leader for partition ${topic}-${partition} under strategy OfflinePartitionLeaderElectionStrategy(true)`);
    }
    return results;
  }

  /**
   * Replaces a partition state node if it is still the version this controller read (the leader may
   * have changed the ISR meanwhile: then the next pass sees that). False when it moved on.
   */
  private async writeState(path: string, current: PartitionState, state: PartitionStateFields): Promise<boolean> {
    try {
      await this.guarded({ op: 'setData', path, data: json({ ...state, version: 1 }), version: current.zkVersion ?? -1 });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === undefined) throw err;
      this.opts.view.requestReload();
      return false;
    }
  }

  private async deleteTopicNodes(name: string): Promise<void> {
    const { zk, log } = this.opts;
    await zk.deleteRecursive(`/brokers/topics/${name}`);
    await zk.deleteIfExists(`/config/topics/${name}`);
    await zk.deleteIfExists(`/admin/delete_topics/${name}`);
    log.info(`Deleted topic ${name}`);
  }
}
