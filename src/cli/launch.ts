// The first code bin/kts.js runs. The tools that talk to a cluster (topics, console-producer, ...)
// start from one pre-bundled CommonJS file each, dist/cli/<command>.cjs, holding everything the
// command runs eagerly; everything else (the daemons, help, completion, no command) goes to the ES
// module build, dist/main.js.
//
// Why (issue 17, cold start): Node 20 has no compile cache, and its ES module loader costs about
// 0.3 ms of CPU per module (resolve, async read, compile, link). The split ES build loads ~35
// modules for `kts topics --list` (which chunks a command needs follows from which of the many
// entry points share each module); one CommonJS file loads through require, synchronously, with
// no ES module loader at all: 90 -> 75 ms of CPU against 53 ms for `node -e 0` (bench/RESULTS.md).
// Lazy imports inside a tool's file stay lazy (esbuild wraps them; their code is only pre-parsed).
//
// This file mirrors how run-cli.ts picks the command, and must stay small: it is loaded every time.
import { basename, join } from 'node:path';
import { commandFor } from './command-index.js';

/** Set by scripts/build.mjs: the commands that have their own dist/cli/<name>.cjs. */
declare const KTS_TOOL_BUNDLES: readonly string[];

function bundledCommand(argv: readonly string[]): string | undefined {
  const first = argv[2];
  if (first === '__complete') return undefined;
  const entry = commandFor(basename(argv[1] ?? 'kts')) ?? (first === undefined ? undefined : commandFor(first));
  return entry && KTS_TOOL_BUNDLES.includes(entry.name) ? entry.name : undefined;
}

// Paths of the built files (this one is dist/cli/launch.cjs), left to Node to resolve at run time.
const ESM_BUILD = '../main.js';
const command = bundledCommand(process.argv);
if (command) require(join(__dirname, `${command}.cjs`));
else void import(ESM_BUILD);
