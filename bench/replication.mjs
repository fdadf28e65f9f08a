// Issue 12's benchmark, run by bench/run.mjs as the scenario "replication": a cluster of three kts
// brokers on the kts coordinator, all on this machine, with Kafka's default replication settings.
//   - throughput: kcat produces 1M x 100 B to a topic with RF=3, acks=all, min.insync.replicas=2,
//     and to one with RF=1, acks=1, alternately; the ratio of records/s (goal >= 0.5);
//   - end-to-end latency at 10k msg/s on the RF=3 topic with acks=all (the consumer sees a record
//     only once every in-sync follower has it, at the high watermark): p50 and p99 (goal <= 10 ms),
//     with the RF=1 acks=1 figures of the same run beside them;
//   - failover: the leader is killed with SIGKILL while a producer keeps trying acks=all writes;
//     the time to the first write the new leader acknowledges. It is bounded by
//     zookeeper.session.timeout.ms (Kafka's default 18 s): the controller learns of the death only
//     when the dead broker's session expires and its /brokers/ids znode goes (goal <= that + 1 s).
// Both topics are placed on broker 1 first, so the producers and the probes talk to one leader.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './lib/proc.mjs';
import { RawClient, freePort, startKts } from './lib/servers.mjs';

const SESSION_MS = 18_000; // kts's default zookeeper.session.timeout.ms, as Kafka's
const RATE = 10_000;
const LATENCY_S = 5;

