// KafkaStreams: runs a topology against a cluster (Kafka's KafkaStreams with one stream thread).
// The application's consumer group (group id = application.id) assigns source partitions; each
// partition number of a sub-topology is a task with its own stores, restored from their changelogs
// when the task is created. The loop fetches, processes, sends what the round wrote and, every
// commit.interval.ms, commits: at_least_once flushes the output then commits the consumed offsets;
// exactly_once_v2 commits one transaction holding the output, changelog writes and offsets.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { KafkaClient } from '../client/index.js';
import type { GroupMember } from '../client/group-member.js';
import type { FetchedRecord } from '../client/fetch.js';
import { ErrorCode } from '../protocol/index.js';
import { tpKey, type TopicPartition } from '../client/routing.js';
import { GlobalStores } from './globals.js';
import { prepareInternalTopics, type PlannedTopics } from './internal-topics.js';
import type { ReadOnlyKeyValueStore, KeyValue } from './processor.js';
import { IndexedWindowStore, type ReadOnlySessionStore, type ReadOnlyWindowStore } from './window-store.js';
import type { Windowed } from './windows.js';
import { ProducerFencedError, StreamsProducer, type OutRecord } from './producer.js';
import { serdeFromConfig } from './serdes.js';
import { changelogTopic, StreamTask, type TaskEnv } from './task.js';
import { deleteCheckpoint, isPersistentStore, loadPersistentStores, readCheckpoint, writeCheckpoint } from './persistent-store.js';

/** Kafka's StateRestoreListener: what a task's restore of each store reads from its changelog. */
export interface StateRestoreListener {
  onRestoreStart?(partition: TopicPartition, storeName: string, startingOffset: number, endingOffset: number): void;
  onBatchRestored?(partition: TopicPartition, storeName: string, batchEndOffset: number, numRestored: number): void;
  onRestoreEnd?(partition: TopicPartition, storeName: string, totalRestored: number): void;
}
import type { SubTopology, Topology } from './topology.js';

export type StreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'PENDING_ERROR' | 'ERROR';

export class StreamsConfigException extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigException';
  }
}

interface Config {
  applicationId: string;
  bootstrap: string;
  exactlyOnce: boolean;
  commitIntervalMs: number;
  replicationFactor: number;
  stateDir: string;
  clientId: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  groupInstanceId: string | null;
  transactionTimeoutMs: number;
  autoOffsetReset: 'earliest' | 'latest';
  maxPollRecords: number;
  maxPartitionFetchBytes: number;
  /** default.dsl.store=rocksDB: the DSL's stores are persistent (on LMDB) unless Materialized says otherwise. */
  dslStoresPersistent: boolean;
  /** default.dsl.store was set (not Kafka's default). */
  dslStoreChosen: boolean;
}

