// bench/run.mjs's scenarios that drive kts with kcat against librdkafka's C mock cluster (or a second
// kts): produce 1M x 100 B on 1 and 4 partitions, the same with an fsync per message, 100k x 1 KiB
// against loopback TCP, consume 1M x 100 B over 48 partitions, and each compression codec. Each takes
// run.mjs's context (ctx: rounds, data files, the kts snapshot, the mock, row and log sinks).
import { connect } from 'node:net';
import { cpuSeconds, median, rssSampler, sleep } from './proc.mjs';
import { createTopics, startKts, startMock } from './servers.mjs';

export async function scenarioProduce(ctx) {
  const { KCAT, NO_KCAT, ROUNDS, F100, MOCK, snap, proto, log, track, untrack, newDir, addRow, kcatProduce, kcatFailed, results } = ctx;
  if (!KCAT) return NO_KCAT;
  log(`produce: kcat 1 M x 100 B, acks=1, 1 and 4 partitions, kts vs mock cluster, ${ROUNDS} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('produce') }));
  await createTopics(kts.port, proto, { p1: 1, p4: 4 });
  const mock = MOCK ? track(await startMock(MOCK, { p1: 1, p4: 4 })) : null;
  for (const parts of [1, 4]) {
    const topic = `p${parts}`;
    const k = { wall: [], cpu: [], rss: [] };
    const m = { wall: [], cpu: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 ? ['mock', 'kts'] : ['kts', 'mock'];
      for (const who of order) {
        if (who === 'mock' && !mock) continue;
        const s = who === 'kts' ? kts : mock;
        const c0 = cpuSeconds(s.pid);
        const sampler = rssSampler(s.pid);
        const res = await kcatProduce(s.bootstrap, topic, F100);
        const peak = sampler.stop();
        const cpu = cpuSeconds(s.pid) - c0;
        const fail = kcatFailed(res);
        if (fail) throw new Error(`kcat produce to ${who} failed: ${fail}`);
        const t = who === 'kts' ? k : m;
        t.wall.push(res.wallMs / 1000);
        t.cpu.push(cpu);
        if (who === 'kts') k.rss.push(peak);
        log(`  ${topic} round ${r + 1} ${who}: ${(res.wallMs / 1000).toFixed(2)} s, broker CPU ${cpu.toFixed(2)} s${who === 'kts' ? `, RSS peak ${peak.toFixed(0)} MB` : ''}`);
      }
    }
    results.produce[parts] = { kts: median(k.wall), mock: median(m.wall) };
    results.ktsRssFull = Math.max(results.ktsRssFull ?? 0, ...k.rss);
    addRow({
      id: `produce-${parts}p`,
      scenario: `kcat produce 1M x 100 B, ${parts} partition${parts > 1 ? 's' : ''}, acks=1 (wall)`,
      kts: median(k.wall),
      ref: mock ? median(m.wall) : NaN,
      refName: 'C mock cluster',
      unit: 's',
      goal: '<= 1.10x',
      goalMax: 1.1,
      rounds: { kts: k.wall, ref: m.wall },
    });
    addRow({
      id: `produce-cpu-${parts}p`,
      scenario: `broker CPU per 1M records produced, ${parts} partition${parts > 1 ? 's' : ''}`,
      kts: median(k.cpu),
      ref: mock ? median(m.cpu) : NaN,
      refName: 'C mock cluster',
      ratio: mock ? median(k.cpu) / median(m.cpu) : undefined,
      unit: 's',
      goal: '<= 0.35 s',
      absMax: 0.35,
      rounds: { kts: k.cpu, ref: m.cpu },
    });
  }
  await kts.stop();
  untrack(kts);
  if (mock) {
    await mock.stop();
    untrack(mock);
  }
}

export async function scenarioFlush(ctx) {
  const { KCAT, NO_KCAT, ROUNDS, F100, snap, proto, log, track, untrack, newDir, addRow, kcatProduce, kcatFailed } = ctx;
  if (!KCAT) return NO_KCAT;
  log(`flush: the same 1-partition produce with log.flush.interval.messages=1 (fsync before ack), ${ROUNDS} rounds, alternating with a broker without`);
  const flush = track(await startKts(snap, { dataDir: newDir('flush'), overrides: { 'log.flush.interval.messages': '1' } }));
  const plain = track(await startKts(snap, { dataDir: newDir('noflush') }));
  await createTopics(flush.port, proto, { p1: 1 });
  await createTopics(plain.port, proto, { p1: 1 });
  const f = [];
  const p = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of r % 2 ? ['plain', 'flush'] : ['flush', 'plain']) {
      const s = who === 'flush' ? flush : plain;
      const res = await kcatProduce(s.bootstrap, 'p1', F100);
      const fail = kcatFailed(res);
      if (fail) throw new Error(`kcat produce (${who}) failed: ${fail}`);
      (who === 'flush' ? f : p).push(res.wallMs / 1000);
      log(`  round ${r + 1} ${who}: ${(res.wallMs / 1000).toFixed(2)} s`);
    }
  }
  addRow({
    id: 'produce-fsync',
    scenario: 'kcat produce 1M x 100 B, 1 partition, log.flush.interval.messages=1',
    kts: median(f),
    ref: median(p),
    refName: 'kts without fsync',
    unit: 's',
    goal: '<= 1.5x',
    goalMax: 1.5,
    rounds: { kts: f, ref: p },
  });
  for (const s of [flush, plain]) {
    await s.stop();
    untrack(s);
  }
}

async function loopbackMBps(ctx, totalMB = 1024) {
  // A sink process reading and discarding; this process writes 1 MiB chunks.
  const sinkCode = `const s=require('net').createServer(c=>{c.on('data',()=>{});c.on('end',()=>{process.stdout.write('done\\n');c.end()})});s.listen(0,'127.0.0.1',()=>process.stdout.write(s.address().port+'\\n'));`;
  const { spawn } = await import('node:child_process');
  const sink = spawn(process.execPath, ['-e', sinkCode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  sink.stdout.on('data', (d) => (out += d));
  for (let i = 0; i < 500 && !/^\d+\n/.test(out); i++) await sleep(10);
  const port = Number(out.trim().split('\n')[0]);
  const chunk = Buffer.alloc(1 << 20, 0x61);
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    const c = connect({ port, host: '127.0.0.1' }, async () => {
      for (let i = 0; i < totalMB; i++) {
        if (!c.write(chunk)) await new Promise((r) => c.once('drain', r));
      }
      c.end();
    });
    c.on('data', () => {});
    c.on('close', resolve);
    c.on('error', reject);
  });
  const ms = performance.now() - t0;
  sink.kill();
  return totalMB / (ms / 1000);
}

export async function scenarioLarge(ctx) {
  const { KCAT, NO_KCAT, ROUNDS, N1K, F1K, MOCK, snap, proto, log, track, untrack, newDir, addRow, kcatProduce, kcatFailed } = ctx;
  if (!KCAT) return NO_KCAT;
  log(`1 KiB records: kcat produce 100k x 1 KiB to kts (1 partition, acks=1) vs loopback TCP MB/s, ${ROUNDS} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('large') }));
  await createTopics(kts.port, proto, { k1: 1 });
  const mock = MOCK ? track(await startMock(MOCK, { k1: 1 })) : null;
  const k = [];
  const l = [];
  const m = [];
  const mb = (N1K * 1024) / (1 << 20);
  for (let r = 0; r < ROUNDS; r++) {
    const res = await kcatProduce(kts.bootstrap, 'k1', F1K);
    const fail = kcatFailed(res);
    if (fail) throw new Error(`kcat produce 1 KiB failed: ${fail}`);
    k.push(mb / (res.wallMs / 1000));
    l.push(await loopbackMBps(ctx));
    if (mock) {
      const mr = await kcatProduce(mock.bootstrap, 'k1', F1K);
      if (!kcatFailed(mr)) m.push(mb / (mr.wallMs / 1000));
    }
    log(`  round ${r + 1}: kts ${k.at(-1).toFixed(0)} MB/s, loopback ${l.at(-1).toFixed(0)} MB/s${mock ? `, mock ${m.at(-1)?.toFixed(0)} MB/s` : ''}`);
  }
  addRow({
    id: 'produce-1k',
    scenario: 'kcat produce 100k x 1 KiB, 1 partition (MB/s of values)',
    kts: median(k),
    ref: median(l),
    refName: 'loopback TCP',
    unit: 'MB/s',
    goal: '>= 40%',
    goalMin: 0.4,
    rounds: { kts: k, ref: l, mock: m },
    note: mock ? `C mock cluster with the same kcat: ${median(m).toFixed(0)} MB/s (${((100 * median(m)) / median(l)).toFixed(0)}% of loopback)` : undefined,
  });
  await kts.stop();
  untrack(kts);
  if (mock) {
    await mock.stop();
    untrack(mock);
  }
}

