// The test kit's numbers (issue 15): start to first answer of an in-memory broker inside a warm
// process (startBroker({ port: 0, storage: 'memory' }) to an ApiVersions answer on a fresh
// connection, then close), against the same on files; and produce + fetch back through one
// connection, in memory against files. Median and p90 of BENCH_KIT_RUNS (default 40) starts.
// Usage: npm run build && node bench/kit.mjs   (run.mjs: BENCH_ONLY=kit)
// The last line is JSON rows for bench/run.mjs's table.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.KTS_BIN ? resolve(dirname(process.env.KTS_BIN), '..') : resolve(import.meta.dirname, '..');
const { startBroker } = await import(pathToFileURL(join(root, 'dist/index.js')).href);
const runs = Number(process.env.BENCH_KIT_RUNS ?? 40);

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

const memory = await startToFirstAnswer('memory');
const files = await startToFirstAnswer('files');
console.log(`start to first answer, warm process, ${runs} starts (ms): memory median ${memory.median.toFixed(1)} p90 ${memory.p90.toFixed(1)}; files median ${files.median.toFixed(1)} p90 ${files.p90.toFixed(1)}`);
console.log(
  JSON.stringify([
    { scenario: 'in-memory broker: start to first answer in a warm process, median', kts: memory.median, unit: 'ms', absMax: 20, ref: files.median, refName: 'same on files' },
    { scenario: 'in-memory broker: start to first answer in a warm process, p90', kts: memory.p90, unit: 'ms', ref: files.p90, refName: 'same on files' },
  ]),
);
