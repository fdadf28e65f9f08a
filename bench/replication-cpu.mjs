// Where issue 12's replication throughput goes, in CPU seconds: a cluster of three kts brokers on the
// kts coordinator (as bench/replication.mjs), kcat producing 1M x 100 B to an RF=1 acks=1 topic and
// to an RF=3 acks=all (min.insync.replicas=2) topic, both led by broker 1, alternately. Per round it
// prints the wall time and the utime+stime of each broker (/proc/<pid>/stat) and of kcat: unlike the
// wall time, CPU per round stays comparable when the machine is loaded. Not part of `npm run bench`.
//   node bench/replication-cpu.mjs [--rounds 3] [--bin path/to/bin/kts.js ...] [--prof leader|follower]
// Several --bin: one cluster each (built from different checkouts), their rounds interleaved, so
// two builds are compared under the same load. --prof writes a V8 CPU profile of broker 1 (leader)
// or broker 2 (a follower) of the first --bin and prints its top functions by self time.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, median } from './lib/proc.mjs';
import { startCoordinator } from './replication.mjs';
import { RawClient, startKts } from './lib/servers.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name) => args.flatMap((a, i) => (a === name ? [args[i + 1]] : []));
const ROUNDS = Number(opt('--rounds')[0] ?? 3);
const BINS = opt('--bin').length ? opt('--bin') : [join(ROOT, 'bin', 'kts.js')];
const PROF = opt('--prof')[0];
// --trace-gc leader|follower: broker 1 (the leader) or 2 (a follower) of each build runs with V8's
// --trace-gc; its collections are counted per round.
const TRACE_GC = opt('--trace-gc')[0];
const TRACED = TRACE_GC === 'leader' ? 1 : 2;
/** stime of a process in seconds (the kernel's share of cpuSeconds: socket and file copies). */
function sysSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) / 100;
  } catch {
    return 0;
  }
}
const work = mkdtempSync(join(tmpdir(), 'kts-replcpu-'));
const profDir = join(work, 'prof');

const { build } = await import('esbuild');
await build({
  stdin: { contents: `export * from ${JSON.stringify(join(ROOT, 'src/protocol/index.ts'))};`, resolveDir: ROOT, loader: 'ts' },
  bundle: true, format: 'esm', platform: 'node', outfile: join(work, 'proto.mjs'), logLevel: 'warning',
});
const proto = await import(join(work, 'proto.mjs'));

// The bench's data: 1M lines of 100 B.
const data = join(work, 'r100.txt');
{
  const buf = Buffer.alloc(100 * 1_000_000);
  let seed = 12345;
  for (let i = 0; i < 1_000_000; i++) {
    const s = `{"seq":${i},"user":"user-${(seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 100000}","event":"click"}`;
    buf.write(s.padEnd(99, 'x'), i * 100, 'latin1');
    buf[i * 100 + 99] = 10;
  }
  writeFileSync(data, buf);
}

let dirN = 0;
const newDir = (name) => {
  const d = join(work, `${name}-${dirN++}`);
  return d;
};

