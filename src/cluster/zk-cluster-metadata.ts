// Cluster metadata kept in ZooKeeper in Kafka 3.x's layout (see kafka-zookeeper-layout in the
// project docs), so kts brokers can share a cluster with each other and with Apache ZooKeeper:
// ephemeral /brokers/ids/<id>, controller election through /controller + /controller_epoch,
// /cluster/id, assignments under /brokers/topics, partition state nodes, /config/topics and
// deletion through /admin/delete_topics.
//
// Every broker keeps a cache of brokers, topics and partition states, reloaded whenever one of its
// watches fire (watches are re-armed by the reload itself). The elected controller
// (zk-controller.ts) creates the state of new partitions and moves leadership as brokers come and
// go; each broker creates and deletes its own logs to match what it is assigned. Broker-to-broker
// RPCs are not needed: the state nodes are the source of truth.
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
import { CONTROLLED_SHUTDOWN_PATH, type ElectionResult, type ElectionType, partitionStatePath, ZkController } from './zk-controller.js';
import type { OngoingReassignment, ReassignmentRequest } from './partition-reassignment.js';
import { claimProducerIdBlock } from './zk-producer-ids.js';
import { raceTimeout } from '../util/timeout.js';
import { CoalescedPasses } from '../util/coalesced-passes.js';

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
  /** Partitions being reassigned: their adding_replicas and removing_replicas (KIP-455). */
  adding: Map<number, number[]>;
  removing: Map<number, number[]>;
}

