// What a start does to a data directory before it is sure it may use it: a second broker on a live
// log.dirs is refused by the lock (and writes nothing there), a start that cannot bind its port
// writes nothing either, a lock left by kill -9 does not block the next start, and files that are
// not what the broker expects (an index that is a directory, a meta.properties that is garbage or
// from another cluster or broker) stop the start with a line naming the file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KTS_BIN, freePort, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { spawnTracked } from '../../helpers/processes.js';
import { RawClient } from '../../helpers/raw-client.js';
import { spawnCoordinator, type SpawnedCoordinator } from '../../helpers/zookeeper.js';
import { createTopic, produce, readPartition } from '../reliability/support.js';

const brokers: SpawnedBroker[] = [];
const coordinators: SpawnedCoordinator[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.kill9();
  for (const c of coordinators.splice(0)) await c.kill9();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function start(opts: Parameters<typeof spawnBroker>[0] = {}): Promise<SpawnedBroker> {
  const b = await spawnBroker(opts);
  brokers.push(b);
  return b;
}

interface FailedStart {
  code: number | null;
  output: string;
}

/**
 * `kts server-start` expected to refuse: resolves with its exit code and output. A start that comes
 * up instead is killed and reported as code 'started' so the assertion fails with its output.
 */
function startExpectingRefusal(dataDir: string, port: number, overrides: Record<string, string> = {}): Promise<FailedStart & { started?: boolean }> {
  const args = [KTS_BIN, 'server-start'];
  const all = { listeners: `PLAINTEXT://127.0.0.1:${port}`, 'log.dirs': dataDir, ...overrides };
  for (const [k, v] of Object.entries(all)) args.push('--override', `${k}=${v}`);
  const child = spawnTracked(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server-start neither started nor exited in 30 s:\n${output}`));
    }, 30_000);
    const onData = (d: Buffer) => {
      output += d;
      if (/ready: bootstrap server/.test(output)) child.kill('SIGKILL');
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, started: /ready: bootstrap server/.test(output) });
    });
  });
}

/**
 * Every file and directory under `dir`: content hash, size and mtime (ns), so any write shows. A
 * start on a dir nobody holds takes the lock (`.lock` is created, then removed when the start
 * fails), which moves the mtime of the dir itself: `lockTaken` leaves that one out.
 */
function snapshot(dir: string, lockTaken = false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string, rel: string) => {
    const st = statSync(path, { bigint: true });
    if (st.isDirectory()) {
      out[`${rel}/`] = lockTaken && rel === '' ? 'dir' : `dir mtime=${st.mtimeNs}`;
      for (const name of readdirSync(path).sort()) walk(join(path, name), `${rel}/${name}`);
    } else {
      const hash = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);
      out[rel] = `${hash} size=${st.size} mtime=${st.mtimeNs}`;
    }
  };
  walk(dir, '');
  return out;
}

/** A broker with one topic and `batches` acknowledged batches of 10 records, values `<topic>-<offset>`. */
async function brokerWithData(topic: string, batches: number): Promise<SpawnedBroker> {
  const broker = await start();
  const raw = await RawClient.connect(broker.port);
  expect(await createTopic(raw, topic, 1, { 'segment.bytes': '20000' })).toBe(0);
  await produceBatches(raw, topic, 0, batches);
  raw.close();
  return broker;
}

async function produceBatches(raw: RawClient, topic: string, from: number, batches: number): Promise<void> {
  for (let b = from; b < from + batches; b++) {
    const res = await produce(raw, topic, Array.from({ length: 10 }, (_, i) => `${topic}-${b * 10 + i}`));
    expect(res).toEqual({ errorCode: 0, baseOffset: b * 10 });
  }
}

async function expectAllRecords(port: number, topic: string, count: number): Promise<void> {
  const { records, errorCode } = await readPartition(port, topic);
  expect(errorCode).toBe(0);
  expect(records.map((r) => r.offset)).toEqual(Array.from({ length: count }, (_, i) => i));
  expect(records.every((r) => r.value === `${topic}-${r.offset}`)).toBe(true);
}

const lockRefusal = (dir: string) => `Failed to acquire lock on file .lock in ${dir}.`;

describe('the log dir lock', () => {
  it('refuses a second broker on a live log.dirs, naming the dir, and the live broker loses nothing', async () => {
    const live = await brokerWithData('locked', 10);
    const raw = await RawClient.connect(live.port);

    const second = await startExpectingRefusal(live.dataDir, await freePort());
    expect(second.started, second.output).toBeFalsy();
    expect(second.code).toBe(1);
    expect(second.output).toContain(lockRefusal(live.dataDir));
    expect(second.output).toContain(`pid ${live.process.pid}`);

    await produceBatches(raw, 'locked', 10, 10);
    raw.close();
    await live.kill9();
    const restarted = await start({ dataDir: live.dataDir, port: live.port });
    await expectAllRecords(restarted.port, 'locked', 200);
  });

  it('is released by a clean stop, and one left by kill -9 does not block the next start', async () => {
    const first = await brokerWithData('stale', 2);
    const lockFile = join(first.dataDir, '.lock');
    expect(existsSync(lockFile)).toBe(true);
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(existsSync(lockFile)).toBe(false);

    const second = await start({ dataDir: first.dataDir, port: first.port });
    await second.kill9();
    expect(existsSync(lockFile)).toBe(true);
    const third = await start({ dataDir: first.dataDir, port: first.port });
    await expectAllRecords(third.port, 'stale', 20);
  });

  it('a lock naming a live process that is not its owner (pid reused) or an empty one (a Kafka dir) is stale', async () => {
    const first = await brokerWithData('reused', 1);
    await first.kill9();
    const lockFile = join(first.dataDir, '.lock');
    const held = readFileSync(lockFile, 'utf8');
    // The pid of a live process (this test runner) but another process's start time: the owner is gone.
    writeFileSync(lockFile, held.replace(/^pid=\d+$/m, `pid=${process.pid}`));
    const second = await start({ dataDir: first.dataDir, port: first.port });
    await expectAllRecords(second.port, 'reused', 10);
    expect(second.output()).toContain(`Removed stale lock ${lockFile}`);
    await second.kill9();
    // Apache Kafka leaves an empty .lock behind (its lock is an fcntl lock on it).
    writeFileSync(lockFile, '');
    const third = await start({ dataDir: first.dataDir, port: first.port });
    await expectAllRecords(third.port, 'reused', 10);
  });
});

describe('a start that fails writes nothing into the data directory', () => {
  it('a second start on the port and log.dirs of a live broker', async () => {
    const live = await brokerWithData('same-port', 5);
    const before = snapshot(live.dataDir);
    const second = await startExpectingRefusal(live.dataDir, live.port);
    expect(second.started, second.output).toBeFalsy();
    expect(second.code).toBe(1);
    expect(snapshot(live.dataDir)).toEqual(before);
    // The live broker still serves, and its kill -9 is recovered as a crash.
    await live.kill9();
    expect(existsSync(join(live.dataDir, '.kafka_cleanshutdown'))).toBe(false);
    const restarted = await start({ dataDir: live.dataDir, port: live.port });
    await expectAllRecords(restarted.port, 'same-port', 50);
  });

  it('a second start on the log.dirs of a live broker, another port', async () => {
    const live = await brokerWithData('other-port', 5);
    const before = snapshot(live.dataDir);
    const second = await startExpectingRefusal(live.dataDir, await freePort());
    expect(second.code).toBe(1);
    expect(snapshot(live.dataDir)).toEqual(before);
  });

  it('a start whose port is taken, on the dir of a stopped broker', async () => {
    const first = await brokerWithData('port-taken', 5);
    expect(await first.stop('SIGTERM')).toBe(0);
    const before = snapshot(first.dataDir, true);
    const squatter = createServer();
    servers.push(squatter);
    const port = await freePort();
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', r));
    const refused = await startExpectingRefusal(first.dataDir, port);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(new RegExp(`Unable to bind 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    expect(snapshot(first.dataDir, true)).toEqual(before);
  });
});