async function startCluster(bin, index) {
  const snap = { bin };
  const zkDir = newDir('zk');
  (await import('node:fs')).mkdirSync(zkDir, { recursive: true });
  const coordinator = await startCoordinator(snap, zkDir);
  const brokers = new Map();
  for (const id of [1, 2, 3]) {
    const profiled = index === 0 && PROF && id === (PROF === 'leader' ? 1 : 2);
    const nodeArgs = profiled ? ['--cpu-prof', '--cpu-prof-dir', profDir] : TRACE_GC && id === TRACED ? ['--trace-gc'] : [];
    const overrides = { 'broker.id': String(id), 'zookeeper.connect': `127.0.0.1:${coordinator.port}/kts-bench` };
    brokers.set(id, await startKts(snap, { dataDir: newDir(`b${id}`), overrides, nodeArgs }));
  }
  const first = brokers.get(1);
  const gc = { scavenges: 0, scavengeMs: 0, markCompacts: 0, markCompactMs: 0, reasons: new Map() };
  if (TRACE_GC) {
    brokers.get(TRACED).child.stdout.on('data', (d) => {
      for (const line of String(d).split('\n')) {
        const m = /ms: (Scavenge|Mark-Compact|Mark-sweep)\b.*?MB, ([\d.]+) \/ [\d.]+ ms\s+(?:\(.*?\)\s*)?(.*?);?$/.exec(line);
        if (!m) continue;
        if (process.env.GC_LINES === '1' && m[1] !== 'Scavenge') console.log(line);
        if (m[1] === 'Scavenge') (gc.scavenges++, (gc.scavengeMs += Number(m[2])));
        else {
          gc.markCompacts++;
          gc.markCompactMs += Number(m[2]);
          gc.reasons.set(m[3], (gc.reasons.get(m[3]) ?? 0) + 1);
        }
      }
    });
  }
  const c = await RawClient.connect(first.port, proto);
  try {
    const topic = (name, replicas, configs) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: replicas }], configs });
    // Until every broker has registered, a replica assignment naming it is refused (39): retried.
    for (let t0 = Date.now(), todo = ['rf3', 'rf1']; todo.length > 0; await new Promise((r) => setTimeout(r, 100))) {
      const all = { rf3: topic('rf3', [1, 2, 3], [{ name: 'min.insync.replicas', value: '2' }]), rf1: topic('rf1', [1], []) };
      const res = await c.request(19, 4, { topics: todo.map((t) => all[t]), timeoutMs: 30_000, validateOnly: false });
      for (const t of res.topics) if (t.errorCode !== 0 && (t.errorCode !== 39 || Date.now() - t0 > 30_000)) throw new Error(`create ${t.name}: error ${t.errorCode}`);
      todo = res.topics.filter((t) => t.errorCode !== 0).map((t) => t.name);
    }
    for (let t0 = Date.now(); ; await new Promise((r) => setTimeout(r, 50))) {
      const m = await c.request(3, 9, { topics: [{ name: 'rf3' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      const p = m.topics[0]?.partitions?.[0];
      if (p?.leaderId === 1 && p.isrNodes.length === 3) break;
      if (Date.now() - t0 > 60_000) throw new Error('rf3 not led by broker 1 with ISR 1,2,3 within 60 s');
    }
  } finally {
    c.close();
  }
  return { bin, coordinator, brokers, first, gc };
}

function kcat(bootstrap, topic, acks) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('kcat', ['-P', '-b', bootstrap, '-t', topic, '-X', `acks=${acks}`, '-l', data], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    let cpu = 0;
    const timer = setInterval(() => (cpu = cpuSeconds(child.pid) || cpu), 20);
    child.once('exit', (code) => {
      clearInterval(timer);
      if (code !== 0 || /ERROR|failed/i.test(err)) reject(new Error(`kcat ${topic}: exit ${code}: ${err.slice(0, 300)}`));
      else resolve({ wallS: (performance.now() - t0) / 1000, kcatCpu: cpu });
    });
  });
}