/** `kts zookeeper-server-start` on a free port; resolves once it listens. */
export async function startCoordinator(snap, dataDir) {
  const port = await freePort();
  const config = join(dataDir, 'zookeeper.properties');
  writeFileSync(config, `dataDir=${join(dataDir, 'data')}\nclientPort=${port}\ntickTime=2000\n`);
  const child = spawn(process.execPath, [snap.bin, 'zookeeper-server-start', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise((res) => child.once('exit', res));
  await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`coordinator did not start in 30 s:\n${out.slice(-1000)}`)), 30_000);
    const seen = (d) => {
      out += d;
      if (/binding to port/.test(out)) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`coordinator exited with ${code}:\n${out.slice(-1000)}`));
    });
  });
  return {
    kind: 'kts coordinator',
    port,
    pid: child.pid,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function metadataOf(port, proto, topic) {
  const c = await RawClient.connect(port, proto);
  try {
    const res = await c.request(3, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const p = res.topics[0]?.partitions?.[0];
    return { brokers: new Map(res.brokers.map((b) => [b.nodeId, b.port])), leader: p?.leaderId ?? -1, isr: p?.isrNodes ?? [] };
  } finally {
    c.close();
  }
}

async function until(what, check, limitMs = 60_000) {
  const t0 = performance.now();
  for (;;) {
    const got = await check().catch(() => undefined);
    if (got) return got;
    if (performance.now() - t0 > limitMs) throw new Error(`${what}: not within ${limitMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One acks=all record to partition 0 of `topic` on `port`; its error code. */
async function produceOne(port, proto, topic, timeoutMs) {
  const c = await RawClient.connect(port, proto);
  try {
    const res = await c.request(0, 7, {
      transactionalId: null,
      acks: -1,
      timeoutMs,
      topicData: [{ name: topic, partitionData: [{ index: 0, records: proto.buildRecordBatch([{ key: null, value: Buffer.from('failover probe') }]) }] }],
    });
    return res.responses[0].partitionResponses[0].errorCode;
  } finally {
    c.close();
  }
}

/** The wall-clock time (ms) of the coordinator's last "Expiring session" line, or null. */
function sessionExpiredAt(output) {
  const lines = output.split('\n').filter((l) => /Expiring session/.test(l));
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3})/.exec(lines.at(-1) ?? '');
  return m ? new Date(`${m[1]}T${m[2]}.${m[3]}`).getTime() : null;
}

export async function scenarioReplication(ctx) {
  const { snap, proto, PROTO_PATH, BENCH, KCAT, F100, newDir, track, untrack, addRow, log, rounds, kcatProduce, kcatFailed, run } = ctx;
  if (!KCAT) return 'kcat is not installed';
  const coordinator = track(await startCoordinator(snap, newDir('repl-zk')));
  const brokers = new Map();
  for (const id of [1, 2, 3]) {
    const overrides = { 'broker.id': String(id), 'zookeeper.connect': `127.0.0.1:${coordinator.port}/kts-bench` };
    brokers.set(id, track(await startKts(snap, { dataDir: newDir(`repl-${id}`), overrides })));
  }
  const first = brokers.get(1);
  const c = await RawClient.connect(first.port, proto);
  try {
    const topic = (name, replicas, configs) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: replicas }], configs });
    const res = await c.request(19, 4, {
      topics: [topic('rf3', [1, 2, 3], [{ name: 'min.insync.replicas', value: '2' }]), topic('rf1', [1], []), topic('lat3', [1, 2, 3], [{ name: 'min.insync.replicas', value: '2' }]), topic('lat1', [1], [])],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    for (const t of res.topics) if (t.errorCode !== 0) throw new Error(`create ${t.name}: error ${t.errorCode} ${t.errorMessage ?? ''}`);
  } finally {
    c.close();
  }
  for (const t of ['rf3', 'lat3']) await until(`${t} led by broker 1 with ISR 1,2,3`, async () => {
    const m = await metadataOf(first.port, proto, t);
    return m.leader === 1 && m.isr.length === 3;
  });

  // Throughput: RF=1 acks=1 and RF=3 acks=all alternately, 1M x 100 B each time.
  const n = Math.min(rounds, 3);
  log(`replication: kcat 1M x 100 B, RF=3 acks=all (min.insync.replicas=2) vs RF=1 acks=1, ${n} rounds, 3 brokers on one machine`);
  const rates = { rf1: [], rf3: [] };
  for (let r = 0; r < n; r++) {
    for (const [t, acks] of [['rf1', '1'], ['rf3', 'all']]) {
      const t0 = performance.now();
      const out = await kcatProduce(first.bootstrap, t, F100, ['-X', `acks=${acks}`]);
      const s = (performance.now() - t0) / 1000;
      const fail = kcatFailed(out);
      if (fail) throw new Error(`kcat produce to ${t} failed: ${fail}`);
      rates[t].push(1_000_000 / s);
      log(`  round ${r + 1}: ${t} acks=${acks} ${s.toFixed(2)} s (${(1 / s).toFixed(2)} M records/s)`);
    }
  }
  const rf1 = median(rates.rf1);
  const rf3 = median(rates.rf3);
  addRow({ id: 'repl-throughput', scenario: 'kcat produce 1M x 100 B: RF=3 acks=all vs RF=1 acks=1, 3 brokers (records/s)', kts: rf3, ref: rf1, refName: 'RF=1 acks=1, same run', unit: 'records/s', goal: '>= 0.5x', goalMin: 0.5 });

  // End-to-end latency at 10k msg/s: RF=3 acks=all, and RF=1 acks=1 for reference.
  const latency = async (t, acks) => {
    const out = await run(process.execPath, [join(BENCH, 'lib', 'latency.mjs'), String(first.port), PROTO_PATH, t, String(RATE), String(LATENCY_S), String(acks)], { keepStdout: true, timeoutMs: 60_000 });
    try {
      return JSON.parse(out.stdout.trim().split('\n').pop());
    } catch {
      throw new Error(`latency probe on ${t} failed: ${out.stderr.slice(0, 500)}`);
    }
  };
  const l1 = await latency('lat1', 1);
  const l3 = await latency('lat3', -1);
  log(`  latency RF=3 acks=all: p50 ${l3.p50.toFixed(2)} ms, p99 ${l3.p99.toFixed(2)} ms (received ${l3.received}/${l3.sent}); RF=1 acks=1: p50 ${l1.p50.toFixed(2)}, p99 ${l1.p99.toFixed(2)}`);
  const note = `received ${l3.received}/${l3.sent}, produce errors ${l3.produceErrors}; p99.9 ${l3.p999.toFixed(2)} ms`;
  addRow({ id: 'repl-latency-p50', scenario: `end-to-end latency p50 at ${RATE / 1000}k msg/s, RF=3 acks=all`, kts: l3.p50, ref: l1.p50, refName: 'RF=1 acks=1, same run', unit: 'ms', note });
  addRow({ id: 'repl-latency-p99', scenario: `end-to-end latency p99 at ${RATE / 1000}k msg/s, RF=3 acks=all`, kts: l3.p99, ref: l1.p99, refName: 'RF=1 acks=1, same run', unit: 'ms', goal: '<= 10 ms', absMax: 10 });

  // Failover: SIGKILL the leader, then acks=all writes through whichever broker Metadata names.
  await until('rf3 ISR back to 1,2,3', async () => (await metadataOf(first.port, proto, 'rf3')).isr.length === 3);
  const survivor = brokers.get(2);
  const killedAt = performance.now();
  const killedAtWall = Date.now();
  await first.kill9();
  untrack(first);
  let electedMs = NaN;
  const failoverMs = await until(
    'an acks=all write acknowledged by a new leader',
    async () => {
      const m = await metadataOf(survivor.port, proto, 'rf3');
      if (m.leader === 1 || m.leader === -1) return undefined;
      if (Number.isNaN(electedMs)) electedMs = performance.now() - killedAt;
      const code = await produceOne(m.brokers.get(m.leader), proto, 'rf3', 5_000);
      return code === 0 ? performance.now() - killedAt : undefined;
    },
    SESSION_MS + 30_000,
  );
  // When the coordinator ended the dead broker's session (its own log line's time): what is left of
  // the session timeout at the kill is set by the broker's last ping, the rest is kts's reaction.
  const expiredAt = sessionExpiredAt(coordinator.output());
  const expiryMs = expiredAt === null ? NaN : expiredAt - killedAtWall;
  const reaction = Number.isNaN(expiryMs) ? '' : `; session expired ${(expiryMs / 1000).toFixed(2)} s after the kill, first write acknowledged ${((failoverMs - expiryMs) / 1000).toFixed(2)} s after that`;
  log(`  failover: new leader in Metadata after ${(electedMs / 1000).toFixed(2)} s, first acks=all write acknowledged after ${(failoverMs / 1000).toFixed(2)} s${reaction}`);
  addRow({
    id: 'repl-failover',
    scenario: "leader SIGKILL to the first acks=all write acknowledged by the new leader (default settings)",
    kts: failoverMs / 1000,
    ref: SESSION_MS / 1000,
    refName: 'zookeeper.session.timeout.ms',
    unit: 's',
    goal: `<= ${SESSION_MS / 1000 + 1} s`,
    absMax: SESSION_MS / 1000 + 1,
    note: `bounded by the dead broker's ZooKeeper session (${SESSION_MS / 1000} s after its last ping, which it sends every ${SESSION_MS / 3000} s when idle): the controller elects once its /brokers/ids znode goes; new leader in Metadata after ${(electedMs / 1000).toFixed(2)} s${reaction}`,
  });
  for (const b of brokers.values()) {
    if (b === first) continue;
    await b.stop();
    untrack(b);
  }
  await coordinator.stop();
  untrack(coordinator);
}
