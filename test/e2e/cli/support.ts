// Runs the real binary (node bin/kts.js, as built by `npm run build`) the way a user or a script
// would: arguments, stdin, environment, exit code, stdout and stderr kept apart.
import { type ChildProcess } from 'node:child_process';
import { KTS_BIN } from '../../helpers/broker.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';

export interface KtsResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface KtsOptions {
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Run through another program name (a symlink to bin/kts.js). */
  bin?: string;
}

export function kts(args: string[], opts: KtsOptions = {}): Promise<KtsResult> {
  const child = start(args, opts);
  return finish(child, opts.timeoutMs ?? 30_000, args);
}

/** A long-running kts process (a consumer): read its output as it comes, stop it with a signal. */
export function startKts(args: string[], opts: KtsOptions = {}) {
  const child = start(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<KtsResult>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitForStdout(pred: (s: string) => boolean, timeoutMs = 20_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!pred(stdout)) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for output; stdout: ${stdout}\nstderr: ${stderr}`);
        if (child.exitCode !== null) throw new Error(`kts exited ${child.exitCode}; stdout: ${stdout}\nstderr: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    /** Sends the signal and resolves once the output is complete (SIGKILL if it has not exited after 20 s). */
    async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<KtsResult> {
      await stopProcess(child, signal);
      return exited;
    },
  };
}

function start(args: string[], opts: KtsOptions): ChildProcess {
  const argv = opts.bin ? [opts.bin, ...args] : [KTS_BIN, ...args];
  const child = spawnTracked(process.execPath, argv, {
    env: { ...process.env, KTS_BOOTSTRAP_SERVER: '', FORCE_COLOR: '0', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.on('error', () => {});
  child.stdin!.end(opts.input ?? '');
  return child;
}

function finish(child: ChildProcess, timeoutMs: number, args: string[]): Promise<KtsResult> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d) => out.push(d));
    child.stderr!.on('data', (d) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kts ${args.join(' ')} timed out\nstdout: ${Buffer.concat(out)}\nstderr: ${Buffer.concat(err)}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** A Java/Node stack frame line; the tools must never print one. */
export const STACK_LINE = /^\s+at\s/m;
