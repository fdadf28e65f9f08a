// `kts connect-distributed worker.properties`: workers sharing group.id. Connector configs live in
// config.storage.topic, source offsets in offset.storage.topic, statuses in status.storage.topic
// (all compacted). The workers form a group (protocol type "connect"); its leader deals the
// connectors round-robin over the members (a connector and all its tasks go to one worker), and
// every rebalance is eager: each worker stops what it runs before it joins, then starts what it was
// given, so a connector never runs on two workers at once. A worker that dies is out of the group
// after session.timeout.ms and its connectors move to the others, resuming from the offsets topic
// (sources) or the group's committed offsets (sinks, whose static member id lets the new worker
// take the old one's place at once).
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import { parseProperties } from '../config/properties.js';
import { KafkaClient } from '../client/index.js';
import { ErrorCode } from '../protocol/index.js';
import { kafkaError } from '../client/errors.js';
import { KafkaLog } from './kafka-log.js';
import { FileOffsetStore, type ConnectorState } from './offset-store.js';
import { PluginRegistry } from './plugins.js';
import { parseListener, startRest, type RestServer } from './rest.js';
import { connectLog, StartupError } from './standalone.js';
import { raceTimeout } from '../util/timeout.js';
import { RestError, Worker, type ConnectorConfig } from './worker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Rejects after `ms` if `work` has not settled: a worker must not hang on a write to a broker that is gone. */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return raceTimeout(work, ms, () => {
    throw new Error(`no answer in ${ms} ms`);
  });
}

/** Source offsets kept in memory and written to the offsets topic, one record per connector. */
class TopicOffsetStore extends FileOffsetStore {
  log: KafkaLog | null = null;
  constructor() {
    super(null);
  }
  override save(connector?: string): Promise<void> {
    if (!connector || !this.log) return Promise.resolve();
    const state = this.connectors[connector];
    return this.log.send(connector, state ? JSON.stringify(state) : null);
  }
}

export class DistributedWorker {
  private readonly configs = new Map<string, ConnectorConfig>();
  private readonly statuses = new Map<string, object>();
  private readonly published = new Map<string, string>();
  private readonly owned = new Set<string>();
  private memberId = '';
  private generationId = -1;
  private rebalance = true;
  private stopped = false;
  private loopDone: Promise<void> | null = null;
  configLog!: KafkaLog;
  statusLog!: KafkaLog;
  offsetLog!: KafkaLog;

  constructor(
    readonly local: Worker,
    private readonly client: KafkaClient,
    private readonly store: TopicOffsetStore,
    private readonly groupId: string,
    private readonly url: string,
    private readonly timeouts: { sessionMs: number; rebalanceMs: number; heartbeatMs: number },
  ) {}

  get workerId(): string {
    return this.local.workerId;
  }

  onConfig(key: string, value: string | null): void {
    if (!key.startsWith('connector-')) return;
    const name = key.slice('connector-'.length);
    const before = JSON.stringify(this.configs.get(name) ?? null);
    if (value === null) this.configs.delete(name);
    else this.configs.set(name, JSON.parse(value) as ConnectorConfig);
    if (JSON.stringify(this.configs.get(name) ?? null) !== before) this.rebalance = true;
  }

  onStatus(key: string, value: string | null): void {
    if (!key.startsWith('status-')) return;
    const name = key.slice('status-'.length);
    if (this.owned.has(name)) return;
    if (value === null) this.statuses.delete(name);
    else this.statuses.set(name, JSON.parse(value) as object);
  }

  onOffset(key: string, value: string | null): void {
    // What this worker runs, it knows better than the log (its own writes come back later).
    if (this.owned.has(key)) return;
    this.store.load(key, value === null ? null : (JSON.parse(value) as ConnectorState));
  }

  start(): void {
    this.loopDone = this.loop();
  }

  private async loop(): Promise<void> {
    let lastPublish = 0;
    while (!this.stopped) {
      try {
        if (this.rebalance) {
          this.rebalance = false;
          await this.rejoin();
        }
        if (Date.now() - lastPublish > 1000) {
          lastPublish = Date.now();
          await this.publishStatuses();
        }
      } catch (err) {
        connectLog(`WARN worker group: ${(err as Error).message}; joining again`);
        this.rebalance = true;
        await sleep(500);
      }
      await sleep(100);
    }
  }

