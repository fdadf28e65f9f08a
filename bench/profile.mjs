// Profiles the kts broker under one workload with `node --cpu-prof` and prints the top functions by
// self time (and by inclusive time). Not part of `npm run bench`; run after `npm run build`:
//   node bench/profile.mjs [produce|produce4|consume|start|recover] [top=25]
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './lib/proc.mjs';
import { createTopics, startKts } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const what = process.argv[2] ?? 'produce';
const top = Number(process.argv[3] ?? 25);
const work = mkdtempSync(join(tmpdir(), 'kts-prof-'));
const profDir = join(work, 'prof');
const snap = { bin: join(ROOT, 'bin', 'kts.js') };

// the protocol codec for CreateTopics, bundled on the fly
const { build } = await import('esbuild');
await build({
  stdin: { contents: `export * from ${JSON.stringify(join(ROOT, 'src/protocol/index.ts'))};`, resolveDir: ROOT, loader: 'ts' },
  bundle: true, format: 'esm', platform: 'node', outfile: join(work, 'proto.mjs'), logLevel: 'warning',
});
const proto = await import(join(work, 'proto.mjs'));

const lines = (n, size) => {
  const b = Buffer.alloc(n * size, 0x61);
  for (let i = size - 1; i < b.length; i += size) b[i] = 10;
  const p = join(work, `d${size}.txt`);
  writeFileSync(p, b);
  return p;
};

if (what === 'recover') {
  // 256 MB in 64 KiB records, kill -9, then the profiled start recovers all of it.
  const pre = await startKts(snap, { dataDir: join(work, 'data') });
  await createTopics(pre.port, proto, { big: 1 });
  const f = lines(4096, 64 * 1024);
  const r = await run('kcat', ['-P', '-b', pre.bootstrap, '-t', 'big', '-X', 'acks=1', '-l', f]);
  console.log(`loaded 256 MB in ${(r.wallMs / 1000).toFixed(2)} s; kill -9`);
  await pre.kill9();
}
const kts = await startKts(snap, { dataDir: join(work, 'data'), nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] });
if (what === 'recover') console.log(`start after kill -9: ${kts.startMs.toFixed(0)} ms`);
await createTopics(kts.port, proto, { p1: 1, p4: 4, c: 16 });
if (what === 'produce' || what === 'produce4') {
  const f = lines(1_000_000, 100);
  for (let i = 0; i < 3; i++) {
    const r = await run('kcat', ['-P', '-b', kts.bootstrap, '-t', what === 'produce' ? 'p1' : 'p4', '-X', 'acks=1', '-l', f]);
    console.log(`kcat produce 1M x 100 B: ${(r.wallMs / 1000).toFixed(2)} s`);
  }
} else if (what === 'consume') {
  const f = lines(1_000_000, 100);
  await run('kcat', ['-P', '-b', kts.bootstrap, '-t', 'c', '-X', 'acks=1', '-l', f]);
  for (let i = 0; i < 3; i++) {
    const r = await run('kcat', ['-C', '-b', kts.bootstrap, '-t', 'c', '-o', 'beginning', '-e', '-q']);
    console.log(`kcat consume: ${(r.wallMs / 1000).toFixed(2)} s, ${r.lines} records`);
  }
}
await kts.stop();

const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const dt = new Map();
for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const total = [...dt.values()].reduce((a, b) => a + b, 0);
const key = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:')}:${n.callFrame.lineNumber + 1}`;
const self = new Map();
const incl = new Map();
for (const [id, t] of dt) {
  const n = byId.get(id);
  self.set(key(n), (self.get(key(n)) ?? 0) + t);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + t);
  }
}
const show = (m, title) => {
  console.log(`\n${title} (of ${(total / 1000).toFixed(0)} ms sampled)`);
  for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`);
};
show(self, 'self time');
show(incl, 'inclusive time');
console.log(`\nprofile: ${join(profDir, file)} (sourcemaps: dist/*.map)`);
if (process.env.KEEP_PROFILE !== '1') rmSync(work, { recursive: true, force: true });