function parseConfig(props: Record<string, unknown>): Config {
  const str = (k: string): string | undefined => (props[k] === undefined || props[k] === null ? undefined : String(props[k]));
  const int = (k: string, d: number): number => {
    const v = str(k);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new StreamsConfigException(`Invalid value ${v} for configuration ${k}: Not a number of type ${k.endsWith('.ms') ? 'LONG' : 'INT'}`);
    return n;
  };
  const applicationId = str('application.id');
  if (!applicationId) throw new StreamsConfigException('Missing required configuration "application.id" which has no default value.');
  const bootstrap = str('bootstrap.servers');
  if (!bootstrap) throw new StreamsConfigException('Missing required configuration "bootstrap.servers" which has no default value.');
  const guarantee = str('processing.guarantee') ?? 'at_least_once';
  if (guarantee !== 'at_least_once' && guarantee !== 'exactly_once_v2') {
    throw new StreamsConfigException(`Invalid value ${guarantee} for configuration processing.guarantee: String must be one of: at_least_once, exactly_once_v2`);
  }
  const exactlyOnce = guarantee === 'exactly_once_v2';
  // Kafka's default: the DSL's stores on disk (rocksDB; LMDB here).
  const dslStore = str('default.dsl.store') ?? 'rocksDB';
  if (dslStore !== 'rocksDB' && dslStore !== 'in_memory') throw new StreamsConfigException(`Invalid value ${dslStore} for configuration default.dsl.store: String must be one of: rocksDB, in_memory`);
  const reset = str('auto.offset.reset') ?? 'earliest';
  if (reset !== 'earliest' && reset !== 'latest') throw new StreamsConfigException(`Invalid value ${reset} for configuration auto.offset.reset: String must be one of: latest, earliest, none`);
  const instance = str('group.instance.id') ?? str('main.consumer.group.instance.id') ?? str('consumer.group.instance.id');
  return {
    applicationId,
    bootstrap,
    exactlyOnce,
    commitIntervalMs: int('commit.interval.ms', exactlyOnce ? 100 : 30000),
    replicationFactor: int('replication.factor', -1),
    stateDir: str('state.dir') ?? join(tmpdir(), 'kafka-streams'),
    clientId: str('client.id') ?? applicationId,
    sessionTimeoutMs: int('session.timeout.ms', 45000),
    heartbeatIntervalMs: int('heartbeat.interval.ms', 3000),
    groupInstanceId: instance ? `${instance}-1` : null,
    transactionTimeoutMs: int('transaction.timeout.ms', 10000),
    autoOffsetReset: reset,
    maxPollRecords: Math.max(1, int('max.poll.records', 1000)),
    maxPartitionFetchBytes: Math.max(1024, int('max.partition.fetch.bytes', 128 * 1024)),
    dslStoresPersistent: dslStore === 'rocksDB',
    dslStoreChosen: str('default.dsl.store') !== undefined,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class KafkaStreams {
  private readonly config: Config;
  private readonly env: TaskEnv;
  private readonly subs: SubTopology[];
  private readonly subOfTopic = new Map<string, SubTopology>();
  private readonly globals: GlobalStores;
  private currentState: StreamsState = 'CREATED';
  private stateListener: ((newState: StreamsState, oldState: StreamsState) => void) | null = null;
  private exceptionHandler: ((err: Error) => void) | null = null;
  private client: KafkaClient | null = null;
  private member: GroupMember | null = null;
  private producer: StreamsProducer | null = null;
  private planned: PlannedTopics | null = null;
  private readonly tasks = new Map<string, StreamTask>();
  private readonly taskOfPartition = new Map<string, StreamTask>();
  /** Next offset to fetch per assigned source partition. */
  private readonly positions = new Map<string, TopicPartition & { offset: number }>();
  /** The end (high watermark, or last stable offset under exactly-once) each partition's last fetch saw. */
  private readonly endOffsets = new Map<string, number>();
  /** Fetched records not processed yet, per partition. */
  private readonly buffered = new Map<string, FetchedRecord[]>();
  private out: OutRecord[] = [];
  private closing = false;
  private loop: Promise<void> | null = null;
  private lastCommit = Date.now();
  private uncommitted = false;
  private runningWaiters: { resolve(): void; reject(e: Error): void }[] = [];
  private restoreListener: StateRestoreListener | null = null;

  constructor(
    private readonly topology: Topology,
    props: Record<string, unknown>,
  ) {
    this.config = parseConfig(props);
    const appId = this.config.applicationId;
    const defaultKeySerde = serdeFromConfig(props['default.key.serde'], 'default.key.serde');
    const defaultValueSerde = serdeFromConfig(props['default.value.serde'], 'default.value.serde');
    this.globals = new GlobalStores(topology, { keySerde: defaultKeySerde, valueSerde: defaultValueSerde });
    this.env = {
      applicationId: appId,
      defaultKeySerde,
      defaultValueSerde,
      topicName: (t) => (topology.internalTopics.has(t) ? `${appId}-${t}` : t),
      partitionsOf: (t) => this.client?.cluster.topic(t)?.partitions.length ?? 1,
      globalStore: (name) => this.globals.stores.get(name),
      stateDir: this.config.stateDir,
      dslStoresPersistent: this.config.dslStoresPersistent,
    };
    this.subs = topology.subTopologies();
    for (const s of this.subs) for (const t of s.sourceTopics) this.subOfTopic.set(this.env.topicName(t), s);
  }

  /** Told about every store restore (Kafka's setGlobalStateRestoreListener). */
  setGlobalStateRestoreListener(listener: StateRestoreListener): void {
    this.restoreListener = listener;
  }

  state(): StreamsState {
    return this.currentState;
  }

  setStateListener(listener: (newState: StreamsState, oldState: StreamsState) => void): void {
    this.stateListener = listener;
  }

  /** Called with an error that stopped processing (the app then goes to ERROR). */
  setUncaughtExceptionHandler(handler: (err: Error) => void): void {
    this.exceptionHandler = handler;
  }

  private setState(s: StreamsState): void {
    const old = this.currentState;
    if (old === s) return;
    this.currentState = s;
    this.stateListener?.(s, old);
    if (s === 'RUNNING') for (const w of this.runningWaiters.splice(0)) w.resolve();
  }

  /** Starts processing; resolves once the first assignment is restored and the app is RUNNING. */
  async start(): Promise<void> {
    if (this.currentState !== 'CREATED') throw new Error(`KafkaStreams is not in state CREATED (it is ${this.currentState}): it can be started once`);
    this.setState('REBALANCING');
    const running = new Promise<void>((resolve, reject) => this.runningWaiters.push({ resolve, reject }));
    this.loop = this.run().catch((err: Error) => this.fail(err));
    return running;
  }

  private fail(err: Error): void {
    for (const w of this.runningWaiters.splice(0)) w.reject(err);
    this.setState('ERROR');
    if (this.exceptionHandler) this.exceptionHandler(err);
    else if (!this.closing) console.error(`kts streams ${this.config.applicationId}: stream thread died: ${err.stack ?? err.message}`);
  }

  private processId(): string {
    // Kafka Streams keeps its process id in the state directory, so a restarted instance is the same
    // process: under exactly_once_v2 its transactional.id fences (and aborts) the dead one's at once.
    const dir = join(this.config.stateDir, this.config.applicationId);
    const file = join(dir, 'kafka-streams-process-metadata');
    try {
      const id = JSON.parse(readFileSync(file, 'utf8')).processId;
      if (typeof id === 'string' && id) return id;
    } catch {
      // none yet, or unreadable: a new one
    }
    const id = randomUUID();
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, JSON.stringify({ processId: id }) + '\n');
    return id;
  }

  private async run(): Promise<void> {
    const c = this.config;
    const onDisk = [...this.topology.stores.values()].filter((b) => b.persistent ?? c.dslStoresPersistent);
    if (onDisk.length > 0) {
      try {
        await loadPersistentStores();
      } catch (err) {
        // lmdb is an optional dependency: stores on disk only by default (not asked for) stay in memory without it.
        if (c.dslStoreChosen || onDisk.some((b) => b.persistent === true)) throw err;
        this.env.dslStoresPersistent = false;
        process.emitWarning(`${(err as Error).message}; the DSL's stores are kept in memory (set default.dsl.store=in_memory to choose that)`);
      }
    }
    this.client = await KafkaClient.connect(c.bootstrap, { clientId: c.clientId });
    this.planned = await prepareInternalTopics(this.client, this.topology, this.subs, c.applicationId, c.replicationFactor);
    // Global tables are read in full before anything is processed (Kafka's global restore).
    await this.globals.bootstrap(this.client, c.exactlyOnce ? 1 : 0);
    this.producer = new StreamsProducer(this.client.cluster, c.exactlyOnce ? `${c.applicationId}-${this.processId()}-1` : null, c.transactionTimeoutMs);
    await this.producer.initTransactions();
    const topics = [...this.subOfTopic.keys()];
    this.member = this.client.groupMember({
      groupId: c.applicationId,
      topics: async () => topics,
      sessionTimeoutMs: c.sessionTimeoutMs,
      heartbeatIntervalMs: c.heartbeatIntervalMs,
      rebalanceTimeoutMs: 60000,
      groupInstanceId: c.groupInstanceId,
    });
    let joined = false;
    while (!this.closing) {
      if (!joined || this.member.rebalanceNeeded) {
        await this.rebalance();
        joined = true;
        continue;
      }
      if (this.member.fatal) throw this.member.fatal;
      try {
        await this.globals.poll(this.client, c.exactlyOnce ? 1 : 0);
        await this.round();
        if (Date.now() - this.lastCommit >= c.commitIntervalMs) await this.commit();
      } catch (err) {
        if (!(err instanceof ProducerFencedError) && !isRebalanceError(err)) throw err;
        await this.recoverFromFencing();
      }
    }
  }

  /**
   * One round: fetch the partitions with nothing buffered, process at most max.poll.records of what
   * is buffered (so that a round, and the time between commits, stays short), send what it wrote.
   */
  private async round(): Promise<void> {
    // Small fetches: decoding is eager, and a round should not wait on tens of thousands of records.
    const requests = [...this.positions.values()]
      .filter((p) => !this.buffered.get(tpKey(p.topic, p.partition))?.length)
      .map((p) => ({ ...p, maxBytes: this.config.maxPartitionFetchBytes }));
    if (requests.length === 0 && this.buffered.size === 0) {
      await sleep(100);
      return;
    }
    if (requests.length > 0) {
      const wait = this.buffered.size > 0 ? 0 : Math.min(500, Math.max(10, this.config.commitIntervalMs));
      const fetched = await this.client!.fetch(requests, { maxWaitMs: wait, isolationLevel: this.config.exactlyOnce ? 1 : 0 });
      for (const p of fetched) {
        const k = tpKey(p.topic, p.partition);
        const pos = this.positions.get(k);
        if (!pos || pos.offset !== requests.find((r) => r.topic === p.topic && r.partition === p.partition)?.offset) continue;
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          pos.offset = await this.resetOffset(p);
          continue;
        }
        if (p.errorCode !== 0) {
          await this.client!.cluster.refresh([p.topic]).catch(() => undefined);
          continue;
        }
        this.endOffsets.set(k, this.config.exactlyOnce ? p.lastStableOffset : p.highWatermark);
        if (p.records.length > 0) this.buffered.set(k, p.records);
        else if (p.nextOffset !== pos.offset) this.uncommitted = true; // only control records: their offsets count as consumed
        pos.offset = p.nextOffset;
      }
    }
    this.processBuffered();
    await this.send();
  }

  /**
   * Processes at most max.poll.records of what is buffered, shared between the tasks. Within a task the
   * record with the smallest timestamp goes first, whichever of its partitions holds it (Kafka's
   * PartitionGroup): a join then sees both sides in time order. A task waits while one of its
   * partitions has nothing buffered but is known to hold more (KIP-695, max.task.idle.ms=0): the
   * next round fetches it.
   */
  private processBuffered(): void {
    const partitionsOf = new Map<StreamTask, string[]>();
    for (const k of this.positions.keys()) {
      const task = this.taskOfPartition.get(k);
      if (!task) continue;
      const list = partitionsOf.get(task) ?? [];
      list.push(k);
      partitionsOf.set(task, list);
    }
    const share = Math.max(1, Math.ceil(this.config.maxPollRecords / Math.max(1, partitionsOf.size)));
    for (const [task, keys] of partitionsOf) {
      for (let n = 0; n < share; n++) {
        let best: string | null = null;
        let bestTimestamp = Infinity;
        let waiting = false;
        for (const k of keys) {
          const head = this.buffered.get(k)?.[0];
          if (head === undefined) {
            // Not fetched yet, or behind its end: wait for the next fetch.
            const end = this.endOffsets.get(k);
            if (end === undefined || this.positions.get(k)!.offset < end) waiting = true;
          } else if (head.timestamp < bestTimestamp) {
            best = k;
            bestTimestamp = head.timestamp;
          }
        }
        if (waiting || best === null) break;
        const records = this.buffered.get(best)!;
        const r = records.shift()!;
        task.process(r.topic, r.offset, r.key, r.value, r.timestamp, r.headers);
        this.uncommitted = true;
        if (records.length === 0) this.buffered.delete(best);
      }
    }
  }

  /** Per partition: the next offset to process (the first buffered record's, else the fetch position). */
  private consumedOffsets(): (TopicPartition & { offset: number })[] {
    return [...this.positions.entries()].map(([k, p]) => ({ topic: p.topic, partition: p.partition, offset: this.buffered.get(k)?.[0]?.offset ?? p.offset }));
  }

  private async send(): Promise<void> {
    const out = this.out;
    this.out = [];
    for (const r of out) await this.producer!.add(r);
    await this.producer!.flush();
  }

  private async resetOffset(tp: TopicPartition): Promise<number> {
    const [o] = await this.client!.admin.listOffsets([{ ...tp, timestamp: this.config.autoOffsetReset === 'earliest' ? -2 : -1 }]);
    return Math.max(0, o.offset);
  }

  /** Commits what was processed: the output is acknowledged before the offsets (or in one transaction). */
  private async commit(): Promise<void> {
    this.lastCommit = Date.now();
    const offsets = this.consumedOffsets();
    if (this.config.exactlyOnce) {
      await this.producer!.commitTransaction(this.config.applicationId, this.uncommitted ? offsets : [], this.member!.identity);
    } else {
      await this.producer!.flush();
      if (this.uncommitted && offsets.length > 0) await this.member!.commit(offsets);
      // The changelog holds every write now: the stores on disk may say up to where.
      await this.checkpoint(true);
    }
    this.uncommitted = false;
  }

  /**
   * Writes each task's persistent stores to disk, then its checkpoint file: the changelogs' end
   * offsets, which the flushed stores now reflect. `onlyChanged`: skip tasks with no write since.
   */
  private async checkpoint(onlyChanged: boolean): Promise<void> {
    const tasks = [...this.tasks.values()].filter((t) => t.persistentStores().some((s) => s.changed || !onlyChanged));
    if (tasks.length === 0) return;
    const logged = (t: StreamTask) => t.persistentStores().filter((s) => this.topology.stores.get(s.name)!.loggingEnabled);
    const tps = tasks.flatMap((t) => logged(t).map((s) => ({ topic: changelogTopic(this.config.applicationId, s.name), partition: t.partition })));
    const ends = tps.length > 0 ? await this.client!.admin.listOffsets(tps.map((tp) => ({ ...tp, timestamp: -1 }))) : [];
    for (const e of ends) if (e.error) throw e.error;
    for (const t of tasks) {
      for (const s of t.persistentStores()) {
        s.flush();
        s.changed = false;
      }
      const offsets = logged(t).map((s) => {
        const topic = changelogTopic(this.config.applicationId, s.name);
        return { topic, partition: t.partition, offset: ends.find((e) => e.topic === topic && e.partition === t.partition)!.offset };
      });
      writeCheckpoint(t.directory, offsets);
    }
  }

  /**
   * The group moved on (or another instance took the transactional.id): what this instance did since
   * its last commit may be redone elsewhere. Under exactly_once_v2 the open transaction is aborted and
   * every task's state is dropped, to be restored from the changelogs at the next assignment.
   */
  private async recoverFromFencing(): Promise<void> {
    this.out = [];
    if (this.config.exactlyOnce) {
      await this.producer!.abortTransaction().catch(() => undefined);
      await this.producer!.initTransactions();
      this.dropTasks([...this.tasks.keys()]);
    }
    this.member!.rebalanceNeeded = true;
  }

  private dropTasks(ids: string[]): void {
    for (const id of ids) {
      const t = this.tasks.get(id);
      if (!t) continue;
      t.close();
      this.tasks.delete(id);
      for (const [k, owner] of this.taskOfPartition) {
        if (owner === t) {
          this.taskOfPartition.delete(k);
          this.positions.delete(k);
          this.endOffsets.delete(k);
          this.buffered.delete(k);
        }
      }
    }
  }

  private async rebalance(): Promise<void> {
    this.setState('REBALANCING');
    if (this.tasks.size > 0) {
      try {
        await this.send();
        await this.commit();
      } catch (err) {
        if (!(err instanceof ProducerFencedError) && !isRebalanceError(err)) throw err;
        this.out = [];
        if (this.config.exactlyOnce) {
          await this.producer!.abortTransaction().catch(() => undefined);
          await this.producer!.initTransactions();
          this.dropTasks([...this.tasks.keys()]);
        }
      }
    }
    const assignment = await this.member!.join();
    const wanted = new Map<string, { sub: SubTopology; partition: number; tps: TopicPartition[] }>();
    for (const tp of assignment) {
      const sub = this.subOfTopic.get(tp.topic);
      if (!sub) continue;
      const id = `${sub.id}_${tp.partition}`;
      const w = wanted.get(id) ?? { sub, partition: tp.partition, tps: [] };
      w.tps.push(tp);
      wanted.set(id, w);
    }
    this.dropTasks([...this.tasks.keys()].filter((id) => !wanted.has(id)));
    // Partitions of a kept task may have changed too: rebuild its routing from the new assignment.
    for (const [id, w] of wanted) {
      let task = this.tasks.get(id);
      if (!task) {
        task = new StreamTask(this.topology, w.sub, w.partition, this.env, { send: (topic, key, value, timestamp, headers, partition) => this.out.push({ topic, key, value, timestamp, headers, partition }) });
        await this.restore(task);
        this.tasks.set(id, task);
      }
      for (const tp of w.tps) this.taskOfPartition.set(tpKey(tp.topic, tp.partition), task);
    }
    const fresh = assignment.filter((tp) => this.subOfTopic.has(tp.topic) && !this.positions.has(tpKey(tp.topic, tp.partition)));
    if (fresh.length > 0) {
      const committed = await this.client!.groups.fetchOffsets(this.config.applicationId, fresh);
      for (const tp of fresh) {
        const c = committed.find((x) => x.topic === tp.topic && x.partition === tp.partition);
        const offset = c && c.offset >= 0 ? c.offset : await this.resetOffset(tp);
        this.positions.set(tpKey(tp.topic, tp.partition), { topic: tp.topic, partition: tp.partition, offset });
      }
    }
    this.lastCommit = Date.now();
    this.setState('RUNNING');
  }

  /**
   * Replays each logged store's changelog partition (committed records only under exactly-once): a
   * persistent store from its task's checkpoint on (in full, after wiping it, without one); an
   * in-memory store in full.
   */
  private async restore(task: StreamTask): Promise<void> {
    const checkpoint = readCheckpoint(task.directory);
    for (const [name, store] of task.stores) {
      if (!this.topology.stores.get(name)!.loggingEnabled) continue;
      const tp = { topic: changelogTopic(this.config.applicationId, name), partition: task.partition };
      const isolationLevel = this.config.exactlyOnce ? 1 : 0;
      const [end] = await this.client!.admin.listOffsets([{ ...tp, timestamp: -1 }], { isolationLevel });
      if (end.error) throw end.error;
      let offset = 0;
      if (isPersistentStore(store)) {
        const from = checkpoint.get(`${tp.topic} ${tp.partition}`);
        // A checkpoint past the changelog's end: the topic was deleted and made again (a reset).
        if (from !== undefined && from <= end.offset) offset = from;
        else store.clear();
      }
      this.restoreListener?.onRestoreStart?.(tp, name, offset, end.offset);
      let restored = 0;
      while (offset < end.offset) {
        const [p] = await this.client!.fetch([{ ...tp, offset, maxBytes: 8 * 1024 * 1024 }], { maxWaitMs: 100, isolationLevel });
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE) {
          const [start] = await this.client!.admin.listOffsets([{ ...tp, timestamp: -2 }]);
          offset = start.offset;
          continue;
        }
        if (p.errorCode !== 0) {
          await this.client!.cluster.refresh([tp.topic]).catch(() => undefined);
          await sleep(100);
          continue;
        }
        let batch = 0;
        for (const r of p.records) {
          if (r.offset >= end.offset || !r.key) continue;
          store.putBytes(r.key, r.value, r.timestamp);
          batch++;
        }
        restored += batch;
        offset = p.nextOffset;
        this.restoreListener?.onBatchRestored?.(tp, name, offset, batch);
      }
      if (isPersistentStore(store)) {
        store.flush();
        store.changed = false;
      }
      this.restoreListener?.onRestoreEnd?.(tp, name, restored);
    }
    // Under exactly-once a store on disk may soon hold writes of a transaction that is then aborted:
    // without a checkpoint, a crash restores it in full; a clean close writes one again.
    if (this.config.exactlyOnce && task.persistentStores().length > 0) deleteCheckpoint(task.directory);
  }

  /**
   * A read-only view of a store over this instance's tasks (Kafka's interactive queries, local only):
   * a key-value view, or with QueryableStoreTypes.windowStore() / sessionStore() a window or session
   * store's (fetch, fetchAll, findSessions, ...).
   */
  store<K = any, V = any>(name: string, type?: QueryableStoreType<'keyValue'>): ReadOnlyKeyValueStore<K, V>;
  store<K = any, V = any>(name: string, type: QueryableStoreType<'window'>): ReadOnlyWindowStore<K, V>;
  store<K = any, V = any>(name: string, type: QueryableStoreType<'session'>): ReadOnlySessionStore<K, V>;
  store<K = any, V = any>(name: string, type: QueryableStoreType = QueryableStoreTypes.keyValueStore()): ReadOnlyKeyValueStore<K, V> | ReadOnlyWindowStore<K, V> | ReadOnlySessionStore<K, V> {
    if (!this.topology.stores.has(name)) throw new Error(`Cannot get state store ${name} because no such store is registered in the topology.`);
    if (this.currentState !== 'RUNNING') throw new Error(`KafkaStreams is not running. State is ${this.currentState}.`);
    const global = this.globals.stores.get(name);
    if (global && type.kind === 'keyValue') return global as ReadOnlyKeyValueStore<K, V>; // a GlobalKTable's store: all of it, on every instance
    const parts = () => [...this.tasks.values()].map((t) => t.stores.get(name)).filter((s) => s !== undefined);
    if (type.kind !== 'keyValue') {
      const windowed = () => parts() as IndexedWindowStore<K, V>[];
      const accepts = (s: unknown) => s instanceof IndexedWindowStore && s.layout === (type.kind === 'window' ? 'time' : 'session');
      if (global || !parts().every(accepts)) throw new Error(`Cannot get state store ${name} because the queryable store type [${type.kind}Store] does not accept the state store [${name}].`);
      return windowedView(windowed, type.kind);
    }
    return {
      get: (key: K) => {
        for (const s of parts()) {
          const v = s.get(key);
          if (v !== null) return v as V;
        }
        return null;
      },
      all: () => parts().flatMap((s) => s.all() as KeyValue<K, V>[]),
      range: (from: K | null, to: K | null) => parts().flatMap((s) => s.range(from, to) as KeyValue<K, V>[]),
      approximateNumEntries: () => parts().reduce((n, s) => n + s.approximateNumEntries(), 0),
    };
  }

  /** Commits, leaves the group (a dynamic member) and closes the connections. */
  async close(): Promise<void> {
    if (this.currentState === 'NOT_RUNNING') return;
    const failed = this.currentState === 'ERROR';
    this.closing = true;
    this.setState('PENDING_SHUTDOWN');
    await this.loop?.catch(() => undefined);
    if (!failed && this.member && this.tasks.size > 0) {
      try {
        await this.send();
        await this.commit();
        await this.checkpoint(false);
      } catch {
        await this.producer?.abortTransaction().catch(() => undefined);
      }
    }
    this.dropTasks([...this.tasks.keys()]);
    await this.member?.leave();
    this.client?.close();
    this.setState('NOT_RUNNING');
  }
}

