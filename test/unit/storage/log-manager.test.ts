import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, KafkaError } from '../../../src/protocol/errors.js';
import { LogManager } from '../../../src/storage/index.js';
import { parseCheckpoint } from '../../../src/storage/checkpoint.js';
import { captureLogger, makeTempDir, openManager, recordsOf, testConfig, valuesBatch } from './helpers.js';

let root: string;
let dir: string;
let cleanup: () => Promise<void>;
let manager: LogManager | undefined;

beforeEach(async () => {
  ({ dir: root, cleanup } = await makeTempDir());
  dir = join(root, 'logs');
});
afterEach(async () => {
  await manager?.close().catch(() => {});
  manager = undefined;
  await cleanup();
});

async function code(p: Promise<unknown>): Promise<number | undefined> {
  return p.then(
    () => undefined,
    (e: unknown) => (e instanceof KafkaError ? e.code : -999),
  );
}

describe('LogManager.create', () => {
  it('refuses illegal topic names and creates nothing outside the log dir', async () => {
    manager = await openManager(dir);
    const before = (await readdir(root)).sort();
    for (const name of ['', '.', '..', '../x', '../../etc', 'a/b', '/abs', 'a b', 'x'.repeat(250), 'tópico', 'a\u0000b', '..\\x']) {
      expect(await code(manager.create(name, 0)), name).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
    }
    expect(await code(manager.create('ok', -1))).toBe(ErrorCode.INVALID_PARTITIONS);
    expect(await code(manager.create('ok', 1.5))).toBe(ErrorCode.INVALID_PARTITIONS);
    expect((await readdir(root)).sort()).toEqual(before);
    expect(await readdir(dir)).not.toContain('ok-0');
    // The legal extremes work.
    await manager.create('x'.repeat(249), 0);
    await manager.create('a.b_c-D', 7);
    expect(manager.all().map((l) => l.dir.slice(dir.length + 1)).sort()).toEqual(['a.b_c-D-7', `${'x'.repeat(249)}-0`]);
  });

  it('is idempotent, dedupes concurrent creates, and applies a given config', async () => {
    manager = await openManager(dir);
    const [a, b] = await Promise.all([manager.create('t', 0), manager.create('t', 0)]);
    expect(a).toBe(b);
    await a.append(valuesBatch('v', 2));
    const c = await manager.create('t', 0, testConfig({ retentionMs: 123 }));
    expect(c).toBe(a);
    expect(c.config.retentionMs).toBe(123);
    expect(c.logEndOffset).toBe(2);
  });

  it('loads a partition dir that already exists on disk but was not open', async () => {
    manager = await openManager(dir);
    await mkdir(join(dir, 'late-0'));
    const log = await manager.create('late', 0);
    expect(log.logEndOffset).toBe(0);
    await log.append(valuesBatch('v', 1));
    expect(log.logEndOffset).toBe(1);
  });
});

describe('LogManager.delete', () => {
  it('renames the dir to *-delete, removes it, and the partition can be created afresh', async () => {
    manager = await openManager(dir);
    const log = await manager.create('gone', 0);
    await log.append(valuesBatch('v', 5));
    await manager.delete('gone', 0);
    expect(manager.get('gone', 0)).toBeUndefined();
    expect(await readdir(dir)).not.toContain('gone-0');
    expect((await readdir(dir)).some((n) => n.includes('-delete'))).toBe(false);
    expect(await code(log.append(valuesBatch('late', 1)))).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(await code(log.read(0, 100))).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const fresh = await manager.create('gone', 0);
    expect(fresh.logEndOffset).toBe(0);
    await manager.delete('never-existed', 3); // no-op
    await manager.close();
    manager = undefined;
    const { offsets } = parseCheckpoint(await import('node:fs/promises').then((f) => f.readFile(join(dir, 'recovery-point-offset-checkpoint'), 'utf8')));
    expect([...offsets.keys()]).toEqual(['gone 0']);
  });
});

describe('LogManager.open', () => {
  it('spreads partitions over several log dirs and finds them again', async () => {
    const dirs = [join(root, 'd1'), join(root, 'd2')];
    manager = await LogManager.open({ logDirs: dirs, defaults: testConfig(), logger: captureLogger() });
    for (let p = 0; p < 4; p++) await (await manager.create('multi', p)).append(valuesBatch(`p${p}-`, p + 1));
    expect((await readdir(dirs[0])).filter((n) => n.startsWith('multi')).length).toBe(2);
    expect((await readdir(dirs[1])).filter((n) => n.startsWith('multi')).length).toBe(2);
    await manager.close();
    manager = await LogManager.open({ logDirs: dirs, defaults: testConfig(), logger: captureLogger() });
    for (let p = 0; p < 4; p++) {
      const log = manager.get('multi', p)!;
      expect(log.logEndOffset).toBe(p + 1);
      expect(recordsOf((await log.read(0, 1000)).records).at(-1)!.value).toBe(`p${p}-${p}`);
    }
  });

  it('ignores stray files and non-partition dirs in the log dir root', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'meta.properties'), 'version=0\n');
    await writeFile(join(dir, 'kts-metadata.json'), '{}');
    await mkdir(join(dir, 'lost+found'));
    const logger = captureLogger();
    manager = await openManager(dir, { logger });
    expect(manager.all()).toEqual([]);
    expect(logger.lines.filter((l) => l.startsWith('WARN'))).toEqual([expect.stringContaining('lost+found')]);
  });

  it('close is idempotent and later calls fail cleanly', async () => {
    manager = await openManager(dir);
    const log = await manager.create('c', 0);
    await manager.close();
    await manager.close();
    expect(await code(log.append(valuesBatch('v', 1)))).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await code(manager.create('d', 0))).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    manager = undefined;
  });
});
