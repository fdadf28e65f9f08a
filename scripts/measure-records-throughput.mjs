#!/usr/bin/env node
// Quick throughput check of src/protocol/records (not the benchmark suite):
//   node scripts/measure-records-throughput.mjs
// Bundles the module with esbuild into a temp dir, then times build / decode / conversion.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = mkdtempSync(join(tmpdir(), 'kts-records-'));
const outfile = join(dir, 'records.mjs');
await build({
  entryPoints: [new URL('../src/protocol/records/index.ts', import.meta.url).pathname],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
});
const R = await import(pathToFileURL(outfile).href);
rmSync(dir, { recursive: true, force: true });

const RECORDS_PER_BATCH = 1000;
const BATCHES = 50;
const value = Buffer.alloc(100, 'v');
const now = 1_700_000_000_000;
const inputs = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
  key: `key-${i}`,
  value,
  headers: { trace: 'abc' },
  timestamp: now + i,
}));

function time(label, bytesPerOp, recordsPerOp, fn) {
  for (let i = 0; i < 3; i++) fn(); // warm-up
  let ops = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < 1.0) {
    fn();
    ops++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  }
  const mbs = (bytesPerOp * ops) / elapsed / 1e6;
  const recs = (recordsPerOp * ops) / elapsed / 1e6;
  console.log(`${label.padEnd(44)} ${mbs.toFixed(0).padStart(6)} MB/s ${recs.toFixed(2).padStart(7)} M records/s`);
}

const plain = R.buildRecordBatch(inputs, { now });
const gz = R.buildRecordBatch(inputs, { now, compression: 1 });
const fetchPlain = Buffer.concat(Array.from({ length: BATCHES }, (_, i) => R.buildRecordBatch(inputs, { now, baseOffset: i * RECORDS_PER_BATCH })));
const fetchGzip = Buffer.concat(Array.from({ length: BATCHES }, (_, i) => R.buildRecordBatch(inputs, { now, baseOffset: i * RECORDS_PER_BATCH, compression: 1 })));
const legacyPlain = R.buildMessageSet(inputs, { magic: 1 });
const legacyGzip = R.buildMessageSet(inputs, { magic: 1, compression: 1 });
const n = RECORDS_PER_BATCH;
const total = BATCHES * RECORDS_PER_BATCH;

console.log(`records: 7-9 byte key, 100-byte value, 1 header; ${n} per batch; MB/s of uncompressed batch bytes`);
time('buildRecordBatch (none)', plain.length, n, () => R.buildRecordBatch(inputs, { now }));
time('buildRecordBatch (gzip)', plain.length, n, () => R.buildRecordBatch(inputs, { now, compression: 1 }));
{
  // Headers only: report batches per second, the unit that matters on the produce/fetch path.
  const start = performance.now();
  let batches = 0;
  while (performance.now() - start < 1000) for (const _ of R.iterateBatches(fetchPlain)) batches++;
  console.log(`${'iterateBatches (headers only)'.padEnd(44)} ${(batches / (performance.now() - start) / 1e3).toFixed(2).padStart(6)} M batches/s`);
}
time('decodeRecords (none, 50 batches)', fetchPlain.length, total, () => R.decodeRecords(fetchPlain));
time('decodeRecords (gzip, 50 batches)', fetchPlain.length, total, () => R.decodeRecords(fetchGzip));
time('upConvertMessageSet (magic 1, none)', plain.length, n, () => R.upConvertMessageSet(legacyPlain));
time('upConvertMessageSet (magic 1, gzip)', plain.length, n, () => R.upConvertMessageSet(legacyGzip));
time('downConvertBatches -> magic 1 (none)', fetchPlain.length, total, () => R.downConvertBatches(fetchPlain, 1, 0));
time('downConvertBatches -> magic 0 (none)', fetchPlain.length, total, () => R.downConvertBatches(fetchPlain, 0, 0));
time('downConvertBatches -> magic 1 (gzip)', fetchPlain.length, total, () => R.downConvertBatches(fetchGzip, 1, 0));
