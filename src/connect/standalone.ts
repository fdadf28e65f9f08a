// `kts connect-standalone worker.properties [connector.properties|connector.json ...]`: Kafka's
// ConnectStandalone. Reads the worker config (Kafka's keys), connects to the cluster with kts's own
// client, loads plugins, serves the REST API on `listeners` and creates the connectors named on the
// command line. SIGINT/SIGTERM stop the tasks (sinks commit what they wrote) and exit 0.
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import { parseProperties } from '../config/properties.js';
import { KafkaClient } from '../client/index.js';
import { log4jTimestamp } from '../cli/log.js';
import { FileOffsetStore } from './offset-store.js';
import { PluginRegistry } from './plugins.js';
import { parseListener, startRest, type RestServer } from './rest.js';
import { Worker } from './worker.js';

export class StartupError extends Error {}

export function connectLog(line: string): void {
  const [level, ...rest] = line.split(' ');
  const known = level === 'INFO' || level === 'WARN' || level === 'ERROR';
  process.stdout.write(`[${log4jTimestamp()}] ${known ? level : 'INFO'} ${known ? rest.join(' ') : line}\n`);
}

/** A connector file: Kafka's properties, or JSON ({"name", "config"} or the config itself). */
export async function readConnectorFile(path: string): Promise<{ name: string; config: Record<string, string> }> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new StartupError(`${path}: ${err.code === 'ENOENT' ? 'No such file or directory' : err.message}`);
  });
  let config: Record<string, string>;
  if (path.endsWith('.json')) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new StartupError(`${path}: not valid JSON: ${(err as Error).message}`);
    }
    const raw = (parsed.config && typeof parsed.config === 'object' ? parsed.config : parsed) as Record<string, unknown>;
    config = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    if (typeof parsed.name === 'string') config.name = parsed.name;
  } else config = Object.fromEntries(parseProperties(text));
  if (!config.name) throw new StartupError(`${path}: Connector config must contain a "name"`);
  return { name: config.name, config };
}

export interface StandaloneHandle {
  worker: Worker;
  rest: RestServer;
  stop(): Promise<void>;
}

export async function startStandalone(workerFile: string, connectorFiles: string[]): Promise<StandaloneHandle> {
  const text = await readFile(workerFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new StartupError(`${workerFile}: ${err.code === 'ENOENT' ? 'No such file or directory' : err.message}`);
  });
  const props = parseProperties(text);
  for (const required of ['key.converter', 'value.converter', 'offset.storage.file.filename']) {
    if (!props.get(required)) throw new StartupError(`Missing required configuration "${required}" which has no default value.`);
  }
  const flush = props.get('offset.flush.interval.ms') ?? '60000';
  if (!/^\d+$/.test(flush.trim())) throw new StartupError(`Invalid value ${flush} for configuration offset.flush.interval.ms: Not a number of type LONG`);
  const listener = (props.get('listeners') ?? 'http://:8083').split(',')[0];
  const { host, port } = parseListener(listener);
  const connectors = await Promise.all(connectorFiles.map(readConnectorFile));

  const store = new FileOffsetStore(props.get('offset.storage.file.filename')!);
  const plugins = new PluginRegistry();
  await plugins.load(props.get('plugin.path'), connectLog);
  const bootstrap = props.get('bootstrap.servers') ?? 'localhost:9092';
  const client = await KafkaClient.connect(bootstrap, { clientId: 'connect-worker', bootstrapTimeoutMs: 60000 });
  const md = await client.metadata([]);
  const advertised = props.get('rest.advertised.host.name') || host || hostname();
  let worker: Worker | null = null;
  let rest: RestServer;
  try {
    const w = new Worker({ workerConfig: props, client, store, plugins, workerId: `${advertised}:${port}`, log: connectLog });
    worker = w;
    rest = await startRest(w, listener, md.clusterId, connectLog);
  } catch (err) {
    client.close();
    throw new StartupError(`Could not start the REST server on ${listener}: ${(err as Error).message}`);
  }
  const w = worker;
  connectLog(`INFO Kafka Connect worker ${w.workerId} started (REST server on port ${rest.port}, cluster ${md.clusterId})`);
  for (const c of connectors) {
    await w.create(c.name, c.config);
    connectLog(`INFO Created connector ${c.name}`);
  }
  return {
    worker: w,
    rest,
    stop: async () => {
      await w.stopAll();
      await rest.close();
      client.close();
    },
  };
}
