// The worker's REST API on `listeners` (Kafka's ConnectorsResource, ConnectorPluginsResource and
// RootResource): the same paths, status codes and JSON shapes, errors as
// {"error_code": <status>, "message": "..."}.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { javaHashMapOrder } from '../cli/java-hash-order.js';
import { RestError, type Worker } from './worker.js';
import { KTS_CONNECT_VERSION } from './version.js';

const MAX_BODY = 1024 * 1024;

export interface RestServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export function parseListener(listener: string): { host: string; port: number } {
  const m = /^(https?):\/\/(\[[^\]]*\]|[^:/]*):(\d+)\/?$/i.exec(listener.trim());
  if (!m) throw new Error(`Invalid value ${listener} for configuration listeners: expected http://host:port`);
  if (m[1].toLowerCase() !== 'http') throw new Error('kts connect serves http listeners only (https: not supported)');
  return { host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]) };
}

export async function startRest(worker: Worker, listener: string, clusterId: string | null, log: (l: string) => void): Promise<RestServer> {
  const { host, port } = parseListener(listener);
  const server = createServer((req, res) => {
    handle(worker, clusterId, req, res).catch((err: unknown) => {
      const status = err instanceof RestError ? err.status : 500;
      if (status === 500) log(`ERROR Uncaught exception in REST call to ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      send(res, status, { error_code: status, message: (err as Error)?.message ?? String(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => resolve());
  });
  const addr = server.address();
  return {
    server,
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent) return;
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new RestError(400, 'Request body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RestError(400, `Cannot deserialize JSON: ${(err as Error).message}`);
  }
}

function asConfig(v: unknown): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RestError(400, 'Connector configuration must be a JSON object');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) out[k] = val === null ? '' : typeof val === 'string' ? val : JSON.stringify(val);
  return out;
}

const NOT_FOUND = () => new RestError(404, 'HTTP 404 Not Found');
const NOT_ALLOWED = () => new RestError(405, 'HTTP 405 Method Not Allowed');

async function handle(worker: Worker, clusterId: string | null, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  const q = url.searchParams;

  if (parts.length === 0) {
    if (method !== 'GET') throw NOT_ALLOWED();
    return send(res, 200, { version: KTS_CONNECT_VERSION, commit: 'kts', kafka_cluster_id: clusterId });
  }
  if (parts[0] === 'connector-plugins') return plugins(worker, parts.slice(1), method, q, req, res);
  if (parts[0] !== 'connectors') throw NOT_FOUND();

  if (parts.length === 1) {
    if (method === 'GET') {
      const expand = q.getAll('expand');
      if (expand.length === 0) return send(res, 200, worker.names());
      const out: Record<string, Record<string, unknown>> = {};
      for (const name of javaHashMapOrder(worker.names(), 16)) {
        out[name] = {};
        if (expand.includes('status')) out[name].status = worker.status(name);
        if (expand.includes('info')) out[name].info = worker.info(name);
      }
      return send(res, 200, out);
    }
    if (method === 'POST') {
      const body = (await readJson(req)) as { name?: unknown; config?: unknown } | null;
      const config = asConfig(body?.config ?? {});
      const name = typeof body?.name === 'string' ? body.name : config.name;
      if (!name || !name.trim()) throw new RestError(400, 'Connector name must not be empty');
      if (config.name !== undefined && config.name !== name) {
        throw new RestError(400, `Connector name configuration (${config.name}) doesn't match connector name in the URL (${name})`);
      }
      const info = await worker.create(name, config);
      res.setHeader('Location', `/connectors/${encodeURIComponent(name)}`);
      return send(res, 201, info);
    }
    throw NOT_ALLOWED();
  }

  const name = parts[1];
  const rest = parts.slice(2);
  const sub = rest[0];
  if (rest.length === 0) {
    if (method === 'GET') return send(res, 200, worker.info(name));
    if (method === 'DELETE') {
      await worker.delete(name);
      return send(res, 204);
    }
    throw NOT_ALLOWED();
  }
  if (sub === 'config' && rest.length === 1) {
    if (method === 'GET') return send(res, 200, worker.config(name));
    if (method === 'PUT') {
      const config = asConfig(await readJson(req));
      if (config.name !== undefined && config.name !== name) {
        throw new RestError(400, `Connector name configuration (${config.name}) doesn't match connector name in the URL (${name})`);
      }
      const created = await worker.putConfig(name, config);
      if (created) res.setHeader('Location', `/connectors/${encodeURIComponent(name)}`);
      return send(res, created ? 201 : 200, worker.info(name));
    }
    throw NOT_ALLOWED();
  }
  if (sub === 'status' && rest.length === 1 && method === 'GET') return send(res, 200, worker.status(name));
  if (sub === 'offsets' && rest.length === 1 && method === 'GET') return send(res, 200, worker.offsets(name));
  if (sub === 'pause' && rest.length === 1 && method === 'PUT') {
    worker.pause(name);
    return send(res, 202);
  }
  if (sub === 'resume' && rest.length === 1 && method === 'PUT') {
    await worker.resume(name);
    return send(res, 202);
  }
  if (sub === 'stop' && rest.length === 1 && method === 'PUT') {
    await worker.stop(name);
    return send(res, 204);
  }
  if (sub === 'restart' && rest.length === 1 && method === 'POST') {
    const includeTasks = q.get('includeTasks') === 'true';
    const onlyFailed = q.get('onlyFailed') === 'true';
    const { plan, done } = worker.restart(name, includeTasks, onlyFailed);
    if (!includeTasks && !onlyFailed) {
      await done;
      return send(res, 204);
    }
    done.catch(() => undefined);
    return send(res, 202, plan);
  }
  if (sub === 'tasks') {
    if (rest.length === 1 && method === 'GET') return send(res, 200, worker.tasks(name));
    const id = Number(rest[1]);
    if (!Number.isInteger(id)) throw NOT_FOUND();
    if (rest.length === 3 && rest[2] === 'status' && method === 'GET') {
      worker.info(name);
      return send(res, 200, worker.taskStatus(name, id));
    }
    if (rest.length === 3 && rest[2] === 'restart' && method === 'POST') {
      await worker.restartTask(name, id);
      return send(res, 204);
    }
  }
  if (['status', 'offsets', 'pause', 'resume', 'stop', 'restart', 'tasks'].includes(sub)) throw NOT_ALLOWED();
  throw NOT_FOUND();
}

async function plugins(worker: Worker, parts: string[], method: string, q: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (parts.length === 0) {
    if (method !== 'GET') throw NOT_ALLOWED();
    // connectorsOnly=false would add converters and transforms; kts lists its connectors either way.
    void q;
    return send(res, 200, worker.pluginList().map((p) => ({ class: p.className, type: p.type, version: p.version })));
  }
  if (parts.length === 3 && parts[1] === 'config' && parts[2] === 'validate' && method === 'PUT') {
    const config = asConfig(await readJson(req));
    const plugin = worker.plugin(parts[0]);
    if (!plugin) throw new RestError(404, `Unknown plugin ${parts[0]}.`);
    const { errors } = worker.validate({ ...config, 'connector.class': config['connector.class'] ?? plugin.className });
    return send(res, 200, { name: plugin.className, error_count: errors.length, groups: [], configs: errors.map((message) => ({ value: { errors: [message] } })) });
  }
  throw NOT_FOUND();
}
