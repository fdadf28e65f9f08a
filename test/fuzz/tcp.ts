// Fuzz over TCP against a real broker process: hostile and mutated frames, several connections at
// once; after a frame the connection either answers, stays silent (acks=0, long polls) or is closed
// by the broker, in which case the worker reconnects. The caller checks the broker is still alive
// and still answers a healthy client.
import { connect, type Socket } from 'node:net';
import { Rng, hostileFrame, mutate, seeds, servedSeeds } from './engine.js';

export interface TcpFuzzResult {
  cases: number;
  answered: number;
  closedByBroker: number;
  silent: number;
  reconnects: number;
  ms: number;
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.once('error', reject);
  });
}

export async function runTcpFuzz(port: number, cases: number, seed: number, opts: { workers?: number; waitMs?: number; onProgress?: (done: number) => Promise<void> } = {}): Promise<TcpFuzzResult> {
  const all = seeds();
  const served = servedSeeds();
  const res: TcpFuzzResult = { cases: 0, answered: 0, closedByBroker: 0, silent: 0, reconnects: 0, ms: 0 };
  const started = Date.now();
  const waitMs = opts.waitMs ?? 150;
  let next = 0;
  const worker = async (w: number) => {
    const rng = new Rng(seed * 1000 + w);
    // Per-socket state, so a late 'close' of a replaced socket cannot touch the next one.
    let conn: { socket: Socket; closed: boolean; got: number; onEvent?: () => void } | undefined;
    while (next < cases) {
      const i = next++;
      if (opts.onProgress && i > 0 && i % 1000 === 0) await opts.onProgress(i);
      if (!conn || conn.closed) {
        conn?.socket.destroy();
        const c: typeof conn = { socket: await openSocket(port), closed: false, got: 0 };
        c.socket.setNoDelay(true);
        c.socket.on('data', (d) => {
          c.got += d.length;
          c.onEvent?.();
        });
        c.socket.on('close', () => {
          c.closed = true;
          c.onEvent?.();
        });
        c.socket.on('error', () => {});
        conn = c;
        res.reconnects++;
      }
      const c = conn;
      const s = rng.chance(0.9) ? served[rng.int(served.length)] : all[rng.int(all.length)];
      const body = (rng.chance(0.5) ? hostileFrame(s.apiKey, s.version, rng, i) : null) ?? mutate(s.frame, rng, all);
      const size = Buffer.alloc(4);
      // Mostly the true size; sometimes a lie (the frame reader must cope with both).
      size.writeInt32BE(rng.chance(0.97) ? body.length : rng.pick([body.length + 1, Math.max(0, body.length - 1), 0, 0x7fffffff, -1]));
      const before = c.got;
      res.cases++;
      const outcome = await new Promise<'answered' | 'closed' | 'silent'>((resolve) => {
        const timer = setTimeout(() => finish('silent'), waitMs);
        function finish(o: 'answered' | 'closed' | 'silent') {
          clearTimeout(timer);
          c.onEvent = undefined;
          resolve(o);
        }
        c.onEvent = () => {
          if (c.got > before) finish('answered');
          else if (c.closed) finish('closed');
        };
        c.socket.write(Buffer.concat([size, body]));
      });
      res[outcome === 'answered' ? 'answered' : outcome === 'closed' ? 'closedByBroker' : 'silent']++;
      // A silent connection may hold a partial frame or a long poll: start the next case afresh.
      if (outcome === 'silent') {
        c.socket.destroy();
        c.closed = true;
      }
    }
    conn?.socket.destroy();
  };
  await Promise.all(Array.from({ length: opts.workers ?? 8 }, (_, w) => worker(w)));
  res.ms = Date.now() - started;
  return res;
}
