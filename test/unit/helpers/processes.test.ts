// The test helpers never remove a temp dir under a process that is still writing into it: that race
// (a SIGTERMed broker writing its checkpoints into the HOME that test/setup.ts was removing) failed
// the suite with ENOTEMPTY 3 times in 6 on a fresh clone.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from '../../helpers/broker.js';
import { exitOf, liveProcessCount, spawnTracked, stopProcess } from '../../helpers/processes.js';

/** A child that, once it gets SIGTERM (handlers set before it says ready), goes on writing into `dir`/data for `lingerMs`, then exits 0. */
const LINGERING_WRITER = `
const { mkdirSync, writeFileSync } = require('node:fs');
const [dir, lingerMs] = [process.argv[1], Number(process.argv[2])];
let n = 0;
const write = () => { mkdirSync(dir + '/data', { recursive: true }); writeFileSync(dir + '/data/f' + (n++ % 50), 'x'.repeat(4096)); };
const timer = setInterval(write, 2);
process.on('SIGTERM', () => setTimeout(() => { clearInterval(timer); process.exit(0); }, lingerMs));
/*EXTRA*/
process.stdout.write('ready\\n');
`;

async function startWriter(dir: string, lingerMs: number, extra = '') {
  const child = spawnTracked(process.execPath, ['-e', LINGERING_WRITER.replace('/*EXTRA*/', extra), dir, String(lingerMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => child.stdout!.once('data', () => r()));
  return child;
}

describe('test helpers: processes and temp dirs', () => {
  it('removeTempDirs waits for a SIGTERMed process still writing into its dir, then removes the dir for good', async () => {
    const home = tempDir('kts-lingering-');
    mkdirSync(join(home, 'data'));
    const child = await startWriter(home, 1000);
    // What zero-config.test.ts used to do in its afterAll: signal, and not wait.
    child.kill('SIGTERM');
    await removeTempDirs();
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
    expect(existsSync(home)).toBe(false);
    expect(liveProcessCount()).toBe(0);
  });

  it('stopProcess waits for the exit, and SIGKILLs a process that ignores the signal past the grace', async () => {
    const dir = tempDir('kts-stubborn-');
    const alreadyLive = liveProcessCount();
    const polite = await startWriter(dir, 200);
    expect(await stopProcess(polite, 'SIGTERM', 10_000)).toEqual({ code: 0, signal: null });

    const stubborn = await startWriter(dir, 0, `process.removeAllListeners('SIGTERM'); process.on('SIGTERM', () => {});`);
    const started = Date.now();
    expect(await stopProcess(stubborn, 'SIGTERM', 300)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(liveProcessCount()).toBe(alreadyLive);
  });
});