const partitionMap = (o: unknown) => new Map<number, number[]>(Object.entries((o ?? {}) as Record<string, number[]>).map(([p, r]) => [Number(p), r]));

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
  /** Brokers in a controlled shutdown (their node under CONTROLLED_SHUTDOWN_PATH). */
  private shuttingDown = new Set<number>();
  /** Elections and, once this broker has won, the controller's passes. */
  private readonly controllerRole: ZkController;
  /** Reloads of the cache, one at a time; triggers meanwhile coalesce into one more pass. */
  private readonly reloads = new CoalescedPasses(() => this.reloadPass(), () => this.closed);
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
    this.controllerRole = new ZkController({
      zk: opts.zk,
      nodeId: this.nodeId,
      config: opts.config,
      log: opts.log,
      view: {
        liveBrokerIds: () => new Set(this.brokers.keys()),
        shuttingDownBrokerIds: () => this.shuttingDown,
        topics: () => this.topics.values(),
        topic: (name) => this.topics.get(name),
        partitionState: (topic, partition) => this.partitionState(topic, partition),
        watcher: (path) => this.watcher(path),
        requestReload: () => void this.reload(),
      },
    });
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
    for (const path of [...PERSISTENT_PATHS, CONTROLLED_SHUTDOWN_PATH]) await this.zk.mkdirp(path);
    this.clusterId = this.opts.clusterId;
    await this.register();
    this.zk.onSessionReestablished(() => void this.afterNewSession());
    await this.reload();
    await this.elect();
    // Lost the election to a broker that won after our reload: its /controller watch is on its way,
    // but a client asking right after start must not be told there is no controller (-1).
    if (this.controller < 0) await this.reload();
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
      endpoints: Object.entries(self.listeners ?? { PLAINTEXT: self }).map(([name, at]) => `${name}://${at.host.includes(':') ? `[${at.host}]` : at.host}:${at.port}`),
      listener_security_protocol_map: Object.fromEntries(Object.keys(self.listeners ?? { PLAINTEXT: self }).map((name) => [name, this.opts.config.listenerProtocol(name)])),
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
    this.controllerRole.sessionLost();
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

  shuttingDownBrokers(): ReadonlySet<number> {
    return this.shuttingDown;
  }

  /**
   * Controlled shutdown (Kafka's ControlledShutdown request, here a znode the controller watches):
   * asks the controller to move away the leadership of this broker's partitions and to take it out
   * of every ISR, and waits until the cache shows that done, or until `timeoutMs` (then the stop goes
   * on, as Kafka's after its retries). A partition this broker is the last ISR member of keeps it as
   * leader: there is nobody to hand it to, so nothing is waited for.
   */
  async controlledShutdown(timeoutMs: number): Promise<{ moved: boolean; remaining: string[] }> {
    // The whole of it is bounded: with ZooKeeper unreachable (the local cluster's supervisor, which
    // runs the coordinator, killed) the ZooKeeper calls would wait for a reconnection.
    let gaveUp = false;
    const work = (async () => {
      const path = `${CONTROLLED_SHUTDOWN_PATH}/${this.nodeId}`;
      await this.zk.mkdirp(CONTROLLED_SHUTDOWN_PATH);
      await this.zk.create(path, json({ version: 1, timestamp: String(Date.now()) }), 'ephemeral').catch((e) => (isNodeExists(e) ? undefined : Promise.reject(e)));
      for (;;) {
        await this.reload();
        const remaining = this.partitionsToMoveAway();
        if (remaining.length === 0) return { moved: true, remaining };
        if (gaveUp || this.closed) return { moved: false, remaining };
        await sleep(50);
      }
    })();
    return raceTimeout(work, timeoutMs, () => {
      gaveUp = true;
      return { moved: false, remaining: this.partitionsToMoveAway() };
    });
  }

  /** Partitions this broker leads that another live, not stopping ISR member could lead, or whose ISR (under a live leader) still has it. */
  private partitionsToMoveAway(): string[] {
    const electable = (r: number) => r !== this.nodeId && this.brokers.has(r) && !this.shuttingDown.has(r);
    const left: string[] = [];
    for (const [k, state] of this.states) {
      if (!state.replicas.includes(this.nodeId)) continue;
      const waiting = state.leader === this.nodeId ? state.isr.some(electable) : state.isr.includes(this.nodeId) && electable(state.leader);
      if (waiting) left.push(k.replace('\u0000', '-'));
    }
    return left;
  }

  /** ElectLeaders, on the controller only (Kafka 3.9 in ZooKeeper mode answers NOT_CONTROLLER elsewhere). */
  electLeaders(type: ElectionType, partitions: { topic: string; partition: number }[] | null): Promise<ElectionResult[]> {
    if (!this.isController()) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'This is not the correct controller for this cluster.');
    return this.controllerRole.electLeaders(type, partitions);
  }

  claimProducerIdBlock(size: number): Promise<number> {
    return claimProducerIdBlock(this.zk, this.nodeId, size);
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
      const stat = await this.zk.setData(partitionStatePath(topic, partition), json(state), zkVersion);
      const updated: PartitionState = { ...current, isr, zkVersion: stat.version, zxid: stat.mzxid };
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
    return this.reloads.request();
  }

  /** One reload; a failure is tried again 200 ms later in one more pass (none once closed). */
  private async reloadPass(): Promise<void> {
    try {
      await this.loadOnce();
      for (const name of this.deletedSinceLastLook.splice(0)) await this.deletionListeners.announce(name);
      if (this.isController()) await this.controllerRole.act();
      await this.syncLocalLogs();
      for (const listener of this.stateListeners) listener();
    } catch (err) {
      if (this.closed) return;
      this.opts.log.warn(`Reloading cluster state from ZooKeeper failed: ${(err as Error).message}`);
      await sleep(200);
      this.reloads.repeat();
    }
  }

  /**
   * A read that sets the watch on `path` (unless one is set already). A read that fails set no
   * watch in ZooKeeper, so the path is not counted as watched: the next reload arms it again.
   */
  private async watched<T>(path: string, read: (watch: ((event: unknown) => void) | undefined) => Promise<T>): Promise<T> {
    const watch = this.watcher(path);
    try {
      return await read(watch);
    } catch (err) {
      if (watch) this.armed.delete(path);
      throw err;
    }
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

  /**
   * One look at everything this cache holds. The reads are pipelined (sent without waiting for the
   * previous answer): ZooKeeper answers one session's requests in the order sent, so this sees what
   * the one-at-a-time reads saw, in three round trips instead of one per node. Each reload is on a
   * failover's path (dead broker -> controller pass -> new leaders known), and a cluster has
   * thousands of partition state nodes.
   */
  private async loadOnce(): Promise<void> {
    const zk = this.zk;
    const orNone = <T>(p: Promise<T>, none: T) => p.catch((e) => (isNoNode(e) ? none : Promise.reject(e)));
    const [ids, shutdownIds, controllerNode, topicNames, , brokerDefaultsNode, ownConfigsNode] = await Promise.all([
      this.watched('/brokers/ids', (w) => zk.getChildren('/brokers/ids', w)),
      orNone(this.watched(CONTROLLED_SHUTDOWN_PATH, (w) => zk.getChildren(CONTROLLED_SHUTDOWN_PATH, w)), [] as string[]),
      this.watched('/controller', (w) => zk.getDataIfExists('/controller', w)),
      this.watched('/brokers/topics', (w) => zk.getChildren('/brokers/topics', w)),
      // Config changes are announced under /config/changes; any new child means "reload".
      this.watched('/config/changes', (w) => zk.getChildren('/config/changes', w)),
      zk.getDataIfExists('/config/brokers/<default>'),
      zk.getDataIfExists(`/config/brokers/${this.opts.self.nodeId}`),
    ]);

    const [registrations, topicNodes] = await Promise.all([
      Promise.all(ids.map((id) => orNone(zk.getData(`/brokers/ids/${id}`), null))),
      Promise.all(
        topicNames.map(async (name) => {
          const [node, configNode] = await Promise.all([
            this.watched(`/brokers/topics/${name}`, (w) => zk.getDataIfExists(`/brokers/topics/${name}`, w)),
            zk.getDataIfExists(`/config/topics/${name}`),
          ]);
          const assignmentJson = parse(node?.data ?? null);
          if (!assignmentJson) return null;
          const assignment = new Map<number, number[]>(Object.entries(assignmentJson.partitions ?? {}).map(([p, r]) => [Number(p), r as number[]]));
          const stateNodes = await Promise.all(
            [...assignment.keys()].map(async (p) => {
              const statePath = partitionStatePath(name, p);
              return [p, await this.watched(statePath, (w) => zk.getDataIfExists(statePath, w))] as const;
            }),
          );
          return { name, assignmentJson, assignment, configNode, stateNodes };
        }),
      ),
    ]);

    const brokers = new Map<number, BrokerEndpoint>();
    ids.forEach((id, i) => {
      const reg = parse(registrations[i]?.data ?? null);
      if (!reg) return;
      // Every listener's endpoint; host and port are the inter-broker listener's (Kafka requires each
      // broker of a cluster to have it), else PLAINTEXT's, else the registration's legacy fields.
      const listeners: Record<string, { host: string; port: number }> = {};
      for (const e of (reg.endpoints as string[] | undefined) ?? []) {
        const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:]*):(\d+)$/.exec(e);
        if (m) listeners[m[1].toUpperCase()] = { host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]) };
      }
      const endpoint = listeners[this.opts.config.interBrokerListenerName] ?? listeners.PLAINTEXT;
      brokers.set(Number(id), {
        nodeId: Number(id),
        host: endpoint ? endpoint.host : reg.host,
        port: endpoint ? endpoint.port : reg.port,
        rack: reg.rack ?? null,
        ...(Object.keys(listeners).length > 0 ? { listeners } : {}),
        epoch: registrations[i]!.stat.czxid,
      });
    });

    const shuttingDown = new Set<number>();
    for (const id of shutdownIds) if (brokers.has(Number(id))) shuttingDown.add(Number(id));

    const controller = parse(controllerNode?.data ?? null)?.brokerid ?? -1;

    const topics = new Map<string, ZkTopic>();
    const states = new Map<string, PartitionState>();
    for (const read of topicNodes) {
      if (!read) continue;
      const { name, assignmentJson, assignment, configNode, stateNodes } = read;
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
        adding: partitionMap(assignmentJson.adding_replicas),
        removing: partitionMap(assignmentJson.removing_replicas),
      };
      topics.set(name, topic);
      for (const [p, stateNode] of stateNodes) {
        const state = parse(stateNode?.data ?? null);
        if (!state) continue;
        const key = `${name}\u0000${p}`;
        const read: PartitionState = {
          leader: state.leader,
          leaderEpoch: state.leader_epoch ?? 0,
          replicas: assignment.get(p)!,
          isr: state.isr ?? [],
          zkVersion: stateNode!.stat.version,
          controllerEpoch: state.controller_epoch ?? 0,
          zxid: stateNode!.stat.mzxid,
        };
        // alterIsr puts this broker's own ISR write in the cache as soon as ZooKeeper answers it; a
        // pass that read the node before that write ends after it and must not put the older state
        // back (the leader would act on an ISR ZooKeeper no longer holds, and Metadata would show it).
        const known = this.states.get(key);
        const newer = known && (known.zxid ?? -1) > read.zxid! ? { ...known, replicas: read.replicas } : read;
        states.set(key, newer);
      }
    }
    const brokerDefaults = parse(brokerDefaultsNode?.data ?? null)?.config ?? {};
    const ownConfigs = parse(ownConfigsNode?.data ?? null)?.config ?? {};
    this.opts.config.dynamic.clear();
    for (const [k, v] of Object.entries(brokerDefaults)) this.opts.config.dynamic.set(k, String(v));
    this.opts.config.dynamicBroker.clear();
    for (const [k, v] of Object.entries(ownConfigs)) this.opts.config.dynamicBroker.set(k, String(v));

    // Every broker learns of a deletion here, whoever deleted the topic (Kafka: UpdateMetadata).
    for (const [name, before] of this.topics) {
      if (topics.get(name)?.topicId !== before.topicId) this.deletedSinceLastLook.push(name);
    }
    this.brokers = brokers;
    this.shuttingDown = shuttingDown;
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

  // ---- controller (its decisions live in ZkController) ----

  private isController(): boolean {
    return this.controller === this.nodeId && this.controllerRole.holdsEpoch();
  }

  private async elect(): Promise<void> {
    // Our own /controller creation fires the exists watch too: nothing to do then.
    if (this.closed || this.isController()) return;
    if (!(await this.controllerRole.elect())) return;
    this.controller = this.nodeId;
    await this.reload();
  }

  // ---- reassignments (the controller's; zk-reassignment.ts) ----

  async alterPartitionReassignments(requests: ReassignmentRequest[]): Promise<(Error | null)[]> {
    if (!this.isController()) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'This is not the correct controller for this cluster.');
    const results = await this.controllerRole.reassignments.alter(requests);
    // Answer once this broker's cache shows what was written: a --verify or --list right after sees it.
    await this.reload();
    return results;
  }

  listPartitionReassignments(partitions: { topic: string; partition: number }[] | null): OngoingReassignment[] {
    if (!this.isController()) throw new KafkaError(ErrorCode.NOT_CONTROLLER, 'This is not the correct controller for this cluster.');
    return this.controllerRole.reassignments.list(partitions);
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
    opts: { internal?: boolean; replicationFactor?: number; assignment?: Map<number, number[]>; timeoutMs?: number } = {},
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
    await this.waitForLeaders(name, () => {
      const topic = this.topics.get(name);
      return !!topic && [...topic.assignment.keys()].every((p) => this.states.has(`${name}\u0000${p}`));
    }, opts.timeoutMs);
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

  async delete(name: string, opts: { timeoutMs?: number } = {}): Promise<TopicInfo> {
    const topic = this.topics.get(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    await this.zk.createOrSet(`/admin/delete_topics/${name}`, null);
    await this.waitFor(() => !this.topics.has(name), `deletion of topic ${name}`, opts.timeoutMs);
    // The pass that saw it gone may still be telling the listeners (the group coordinator).
    await this.reloads.running;
    return topic;
  }

  async addPartitions(name: string, total: number, explicit?: Map<number, number[]>, opts: { timeoutMs?: number } = {}): Promise<TopicInfo> {
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
    await this.waitForLeaders(name, () => {
      const topic = this.topics.get(name);
      return !!topic && topic.partitions === total && [...topic.assignment.keys()].every((p) => this.states.has(`${name}\u0000${p}`));
    }, opts.timeoutMs);
    return this.topics.get(name)!;
  }

  async setTopicConfigs(name: string, configs: Map<string, string>): Promise<void> {
    if (!this.topics.has(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    validateConfigs(configs);
    await this.zk.createOrSet(`/config/topics/${name}`, json({ version: 1, config: Object.fromEntries(configs) }));
    await this.announceConfigChange(`topics/${name}`);
    await this.reload();
  }

  readonly perBrokerConfigs = true;

  /** Kafka's layout: /config/brokers/<default> for the cluster, /config/brokers/<id> for one broker. */
  async setBrokerConfigs(configs: Map<string, string>, brokerId?: number): Promise<void> {
    const entity = brokerId === undefined ? '<default>' : String(brokerId);
    await this.zk.createOrSet(`/config/brokers/${entity}`, json({ version: 1, config: Object.fromEntries(configs) }));
    await this.announceConfigChange(`brokers/${entity}`);
    await this.reload();
  }

  private async announceConfigChange(entityPath: string): Promise<void> {
    await this.zk.create('/config/changes/config_change_', json({ version: 2, entity_path: entityPath }), 'persistent_sequential');
  }

  /**
   * After a topic's (or its new partitions') znodes are written: waits for the controller's partition
   * states, as Kafka's DelayedCreatePartitions waits for leaders. Kafka's ZooKeeper mode answers
   * REQUEST_TIMED_OUT, with no message, when the request's timeout passes first, and at once for a
   * timeout <= 0; either way the topic is created and the controller goes on with it.
   */
  private async waitForLeaders(topic: string, done: () => boolean, timeoutMs = 15_000): Promise<void> {
    const timedOut = new KafkaError(ErrorCode.REQUEST_TIMED_OUT, '');
    if (timeoutMs <= 0) throw timedOut;
    try {
      await this.waitFor(done, `the leaders of ${topic}`, timeoutMs);
    } catch (err) {
      if (err instanceof KafkaError && err.code === ErrorCode.REQUEST_TIMED_OUT) throw timedOut;
      throw err;
    }
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
    this.controllerRole.close();
    await this.reloads.running?.catch(() => {});
    await this.zk.close();
  }
}
