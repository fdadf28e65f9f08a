// Kafka's durability settings, checked on the real binary with strace watching its system calls:
//   - log.flush.interval.messages / topic flush.messages = 1: an fdatasync of the segment per
//     acknowledged produce (default: never forced; a process crash is survived by the page cache);
//   - log.flush.interval.ms / flush.ms: unflushed data is synced within about that time;
//   - checkpoints are replaced atomically: write temp, fdatasync it, rename over, fsync the dir;
//   - a clean stop leaves the clean-shutdown marker and a recovery point per partition.
// Ordering "fdatasync before the ack" is checked at the storage layer (test/unit/storage/faults:
// a failed fdatasync with flush.messages=1 is not acknowledged); here we count the calls per produce.
import { type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KTS_BIN, freePort, tempDir } from '../../helpers/broker.js';
import { exitOf, spawnTracked, stopProcess } from '../../helpers/processes.js';
import { RawClient } from '../../helpers/raw-client.js';
import { requireTool } from '../../helpers/tools.js';
import { createTopic, figure, produce, sleep } from './support.js';

const strace = requireTool('strace', ['/usr/bin/strace']);

interface Traced {
  port: number;
  dataDir: string;
  traceFile: string;
  child: ChildProcess;
  trace(): string;
  stop(): Promise<void>;
}

const running: Traced[] = [];
// A test that failed midway leaves a broker under strace: kill the broker (strace only detaches
// from a signal it gets itself), then wait for strace to exit before test/setup.ts removes the dirs.
afterAll(async () => {
  for (const t of running) {
    if (t.child.exitCode !== null || t.child.signalCode !== null) continue;
    for (const pid of tracedPids(t.child)) process.kill(pid, 'SIGKILL');
    await stopProcess(t.child, 'SIGTERM', 10_000);
  }
});

/** The processes strace started (the broker). */
function tracedPids(strace: ChildProcess): number[] {
  try {
    return readFileSync(`/proc/${strace.pid}/task/${strace.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // strace already gone
  }
}

async function startTraced(overrides: Record<string, string>): Promise<Traced> {
  const port = await freePort();
  const dataDir = tempDir('kts-durability-');
  const traceDir = tempDir('kts-strace-');
  const traceFile = join(traceDir, 'trace');
  const args = ['-f', '-qq', '-y', '-e', 'trace=fdatasync,fsync,rename,renameat,renameat2,openat', '-o', traceFile, process.execPath, KTS_BIN, 'server-start'];
  const all = { listeners: `PLAINTEXT://127.0.0.1:${port}`, 'log.dirs': dataDir, 'group.initial.rebalance.delay.ms': '0', ...overrides };
  for (const [k, v] of Object.entries(all)) args.push('--override', `${k}=${v}`);
  const child = spawnTracked(strace!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!/ready: bootstrap server/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`broker under strace did not start:\n${out}`);
    await sleep(50);
  }
  const t: Traced = {
    port,
    dataDir,
    traceFile,
    child,
    trace: () => readFileSync(traceFile, 'utf8'),
    async stop() {
      // SIGTERM to the broker itself (strace would only detach); strace exits after it.
      for (const pid of tracedPids(child)) process.kill(pid, 'SIGTERM');
      await exitOf(child);
    },
  };
  running.push(t);
  return t;
}

function lastIndex(xs: string[], pred: (x: string, i: number) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i], i)) return i;
  return -1;
}

