// The two brokers the bench compares: kts (spawned from a snapshot of dist/) and librdkafka's mock
// cluster (bench/mock-cluster.c). Plus a raw Kafka connection over the bundled kts protocol codec
// and a hand-rolled ApiVersions v0 probe for start-up timing.
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { sleep } from './proc.mjs';

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const API_VERSIONS_V0 = (() => {
  const clientId = Buffer.from('kts-bench');
  const b = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
  b.writeInt32BE(b.length - 4, 0);
  b.writeInt16BE(18, 4); // ApiVersions
  b.writeInt16BE(0, 6); // v0
  b.writeInt32BE(1, 8); // correlation id
  b.writeInt16BE(clientId.length, 12);
  clientId.copy(b, 14);
  return b;
})();

/** One attempt: connect, send ApiVersions v0, resolve true on a response with error code 0. */
export function probeOnce(port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const sock = connect({ port, host: '127.0.0.1' }, () => sock.write(API_VERSIONS_V0));
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        finish(buf.readInt32BE(4) === 1 && buf.readInt16BE(8) === 0);
      }
    });
  });
}

/** Polls until the first good ApiVersions answer; resolves ms since t0 (performance.now()). */
export async function waitFirstAnswer(port, t0, child, limitMs = 120_000) {
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before answering`);
    if (await probeOnce(port)) return performance.now() - t0;
    if (performance.now() - t0 > limitMs) throw new Error(`no ApiVersions answer within ${limitMs} ms`);
    await sleep(2);
  }
}

/**
 * Spawns `kts server-start` from the snapshot and waits for its first ApiVersions answer.
 * Returns { port, bootstrap, pid, child, startMs, stop(), kill9(), output() }.
 *
 * The port is picked free and then handed to the broker, so another process (a test's broker on
 * the same machine) can take it in between: then our broker exits with a bind error while the
 * probe gets its answer from the stranger. The answer only counts once our broker says it is ready
 * on that port; on a lost port a fresh one is tried (twice).
 */
export async function startKts(snap, opts = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startKtsOnce(snap, opts);
    } catch (err) {
      if (!(err instanceof PortTakenError) || opts.port !== undefined || attempt >= 3) throw err;
    }
  }
}

class PortTakenError extends Error {}

async function startKtsOnce(snap, { dataDir, port, overrides = {}, nodeArgs = [], env } = {}) {
  port = port ?? (await freePort());
  const props = {
    listeners: `PLAINTEXT://127.0.0.1:${port}`,
    'log.dirs': dataDir,
    'group.initial.rebalance.delay.ms': '0',
    ...overrides,
  };
  const args = [...nodeArgs, snap.bin, 'server-start'];
  for (const [k, v] of Object.entries(props)) args.push('--override', `${k}=${v}`);
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  let out = '';
  const keep = (d) => {
    if (out.length < 50_000) out += d;
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((res) => child.once('exit', (code, signal) => res(code ?? signal)));
  let startMs;
  try {
    startMs = await waitFirstAnswer(port, t0, child);
    // Ours, not a stranger on the same port: our broker says it is ready on exactly that port.
    const ready = new RegExp(`ready: bootstrap server \\S*:${port}\\b`);
    for (const t = performance.now(); !ready.test(out); await sleep(5)) {
      if (child.exitCode !== null || child.signalCode !== null) {
        if (/EADDRINUSE|Unable to bind/.test(out)) throw new PortTakenError(`port ${port} was taken by another process`);
        throw new Error(`exited with ${child.exitCode ?? child.signalCode} right after answering`);
      }
      if (performance.now() - t > 30_000) throw new Error(`answered on port ${port} but never said it was ready there`);
    }
  } catch (err) {
    child.kill('SIGKILL');
    if (err instanceof PortTakenError || /EADDRINUSE|Unable to bind/.test(out)) throw new PortTakenError(`kts broker did not start: port ${port} taken\n${out.slice(-500)}`);
    throw new Error(`kts broker did not start: ${err.message}\n${out.slice(-2000)}`);
  }
  return serverHandle('kts', port, child, exited, startMs, () => out);
}

/**
 * What the bench keeps of a started server: { kind, port, bootstrap, pid, child, startMs, output(),
 * stop() (SIGTERM, SIGKILL after 60 s), kill9() }, each resolved once the process has exited.
 */
export function serverHandle(kind, port, child, exited, startMs, output) {
  return {
    kind,
    port,
    bootstrap: `127.0.0.1:${port}`,
    pid: child.pid,
    child,
    startMs,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(t);
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Spawns the compiled mock cluster with `topics` ({ name: partitions }). */
export async function startMock(binary, topics = {}) {
  const args = Object.entries(topics).map(([n, p]) => `${n}:${p}`);
  const t0 = performance.now();
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((res) => child.once('exit', (code, signal) => res(code ?? signal)));
  for (let i = 0; !/bootstrap (\S+)/.test(out); i++) {
    if (i > 500 || child.exitCode !== null) throw new Error(`mock cluster did not start: ${out}`);
    await sleep(10);
  }
  const bootstrap = /bootstrap (\S+)/.exec(out)[1].split(',')[0];
  const port = Number(bootstrap.split(':').pop());
  const startMs = await waitFirstAnswer(port, t0, child);
  return {
    kind: 'mock',
    port,
    bootstrap,
    pid: child.pid,
    child,
    startMs,
    output: () => out,
    async stop() {
      child.stdin.end();
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A bare Kafka connection: requests encoded by the kts codec, responses matched by correlation id. */
export class RawClient {
  constructor(socket, proto) {
    this.socket = socket;
    this.proto = proto;
    this.chunks = [];
    this.have = 0;
    this.next = 1;
    this.waiting = new Map();
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
      this.waiting.clear();
    });
  }

  static connect(port, proto) {
    return new Promise((resolve, reject) => {
      const s = connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(s, proto)));
      s.once('error', reject);
    });
  }

  request(apiKey, version, body) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { apiKey, version, resolve, reject });
      const frames = this.proto.encodeRequest(apiKey, version, id, 'kts-bench', body);
      this.socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
    });
  }

  onData(d) {
    this.chunks.push(d);
    this.have += d.length;
    for (;;) {
      if (this.have < 4) return;
      let buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [buf];
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) return;
      const frame = buf.subarray(4, 4 + size);
      buf = buf.subarray(4 + size);
      this.chunks = buf.length ? [buf] : [];
      this.have = buf.length;
      const id = frame.readInt32BE(0);
      const w = this.waiting.get(id);
      if (!w) continue;
      this.waiting.delete(id);
      try {
        w.resolve(this.proto.decodeResponse(w.apiKey, w.version, frame).body);
      } catch (err) {
        w.reject(err);
      }
    }
  }

  close() {
    this.socket.destroy();
  }
}

/** CreateTopics through a raw connection; ignores TOPIC_ALREADY_EXISTS (36). */
export async function createTopics(port, proto, topics, configs = {}) {
  const c = await RawClient.connect(port, proto);
  try {
    const res = await c.request(19, 4, {
      topics: Object.entries(topics).map(([name, p]) => ({
        name,
        numPartitions: p,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(configs).map(([n, v]) => ({ name: n, value: v })),
      })),
      timeoutMs: 30000,
      validateOnly: false,
    });
    for (const t of res.topics) {
      if (t.errorCode !== 0 && t.errorCode !== 36) throw new Error(`create topic ${t.name}: error ${t.errorCode} ${t.errorMessage ?? ''}`);
    }
  } finally {
    c.close();
  }
}
