// The web console's first page load: from spawning `kts console --port 0` to the page served (the
// fetch of / answered), alternating with `node -e 0`; the medians of 7 rounds. Goal: 300 ms or less.
// Run after `npm run build`: node bench/console-first-page.mjs (npm run bench runs it as 'console':
// the last line is its row for the table).
import { spawn } from 'node:child_process';

const kts = process.env.KTS_BIN ?? new URL('../bin/kts.js', import.meta.url).pathname;
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const times = { console: [], node: [] };
for (let i = 0; i < rounds; i++) {
  let t0 = performance.now();
  const child = spawn(process.execPath, [kts, 'console', '--port', '0', '--bootstrap-server', '127.0.0.1:1'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /kts console: (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`kts console exited ${code}: ${out}`)));
  });
  const res = await fetch(url);
  await res.text();
  times.console.push(performance.now() - t0);
  child.kill();
  await new Promise((r) => child.once('exit', r));
  t0 = performance.now();
  await new Promise((r) => spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).once('exit', r));
  times.node.push(performance.now() - t0);
}
const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
const c = median(times.console);
const n = median(times.node);
console.log(`kts console first page load: median ${c.toFixed(0)} ms over ${rounds} rounds (node -e 0: ${n.toFixed(0)} ms); goal <= 300 ms: ${c <= 300 ? 'met' : 'NOT MET'}`);
console.log(JSON.stringify([{ scenario: '`kts console` start to first page served (wall)', kts: Math.round(c), unit: 'ms', ref: Math.round(n), refName: 'node -e 0', goal: '<= 300 ms', absMax: 300 }]));
