// Multi-broker clusters through ZooKeeper, in Kafka's layout: two and three kts brokers against the
// kts coordinator and three against a real Apache ZooKeeper 3.8 (Debian's), driven by kcat and kafkajs;
// broker and coordinator kill -9; the seed walkthrough with zookeeper-server-start first.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { KTS_BIN, freePort, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { kcat, run } from '../../helpers/kcat.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { kcatPath } from '../../helpers/tools.js';
import { runInterop, spawnCoordinator, startRealZooKeeper, waitFor, type SpawnedCoordinator } from '../../helpers/zookeeper.js';
import { ZooKeeperClient } from '../../../src/cluster/zookeeper-client.js';
import { RawClient } from '../../helpers/raw-client.js';

const hasKcat = kcatPath() !== null;
const SESSION_MS = 4000;

interface Cluster {
  zkPort: number;
  brokers: SpawnedBroker[];
  bootstrap: string;
}

async function startBrokers(zkPort: number, count: number): Promise<SpawnedBroker[]> {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      spawnBroker({
        overrides: {
          'broker.id': String(i + 1),
          'zookeeper.connect': `127.0.0.1:${zkPort}/kafka`,
          'zookeeper.session.timeout.ms': String(SESSION_MS),
        },
      }),
    ),
  );
}

async function zkChildren(zkPort: number, path: string): Promise<string[]> {
  const zk = await ZooKeeperClient.connect(`127.0.0.1:${zkPort}/kafka`, { sessionTimeoutMs: 4000 });
  try {
    return (await zk.getChildren(path)).sort();
  } finally {
    await zk.close();
  }
}

function leadersOf(metadata: string, topic: string): number[] {
  const section = metadata.split(`topic "${topic}"`)[1] ?? '';
  return [...section.matchAll(/partition (\d+), leader (-?\d+)/g)].map((m) => Number(m[2]));
}

/** What every cluster must do, whichever ZooKeeper it uses. */
function clusterBehaviour(name: string, count: number, available: boolean, startZk: () => Promise<{ port: number; stop(): Promise<unknown> }>) {
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  describe.skipIf(!hasKcat || !available)(`${count} kts brokers on ${name}`, () => {
    let zk: { port: number; stop(): Promise<unknown> };
    let cluster: Cluster;
    beforeAll(async () => {
      zk = await startZk();
      const brokers = await startBrokers(zk.port, count);
      cluster = { zkPort: zk.port, brokers, bootstrap: brokers.map((b) => b.bootstrap).join(',') };
    }, 150_000);
    afterAll(async () => {
      for (const b of cluster?.brokers ?? []) await b.stop();
      await zk?.stop();
    });

    it('registers every broker under /brokers/ids, in the chroot, and kcat -L sees them all', async () => {
      expect(await zkChildren(cluster.zkPort, '/brokers/ids')).toEqual(ids.map(String));
      const out = await kcat(['-b', cluster.brokers[0].bootstrap, '-L']);
      for (const b of cluster.brokers) expect(out).toContain(`at ${b.bootstrap}`);
      expect(out).toMatch(/\(controller\)/);
    });

    it('idempotent producers get ids no other broker hands out: blocks claimed in /latest_producer_id_block, as Kafka', async () => {
      // Before, each broker counted from 0 in its own data dir: two producers asking two brokers got
      // the same id, and the second one's sequences were refused (OUT_OF_ORDER_SEQUENCE_NUMBER).
      const ids: number[] = [];
      for (const b of cluster.brokers) {
        const client = await RawClient.connect(b.port);
        try {
          for (let i = 0; i < 2; i++) {
            const answer = await client.request(22, 1, { transactionalId: null, transactionTimeoutMs: 60000 });
            expect(answer.errorCode).toBe(0);
            ids.push(Number(answer.producerId));
          }
        } finally {
          client.close();
        }
      }
      expect(new Set(ids).size).toBe(ids.length);
      const zk = await ZooKeeperClient.connect(`127.0.0.1:${cluster.zkPort}/kafka`, { sessionTimeoutMs: 4000 });
      try {
        const block = JSON.parse((await zk.getData('/latest_producer_id_block')).data!.toString('utf8'));
        expect(block).toMatchObject({ version: 1, block_start: expect.stringMatching(/^\d+$/), block_end: expect.stringMatching(/^\d+$/) });
        expect(Number(block.block_end) - Number(block.block_start)).toBe(999);
        expect(Number(block.block_end)).toBe(count * 1000 - 1);
      } finally {
        await zk.close();
      }
    });

    it('spreads a six-partition topic over the brokers; kcat and kafkajs produce and consume across them', async () => {
      const kafka = new Kafka({ brokers: [cluster.brokers[1].bootstrap], logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'spread', numPartitions: 6 }], waitForLeaders: true });
      await admin.disconnect();
      expect(await zkChildren(cluster.zkPort, '/brokers/topics/spread/partitions')).toEqual(['0', '1', '2', '3', '4', '5']);

      // createTopics waited for leaders in broker 1's view; the last broker's metadata cache may still
      // lag behind (leader -1) on a loaded machine, as a real Kafka broker's can: ask until it knows.
      const leaders = await waitFor('every leader of spread known to the last broker', async () => {
        const known = leadersOf(await kcat(['-b', cluster.brokers[count - 1].bootstrap, '-L', '-t', 'spread']), 'spread');
        return known.length === 6 && known.every((l) => l >= 0) ? known : null;
      }, 20_000);
      expect(leaders).toHaveLength(6);
      expect(new Set(leaders).size).toBeGreaterThan(1);
      expect(leaders.every((l) => ids.includes(l))).toBe(true);

      const input = Array.from({ length: 600 }, (_, i) => `k${i}:kcat-${i}`).join('\n') + '\n';
      await kcat(['-b', cluster.brokers[0].bootstrap, '-P', '-t', 'spread', '-K:'], { input });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'spread', messages: Array.from({ length: 300 }, (_, i) => ({ key: `j${i}`, value: `kafkajs-${i}` })) });
      await producer.disconnect();

      const consumed = await kcat(['-b', cluster.brokers[count - 1].bootstrap, '-C', '-t', 'spread', '-o', 'beginning', '-e', '-q', '-f', '%s\n']);
      const values = consumed.trim().split('\n');
      expect(values).toHaveLength(900);
      expect(new Set(values).size).toBe(900);

      // A kafkajs consumer group: its coordinator is whichever broker leads the group's offsets partition.
      const consumer = kafka.consumer({ groupId: `g-${count}-${name.replace(/\W/g, '')}`, sessionTimeout: 10_000 });
      await consumer.connect();
      await consumer.subscribe({ topic: 'spread', fromBeginning: true });
      const seen = new Set<string>();
      await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
      await waitFor('kafkajs group consumed everything', () => (seen.size >= 900 ? true : null), 45_000);
      await consumer.disconnect();
      expect(seen.size).toBe(900);
    }, 90_000);
  });
}

