// kts's own ZooKeeper client (src/cluster/zookeeper-client.ts) against kts and against Apache
// ZooKeeper 3.8: chroot, host lists, modes, watches, multi (Kafka's fencing patterns), reconnect
// with the same session, expiry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from '../../../src/coordinator/index.js';
import { ErrorCode, MultiError, ZooKeeperClient, type WatchEvent, ZooKeeperError } from '../../../src/cluster/zookeeper-client.js';
import { freezableProxy, replyHoldingProxy, runInterop, startRealZooKeeper, tempDir, waitFor } from '../../helpers/zookeeper.js';

const TICK = 500;
const targets: { name: string; start(): Promise<{ port: number; stop(): Promise<void> }> }[] = [
  {
    name: 'kts',
    start: async () => {
      const h = await startCoordinator({ port: 0, dataDir: tempDir('kts-zk-client-'), tickTime: TICK });
      return { port: h.port, stop: () => h.close() };
    },
  },
];
if (runInterop) targets.push({ name: 'Apache ZooKeeper 3.8', start: () => startRealZooKeeper({ tickTime: TICK }) });

describe.each(targets)('ZooKeeperClient against $name', (target) => {
  let server: { port: number; stop(): Promise<void> };
  let admin: ZooKeeperClient;
  beforeAll(async () => {
    server = await target.start();
    admin = await ZooKeeperClient.connect(`127.0.0.1:${server.port}`);
  });
  afterAll(async () => {
    await admin?.close();
    await server?.stop();
  });

  it('works under a chroot and skips a dead host in the connect string', async () => {
    await admin.create('/kafka');
    const zk = await ZooKeeperClient.connect(`127.0.0.1:1,127.0.0.1:${server.port}/kafka`, { orderedHosts: true, sessionTimeoutMs: 4000 });
    expect(zk.sessionTimeoutMs).toBe(4000);
    expect(await zk.create('/brokers')).toBe('/brokers');
    expect(await zk.create('/brokers/seq-', 'x', { mode: 'persistent_sequential' })).toBe('/brokers/seq-0000000000');
    expect(await zk.getChildren('/')).toEqual(['brokers']);
    expect(await admin.getChildren('/kafka/brokers')).toEqual(['seq-0000000000']);
    const r = await zk.multi([{ op: 'create', path: '/brokers/m', data: 'm' }]);
    expect(r).toEqual([{ op: 'create', path: '/brokers/m' }]);
    await zk.close();
  });

  it('create modes, data, versions and errors', async () => {
    const zk = await ZooKeeperClient.connect(`127.0.0.1:${server.port}`);
    await zk.create('/c');
    const { path, stat } = await zk.createWithStat('/c/null');
    expect(path).toBe('/c/null');
    expect(stat.czxid).toBeGreaterThan(0);
    expect((await zk.getData('/c/null')).data).toBeNull();
    await zk.create('/c/empty', Buffer.alloc(0));
    expect((await zk.getData('/c/empty')).data).toEqual(Buffer.alloc(0));
    const eph = await zk.create('/c/e-', 'me', { mode: 'ephemeral_sequential' });
    expect(eph).toBe('/c/e-0000000002');
    expect((await zk.exists(eph))!.ephemeralOwner).toBe(zk.sessionId);
    expect(await zk.exists('/c/none')).toBeNull();
    const s1 = await zk.setData('/c', 'v1', 0);
    expect(s1.version).toBe(1);
    await expect(zk.setData('/c', 'v2', 0)).rejects.toMatchObject({ code: ErrorCode.BadVersion });
    await expect(zk.create('/c')).rejects.toMatchObject({ code: ErrorCode.NodeExists, path: '/c' });
    await expect(zk.create('/nope/x')).rejects.toBeInstanceOf(ZooKeeperError);
    await expect(zk.delete('/c')).rejects.toMatchObject({ code: ErrorCode.NotEmpty });
    await expect(zk.create(`${eph}/kid`)).rejects.toMatchObject({ code: ErrorCode.NoChildrenForEphemerals });
    await zk.delete('/c/null', 0);
    const { data, stat: s2 } = await zk.getData('/c');
    expect(data!.toString()).toBe('v1');
    expect(s2.numChildren).toBe(2);
    await zk.close();
    // Closing the session removed its ephemeral.
    expect(await admin.exists(eph)).toBeNull();
  });

  it('one-shot watches: callbacks and the watch event', async () => {
    const zk = await ZooKeeperClient.connect(`127.0.0.1:${server.port}`);
    const seen: WatchEvent[] = [];
    const all: WatchEvent[] = [];
    zk.on('watch', (e: WatchEvent) => all.push(e));
    await admin.create('/w', 'a');
    await zk.getData('/w', (e) => seen.push(e));
    await zk.getChildren('/w', (e) => seen.push(e));
    expect(await zk.exists('/w/x', (e) => seen.push(e))).toBeNull();
    await zk.exists('/w', true);
    await admin.setData('/w', 'b');
    await admin.create('/w/x');
    await admin.setData('/w', 'c');
    await waitFor('three events', () => seen.length >= 3);
    await zk.sync('/w');
    expect(seen).toEqual([
      { type: 'dataChanged', path: '/w' },
      { type: 'created', path: '/w/x' },
      { type: 'childrenChanged', path: '/w' },
    ]);
    expect(all.map((e) => e.type)).toEqual(['dataChanged', 'created', 'childrenChanged']);
    await zk.close();
  });

  // A watch belongs to the client from the reply that set it: an event the server sends right after
  // that reply (a node created or changed a moment later) can arrive in the same read. Registered a
  // step late, exists' watch missed it, and the one-shot watch was gone on the server: a kts broker
  // never heard that the state node of a new partition was created (its leader and ISR stayed
  // unknown to it until some other change made it look again).
  it('a watch fires for an event that arrives in the same read as the reply that set it (exists, getData, getChildren)', async () => {
    const proxy = await replyHoldingProxy(server.port);
    const zk = await ZooKeeperClient.connect(`127.0.0.1:${proxy.port}`);
    try {
      await admin.create('/same-read');
      await admin.create('/same-read/there', 'v0');
      const cases: { what: string; read(w: (e: WatchEvent) => void): Promise<unknown>; change(): Promise<unknown>; event: WatchEvent['type'] }[] = [
        { what: 'exists of a missing node, then created', read: (w) => zk.exists('/same-read/new', w), change: () => admin.create('/same-read/new'), event: 'created' },
        { what: 'exists of a node, then changed', read: (w) => zk.exists('/same-read/there', w), change: () => admin.setData('/same-read/there', 'v1'), event: 'dataChanged' },
        { what: 'getData, then changed', read: (w) => zk.getData('/same-read/there', w), change: () => admin.setData('/same-read/there', 'v2'), event: 'dataChanged' },
        { what: 'getChildren, then a child created', read: (w) => zk.getChildren('/same-read', w), change: () => admin.create('/same-read/child'), event: 'childrenChanged' },
      ];
      for (const c of cases) {
        const events: WatchEvent[] = [];
        proxy.hold();
        const read = c.read((e) => events.push(e));
        await waitFor(`the answer to ${c.what}`, () => proxy.heldChunks() >= 1);
        await c.change();
        await waitFor(`the event of ${c.what}`, () => proxy.heldChunks() >= 2);
        proxy.release();
        await read;
        await waitFor(`the watch of ${c.what} to fire`, () => events.length > 0, 5000);
        expect(events.map((e) => e.type), c.what).toEqual([c.event]);
      }
    } finally {
      await zk.close();
      await proxy.close();
    }
  });

  it("multi: Kafka's CheckedEphemeral registration and epoch-fenced writes", async () => {
    const zk = await ZooKeeperClient.connect(`127.0.0.1:${server.port}`);
    await zk.create('/ids');
    const json = '{"version":5,"host":"localhost","port":9092}';
    const reg = await zk.multi([
      { op: 'create', path: '/ids/1', data: null, mode: 'ephemeral' },
      { op: 'setData', path: '/ids/1', data: json, version: 0 },
    ]);
    expect(reg[0]).toEqual({ op: 'create', path: '/ids/1' });
    expect(reg[1]).toMatchObject({ op: 'setData', stat: { version: 1 } });
    await zk.create('/controller_epoch', '1');
    const ok = await zk.multi([
      { op: 'check', path: '/controller_epoch', version: 0 },
      { op: 'create', path: '/state', data: '{}' },
    ]);
    expect(ok).toEqual([{ op: 'check' }, { op: 'create', path: '/state' }]);
    const err = await zk
      .multi([
        { op: 'check', path: '/controller_epoch', version: 3 },
        { op: 'setData', path: '/state', data: '{"x":1}' },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MultiError);
    expect(err).toMatchObject({ code: ErrorCode.BadVersion, failedIndex: 0 });
    expect((err as MultiError).results).toEqual([
      { op: 'error', code: ErrorCode.BadVersion },
      { op: 'error', code: ErrorCode.RuntimeInconsistency },
    ]);
    expect((await zk.getData('/state')).data!.toString()).toBe('{}');
    await zk.close();
  });

  it('resumes its session on another connection and re-arms watches with setWatches', async () => {
    const proxy = await freezableProxy(server.port);
    const zk = await ZooKeeperClient.connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 4000 });
    const session = zk.sessionId;
    await zk.create('/r', 'a');
    await zk.create('/r/mine', null, { mode: 'ephemeral' });
    const events: WatchEvent[] = [];
    await zk.getData('/r', (e) => events.push(e));
    let disconnects = 0;
    zk.on('disconnected', () => disconnects++);
    const reconnected = new Promise((r) => zk.once('connected', r));
    proxy.freeze();
    await admin.setData('/r', 'changed while away');
    proxy.thaw();
    proxy.cut();
    await reconnected;
    expect(disconnects).toBe(1);
    expect(zk.sessionId).toBe(session);
    await waitFor('data watch fired after setWatches', () => events.length === 1);
    expect(events[0]).toEqual({ type: 'dataChanged', path: '/r' });
    expect(await admin.exists('/r/mine')).not.toBeNull();
    await zk.close();
    await proxy.close();
  });

  it("emits 'expired' when the session is gone and fails calls with SessionExpired", async () => {
    const proxy = await freezableProxy(server.port);
    const zk = await ZooKeeperClient.connect(`127.0.0.1:${proxy.port}`, { sessionTimeoutMs: 1000 });
    await zk.create('/gone', null, { mode: 'ephemeral' });
    const expired = new Promise((r) => zk.once('expired', r));
    proxy.freeze();
    await waitFor('ephemeral removed by expiry', async () => (await admin.exists('/gone')) === null, 10_000);
    proxy.thaw();
    proxy.cut();
    await expired;
    await expect(zk.getData('/')).rejects.toMatchObject({ code: ErrorCode.SessionExpired });
    await proxy.close();
  });
});
