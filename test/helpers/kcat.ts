// Runs Debian's kcat (librdkafka) as a real third-party client.
import { exitOf, spawnTracked } from './processes.js';
import { kcatPath } from './tools.js';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d) => out.push(d));
    child.stderr!.on('data', (d) => err.push(d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out\nstdout: ${Buffer.concat(out)}\nstderr: ${Buffer.concat(err)}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
  });
}

/** kcat with the given args; throws with its stderr on a non-zero exit. */
export async function kcat(args: string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
  const bin = kcatPath();
  if (!bin) throw new Error('kcat not installed');
  const result = await run(bin, args, opts);
  if (result.code !== 0) throw new Error(`kcat ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

/**
 * A record a kcat producer saw acknowledged (its delivery report named partition and offset; the
 * offset is UNKNOWN_OFFSET, -1001, for a batch librdkafka acknowledged implicitly: acked-records.ts).
 */
export interface KcatAck {
  partition: number;
  offset: number;
  value: string;
  at: number;
}

/**
 * `kcat -P` to one partition, fed line by line while it runs, with acks=all and idempotence; each
 * delivery report (kcat prints them at -vv, in the order the records were sent: idempotence keeps a
 * partition's reports in order) is matched with the value it stands for.
 *
 * kcat reads its input in 1024-byte chunks and prints a report when it next reads, so each line is
 * padded to 1024 bytes (a key of dots, split off with -K tab) and a report comes one line later.
 */
export class KcatAckedProducer {
  readonly acked: KcatAck[] = [];
  readonly failed: string[] = [];
  /** Reports that match no record sent (none expected: the test checks). */
  readonly unmatched: string[] = [];
  private readonly unreported: string[] = [];
  private readonly child;
  private stderrTail = '';
  /** Resolves once kcat has exited and its stderr is read to the end ('close', not 'exit': the last reports may come after 'exit'). */
  private readonly closed: Promise<{ code: number | null }>;

  constructor(bootstrap: string, topic: string, readonly partition: number, extraConfig: string[] = []) {
    const bin = kcatPath();
    if (!bin) throw new Error('kcat not installed');
    const config = ['acks=all', 'enable.idempotence=true', 'linger.ms=5', 'retry.backoff.ms=100', 'message.timeout.ms=60000', ...extraConfig];
    this.child = spawnTracked(bin, ['-P', '-b', bootstrap, '-t', topic, '-p', String(partition), '-K', '\\t', '-vv', '-E', ...config.flatMap((c) => ['-X', c])], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.child.stdin!.on('error', () => {});
    let pending = '';
    this.closed = new Promise((resolve) => this.child.once('close', (code: number | null) => {
      if (pending) this.onLine(pending);
      pending = '';
      resolve({ code });
    }));
    this.child.stderr!.on('data', (d: Buffer) => {
      pending += d.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) this.onLine(line);
    });
  }

  private onLine(line: string): void {
    const delivered = /Message delivered to partition (\d+) \(offset (-?\d+)\)/.exec(line);
    const failed = /Delivery failed for message: (.*)/.exec(line);
    if (delivered) {
      const value = this.unreported.shift();
      if (value === undefined || Number(delivered[1]) !== this.partition) this.unmatched.push(line);
      else this.acked.push({ partition: this.partition, offset: Number(delivered[2]), value, at: Date.now() });
    } else if (failed) {
      this.failed.push(`${this.unreported.shift()}: ${failed[1]}`);
    } else {
      this.stderrTail = (this.stderrTail + line + '\n').slice(-3000);
    }
  }

  send(value: string): void {
    if (value.includes('\t') || value.includes('\n') || value.length > 1000) throw new Error(`not a value for a padded line: ${value}`);
    this.unreported.push(value);
    this.child.stdin!.write(`${'.'.repeat(1024 - value.length - 2)}\t${value}\n`);
  }

  /** kcat's other stderr lines (errors, librdkafka logs), the last 3000 characters. */
  stderr(): string {
    return this.stderrTail;
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Ends the input and waits for kcat to deliver (or give up on) what it has and exit. */
  async close(timeoutMs = 90_000): Promise<{ code: number | null; unreported: number }> {
    this.child.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([this.closed, new Promise<null>((r) => (timer = setTimeout(() => r(null), timeoutMs)))]);
    clearTimeout(timer);
    if (!exited) {
      this.child.kill('SIGKILL');
      await exitOf(this.child);
      throw new Error(`kcat producer to partition ${this.partition} did not exit within ${timeoutMs} ms; stderr: ${this.stderrTail}`);
    }
    return { code: exited.code, unreported: this.unreported.length };
  }
}
