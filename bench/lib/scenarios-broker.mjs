// bench/run.mjs's scenarios about the broker itself: kafkajs produce/consume against the C mock
// cluster, `kts topics --list` cold and the idle RSS, start to first answer (empty, 1 GB after a
// clean stop and after kill -9), Fetch at a random offset in 10 M vs 10 k records, and end-to-end
// latency at 10k msg/s. Each takes run.mjs's context (ctx).
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median, percentile, rssMB, run, sleep } from './proc.mjs';
import { RawClient, createTopics, startKts, startMock } from './servers.mjs';

export async function scenarioKafkajs(ctx) {
  const { ROUNDS, MOCK, snap, proto, BENCH, log, track, untrack, newDir, addRow } = ctx;
  const count = 100_000;
  const rounds = Math.min(ROUNDS, 3); // the mock's group join alone costs 3 s a round
  log(`kafkajs: produce then consume ${count / 1000}k x 100 B (4 partitions), kts vs mock, ${rounds} rounds`);
  const topics = {};
  for (let r = 0; r < rounds; r++) topics[`kj${r}`] = 4;
  const kts = track(await startKts(snap, { dataDir: newDir('kafkajs') }));
  await createTopics(kts.port, proto, topics);
  const mock = MOCK ? track(await startMock(MOCK, topics)) : null;
  const res = { kts: { p: [], c: [] }, mock: { p: [], c: [] } };
  for (let r = 0; r < rounds; r++) {
    for (const who of r % 2 ? ['mock', 'kts'] : ['kts', 'mock']) {
      const s = who === 'kts' ? kts : mock;
      if (!s) continue;
      const out = await run(process.execPath, [join(BENCH, 'lib', 'kafkajs-client.mjs'), s.bootstrap, `kj${r}`, String(count)], { keepStdout: true, timeoutMs: 200_000 });
      let j;
      try {
        j = JSON.parse(out.stdout.trim().split('\n').pop());
      } catch {
        log(`  kafkajs against ${who} failed: ${out.stderr.slice(0, 300)}`);
        continue;
      }
      if (j.consumed < count) log(`  kafkajs against ${who}: consumed only ${j.consumed}`);
      res[who].p.push(count / (j.produceMs / 1000));
      if (j.consumed >= count) res[who].c.push(count / (j.consumeMs / 1000));
      log(`  round ${r + 1} ${who}: produce ${(j.produceMs / 1000).toFixed(2)} s, consume ${(j.consumeMs / 1000).toFixed(2)} s (+ ${(j.joinMs / 1000).toFixed(2)} s group join)`);
    }
  }
  addRow({
    id: 'kafkajs-produce',
    scenario: 'kafkajs produce 100k x 100 B, acks=1 (records/s)',
    kts: median(res.kts.p),
    ref: median(res.mock.p),
    refName: 'C mock cluster',
    unit: 'rec/s',
    rounds: res,
  });
  addRow({
    id: 'kafkajs-consume',
    scenario: 'kafkajs consume 100k x 100 B, group joined to last record (records/s)',
    kts: median(res.kts.c),
    ref: median(res.mock.c),
    refName: 'C mock cluster',
    unit: 'rec/s',
  });
  for (const s of [kts, mock]) {
    if (!s) continue;
    await s.stop();
    untrack(s);
  }
}

