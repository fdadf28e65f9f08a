#!/usr/bin/env node
// The request-path fuzz suite (test/fuzz/) with bigger numbers than CI runs:
//   node scripts/fuzz.mjs --cases 20000000 [--seed 7] [--handler-cases N] [--tcp-cases N]
// --cases sets the in-process decoder cases; handler and TCP cases default to cases/20 and cases/60.
// Needs `npm run build` first (the TCP part spawns bin/kts.js). Prints the fuzz[...] figures.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = Number(args[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0) {
    console.error(`--${name} needs a non-negative integer`);
    process.exit(2);
  }
  return v;
};
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: node scripts/fuzz.mjs --cases N [--seed S] [--handler-cases N] [--tcp-cases N]');
  process.exit(0);
}
const cases = opt('cases') ?? 1_200_000;
const env = {
  ...process.env,
  KTS_FUZZ_CASES: String(cases),
  KTS_FUZZ_HANDLER_CASES: String(opt('handler-cases') ?? Math.max(1, Math.round(cases / 20))),
  KTS_FUZZ_TCP_CASES: String(opt('tcp-cases') ?? Math.max(1, Math.round(cases / 60))),
  KTS_FUZZ_SEED: String(opt('seed') ?? 20261124),
};
console.log(`fuzz: decoder ${env.KTS_FUZZ_CASES}, handler ${env.KTS_FUZZ_HANDLER_CASES}, tcp ${env.KTS_FUZZ_TCP_CASES} cases, seed ${env.KTS_FUZZ_SEED}`);
const r = spawnSync(process.execPath, [resolve(root, 'node_modules/vitest/vitest.mjs'), 'run', 'test/fuzz'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
