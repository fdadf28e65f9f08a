// Every process a test starts goes through here, so that none outlives its test file: a process
// still writing into a temp dir while test/setup.ts removes that dir fails the removal (ENOTEMPTY)
// or leaves the dir behind, and one still bound to a port disturbs the next file. Stopping means
// waiting for the exit, never just sending a signal.
import { spawn, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
/** Per tracked child: resolves on 'close', once it has exited and its stdout/stderr pipes are read to the end. */
const closed = new WeakMap<ChildProcess, Promise<void>>();

export const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Registers a child so that stopAllProcesses() (run before the temp dirs go) waits for it. */
export function track<T extends ChildProcess>(child: T): T {
  if (hasExited(child)) return child;
  live.add(child);
  child.once('exit', () => live.delete(child));
  closed.set(child, new Promise((resolve) => child.once('close', () => resolve())));
  // A child that failed to spawn never emits 'exit'.
  child.once('error', () => {
    if (child.pid === undefined) live.delete(child);
  });
  return child;
}

/** spawn() + track(), typed as spawn() is (so piped stdio is not nullable). */
export const spawnTracked = ((...args: Parameters<typeof spawn>) => track(spawn(...args))) as typeof spawn;

/** Resolves once the child has exited (at once if it already has). */
function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (hasExited(child) || child.pid === undefined) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Resolves once the child has exited and, when tracked, its output is read to the end: a caller
 * reading what it printed next sees the last lines.
 */
export async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const ended = await exited(child);
  await outputClosed(child);
  return ended;
}

/**
 * Resolves once a tracked child's output is read to the end ('close'): 'exit' can come before the
 * last lines are read from the pipes. Bounded by ms, for a pipe a grandchild still holds open.
 */
export async function outputClosed(child: ChildProcess, ms = 10_000): Promise<void> {
  const done = closed.get(child);
  if (!done) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** Waits up to ms for the child to exit; true if it did. */
async function exitWithin(child: ChildProcess, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const exit = exited(child).then(() => true as const);
  try {
    return await Promise.race([exit, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends `signal` and waits for the exit; a process that has not exited after graceMs gets SIGKILL
 * and is waited for again. Resolves with how it ended, once its output is read to the end (so a
 * caller reading the output next sees the last lines).
 */
export async function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 20_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (!hasExited(child) && child.pid !== undefined) {
    child.kill(signal);
    if (signal !== 'SIGKILL' && !(await exitWithin(child, graceMs))) child.kill('SIGKILL');
  }
  return exitOf(child);
}

/** Stops every tracked process still running (SIGTERM, then SIGKILL after graceMs) and waits for each. */
export async function stopAllProcesses(graceMs = 10_000): Promise<void> {
  await Promise.all([...live].map((child) => stopProcess(child, 'SIGTERM', graceMs)));
}

/** How many tracked processes are still running (for the helpers' own test). */
export const liveProcessCount = () => live.size;
