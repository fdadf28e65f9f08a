// Issue 14's benchmark, run by bench/run.mjs as the scenario "transactions": transactional produce
// against idempotent produce of the same records, 100 x 100 B per transaction, one transaction after
// another as an app sends, same broker, same partition, the two modes alternating. Two clients:
//   - kafkajs (bench/lib/kafkajs-txn.mjs), what a Node app uses; its own CPU per request is a large
//     share of each round trip, so it bounds what the broker can show;
//   - the Java client 4.4 (bench/lib/JavaTxnBench.java, compiled against the jars
//     scripts/fetch-kafka.mjs caches), which is not the bottleneck.
// Each against kts and, in the same run, Apache Kafka 4.4 (KRaft, one node, as shipped), so that the
// ratio a transaction costs on Kafka itself is the yardstick of kts's.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { median } from './lib/proc.mjs';
import { createTopics, startKts } from './lib/servers.mjs';
import { startKafka } from './peers.mjs';

const CACHE = process.env.KTS_INTEROP_CACHE || join(homedir(), '.cache/kts-interop');
const KAFKA_LIB = join(CACHE, 'kafka-4.4.0', 'lib');
const TXNS = 200;
const PER_TXN = 100;

/** The compiled JavaTxnBench (once per source), or null without javac or Kafka's jars. */
function javaBench(benchDir, haveTool) {
  if (!haveTool('javac') || !existsSync(join(KAFKA_LIB, 'kafka-clients-4.4.0.jar'))) return null;
  const source = join(benchDir, 'lib', 'JavaTxnBench.java');
  const dir = join(CACHE, `java-txn-bench-${createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16)}`);
  if (!existsSync(join(dir, 'JavaTxnBench.class'))) {
    const staging = `${dir}.tmp-${process.pid}`;
    mkdirSync(staging, { recursive: true });
    execFileSync('javac', ['-nowarn', '-d', staging, '-cp', `${KAFKA_LIB}/*`, source], { stdio: 'pipe', timeout: 300_000 });
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  return { cmd: 'java', args: ['-Xmx256m', '-cp', `${dir}:${KAFKA_LIB}/*`, 'JavaTxnBench'] };
}

export async function scenarioTransactions(ctx) {
  const { snap, proto, BENCH, newDir, track, untrack, addRow, log, notes, external, rounds: roundsAsked, run, haveTool } = ctx;
  const rounds = Math.min(roundsAsked, 5);
  const kafkaRounds = Math.min(rounds, 3);
  const java = javaBench(BENCH, haveTool);
  if (!java) notes.push('transactions: no javac or no Kafka 4.4 jars in the interop cache (node scripts/fetch-kafka.mjs): no Java client figures.');
  log(`transactions: ${TXNS} transactions of ${PER_TXN} x 100 B vs idempotent sends of the same, kafkajs${java ? ' and the Java client 4.4' : ''}, ${rounds} rounds (Kafka 4.4: ${kafkaRounds})`);
  const kts = track(await startKts(snap, { dataDir: newDir('transactions') }));
  const kafka = haveTool('java') ? await startKafka(newDir('transactions-kafka')).catch((err) => log(`  Kafka 4.4 did not start: ${err.message.slice(0, 200)}`)) : null;
  if (kafka) track(kafka);
  const clients = { kafkajs: { cmd: process.execPath, args: [join(BENCH, 'lib', 'kafkajs-txn.mjs')] }, ...(java ? { java } : {}) };
  const topicsFor = (n) => Object.fromEntries(Object.keys(clients).flatMap((c) => Array.from({ length: n }, (_, r) => [`tx-${c}-${r}`, 1])));
  await createTopics(kts.port, proto, topicsFor(rounds));
  if (kafka) await createTopics(kafka.port, proto, topicsFor(kafkaRounds));
  const empty = () => ({ txn: [], idempotent: [], perTxnMs: [], perSendMs: [] });
  const res = Object.fromEntries(Object.keys(clients).map((c) => [c, { kts: empty(), kafka: empty() }]));
  const lines = [];
  const once = async (client, who, server, topic, mode) => {
    const { cmd, args } = clients[client];
    const out = await run(cmd, [...args, server.bootstrap, topic, mode, String(TXNS), String(PER_TXN)], { keepStdout: true, timeoutMs: 300_000 });
    let j;
    try {
      j = JSON.parse(out.stdout.trim().split('\n').pop());
    } catch {
      log(`  ${client} ${mode} against ${who} failed: ${out.stderr.slice(0, 300)}`);
      return;
    }
    const r = res[client][who];
    r[mode].push((TXNS * PER_TXN) / (j.ms / 1000));
    r[mode === 'txn' ? 'perTxnMs' : 'perSendMs'].push(j.perTxnMs);
    const where = j.requests ? ` (${Object.entries(j.requests).map(([api, q]) => `${api} ${q.count} x ${(q.ms / q.count).toFixed(2)} ms`).join(', ')})` : '';
    const line = `${client} ${who} ${mode}: ${(j.ms / 1000).toFixed(2)} s, ${j.perTxnMs.toFixed(2)} ms per ${mode === 'txn' ? 'transaction' : 'send'}${where}`;
    lines.push(line);
    log(`  ${line}`);
  };
  for (let r = 0; r < rounds; r++) {
    for (const client of Object.keys(clients)) {
      for (const mode of r % 2 ? ['idempotent', 'txn'] : ['txn', 'idempotent']) {
        await once(client, 'kts', kts, `tx-${client}-${r}`, mode);
        if (kafka && r < kafkaRounds) await once(client, 'kafka', kafka, `tx-${client}-${r}`, mode);
      }
    }
  }
  const ratio = (x) => median(x.txn) / median(x.idempotent);
  const kafkaNote = (c) => (kafka ? `Kafka 4.4 same client: transactional ${median(res[c].kafka.txn).toFixed(0)} rec/s, idempotent ${median(res[c].kafka.idempotent).toFixed(0)} rec/s (${ratio(res[c].kafka).toFixed(2)}x)` : undefined);
  addRow({
    id: 'txn-throughput',
    scenario: `kafkajs transactional produce, ${TXNS} transactions of ${PER_TXN} x 100 B (records/s)`,
    kts: median(res.kafkajs.kts.txn),
    ref: median(res.kafkajs.kts.idempotent),
    refName: 'idempotent produce, same run',
    unit: 'rec/s',
    goal: '>= 0.8x',
    goalMin: 0.8,
    note: kafkaNote('kafkajs'),
    rounds: res.kafkajs.kts,
  });
  if (java) {
    addRow({
      id: 'txn-throughput-java',
      scenario: `Java client 4.4 transactional produce, ${TXNS} transactions of ${PER_TXN} x 100 B (records/s)`,
      kts: median(res.java.kts.txn),
      ref: median(res.java.kts.idempotent),
      refName: 'idempotent produce, same run',
      unit: 'rec/s',
      goal: '>= 0.8x',
      goalMin: 0.8,
      note: kafkaNote('java'),
      rounds: res.java.kts,
    });
  }
  const fastest = java ? 'java' : 'kafkajs';
  addRow({
    id: 'txn-latency-kafka',
    scenario: `${fastest === 'java' ? 'Java client 4.4' : 'kafkajs'} transaction of ${PER_TXN} x 100 B, begin to commit (ms, vs Kafka 4.4)`,
    kts: median(res[fastest].kts.perTxnMs),
    ref: kafka ? median(res[fastest].kafka.perTxnMs) : undefined,
    refName: 'Apache Kafka 4.4.0',
    unit: 'ms',
    goal: '<= 1x',
    goalMax: 1,
    rounds: res[fastest].kafka,
  });
  external['bench/transactions.mjs (every run)'] = lines.join('\n');
  for (const s of [kts, kafka]) {
    if (!s) continue;
    await s.stop();
    untrack(s);
  }
}
