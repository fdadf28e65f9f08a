// What kcat (librdkafka 2.0.2) sees of each broker's answers over whole consumes, from its own debug
// log: `node bench/consume-trace.mjs [rounds] [outDir]` starts kts (dist/) and Apache Kafka 4.4,
// produces the same 1M x 100 B into one partition of each, then runs `kcat -C -o beginning -e -d
// fetch,protocol` `rounds` times per broker (9 by default), alternating, and prints per round: wall
// time, answers (without records, under 1 MB), records and bytes per answer, the fetch round trip
// (median, p90), the queue pauses (when each began and how long it lasted), and the rates at which
// answers filled kcat's queue and kcat drained it (lib/kcat-trace.mjs). The raw logs stay in outDir
// (a temp dir by default) for a closer look.
// With `proxy` as a third argument kts gets a second listener advertised behind a plain TCP relay
// in this process, and each round also consumes kts's same topic through it: the same broker and
// the same batches, only answers that arrive later (the relay's copy), to see what a slower round
// trip alone does to kcat's pauses.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './lib/proc.mjs';
import { TRACE_FLAGS, formatKcatTrace, parseKcatTrace } from './lib/kcat-trace.mjs';
import { freePort, startKts } from './lib/servers.mjs';
import { startKafka } from './peers.mjs';
import { makeLines } from './lib/data.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(process.argv[2] ?? 9);
const out = process.argv[3] ?? mkdtempSync(join(tmpdir(), 'kts-consume-trace-'));
mkdirSync(out, { recursive: true });
const load = () => loadavg()[0].toFixed(1);
const bin = join(ROOT, 'bin', 'kts.js');
const data = makeLines(1_000_000, 100, join(out, 'r100.txt'));

const viaProxy = process.argv[4] === 'proxy';
const [port, relayedPort, relayPort] = [await freePort(), await freePort(), await freePort()];
const overrides = viaProxy
  ? {
      listeners: `PLAINTEXT://127.0.0.1:${port},RELAYED://127.0.0.1:${relayedPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},RELAYED://127.0.0.1:${relayPort}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,RELAYED:PLAINTEXT',
      'inter.broker.listener.name': 'PLAINTEXT',
    }
  : {};
const kts = await startKts({ bin }, { dataDir: join(out, 'kts-data'), port, overrides });
const kafka = await startKafka(join(out, 'kafka'));
if (!kafka) throw new Error('Apache Kafka 4.4 is not cached (node scripts/fetch-kafka.mjs)');
const relay = createServer((client) => {
  const broker = connect({ port: relayedPort, host: '127.0.0.1' });
  client.pipe(broker).on('error', () => client.destroy());
  broker.pipe(client).on('error', () => broker.destroy());
  client.on('error', () => broker.destroy());
  broker.on('error', () => client.destroy());
});
if (viaProxy) await new Promise((resolve) => relay.listen(relayPort, '127.0.0.1', resolve));
const relayed = { kind: 'kts-relayed', bootstrap: `127.0.0.1:${relayPort}` };
const servers = viaProxy ? [kts, relayed, kafka] : [kts, kafka];
try {
  for (const s of [kts, kafka]) {
    execFileSync(process.execPath, [bin, 'topics', '--bootstrap-server', s.bootstrap, '--create', '--topic', 't', '--partitions', '1'], { stdio: 'pipe' });
    const p = await run('kcat', ['-P', '-b', s.bootstrap, '-t', 't', '-X', 'acks=1', '-l', data], { timeoutMs: 180_000 });
    if (p.code !== 0) throw new Error(`produce to ${s.kind}: ${p.stderr.slice(0, 300)}`);
  }
  console.log(`logs in ${out}`);
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 ? [...servers].reverse() : servers) {
      const name = s.kind.startsWith('kts') ? s.kind : 'kafka';
      const c = await run('kcat', ['-C', '-b', s.bootstrap, '-t', 't', '-o', 'beginning', '-e', '-q', ...TRACE_FLAGS], { timeoutMs: 180_000, stderrLimit: Infinity });
      if (c.lines !== 1_000_000) throw new Error(`${name} round ${r + 1}: ${c.lines} records`);
      writeFileSync(join(out, `${name}-${r + 1}.log`), c.stderr);
      console.log(`round ${r + 1} ${name.padEnd(11)} load ${load()} wall ${(c.wallMs / 1000).toFixed(2)} s, ${formatKcatTrace(parseKcatTrace(c.stderr))}`);
    }
  }
} finally {
  relay.close();
  for (const s of [kts, kafka]) await s.stop();
}
