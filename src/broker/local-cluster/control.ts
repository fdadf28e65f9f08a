// The local cluster's control socket (`<data dir>/supervisor.sock`): a second `kts server-start
// --brokers N` on the same data dir asks the running supervisor to restart the brokers that are down
// instead of starting a second cluster. One JSON line each way. A Unix socket in the data dir, so
// only whoever can write that dir can ask.
import { createConnection, createServer, type Server } from 'node:net';
import { unlink } from 'node:fs/promises';

export interface ControlRequest {
  op: 'start-missing';
  brokers: number;
}

export interface ControlReply {
  ok: boolean;
  /** What to print, one line each. */
  lines: string[];
}

const MAX_LINE = 64 * 1024;

/** Listens on `path` (a stale socket file left by a killed supervisor is removed first: the caller holds the cluster's lock). */
export async function serveControl(path: string, handle: (req: ControlRequest) => Promise<ControlReply>): Promise<Server> {
  await unlink(path).catch(() => {});
  const server = createServer((socket) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_LINE) return socket.destroy();
      const end = buffered.indexOf('\n');
      if (end < 0) return;
      socket.removeAllListeners('data');
      let request: ControlRequest;
      try {
        request = JSON.parse(buffered.slice(0, end)) as ControlRequest;
      } catch {
        socket.end(`${JSON.stringify({ ok: false, lines: ['kts: unreadable request'] })}\n`);
        return;
      }
      handle(request).then(
        (reply) => socket.end(`${JSON.stringify(reply)}\n`),
        (err: Error) => socket.end(`${JSON.stringify({ ok: false, lines: [`kts: ${err.message}`] })}\n`),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/** The supervisor's reply, or undefined when none listens on `path` (no cluster running there). */
export function askSupervisor(path: string, request: ControlRequest): Promise<ControlReply | undefined> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let answer = '';
    let connected = false;
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => {
      try {
        resolve(JSON.parse(answer) as ControlReply);
      } catch {
        reject(new Error(`the cluster's supervisor (${path}) gave no answer`));
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) resolve(undefined);
      else reject(new Error(`the cluster's supervisor (${path}): ${err.message}`));
    });
  });
}
