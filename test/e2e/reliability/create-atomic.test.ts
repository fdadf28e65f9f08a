// CreateTopics and CreatePartitions are all or nothing on the real binary. The broker runs under
// strace, which makes the kernel's answer to opening one partition's segment file EMFILE (the
// process is out of descriptors) - a real failed system call part way through the create. The
// client gets KAFKA_STORAGE_ERROR and nothing of the topic is left: not in Metadata, not in the
// metadata file, no partition directory, and not after a restart; without the fault the same
// request then succeeds.
import { type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KTS_BIN, freePort, spawnBroker, tempDir } from '../../helpers/broker.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { RawClient } from '../../helpers/raw-client.js';
import { requireTool } from '../../helpers/tools.js';
import { exitOf, spawnTracked, stopProcess } from '../../helpers/processes.js';
import { spawnCoordinator } from '../../helpers/zookeeper.js';
import { ZooKeeperClient } from '../../../src/cluster/zookeeper-client.js';
import { createTopic, produce, readPartition, sleep } from './support.js';

const strace = requireTool('strace', ['/usr/bin/strace']);

const running: ChildProcess[] = [];
// A test that failed midway leaves a broker under strace: kill it, then wait for strace to exit
// before test/setup.ts removes its data dir.
afterAll(async () => {
  for (const child of running) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    for (const pid of childPids(child)) process.kill(pid, 'SIGKILL');
    await stopProcess(child, 'SIGTERM', 10_000);
  }
});

