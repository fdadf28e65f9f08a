// A Connect worker's connectors and tasks: create, reconfigure, pause, resume, restart, delete, and
// the status, info and task shapes the REST API returns. Standalone mode: configs live in memory
// (the command line's connector files are created at start), source offsets in the offsets file.
import type { KafkaClient } from '../client/index.js';
import type { Connector, ConnectorClass, ConfigDef, SinkTask, SourceTask } from './api.js';
import { createConverter, ConfigException, type Converter } from './converters.js';
import type { FileOffsetStore } from './offset-store.js';
import type { PluginInfo, PluginRegistry } from './plugins.js';
import { SinkTaskRunner } from './sink-runner.js';
import { SourceTaskRunner } from './source-runner.js';
import type { TaskRunner } from './task-runner.js';
import { buildChain } from './transforms.js';
import { javaHashMapOrder } from '../cli/java-hash-order.js';

/** An error the REST API answers with its status code (Kafka's ConnectRestException). */
export class RestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export type ConnectorConfig = Record<string, string>;

interface TaskEntry {
  id: number;
  config: Record<string, string>;
  runner: TaskRunner;
}

interface ConnectorEntry {
  name: string;
  config: ConnectorConfig;
  plugin: PluginInfo;
  instance: Connector | null;
  state: 'RUNNING' | 'PAUSED' | 'FAILED' | 'STOPPED' | 'UNASSIGNED';
  trace: string | null;
  target: 'STARTED' | 'PAUSED' | 'STOPPED';
  tasks: TaskEntry[];
}

export interface WorkerOptions {
  workerConfig: Map<string, string>;
  client: KafkaClient;
  store: FileOffsetStore;
  plugins: PluginRegistry;
  workerId: string;
  log(line: string): void;
}

/** A map as Kafka's JSON shows a HashMap<String, ...> it built: keys in Java's iteration order. */
export function hashOrdered<V>(m: Record<string, V>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of javaHashMapOrder(Object.keys(m), 16)) out[k] = m[k];
  return out;
}

export class Worker {
  private readonly connectors = new Map<string, ConnectorEntry>();

  constructor(private readonly opts: WorkerOptions) {}

  get workerId(): string {
    return this.opts.workerId;
  }

  names(): string[] {
    return [...this.connectors.keys()];
  }

  /** The connector, or Kafka's 404 (its wording differs by call: `Connector x not found`, `No status found for connector x`, ...). */
  private entry(name: string, notFound = `Connector ${name} not found`): ConnectorEntry {
    const e = this.connectors.get(name);
    if (!e) throw new RestError(404, notFound);
    return e;
  }

  /** The plugin for a config, and every problem Kafka's validation would report. */
  validate(config: ConnectorConfig): { plugin: PluginInfo; errors: string[] } {
    const cls = config['connector.class'];
    // Kafka Connect 4.4's words (up to 4.3 the message quoted the config).
    if (!cls) throw new RestError(400, 'Connector config contains no connector type');
    const plugin = this.opts.plugins.find(cls);
    if (!plugin) {
      throw new RestError(
        500,
        `Failed to find any class that implements Connector and which name matches ${cls}, available connectors are: ${this.opts.plugins.plugins.map((p) => `PluginDesc{klass=class ${p.className}, name='${p.className}', version='${p.version}', encodedVersion=${p.version}, type=${p.type}, typeName='${p.type}', location='classpath'}`).join(', ')}`,
      );
    }
    const errors: string[] = [];
    const tasksMax = config['tasks.max'] ?? '1';
    if (!/^-?\d+$/.test(tasksMax.trim())) errors.push(`Invalid value ${tasksMax} for configuration tasks.max: Not a number of type INT`);
    else if (Number(tasksMax) < 1) errors.push(`Invalid value ${tasksMax} for configuration tasks.max: Value must be at least 1`);
    if (plugin.type === 'sink') {
      const topics = (config.topics ?? '').trim();
      const regex = (config['topics.regex'] ?? '').trim();
      if (!topics && !regex) errors.push('Must configure one of topics or topics.regex');
      if (topics && regex) errors.push('topics and topics.regex are mutually exclusive options, but both are set.');
    }
    errors.push(...checkConfigDef(new plugin.cls().config(), config));
    try {
      buildChain(config);
    } catch (err) {
      errors.push((err as Error).message);
    }
    return { plugin, errors };
  }

