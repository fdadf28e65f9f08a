// Cluster metadata kept in ZooKeeper in Kafka 3.x's layout (see kafka-zookeeper-layout in the
// project docs), so kts brokers can share a cluster with each other and with Apache ZooKeeper:
// ephemeral /brokers/ids/<id>, controller election through /controller + /controller_epoch,
// /cluster/id, assignments under /brokers/topics, partition state nodes, /config/topics and
// deletion through /admin/delete_topics.
//
// Every broker keeps a cache of brokers, topics and partition states, reloaded whenever one of its
// watches fires (watches are re-armed by the reload itself). The elected controller creates the
// state of new partitions and moves leadership as brokers come and go; each broker creates and
// deletes its own logs to match what it is assigned. Broker-to-broker RPCs are not needed: the
// state nodes are the source of truth.
import type { BrokerConfig } from '../config/broker-config.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { LogConfig, LogManager } from '../storage/index.js';
import { TopicDeletionListeners, type BrokerEndpoint, type ClusterMetadata, type PartitionState, type TopicPlacement } from './cluster-metadata.js';
import { assignReplicasToBrokers, validateReplicaAssignment } from './replica-assignment.js';
import { createPartitionLogs } from './new-partition-logs.js';
import { isInternalTopic } from './topic-names.js';
import { randomClusterId, randomTopicId, type TopicInfo } from './topic-registry.js';
import { checkPartitionLimit, validateConfigs, validateNewTopic } from './topic-validation.js';
import type { Logger } from '../broker/logger.js';
import { isNodeExists, isNoNode, type ZkSession } from './zk-session.js';
import type { Op } from './zookeeper-client.js';

const PERSISTENT_PATHS = [
  '/consumers',
  '/brokers/ids',
  '/brokers/topics',
  '/brokers/seqid',
  '/config/changes',
  '/config/topics',
  '/config/clients',
  '/config/users',
  '/config/brokers',
  '/config/ips',
  '/admin/delete_topics',
  '/isr_change_notification',
  '/log_dir_event_notification',
  '/latest_producer_id_block',
];

interface ZkTopic extends TopicInfo {
  /** partition -> replica broker ids, preferred leader first. */
  assignment: Map<number, number[]>;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const parse = (data: Buffer | null): any => (data && data.length > 0 ? JSON.parse(data.toString('utf8')) : null);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ZkClusterOptions {
  zk: ZkSession;
  config: BrokerConfig;
  logs: LogManager;
  log: Logger;
  self: BrokerEndpoint;
  sessionTimeoutMs: number;
  /** From joinClusterId, before the logs were opened. */
  clusterId: string;
}

/**
 * The cluster id in /cluster/id (created on a new ensemble), checked against the one the log dirs'
 * meta.properties hold, before the broker touches its logs: Kafka's InconsistentClusterIdException.
 */
export async function joinClusterId(zk: ZkSession, stored: { clusterId: string; path: string } | undefined): Promise<string> {
  const fresh = randomClusterId();
  await zk.mkdirp('/cluster');
  let clusterId = fresh;
  try {
    await zk.create('/cluster/id', json({ version: '1', id: fresh }), 'persistent');
  } catch (err) {
    if (!isNodeExists(err)) throw err;
    clusterId = parse((await zk.getData('/cluster/id')).data).id;
  }
  if (stored && stored.clusterId !== clusterId) {
    throw new Error(
      `The Cluster ID ${clusterId} doesn't match stored clusterId ${stored.clusterId} in ${stored.path}. ` +
        'The broker is trying to join the wrong cluster. Configured zookeeper.connect may be wrong.',
    );
  }
  return clusterId;
}

export class ZkClusterMetadata implements ClusterMetadata {
  clusterId = '';
  private brokers = new Map<number, BrokerEndpoint>();
  private topics = new Map<string, ZkTopic>();
  private byId = new Map<string, ZkTopic>();
  private states = new Map<string, PartitionState>();
  private controller = -1;
  /** The /controller_epoch zkVersion this broker won with, when it is the controller. */
  private controllerEpochZkVersion = -1;
  private reloading: Promise<void> | null = null;
  private reloadAgain = false;
  private closed = false;
  /** Paths with a watch in place, so a reload does not stack watchers. */
  private readonly armed = new Set<string>();
  /** Topics whose new partitions' logs this broker is creating ahead of the ZooKeeper write. */
  private readonly creatingLocally = new Map<string, number>();
  private readonly zk: ZkSession;
  private readonly nodeId: number;
  private readonly stateListeners: (() => void)[] = [];
  private readonly deletionListeners: TopicDeletionListeners;
  /** Topics a reload found gone (or re-created with another id), announced once that reload is done. */
  private deletedSinceLastLook: string[] = [];

