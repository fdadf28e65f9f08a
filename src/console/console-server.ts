// `kts console`: an HTTP server on loopback that serves the page (index.html, app.js, style.css from
// the package's dist/console/, no network access) and a JSON API over kts's own client. The page is
// served at once; the client connects on the first API call (and again after a failure), so the
// console starts even while the cluster is down and says so on the page.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { KafkaClient } from '../client/index.js';
import type { ClientSecurity } from '../client/connection.js';
// The client and the API are loaded on the first API call: the page is served before they are needed.
type Api = typeof import('./console-api.js');
let apiModule: Promise<Api> | undefined;
const loadApi = () => (apiModule ??= import('./console-api.js'));

export interface ConsoleOptions {
  bootstrap: string;
  /** TLS and SASL settings for the cluster (from a profile); none: PLAINTEXT. */
  security?: ClientSecurity;
  host?: string;
  port?: number;
  /** Where index.html, app.js and style.css are (default: dist/console next to the bundle). */
  assetsDir?: URL;
}

export interface ConsoleServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const ASSETS: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/chart.js': 'chart.js',
  '/style.css': 'style.css',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
/** Request bodies the page sends are small (one message to produce). */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export async function startConsole(opts: ConsoleOptions): Promise<ConsoleServer> {
  // The bundle puts this module in dist/chunks/ (or dist/ itself); the page is in dist/console/.
  const assetsDir = opts.assetsDir ?? new URL(import.meta.url.includes('/chunks/') ? '../console/' : './console/', import.meta.url);
  const files = new Map<string, Buffer>();
  await Promise.all(
    [...new Set(Object.values(ASSETS))].map(async (name) => {
      try {
        files.set(name, await readFile(new URL(name, assetsDir)));
      } catch (err) {
        throw new Error(`The console's page is missing from this build (${new URL(name, assetsDir).pathname}): ${(err as Error).message}`);
      }
    }),
  );
  let client: Promise<KafkaClient> | undefined;
  const connected = () =>
    (client ??= import('../client/index.js').then(({ KafkaClient }) => KafkaClient.connect(opts.bootstrap, { clientId: 'kts-console', bootstrapTimeoutMs: 5000, security: opts.security })).catch((err) => {
      client = undefined;
      throw err;
    }));

  const server = createServer((req, res) => {
    handle(req, res, files, connected).catch((err) => sendJson(res, 500, { error: (err as Error).message }));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port ?? 9021 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    port,
    close: () => closeServer(server, client),
  };
}

async function closeServer(server: Server, client: Promise<KafkaClient> | undefined): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  (await client?.catch(() => undefined))?.close();
}

async function handle(req: IncomingMessage, res: ServerResponse, files: Map<string, Buffer>, connected: () => Promise<KafkaClient>): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://console');
  const asset = ASSETS[url.pathname];
  if (asset && req.method === 'GET') {
    const body = files.get(asset)!;
    res.writeHead(200, {
      'content-type': TYPES[asset.split('.').pop()!],
      'content-length': body.length,
      'cache-control': 'no-cache',
      // The page loads nothing from elsewhere, and nobody else's page may frame it.
      'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    });
    res.end(body);
    return;
  }
  if (!url.pathname.startsWith('/api/')) {
    sendJson(res, 404, { error: `Not found: ${url.pathname}` });
    return;
  }
  // A page on another origin must not drive the cluster through this server (it binds loopback, but
  // a browser visiting a hostile site can still reach loopback): state-changing calls need JSON,
  // which a cross-origin form cannot send without a CORS preflight this server never answers.
  if (req.method !== 'GET' && !(req.headers['content-type'] ?? '').startsWith('application/json')) {
    sendJson(res, 415, { error: 'Send JSON (content-type: application/json)' });
    return;
  }
  const api = await loadApi();
  try {
    const body = req.method === 'GET' ? {} : await readJson(req, api);
    const result = await route(api, req.method ?? 'GET', url, body, connected);
    if (result === undefined) sendJson(res, 404, { error: `No such API: ${req.method} ${url.pathname}` });
    else sendJson(res, 200, result);
  } catch (err) {
    sendJson(res, err instanceof api.BadRequest ? 400 : 502, { error: (err as Error).message });
  }
}

async function route(api: Api, method: string, url: URL, body: any, connected: () => Promise<KafkaClient>): Promise<unknown> {
  const parts = url.pathname.slice('/api/'.length).split('/').map(decodeURIComponent);
  const q = url.searchParams;
  const num = (name: string) => {
    const raw = q.get(name);
    if (raw === null || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new api.BadRequest(`${name} must be a number, not ${raw}`);
    return n;
  };
  const [resource, name, sub] = parts;
  if (method === 'GET' && resource === 'cluster' && !name) return api.clusterOverview(await connected());
  if (resource === 'topics') {
    if (method === 'GET' && !name) return api.listTopics(await connected());
    if (method === 'POST' && !name) return api.createTopic(await connected(), body);
    if (method === 'GET' && name && !sub) return api.describeTopic(await connected(), name);
    if (method === 'DELETE' && name && !sub) {
      // The page asks the user to type the topic's name; the server checks it was.
      if (body.confirm !== name) throw new api.BadRequest(`Type the topic's name (${name}) to confirm its deletion`);
      return api.deleteTopic(await connected(), name);
    }
    if (method === 'GET' && name && sub === 'messages') {
      const from = q.get('from');
      return api.browse(await connected(), name, {
        partition: num('partition'),
        offset: num('offset'),
        timestamp: num('timestamp'),
        from: from === 'beginning' ? 'beginning' : 'newest',
        limit: num('limit') ?? 50,
        search: q.get('search') || undefined,
      });
    }
    if (method === 'POST' && name && sub === 'messages') return api.produce(await connected(), name, body);
  }
  if (resource === 'groups') {
    if (method === 'GET' && !name) return api.listGroups(await connected());
    if (method === 'GET' && name && !sub) return api.describeGroup(await connected(), name);
    if (method === 'POST' && name && sub === 'reset') {
      if (body.confirm !== name) throw new api.BadRequest(`Type the group's id (${name}) to confirm the reset`);
      return api.resetOffsets(await connected(), name, body);
    }
  }
  return undefined;
}

function readJson(req: IncomingMessage, api: Api): Promise<any> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new api.BadRequest(`The request is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        const text = Buffer.concat(chunks).toString('utf8');
        const parsed = text === '' ? {} : JSON.parse(text);
        resolve(parsed && typeof parsed === 'object' ? parsed : {});
      } catch {
        reject(new api.BadRequest('The request body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
