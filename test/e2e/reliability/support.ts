// Shared by the reliability tests: reading a whole partition back with raw Fetch requests, creating
// topics and producing with the wire codec, the broker's RSS from /proc, and a figure printer.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { KTS_BIN, freePort } from '../../helpers/broker.js';
import { spawnTracked } from '../../helpers/processes.js';
import { fetchBody, RawClient } from '../../helpers/raw-client.js';
import { buildRecordBatch, decodeRecords } from '../../../src/protocol/records/index.js';

export interface StoredRecord {
  offset: number;
  key: string | null;
  value: string | null;
}

/** Resident set size of a process, in kB (VmRSS in /proc/<pid>/status). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
  if (!Number.isFinite(kb)) throw new Error(`no VmRSS for pid ${pid}`);
  return kb;
}

/**
 * CPU time (user + system) in ms from a /proc stat file: the process's (all its threads) for
 * /proc/<pid>/stat, one thread's for /proc/<pid>/task/<tid>/stat. Fields 14 and 15 (utime, stime),
 * counted after the command name's closing parenthesis since the name may hold spaces.
 */
function cpuMsOf(statPath: string): number {
  const stat = readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime 15; both in clock ticks of 10 ms (CLK_TCK 100 on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The broker process's CPU time, every thread (ms). */
export const processCpuMs = (pid: number) => cpuMsOf(`/proc/${pid}/stat`);
/** CPU time of the broker's main thread, the one running the event loop (ms). */
export const mainThreadCpuMs = (pid: number) => cpuMsOf(`/proc/${pid}/task/${pid}/stat`);

export const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

/** Prints a figure the lead can quote, tagged so it is easy to find in CI output. */
export function figure(tag: string, text: string): void {
  console.log(`reliability[${tag}] ${text}`);
}

/** Every record of a partition from `from` to the high watermark, through Fetch v11. */
export async function readPartition(port: number, topic: string, partition = 0, from = 0): Promise<{ records: StoredRecord[]; highWatermark: number; errorCode: number }> {
  const raw = await RawClient.connect(port);
  try {
    const records: StoredRecord[] = [];
    let offset = from;
    let highWatermark = -1;
    for (;;) {
      const res = await raw.request(1, 11, fetchBody(topic, [{ partition, offset }], { maxBytes: 4 << 20 }));
      const p = res.responses[0].partitions[0];
      if (p.errorCode !== 0) return { records, highWatermark: Number(p.highWatermark), errorCode: p.errorCode };
      highWatermark = Number(p.highWatermark);
      const got = p.records ? decodeRecords(p.records).filter((r) => r.offset >= offset) : [];
      if (got.length === 0) break;
      for (const r of got) records.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null });
      offset = got[got.length - 1].offset + 1;
    }
    return { records, highWatermark, errorCode: 0 };
  } finally {
    raw.close();
  }
}

export async function createTopic(raw: RawClient, name: string, partitions = 1, configs: Record<string, string> = {}): Promise<number> {
  const res = await raw.request(19, 4, {
    topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })) }],
    timeoutMs: 10000,
    validateOnly: false,
  });
  return res.topics[0].errorCode;
}

