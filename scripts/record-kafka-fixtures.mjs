#!/usr/bin/env node
// Records what Apache Kafka 3.9's own tools print, against a real Kafka 3.9 broker, for every
// scenario of the tool oracle (test/e2e/real-kafka/oracle-console.test.ts, oracle-admin.test.ts),
// into test/fixtures/kafka-oracle/<suite>.json. A machine without Java then compares kts with these
// files; a machine with Kafka (CI) compares live and also checks the files are still what Kafka
// prints. Needs the jars of scripts/fetch-kafka.mjs (run it first) and a built kts (npm run build).
//
// Usage: node scripts/record-kafka-fixtures.mjs [test file ...]   (default: both oracle files)
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const files = process.argv.length > 2 ? process.argv.slice(2) : ['test/e2e/real-kafka/oracle-console.test.ts', 'test/e2e/real-kafka/oracle-admin.test.ts', 'test/e2e/real-kafka/oracle-reassign.test.ts', 'test/e2e/real-kafka/oracle-leader-election.test.ts'];
// KTS_REQUIRE_INTEROP: a missing Kafka fails the run instead of "recording" nothing.
const env = { ...process.env, KTS_RECORD_ORACLE: '1', KTS_REQUIRE_INTEROP: '1' };
const run = spawnSync('npx', ['vitest', 'run', ...files], { cwd: ROOT, env, stdio: 'inherit' });
// The suites still compare kts while recording: a failure there is reported, the files are written anyway.
console.log(`record-kafka-fixtures: ${run.status === 0 ? 'recorded; kts matched' : 'recorded; some kts comparisons failed (see above)'} -> test/fixtures/kafka-oracle/`);
process.exit(run.status ?? 1);
