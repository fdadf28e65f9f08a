// Creating a topic (or growing one) is all or nothing: when a partition's files cannot be made part
// way through (EMFILE injected through the FileSystem seam on one partition's segment file), the
// create fails with KAFKA_STORAGE_ERROR and leaves no topic behind: not in the registry, not in the
// metadata file, no partition directory, and nothing after a restart. A retry after the fault works.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TopicRegistry } from '../../../src/cluster/topic-registry.js';
import { BrokerConfig } from '../../../src/config/broker-config.js';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { LogManager } from '../../../src/storage/index.js';
import { captureLogger, faultyFs, makeTempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const open: Array<{ logs: LogManager; registry: TopicRegistry }> = [];

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterEach(async () => {
  for (const { logs, registry } of open.splice(0)) {
    await registry.close().catch(() => {});
    await logs.close().catch(() => {});
  }
  await cleanup();
});

async function start() {
  const config = new BrokerConfig(new Map([['log.dirs', dir]]));
  const fs = faultyFs(undefined, 'EMFILE');
  const logger = captureLogger();
  const logs = await LogManager.open({ logDirs: [dir], defaults: config.logConfig(), fs, logger });
  const registry = await TopicRegistry.open(config, logs, logger);
  const node = { logs, registry };
  open.push(node);
  const restart = async () => {
    open.splice(open.indexOf(node), 1);
    await registry.close();
    await logs.close();
    return start();
  };
  return { fs, logs, registry, logger, restart };
}

/** The segment file of `topic-partition` cannot be opened (the process is out of descriptors). */
const failOpenOf = (topic: string, partition: number) => (op: string, path: string) =>
  op === 'open' && path.includes(`/${topic}-${partition}/`) ? ('fail' as const) : undefined;

async function rejection(p: Promise<unknown>): Promise<KafkaError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KafkaError);
  return err as KafkaError;
}

const partitionDirs = async (topic: string) => (await readdir(dir)).filter((n) => n.startsWith(`${topic}-`)).sort();
const storedTopics = async () => Object.keys(JSON.parse(await readFile(join(dir, 'kts-metadata.json'), 'utf8')).topics).sort();

describe('CreateTopics is all or nothing', () => {
  it('a create whose 6th partition fails leaves no topic, no dirs, not even after a restart; a retry succeeds', async () => {
    const first = await start();
    await first.registry.create('keep', 2);
    first.fs.fault = failOpenOf('t', 5);
    const err = await rejection(first.registry.create('t', 10));
    expect(err.code).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(err.message).toMatch(/EMFILE/);
    expect(first.registry.get('t')).toBeUndefined();
    expect(first.registry.list().map((t) => t.name)).toEqual(['keep']);
    expect(await storedTopics()).toEqual(['keep']);
    expect(await partitionDirs('t')).toEqual([]);
    expect(first.logs.all().filter((l) => l.topic === 't')).toEqual([]);

    const second = await first.restart();
    expect(second.registry.get('t')).toBeUndefined();
    expect(await partitionDirs('t')).toEqual([]);
    expect(second.logs.all().map((l) => l.name).sort()).toEqual(['keep-0', 'keep-1']);

    // The fault is gone (descriptors freed): the same create now works completely.
    const created = await second.registry.create('t', 10);
    expect(created.partitions).toBe(10);
    expect(await partitionDirs('t')).toHaveLength(10);
    expect(await storedTopics()).toEqual(['keep', 't']);
    for (let p = 0; p < 10; p++) expect(second.logs.get('t', p)).toBeDefined();
  });

  it('CreatePartitions that fails part way keeps the old count and removes the new partitions', async () => {
    const first = await start();
    await first.registry.create('g', 2);
    first.fs.fault = failOpenOf('g', 4);
    const err = await rejection(first.registry.addPartitions('g', 6));
    expect(err.code).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(first.registry.get('g')!.partitions).toBe(2);
    expect(await partitionDirs('g')).toEqual(['g-0', 'g-1']);
    expect(JSON.parse(await readFile(join(dir, 'kts-metadata.json'), 'utf8')).topics.g.partitions).toBe(2);

    const second = await first.restart();
    expect(second.registry.get('g')!.partitions).toBe(2);
    expect(await partitionDirs('g')).toEqual(['g-0', 'g-1']);
    expect((await second.registry.addPartitions('g', 6)).partitions).toBe(6);
    expect(await partitionDirs('g')).toHaveLength(6);
  });

  it('partition dirs the metadata file does not name (a crash between the logs and the save) are removed at start-up', async () => {
    const first = await start();
    await first.registry.create('known', 1);
    await first.logs.create('half-made', 0);
    await first.logs.create('known', 3);
    const second = await first.restart();
    expect(second.logs.all().map((l) => l.name)).toEqual(['known-0']);
    expect((await readdir(dir)).filter((n) => /^[a-z-]+-\d+$/.test(n) && !n.includes('checkpoint')).sort()).toEqual(['known-0']);
    expect(second.logger.lines.some((l) => /stray log .*half-made-0/.test(l))).toBe(true);
  });
});
