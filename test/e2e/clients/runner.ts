// Runs one driver scenario (protocol.md): `<driver> <scenario> '<json>'`, JSON lines on stdout.
import type { ChildProcess } from 'node:child_process';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';

export interface DriverCommand {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export type Outcome =
  | { kind: 'result'; result: any; stderr: string }
  | { kind: 'unsupported'; reason: string }
  | { kind: 'failed'; message: string };

/** A driver process that keeps running (the `group` scenario): its events as they arrive. */
export interface LiveDriver {
  child: ChildProcess;
  events: any[];
  assigned: number[];
  records: { partition: number; offset: number }[];
  log(): string;
  /** Resolves once the driver has exited and its stdout and stderr are read to their end. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startDriver(cmd: DriverCommand, scenario: string, config: object): LiveDriver {
  const child = spawnTracked(cmd.command, [...cmd.args, scenario, JSON.stringify(config)], {
    env: { ...process.env, ...cmd.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close', not 'exit': a driver's last lines may still be in the pipe when it has exited.
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('close', (code, signal) => res({ code, signal })));
  const d: LiveDriver = { child, events: [], assigned: [], records: [], log: () => `${out}\n--- stderr ---\n${err}`, closed };
  let out = '';
  let err = '';
  let buf = '';
  child.stdout!.on('data', (chunk) => {
    out += chunk;
    buf += chunk;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      let e: any;
      try {
        e = JSON.parse(line);
      } catch {
        continue;
      }
      d.events.push(e);
      if (e.event === 'assigned') d.assigned = [...e.partitions].sort((a: number, b: number) => a - b);
      else if (e.event === 'record') d.records.push({ partition: e.partition, offset: e.offset });
    }
  });
  child.stderr!.on('data', (chunk) => (err += chunk));
  return d;
}

/** Runs a scenario to its end (killing the driver after timeoutMs) and tells how it ended. */
export async function runDriver(cmd: DriverCommand, scenario: string, config: object, timeoutMs = 90_000): Promise<Outcome> {
  const d = startDriver(cmd, scenario, config);
  const timer = setTimeout(() => void stopProcess(d.child, 'SIGKILL'), timeoutMs);
  const { code, signal } = await d.closed;
  clearTimeout(timer);
  const last = d.events.at(-1);
  if (code === 0 && last?.event === 'unsupported') return { kind: 'unsupported', reason: last.reason };
  if (code === 0 && last?.event === 'result') return { kind: 'result', result: last, stderr: d.log() };
  const why = signal ? `killed by ${signal} (timeout ${timeoutMs} ms?)` : `exit ${code}`;
  return { kind: 'failed', message: `${scenario}: ${why}\n${d.log().slice(-4000)}` };
}