export async function scenarioCli(ctx) {
  const { ROUNDS, snap, proto, log, track, untrack, newDir, addRow, nodeBaseline } = ctx;
  log(`CLI: \`kts topics --list\` cold vs \`node -e 0\`, ${ROUNDS} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('cli') }));
  await createTopics(kts.port, proto, { a: 1, b: 2 });
  const k = [];
  const n = [];
  for (let r = 0; r < ROUNDS; r++) {
    const res = await run(process.execPath, [snap.bin, 'topics', '--list', '--bootstrap-server', kts.bootstrap], { keepStdout: true, timeoutMs: 30_000 });
    if (res.code !== 0 || !/\ba\b/.test(res.stdout)) throw new Error(`kts topics --list failed: ${res.stderr.slice(0, 300)}`);
    k.push(res.wallMs);
    n.push(await nodeBaseline());
    log(`  round ${r + 1}: kts topics --list ${res.wallMs.toFixed(0)} ms, node -e 0 ${n.at(-1).toFixed(0)} ms`);
  }
  addRow({ id: 'cli-list', scenario: '`kts topics --list` cold (wall)', kts: median(k), ref: median(n), refName: 'node -e 0', unit: 'ms', goal: '<= 1.5x', goalMax: 1.5, rounds: { kts: k, ref: n } });
  // RSS of an idle broker (a few topics, a second after its last request).
  await sleep(1000);
  const idle = rssMB(kts.pid);
  addRow({ id: 'rss-idle', scenario: 'broker RSS idle', kts: idle, ref: 1024, refName: "Kafka's default heap", unit: 'MB', goal: '<= 60 MB', absMax: 60 });
  await kts.stop();
  untrack(kts);
}

export async function scenarioStart(ctx) {
  const { KCAT, NO_KCAT, ROUNDS, BIG_MB, snap, proto, log, notes, track, untrack, newDir, addRow, kcatFailed, nodeBaseline, nodeE0 } = ctx;
  log(`start to first ApiVersions answer: empty data dir, ${ROUNDS} rounds, vs node -e 0`);
  const empty = [];
  const n = [];
  for (let r = 0; r < ROUNDS; r++) {
    const s = track(await startKts(snap, { dataDir: newDir('start-empty') }));
    empty.push(s.startMs);
    await s.stop();
    untrack(s);
    n.push(await nodeBaseline());
    log(`  round ${r + 1}: ${s.startMs.toFixed(0)} ms (node -e 0 ${n.at(-1).toFixed(0)} ms)`);
  }
  const node = median(nodeE0);
  addRow({ id: 'start-empty', scenario: 'broker start to first answer, empty', kts: median(empty), ref: node, refName: 'node -e 0', unit: 'ms', goal: '<= 1.5x', goalMax: 1.5, rounds: { kts: empty, ref: n } });

  if (!KCAT) return `${NO_KCAT}; it loads the 1 GB`;
  const bigMB = BIG_MB;
  log(`start with ${bigMB} MB of data: loading it with kcat (64 KiB records), then kill -9 / clean restarts`);
  const dir = newDir('start-big');
  let s = track(await startKts(snap, { dataDir: dir }));
  await createTopics(s.port, proto, { big: 1 });
  const line = Buffer.alloc(64 * 1024, 0x62);
  line[line.length - 1] = 10;
  const tLoad = performance.now();
  const res = await run(KCAT, ['-P', '-b', s.bootstrap, '-t', 'big', '-X', 'acks=1', '-X', 'message.max.bytes=1000000'], {
    timeoutMs: 300_000,
    feed: async (stdin) => {
      for (let i = 0; i < bigMB * 16; i++) {
        if (!stdin.write(line)) await new Promise((r) => stdin.once('drain', r));
      }
      stdin.end();
    },
  });
  const fail = kcatFailed(res);
  if (fail) throw new Error(`loading ${bigMB} MB failed: ${fail}`);
  // What is on disk, so that a short load (kcat dropping records) cannot pass for 1 GB.
  const du = (d) => readdirSync(d, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? du(join(d, e.name)) : statSync(join(d, e.name)).size), 0);
  const onDiskMB = du(dir) / 2 ** 20;
  log(`  loaded ${bigMB} MB in ${((performance.now() - tLoad) / 1000).toFixed(1)} s (${onDiskMB.toFixed(0)} MB in the data dir); kill -9`);
  if (onDiskMB < bigMB * 0.95) throw new Error(`only ${onDiskMB.toFixed(0)} MB reached the data dir of the ${bigMB} MB loaded`);
  await s.kill9();
  untrack(s);
  // What the data dir looks like right after the crash: its root files (checkpoints, no clean-shutdown
  // marker) are restored before each kill -9 round so every round recovers the whole log.
  const rootFiles = () => readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  const crashed = Object.fromEntries(rootFiles().map((f) => [f, readFileSync(join(dir, f))]));
  const restore = () => {
    for (const f of rootFiles()) if (!(f in crashed)) rmSync(join(dir, f), { force: true });
    for (const [f, b] of Object.entries(crashed)) writeFileSync(join(dir, f), b);
  };
  const killed = [];
  for (let r = 0; r < ROUNDS; r++) {
    restore();
    s = track(await startKts(snap, { dataDir: dir }));
    killed.push(s.startMs);
    if (!/unclean/.test(s.output())) notes.push(`kill -9 round ${r + 1}: the broker did not report an unclean shutdown; the figure may not include recovery.`);
    log(`  after kill -9, round ${r + 1}: ${s.startMs.toFixed(0)} ms`);
    await s.kill9();
    untrack(s);
    n.push(await nodeBaseline());
  }
  // One start + clean stop, then the clean rounds.
  restore();
  s = track(await startKts(snap, { dataDir: dir }));
  await s.stop();
  untrack(s);
  const clean = [];
  for (let r = 0; r < ROUNDS; r++) {
    s = track(await startKts(snap, { dataDir: dir }));
    clean.push(s.startMs);
    log(`  after clean stop, round ${r + 1}: ${s.startMs.toFixed(0)} ms`);
    await s.stop();
    untrack(s);
    n.push(await nodeBaseline());
  }
  const sizeNote = bigMB < 1024 ? `${bigMB} MB instead of 1 GB (time budget)` : undefined;
  const node2 = median(nodeE0);
  const label = bigMB >= 1024 ? `${bigMB / 1024} GB` : `${bigMB} MB`;
  addRow({ id: 'start-clean', scenario: `broker start to first answer, ${label} after clean stop`, kts: median(clean), ref: node2, refName: 'node -e 0', unit: 'ms', goal: '<= 2.5x', goalMax: 2.5, rounds: { kts: clean }, note: sizeNote });
  addRow({ id: 'start-kill9', scenario: `broker start to first answer, ${label} after kill -9`, kts: median(killed), ref: node2, refName: 'node -e 0', unit: 'ms', goal: '<= 6x', goalMax: 6, rounds: { kts: killed }, note: sizeNote });
  rmSync(dir, { recursive: true, force: true });
}

export async function scenarioRandomFetch(ctx) {
  const { snap, log, track, untrack, newDir } = ctx;
  const big = Number(process.env.BENCH_FETCH_RECORDS ?? 10_000_000);
  const small = 10_000;
  const perBatch = 1000;
  log(`random-offset fetch: building ${big / 1e6} M and ${small / 1000} k record partitions with raw Produce (batches of ${perBatch})`);
  const dataDir = newDir('fetch');
  let kts = track(await startKts(snap, { dataDir }));
  // Between filling and fetching the broker restarts, so that both partitions are read from their
  // files (page cache) through the index: the log-end cache would otherwise hold all of the small one.
  const restart = async () => {
    await kts.stop();
    untrack(kts);
    kts = track(await startKts(snap, { dataDir }));
    return kts.port;
  };
  try {
    await fetchOn(ctx, kts, big, small, perBatch, restart);
  } catch (err) {
    // Say whether the broker died or closed the connection itself (it logs why it closes one).
    await sleep(300);
    const state = kts.child.exitCode !== null || kts.child.signalCode !== null ? `the broker exited (${kts.child.exitCode ?? kts.child.signalCode})` : 'the broker is still running';
    const why = kts.output().split('\n').filter((l) => /Closing connection|Error handling|ERROR|out of memory/i.test(l)).slice(-2).join(' | ');
    throw new Error(`${err.message}; ${state}${why ? `; broker log: ${why.slice(0, 300)}` : '; nothing in its log about closing it'}`);
  }
  await kts.stop();
  untrack(kts);
}

async function fetchOn(ctx, kts, big, small, perBatch, restart) {
  const { proto, log, addRow } = ctx;
  await createTopics(kts.port, proto, { r10m: 1, r10k: 1 });
  let c = await RawClient.connect(kts.port, proto);
  const records = Array.from({ length: perBatch }, (_, i) => ({ key: null, value: Buffer.from(String(i).padStart(8, '0')) }));
  const batch = proto.buildRecordBatch(records);
  const produce = (topic) =>
    c.request(0, 7, { transactionalId: null, acks: 1, timeoutMs: 30000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] }).then((res) => {
      const e = res.responses[0].partitionResponses[0].errorCode;
      if (e !== 0) throw new Error(`produce error ${e}`);
    });
  const fill = async (topic, total) => {
    const inflight = new Set();
    for (let sent = 0; sent < total; sent += perBatch) {
      const p = produce(topic).finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 16) await Promise.race(inflight);
    }
    await Promise.all(inflight);
  };
  const t0 = performance.now();
  await fill('r10m', big);
  const fillS = (performance.now() - t0) / 1000;
  log(`  ${big / 1e6} M records (${((batch.length * big) / perBatch / 1e6).toFixed(0)} MB) written in ${fillS.toFixed(1)} s (${(big / fillS / 1e6).toFixed(2)} M records/s with raw ${perBatch}-record batches)`);
  await fill('r10k', small);
  c.close();
  c = await RawClient.connect(await restart(), proto);
  const fetchOnce = async (topic, offset) => {
    const t = performance.now();
    const res = await c.request(1, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 32 * 1024 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const ms = performance.now() - t;
    const p = res.responses[0].partitions[0];
    if (p.errorCode !== 0 || !p.records?.length) throw new Error(`fetch ${topic}@${offset}: error ${p.errorCode}, ${p.records?.length ?? 0} bytes`);
    return ms;
  };
  let seed = 42;
  const rnd = (n) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (let i = 0; i < 50; i++) {
    await fetchOnce('r10m', rnd(big));
    await fetchOnce('r10k', rnd(small));
  }
  const tb = [];
  const ts = [];
  // Alternating one by one, so that the other engineers' load bursts hit both partitions alike.
  for (let i = 0; i < 1000; i++) {
    tb.push(await fetchOnce('r10m', rnd(big)));
    ts.push(await fetchOnce('r10k', rnd(small)));
  }
  c.close();
  const p50b = percentile(tb, 50);
  const p50s = percentile(ts, 50);
  log(`  fetch p50 ${p50b.toFixed(3)} ms (10 M) vs ${p50s.toFixed(3)} ms (10 k); p99 ${percentile(tb, 99).toFixed(3)} vs ${percentile(ts, 99).toFixed(3)} ms`);
  addRow({
    id: 'fetch-random',
    scenario: `Fetch at a random offset, p50: ${big / 1e6} M vs 10 k records in the partition`,
    kts: p50b,
    ref: p50s,
    refName: '10 k records',
    unit: 'ms',
    goal: '<= 1.2x',
    goalMax: 1.2,
    note: `p99 ${percentile(tb, 99).toFixed(2)} vs ${percentile(ts, 99).toFixed(2)} ms; 1,000 fetches each, alternating; 10 M built in ${fillS.toFixed(1)} s`,
  });
}

export async function scenarioLatency(ctx) {
  const { snap, proto, PROTO_PATH, BENCH, log, track, untrack, newDir, addRow } = ctx;
  const rate = 10_000;
  const seconds = 5;
  log(`end-to-end latency at ${rate} msg/s for ${seconds} s, acks=1, 1 ms producer ticks, long-poll consumer`);
  const kts = track(await startKts(snap, { dataDir: newDir('latency') }));
  await createTopics(kts.port, proto, { lat: 1 });
  const out = await run(process.execPath, [join(BENCH, 'lib', 'latency.mjs'), String(kts.port), PROTO_PATH, 'lat', String(rate), String(seconds)], { keepStdout: true, timeoutMs: 60_000 });
  await kts.stop();
  untrack(kts);
  let j;
  try {
    j = JSON.parse(out.stdout.trim().split('\n').pop());
  } catch {
    throw new Error(`latency probe failed: ${out.stderr.slice(0, 500)}`);
  }
  log(`  sent ${j.sent}, received ${j.received}, p50 ${j.p50.toFixed(2)} ms, p99 ${j.p99.toFixed(2)} ms, p99.9 ${j.p999.toFixed(2)} ms, max ${j.max.toFixed(1)} ms`);
  const note = j.received < j.sent || j.produceErrors ? `received ${j.received}/${j.sent}, produce errors ${j.produceErrors}` : `${j.measured} records measured; p99.9 ${j.p999.toFixed(2)} ms`;
  addRow({ id: 'latency-p50', scenario: `end-to-end latency p50 at ${rate / 1000}k msg/s, acks=1`, kts: j.p50, ref: 2, refName: "Kafka's published", unit: 'ms', goal: '<= 2 ms', absMax: 2, note });
  addRow({ id: 'latency-p99', scenario: `end-to-end latency p99 at ${rate / 1000}k msg/s, acks=1`, kts: j.p99, ref: 3, refName: "Kafka's published", unit: 'ms', goal: '<= 5 ms', absMax: 5 });
}
