// Issue 19's benchmark, run by bench/run.mjs as the scenario "streams" (BENCH_ONLY=streams): the
// WordCount demo over 500k words (50k lines of 10 words from a 1000-word vocabulary) on one kts
// broker, the TypeScript app (bench/lib/wordcount-app.mjs, kts-kafka/streams from the bench's
// snapshot) against Kafka Streams 4.4's (test/e2e/streams/fixtures/WordCount.java, compiled against
// the jars scripts/fetch-kafka.mjs caches). Both run as Kafka's demo with the record cache off and a
// 100 ms commit interval, so each writes one count per word. The time is from the app's spawn
// (JVM and Node start included) to the last count in its output topic; records/s = words / time.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { RawClient, createTopics, startKts } from './lib/servers.mjs';
import { median, sleep } from './lib/proc.mjs';

const CACHE = process.env.KTS_INTEROP_CACHE || join(homedir(), '.cache/kts-interop');
const STREAMS_LIB = join(CACHE, 'kafka-streams-4.4.0', 'lib');
const LINES = 50_000;
const WORDS_PER_LINE = 10;
const WORDS = LINES * WORDS_PER_LINE;
const INPUT = 'streams-plaintext-input';

/** The compiled Java WordCount (the test's cache directory, same key), or null without javac or the jars. */
function javaWordCount(root, haveTool) {
  if (!haveTool('javac') || !existsSync(join(STREAMS_LIB, 'kafka-streams-4.4.0.jar'))) return null;
  const source = join(root, 'test', 'e2e', 'streams', 'fixtures', 'WordCount.java');
  const hash = createHash('sha256').update(readFileSync(source)).update(STREAMS_LIB).digest('hex').slice(0, 16);
  const dir = join(CACHE, `java-streams-WordCount-${hash}`);
  if (!existsSync(join(dir, 'WordCount.class'))) {
    const staging = `${dir}.partial-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    execFileSync('javac', ['-nowarn', '-d', staging, '-cp', `${STREAMS_LIB}/*`, source], { stdio: 'pipe', timeout: 300_000 });
    try {
      renameSync(staging, dir);
    } catch {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  return dir;
}

/** 50k lines of 10 words, the same every run (a linear congruential generator over 1000 words). */
function lines() {
  let x = 12345;
  const out = [];
  for (let i = 0; i < LINES; i++) {
    const words = [];
    for (let j = 0; j < WORDS_PER_LINE; j++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      words.push(`w${x % 1000}`);
    }
    out.push(words.join(' '));
  }
  return out.join('\n') + '\n';
}

async function endOffset(port, proto, topic) {
  const c = await RawClient.connect(port, proto);
  try {
    const res = await c.request(2, 1, { replicaId: -1, topics: [{ name: topic, partitions: [{ partitionIndex: 0, timestamp: -1 }] }] });
    const p = res.topics[0].partitions[0];
    return p.errorCode === 0 ? Number(p.offset) : -1;
  } finally {
    c.close();
  }
}

export async function scenarioStreams(ctx) {
  const { snap, proto, ROOT, newDir, track, addRow, log, notes, rounds: roundsAsked, run, haveTool } = ctx;
  const rounds = Math.min(roundsAsked, 3);
  const javaClasses = javaWordCount(ROOT, haveTool);
  if (!javaClasses) notes.push('streams: no javac or no Kafka Streams 4.4 jars in the interop cache (node scripts/fetch-kafka.mjs): no Java figures.');
  const streamsModule = join(dirname(dirname(snap.bin)), 'dist', 'streams.js');
  log(`streams: WordCount over ${WORDS} words (${LINES} lines), TS app${javaClasses ? ' vs Kafka Streams 4.4' : ''}, ${rounds} rounds`);
  const kts = track(await startKts(snap, { dataDir: newDir('streams') }));
  const outputs = Array.from({ length: rounds }, (_, r) => [`wc-ts-${r}`, `wc-java-${r}`]).flat();
  await createTopics(kts.port, proto, Object.fromEntries([[INPUT, 1], ...outputs.map((t) => [t, 1])]));
  const produced = await run(process.execPath, [snap.bin, 'console-producer', '--bootstrap-server', kts.bootstrap, '--topic', INPUT], {
    feed: (stdin) => stdin.end(lines()),
    timeoutMs: 120_000,
  });
  if (produced.code !== 0 || (await endOffset(kts.port, proto, INPUT)) !== LINES) throw new Error(`streams: producing the input failed: ${produced.stderr.slice(0, 500)}`);

  /** Spawns an app and waits for its output topic to hold a count per word; returns the seconds. */
  const once = async (who, output, cmd, args) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out = (out + d).slice(-5000)));
    child.stderr.on('data', (d) => (out = (out + d).slice(-5000)));
    const exited = new Promise((res) => child.once('exit', res));
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`${who} exited (${child.exitCode}) before writing every count:\n${out}`);
        if (performance.now() - t0 > 240_000) throw new Error(`${who}: not done after 240 s:\n${out}`);
        if ((await endOffset(kts.port, proto, output)) >= WORDS) break;
        await sleep(50);
      }
      return (performance.now() - t0) / 1000;
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const times = { ts: [], java: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? ['java', 'ts'] : ['ts', 'java'];
    for (const who of order) {
      if (who === 'ts') {
        const s = await once('TS app', `wc-ts-${r}`, process.execPath, [join(ROOT, 'bench', 'lib', 'wordcount-app.mjs'), streamsModule, kts.bootstrap, `wc-ts-${r}`, `wc-ts-${r}`, newDir(`streams-ts-${r}`)]);
        times.ts.push(s);
        log(`  TS app round ${r + 1}: ${s.toFixed(1)} s, ${(WORDS / s).toFixed(0)} records/s`);
      } else if (javaClasses) {
        const s = await once('Java app', `wc-java-${r}`, 'java', ['-Xmx512m', '-cp', `${javaClasses}:${STREAMS_LIB}/*`, 'WordCount', kts.bootstrap, `wc-java-${r}`, `wc-java-${r}`, newDir(`streams-java-${r}`)]);
        times.java.push(s);
        log(`  Java app round ${r + 1}: ${s.toFixed(1)} s, ${(WORDS / s).toFixed(0)} records/s`);
      }
    }
  }
  const rate = (xs) => (xs.length ? WORDS / median(xs) : undefined);
  addRow({
    id: 'streams-wordcount',
    scenario: `Streams WordCount, ${WORDS / 1000}k words on kts, start to last count (records/s)`,
    kts: rate(times.ts),
    ref: rate(times.java),
    refName: 'Kafka Streams 4.4 WordCount, same broker',
    unit: 'rec/s',
    note: `TS ${times.ts.map((s) => `${s.toFixed(1)} s`).join(', ')}; Java ${times.java.map((s) => `${s.toFixed(1)} s`).join(', ') || 'not run'} (JVM and Node start included)`,
    rounds: times,
  });
}