  private constructor(private readonly opts: ZkClusterOptions) {
    this.zk = opts.zk;
    this.nodeId = opts.self.nodeId;
    this.deletionListeners = new TopicDeletionListeners(opts.log);
  }

  onTopicDeleted(listener: (topic: string) => Promise<void>): void {
    this.deletionListeners.add(listener);
  }

  static async open(opts: ZkClusterOptions): Promise<ZkClusterMetadata> {
    const cluster = new ZkClusterMetadata(opts);
    await cluster.start();
    return cluster;
  }

  private async start(): Promise<void> {
    for (const path of PERSISTENT_PATHS) await this.zk.mkdirp(path);
    this.clusterId = this.opts.clusterId;
    await this.register();
    this.zk.onSessionReestablished(() => void this.afterNewSession());
    await this.reload();
    await this.elect();
  }

  /** /brokers/ids/<id>: ephemeral. A node left by our own previous process waits out its session. */
  private async register(): Promise<void> {
    const { self } = this.opts;
    const registration = json({
      version: 5,
      host: self.host,
      port: self.port,
      jmx_port: -1,
      timestamp: String(Date.now()),
      endpoints: [`PLAINTEXT://${self.host}:${self.port}`],
      listener_security_protocol_map: { PLAINTEXT: 'PLAINTEXT' },
      rack: self.rack,
      features: {},
    });
    const path = `/brokers/ids/${this.nodeId}`;
    const deadline = Date.now() + this.opts.sessionTimeoutMs + 10_000;
    for (;;) {
      try {
        await this.zk.create(path, registration, 'ephemeral');
        return;
      } catch (err) {
        if (!isNodeExists(err)) throw err;
        const existing = await this.zk.exists(path);
        if (existing && existing.ephemeralOwner === this.zk.sessionId) return;
        if (Date.now() > deadline) {
          throw new Error(`Broker id ${this.nodeId} is already registered in ZooKeeper by another session (${path})`);
        }
        this.opts.log.info(`${path} is still held by an earlier session; waiting for it to expire`);
        await sleep(500);
      }
    }
  }

  private async afterNewSession(): Promise<void> {
    if (this.closed) return;
    this.armed.clear();
    this.controllerEpochZkVersion = -1;
    try {
      await this.register();
      await this.reload();
      await this.elect();
    } catch (err) {
      this.opts.log.error(`Re-registering after a new ZooKeeper session failed: ${(err as Error).message}`);
    }
  }

  // ---- reads ----

  get(name: string): TopicInfo | undefined {
    return this.topics.get(name);
  }

  getById(topicId: string): TopicInfo | undefined {
    return this.byId.get(topicId);
  }

  list(): TopicInfo[] {
    return [...this.topics.values()];
  }