/** fdatasync/fsync calls on a partition's segment files so far. */
const syncsOn = (trace: string, partitionDir: string) =>
  trace.split('\n').filter((l) => /\b(fdatasync|fsync)\(\d+</.test(l) && l.includes(`/${partitionDir}/`) && /\.log>/.test(l)).length;

describe.skipIf(!strace)('durability settings (strace on the real broker)', () => {
  it('flush.messages=1 on a topic syncs each produce; the default never forces; a clean stop writes checkpoints atomically', async () => {
    const b = await startTraced({});
    const raw = await RawClient.connect(b.port);
    expect(await createTopic(raw, 'synced', 1, { 'flush.messages': '1' })).toBe(0);
    expect(await createTopic(raw, 'lazy', 1)).toBe(0);
    const N = 25;
    for (let i = 0; i < N; i++) {
      expect((await produce(raw, 'synced', [`s${i}`])).errorCode).toBe(0);
      expect((await produce(raw, 'lazy', [`l${i}`])).errorCode).toBe(0);
    }
    const synced = syncsOn(b.trace(), 'synced-0');
    const lazy = syncsOn(b.trace(), 'lazy-0');
    raw.close();
    expect(existsSync(join(b.dataDir, '.kafka_cleanshutdown'))).toBe(false);
    await b.stop();

    // Clean stop: the marker, and a recovery point per partition at its log end offset.
    expect(existsSync(join(b.dataDir, '.kafka_cleanshutdown'))).toBe(true);
    const checkpoint = readFileSync(join(b.dataDir, 'recovery-point-offset-checkpoint'), 'utf8');
    expect(checkpoint).toMatch(/^synced 0 25$/m);
    expect(checkpoint).toMatch(/^lazy 0 25$/m);

    // The last checkpoint write: temp opened, temp synced, renamed over the file, directory synced.
    const lines = b.trace().split('\n');
    const tmpName = 'recovery-point-offset-checkpoint.tmp';
    const renameAt = lastIndex(lines, (l) => /rename/.test(l) && l.includes(tmpName));
    expect(renameAt).toBeGreaterThan(0);
    const syncTmpAt = lastIndex(lines, (l, i) => i < renameAt && /fdatasync|fsync/.test(l) && l.includes(tmpName));
    const openTmpAt = lastIndex(lines, (l, i) => i < syncTmpAt && /openat/.test(l) && l.includes(tmpName));
    const dirSyncAt = lines.findIndex((l, i) => i > renameAt && /\b(fdatasync|fsync)\(\d+</.test(l) && l.includes(`<${b.dataDir}>`));
    figure(
      'durability',
      `flush.messages=1 topic: ${synced} fdatasync of its segment for ${N} acknowledged produces; default topic: ${lazy} for ${N}; ` +
        `checkpoint: open tmp (line ${openTmpAt}) < fdatasync tmp (${syncTmpAt}) < rename (${renameAt}) < fsync dir (${dirSyncAt}); ` +
        `clean-shutdown marker written; recovery points synced 0 25, lazy 0 25`,
    );
    expect(synced).toBeGreaterThanOrEqual(N);
    expect(lazy).toBe(0);
    expect(openTmpAt).toBeGreaterThanOrEqual(0);
    expect(syncTmpAt).toBeGreaterThan(openTmpAt);
    expect(dirSyncAt).toBeGreaterThan(renameAt);
  }, 60_000);

  it('log.flush.interval.messages=1 from the broker config syncs every produce; log.flush.interval.ms syncs within about that time', async () => {
    const b = await startTraced({ 'log.flush.interval.messages': '1' });
    const raw = await RawClient.connect(b.port);
    expect(await createTopic(raw, 'every', 1)).toBe(0);
    for (let i = 0; i < 20; i++) expect((await produce(raw, 'every', [`e${i}`])).errorCode).toBe(0);
    const every = syncsOn(b.trace(), 'every-0');
    raw.close();
    await b.stop();

    // As in Kafka, the time-based flush is checked every log.flush.scheduler.interval.ms.
    const c = await startTraced({ 'log.flush.interval.ms': '300', 'log.flush.scheduler.interval.ms': '100' });
    const raw2 = await RawClient.connect(c.port);
    expect(await createTopic(raw2, 'timed', 1)).toBe(0);
    expect((await produce(raw2, 'timed', ['t0'])).errorCode).toBe(0);
    const right = syncsOn(c.trace(), 'timed-0');
    // Polled, not slept: under strace on a busy machine the 100 ms scheduler can run late.
    const producedAt = Date.now();
    let later = 0;
    while ((later = syncsOn(c.trace(), 'timed-0')) === 0 && Date.now() - producedAt < 20_000) await sleep(50);
    const syncedAfterMs = Date.now() - producedAt;
    raw2.close();
    await c.stop();
    figure(
      'durability',
      `log.flush.interval.messages=1: ${every} fdatasync for 20 produces; log.flush.interval.ms=300 (scheduler 100 ms): ${right} syncs right after a produce, the first within ${syncedAfterMs} ms`,
    );
    expect(every).toBeGreaterThanOrEqual(20);
    expect(later).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