/** Which view KafkaStreams#store gives (Kafka's QueryableStoreType). */
export interface QueryableStoreType<T extends 'keyValue' | 'window' | 'session' = 'keyValue' | 'window' | 'session'> {
  kind: T;
}

export const QueryableStoreTypes = {
  keyValueStore: (): QueryableStoreType<'keyValue'> => ({ kind: 'keyValue' }),
  windowStore: (): QueryableStoreType<'window'> => ({ kind: 'window' }),
  sessionStore: (): QueryableStoreType<'session'> => ({ kind: 'session' }),
};

/** One window or session store over several tasks' stores (a key lives in one task; fetchAll spans them all). */
function windowedView<K, V>(parts: () => IndexedWindowStore<K, V>[], kind: 'window' | 'session'): ReadOnlyWindowStore<K, V> | ReadOnlySessionStore<K, V> {
  const byStart = (a: KeyValue<number, V>, b: KeyValue<number, V>) => a.key - b.key;
  const byEnd = (a: KeyValue<Windowed<K>, V>, b: KeyValue<Windowed<K>, V>) => a.key.window.end - b.key.window.end || a.key.window.start - b.key.window.start;
  if (kind === 'session') {
    return {
      fetch: (key: K) => parts().flatMap((s) => s.fetch(key) as KeyValue<Windowed<K>, V>[]).sort(byEnd),
      findSessions: (key: K, earliestEnd: number, latestStart: number) => parts().flatMap((s) => s.findSessions(key, earliestEnd, latestStart)).sort(byEnd),
      fetchSession: (key: K, start: number, end: number) => parts().map((s) => s.fetchSession(key, start, end)).find((v) => v !== null) ?? null,
    };
  }
  function fetch(key: K, windowStart: number): V | null;
  function fetch(key: K, timeFrom: number, timeTo: number): KeyValue<number, V>[];
  function fetch(key: K, timeFrom: number, timeTo?: number): V | null | KeyValue<number, V>[] {
    if (timeTo === undefined) return parts().map((s) => s.fetch(key, timeFrom) as V | null).find((v) => v !== null) ?? null;
    return parts().flatMap((s) => s.fetch(key, timeFrom, timeTo) as KeyValue<number, V>[]).sort(byStart);
  }
  return {
    fetch,
    backwardFetch: (key: K, timeFrom: number, timeTo: number) => fetch(key, timeFrom, timeTo).reverse(),
    fetchAll: (timeFrom: number, timeTo: number) => parts().flatMap((s) => s.fetchAll(timeFrom, timeTo)),
    all: () => parts().flatMap((s) => s.fetchAll()),
  };
}

function isRebalanceError(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  return code === ErrorCode.REBALANCE_IN_PROGRESS || code === ErrorCode.ILLEGAL_GENERATION || code === ErrorCode.UNKNOWN_MEMBER_ID || code === ErrorCode.FENCED_INSTANCE_ID;
}