  async create(name: string, config: ConnectorConfig): Promise<object> {
    if (this.connectors.has(name)) throw new RestError(409, `Connector ${name} already exists`);
    await this.start(name, { ...config, name });
    return this.info(name);
  }

  /** PUT /connectors/{name}/config: true when the connector is new. */
  async putConfig(name: string, config: ConnectorConfig): Promise<boolean> {
    const existed = this.connectors.has(name);
    const full = { ...config, name };
    this.validateOrThrow(full);
    if (existed) await this.stopConnector(this.entry(name));
    const target = existed ? this.entry(name).target : 'STARTED';
    this.connectors.delete(name);
    await this.start(name, full, target);
    return !existed;
  }

  private validateOrThrow(config: ConnectorConfig): PluginInfo {
    const { plugin, errors } = this.validate(config);
    if (errors.length > 0) {
      throw new RestError(
        400,
        `Connector configuration is invalid and contains the following ${errors.length} error(s):\n${errors.join('\n')}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``,
      );
    }
    return plugin;
  }

  private async start(name: string, config: ConnectorConfig, target: ConnectorEntry['target'] = 'STARTED'): Promise<void> {
    const plugin = this.validateOrThrow(config);
    const entry: ConnectorEntry = { name, config, plugin, instance: null, state: 'UNASSIGNED', trace: null, target, tasks: [] };
    this.connectors.set(name, entry);
    if (target === 'STOPPED') {
      entry.state = 'STOPPED';
      return;
    }
    await this.startConnector(entry);
  }

  private async startConnector(entry: ConnectorEntry): Promise<void> {
    try {
      const instance = new entry.plugin.cls();
      entry.instance = instance;
      await instance.start(entry.config, {
        requestTaskReconfiguration: () => void this.restart(entry.name, true, false).done.catch(() => undefined),
        raiseError: (err) => {
          entry.state = 'FAILED';
          entry.trace = err.stack ?? String(err);
        },
      });
      entry.state = entry.target === 'PAUSED' ? 'PAUSED' : 'RUNNING';
      entry.trace = null;
      const maxTasks = Number(entry.config['tasks.max'] ?? '1');
      const configs = await instance.taskConfigs(maxTasks);
      const taskClass = instance.taskClass() as (new () => SourceTask | SinkTask) & { className?: string };
      entry.tasks = configs.slice(0, maxTasks).map((c, id) => {
        const taskConfig = hashOrdered({ ...c, 'task.class': taskClass.className ?? taskClass.name });
        return { id, config: taskConfig, runner: this.newRunner(entry, id, taskConfig, taskClass) };
      });
      for (const t of entry.tasks) t.runner.start(entry.target === 'PAUSED');
    } catch (err) {
      entry.state = 'FAILED';
      entry.trace = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.opts.log(`ERROR Failed to start connector ${entry.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private converter(config: ConnectorConfig, which: 'key' | 'value'): Converter {
    const k = `${which}.converter`;
    const fromConnector = config[k] !== undefined;
    const source = fromConnector ? new Map(Object.entries(config)) : this.opts.workerConfig;
    const cls = source.get(k);
    if (!cls) throw new ConfigException(`Missing required configuration "${k}" which has no default value.`);
    const props: Record<string, string> = {};
    for (const [key, v] of source) if (key.startsWith(`${k}.`)) props[key.slice(k.length + 1)] = v;
    return createConverter(cls, props, which === 'key');
  }

  private newRunner(entry: ConnectorEntry, id: number, config: Record<string, string>, taskClass: new () => SourceTask | SinkTask): TaskRunner {
    const base = {
      connector: entry.name,
      taskId: id,
      config,
      log: this.opts.log,
      keyConverter: this.converter(entry.config, 'key'),
      valueConverter: this.converter(entry.config, 'value'),
      transform: buildChain(entry.config),
    };
    if (entry.plugin.type === 'source') {
      return new SourceTaskRunner(new taskClass() as SourceTask, { ...base, cluster: this.opts.client.cluster, store: this.opts.store });
    }
    const flushIntervalMs = Number(this.opts.workerConfig.get('offset.flush.interval.ms') ?? '60000');
    return new SinkTaskRunner(new taskClass() as SinkTask, { ...base, config: { ...config, topics: entry.config.topics ?? '', 'topics.regex': entry.config['topics.regex'] ?? '' }, client: this.opts.client, flushIntervalMs, groupInstanceId: `connect-${entry.name}-${id}` });
  }

  private async stopConnector(entry: ConnectorEntry): Promise<void> {
    await Promise.all(entry.tasks.map((t) => t.runner.stop()));
    entry.tasks = [];
    await Promise.resolve(entry.instance?.stop()).catch(() => undefined);
    entry.instance = null;
  }

  info(name: string): object {
    const e = this.entry(name);
    return { name, config: e.config, tasks: e.tasks.map((t) => ({ connector: name, task: t.id })), type: e.plugin.type };
  }

  config(name: string): ConnectorConfig {
    return this.entry(name).config;
  }

  status(name: string): object {
    const e = this.entry(name, `No status found for connector ${name}`);
    const connector: Record<string, string> = { state: e.state, worker_id: this.workerId, version: e.plugin.version };
    if (e.state === 'FAILED' && e.trace) connector.trace = e.trace;
    return { name, connector, tasks: e.tasks.map((t) => this.taskStatusOf(e, t)), type: e.plugin.type };
  }

  private taskStatusOf(e: ConnectorEntry, t: TaskEntry): object {
    const s: Record<string, unknown> = { id: t.id, state: t.runner.state, worker_id: this.workerId, version: e.plugin.version };
    if (t.runner.state === 'FAILED' && t.runner.trace) s.trace = t.runner.trace;
    return s;
  }

  taskStatus(name: string, id: number): object {
    const e = this.entry(name, `No status found for task ${name}-${id}`);
    const t = e.tasks.find((x) => x.id === id);
    if (!t) throw new RestError(404, `No status found for task ${name}-${id}`);
    return this.taskStatusOf(e, t);
  }

  tasks(name: string): object[] {
    return this.entry(name).tasks.map((t) => ({ id: { connector: name, task: t.id }, config: t.config }));
  }

  offsets(name: string): object {
    const e = this.entry(name);
    if (e.plugin.type === 'sink') return { offsets: [] };
    return { offsets: this.opts.store.offsets(name) };
  }

  pause(name: string): void {
    const e = this.entry(name, `Unknown connector ${name}`);
    e.target = 'PAUSED';
    if (e.state === 'RUNNING') e.state = 'PAUSED';
    for (const t of e.tasks) t.runner.pause();
  }

  async resume(name: string): Promise<void> {
    const e = this.entry(name, `Unknown connector ${name}`);
    const wasStopped = e.target === 'STOPPED';
    e.target = 'STARTED';
    if (wasStopped) {
      await this.startConnector(e);
      return;
    }
    if (e.state === 'PAUSED') e.state = 'RUNNING';
    for (const t of e.tasks) t.runner.resume();
  }

  async stop(name: string): Promise<void> {
    const e = this.entry(name, `Unknown connector ${name}`);
    e.target = 'STOPPED';
    await this.stopConnector(e);
    e.state = 'STOPPED';
  }

  /** PUT /connectors/{name}/stop then resume: a stopped connector has no tasks until it starts again. */

  /**
   * POST /connectors/{name}/restart: the connector and, with includeTasks, its tasks (only the
   * failed ones with onlyFailed). Resolves with Kafka's answer, the plan: what restarts shows
   * RESTARTING. The restart itself goes on after the answer.
   */
  restart(name: string, includeTasks: boolean, onlyFailed: boolean): { plan: object; done: Promise<void> } {
    const e = this.entry(name, `Unknown connector: ${name}`);
    const connectorToo = !onlyFailed || e.state === 'FAILED';
    const tasks = includeTasks ? e.tasks.filter((t) => !onlyFailed || t.runner.state === 'FAILED') : [];
    const status = this.status(name) as { connector: Record<string, string>; tasks: Record<string, unknown>[] };
    // As Kafka's: the state of what restarts reads RESTARTING (a trace it had stays).
    if (connectorToo) status.connector.state = 'RESTARTING';
    for (const t of status.tasks) if (tasks.some((x) => x.id === t.id)) t.state = 'RESTARTING';
    const done = (async () => {
      if (connectorToo && tasks.length === e.tasks.length) {
        await this.stopConnector(e);
        await this.startConnector(e);
        return;
      }
      if (connectorToo && e.instance) {
        await Promise.resolve(e.instance.stop()).catch(() => undefined);
        try {
          await e.instance.start(e.config, { requestTaskReconfiguration: () => undefined, raiseError: () => undefined });
          e.state = e.target === 'PAUSED' ? 'PAUSED' : 'RUNNING';
          e.trace = null;
        } catch (err) {
          e.state = 'FAILED';
          e.trace = (err as Error).stack ?? String(err);
        }
      }
      for (const t of tasks) await this.restartTask(name, t.id);
    })();
    return { plan: status, done };
  }

  async restartTask(name: string, id: number): Promise<void> {
    const e = this.entry(name);
    const t = e.tasks.find((x) => x.id === id);
    if (!t) throw new RestError(404, `Task ${name}-${id} not found`);
    await t.runner.stop();
    const taskClass = e.instance!.taskClass() as new () => SourceTask | SinkTask;
    t.runner = this.newRunner(e, id, t.config, taskClass);
    t.runner.start(e.target === 'PAUSED');
  }

  async delete(name: string): Promise<void> {
    const e = this.entry(name);
    await this.stopConnector(e);
    this.connectors.delete(name);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.connectors.values()].map((e) => this.stopConnector(e)));
  }

  plugin(cls: string): PluginInfo | undefined {
    return this.opts.plugins.find(cls);
  }

  pluginList(): PluginInfo[] {
    return this.opts.plugins.plugins;
  }
}

/** Kafka's ConfigDef checks: required keys, types, allowed values, bounds, the key's own check. */
export function checkConfigDef(def: ConfigDef, config: Record<string, string>): string[] {
  const errors: string[] = [];
  for (const [name, k] of Object.entries(def)) {
    const raw = config[name];
    if (raw === undefined) {
      if (!('default' in k)) errors.push(`Missing required configuration "${name}" which has no default value.`);
      continue;
    }
    const v = raw.trim();
    let parsed: unknown = v;
    if (k.type === 'int' || k.type === 'long') {
      if (!/^-?\d+$/.test(v)) {
        errors.push(`Invalid value ${raw} for configuration ${name}: Not a number of type ${k.type.toUpperCase()}`);
        continue;
      }
      parsed = Number(v);
    } else if (k.type === 'double') {
      if (v === '' || Number.isNaN(Number(v))) {
        errors.push(`Invalid value ${raw} for configuration ${name}: Not a number of type DOUBLE`);
        continue;
      }
      parsed = Number(v);
    } else if (k.type === 'boolean') {
      if (!/^(true|false)$/i.test(v)) {
        errors.push(`Invalid value ${raw} for configuration ${name}: Expected value to be either true or false`);
        continue;
      }
      parsed = v.toLowerCase() === 'true';
    } else if (k.type === 'list') parsed = v === '' ? [] : v.split(',').map((s) => s.trim());
    if (k.min !== undefined && typeof parsed === 'number' && parsed < k.min) errors.push(`Invalid value ${raw} for configuration ${name}: Value must be at least ${k.min}`);
    if (k.max !== undefined && typeof parsed === 'number' && parsed > k.max) errors.push(`Invalid value ${raw} for configuration ${name}: Value must be no more than ${k.max}`);
    if (k.in && !k.in.includes(v)) errors.push(`Invalid value ${raw} for configuration ${name}: String must be one of: ${k.in.join(', ')}`);
    const own = k.validate?.(parsed);
    if (own) errors.push(own.startsWith('Invalid value') || own.startsWith("'") ? own : `Invalid value ${raw} for configuration ${name}: ${own}`);
  }
  return errors;
}

export type { ConnectorClass };