clusterBehaviour('the kts coordinator', 2, true, async () => {
  const c = await spawnCoordinator({ props: { tickTime: 500 } });
  return { port: c.port, stop: () => c.stop() };
});

clusterBehaviour('the kts coordinator', 3, true, async () => {
  const c = await spawnCoordinator({ props: { tickTime: 500 } });
  return { port: c.port, stop: () => c.stop() };
});

clusterBehaviour('Apache ZooKeeper 3.8', 3, runInterop, async () => {
  const real = await startRealZooKeeper({ tickTime: 500 });
  return { port: real.port, stop: () => real.stop() };
});

describe.skipIf(!hasKcat)('failures in a kts cluster', () => {
  let coordinator: SpawnedCoordinator;
  let zkPort: number;
  let zkDir: string;
  let brokers: SpawnedBroker[];
  beforeAll(async () => {
    zkPort = await freePort();
    zkDir = tempDir('kts-zk-fail-');
    coordinator = await spawnCoordinator({ dataDir: zkDir, props: { tickTime: 500, clientPort: zkPort } });
    brokers = await startBrokers(zkPort, 3);
    const admin = new Kafka({ brokers: [brokers[0].bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'failover', numPartitions: 6 }], waitForLeaders: true });
    await admin.disconnect();
    const input = Array.from({ length: 60 }, (_, i) => `k${i}:v${i}`).join('\n') + '\n';
    await kcat(['-b', brokers[0].bootstrap, '-P', '-t', 'failover', '-K:'], { input });
  }, 90_000);
  afterAll(async () => {
    for (const b of brokers ?? []) await b.stop();
    await coordinator?.stop();
  });

  it('kill -9 of a broker: its registration goes after the session timeout, its partitions go offline, and come back with it', async () => {
    const victim = brokers[1];
    const before = leadersOf(await kcat(['-b', brokers[0].bootstrap, '-L', '-t', 'failover']), 'failover');
    const led = before.map((l, p) => (l === 2 ? p : -1)).filter((p) => p >= 0);
    expect(led.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    await victim.kill9();

    await waitFor('/brokers/ids/2 to vanish', async () => ((await zkChildren(zkPort, '/brokers/ids')).includes('2') ? null : true), SESSION_MS * 4);
    const goneAfter = Date.now() - killedAt;
    expect(goneAfter).toBeGreaterThan(SESSION_MS / 2);
    const offline = await waitFor('partitions of broker 2 offline', async () => {
      const leaders = leadersOf(await kcat(['-b', brokers[0].bootstrap, '-L', '-t', 'failover']), 'failover');
      return led.every((p) => leaders[p] === -1) ? leaders : null;
    });
    expect(offline.filter((l) => l === -1)).toHaveLength(led.length);

    brokers[1] = await spawnBroker({
      dataDir: victim.dataDir,
      port: victim.port,
      overrides: { 'broker.id': '2', 'zookeeper.connect': `127.0.0.1:${zkPort}/kafka`, 'zookeeper.session.timeout.ms': String(SESSION_MS) },
    });
    await waitFor('partitions of broker 2 back online', async () => {
      const leaders = leadersOf(await kcat(['-b', brokers[0].bootstrap, '-L', '-t', 'failover']), 'failover');
      return led.every((p) => leaders[p] === 2) ? true : null;
    }, 20_000);
    const values = (await kcat(['-b', brokers[2].bootstrap, '-C', '-t', 'failover', '-o', 'beginning', '-e', '-q', '-f', '%s\n'])).trim().split('\n');
    expect(values).toHaveLength(60);
  }, 60_000);

  it('kill -9 of the coordinator and restart: every persistent znode is there and the brokers carry on', async () => {
    const zk = await ZooKeeperClient.connect(`127.0.0.1:${zkPort}`, { sessionTimeoutMs: 4000 });
    const walk = async (path: string): Promise<string[]> => {
      const children = await zk.getChildren(path);
      const out: string[] = [];
      for (const c of children) {
        const full = path === '/' ? `/${c}` : `${path}/${c}`;
        const stat = await zk.exists(full);
        if (stat && stat.ephemeralOwner === 0n) out.push(full, ...(await walk(full)));
      }
      return out;
    };
    const persistentBefore = (await walk('/')).sort();
    await zk.close();
    expect(persistentBefore).toContain('/kafka/brokers/topics/failover/partitions/5/state');

    await coordinator.kill9();
    coordinator = await spawnCoordinator({ dataDir: zkDir, props: { tickTime: 500, clientPort: zkPort } });
    const zk2 = await ZooKeeperClient.connect(`127.0.0.1:${zkPort}`, { sessionTimeoutMs: 4000 });
    const after: string[] = [];
    for (const path of persistentBefore) if (await zk2.exists(path)) after.push(path);
    await zk2.close();
    expect(after).toEqual(persistentBefore);

    // The brokers resume their sessions (or re-register) and keep serving.
    await waitFor('all brokers registered again', async () => ((await zkChildren(zkPort, '/brokers/ids')).length === 3 ? true : null), 20_000);
    await kcat(['-b', brokers[2].bootstrap, '-P', '-t', 'failover', '-K:'], { input: 'after:restart\n' });
    const values = (await kcat(['-b', brokers[0].bootstrap, '-C', '-t', 'failover', '-o', 'beginning', '-e', '-q', '-f', '%s\n'])).trim().split('\n');
    expect(values).toHaveLength(61);
    expect(values).toContain('restart');
  }, 60_000);
});

