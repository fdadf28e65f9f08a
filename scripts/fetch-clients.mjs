#!/usr/bin/env node
// Prepares the client-matrix drivers that need more than npm (test/e2e/clients): the Python
// clients (pip, pinned in drivers/python/requirements.txt, installed with --target), the Go
// drivers (franz-go, sarama: modules from the Go proxy, pinned by go.sum, built once), the Java
// driver (compiled against Kafka 4.4's kafka-clients, which scripts/fetch-kafka.mjs fetches).
// Each lands in ~/.cache/kts-interop (or $KTS_INTEROP_CACHE) in a directory named by the hash of
// its inputs, filled in a staging directory and renamed into place: a warm run does nothing.
//
// Usage: node scripts/fetch-clients.mjs      (the test calls the same functions itself)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(import.meta.dirname, '..');
const DRIVERS = join(ROOT, 'test/e2e/clients/drivers');
export const CACHE = process.env.KTS_INTEROP_CACHE || join(homedir(), '.cache/kts-interop');

// Paths are hashed relative to the checkout, so every clone (CI's fresh one each run) finds the same cache.
function hashOf(files, extra = '') {
  const h = createHash('sha256').update(extra);
  for (const f of files) h.update(relative(ROOT, f)).update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

/** Fills `dir` once through `fill(staging)`; returns dir. */
function cached(dir, marker, fill) {
  if (existsSync(join(dir, marker))) return dir;
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    fill(staging);
    renameSync(staging, dir);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(dir, marker))) throw e; // another run may have filled it meanwhile
  }
  return dir;
}

function run(command, args, opts = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (r.error || r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${r.error?.message ?? `exit ${r.status}`}\n${r.stdout}\n${r.stderr}`.slice(0, 4000));
  return r.stdout;
}

/** The directory to put on PYTHONPATH: confluent-kafka, kafka-python and its codecs. */
export function preparePython() {
  const req = join(DRIVERS, 'python/requirements.txt');
  const dir = join(CACHE, `python-clients-${hashOf([req])}`);
  return cached(dir, 'confluent_kafka', (staging) =>
    run('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', staging, '-r', req]),
  );
}

/** The franz-go and sarama driver binaries. */
export function prepareGo() {
  const src = join(DRIVERS, 'go');
  const dir = join(CACHE, `go-clients-${hashOf(filesUnder(src))}`);
  cached(dir, 'sarama', (staging) => {
    for (const name of ['franz', 'sarama']) run('go', ['build', '-o', join(staging, name), `./${name}`], { cwd: src, env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' } });
  });
  return { franz: join(dir, 'franz'), sarama: join(dir, 'sarama') };
}

/** The directory holding the class compiled from one Java source against the given kafka-clients lib dir. */
function compileJava(source, className, prefix, lib) {
  const dir = join(CACHE, `${prefix}-${hashOf([source], lib)}`);
  return cached(dir, `${className}.class`, (staging) => run('javac', ['-nowarn', '-d', staging, '-cp', `${lib}/*`, source]));
}

/** The directory holding MatrixDriver.class, compiled against the given kafka-clients lib dir. */
export function prepareJava(lib) {
  return compileJava(join(DRIVERS, 'java/MatrixDriver.java'), 'MatrixDriver', 'java-driver', lib);
}

/** The directory holding JavaRoundtrip.class (test/e2e/security: the Java client over TLS and SASL). */
export function prepareJavaSecurity(lib) {
  return compileJava(join(ROOT, 'test/e2e/security/JavaRoundtrip.java'), 'JavaRoundtrip', 'java-security', lib);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let failed = false;
  const lib = join(CACHE, 'kafka-4.4.0/lib');
  for (const [name, prepare] of [['python', preparePython], ['go', prepareGo], ['java', () => prepareJava(lib)], ['java-security', () => prepareJavaSecurity(lib)]]) {
    const started = Date.now();
    try {
      const where = prepare();
      console.log(`fetch-clients: ${name} ready (${JSON.stringify(where)}, ${Date.now() - started} ms)`);
    } catch (e) {
      console.error(`fetch-clients: ${name}: ${e.message}`);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}