  private heartbeatTimer: NodeJS.Timeout | null = null;

  private startHeartbeat(): void {
    const beat = async (): Promise<void> => {
      if (this.stopped || this.rebalance) return;
      try {
        const code = await this.client.groups.heartbeat({ groupId: this.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null });
        if (code === ErrorCode.UNKNOWN_MEMBER_ID) this.memberId = '';
        if (code !== 0) this.rebalance = true;
      } catch {
        /* retried at the next beat */
      }
      if (!this.stopped && !this.rebalance) this.heartbeatTimer = setTimeout(beat, this.timeouts.heartbeatMs);
    };
    this.heartbeatTimer = setTimeout(beat, this.timeouts.heartbeatMs);
  }

  /** Eager rebalance: stop everything, join, sync, start what was assigned. */
  private async rejoin(): Promise<void> {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    for (const name of [...this.owned]) await this.release(name);
    for (let attempt = 0; ; attempt++) {
      const join = await this.client.groups.joinGroup({
        groupId: this.groupId,
        memberId: this.memberId,
        groupInstanceId: null,
        sessionTimeoutMs: this.timeouts.sessionMs,
        rebalanceTimeoutMs: this.timeouts.rebalanceMs,
        protocolType: 'connect',
        protocols: [{ name: 'kts-eager', metadata: Buffer.from(JSON.stringify({ url: this.url })) }],
      });
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED || join.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
        this.memberId = join.errorCode === ErrorCode.MEMBER_ID_REQUIRED ? join.memberId : '';
        continue;
      }
      if (join.errorCode === ErrorCode.REBALANCE_IN_PROGRESS && attempt < 20) continue;
      if (join.errorCode !== 0) throw kafkaError(join.errorCode);
      this.memberId = join.memberId;
      this.generationId = join.generationId;
      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (join.leader === join.memberId) {
        const members = join.members.map((m) => m.memberId).sort();
        const names = [...this.configs.keys()].sort();
        const plan = new Map(members.map((m) => [m, [] as string[]]));
        names.forEach((n, i) => plan.get(members[i % members.length])!.push(n));
        assignments = members.map((m) => ({ memberId: m, assignment: Buffer.from(JSON.stringify({ connectors: plan.get(m) })) }));
      }
      const sync = await this.client.groups.syncGroup(
        { groupId: this.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: null, protocolType: 'connect', protocolName: 'kts-eager' },
        assignments,
      );
      if ((sync.errorCode === ErrorCode.REBALANCE_IN_PROGRESS || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) && attempt < 20) continue;
      if (sync.errorCode !== 0) throw kafkaError(sync.errorCode);
      const { connectors } = JSON.parse(sync.assignment.toString() || '{"connectors":[]}') as { connectors: string[] };
      connectLog(`INFO Joined group ${this.groupId} (generation ${this.generationId}) and was assigned connectors [${connectors.join(', ')}]`);
      this.startHeartbeat();
      if (connectors.length > 0) await this.offsetLog.readToEnd();
      for (const name of connectors) await this.acquire(name);
      return;
    }
  }

  private async acquire(name: string): Promise<void> {
    const config = this.configs.get(name);
    if (!config) return;
    this.owned.add(name);
    await this.local.create(name, config).catch((err: unknown) => connectLog(`ERROR could not start connector ${name}: ${(err as Error).message}`));
  }

  /**
   * Stops a connector this worker ran. As Kafka's workers do, it then publishes the connector and its
   * tasks as UNASSIGNED, so no worker keeps reporting this one as the runner once it has let go;
   * and it forgets what it published, so taking the connector back later publishes again.
   */
  private async release(name: string): Promise<void> {
    type Status = { connector?: Record<string, unknown>; tasks?: Record<string, unknown>[] };
    let last: Status | null = null;
    try {
      last = this.local.status(name) as Status;
    } catch {
      /* never started: nothing to mark */
    }
    await this.local.delete(name).catch(() => undefined);
    this.owned.delete(name);
    this.published.delete(name);
    if (!last) return;
    const unassigned = (s: Record<string, unknown>) => ({ ...s, state: 'UNASSIGNED', trace: undefined });
    const status = { ...last, connector: last.connector && unassigned(last.connector), tasks: (last.tasks ?? []).map(unassigned) };
    const text = JSON.stringify(status);
    this.statuses.set(name, JSON.parse(text) as object);
    await withTimeout(this.statusLog.send(`status-${name}`, text), this.timeouts.heartbeatMs * 5).catch((err: unknown) =>
      connectLog(`WARN could not publish ${name} as UNASSIGNED: ${(err as Error).message}`),
    );
  }

  private async publishStatuses(): Promise<void> {
    for (const name of this.owned) {
      let text: string;
      try {
        text = JSON.stringify(this.local.status(name));
      } catch {
        continue;
      }
      if (this.published.get(name) === text) continue;
      this.published.set(name, text);
      this.statuses.set(name, JSON.parse(text) as object);
      await this.statusLog.send(`status-${name}`, text);
    }
  }

  // ---- what the REST API calls ----

  names(): string[] {
    return [...this.configs.keys()];
  }

  private configOf(name: string, notFound = `Connector ${name} not found`): ConnectorConfig {
    const c = this.configs.get(name);
    if (!c) throw new RestError(404, notFound);
    return c;
  }

  info(name: string): object {
    if (this.owned.has(name)) return this.local.info(name);
    const config = this.configOf(name);
    const status = this.statuses.get(name) as { tasks?: { id: number }[]; type?: string } | undefined;
    const type = this.local.plugin(config['connector.class'] ?? '')?.type ?? status?.type;
    return { name, config, tasks: (status?.tasks ?? []).map((t) => ({ connector: name, task: t.id })), type };
  }

  config(name: string): ConnectorConfig {
    return this.configOf(name);
  }

  status(name: string): object {
    if (this.owned.has(name)) return this.local.status(name);
    this.configOf(name, `No status found for connector ${name}`);
    const s = this.statuses.get(name);
    if (!s) throw new RestError(404, `No status found for connector ${name}`);
    return s;
  }

  taskStatus(name: string, id: number): object {
    if (this.owned.has(name)) return this.local.taskStatus(name, id);
    const t = ((this.status(name) as { tasks: { id: number }[] }).tasks ?? []).find((x) => x.id === id);
    if (!t) throw new RestError(404, `No status found for task ${name}-${id}`);
    return t;
  }

  private onOwner<T>(name: string, f: () => T): T {
    this.configOf(name, `Unknown connector ${name}`);
    if (!this.owned.has(name)) throw new RestError(409, 'Cannot complete request because of a conflicting operation (e.g. worker rebalance)');
    return f();
  }

  tasks(name: string): object[] {
    return this.onOwner(name, () => this.local.tasks(name));
  }

  offsets(name: string): object {
    this.configOf(name);
    return { offsets: this.store.offsets(name) };
  }

  validate(config: ConnectorConfig): ReturnType<Worker['validate']> {
    return this.local.validate(config);
  }

  private async writeConfig(name: string, config: ConnectorConfig | null): Promise<void> {
    await this.configLog.send(`connector-${name}`, config === null ? null : JSON.stringify(config));
    const want = JSON.stringify(config);
    for (let i = 0; i < 300 && JSON.stringify(this.configs.get(name) ?? null) !== want; i++) await sleep(50);
  }

  private checked(name: string, config: ConnectorConfig): ConnectorConfig {
    const full = { ...config, name };
    const { errors } = this.local.validate(full);
    if (errors.length > 0) {
      throw new RestError(400, `Connector configuration is invalid and contains the following ${errors.length} error(s):\n${errors.join('\n')}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``);
    }
    return full;
  }

  async create(name: string, config: ConnectorConfig): Promise<object> {
    if (this.configs.has(name)) throw new RestError(409, `Connector ${name} already exists`);
    const full = this.checked(name, config);
    await this.writeConfig(name, full);
    return { name, config: full, tasks: [], type: this.local.plugin(full['connector.class'])?.type };
  }

  async putConfig(name: string, config: ConnectorConfig): Promise<boolean> {
    const created = !this.configs.has(name);
    await this.writeConfig(name, this.checked(name, config));
    return created;
  }

  async delete(name: string): Promise<void> {
    this.configOf(name);
    await this.writeConfig(name, null);
    await this.statusLog.send(`status-${name}`, null);
  }

  pause(name: string): void {
    this.onOwner(name, () => this.local.pause(name));
  }
  resume(name: string): Promise<void> {
    return this.onOwner(name, () => this.local.resume(name));
  }
  stop(name: string): Promise<void> {
    return this.onOwner(name, () => this.local.stop(name));
  }
  restart(name: string, includeTasks: boolean, onlyFailed: boolean): ReturnType<Worker['restart']> {
    return this.onOwner(name, () => this.local.restart(name, includeTasks, onlyFailed));
  }
  restartTask(name: string, id: number): Promise<void> {
    return this.onOwner(name, () => this.local.restartTask(name, id));
  }
  plugin(cls: string): ReturnType<Worker['plugin']> {
    return this.local.plugin(cls);
  }
  pluginList(): ReturnType<Worker['pluginList']> {
    return this.local.pluginList();
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    await this.loopDone;
    for (const name of [...this.owned]) await this.release(name);
    if (this.memberId) await this.client.groups.leaveGroup(this.groupId, this.memberId, null).catch(() => undefined);
    for (const log of [this.configLog, this.statusLog, this.offsetLog]) log.stop();
  }
}

export async function startDistributed(workerFile: string): Promise<{ rest: RestServer; stop(): Promise<void> }> {
  const text = await readFile(workerFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new StartupError(`${workerFile}: ${err.code === 'ENOENT' ? 'No such file or directory' : err.message}`);
  });
  const props = parseProperties(text);
  for (const required of ['group.id', 'key.converter', 'value.converter', 'config.storage.topic', 'offset.storage.topic', 'status.storage.topic']) {
    if (!props.get(required)) throw new StartupError(`Missing required configuration "${required}" which has no default value.`);
  }
  const num = (key: string, dflt: number): number => {
    const v = props.get(key) ?? String(dflt);
    if (!/^-?\d+$/.test(v.trim())) throw new StartupError(`Invalid value ${v} for configuration ${key}: Not a number of type INT`);
    return Number(v);
  };
  const timeouts = { sessionMs: num('session.timeout.ms', 10000), rebalanceMs: num('rebalance.timeout.ms', 60000), heartbeatMs: num('heartbeat.interval.ms', 3000) };
  const listener = (props.get('listeners') ?? 'http://:8083').split(',')[0];
  const { host, port } = parseListener(listener);
  const plugins = new PluginRegistry();
  await plugins.load(props.get('plugin.path'), connectLog);
  const client = await KafkaClient.connect(props.get('bootstrap.servers') ?? 'localhost:9092', { clientId: 'connect-worker', bootstrapTimeoutMs: 60000 });
  const md = await client.metadata([]);
  const advertised = props.get('rest.advertised.host.name') || host || hostname();
  const store = new TopicOffsetStore();
  const local = new Worker({ workerConfig: props, client, store, plugins, workerId: `${advertised}:${port}`, log: connectLog });
  const herder = new DistributedWorker(local, client, store, props.get('group.id')!, `http://${advertised}:${port}`, timeouts);
  herder.configLog = new KafkaLog(client, props.get('config.storage.topic')!, (k, v) => herder.onConfig(k, v));
  herder.statusLog = new KafkaLog(client, props.get('status.storage.topic')!, (k, v) => herder.onStatus(k, v));
  herder.offsetLog = new KafkaLog(client, props.get('offset.storage.topic')!, (k, v) => herder.onOffset(k, v));
  store.log = herder.offsetLog;
  const rf: Record<string, number> = {
    [herder.configLog.topic]: num('config.storage.replication.factor', -1),
    [herder.statusLog.topic]: num('status.storage.replication.factor', -1),
    [herder.offsetLog.topic]: num('offset.storage.replication.factor', -1),
  };
  for (const log of [herder.configLog, herder.statusLog, herder.offsetLog]) {
    await log.ensureTopic(rf[log.topic]);
    await log.readToEnd();
    log.tail();
  }
  let rest: RestServer;
  try {
    rest = await startRest(herder as unknown as Worker, listener, md.clusterId, connectLog);
  } catch (err) {
    client.close();
    throw new StartupError(`Could not start the REST server on ${listener}: ${(err as Error).message}`);
  }
  herder.start();
  connectLog(`INFO Kafka Connect distributed worker ${local.workerId} started (group ${props.get('group.id')}, REST server on port ${rest.port})`);
  return {
    rest,
    stop: async () => {
      await herder.shutdown();
      await rest.close();
      client.close();
    },
  };
}
