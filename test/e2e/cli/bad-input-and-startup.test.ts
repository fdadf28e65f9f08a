// Failure paths of the real binary (one line, Kafka's exit code, never a stack trace) and the lean
// start-up contract (a plain `kts topics --list` loads no terminal libraries and no other command).
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { kts, startKts, STACK_LINE } from './support.js';

const TRACE = resolve(import.meta.dirname, 'fixtures/trace-imports.mjs');
const TRACE_REQUIRES = resolve(import.meta.dirname, 'fixtures/trace-requires.cjs');

describe('bad input', () => {
  it('an unknown option: one line and a hint on stderr, exit 1', async () => {
    const r = await kts(['topics', '--bootstrap-server', 'localhost:1', '--list', '--bogus']);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: "bogus is not a recognized option\nRun 'kts topics --help' for the list of options.\n" });
  });

  it('a missing required option and a missing argument', async () => {
    expect((await kts(['topics', '--create', '--bootstrap-server', 'localhost:1'])).stderr).toMatch(/^Missing required argument "\[topic\]"\n/);
    expect((await kts(['console-producer', '--bootstrap-server', 'localhost:1'])).stderr).toMatch(/^Missing required argument "\[topic\]"\n/);
    const r = await kts(['console-consumer', '--topic']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Option topic requires an argument\n/);
  });

  it('a missing properties file: the daemons say so in one line and exit 1', async () => {
    const missing = join(tempDir('kts-missing-'), 'nope.properties');
    const zk = await kts(['zookeeper-server-start', missing], { timeoutMs: 10_000 });
    expect(zk.code).toBe(1);
    expect(zk.stderr).toBe(`kts: ENOENT: no such file or directory, open '${missing}'\n`);
    const broker = await kts(['server-start', missing], { timeoutMs: 10_000 });
    expect(broker.code).toBe(1);
    expect(broker.stdout + broker.stderr).toContain(`Fatal error during startup: ENOENT: no such file or directory, open '${missing}'`);
    expect(broker.stdout + broker.stderr).not.toMatch(STACK_LINE);
  });

  it('a bad number', async () => {
    const r = await kts(['topics', '--create', '--topic', 'x', '--partitions', 'three']);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr.split('\n')[0]).toBe("Cannot parse argument 'three' of option partitions");
  });

  it('an unreachable broker: one line at once (far inside a 60 s budget), exit 1, for every tool', async () => {
    const port = await freePort();
    // Nothing listens, so each tool must give up at the refusal, not wait out its budget. The budget
    // is large and the bound half of it: a tool that waited would fail, while spawning node on a
    // loaded 2-core machine (seconds at load 30, where a 5 s bound is too tight) stays far below.
    const env = { KTS_CONNECT_TIMEOUT_MS: '60000' };
    const bs = `127.0.0.1:${port}`;
    const cases: [string[], 'stdout' | 'stderr', string][] = [
      [['topics', '--list', '--bootstrap-server', bs], 'stdout', 'Error while executing topic command : Could not connect to any broker at'],
      [['get-offsets', '--bootstrap-server', bs], 'stderr', 'Error occurred: Could not connect to any broker at'],
      [['console-consumer', '--bootstrap-server', bs, '--topic', 't'], 'stderr', 'Could not connect to any broker at'],
      [['console-producer', '--bootstrap-server', bs, '--topic', 't'], 'stderr', 'Could not connect to any broker at'],
      [['configs', '--bootstrap-server', bs, '--describe', '--topic', 't'], 'stderr', 'Could not connect to any broker at'],
    ];
    for (const [args, stream, start] of cases) {
      const began = Date.now();
      const r = await kts(args, { env, timeoutMs: 60_000, input: 'x\n' });
      expect(Date.now() - began, args.join(' ')).toBeLessThan(30_000);
      expect(r.code, args.join(' ')).toBe(1);
      const text = r[stream];
      expect(text.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(text.startsWith(start), text).toBe(true);
      expect(text).toContain(bs);
      expect(r.stdout + r.stderr).not.toMatch(STACK_LINE);
    }
  }, 180_000);

  it('an invalid bootstrap list and an unknown command', async () => {
    const r = await kts(['console-producer', '--bootstrap-server', 'nohostport', '--topic', 't']);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('Please provide valid host:port like host1:9091,host2:9092');
    const u = await kts(['frobnicate']);
    expect(u.code).toBe(1);
    expect(u.stderr).toMatch(/^kts: 'frobnicate' is not a kts command/);
  });

  it('--help goes to stderr with exit 1; kts --help lists commands; --version', async () => {
    const h = await kts(['console-consumer', '--help']);
    expect(h.code).toBe(1);
    expect(h.stdout).toBe('');
    expect(h.stderr).toMatch(/^Reads data from Kafka topics and writes it to standard output\.\nOption {35}Description\n/);
    const k = await kts(['--help']);
    expect(k.code).toBe(0);
    for (const c of ['topics', 'console-producer', 'console-consumer', 'get-offsets', 'configs', 'delete-records', 'reassign-partitions', 'consumer-groups', 'server-start', 'zookeeper-server-start']) {
      expect(k.stdout).toContain(`  ${c} `);
    }
    expect((await kts(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(await kts(['topics', '--version'])).toMatchObject({ code: 0, stdout: '3.9.0\n' });
  });
});

describe('the bundled tools', () => {
  it('every tool that talks to a cluster has its own file, which starts', async () => {
    const files = readdirSync(resolve(import.meta.dirname, '../../../dist/cli')).filter((f) => f.endsWith('.cjs') && f !== 'launch.cjs').map((f) => f.slice(0, -4));
    // The broker has one too (a daemon: its --version is kts's own, through yargs)
    expect(files).toContain('server-start');
    expect(await kts(['server-start', '--version'])).toMatchObject({ code: 0, stdout: `${JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../package.json'), 'utf8')).version}\n` });
    const tools = files.filter((f) => f !== 'server-start');
    expect(tools).toEqual(expect.arrayContaining(['topics', 'console-producer', 'console-consumer', 'consumer-groups', 'configs', 'get-offsets', 'migrate', 'profile', 'cluster']));
    for (const tool of tools) expect(await kts([tool, '--version']), tool).toMatchObject({ code: 0, stdout: '3.9.0\n' });
  });
});

describe('lean daemon start-up', () => {
  it('server-start and zookeeper-server-start come up without loading yargs or any other package', async () => {
    const zkDir = tempDir('kts-lean-zk-');
    writeFileSync(join(zkDir, 'zk.properties'), `dataDir=${zkDir}\nclientPort=${await freePort()}\n`);
    // The broker runs from its one CommonJS file (issue 13: ~135 ES modules cost its idle RSS ~2 MB),
    // with no ES module of kts; the coordinator from the ES module build's chunks.
    const cases: Array<[string[], RegExp, (loaded: string[]) => void]> = [
      [
        ['server-start', '--override', `log.dirs=${tempDir('kts-lean-')}`, '--override', 'listeners=PLAINTEXT://127.0.0.1:0'],
        / ready: /,
        (loaded) => {
          expect(loaded.filter((u) => /\/(bin|dist)\//.test(u)).map((u) => u.replace(/^.*\/(bin|dist)\//, '$1/')).sort()).toEqual(['bin/kts.js', 'dist/cli/launch.cjs', 'dist/cli/server-start.cjs']);
        },
      ],
      [['zookeeper-server-start', join(zkDir, 'zk.properties')], /server started on/, (loaded) => expect(loaded.some((u) => u.includes('/chunks/'))).toBe(true)],
    ];
    for (const [args, ready, check] of cases) {
      const file = join(tempDir(), 'trace.txt');
      const p = startKts(args, { env: { KTS_TRACE_FILE: file, NODE_OPTIONS: `--require=${TRACE_REQUIRES} --import=${TRACE}` } });
      await p.waitForStdout((s) => ready.test(s));
      await p.stop('SIGTERM');
      const loaded = [...new Set(readFileSync(file, 'utf8').split('\n').filter((u) => u.startsWith('file:') && !u.includes('/fixtures/')))];
      rmSync(file);
      check(loaded);
      expect(loaded.filter((u) => u.includes('/node_modules/')), args[0]).toEqual([]);
    }
  });

  it('the broker starts and answers without optimizing a function: an idle broker holds no optimizing compiler', async () => {
    // Issue 13: one closure called ~25,000 times while the broker's config keys loaded made V8's
    // optimizing compiler run once, and its code pages (~3 MB) then stayed in the idle broker's RSS.
    // Nothing the start-up or a tool's few requests run may be hot enough to be optimized.
    const port = await freePort();
    const child = spawnTracked(process.execPath, ['--trace-opt', KTS_BIN, 'server-start', '--override', `log.dirs=${tempDir('kts-lean-opt-')}`, '--override', `listeners=PLAINTEXT://127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const deadline = Date.now() + 30_000;
    while (!/ ready: /.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(out).toMatch(/ ready: /);
    const bs = `127.0.0.1:${port}`;
    expect((await kts(['topics', '--bootstrap-server', bs, '--create', '--topic', 'idle', '--partitions', '3'])).code).toBe(0);
    expect((await kts(['topics', '--bootstrap-server', bs, '--list'])).stdout).toBe('idle\n');
    await stopProcess(child, 'SIGTERM');
    // The broker ran to its last line with the trace on: no line of it means nothing was optimized.
    expect(out).toContain('[KafkaServer id=0] shut down completed');
    expect(out.split('\n').filter((l) => /^\[(marking|compiling method|completed optimizing)/.test(l))).toEqual([]);
  }, 60_000);
});

describe('with a broker', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    broker = await spawnBroker();
    await kts(['topics', '--bootstrap-server', broker.bootstrap, '--create', '--topic', 'lean']);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('topics --list off a terminal loads its one bundled file and the two schemas it sends: no ES module, no package', async () => {
    const file = join(tempDir(), 'trace.txt');
    const r = await kts(['topics', '--list', '--bootstrap-server', broker.bootstrap], {
      env: { KTS_TRACE_FILE: file, NODE_OPTIONS: `--require=${TRACE_REQUIRES} --import=${TRACE}` },
    });
    expect(r.code, r.stderr).toBe(0);
    const loaded = [...new Set(readFileSync(file, 'utf8').split('\n').filter((u) => u.startsWith('file:') && !u.includes('/fixtures/')))];
    rmSync(file);
    // Cold start (issue 17): bin/kts.js requires dist/cli/launch.cjs, which requires the command's
    // CommonJS file; Node's ES module loader never loads a file of kts (no dist/main.js, no chunk),
    // and the client requires the schemas of the two APIs it sends, not all of Kafka's.
    expect(loaded.filter((u) => u.includes('/node_modules/'))).toEqual([]);
    expect(loaded.map((u) => u.replace(/^.*\/(bin|dist)\//, '$1/')).sort()).toEqual([
      'bin/kts.js',
      'dist/cli/launch.cjs',
      'dist/cli/schemas/03-metadata.cjs',
      'dist/cli/schemas/18-api-versions.cjs',
      'dist/cli/topics.cjs',
    ]);
    const bytes = loaded.reduce((sum, u) => sum + statSync(new URL(u)).size, 0);
    // 250 KiB: the tool's file is ~240 KB (its client, protocol and record code, without the schemas);
    // the schemas bundled in, any package or the ES module build would be far above it.
    expect(bytes).toBeLessThan(250 * 1024);
  });

  it('a consumer whose stdout closes says so and exits 0', async () => {
    await kts(['console-producer', '--bootstrap-server', broker.bootstrap, '--topic', 'lean'], { input: `${Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join('\n')}\n`, timeoutMs: 60_000 });
    const c = startKts(['console-consumer', '--bootstrap-server', broker.bootstrap, '--topic', 'lean', '--from-beginning']);
    await c.waitForStdout((s) => s.length > 0);
    c.child.stdout!.destroy();
    // Like Kafka's, the consumer learns of the closed pipe on its next write (it may have written
    // everything already): more records make sure there is one.
    await kts(['console-producer', '--bootstrap-server', broker.bootstrap, '--topic', 'lean'], { input: 'one more\n', timeoutMs: 30_000 });
    const done = await c.exited;
    expect(done.code).toBe(0);
    expect(done.stderr).toMatch(/^Unable to write to standard out, closing consumer\.\nProcessed a total of \d+ messages\n$/);
  });

  it('SIGTERM ends a consumer with 143 and the count line', async () => {
    const c = startKts(['console-consumer', '--bootstrap-server', broker.bootstrap, '--topic', 'lean']);
    // A SIGTERM before the consumer is up would meet node's default handler, not the tool's: wait
    // until it consumes. It starts at the end of the topic, so records are added until one arrives.
    let consuming = false;
    const feeding = (async () => {
      for (let i = 0; !consuming; i++) {
        await kts(['console-producer', '--bootstrap-server', broker.bootstrap, '--topic', 'lean'], { input: `marker ${i}\n` });
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      await c.waitForStdout((s) => s.includes('\n'), 30_000);
    } finally {
      consuming = true;
      await feeding;
    }
    const done = await c.stop('SIGTERM');
    expect(done.code).toBe(143);
    const lines = done.stdout.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^marker \d+$/);
    expect(done.stderr).toBe(`Processed a total of ${lines.length} messages\n`);
  });
});