describe('files that are not what they should be', () => {
  it('an index replaced by a directory stops the start with a line naming it, and changes nothing', async () => {
    const first = await brokerWithData('index-dir', 3);
    expect(await first.stop('SIGTERM')).toBe(0);
    const index = join(first.dataDir, 'index-dir-0', '00000000000000000000.index');
    rmSync(index);
    mkdirSync(index);
    const before = snapshot(first.dataDir, true);
    const refused = await startExpectingRefusal(first.dataDir, first.port);
    expect(refused.started, refused.output).toBeFalsy();
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`${index} is a directory, not a segment file`);
    expect(snapshot(first.dataDir, true)).toEqual(before);
  });

  it('garbage in meta.properties stops the start with a line naming the file', async () => {
    const first = await brokerWithData('meta-garbage', 1);
    expect(await first.stop('SIGTERM')).toBe(0);
    const meta = join(first.dataDir, 'meta.properties');
    const cases: Array<[string | Buffer, string]> = [
      [Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x37, 0x0a, 0x80, 0x81]), 'not a properties file'],
      ['this is not\nwhat a broker writes\n', 'none of version, broker.id, node.id, cluster.id'],
      ['version=abc\nbroker.id=0\ncluster.id=x\n', "Invalid meta.properties version string 'abc'"],
      ['version=7\nbroker.id=0\ncluster.id=x\n', 'Unknown meta.properties version number 7'],
      ['version=0\nbroker.id=zero\ncluster.id=x\n', 'Unable to read broker.id as a base-10 number'],
    ];
    for (const [content, problem] of cases) {
      writeFileSync(meta, content);
      const before = snapshot(first.dataDir, true);
      const refused = await startExpectingRefusal(first.dataDir, first.port);
      expect(refused.started, refused.output).toBeFalsy();
      expect(refused.code).toBe(1);
      expect(refused.output).toContain(meta);
      expect(refused.output).toContain(problem);
      expect(snapshot(first.dataDir, true)).toEqual(before);
    }
  });

  it('a meta.properties from another cluster, or another broker id, is refused', async () => {
    const first = await brokerWithData('meta-foreign', 1);
    expect(await first.stop('SIGTERM')).toBe(0);
    const meta = join(first.dataDir, 'meta.properties');
    const original = readFileSync(meta, 'utf8');
    const clusterId = /^cluster\.id=(.*)$/m.exec(original)![1];
    const foreign = 'Q1Zvcmx1dGlvbl9jbHVzdGVy';
    writeFileSync(meta, original.replace(/^cluster\.id=.*$/m, `cluster.id=${foreign}`));
    const before = snapshot(first.dataDir, true);
    const refused = await startExpectingRefusal(first.dataDir, first.port);
    expect(refused.started, refused.output).toBeFalsy();
    expect(refused.code).toBe(1);
    expect(refused.output).toContain(`Invalid cluster.id in: ${meta}. Expected ${clusterId}, but read ${foreign}`);
    expect(snapshot(first.dataDir, true)).toEqual(before);

    writeFileSync(meta, original);
    const otherId = await startExpectingRefusal(first.dataDir, first.port, { 'node.id': '7' });
    expect(otherId.started, otherId.output).toBeFalsy();
    expect(otherId.code).toBe(1);
    expect(otherId.output).toContain(`Configured broker.id 7 doesn't match stored broker.id 0 in ${meta}`);

    const restarted = await start({ dataDir: first.dataDir, port: first.port });
    await expectAllRecords(restarted.port, 'meta-foreign', 10);
  });

  it('with ZooKeeper, a log dir from another cluster is refused (InconsistentClusterIdException)', async () => {
    const zkA = await spawnCoordinator();
    coordinators.push(zkA);
    const first = await start({ overrides: { 'zookeeper.connect': `127.0.0.1:${zkA.port}`, 'zookeeper.session.timeout.ms': '6000' } });
    expect(await first.stop('SIGTERM'), first.output()).toBe(0);
    const meta = join(first.dataDir, 'meta.properties');
    const clusterA = /^cluster\.id=(.*)$/m.exec(readFileSync(meta, 'utf8'))?.[1];
    expect(clusterA).toBeTruthy();

    const zkB = await spawnCoordinator();
    coordinators.push(zkB);
    const before = snapshot(first.dataDir, true);
    const refused = await startExpectingRefusal(first.dataDir, first.port, { 'zookeeper.connect': `127.0.0.1:${zkB.port}` });
    expect(refused.started, refused.output).toBeFalsy();
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(
      new RegExp(`The Cluster ID \\S+ doesn't match stored clusterId ${clusterA} in ${meta}\\. The broker is trying to join the wrong cluster\\.`),
    );
    expect(snapshot(first.dataDir, true)).toEqual(before);
    // Its own cluster still takes it.
    const again = await start({ dataDir: first.dataDir, port: first.port, overrides: { 'zookeeper.connect': `127.0.0.1:${zkA.port}` } });
    expect(readFileSync(meta, 'utf8')).toContain(`cluster.id=${clusterA}`);
    expect(await again.stop('SIGTERM'), again.output()).toBe(0);
  });

  it('the first start on an empty directory does not claim an unclean shutdown', async () => {
    const first = await start();
    expect(first.output()).toMatch(/loading logs from .* \(new log dir\)/);
    expect(first.output()).not.toContain('unclean');
    // Once it holds logs, a kill -9 is an unclean shutdown.
    const raw = await RawClient.connect(first.port);
    expect(await createTopic(raw, 'first-start')).toBe(0);
    raw.close();
    await first.kill9();
    const second = await start({ dataDir: first.dataDir, port: first.port });
    expect(second.output()).toContain('unclean shutdown before');
  });
});

describe('the coordinator dataDir lock', () => {
  it('refuses a second coordinator on a live dataDir, naming it, and is released by kill -9', async () => {
    const dataDir = tempDir('kts-zk-lock-');
    const first = await spawnCoordinator({ dataDir });
    coordinators.push(first);
    const before = snapshot(dataDir);
    let second: SpawnedCoordinator | undefined;
    const refusal = await spawnCoordinator({ dataDir }).then(
      (c) => {
        second = c;
        coordinators.push(c);
        return '';
      },
      (err: Error) => err.message,
    );
    expect(second, 'a second coordinator started on the same dataDir').toBeUndefined();
    expect(refusal).toContain(lockRefusal(dataDir));
    expect(snapshot(dataDir)).toEqual(before);
    await first.kill9();
    const third = await spawnCoordinator({ dataDir });
    coordinators.push(third);
  });
});
