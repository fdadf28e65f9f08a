// The test kit's numbers (issue 15), all inside this one warm process:
// - start to first answer of an in-memory broker (startBroker({ port: 0, storage: 'memory' }) to an
//   ApiVersions answer on a fresh connection, then close), against the same on files; median and
//   p90 of BENCH_KIT_RUNS (default 40) starts;
// - start to first answer of startCluster({ brokers: 3 }): until broker 0's Metadata lists all three
//   brokers (BENCH_KIT_CLUSTER_RUNS, default 10), against one in-memory broker;
// - kcat (its own process) producing 1M x 100 B to one partition of a broker in this process, then
//   consuming it back to the end: the memory engine against the file engine, alternating, median of
//   BENCH_ROUNDS (default 3).
// Usage: npm run build && node bench/kit.mjs   (run.mjs: BENCH_ONLY=kit)
// The last line is JSON rows for bench/run.mjs's table.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.KTS_BIN ? resolve(dirname(process.env.KTS_BIN), '..') : resolve(import.meta.dirname, '..');
const { startBroker, startCluster } = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const runs = Number(process.env.BENCH_KIT_RUNS ?? 40);
const clusterRuns = Number(process.env.BENCH_KIT_CLUSTER_RUNS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

/** One request and its answer on a fresh connection: ApiVersions v0, header-only body. */
function apiVersions(port) {
  return new Promise((resolvePromise, reject) => {
    const s = connect({ port, host: '127.0.0.1' });
    const req = Buffer.alloc(14);
    req.writeInt32BE(10, 0);
    req.writeInt16BE(18, 4);
    req.writeInt16BE(0, 6);
    req.writeInt32BE(1, 8);
    req.writeInt16BE(-1, 12);
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        s.destroy();
        resolvePromise(buf.readInt16BE(8));
      }
    });
    s.on('error', reject);
    s.write(req);
  });
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)] };
};

async function startToFirstAnswer(storage) {
  const times = [];
  const dirs = [];
  // Two unmeasured starts warm the process (modules, codecs).
  for (let i = -2; i < runs; i++) {
    const dataDir = storage === 'files' ? mkdtempSync(join(tmpdir(), 'kts-bench-kit-')) : undefined;
    if (dataDir) dirs.push(dataDir);
    const t0 = performance.now();
    const b = await startBroker({ port: 0, host: '127.0.0.1', storage, dataDir, logLevel: 'error' });
    const code = await apiVersions(b.port);
    const ms = performance.now() - t0;
    await b.close();
    if (code !== 0) throw new Error(`ApiVersions answered ${code}`);
    if (i >= 0) times.push(ms);
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  return stats(times);
}

/** Metadata v1 (no topics) on a fresh connection: how many brokers it lists. */
function metadataBrokers(host, port) {
  return new Promise((resolvePromise, reject) => {
    const s = connect({ port, host });
    const req = Buffer.alloc(18);
    req.writeInt32BE(14, 0);
    req.writeInt16BE(3, 4);
    req.writeInt16BE(1, 6);
    req.writeInt32BE(1, 8);
    req.writeInt16BE(-1, 12);
    req.writeInt32BE(0, 14); // topics: none (an empty array, not null: no auto-create, no topic list)
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        s.destroy();
        resolvePromise(buf.readInt32BE(8));
      }
    });
    s.on('error', reject);
    s.write(req);
  });
}

/** startCluster({ brokers: 3 }) until broker 0's Metadata lists the three, then close (not timed). */
async function clusterStartToFirstAnswer() {
  const times = [];
  for (let i = -1; i < clusterRuns; i++) {
    const t0 = performance.now();
    const cluster = await startCluster({ brokers: 3, logLevel: 'error' });
    const b0 = cluster.broker(0);
    while ((await metadataBrokers(b0.host, b0.port)) < 3) await new Promise((r) => setTimeout(r, 1));
    const ms = performance.now() - t0;
    await cluster.close();
    if (i >= 0) times.push(ms);
  }
  return stats(times);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** kcat, its stdout counted (not kept): { wallMs, bytes, code, stderr }. */
function kcat(args) {
  return new Promise((resolvePromise) => {
    const t0 = performance.now();
    const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (d) => (bytes += d.length));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolvePromise({ wallMs: performance.now() - t0, bytes, code, stderr }));
  });
}

/** 1M lines of 100 bytes (99 + newline): kcat -l makes each one record. */
function recordsFile(dir, count, size) {
  const buf = Buffer.alloc(count * size, 'x');
  for (let i = 0; i < count; i++) {
    buf.write(`{"seq":${i}}`, i * size, 'latin1');
    buf[i * size + size - 1] = 10;
  }
  const path = join(dir, 'records.txt');
  writeFileSync(path, buf);
  return path;
}

