// The broker's memory under the peers scenario's load (bench/peers.mjs), without the JVM beside it:
// idle RSS, then 3 rounds of kcat producing 1M x 100 B and 100k x 1 KiB to a new one-partition topic
// and consuming each to the end, RSS sampled every 20 ms. Not part of `npm run bench`; for finding
// where the broker's memory goes. Run after `npm run build`:
//   node bench/memory.mjs [rounds=3] [-- node flags for the broker, e.g. --max-semi-space-size=4]
// MEM_GAP_MS=15000 waits that long after each produce/consume pair, as bench/peers.mjs's rounds leave
// the broker idle while the other servers take their turn (what the broker drops when idle shows then).
// With the broker's metrics port on, it also prints V8's heap and Node's external memory at the peak.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, rssMB, run } from './lib/proc.mjs';
import { createTopics, freePort, startKts } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dash = process.argv.indexOf('--');
const nodeArgs = dash >= 0 ? process.argv.slice(dash + 1) : [];
const rounds = Number((dash >= 0 ? process.argv.slice(2, dash) : process.argv.slice(2))[0] ?? 3);
const work = mkdtempSync(join(tmpdir(), 'kts-mem-'));
const snap = { bin: join(ROOT, 'bin', 'kts.js') };

const { build } = await import('esbuild');
await build({
  stdin: { contents: `export * from ${JSON.stringify(join(ROOT, 'src/protocol/index.ts'))};`, resolveDir: ROOT, loader: 'ts' },
  bundle: true, format: 'esm', platform: 'node', outfile: join(work, 'proto.mjs'), logLevel: 'warning',
});
const proto = await import(join(work, 'proto.mjs'));

const lines = (n, size) => {
  const b = Buffer.alloc(n * size);
  for (let i = 0; i < n; i++) {
    b.write(`{"seq":${i},"user":"user-${(i * 7919) % 100000}"`.padEnd(size - 1, 'x'), i * size, 'latin1');
    b[i * size + size - 1] = 10;
  }
  const p = join(work, `d${size}.txt`);
  writeFileSync(p, b);
  return p;
};
const f100 = lines(1_000_000, 100);
const f1k = lines(100_000, 1024);

const metricsPort = await freePort();
const kts = await startKts(snap, { dataDir: join(work, 'data'), nodeArgs, overrides: { 'kts.metrics.port': String(metricsPort) } });
const metric = async (name) => {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) / 2 ** 20 : NaN;
};
const heap = async () => `heap used ${(await metric('nodejs_heap_size_used_bytes')).toFixed(1)} MB, heap total ${(await metric('nodejs_heap_size_total_bytes')).toFixed(1)} MB, external ${(await metric('nodejs_external_memory_bytes')).toFixed(1)} MB (buffers ${(await metric('nodejs_array_buffers_bytes')).toFixed(1)} MB)`;

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 100));
};
await settle();
console.log(`start ${kts.startMs.toFixed(0)} ms; idle RSS ${rssMB(kts.pid).toFixed(1)} MB (${await heap()}); node flags: ${nodeArgs.join(' ') || 'none'}`);
let peak = 0;
let peakHeap = '';
let sampling = false;
const sample = async () => {
  while (sampling) {
    const rss = rssMB(kts.pid);
    if (rss > peak) {
      peak = rss;
      const status = readFileSync(`/proc/${kts.pid}/status`, 'utf8');
      const kb = (k) => (Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1]) / 1024).toFixed(1);
      if (process.env.MEM_SMAPS) writeFileSync(process.env.MEM_SMAPS, readFileSync(`/proc/${kts.pid}/smaps`));
      peakHeap = `anonymous ${kb('RssAnon')} MB, file ${kb('RssFile')} MB; ${await heap().catch(() => '')}`;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
};
for (let r = 0; r < rounds; r++) {
  for (const [file, key, count] of [[f100, '100', 1_000_000], [f1k, '1k', 100_000]]) {
    const topic = `mem-${key}-${r}`;
    await createTopics(kts.port, proto, { [topic]: 1 });
    sampling = true;
    const sampler = sample();
    const p = await run('kcat', ['-P', '-b', kts.bootstrap, '-t', topic, '-X', 'acks=1', '-l', file], { timeoutMs: 180_000 });
    sampling = false;
    await sampler;
    const c = await run('kcat', ['-C', '-b', kts.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q'], { timeoutMs: 180_000 });
    if (process.env.MEM_GAP_MS) await new Promise((r) => setTimeout(r, Number(process.env.MEM_GAP_MS)));
    if (p.code !== 0 || c.lines !== count) throw new Error(`round ${r + 1} ${key}: produce exit ${p.code}, read ${c.lines} of ${count}\n${p.stderr}${c.stderr}`);
    console.log(`round ${r + 1} ${key}: produce ${(p.wallMs / 1000).toFixed(2)} s, consume ${(c.wallMs / 1000).toFixed(2)} s; RSS now ${rssMB(kts.pid).toFixed(1)} MB, peak so far ${peak.toFixed(1)} MB`);
  }
}
console.log(`broker CPU ${cpuSeconds(kts.pid).toFixed(2)} s in all; peak RSS over the produce runs: ${peak.toFixed(1)} MB (at the peak: ${peakHeap})`);
console.log(`load average: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);
await kts.stop();
if (process.env.MEM_LOG) writeFileSync(process.env.MEM_LOG, kts.output());
rmSync(work, { recursive: true, force: true });