describe('the seed walkthrough with zookeeper-server-start', () => {
  it('zookeeper-server-start, server-start with zookeeper.connect, then the tools, word for word', async () => {
    const dir = tempDir('kts-seed-zk-');
    const zkPort = await freePort();
    const brokerPort = await freePort();
    writeFileSync(join(dir, 'zookeeper.properties'), `dataDir=${dir}/zookeeper\nclientPort=${zkPort}\nmaxClientCnxns=0\nadmin.enableServer=false\n`);
    writeFileSync(join(dir, 'server.properties'), `broker.id=0\nlisteners=PLAINTEXT://127.0.0.1:${brokerPort}\nlog.dirs=${dir}/kafka-logs\nzookeeper.connect=127.0.0.1:${zkPort}\nnum.partitions=1\n`);
    const zkProc = spawnTracked(process.execPath, [KTS_BIN, 'zookeeper-server-start', join(dir, 'zookeeper.properties')], { stdio: 'ignore' });
    const brokerProc = spawnTracked(process.execPath, [KTS_BIN, 'server-start', join(dir, 'server.properties')], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      brokerProc.stdout!.on('data', (d) => (out += d));
      await waitFor('broker ready', () => (/ready: bootstrap server/.test(out) ? true : null), 20_000);
      const bs = `localhost:${brokerPort}`;
      const kts = (args: string[], input?: string) => run(process.execPath, [KTS_BIN, ...args], { input });
      const created = await kts(['topics', '--create', '--bootstrap-server', bs, '--replication-factor', '1', '--partitions', '1', '--topic', 'test']);
      expect(created.stdout).toBe('Created topic test.\n');
      expect((await kts(['topics', '--list', '--bootstrap-server', bs])).stdout).toBe('test\n');
      const produced = await kts(['console-producer', '--broker-list', bs, '--topic', 'test'], 'hello from the seed\nsecond line\n');
      expect(produced.code).toBe(0);
      const consumed = await kts(['console-consumer', '--bootstrap-server', bs, '--topic', 'test', '--from-beginning', '--max-messages', '2']);
      expect(consumed.stdout).toBe('hello from the seed\nsecond line\n');
      expect(consumed.stderr).toContain('Processed a total of 2 messages');
      const zk = await ZooKeeperClient.connect(`127.0.0.1:${zkPort}`, { sessionTimeoutMs: 4000 });
      expect(await zk.getChildren('/brokers/ids')).toEqual(['0']);
      expect(await zk.getChildren('/brokers/topics')).toEqual(['test']);
      await zk.close();
    } finally {
      // Both write into `dir` while they shut down: wait for the exits before it is removed.
      await stopProcess(brokerProc);
      await stopProcess(zkProc);
    }
  }, 60_000);
});