/** Produce then consume 1M x 100 B through kcat against a broker in this process, per engine, alternating. */
async function engineThroughput() {
  const count = 1_000_000;
  const size = 100;
  const work = mkdtempSync(join(tmpdir(), 'kts-bench-kit-tp-'));
  const file = recordsFile(work, count, size);
  const result = { memory: { produce: [], consume: [] }, files: { produce: [], consume: [] } };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const storage of r % 2 ? ['files', 'memory'] : ['memory', 'files']) {
        const dataDir = storage === 'files' ? mkdtempSync(join(work, 'logs-')) : undefined;
        const b = await startBroker({ port: 0, host: '127.0.0.1', storage, dataDir, logLevel: 'error', recordRequests: false });
        try {
          const bootstrap = b.bootstrap;
          // The topic is auto-created by kcat's first Metadata request (num.partitions=1).
          const p = await kcat(['-P', '-b', bootstrap, '-t', 'tp', '-p', '0', '-X', 'acks=1', '-l', file]);
          if (p.code !== 0 || /ERROR|failed/i.test(p.stderr)) throw new Error(`kcat produce (${storage}) failed: ${p.stderr}`);
          const c = await kcat(['-C', '-b', bootstrap, '-t', 'tp', '-p', '0', '-o', 'beginning', '-e', '-q']);
          if (c.code !== 0 || c.bytes !== count * size) throw new Error(`kcat consume (${storage}) read ${c.bytes} bytes of ${count * size}: ${c.stderr}`);
          const mb = (count * size) / 1e6;
          result[storage].produce.push(mb / (p.wallMs / 1000));
          result[storage].consume.push(mb / (c.wallMs / 1000));
          console.log(`round ${r + 1} ${storage}: produce ${(p.wallMs / 1000).toFixed(2)} s (${(mb / (p.wallMs / 1000)).toFixed(1)} MB/s), consume ${(c.wallMs / 1000).toFixed(2)} s (${(mb / (c.wallMs / 1000)).toFixed(1)} MB/s)`);
        } finally {
          await b.close();
          if (dataDir) rmSync(dataDir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return {
    produce: { memory: median(result.memory.produce), files: median(result.files.produce) },
    consume: { memory: median(result.memory.consume), files: median(result.files.consume) },
  };
}

const memory = await startToFirstAnswer('memory');
const files = await startToFirstAnswer('files');
console.log(`start to first answer, warm process, ${runs} starts (ms): memory median ${memory.median.toFixed(1)} p90 ${memory.p90.toFixed(1)}; files median ${files.median.toFixed(1)} p90 ${files.p90.toFixed(1)}`);
const cluster = await clusterStartToFirstAnswer();
console.log(`startCluster({ brokers: 3 }) to a Metadata answer listing 3 brokers, warm process, ${clusterRuns} starts (ms): median ${cluster.median.toFixed(1)} p90 ${cluster.p90.toFixed(1)}`);
const haveKcat = spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0;
const tp = haveKcat ? await engineThroughput() : null;
if (tp) console.log(`kcat 1M x 100 B, median of ${rounds} (MB/s): produce memory ${tp.produce.memory.toFixed(1)} files ${tp.produce.files.toFixed(1)}; consume memory ${tp.consume.memory.toFixed(1)} files ${tp.consume.files.toFixed(1)}`);
else console.log('kcat is not installed: the engine throughput rows were not measured');
console.log(
  JSON.stringify([
    { scenario: 'in-memory broker: start to first answer in a warm process, median', kts: memory.median, unit: 'ms', absMax: 20, goal: '<= 20 ms', ref: files.median, refName: 'same on files' },
    { scenario: 'in-memory broker: start to first answer in a warm process, p90', kts: memory.p90, unit: 'ms', ref: files.p90, refName: 'same on files' },
    { scenario: 'startCluster({ brokers: 3 }): start to a Metadata answer listing 3 brokers, warm process, median', kts: cluster.median, unit: 'ms', ref: memory.median, refName: 'one in-memory broker', note: `p90 ${cluster.p90.toFixed(0)} ms` },
    ...(tp
      ? [
          { scenario: 'kcat produce 1M x 100 B, 1 partition, acks=1, broker in process: memory engine (MB/s)', kts: tp.produce.memory, unit: 'MB/s', ref: tp.produce.files, refName: 'file engine, same run' },
          { scenario: 'kcat consume 1M x 100 B to the end, broker in process: memory engine (MB/s)', kts: tp.consume.memory, unit: 'MB/s', ref: tp.consume.files, refName: 'file engine, same run' },
        ]
      : []),
  ]),
);
