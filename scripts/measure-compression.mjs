#!/usr/bin/env node
// Throughput of the four record codecs as kts registers them (not the benchmark suite):
//   node scripts/measure-compression.mjs
// Input: the records section of a 1,000-record batch (JSON-like values, ~150 KB), compressed and
// decompressed repeatedly; MB/s are of uncompressed bytes. Bundled with esbuild into
// node_modules/.cache so that the codec packages resolve.
import { build } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const dir = new URL('../node_modules/.cache/kts-measure-compression/', import.meta.url).pathname;
mkdirSync(dir, { recursive: true });
const outfile = `${dir}codecs.mjs`;
await build({
  stdin: {
    contents: "import './src/protocol/records/codecs.ts'; export * from './src/protocol/records/index.ts';",
    resolveDir: new URL('..', import.meta.url).pathname,
    loader: 'ts',
  },
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const R = await import(pathToFileURL(outfile).href);
rmSync(dir, { recursive: true, force: true });

const records = Array.from({ length: 1000 }, (_, i) => ({
  key: `user-${i % 97}`,
  value: JSON.stringify({ id: i, event: ['click', 'view', 'buy'][i % 3], page: `/products/${i % 211}`, ts: 1_700_000_000_000 + i * 37, score: (i * 7919) % 1000 }),
}));
const batch = R.buildRecordBatch(records, { now: 1_700_000_000_000 });
const plain = batch.subarray(61);

function rate(fn, bytes) {
  for (let i = 0; i < 5; i++) fn(); // warm up (loads native/wasm parts)
  let n = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 0.5) {
    fn();
    n++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  return (bytes * n) / elapsed / 1e6;
}

console.log(`input: ${plain.length} bytes of records (1,000 records), node ${process.version}`);
console.log('codec   ratio  compress MB/s  decompress MB/s');
for (const [id, name] of [[1, 'gzip'], [2, 'snappy'], [3, 'lz4'], [4, 'zstd']]) {
  const packed = R.compress(id, plain);
  const c = rate(() => R.compress(id, plain), plain.length);
  const d = rate(() => R.decompress(id, packed), plain.length);
  console.log(`${name.padEnd(7)} ${(packed.length / plain.length).toFixed(3)}  ${c.toFixed(0).padStart(13)}  ${d.toFixed(0).padStart(15)}`);
}
