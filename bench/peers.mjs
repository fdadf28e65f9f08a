// Issue 13's benchmark, run by bench/run.mjs as the scenario "peers": kts against Apache Kafka 4.4
// (the JVM broker with the settings its own scripts use: KRaft, one combined broker+controller,
// config/server.properties' values, kafka-server-start.sh's 1 GB heap and G1, data on disk) and
// franz-go's in-memory fake Kafka (kfake, report only), each started once on this machine:
//   - start to first answer (kts goal <= 0.1x Kafka's; Kafka's storage format is not counted);
//   - idle RSS, and peak RSS over the produce runs (goal <= 0.15x Kafka's);
//   - kcat produce and consume 1M x 100 B and 100k x 1 KiB, one partition, acks=1 (goal: kts's
//     wall time <= Kafka's), and the broker's CPU seconds per consume;
//   - the same consumes with kcat's queue limits raised: kcat 1.7's librdkafka (2.0.2) stops
//     fetching for a whole second whenever its queue holds more than queued.min.messages (100,000)
//     or queued.max.messages.kbytes (64 MiB), its issue #2879: with the defaults a consume of 1M
//     records takes 1-3 such pauses against either broker, the faster the broker the more (its
//     fetches outrun kcat's output), so the default wall times move in steps of ~1 s. The pauses
//     are counted (kcat -d fetch) and reported next to the default rows;
//   - end-to-end p50/p99 at 10k msg/s, acks=1 (goal p99 <= Kafka's).
// Kafka's jars come from the cache scripts/fetch-kafka.mjs fills (Maven Central); kfake is built
// from bench/peers/kfake with Go (module proxy) into the same cache, once per go.sum.
// BENCH_KTS_ENV="K=V K2=V2" adds variables to kts's environment only (e.g. MALLOC_ARENA_MAX=1, glibc's
// malloc settings an operator may give the broker; Kafka's JVM is started without them).
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds, median, rssMB, rssSampler, sleep } from './lib/proc.mjs';
import { createTopics, freePort, serverHandle, startKts, waitFirstAnswer } from './lib/servers.mjs';