export async function scenarioConsume(ctx) {
  const { KCAT, NO_KCAT, ROUNDS, N, F100, MOCK, snap, proto, log, track, untrack, newDir, addRow, kcatProduce, kcatConsume, kcatFailed } = ctx;
  if (!KCAT) return NO_KCAT;
  const parts = 48;
  log(`consume: kcat -C -e of 1M x 100 B over ${parts} partitions (the mock keeps ~5 MiB per partition), ${ROUNDS} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('consume') }));
  await createTopics(kts.port, proto, { c: parts });
  const mock = MOCK ? track(await startMock(MOCK, { c: parts })) : null;
  for (const s of [kts, mock]) {
    if (!s) continue;
    const res = await kcatProduce(s.bootstrap, 'c', F100, ['-X', 'sticky.partitioning.linger.ms=0']);
    const fail = kcatFailed(res);
    if (fail) throw new Error(`loading ${s.kind} failed: ${fail}`);
  }
  const k = [];
  const m = [];
  let counts = { kts: 0, mock: 0 };
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of r % 2 ? ['mock', 'kts'] : ['kts', 'mock']) {
      const s = who === 'kts' ? kts : mock;
      if (!s) continue;
      const res = await kcatConsume(s.bootstrap, 'c');
      const fail = kcatFailed(res);
      if (fail) throw new Error(`kcat consume from ${who} failed: ${fail}`);
      counts[who] = res.lines;
      (who === 'kts' ? k : m).push(res.wallMs / 1000);
      log(`  round ${r + 1} ${who}: ${(res.wallMs / 1000).toFixed(2)} s, ${res.lines} records`);
    }
  }
  addRow({
    id: 'consume',
    scenario: `kcat consume 1M x 100 B to the end (${parts} partitions)`,
    kts: median(k),
    ref: mock ? median(m) : NaN,
    refName: 'C mock cluster',
    unit: 's',
    goal: '<= 1.2x',
    goalMax: 1.2,
    rounds: { kts: k, ref: m },
    note: counts.kts !== N || (mock && counts.mock !== N) ? `records read: kts ${counts.kts}, mock ${counts.mock}` : undefined,
  });
  await kts.stop();
  untrack(kts);
  if (mock) {
    await mock.stop();
    untrack(mock);
  }
}

export async function scenarioCodecs(ctx) {
  const { KCAT, NO_KCAT, ROUNDS, N, F100, snap, proto, log, track, untrack, newDir, addRow, kcatProduce, kcatFailed } = ctx;
  if (!KCAT) return NO_KCAT;
  const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
  const rounds = Math.min(ROUNDS, 3);
  log(`codecs: kcat produce 1M x 100 B with each codec to kts (1 partition), ${rounds} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('codecs') }));
  await createTopics(kts.port, proto, Object.fromEntries(codecs.map((c) => [`z-${c}`, 1])));
  const mbs = Object.fromEntries(codecs.map((c) => [c, []]));
  const cpu = Object.fromEntries(codecs.map((c) => [c, []]));
  const failed = {};
  const mb = (N * 99) / (1 << 20);
  for (let r = 0; r < rounds; r++) {
    // rotate the order so that no codec always runs first after a pause
    for (const c of codecs.map((_, i) => codecs[(i + r) % codecs.length])) {
      if (failed[c]) continue;
      const c0 = cpuSeconds(kts.pid);
      const res = await kcatProduce(kts.bootstrap, `z-${c}`, F100, ['-z', c, '-X', 'message.timeout.ms=20000']);
      cpu[c].push(cpuSeconds(kts.pid) - c0);
      const fail = kcatFailed(res);
      if (fail) {
        failed[c] = fail.slice(0, 160);
        log(`  ${c}: failed (${failed[c]})`);
        continue;
      }
      mbs[c].push(mb / (res.wallMs / 1000));
    }
    log(`  round ${r + 1}: ${codecs.map((c) => `${c} ${mbs[c].at(-1)?.toFixed(0) ?? '-'}`).join(', ')} MB/s`);
  }
  const none = median(mbs.none);
  for (const c of codecs.slice(1)) {
    addRow({
      id: `codec-${c}`,
      scenario: `kcat produce 1M x 100 B, ${c} (MB/s uncompressed)`,
      kts: failed[c] ? 'fails' : median(mbs[c]),
      verdict: failed[c] ? 'FAILED (kcat error)' : undefined,
      ref: none,
      refName: 'none codec',
      ratio: failed[c] ? NaN : median(mbs[c]) / none,
      unit: 'MB/s',
      note: failed[c] ? `kcat: ${failed[c]}` : `broker CPU ${median(cpu[c]).toFixed(2)} s vs ${median(cpu.none).toFixed(2)} s uncompressed`,
    });
  }
  await kts.stop();
  untrack(kts);
}
