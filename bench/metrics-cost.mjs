// What counting for /metrics costs a producer: two kts brokers, one with kts.metrics.port off (the
// default) and one with it on and scraped every second (a busy Prometheus), each taking the same
// kcat produce of 500k x 100 B (acks=1, one partition, a new topic each round), alternating, the
// medians of ROUNDS: wall time, records/s and the broker's CPU seconds. Goal: "a few additions per
// request and per partition" (README, Metrics) should not show: within the noise, <= 1.05x.
// Run after `npm run build`: node bench/metrics-cost.mjs   (BENCH_ROUNDS=5, BENCH_RECORDS=500000)
// BENCH_CONTROL=1 runs the same with metrics off on both brokers and no scrapes (an A/A run: the
// noise of the machine between two identical brokers).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, median, run } from './lib/proc.mjs';
import { startKts } from './lib/servers.mjs';

const snap = { bin: process.env.KTS_BIN ?? new URL('../bin/kts.js', import.meta.url).pathname };
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const records = Number(process.env.BENCH_RECORDS ?? 500_000);
const work = mkdtempSync(join(tmpdir(), 'kts-metrics-cost-'));
const file = join(work, 'r100.txt');
const line = `${'x'.repeat(99)}\n`;
writeFileSync(file, line.repeat(records));

const load0 = loadavg();
const off = await startKts(snap, { dataDir: join(work, 'off') });
const control = process.env.BENCH_CONTROL === '1';
const on = await startKts(snap, { dataDir: join(work, 'on'), overrides: control ? {} : { 'kts.metrics.port': '0' } });
const metricsUrl = /Metrics served at (http:\/\/\S+\/metrics)/.exec(on.output())?.[1];
if (!metricsUrl && !control) throw new Error(`the metrics broker did not say where it serves /metrics:\n${on.output().slice(-1000)}`);
let scraping = !control;
let scrapes = 0;
const scraper = (async () => {
  while (scraping) {
    await (await fetch(metricsUrl)).text();
    scrapes++;
    await new Promise((r) => setTimeout(r, 1000));
  }
})();

const result = { off: { wall: [], cpu: [] }, on: { wall: [], cpu: [] } };
try {
  for (let i = 0; i < rounds; i++) {
    for (const [name, broker] of i % 2 === 0 ? [['off', off], ['on', on]] : [['on', on], ['off', off]]) {
      const topic = `m${i}`;
      const made = await run(process.execPath, [snap.bin, 'topics', '--create', '--topic', topic, '--partitions', '1', '--bootstrap-server', broker.bootstrap]);
      if (made.code !== 0) throw new Error(`topic ${topic} on ${name}: ${made.stderr}`);
      const cpu0 = cpuSeconds(broker.pid);
      const r = await run('kcat', ['-P', '-b', broker.bootstrap, '-t', topic, '-X', 'acks=1', '-l', file], { timeoutMs: 180_000 });
      if (r.code !== 0) throw new Error(`kcat produce to ${name} failed: ${r.stderr}`);
      result[name].cpu.push(cpuSeconds(broker.pid) - cpu0);
      result[name].wall.push(r.wallMs);
    }
  }
} finally {
  scraping = false;
  await scraper.catch(() => {});
  await Promise.all([off.stop(), on.stop()]);
  rmSync(work, { recursive: true, force: true });
}
const load1 = loadavg();
const row = (name) => {
  const wall = median(result[name].wall);
  return { wallMs: wall, recordsPerS: Math.round(records / (wall / 1000)), cpuS: median(result[name].cpu) };
};
const a = row('off');
const b = row('on');
console.log(`kcat produce ${records} x 100 B, acks=1, 1 partition; median of ${rounds} rounds, alternating; load ${load0.map((l) => l.toFixed(1)).join(' ')} -> ${load1.map((l) => l.toFixed(1)).join(' ')}; ${scrapes} scrapes of /metrics`);
console.log(`metrics off: ${a.wallMs.toFixed(0)} ms, ${a.recordsPerS} records/s, broker CPU ${a.cpuS.toFixed(2)} s`);
console.log(`${control ? 'control (metrics off too)' : 'metrics on'} : ${b.wallMs.toFixed(0)} ms, ${b.recordsPerS} records/s, broker CPU ${b.cpuS.toFixed(2)} s`);
console.log(`on/off: wall ${(b.wallMs / a.wallMs).toFixed(2)}x, broker CPU ${(b.cpuS / a.cpuS).toFixed(2)}x`);
