// A broker learns a new partition's state even when ZooKeeper's answer "no state node yet" and the
// event "state node created" reach it in one read. network-partition.test.ts failed in CI that way
// (broker 3 never saw the new topic 'nemesis' led by 1 with three in sync, 30 s, before any cut):
// the broker reads a new topic as soon as it appears, usually before the controller has written its
// partition's state node, so it sets an exists watch on it; the controller creates the node a moment
// later, and the kts coordinator (which writes answers once its log is durable) can send both in one
// write. The client registered exists' watch a microtask after reading the answer, so the event
// found no watcher and was dropped; the broker never followed, the leader took it out of the ISR,
// and nothing made it look again. Here a proxy in front of broker 3's ZooKeeper connection holds
// everything from the moment broker 3 asks whether the state node exists until the controller has
// created it, then delivers both in one write: every time, where a loaded machine did it sometimes.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { spawnCoordinator, waitFor, type SpawnedCoordinator } from '../../helpers/zookeeper.js';

const TOPIC = 'fresh';
const STATE_PATH = `/brokers/topics/${TOPIC}/partitions/0/state`;
const OP_EXISTS = 3;

/**
 * A proxy for one ZooKeeper client that starts holding the server's frames when the client sends an
 * exists request for `path`, counts the notifications among them, and releases them in one write.
 */
async function holdAfterExists(targetPort: number, path: string) {
  let holding = false;
  let held: Buffer[] = [];
  let heldNotifications = 0;
  const sockets = new Set<net.Socket>();
  /** Splits a stream into length-prefixed frames (the first one, the handshake, has no xid). */
  const framer = (onFrame: (frame: Buffer, first: boolean) => void) => {
    let buf = Buffer.alloc(0);
    let first = true;
    return (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        const len = buf.readInt32BE(0);
        onFrame(buf.subarray(4, 4 + len), first);
        first = false;
        buf = buf.subarray(4 + len);
      }
    };
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    const fromClient = framer((frame, first) => {
      // A request: xid, type, then (for exists) the path as a length-prefixed string.
      if (first || frame.length < 12 || frame.readInt32BE(4) !== OP_EXISTS) return;
      const asked = frame.subarray(12, 12 + frame.readInt32BE(8)).toString();
      if (asked.endsWith(path)) holding = true;
    });
    const fromServer = framer((frame, first) => {
      if (!first && holding && frame.readInt32BE(0) === -1) heldNotifications++;
    });
    client.on('data', (d) => {
      fromClient(d); // before forwarding: holding starts before the answer can come back
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      fromServer(d);
      if (holding) held.push(d);
      else client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    proxy.release = () => {
      holding = false;
      const all = Buffer.concat(held);
      held = [];
      client.write(all);
    };
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const proxy = {
    port: (server.address() as net.AddressInfo).port,
    holding: () => holding && held.length > 0,
    heldNotifications: () => heldNotifications,
    release: () => {},
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return proxy;
}

let zk: SpawnedCoordinator;
let proxy: Awaited<ReturnType<typeof holdAfterExists>>;
const brokers = new Map<number, SpawnedBroker>();

async function start(id: number, zkPort: number): Promise<void> {
  brokers.set(id, await spawnBroker({
    timeoutMs: 60_000,
    overrides: { 'broker.id': String(id), 'zookeeper.connect': `127.0.0.1:${zkPort}/kafka`, 'zookeeper.session.timeout.ms': '20000', 'replica.fetch.wait.max.ms': '200' },
  }));
}

async function metadataFrom(id: number, topics: { name: string }[] = [{ name: TOPIC }]) {
  const client = await RawClient.connect(brokers.get(id)!.port);
  try {
    return await client.request(3, 9, { topics, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  // 1 s ticks: sessions up to 20 s, so the controller's pause below cannot end its session.
  zk = await spawnCoordinator({ props: { tickTime: 1000 } });
  proxy = await holdAfterExists(zk.port, STATE_PATH);
  await start(1, zk.port); // first: the controller
  await Promise.all([start(2, zk.port), start(3, proxy.port)]);
}, 120_000);

afterAll(async () => {
  brokers.get(1)?.process.kill('SIGCONT');
  for (const b of brokers.values()) await b.stop();
  await proxy?.close();
  await zk?.stop();
}, 120_000);

it('a broker that asked for a new partition state node just before the controller created it learns the state (the answer and the event in one read)', async () => {
  for (const id of [1, 2, 3]) {
    await waitFor(`broker ${id} to know the controller and all three brokers`, async () => {
      const body = await metadataFrom(id, []);
      return body.controllerId === 1 && body.brokers.length === 3 ? true : null;
    }, 30_000);
  }
  // The controller is held while the topic appears, so that broker 3 finds no state node yet.
  brokers.get(1)!.process.kill('SIGSTOP');
  const client = await RawClient.connect(brokers.get(2)!.port);
  const created = client.request(19, 4, {
    topics: [{ name: TOPIC, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [2, 3, 1] }], configs: [] }],
    timeoutMs: 30_000, validateOnly: false,
  });
  try {
    await waitFor('broker 3 to ask whether the state node exists (its answer held)', () => proxy.holding(), 30_000);
    brokers.get(1)!.process.kill('SIGCONT');
    await waitFor('the creation event held behind the answer', () => proxy.heldNotifications() >= 1, 30_000);
    proxy.release();
    expect((await created).topics[0].errorCode).toBe(0);
  } finally {
    brokers.get(1)!.process.kill('SIGCONT');
    client.close();
  }
  // Before the fix broker 3 never learned it (leader -1, no ISR) and never followed.
  const seen = await waitFor('broker 3 to see the partition led by 2 with three in sync', async () => {
    const p = (await metadataFrom(3)).topics[0]?.partitions?.[0];
    return p && p.leaderId === 2 && p.isrNodes.length === 3 ? p : null;
  }, 15_000).catch(async (err: Error) => {
    const p = (await metadataFrom(3)).topics[0]?.partitions?.[0];
    throw new Error(`${err.message}: broker 3 sees leader ${p?.leaderId}, ISR [${p?.isrNodes}]`);
  });
  expect(seen.leaderEpoch).toBe(0);
}, 120_000);
