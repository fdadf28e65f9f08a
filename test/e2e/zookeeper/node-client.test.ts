// node-zookeeper-client 1.1.3 (the pure-JS client kafka-node uses) against kts and, for parity,
// against Apache ZooKeeper 3.8: watch notifications and ephemerals vanishing on close and expiry.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../../src/coordinator/index.js';
import { freezableProxy, runInterop, startRealZooKeeper, tempDir, waitFor } from '../../helpers/zookeeper.js';

const require = createRequire(import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const zookeeper: any = require('node-zookeeper-client');

interface Target {
  name: string;
  start(): Promise<{ port: number; stop(): Promise<void> }>;
}

const TICK = 500; // sessions of 1000 ms (the 2 * tick minimum) expire quickly
const targets: Target[] = [
  {
    name: 'kts',
    start: async () => {
      const h = await startCoordinator({ port: 0, dataDir: tempDir('kts-zk-node-'), tickTime: TICK });
      return { port: h.port, stop: () => h.close() };
    },
  },
];
if (runInterop) targets.push({ name: 'Apache ZooKeeper 3.8', start: () => startRealZooKeeper({ tickTime: TICK }) });

/** node-zookeeper-client with promises. */
function client(port: number, sessionTimeout = 4000) {
  const c = zookeeper.createClient(`127.0.0.1:${port}`, { sessionTimeout, spinDelay: 100, retries: 0 });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = <T = any>(method: string, ...args: unknown[]): Promise<T> =>
    new Promise((res, rej) => c[method](...args, (err: Error | null, ...out: unknown[]) => (err ? rej(err) : res((out.length > 1 ? out : out[0]) as T))));
  return {
    c,
    call,
    states: [] as string[],
    connect(): Promise<void> {
      c.on('state', (s: unknown) => this.states.push(String(s)));
      return new Promise((r) => {
        c.once('connected', r);
        c.connect();
      });
    },
    create: (path: string, data?: string, mode = zookeeper.CreateMode.PERSISTENT) =>
      call<string>('create', path, data === undefined ? undefined : Buffer.from(data), zookeeper.ACL.OPEN_ACL_UNSAFE, mode),
    /** Sets a watch with `method` (exists, getData, getChildren); resolves once the server has it. */
    async watch(method: string, path: string): Promise<{ event: Promise<string> }> {
      let fire!: (e: string) => void;
      const event = new Promise<string>((r) => (fire = r));
      await call(method, path, (e: unknown) => fire(String(e))).catch((e: { code?: number }) => {
        if (e.code !== -101) throw e; // exists on a missing node still sets the watch
      });
      return { event };
    },
    close: () => new Promise<void>((r) => {
      c.once('disconnected', () => r());
      c.close();
    }),
  };
}

describe.each(targets)('node-zookeeper-client against $name', (target) => {
  let server: { port: number; stop(): Promise<void> };
  beforeAll(async () => {
    server = await target.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('delivers data, child and exists watches, once each, before the change can be read', async () => {
    const a = client(server.port);
    const b = client(server.port);
    await Promise.all([a.connect(), b.connect()]);
    await a.create('/w', 'v0');
    const events: string[] = [];
    const [data] = await a.call<[Buffer]>('getData', '/w', (e: unknown) => events.push(`data ${e}`));
    expect(data.toString()).toBe('v0');
    await a.call('getChildren', '/w', (e: unknown) => events.push(`child ${e}`));
    await a.call('exists', '/w/later', (e: unknown) => events.push(`exists ${e}`));

    await b.call('setData', '/w', Buffer.from('v1'), -1);
    await b.create('/w/later', 'x');
    // The notification is ordered before any later reply on a's connection.
    const [after] = await a.call<[Buffer]>('getData', '/w');
    expect(after.toString()).toBe('v1');
    expect(events).toEqual(['data NODE_DATA_CHANGED[3]@/w', 'exists NODE_CREATED[1]@/w/later', 'child NODE_CHILDREN_CHANGED[4]@/w']);

    // One-shot: a second change fires nothing until re-armed.
    await b.call('setData', '/w', Buffer.from('v2'), -1);
    await a.call('getData', '/w');
    expect(events).toHaveLength(3);

    await b.call('remove', '/w/later', -1);
    await b.call('remove', '/w', -1);
    await Promise.all([a.close(), b.close()]);
  });

  it('fires NodeDeleted and removes the ephemerals of a closed session', async () => {
    const owner = client(server.port);
    const watcher = client(server.port);
    await Promise.all([owner.connect(), watcher.connect()]);
    await watcher.create('/eph', undefined);
    const path = await owner.create('/eph/n-', 'mine', zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL);
    expect(path).toBe('/eph/n-0000000000');
    const stat = await watcher.call('exists', path);
    expect(stat.ephemeralOwner.toString('hex')).toBe(owner.c.getSessionId().toString('hex'));
    const deleted = await watcher.watch('exists', path);
    const childChange = await watcher.watch('getChildren', '/eph');
    await owner.close();
    expect(await deleted.event).toBe('NODE_DELETED[2]@/eph/n-0000000000');
    expect(await childChange.event).toBe('NODE_CHILDREN_CHANGED[4]@/eph');
    expect(await watcher.call('exists', path)).toBeNull();
    await watcher.call('remove', '/eph', -1);
    await watcher.close();
  });

  it('expires a silent session: its ephemerals go, and the client is told its session expired', async () => {
    const proxy = await freezableProxy(server.port);
    const owner = client(proxy.port, 1000);
    const watcher = client(server.port);
    await Promise.all([owner.connect(), watcher.connect()]);
    await owner.create('/lease', 'x', zookeeper.CreateMode.EPHEMERAL);
    const deleted = (await watcher.watch('exists', '/lease')).event;
    const expired = new Promise<void>((r) => owner.c.once('expired', () => r()));
    const frozenAt = Date.now();
    proxy.freeze();
    // The session's 1000 ms run from the last bytes the server had from the owner (its create, or a
    // ping: the client pings after 333 ms idle), which can be well before freeze() when this process
    // stalls between the two (a loaded machine; a 250 ms stall there gave 702 ms from freeze()).
    const silentSince = proxy.lastForwardedToServerAt();
    expect(await deleted).toBe('NODE_DELETED[2]@/lease');
    const after = Date.now() - silentSince;
    const seen = `expired ${after} ms after the server last heard the owner (${Date.now() - frozenAt} ms after freeze())`;
    // Negotiated 1000 ms, expiry in tick buckets: between T and T + tick, plus scheduling slack
    // (two processes' timers and a watch notification, on a machine that may be loaded).
    expect(after, seen).toBeGreaterThanOrEqual(900);
    expect(after, seen).toBeLessThan(1000 + TICK + 5000);
    proxy.thaw();
    proxy.cut();
    await expired;
    owner.c.close();
    await watcher.close();
    await proxy.close();
  });

  it('keeps a session across a dropped connection and re-arms its watches (setWatches)', async () => {
    const proxy = await freezableProxy(server.port);
    const a = client(proxy.port);
    const b = client(server.port);
    await Promise.all([a.connect(), b.connect()]);
    const sessionBefore = a.c.getSessionId().toString('hex');
    await a.create('/keep', 'v0');
    await a.create('/keep/e', 'x', zookeeper.CreateMode.EPHEMERAL);
    const fired = (await a.watch('getData', '/keep')).event;
    const reconnected = new Promise<void>((r) => a.c.once('connected', () => r()));
    proxy.cut();
    await reconnected;
    expect(a.c.getSessionId().toString('hex')).toBe(sessionBefore);
    await b.call('setData', '/keep', Buffer.from('v1'), -1);
    expect(await fired).toBe('NODE_DATA_CHANGED[3]@/keep');
    expect(await b.call('exists', '/keep/e')).not.toBeNull();
    await a.call('remove', '/keep/e', -1);
    await a.call('remove', '/keep', -1);
    await Promise.all([a.close(), b.close()]);
    await proxy.close();
  });

  it('runs transactions all-or-nothing', async () => {
    const a = client(server.port);
    await a.connect();
    await a.create('/tx', '0');
    const ok = await new Promise<unknown[]>((res, rej) =>
      a.c.transaction().create('/tx/a', Buffer.from('a')).check('/tx', 0).setData('/tx', Buffer.from('1'), 0).commit((e: Error, r: unknown[]) => (e ? rej(e) : res(r))),
    );
    expect(ok).toHaveLength(3);
    const failure = await new Promise<{ err: unknown; results: { type: number; err: number }[] }>((res) =>
      // (node-zookeeper-client sends version 0 as -1, so the stale version here is 7)
      a.c.transaction().create('/tx/b').check('/tx', 7).commit((err: unknown, results: { type: number; err: number }[]) => res({ err, results })),
    );
    expect(String(failure.err)).toMatch(/BAD_VERSION/);
    expect(failure.results.map((r) => r.err)).toEqual([0, -103]);
    expect(await a.call('exists', '/tx/b')).toBeNull();
    const [data] = await a.call<[Buffer]>('getData', '/tx');
    expect(data.toString()).toBe('1');
    await a.call('remove', '/tx/a', -1);
    await a.call('remove', '/tx', -1);
    await a.close();
  });
});
