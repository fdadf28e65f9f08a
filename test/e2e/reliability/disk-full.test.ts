// A full disk under a running broker: log.dirs on a 4 MiB tmpfs (mounted here, as root), filled with
// a filler file, then produce until the disk is full. The producer gets KAFKA_STORAGE_ERROR (56),
// the broker stays up, everything acknowledged stays readable, nothing that failed is ever visible
// (no half-written batch, no gap in the offsets), and writes resume once the filler is deleted -
// also across a kill -9 and restart. Where mount is not permitted the test is skipped and says so;
// the same paths are covered through the storage fault seam in test/unit/storage/faults.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { createTopic, figure, produce, readPartition } from './support.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'kts-enospc-'));
let mounted = false;
let mountError = '';
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint], { stdio: 'pipe' });
  mounted = true;
} catch (err) {
  mountError = String((err as { stderr?: Buffer }).stderr ?? err).trim();
}

const STORAGE_ERROR = 56;

describe.skipIf(!mounted)('disk full (4 MiB tmpfs)', () => {
  let broker: SpawnedBroker | undefined;
  beforeAll(() => {
    if (!mounted) console.log(`reliability[disk-full] skipped: mount not permitted (${mountError}); see test/unit/storage/faults.test.ts`);
  });
  afterAll(async () => {
    await broker?.kill9();
    if (mounted) {
      try {
        execFileSync('umount', [mountPoint], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
      }
    }
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('answers KAFKA_STORAGE_ERROR, keeps serving reads, never shows a failed write, resumes when space returns', async () => {
    const dataDir = join(mountPoint, 'data');
    broker = await spawnBroker({ dataDir });
    let raw = await RawClient.connect(broker.port);
    expect(await createTopic(raw, 'full', 1)).toBe(0);

    // Leave about 600 KiB free, then write 20 KiB batches until the disk refuses.
    const free = () => {
      const s = statfsSync(mountPoint);
      return s.bavail * s.bsize;
    };
    const filler = join(mountPoint, 'filler');
    writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 600 * 1024)));
    const value = (n: number) => `v${n}-`.padEnd(20 * 1024, 'x');
    const acked: number[] = [];
    let n = 0;
    let firstError = -1;
    for (; n < 400; n++) {
      const res = await produce(raw, 'full', [value(n)]);
      if (res.errorCode === 0) {
        expect(res.baseOffset).toBe(acked.length);
        acked.push(n);
      } else {
        firstError = res.errorCode;
        break;
      }
    }
    const failedN = n;
    expect(firstError).toBe(STORAGE_ERROR);
    // More attempts while full: all refused, never acknowledged.
    const whileFull: number[] = [];
    for (let i = 1; i <= 5; i++) whileFull.push((await produce(raw, 'full', [value(failedN + i)])).errorCode);
    expect(whileFull.every((c) => c === STORAGE_ERROR)).toBe(true);

    // Still up, still reading: exactly the acknowledged records, nothing of the failed writes.
    expect(broker.process.exitCode).toBeNull();
    const duringFull = await readPartition(broker.port, 'full');
    expect(duringFull.errorCode).toBe(0);
    expect(duringFull.records.map((r) => r.value!.split('-')[0])).toEqual(acked.map((a) => `v${a}`));
    const metadataOk = (await raw.request(3, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).topics.length >= 1;
    raw.close();

    // A crash while the disk is still full: the broker restarts (recovery cannot write its indexes
    // or checkpoints, which is not fatal) and serves the same records.
    await broker.kill9();
    broker = await spawnBroker({ dataDir, port: broker.port });
    const restartedFull = await readPartition(broker.port, 'full');
    expect(restartedFull.records.map((r) => r.value!.split('-')[0])).toEqual(acked.map((a) => `v${a}`));
    raw = await RawClient.connect(broker.port);
    expect((await produce(raw, 'full', [value(failedN + 10)])).errorCode).toBe(STORAGE_ERROR);

    // Space comes back: the next write lands right after the last acknowledged one.
    unlinkSync(filler);
    const resumed = await produce(raw, 'full', ['after-space']);
    expect(resumed).toEqual({ errorCode: 0, baseOffset: acked.length });
    raw.close();

    // And a crash afterwards does not resurrect anything that failed.
    await broker.kill9();
    broker = await spawnBroker({ dataDir, port: broker.port });
    const after = await readPartition(broker.port, 'full');
    expect(after.records.map((r) => r.value!.split('-')[0])).toEqual([...acked.map((a) => `v${a}`), 'after']);
    expect(after.records.map((r) => r.offset)).toEqual(after.records.map((_, i) => i));
    figure(
      'disk-full',
      `tmpfs 4 MiB: ${acked.length} x 20 KiB batches acknowledged, then error ${firstError} (KAFKA_STORAGE_ERROR) and ${whileFull.length} more refusals; ` +
        `broker up, Fetch served ${duringFull.records.length}/${acked.length} acknowledged records while full (0 failed writes visible), Metadata ok: ${metadataOk}; kill -9 and restart while still full: started, served ${restartedFull.records.length}, still refused writes; ` +
        `after deleting the filler the next write got offset ${resumed.baseOffset}; after kill -9 + restart ${after.records.length} records, offsets contiguous`,
    );
  }, 90_000);
});