  liveBrokers(): BrokerEndpoint[] {
    return [...this.brokers.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  controllerId(): number {
    return this.controller;
  }

  partitionState(topic: string, partition: number): PartitionState | undefined {
    return this.states.get(`${topic}\u0000${partition}`);
  }

  onStatesChanged(listener: () => void): void {
    this.stateListeners.push(listener);
  }

  async alterIsr(topic: string, partition: number, isr: number[], zkVersion: number): Promise<PartitionState | null> {
    const key = `${topic}\u0000${partition}`;
    const current = this.states.get(key);
    if (!current || current.leader !== this.nodeId) return null;
    const state = { controller_epoch: current.controllerEpoch ?? 0, leader: this.nodeId, version: 1, leader_epoch: current.leaderEpoch, isr };
    try {
      const stat = await this.zk.setData(`/brokers/topics/${topic}/partitions/${partition}/state`, json(state), zkVersion);
      const updated: PartitionState = { ...current, isr, zkVersion: stat.version };
      // A reload that read the node before this write must not put the old ISR back.
      if (this.states.get(key)?.zkVersion === zkVersion || this.states.get(key) === current) this.states.set(key, updated);
      // As Kafka <= 2.6: the controller (and tools) learn of ISR changes through this node. Not
      // awaited: the leader must act on the new ISR as soon as the cache shows it.
      void this.zk
        .create('/isr_change_notification/isr_change_', json({ version: 1, partitions: [{ topic, partition }] }), 'persistent_sequential')
        .catch((err) => this.opts.log.warn(`Writing /isr_change_notification failed: ${(err as Error).message}`));
      return updated;
    } catch (err) {
      if ((err as { code?: number }).code === undefined) throw err;
      this.opts.log.info(`ISR change of ${topic}-${partition} to [${isr.join(',')}] refused (${(err as Error).message}); re-reading the state`);
      await this.reload();
      return null;
    }
  }

  // ---- the cache, refreshed by watches ----

  /** Reloads everything; concurrent triggers coalesce into one more pass. */
  private reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        try {
          await this.loadOnce();
          for (const name of this.deletedSinceLastLook.splice(0)) await this.deletionListeners.announce(name);
          if (this.isController()) await this.actAsController();
          await this.syncLocalLogs();
          for (const listener of this.stateListeners) listener();
        } catch (err) {
          if (this.closed) return;
          this.opts.log.warn(`Reloading cluster state from ZooKeeper failed: ${(err as Error).message}`);
          await sleep(200);
          this.reloadAgain = true;
        }
      } while (this.reloadAgain && !this.closed);
    })().finally(() => (this.reloading = null));
    return this.reloading;
  }

  private watcher(path: string): ((event: unknown) => void) | undefined {
    if (this.armed.has(path)) return undefined;
    this.armed.add(path);
    return () => {
      this.armed.delete(path);
      if (path === '/controller') void this.elect();
      void this.reload();
    };
  }

  private async loadOnce(): Promise<void> {
    const brokers = new Map<number, BrokerEndpoint>();
    for (const id of await this.zk.getChildren('/brokers/ids', this.watcher('/brokers/ids'))) {
      const node = await this.zk.getData(`/brokers/ids/${id}`).catch((e) => (isNoNode(e) ? null : Promise.reject(e)));
      const reg = parse(node?.data ?? null);
      if (!reg) continue;
      const endpoint = (reg.endpoints as string[] | undefined)?.map((e) => /^([A-Z_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(e)).find((m) => m && m[1] === 'PLAINTEXT');
      brokers.set(Number(id), {
        nodeId: Number(id),
        host: endpoint ? endpoint[2].replace(/^\[|\]$/g, '') : reg.host,
        port: endpoint ? Number(endpoint[3]) : reg.port,
        rack: reg.rack ?? null,
      });
    }

    const controllerNode = await this.zk.getDataIfExists('/controller', this.watcher('/controller'));
    const controller = parse(controllerNode?.data ?? null)?.brokerid ?? -1;

    const topics = new Map<string, ZkTopic>();
    const states = new Map<string, PartitionState>();
    for (const name of await this.zk.getChildren('/brokers/topics', this.watcher('/brokers/topics'))) {
      const node = await this.zk.getDataIfExists(`/brokers/topics/${name}`, this.watcher(`/brokers/topics/${name}`));
      const assignmentJson = parse(node?.data ?? null);
      if (!assignmentJson) continue;
      const assignment = new Map<number, number[]>(Object.entries(assignmentJson.partitions ?? {}).map(([p, r]) => [Number(p), r as number[]]));
      const configNode = await this.zk.getDataIfExists(`/config/topics/${name}`);
      const configs = new Map<string, string>(Object.entries(parse(configNode?.data ?? null)?.config ?? {}));
      const previous = this.topics.get(name);
      const topic: ZkTopic = {
        name,
        // Topics written by old tools have no id; keep the one we made up so it stays stable here.
        topicId: assignmentJson.topic_id ?? previous?.topicId ?? randomTopicId(),
        partitions: assignment.size,
        configs,
        internal: isInternalTopic(name),
        assignment,
      };
      topics.set(name, topic);
      for (const p of assignment.keys()) {
        const statePath = `/brokers/topics/${name}/partitions/${p}/state`;
        const stateNode = await this.zk.getDataIfExists(statePath, this.watcher(statePath));
        const state = parse(stateNode?.data ?? null);
        if (state) {
          states.set(`${name}\u0000${p}`, {
            leader: state.leader,
            leaderEpoch: state.leader_epoch ?? 0,
            replicas: assignment.get(p)!,
            isr: state.isr ?? [],
            zkVersion: stateNode!.stat.version,
            controllerEpoch: state.controller_epoch ?? 0,
          });
        }
      }
    }
    // Config changes are announced under /config/changes; any new child means "reload".
    await this.zk.getChildren('/config/changes', this.watcher('/config/changes'));
    const brokerDefaults = parse((await this.zk.getDataIfExists('/config/brokers/<default>'))?.data ?? null)?.config ?? {};
    this.opts.config.dynamic.clear();
    for (const [k, v] of Object.entries(brokerDefaults)) this.opts.config.dynamic.set(k, String(v));

    // Every broker learns of a deletion here, whoever deleted the topic (Kafka: UpdateMetadata).
    for (const [name, before] of this.topics) {
      if (topics.get(name)?.topicId !== before.topicId) this.deletedSinceLastLook.push(name);
    }
    this.brokers = brokers;
    this.controller = controller;
    this.topics = topics;
    this.byId = new Map([...topics.values()].map((t) => [t.topicId, t]));
    this.states = states;
  }

  /** Creates, deletes and reconfigures local logs so they match this broker's assignments. */
  private async syncLocalLogs(): Promise<void> {
    const { logs, config } = this.opts;
    for (const topic of this.topics.values()) {
      const logConfig = config.logConfig(topic.configs);
      for (const [p, replicas] of topic.assignment) {
        if (!replicas.includes(this.nodeId)) continue;
        const existing = logs.get(topic.name, p);
        if (existing) existing.updateConfig(logConfig);
        else {
          // One partition's files failing (EMFILE, ENOSPC) must not stop the others, nor keep this
          // reload from finishing (creates and deletes wait on it): the next reload tries again.
          await logs.create(topic.name, p, logConfig).catch((err: unknown) => {
            this.opts.log.warn(`Cannot create the local log of ${topic.name}-${p} (tried again at the next change): ${(err as Error).message}`);
          });
        }
      }
    }
    for (const log of logs.all()) {
      if (this.creatingLocally.has(log.topic)) continue; // made before the topic is written (create/addPartitions)
      const topic = this.topics.get(log.topic);
      if (!topic || !topic.assignment.get(log.partition)?.includes(this.nodeId)) {
        this.opts.log.info(`Deleting local log ${log.topic}-${log.partition}: no longer assigned to broker ${this.nodeId}`);
        await logs.delete(log.topic, log.partition);
      }
    }
  }

  // ---- controller ----

  private isController(): boolean {
    return this.controller === this.nodeId && this.controllerEpochZkVersion >= 0;
  }

  /** Kafka's election: create the ephemeral /controller and bump /controller_epoch in one multi. */
  private async elect(): Promise<void> {
    // Our own /controller creation fires the exists watch too: nothing to do then.
    if (this.closed || this.isController()) return;
    try {
      await this.zk.create('/controller_epoch', Buffer.from('0'), 'persistent').catch((e) => (isNodeExists(e) ? undefined : Promise.reject(e)));
      const epochNode = await this.zk.getData('/controller_epoch');
      const epoch = Number(epochNode.data?.toString() ?? '0');
      const [, epochResult] = await this.zk.multi([
        { op: 'create', path: '/controller', data: json({ version: 2, brokerid: this.nodeId, timestamp: String(Date.now()), kraftControllerEpoch: -1 }), mode: 'ephemeral' },
        { op: 'setData', path: '/controller_epoch', data: Buffer.from(String(epoch + 1)), version: epochNode.stat.version },
      ]);
      this.controllerEpochZkVersion = epochResult.op === 'setData' ? epochResult.stat.version : -1;
      this.controller = this.nodeId;
      this.opts.log.info(`Broker ${this.nodeId} is the controller (epoch ${epoch + 1})`);
      await this.reload();
    } catch (err) {
      // NodeExists / BadVersion: another broker won. Anything else: the next watch retries.
      if (!isNodeExists(err) && !(err as { code?: number }).code) this.opts.log.warn(`Controller election failed: ${(err as Error).message}`);
    }
  }

  /** Writes guarded by the controller epoch: a displaced controller's writes fail. */
  private guarded(op: Op) {
    return this.zk.multi([{ op: 'check', path: '/controller_epoch', version: this.controllerEpochZkVersion }, op]);
  }

  private async actAsController(): Promise<void> {
    const live = new Set(this.brokers.keys());
    const epochNode = await this.zk.getData('/controller_epoch');
    const controllerEpoch = Number(epochNode.data?.toString() ?? '0');

    for (const name of await this.zk.getChildren('/admin/delete_topics', this.watcher('/admin/delete_topics'))) {
      await this.deleteTopicNodes(name);
    }
    // Leaders' ISR changes: every broker watches the state nodes already, so the notifications are
    // only taken away (as Kafka's controller does once it has sent UpdateMetadata).
    for (const child of await this.zk.getChildren('/isr_change_notification', this.watcher('/isr_change_notification'))) {
      await this.zk.deleteIfExists(`/isr_change_notification/${child}`);
    }

    for (const topic of this.topics.values()) {
      for (const [p, replicas] of topic.assignment) {
        const path = `/brokers/topics/${topic.name}/partitions/${p}/state`;
        const current = this.states.get(`${topic.name}\u0000${p}`);
        const liveReplicas = replicas.filter((r) => live.has(r));
        if (!current) {
          const leader = liveReplicas[0] ?? -1;
          const state = { controller_epoch: controllerEpoch, leader, version: 1, leader_epoch: 0, isr: leader === -1 ? replicas.slice(0, 1) : liveReplicas };
          await this.zk.mkdirp(`/brokers/topics/${topic.name}/partitions/${p}`);
          await this.guarded({ op: 'create', path, data: json(state), mode: 'persistent' }).catch((e) => (isNodeExists(e) ? undefined : Promise.reject(e)));
          continue;
        }
        const isrLive = current.isr.filter((r) => live.has(r));
        if (current.leader !== -1 && live.has(current.leader)) {
          // A follower's broker is gone: out of the ISR at once (Kafka's controller does the same on
          // broker death, rather than waiting replica.lag.time.max.ms for the leader to notice).
          if (isrLive.length === current.isr.length) continue;
          await this.writeState(path, current, { controller_epoch: controllerEpoch, leader: current.leader, leader_epoch: current.leaderEpoch, isr: isrLive });
          this.opts.log.info(`Partition ${topic.name}-${p}: ISR ${current.isr.join(',')} -> ${isrLive.join(',')} (broker gone)`);
          continue;
        }
        // Leader gone (or offline and a replica is back): the first live replica that is in the ISR.
        // unclean.leader.election.enable=false: none in the ISR leaves the partition offline (-1), its
        // ISR as it was, until an ISR member returns; no acknowledged record is lost.
        const unclean = this.opts.config.getBoolean('unclean.leader.election.enable') || topic.configs.get('unclean.leader.election.enable') === 'true';
        const leader = liveReplicas.find((r) => current.isr.includes(r)) ?? (unclean ? liveReplicas[0] : undefined) ?? -1;
        if (leader === current.leader) continue;
        const state = {
          controller_epoch: controllerEpoch,
          leader,
          leader_epoch: current.leaderEpoch + 1,
          isr: leader === -1 ? current.isr : isrLive.includes(leader) ? isrLive : [leader],
        };
        if (!(await this.writeState(path, current, state))) continue;
        this.opts.log.info(`Partition ${topic.name}-${p}: leader ${current.leader} -> ${leader} (leader epoch ${state.leader_epoch}, ISR ${state.isr.join(',')})`);
      }
    }
    // Another pass sees what this one wrote (the state watches fire too).
  }

  /**
   * Replaces a partition state node if it is still the version this controller read (the leader may
   * have changed the ISR meanwhile: then the next pass sees that). False when it moved on.
   */
  private async writeState(path: string, current: PartitionState, state: { controller_epoch: number; leader: number; leader_epoch: number; isr: number[] }): Promise<boolean> {
    try {
      await this.guarded({ op: 'setData', path, data: json({ ...state, version: 1 }), version: current.zkVersion ?? -1 });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === undefined) throw err;
      void this.reload();
      return false;
    }
  }

  private async deleteTopicNodes(name: string): Promise<void> {
    await this.zk.deleteRecursive(`/brokers/topics/${name}`);
    await this.zk.deleteIfExists(`/config/topics/${name}`);
    await this.zk.deleteIfExists(`/admin/delete_topics/${name}`);
    this.opts.log.info(`Deleted topic ${name}`);
  }

  // ---- writes (any broker; the controller finishes them) ----

  validateCreate(name: string, partitions: number, configs: Record<string, string>, placement: TopicPlacement = {}): Map<number, number[]> {
    validateNewTopic(name, partitions, configs, this.topics.keys());
    // Here, not in a handler: auto-created and internal topics count against the ceiling too.
    checkPartitionLimit(this.topics.values(), partitions, this.opts.config.getNumber('kts.max.partitions'));
    return this.place(partitions, placement.replicationFactor ?? 1, placement.assignment);
  }

  /** Kafka's placement over the live brokers, or the client's assignment checked against them. */
  private place(partitions: number, replicationFactor: number, assignment: Map<number, number[]> | undefined, firstPartition = 0, fixedStartIndex?: number, expectedFactor?: number): Map<number, number[]> {
    const live = this.liveBrokers();
    if (live.length === 0) throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, 'No live brokers');
    if (assignment) {
      validateReplicaAssignment(assignment, live.map((b) => b.nodeId), firstPartition, expectedFactor);
      return assignment;
    }
    return assignReplicasToBrokers(live, partitions, replicationFactor, { firstPartition, fixedStartIndex });
  }

  async create(
    name: string,
    partitions: number,
    configs: Record<string, string> = {},
    opts: { internal?: boolean; replicationFactor?: number; assignment?: Map<number, number[]> } = {},
  ): Promise<TopicInfo> {
    const planned = this.validateCreate(name, partitions, configs, opts);
    const assignment: Record<string, number[]> = Object.fromEntries([...planned].map(([p, replicas]) => [String(p), replicas]));
    const topicId = randomTopicId();
    // All or nothing for this broker's share: its logs first, then the topic in ZooKeeper; a failure
    // on the way removes the logs made (other brokers create theirs when they see the topic).
    const logConfig = this.opts.config.logConfig(new Map(Object.entries(configs)));
    await this.withLocalLogs(name, this.ownPartitions(assignment), logConfig, async () => {
      try {
        await this.zk.createOrSet(`/config/topics/${name}`, json({ version: 1, config: configs }));
        await this.zk.create(`/brokers/topics/${name}`, json({ version: 3, topic_id: topicId, partitions: assignment, adding_replicas: {}, removing_replicas: {} }), 'persistent');
      } catch (err) {
        if (isNodeExists(err)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
        await this.zk.deleteIfExists(`/config/topics/${name}`).catch(() => {});
        throw err;
      }
    });
    await this.waitFor(() => {
      const topic = this.topics.get(name);
      return !!topic && [...topic.assignment.keys()].every((p) => this.states.has(`${name}\u0000${p}`));
    }, `partition states of new topic ${name}`);
    return this.topics.get(name)!;
  }

  /** The partitions of an assignment ({partition: replicas}) this broker hosts. */
  private ownPartitions(assignment: Record<string, number[]>): number[] {
    return Object.entries(assignment)
      .filter(([, replicas]) => replicas.includes(this.nodeId))
      .map(([p]) => Number(p));
  }

  /**
   * Creates this broker's logs of new partitions, then runs `save` (the ZooKeeper write); if either
   * fails, the logs made are removed. Meanwhile syncLocalLogs leaves the topic's logs alone (they are
   * not in ZooKeeper yet).
   */
  private async withLocalLogs(topic: string, partitions: number[], config: LogConfig, save: () => Promise<void>): Promise<void> {
    this.creatingLocally.set(topic, (this.creatingLocally.get(topic) ?? 0) + 1);
    try {
      const made = await createPartitionLogs(this.opts.logs, topic, partitions, config, (m) => this.opts.log.warn(m));
      try {
        await save();
      } catch (err) {
        await made.rollback();
        throw err;
      }
    } finally {
      const n = this.creatingLocally.get(topic)! - 1;
      if (n === 0) this.creatingLocally.delete(topic);
      else this.creatingLocally.set(topic, n);
    }
  }

  async delete(name: string): Promise<TopicInfo> {
    const topic = this.topics.get(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    await this.zk.createOrSet(`/admin/delete_topics/${name}`, null);
    await this.waitFor(() => !this.topics.has(name), `deletion of topic ${name}`);
    // The pass that saw it gone may still be telling the listeners (the group coordinator).
    await this.reloading;
    return topic;
  }

  async addPartitions(name: string, total: number, explicit?: Map<number, number[]>): Promise<TopicInfo> {
    const node = await this.zk.getData(`/brokers/topics/${name}`).catch((e) => {
      if (isNoNode(e)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
      throw e;
    });
    const assignmentJson = parse(node.data);
    const current = Object.keys(assignmentJson.partitions).length;
    if (total <= current) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${current} partitions, which is higher than the requested ${total}.`);
    }
    // As Kafka's AdminZkClient: partition 0's replication factor, placed from its first replica's place.
    const partition0: number[] = assignmentJson.partitions['0'] ?? [];
    const liveIds = this.liveBrokers().map((b) => b.nodeId);
    const startIndex = Math.max(0, liveIds.findIndex((id) => id >= (partition0[0] ?? 0)));
    if (explicit && explicit.size !== total - current) {
      throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Increasing the number of partitions by ${total - current} but ${explicit.size} assignments provided.`);
    }
    const planned = this.place(total - current, partition0.length || 1, explicit, current, startIndex, explicit ? partition0.length || undefined : undefined);
    const added: Record<string, number[]> = Object.fromEntries([...planned].map(([p, replicas]) => [String(p), replicas]));
    Object.assign(assignmentJson.partitions, added);
    const logConfig = this.opts.config.logConfig(this.topics.get(name)?.configs ?? new Map());
    await this.withLocalLogs(name, this.ownPartitions(added), logConfig, () =>
      this.zk.setData(`/brokers/topics/${name}`, json(assignmentJson), node.stat.version).then(() => undefined),
    );
    await this.waitFor(() => {
      const topic = this.topics.get(name);
      return !!topic && topic.partitions === total && [...topic.assignment.keys()].every((p) => this.states.has(`${name}\u0000${p}`));
    }, `new partitions of ${name}`);
    return this.topics.get(name)!;
  }

  async setTopicConfigs(name: string, configs: Map<string, string>): Promise<void> {
    if (!this.topics.has(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    validateConfigs(configs);
    await this.zk.createOrSet(`/config/topics/${name}`, json({ version: 1, config: Object.fromEntries(configs) }));
    await this.announceConfigChange(`topics/${name}`);
    await this.reload();
  }

  async setBrokerConfigs(configs: Map<string, string>): Promise<void> {
    await this.zk.createOrSet('/config/brokers/<default>', json({ version: 1, config: Object.fromEntries(configs) }));
    await this.announceConfigChange('brokers/<default>');
    await this.reload();
  }

  private async announceConfigChange(entityPath: string): Promise<void> {
    await this.zk.create('/config/changes/config_change_', json({ version: 2, entity_path: entityPath }), 'persistent_sequential');
  }

  /** Waits until the watched cache shows a change (driving reloads meanwhile). */
  private async waitFor(done: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `Timed out waiting for ${what}`);
      await sleep(25);
      await this.reload();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reloading?.catch(() => {});
    await this.zk.close();
  }
}