const clusters = [];
try {
  for (const [i, bin] of BINS.entries()) clusters.push(await startCluster(bin, i));
  const results = clusters.map(() => ({ rf1: [], rf3: [] }));
  const loadAvg = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  console.log(`load ${loadAvg()}; ${ROUNDS} rounds; builds: ${BINS.join(', ')}`);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, cl] of clusters.entries()) {
      for (const [t, acks] of [['rf1', '1'], ['rf3', 'all']]) {
        const before = [...cl.brokers.values()].map((b) => cpuSeconds(b.pid));
        const sysBefore = [...cl.brokers.values()].map((b) => sysSeconds(b.pid));
        const gcBefore = { ...cl.gc };
        const k = await kcat(cl.first.bootstrap, t, acks);
        // the followers finish their last fetch after kcat's last ack: let them settle
        await new Promise((res) => setTimeout(res, 300));
        const cpu = [...cl.brokers.values()].map((b, j) => cpuSeconds(b.pid) - before[j]);
        const sys = [...cl.brokers.values()].map((b, j) => sysSeconds(b.pid) - sysBefore[j]);
        const row = { wallS: k.wallS, kcat: k.kcatCpu, leader: cpu[0], f2: cpu[1], f3: cpu[2] };
        results[i][t].push(row);
        const gcNote = TRACE_GC
          ? `; ${TRACE_GC} GC: ${cl.gc.scavenges - gcBefore.scavenges} scavenges ${(cl.gc.scavengeMs - gcBefore.scavengeMs).toFixed(0)} ms, ${cl.gc.markCompacts - gcBefore.markCompacts} mark-compacts ${(cl.gc.markCompactMs - gcBefore.markCompactMs).toFixed(0)} ms`
          : '';
        console.log(`round ${r + 1} build ${i} ${t}: ${k.wallS.toFixed(2)} s, CPU leader ${row.leader.toFixed(2)} f2 ${row.f2.toFixed(2)} f3 ${row.f3.toFixed(2)} kcat ${row.kcat.toFixed(2)} s; of which sys ${sys.map((x) => x.toFixed(2)).join(' / ')} (load ${loadAvg()})${gcNote}`);
      }
    }
  }
  if (TRACE_GC) for (const cl of clusters) console.log(`mark-compact reasons (${cl.bin}): ${[...cl.gc.reasons].map(([r, n]) => `${n} x ${r}`).join(', ')}`);
  for (const [i, res] of results.entries()) {
    const m = (t, f) => median(res[t].map((x) => x[f]));
    const ratio = m('rf1', 'wallS') / m('rf3', 'wallS');
    console.log(`build ${i} (${BINS[i]}): median wall rf1 ${m('rf1', 'wallS').toFixed(2)} s, rf3 ${m('rf3', 'wallS').toFixed(2)} s: ratio ${ratio.toFixed(2)}x; ` +
      `CPU rf1 leader ${m('rf1', 'leader').toFixed(2)}; rf3 leader ${m('rf3', 'leader').toFixed(2)}, followers ${m('rf3', 'f2').toFixed(2)} / ${m('rf3', 'f3').toFixed(2)}; ` +
      `all brokers rf1 ${median(res.rf1.map((x) => x.leader + x.f2 + x.f3)).toFixed(2)} rf3 ${median(res.rf3.map((x) => x.leader + x.f2 + x.f3)).toFixed(2)} s`);
  }
} finally {
  for (const cl of clusters) {
    for (const b of cl.brokers.values()) await b.stop();
    await cl.coordinator.stop();
  }
}

if (PROF) {
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  const prof = JSON.parse(readFileSync(join(profDir, file), 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const key = (n) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
  const self = new Map();
  let busy = 0;
  for (const [id, t] of dt) {
    const k = key(byId.get(id));
    self.set(k, (self.get(k) ?? 0) + t);
    if (!/^\(idle\)/.test(k)) busy += t;
  }
  console.log(`\n${PROF} profile, self time (of ${(busy / 1000).toFixed(0)} ms not idle)`);
  for (const [k, t] of [...self].filter(([k]) => !/^\(idle\)/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${((100 * t) / busy).toFixed(1).padStart(5)}%  ${(t / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  }
  // The heaviest callers (four frames up) of the top entries: where the allocation, write or open comes from.
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  for (const [k] of [...self].filter(([k]) => !/^\(idle\)/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 8)) {
    const paths = new Map();
    for (const [id, t] of dt) {
      if (key(byId.get(id)) !== k) continue;
      const chain = [];
      for (let cur = parent.get(id); cur !== undefined && chain.length < 4; cur = parent.get(cur)) chain.push(key(byId.get(cur)).replace(/ dist\/chunks\/chunk-\w+\.js:1$/, ''));
      const path = chain.join(' < ');
      paths.set(path, (paths.get(path) ?? 0) + t);
    }
    console.log(`\n${k}:`);
    for (const [path, t] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, 3)) console.log(`  ${(t / 1000).toFixed(0).padStart(5)} ms < ${path}`);
  }
  if (process.env.KEEP_PROFILE === '1') console.log(`profile: ${join(profDir, file)}`);
}
if (process.env.KEEP_PROFILE !== '1') rmSync(work, { recursive: true, force: true });
