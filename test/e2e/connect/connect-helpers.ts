// Starts `kts connect-standalone` in a directory and waits until its REST API answers.
import type { ChildProcess } from 'node:child_process';
import { KTS_BIN } from '../../helpers/broker.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';

export interface RunningWorker {
  child: ChildProcess;
  url: string;
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

export async function startWorker(cwd: string, restPort: number, files: string[], timeoutMs = 30_000): Promise<RunningWorker> {
  const child = spawnTracked(process.execPath, [KTS_BIN, 'connect-standalone', ...files], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${restPort}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`kts connect-standalone exited ${child.exitCode}: ${out}`);
    const res = await fetch(`${url}/connectors`).catch(() => null);
    if (res?.ok) {
      const names = (await res.json()) as string[];
      // The command line's connectors are created right after the REST server starts.
      if (names.length >= files.length - 1) break;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`the worker's REST API did not answer within ${timeoutMs} ms: ${out}`);
    await sleep(100);
  }
  return {
    child,
    url,
    output: () => out,
    kill9: async () => void (await stopProcess(child, 'SIGKILL')),
    stop: async () => (await stopProcess(child, 'SIGTERM', 20_000)).code,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it returns true; throws with `what` after timeoutMs. */
export async function waitFor(what: string | (() => string), check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(100);
  }
}
