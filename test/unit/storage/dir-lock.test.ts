// The data dir lock on its own: refused in this process and in others, taken over when its owner is
// gone (by exactly one of several processes racing for it), never taken from a process holding a
// kernel lock on `.lock` (as Apache Kafka does), and removed on release only if still ours.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DirLockedError, lockDir } from '../../../src/storage/dir-lock.js';
import { tempDir } from '../../helpers/broker.js';
import { exitOf, spawnTracked, stopProcess } from '../../helpers/processes.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const quiet = { warn() {} };
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await stopProcess(c, 'SIGKILL');
});

let lockModule: string;
beforeAll(async () => {
  lockModule = join(ROOT, 'node_modules/.cache/kts-test', `dir-lock-${process.pid}.mjs`);
  await build({ entryPoints: [join(ROOT, 'src/storage/dir-lock.ts')], outfile: lockModule, bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' });
});
afterAll(() => rmSync(lockModule, { force: true }));

/** A process that tries to lock `dir`: prints "locked <pid>" and holds it until killed, or "refused: <message>" and exits. */
function contender(dir: string, goAt = 0): { child: ChildProcess; said: Promise<string> } {
  // All contenders of a race start at the same moment (goAt), not as their node processes come up.
  const script = `
    const { lockDir } = await import(${JSON.stringify(lockModule)});
    await new Promise((r) => setTimeout(r, Math.max(0, ${goAt} - Date.now() - 20)));
    while (Date.now() < ${goAt});
    try {
      await lockDir(${JSON.stringify(dir)}, 'test', { warn() {} });
      console.log('locked ' + process.pid);
      setInterval(() => {}, 1000);
    } catch (err) {
      console.log('refused: ' + err.message);
    }`;
  const child = spawnTracked(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const said = new Promise<string>((res) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) res(out.trim());
    });
    // 'close', not 'exit': a refused contender prints and exits, and its exit can be seen before its last output.
    child.once('close', () => res(out.trim()));
  });
  return { child, said };
}

/** The pid of a process that has exited (its pid is free, or reused by something that started later). */
function deadPid(): number {
  return Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).trim());
}

describe('the data dir lock', () => {
  it('is refused a second time in this process, and released only by its holder', async () => {
    const dir = tempDir('kts-lock-');
    const lock = await lockDir(dir, 'broker', quiet);
    await expect(lockDir(dir, 'broker', quiet)).rejects.toThrow(`Failed to acquire lock on file .lock in ${dir}. A kts broker in this process is using this directory.`);
    await lock.release();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    const again = await lockDir(dir, 'broker', quiet);
    // A lock file that is no longer ours (another process took it over) is left alone on release.
    writeFileSync(join(dir, '.lock'), 'pid=1\nstart=1\nboot=x\nowner=broker\n');
    await again.release();
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toContain('pid=1\n');
  });

  it('is refused to another process while held, naming the holder', async () => {
    const dir = tempDir('kts-lock-');
    const lock = await lockDir(dir, 'broker', quiet);
    const other = contender(dir);
    expect(await other.said).toBe(`refused: Failed to acquire lock on file .lock in ${dir}. A kts broker (pid ${process.pid}) in another process is using this directory.`);
    await lock.release();
  });

  it('a stale lock is taken over by exactly one of several processes racing for it', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = tempDir('kts-lock-race-');
      writeFileSync(join(dir, '.lock'), `pid=${deadPid()}\nstart=1\nboot=\nowner=broker\n`);
      const goAt = Date.now() + 2500;
      const racers = Array.from({ length: 6 }, () => contender(dir, goAt));
      const said = await Promise.all(racers.map((r) => r.said));
      const winners = said.filter((s) => s.startsWith('locked '));
      expect(winners, said.join('\n')).toHaveLength(1);
      const winnerPid = winners[0].slice('locked '.length);
      for (const s of said.filter((x) => !x.startsWith('locked '))) {
        expect(s).toMatch(new RegExp(`^refused: Failed to acquire lock on file \\.lock in .*\\(pid ${winnerPid}\\)`));
      }
      expect(readFileSync(join(dir, '.lock'), 'utf8')).toContain(`pid=${winnerPid}\n`);
      for (const r of racers) await stopProcess(r.child, 'SIGKILL');
    }
  });

  it('a kernel lock on .lock (Apache Kafka holds an fcntl lock there) is never taken over', async () => {
    const dir = tempDir('kts-lock-kafka-');
    const holder = spawnTracked('flock', ['--exclusive', join(dir, '.lock'), 'sleep', '60'], { stdio: 'ignore' });
    children.push(holder);
    // flock creates the (empty) file, then locks it: wait until /proc/locks shows a lock on its inode.
    const lockFile = join(dir, '.lock');
    const deadline = Date.now() + 10_000;
    const locked = () => existsSync(lockFile) && readFileSync('/proc/locks', 'utf8').includes(`:${statSync(lockFile).ino} `);
    while (!locked()) {
      if (Date.now() > deadline) throw new Error('flock did not take its lock');
      await new Promise((r) => setTimeout(r, 20));
    }
    const refusal = await lockDir(dir, 'broker', quiet).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refusal).toBeInstanceOf(DirLockedError);
    expect((refusal as Error).message).toMatch(/^Failed to acquire lock on file \.lock in .*\. Another process \(pid \d+, holding a kernel lock on it/);
    expect(existsSync(lockFile)).toBe(true);
    await stopProcess(holder, 'SIGKILL');
    await exitOf(holder);
  });
});
