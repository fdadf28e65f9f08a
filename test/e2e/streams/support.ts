// Shared by the Streams end-to-end tests: the TypeScript apps (fixtures/*.mjs, which import the
// package's `kts-kafka/streams` export from dist/) run as child processes, and topics are read
// back with kts's own client.
import { type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { KafkaClient, type FetchedRecord } from '../../../src/client/index.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';

export const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const CACHE = process.env.KTS_INTEROP_CACHE || join(homedir(), '.cache/kts-interop');

export interface App {
  child: ChildProcess;
  output(): string;
  /** Resolves once the app printed RUNNING; rejects if it exits first. */
  running: Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startApp(command: string, args: string[], opts: { cwd?: string } = {}): App {
  const child = spawnTracked(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-50_000)));
  const running = new Promise<void>((res, rej) => {
    child.stdout!.on('data', () => /^RUNNING$/m.test(out) && res());
    child.once('close', (code, signal) => rej(new Error(`app exited (${code ?? signal}) before RUNNING:\n${out}`)));
  });
  running.catch(() => undefined);
  return { child, output: () => out, running, stop: async (signal = 'SIGTERM') => (await stopProcess(child, signal, 30_000)).code };
}

/** Every record of a topic's partitions, from offset 0 to the (last stable) end, in partition order. */
export async function readTopic(client: KafkaClient, topic: string, opts: { readCommitted?: boolean } = {}): Promise<FetchedRecord[]> {
  const md = await client.topic(topic, true);
  const isolationLevel = opts.readCommitted ? 1 : 0;
  const out: FetchedRecord[] = [];
  for (const p of md.partitions) {
    const [end] = await client.admin.listOffsets([{ topic, partition: p.partition, timestamp: -1 }], { isolationLevel });
    let offset = 0;
    while (offset < end.offset) {
      const [f] = await client.fetch([{ topic, partition: p.partition, offset, maxBytes: 16 << 20 }], { maxWaitMs: 50, isolationLevel });
      if (f.error) throw f.error;
      for (const r of f.records) if (r.offset < end.offset) out.push(r);
      offset = f.nextOffset;
    }
  }
  return out;
}

export const longValue = (b: Buffer | null) => (b === null ? null : Number(b.readBigInt64BE(0)));

/** Polls `fn` every 100 ms until it returns a value other than undefined. */
export async function pollFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, detail: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${detail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The Kafka Streams 4.4 jars (scripts/fetch-kafka.mjs streams-4.4.0); null locally when missing, an error in CI. */
export function kafkaStreamsLib(): string | null {
  const lib = join(CACHE, 'kafka-streams-4.4.0', 'lib');
  if (existsSync(join(lib, 'kafka-streams-4.4.0.jar'))) return lib;
  if (process.env.KTS_REQUIRE_INTEROP === '1') throw new Error(`Kafka Streams 4.4.0 is required (KTS_REQUIRE_INTEROP=1) but ${lib} is missing: run node scripts/fetch-kafka.mjs`);
  return null;
}

/** Compiles fixtures/<name>.java against `lib` once (cached by source and jar set); returns the class directory. */
export function compileJava(name: string, lib: string): string {
  const source = join(FIXTURES, `${name}.java`);
  const hash = createHash('sha256').update(readFileSync(source)).update(lib).digest('hex').slice(0, 16);
  const dir = join(CACHE, `java-streams-${name}-${hash}`);
  if (existsSync(join(dir, `${name}.class`))) return dir;
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync('javac', ['-nowarn', '-d', staging, '-cp', `${lib}/*`, source], { stdio: 'pipe' });
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run got there first
  }
  return dir;
}

/** Reads a topic's committed records as they come, from where the previous read stopped. */
export class TopicFollower {
  private readonly offsets = new Map<number, number>();
  readonly records: FetchedRecord[] = [];
  constructor(
    private readonly client: KafkaClient,
    private readonly topic: string,
  ) {}

  /** Appends what was committed since the last call; returns the number of new records. */
  async poll(): Promise<number> {
    const md = await this.client.topic(this.topic);
    const before = this.records.length;
    const requests = md.partitions.map((p) => ({ topic: this.topic, partition: p.partition, offset: this.offsets.get(p.partition) ?? 0, maxBytes: 16 << 20 }));
    for (const f of await this.client.fetch(requests, { maxWaitMs: 0, isolationLevel: 1 })) {
      if (f.error) throw f.error;
      this.records.push(...f.records);
      this.offsets.set(f.partition, f.nextOffset);
    }
    return this.records.length - before;
  }
}