/** Produce v7 with acks=-1: one batch of `values`; resolves with the partition's answer. */
export async function produce(raw: RawClient, topic: string, values: string[], partition = 0): Promise<{ errorCode: number; baseOffset: number }> {
  const res = await raw.request(0, 7, {
    transactionalId: null,
    acks: -1,
    timeoutMs: 10000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: buildRecordBatch(values.map((v) => ({ key: null, value: Buffer.from(v) }))) }] }],
  });
  const p = res.responses[0].partitionResponses[0];
  return { errorCode: p.errorCode, baseOffset: Number(p.baseOffset) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The bound on the second client's worst round trip in wall time during an attack: loose, since it
 * grows with the machine's load (up to ~3 s seen at load 30 on 2 cores); the decompression bombs
 * used to stall it 13-58 s. The tight bound is on the event loop's CPU time (worstStall), which load
 * does not inflate.
 */
export const SECOND_CLIENT_WALL_MS = 15_000;

export interface AttackFigures<T> {
  result: T;
  /** How long `attack` took, wall clock ms (printed; it grows with the machine's load). */
  elapsed: number;
  /** The broker's CPU time (all threads) while `attack` ran, ms: the cost of the attack. */
  cpu: number;
  /** The healthy client's worst round trip while it ran, wall clock ms (printed). */
  worst: number;
  /**
   * The broker's main-thread CPU time during the healthy client's worst round trip, ms: how long the
   * event loop was kept from serving it. Unlike the wall-clock figure it does not grow when other
   * processes take the cores, so bounds on it hold on a busy CI machine.
   */
  worstStall: number;
  rounds: number;
  /** The broker's peak RSS during the attack minus its RSS just before, kB. */
  growth: number;
}

/**
 * Runs `attack` while `healthy` alternates ApiVersions and a one-record Produce to `healthTopic`,
 * sampling the broker's RSS every 20 ms. One more healthy round trip is made after the attack is
 * answered, so a stall that outlasts the answer is counted too.
 */
export async function underAttack<T>(pid: number, healthy: RawClient, attack: () => Promise<T>, healthTopic = 'health'): Promise<AttackFigures<T>> {
  const baseline = rssKb(pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssKb(pid))), 20);
  let done = false;
  let worst = 0;
  let worstStall = 0;
  let rounds = 0;
  const health = (async () => {
    while (!done) {
      const t = performance.now();
      const cpuBefore = mainThreadCpuMs(pid);
      if (rounds % 2 === 0) {
        const res = await healthy.request(18, 3, { clientSoftwareName: 'health', clientSoftwareVersion: '1' });
        if (res.errorCode !== 0) throw new Error(`ApiVersions answered ${res.errorCode} during the attack`);
      } else {
        const { errorCode } = await produce(healthy, healthTopic, [`beat ${rounds}`]);
        if (errorCode !== 0) throw new Error(`a healthy Produce answered ${errorCode} during the attack`);
      }
      worst = Math.max(worst, performance.now() - t);
      worstStall = Math.max(worstStall, mainThreadCpuMs(pid) - cpuBefore);
      rounds++;
    }
  })();
  const start = performance.now();
  const cpuStart = processCpuMs(pid);
  try {
    const result = await attack();
    const elapsed = performance.now() - start;
    const cpu = processCpuMs(pid) - cpuStart;
    done = true;
    await health;
    return { result, elapsed, cpu, worst, worstStall, rounds, growth: Math.max(peak, rssKb(pid)) - baseline };
  } finally {
    done = true;
    await health.catch(() => {});
    clearInterval(sampler);
  }
}

/** Every file and dir under `root` with a hash of its bytes: equal trees mean nothing was written. */
export function treeOf(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return e.isDirectory() ? `${path}/` : `${path} ${createHash('sha1').update(readFileSync(path)).digest('hex')}`;
    })
    .sort();
}

/** Runs `kts server-start` on `dataDir` until it exits; one that starts is killed (it must not start). */
export async function startRefused(dataDir: string): Promise<{ code: number | null; output: string }> {
  const port = await freePort();
  const child = spawnTracked(
    process.execPath,
    [KTS_BIN, 'server-start', '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`, '--override', `log.dirs=${dataDir}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const seen = (d: Buffer) => {
    output += d;
    if (/ready: bootstrap server/.test(output)) child.kill('SIGKILL'); // it started: the test fails
  };
  child.stdout.on('data', seen);
  child.stderr.on('data', seen);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  // 'close', not 'exit': the refusal is its last output, and an exit can be seen before it is read.
  const code = await new Promise<number | null>((res) => child.once('close', (c) => res(c)));
  clearTimeout(timer);
  return { code, output };
}
