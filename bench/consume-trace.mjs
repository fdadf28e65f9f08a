// What kcat (librdkafka 2.0.2) sees of each broker's answers over whole consumes, from its own debug
// log: `node bench/consume-trace.mjs [rounds] [outDir]` starts kts (dist/) and Apache Kafka 4.4,
// produces the same 1M x 100 B into one partition of each, then runs `kcat -C -o beginning -e -d
// fetch,protocol` `rounds` times per broker (9 by default), alternating, and prints per round: wall
// time, fetches, records and bytes per answer, the fetch round trip (median, p90), the answers that
// came back short of 1 MiB, the 1 s queue pauses (queued.min.messages) with their real length, and
// the last answers. The raw logs stay in outDir (a temp dir by default) for a closer look.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, percentile, run } from './lib/proc.mjs';
import { startKts } from './lib/servers.mjs';
import { startKafka } from './peers.mjs';
import { makeLines } from './lib/data.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(process.argv[2] ?? 9);
const out = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'kts-consume-trace-'));
mkdirSync(out, { recursive: true });
const load = () => loadavg()[0].toFixed(1);
const bin = join(ROOT, 'bin', 'kts.js');
const data = makeLines(1_000_000, 100, join(out, 'r100.txt'));

const kts = await startKts({ bin }, { dataDir: join(out, 'kts-data') });
const kafka = await startKafka(join(out, 'kafka'));
if (!kafka) throw new Error('Apache Kafka 4.4 is not cached (node scripts/fetch-kafka.mjs)');
const servers = [kts, kafka];
try {
  for (const s of servers) {
    execFileSync(process.execPath, [bin, 'topics', '--bootstrap-server', s.bootstrap, '--create', '--topic', 't', '--partitions', '1'], { stdio: 'pipe' });
    const p = await run('kcat', ['-P', '-b', s.bootstrap, '-t', 't', '-X', 'acks=1', '-l', data], { timeoutMs: 180_000 });
    if (p.code !== 0) throw new Error(`produce to ${s.kind}: ${p.stderr.slice(0, 300)}`);
  }
  console.log(`logs in ${out}`);
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 ? [...servers].reverse() : servers) {
      const name = s.kind === 'kts' ? 'kts' : 'kafka';
      const c = await run('kcat', ['-C', '-b', s.bootstrap, '-t', 't', '-o', 'beginning', '-e', '-q', '-d', 'fetch,protocol'], { timeoutMs: 180_000, stderrLimit: Infinity });
      if (c.lines !== 1_000_000) throw new Error(`${name} round ${r + 1}: ${c.lines} records`);
      writeFileSync(join(out, `${name}-${r + 1}.log`), c.stderr);
      console.log(`round ${r + 1} ${name.padEnd(5)} load ${load()} ${summarize(c.stderr, c.wallMs)}`);
    }
  }
} finally {
  for (const s of servers) await s.stop();
}

/** One line about a consume from kcat's `-d fetch,protocol` log. */
function summarize(log, wallMs) {
  const t = (line) => Number(/^%\d\|(\d+\.\d+)\|/.exec(line)?.[1] ?? NaN);
  const answers = []; // { at, bytes, rtt } of each FetchResponse
  const enqueued = []; // { at, records, qlen } of each answer's records put on kcat's queue
  const pauses = []; // [start, end] of each queue pause
  let pauseStart = null;
  let first = NaN;
  for (const l of log.split('\n')) {
    let m;
    if (Number.isNaN(first) && /Fetch topic t \[0\] at offset/.test(l)) first = t(l);
    if ((m = /Received FetchResponse \(v\d+, (\d+) bytes, CorrId \d+, rtt ([\d.]+)ms\)/.exec(l))) answers.push({ at: t(l), bytes: Number(m[1]), rtt: Number(m[2]) });
    else if ((m = /Enqueue (\d+) message\(s\) .* fetch queue \(qlen (\d+), v\d+, last_offset (\d+)/.exec(l))) enqueued.push({ at: t(l), records: Number(m[1]), qlen: Number(m[2]), last: Number(m[3]) });
    else if (/is not fetchable: queued\.min\.messages exceeded/.test(l)) pauseStart = t(l);
    else if (pauseStart !== null && /\[0\].*is fetchable/.test(l)) {
      pauses.push([pauseStart, t(l)]);
      pauseStart = null;
    }
  }
  const records = enqueued.map((e) => e.records).filter((n) => n > 0);
  const rtts = answers.map((a) => a.rtt);
  const fmt = (x) => x.toFixed(2);
  const empty = answers.length - records.length;
  // Before each enqueue kcat has taken (last offset before it + 1) - qlen records off its queue: the
  // rates at which the broker fills the queue and kcat drains it, up to the first pause.
  const fillEnd = pauses[0]?.[0] ?? enqueued.at(-1)?.at;
  const upTo = enqueued.filter((e) => e.at <= fillEnd);
  const lastUp = upTo.at(-1);
  const fillRate = lastUp ? (lastUp.last + 1) / (lastUp.at - first) / 1e6 : NaN;
  const drained = lastUp ? lastUp.last + 1 - lastUp.records - lastUp.qlen : NaN;
  const drainRate = lastUp ? drained / (lastUp.at - first) / 1e6 : NaN;
  return [
    `wall ${(wallMs / 1000).toFixed(2)} s`,
    `answers ${answers.length} (${empty} without records, ${answers.filter((a) => a.bytes < 1_000_000).length} < 1 MB)`,
    `records/answer med ${median(records)} min ${Math.min(...records)} max ${Math.max(...records)}`,
    `bytes/answer med ${median(answers.map((a) => a.bytes))}`,
    `rtt med ${fmt(median(rtts))} p90 ${fmt(percentile(rtts, 90))} ms`,
    `first answer at ${fmt(answers[0]?.at - first)} s`,
    `pauses ${pauses.length} [${pauses.map(([a, b]) => `at ${fmt(a - first)} for ${fmt(b - a)}`).join(', ')}] s`,
    `fetched ${fmt(fillRate)} M rec/s, kcat drained ${fmt(drainRate)} M rec/s before the first pause`,
  ].join(', ');
}