function childPids(child: ChildProcess): number[] {
  try {
    return readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The broker under strace, every openat of the `failPaths` answered EMFILE. */
async function startWithFailingOpen(dataDir: string, port: number, failPaths: string[], extra: Record<string, string> = {}): Promise<{ stop(): Promise<void> }> {
  const args = ['-f', '-qq', '--seccomp-bpf', '-o', '/dev/null', '-e', 'trace=openat', '-e', 'inject=openat:error=EMFILE'];
  for (const path of failPaths) args.push('-P', path);
  args.push(process.execPath, KTS_BIN, 'server-start');
  const overrides = { listeners: `PLAINTEXT://127.0.0.1:${port}`, 'log.dirs': dataDir, 'group.initial.rebalance.delay.ms': '0', ...extra };
  for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
  const child = spawnTracked(strace!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!/ready: bootstrap server/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`broker under strace did not start:\n${out}`);
    await sleep(50);
  }
  return {
    async stop() {
      // SIGTERM to the broker itself (strace would only detach); strace exits after it.
      for (const pid of childPids(child)) process.kill(pid, 'SIGTERM');
      await exitOf(child);
    },
  };
}

const partitionDirs = (dataDir: string, topic: string) => readdirSync(dataDir).filter((n) => n.startsWith(`${topic}-`));
const storedTopics = (dataDir: string) => Object.keys(JSON.parse(readFileSync(join(dataDir, 'kts-metadata.json'), 'utf8')).topics).sort();

async function metadataTopic(raw: RawClient, name: string) {
  const res = await raw.request(3, 4, { topics: [{ name }], allowAutoTopicCreation: false });
  return res.topics[0];
}

describe.skipIf(!strace)('create is all or nothing (EMFILE injected by strace on the real broker)', () => {
  it('CreateTopics failing at partition 5 of 10 leaves no topic, CreatePartitions keeps the old count, also after a restart; retries without the fault succeed', async () => {
    const dataDir = tempDir('kts-create-atomic-');
    const port = await freePort();
    const segmentOf = (partitionDir: string) => join(dataDir, partitionDir, '00000000000000000000.log');
    const faulty = await startWithFailingOpen(dataDir, port, [segmentOf('t-5'), segmentOf('g-4')]);
    let raw = await RawClient.connect(port);
    try {
      expect(await createTopic(raw, 'keep', 1)).toBe(0);
      expect(await createTopic(raw, 't', 10)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
      expect((await metadataTopic(raw, 't')).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      expect(storedTopics(dataDir)).toEqual(['keep']);
      expect(partitionDirs(dataDir, 't')).toEqual([]);
      // Still faulty: the retry fails the same way and still leaves nothing.
      expect(await createTopic(raw, 't', 10)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
      expect(partitionDirs(dataDir, 't')).toEqual([]);

      expect(await createTopic(raw, 'g', 2)).toBe(0);
      const grow = await raw.request(37, 1, { topics: [{ name: 'g', count: 6, assignments: null }], timeoutMs: 10000, validateOnly: false });
      expect(grow.results[0].errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
      expect((await metadataTopic(raw, 'g')).partitions).toHaveLength(2);
      expect(JSON.parse(readFileSync(join(dataDir, 'kts-metadata.json'), 'utf8')).topics.g.partitions).toBe(2);
      expect(partitionDirs(dataDir, 'g').sort()).toEqual(['g-0', 'g-1']);
      expect((await produce(raw, 'keep', ['still serving'])).errorCode).toBe(0);
    } finally {
      raw.close();
      await faulty.stop();
    }

    const broker = await spawnBroker({ dataDir, port });
    raw = await RawClient.connect(port);
    try {
      expect((await metadataTopic(raw, 't')).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      expect(partitionDirs(dataDir, 't')).toEqual([]);
      expect((await metadataTopic(raw, 'g')).partitions).toHaveLength(2);
      expect(partitionDirs(dataDir, 'g').sort()).toEqual(['g-0', 'g-1']);

      expect(await createTopic(raw, 't', 10)).toBe(0);
      const grow = await raw.request(37, 1, { topics: [{ name: 'g', count: 6, assignments: null }], timeoutMs: 10000, validateOnly: false });
      expect(grow.results[0].errorCode).toBe(0);
      expect((await metadataTopic(raw, 't')).partitions).toHaveLength(10);
      expect((await metadataTopic(raw, 'g')).partitions).toHaveLength(6);
      expect(partitionDirs(dataDir, 't')).toHaveLength(10);
      expect(partitionDirs(dataDir, 'g')).toHaveLength(6);
      expect((await produce(raw, 't', ['five'], 5)).errorCode).toBe(0);
      expect((await produce(raw, 'g', ['four'], 4)).errorCode).toBe(0);
      expect((await readPartition(port, 't', 5)).records.map((r) => r.value)).toEqual(['five']);
      expect((await readPartition(port, 'g', 4)).records.map((r) => r.value)).toEqual(['four']);
    } finally {
      raw.close();
      await broker.stop();
    }
  });

  it('the same with the ZooKeeper store (kts coordinator): nothing is written to ZooKeeper, no local log is left', async () => {
    const coordinator = await spawnCoordinator();
    const connect = `127.0.0.1:${coordinator.port}/kafka`;
    const zkOverrides = { 'broker.id': '1', 'zookeeper.connect': connect, 'zookeeper.session.timeout.ms': '4000' };
    const zkRead = async <T>(fn: (zk: ZooKeeperClient) => Promise<T>): Promise<T> => {
      const zk = await ZooKeeperClient.connect(connect, { sessionTimeoutMs: 4000 });
      try {
        return await fn(zk);
      } finally {
        await zk.close();
      }
    };
    const assignedCount = (topic: string) =>
      zkRead(async (zk) => Object.keys(JSON.parse((await zk.getData(`/brokers/topics/${topic}`)).data!.toString()).partitions).length);
    const dataDir = tempDir('kts-create-atomic-zk-');
    const port = await freePort();
    const segmentOf = (partitionDir: string) => join(dataDir, partitionDir, '00000000000000000000.log');
    try {
      const faulty = await startWithFailingOpen(dataDir, port, [segmentOf('t-5'), segmentOf('g-4')], zkOverrides);
      let raw = await RawClient.connect(port);
      try {
        expect(await createTopic(raw, 'keep', 1)).toBe(0);
        expect(await createTopic(raw, 't', 10)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
        expect((await metadataTopic(raw, 't')).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        expect(await zkRead((zk) => zk.getChildren('/brokers/topics'))).toEqual(['keep']);
        expect(await zkRead((zk) => zk.getChildren('/config/topics'))).toEqual(['keep']);
        expect(partitionDirs(dataDir, 't')).toEqual([]);

        expect(await createTopic(raw, 'g', 2)).toBe(0);
        const grow = await raw.request(37, 1, { topics: [{ name: 'g', count: 6, assignments: null }], timeoutMs: 10000, validateOnly: false });
        expect(grow.results[0].errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
        expect(await assignedCount('g')).toBe(2);
        expect((await metadataTopic(raw, 'g')).partitions).toHaveLength(2);
        expect(partitionDirs(dataDir, 'g').sort()).toEqual(['g-0', 'g-1']);
      } finally {
        raw.close();
        await faulty.stop();
      }

      const broker = await spawnBroker({ dataDir, port, overrides: zkOverrides });
      raw = await RawClient.connect(port);
      try {
        expect((await metadataTopic(raw, 't')).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        expect(partitionDirs(dataDir, 't')).toEqual([]);
        expect(partitionDirs(dataDir, 'g').sort()).toEqual(['g-0', 'g-1']);
        expect(await createTopic(raw, 't', 10)).toBe(0);
        const grow = await raw.request(37, 1, { topics: [{ name: 'g', count: 6, assignments: null }], timeoutMs: 10000, validateOnly: false });
        expect(grow.results[0].errorCode).toBe(0);
        expect(await assignedCount('t')).toBe(10);
        expect(await assignedCount('g')).toBe(6);
        expect(partitionDirs(dataDir, 't')).toHaveLength(10);
        expect(partitionDirs(dataDir, 'g')).toHaveLength(6);
        expect((await produce(raw, 't', ['five'], 5)).errorCode).toBe(0);
        expect((await produce(raw, 'g', ['four'], 4)).errorCode).toBe(0);
        expect((await readPartition(port, 't', 5)).records.map((r) => r.value)).toEqual(['five']);
        expect((await readPartition(port, 'g', 4)).records.map((r) => r.value)).toEqual(['four']);
      } finally {
        raw.close();
        await broker.stop();
      }
    } finally {
      await coordinator.stop();
    }
  });
});
