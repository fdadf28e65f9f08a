#!/usr/bin/env node
// Assembles Apache Kafka's broker and tools (as jars, from Maven Central) for the interop tests:
// one directory per version under ~/.cache/kts-interop (or $KTS_INTEROP_CACHE), filled by
// `mvn dependency:copy-dependencies` from test/interop/maven/kafka-<version>/pom.xml. A version whose
// directory was filled from the same pom is left alone, so a warm run costs no Maven start.
//
// Usage: node scripts/fetch-kafka.mjs [version ...]   (default: every pom under test/interop/maven)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const POMS = join(ROOT, 'test/interop/maven');
// test/helpers/real-kafka.ts reads the same place.
const CACHE = process.env.KTS_INTEROP_CACHE || join(homedir(), '.cache/kts-interop');

const versions = process.argv.length > 2
  ? process.argv.slice(2)
  : readdirSync(POMS).filter((d) => d.startsWith('kafka-')).map((d) => d.slice('kafka-'.length)).sort();

let failed = false;
for (const version of versions) {
  const pom = join(POMS, `kafka-${version}`, 'pom.xml');
  if (!existsSync(pom)) {
    console.error(`fetch-kafka: no pom for Kafka ${version} (${pom})`);
    failed = true;
    continue;
  }
  const dir = join(CACHE, `kafka-${version}`);
  const stamp = join(dir, 'pom.sha256');
  const pomHash = createHash('sha256').update(readFileSync(pom)).digest('hex');
  if (existsSync(join(dir, 'lib')) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === pomHash) {
    console.log(`fetch-kafka: Kafka ${version} cached in ${dir}`);
    continue;
  }
  const started = Date.now();
  // Fill a fresh directory and rename it into place, so an interrupted run never leaves a half cache.
  rmSync(dir, { recursive: true, force: true });
  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const mvn = spawnSync(
    'mvn',
    ['-B', '-q', '-Dstyle.color=never', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${join(staging, 'lib')}`, '-DincludeScope=runtime'],
    { stdio: 'inherit' },
  );
  if (mvn.error || mvn.status !== 0) {
    console.error(`fetch-kafka: mvn failed for Kafka ${version} (${mvn.error?.message ?? `exit ${mvn.status}`})`);
    rmSync(staging, { recursive: true, force: true });
    failed = true;
    continue;
  }
  writeFileSync(join(staging, 'pom.sha256'), pomHash + '\n');
  renameSync(staging, dir);
  console.log(`fetch-kafka: Kafka ${version} assembled in ${dir} (${readdirSync(join(dir, 'lib')).length} jars, ${Date.now() - started} ms)`);
}
process.exit(failed ? 1 : 0);