const KAFKA = '4.4.0';
const CACHE = process.env.KTS_INTEROP_CACHE || join(homedir(), '.cache/kts-interop');
const RATE = 10_000;
const LATENCY_S = 5;
// kcat's queue limits at their maxima: its librdkafka never pauses fetching for a full queue.
const UNBOUNDED_QUEUE = ['-X', 'queued.min.messages=10000000', '-X', 'queued.max.messages.kbytes=2097151'];
/** A line of kcat -d fetch: librdkafka pauses fetching for a second (a full queue). */
const QUEUE_PAUSE = /is not fetchable: queued\.(min\.messages|max\.messages\.kbytes) exceeded/;
// kafka-server-start.sh's KAFKA_HEAP_OPTS and kafka-run-class.sh's KAFKA_JVM_PERFORMANCE_OPTS.
const KAFKA_JVM = ['-Xmx1G', '-Xms1G', '-server', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:InitiatingHeapOccupancyPercent=35', '-XX:+ExplicitGCInvokesConcurrent', '-XX:MaxInlineLevel=15', '-Djava.awt.headless=true'];

/** Spawns `cmd`, waits for its first ApiVersions answer on `port`; a server handle like startKts's. */
async function startServer(kind, cmd, args, port) {
  const t0 = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d) => {
    if (out.length < 50_000) out += d;
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((res) => child.once('exit', res));
  let startMs;
  try {
    startMs = await waitFirstAnswer(port, t0, child, 180_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${kind} did not start: ${err.message}\n${out.slice(-2000)}`);
  }
  return serverHandle(kind, port, child, exited, startMs, () => out);
}

/** Apache Kafka 4.4 (KRaft, one node, config/server.properties as shipped) in `dir`; null when its jars are not cached. */
export async function startKafka(dir) {
  const lib = join(CACHE, `kafka-${KAFKA}`, 'lib');
  if (!existsSync(join(lib, `kafka_2.13-${KAFKA}.jar`))) return null;
  const port = await freePort();
  const controllerPort = await freePort();
  mkdirSync(dir, { recursive: true });
  const log4j = join(dir, 'log4j2.properties');
  writeFileSync(log4j, 'appender.stderr.type=Console\nappender.stderr.name=STDERR\nappender.stderr.target=SYSTEM_ERR\nappender.stderr.layout.type=PatternLayout\nappender.stderr.layout.pattern=[%d] %p %m (%c)%n\nrootLogger.level=WARN\nrootLogger.appenderRef.stderr.ref=STDERR\n');
  // config/server.properties as Kafka 4.4 ships it, on free ports and a temporary log dir.
  const props = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.bootstrap.servers': `127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'num.network.threads': 3,
    'num.io.threads': 8,
    'log.dirs': join(dir, 'data'),
    'num.partitions': 1,
    'offsets.topic.replication.factor': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'log.retention.hours': 168,
    'log.segment.bytes': 1073741824,
  };
  const config = join(dir, 'server.properties');
  writeFileSync(config, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const base = [`-Dlog4j2.configurationFile=${log4j}`, '-cp', `${lib}/*`];
  execFileSync('java', ['-Xmx256m', ...base, 'kafka.tools.StorageTool', 'format', '--standalone', '-t', clusterId(), '-c', config], { stdio: 'pipe', timeout: 120_000 });
  return startServer('Apache Kafka 4.4', 'java', [...KAFKA_JVM, ...base, 'kafka.Kafka', config], port);
}

/** A Kafka cluster id: a random UUID in URL-safe base64 (22 characters), not starting with '-'. */
function clusterId() {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** The kfake binary, built from bench/peers/kfake once per go.sum + main.go; null without Go. */
function kfakeBinary(benchDir) {
  const src = join(benchDir, 'peers', 'kfake');
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(src, f)));
  const bin = join(CACHE, `kfake-${hash.digest('hex').slice(0, 16)}`, 'kfake-bench');
  if (existsSync(bin)) return bin;
  try {
    execFileSync('go', ['build', '-o', bin, '.'], { cwd: src, stdio: 'pipe', timeout: 600_000 });
  } catch (err) {
    throw new Error(`go build of bench/peers/kfake failed: ${String(err.stderr ?? err.message).trim().split('\n').slice(-2).join(' ')}`);
  }
  return bin;
}

export async function scenarioPeers(ctx) {
  const { snap, proto, PROTO_PATH, BENCH, KCAT, F100, F1K, N1K, newDir, track, untrack, addRow, log, notes, rounds, kcatProduce, kcatConsume, kcatFailed, run, haveTool } = ctx;
  if (!KCAT) return 'kcat is not installed';
  const servers = [];
  const ktsEnv = Object.fromEntries((process.env.BENCH_KTS_ENV ?? '').split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  if (Object.keys(ktsEnv).length > 0) notes.push(`kts started with ${process.env.BENCH_KTS_ENV} (BENCH_KTS_ENV)`);
  const kts = track(await startKts(snap, { dataDir: newDir('peers-kts'), env: { ...process.env, ...ktsEnv } }));
  servers.push(kts);
  const kafka = haveTool('java') ? await startKafka(newDir('peers-kafka')) : null;
  if (kafka) servers.push(track(kafka));
  else notes.push(`Apache Kafka ${KAFKA} is not in ${CACHE} (node scripts/fetch-kafka.mjs) or java is missing: the peers rows have no Kafka reference.`);
  let fake = null;
  if (haveTool('go')) {
    const bin = kfakeBinary(BENCH);
    const port = await freePort();
    fake = track(await startServer('kfake', bin, [String(port)], port));
    servers.push(fake);
  } else notes.push('Go is not installed: no kfake figures.');
  for (const s of servers) log(`peers: ${s.kind} answered ${s.startMs.toFixed(0)} ms after its start`);
  await sleep(2000);
  const idle = new Map(servers.map((s) => [s, rssMB(s.pid)]));
  const n = Math.min(rounds, 3);
  const figures = new Map(servers.map((s) => [s, { p100: [], c100: [], p1k: [], c1k: [], u100: [], u1k: [], cpu100: [], cpu1k: [], pauses100: [], pauses1k: [], peak: 0 }]));
  log(`peers: kcat produce/consume 1M x 100 B and ${N1K / 1000}k x 1 KiB, one partition, acks=1, ${n} rounds, servers alternating`);
  for (let r = 0; r < n; r++) {
    for (const s of r % 2 ? [...servers].reverse() : servers) {
      const f = figures.get(s);
      for (const [file, key, count] of [
        [F100, '100', 1_000_000],
        [F1K, '1k', N1K],
      ]) {
        const topic = `peers-${key}-${r}`;
        await createTopics(s.port, proto, { [topic]: 1 });
        const sampler = rssSampler(s.pid);
        const p = await kcatProduce(s.bootstrap, topic, file);
        f.peak = Math.max(f.peak, sampler.stop());
        const pf = kcatFailed(p);
        if (pf) throw new Error(`kcat produce to ${s.kind} failed: ${pf}`);
        const cpu0 = cpuSeconds(s.pid);
        const c = await run(KCAT, ['-C', '-b', s.bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-d', 'fetch'], { timeoutMs: 180_000, countStderr: QUEUE_PAUSE });
        const cpu = cpuSeconds(s.pid) - cpu0;
        const cf = kcatFailed(c);
        if (cf) throw new Error(`kcat consume from ${s.kind} failed: ${cf}`);
        if (c.lines !== count) throw new Error(`kcat read ${c.lines} of ${count} records back from ${s.kind}`);
        const u = await kcatConsume(s.bootstrap, topic, UNBOUNDED_QUEUE);
        const uf = kcatFailed(u);
        if (uf) throw new Error(`kcat consume (queue unbounded) from ${s.kind} failed: ${uf}`);
        if (u.lines !== count) throw new Error(`kcat read ${u.lines} of ${count} records back from ${s.kind} (queue unbounded)`);
        f[`p${key}`].push(p.wallMs / 1000);
        f[`c${key}`].push(c.wallMs / 1000);
        f[`u${key}`].push(u.wallMs / 1000);
        f[`cpu${key}`].push(cpu);
        f[`pauses${key}`].push(c.stderrMatches);
        log(`  round ${r + 1} ${s.kind}: ${key === '100' ? '1M x 100 B' : `${N1K / 1000}k x 1 KiB`} produce ${(p.wallMs / 1000).toFixed(2)} s, consume ${(c.wallMs / 1000).toFixed(2)} s (broker CPU ${cpu.toFixed(2)} s, ${c.stderrMatches} client pauses of 1 s), queue unbounded ${(u.wallMs / 1000).toFixed(2)} s`);
      }
    }
  }
  const lat = new Map();
  for (const s of servers) {
    await createTopics(s.port, proto, { 'peers-lat': 1 });
    const out = await run(process.execPath, [join(BENCH, 'lib', 'latency.mjs'), String(s.port), PROTO_PATH, 'peers-lat', String(RATE), String(LATENCY_S)], { keepStdout: true, timeoutMs: 60_000 });
    try {
      lat.set(s, JSON.parse(out.stdout.trim().split('\n').pop()));
    } catch {
      throw new Error(`latency probe on ${s.kind} failed: ${out.stderr.slice(0, 500)}`);
    }
    log(`  latency ${s.kind}: p50 ${lat.get(s).p50.toFixed(2)} ms, p99 ${lat.get(s).p99.toFixed(2)} ms`);
  }
  const fakeNote = (value, unit, digits = 2) => (fake ? `kfake ${Number(value).toFixed(digits)} ${unit}` : undefined);
  const ref = (pick) => (kafka ? pick(kafka) : NaN);
  const refName = `Apache Kafka ${KAFKA}`;
  const row = (id, scenario, pick, unit, goal, extra) => addRow({ id, scenario, kts: pick(kts), ref: ref(pick), refName, unit, goal, note: fake ? fakeNote(pick(fake), unit, unit === 'ms' || unit === 'MB' ? 1 : 2) : undefined, ...extra });
  row('peers-start', 'broker start to first answer, empty (vs Kafka 4.4)', (s) => s.startMs, 'ms', '<= 0.1x', { goalMax: 0.1 });
  row('peers-rss-idle', 'broker RSS idle (vs Kafka 4.4)', (s) => idle.get(s), 'MB', '<= 0.15x', { goalMax: 0.15 });
  row('peers-rss-peak', 'broker RSS peak over the kcat produce runs (vs Kafka 4.4)', (s) => figures.get(s).peak, 'MB', '<= 0.15x', { goalMax: 0.15 });
  const wall = (key) => (s) => median(figures.get(s)[key]);
  row('peers-produce-100', 'kcat produce 1M x 100 B, 1 partition, acks=1 (wall, vs Kafka 4.4)', wall('p100'), 's', '<= 1x', { goalMax: 1 });
  const pauses = (key) => servers.map((s) => `${s.kind === 'kts' ? 'kts' : s.kind === 'kfake' ? 'kfake' : 'Kafka'} ${figures.get(s)[key].join('/')}`).join(', ');
  const withPauses = (id, key) => `${fake ? `${fakeNote(median(figures.get(fake)[id]), 's')}; ` : ''}kcat's 1 s queue pauses per round: ${pauses(key)}`;
  row('peers-consume-100', 'kcat consume 1M x 100 B to the end, 1 partition (wall, vs Kafka 4.4)', wall('c100'), 's', '<= 1x', { goalMax: 1, note: withPauses('c100', 'pauses100') });
  row('peers-consume-100-unbounded', 'kcat consume 1M x 100 B to the end, kcat queue unbounded (no 1 s pauses; wall, vs Kafka 4.4)', wall('u100'), 's', '<= 1x', { goalMax: 1 });
  row('peers-consume-cpu-100', 'broker CPU per kcat consume of 1M x 100 B (vs Kafka 4.4)', wall('cpu100'), 's', '<= 1x', { goalMax: 1 });
  row('peers-produce-1k', `kcat produce ${N1K / 1000}k x 1 KiB, 1 partition, acks=1 (wall, vs Kafka 4.4)`, wall('p1k'), 's', '<= 1x', { goalMax: 1 });
  row('peers-consume-1k', `kcat consume ${N1K / 1000}k x 1 KiB to the end, 1 partition (wall, vs Kafka 4.4)`, wall('c1k'), 's', '<= 1x', { goalMax: 1, note: withPauses('c1k', 'pauses1k') });
  row('peers-consume-1k-unbounded', `kcat consume ${N1K / 1000}k x 1 KiB to the end, kcat queue unbounded (no 1 s pauses; wall, vs Kafka 4.4)`, wall('u1k'), 's', '<= 1x', { goalMax: 1 });
  row('peers-consume-cpu-1k', `broker CPU per kcat consume of ${N1K / 1000}k x 1 KiB (vs Kafka 4.4)`, wall('cpu1k'), 's', '<= 1x', { goalMax: 1 });
  row('peers-latency-p50', `end-to-end latency p50 at ${RATE / 1000}k msg/s, acks=1 (vs Kafka 4.4)`, (s) => lat.get(s).p50, 'ms', undefined, {});
  row('peers-latency-p99', `end-to-end latency p99 at ${RATE / 1000}k msg/s, acks=1 (vs Kafka 4.4)`, (s) => lat.get(s).p99, 'ms', '<= 1x', { goalMax: 1 });
  for (const s of servers) {
    await s.stop();
    untrack(s);
  }
}
