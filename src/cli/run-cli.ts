// What every kts run does, whichever build it runs from: the command comes from the name kts was
// invoked by (a symlink named kafka-topics.sh, kafka-console-consumer, ... keeps its own name in
// argv[1]) or else from the first argument. Only that command's module is imported, through the
// loader the entry gives (src/cli/main.ts: any command, from the ES module build; src/cli/tool-entry.ts:
// the one command a pre-bundled tool file holds). Tools built with defineTool run through the
// Kafka-style parser in src/cli/options.ts; any other yargs command module runs through yargs,
// which is then imported for that run only.
import { basename } from 'node:path';
import type { CommandModule } from 'yargs';
import pkg from '../../package.json' with { type: 'json' };
import { COMMANDS, commandFor, renderCommandList, type CommandEntry } from './command-index.js';
import { installLastResortHandlers, oneLine } from './errors.js';
import type { ToolSpec } from './tool.js';

/**
 * `direct`: the arguments of a plain invocation parsed without yargs (loading yargs costs about half
 * of Node's own start-up, which a daemon's start-to-first-answer pays), or undefined to let yargs
 * parse (help, version, anything unusual).
 */
type DirectCommand = CommandModule & { tool?: ToolSpec; direct?: (args: string[]) => Record<string, unknown> | undefined };
type LoadedModule = { default?: DirectCommand };

/** Resolves to an exit code, or undefined when the command keeps running on its own (a daemon). */
async function main(argv: string[]): Promise<number | undefined> {
  const invokedAs = basename(argv[1] ?? 'kts');
  let args = argv.slice(2);
  // The shells' completion scripts ask here, under kts's name or a Kafka script's.
  if (args[0] === '__complete') return completeWords(args.slice(1));
  let entry = commandFor(invokedAs);
  let shownName = invokedAs;
  if (!entry) {
    const first = args[0];
    if (first === undefined || first === '--help' || first === '-h' || (first === 'help' && args.length === 1)) {
      process.stdout.write(renderCommandList(pkg.version));
      return first === undefined ? 1 : 0;
    }
    if (first === '--version' || first === '-v') {
      process.stdout.write(`${pkg.version}\n`);
      return 0;
    }
    if (first === 'help') return helpFor(args[1]);
    if (first === 'completion') return printCompletion(args[1]);
    entry = commandFor(first);
    if (!entry) return unknownCommand(first);
    args = args.slice(1);
    shownName = `kts ${entry.name}`;
  }

  const mod = await loadCommand(entry);
  if (!mod) {
    process.stderr.write(`kts: the '${entry.name}' command is not available in this build\n`);
    return 1;
  }
  if (mod.tool) {
    const { runTool } = await import('./tool.js');
    return runTool(mod.tool, args, { invokedAs: shownName, packageVersion: pkg.version });
  }
  const direct = mod.direct?.(args);
  if (direct && mod.handler) {
    await mod.handler({ _: [entry.name], $0: shownName, ...direct });
    return undefined;
  }
  return runWithYargs(entry, mod, args, shownName);
}

/** `kts topic`: one line naming the command meant, if one is close, else the list. */
async function unknownCommand(word: string): Promise<number> {
  const { didYouMean } = await import('./suggest.js');
  const hint = didYouMean(word, [...COMMANDS.map((c) => c.name), 'help', 'completion']);
  process.stderr.write(`kts: '${word}' is not a kts command.${hint ? ` ${hint}` : ''}\n`);
  process.stderr.write(hint ? `Run 'kts --help' for the list of commands.\n` : `Commands: ${COMMANDS.map((c) => c.name).join(', ')}\n`);
  return 1;
}

/** `kts help <command>`: the command's help on stdout, exit 0 (its --help goes to stderr with 1, as Kafka's). */
async function helpFor(word: string): Promise<number> {
  const entry = commandFor(word);
  if (!entry) return unknownCommand(word);
  const mod = await loadCommand(entry);
  if (mod?.tool) {
    const { helpText } = await import('./tool.js');
    process.stdout.write(helpText(mod.tool));
    return 0;
  }
  if (!mod) return 1;
  await runWithYargs(entry, mod, ['--help'], `kts ${entry.name}`);
  return 0;
}

async function printCompletion(shell: string | undefined): Promise<number> {
  const { completionScript, SHELLS } = await import('./completion.js');
  const script = shell === undefined ? undefined : completionScript(shell);
  if (!script) {
    process.stderr.write(`kts: completion takes a shell: ${SHELLS.join(', ')} (e.g. eval "$(kts completion bash)")\n`);
    return 1;
  }
  process.stdout.write(script);
  return 0;
}

/** `kts __complete <program> <words...>`: the candidates for the last word, one per line. */
async function completeWords(words: string[]): Promise<number> {
  const { complete } = await import('./completion.js');
  const candidates = await complete(words[0] ?? 'kts', words.slice(1), async (name) => {
    const entry = commandFor(name);
    const mod = entry ? await loadCommand(entry) : undefined;
    if (!mod?.tool) return undefined;
    const { allOptions } = await import('./tool.js');
    const outputs = mod.tool.outputs ?? ['plain', 'table', 'json'];
    return {
      options: allOptions(mod.tool)
        .filter((o) => !o.hidden)
        .map((o) => ({ name: o.name, arg: Boolean(o.arg), values: o.name === 'output' ? outputs : undefined })),
      words: mod.tool.name === 'transactions' ? ['list', 'describe', 'describe-producers', 'abort'] : mod.tool.name === 'profile' ? ['add', 'list', 'use', 'remove'] : undefined,
    };
  }, async (kind, words) => {
    const { namesFor } = await import('./complete-names.js');
    return namesFor(kind, words, process.env);
  });
  process.stdout.write(candidates.map((c) => `${c}\n`).join(''));
  return 0;
}

/** Imports a command's module (commands/<name>.ts); how depends on the build (run-cli's callers). */
export type CommandLoader = (entry: CommandEntry) => Promise<unknown>;

let importCommand: CommandLoader;

async function loadCommand(entry: CommandEntry): Promise<LoadedModule['default'] | undefined> {
  let loaded: LoadedModule;
  try {
    loaded = (await importCommand(entry)) as LoadedModule;
  } catch (err) {
    if (/not found|Cannot find module|Failed to load|ERR_MODULE_NOT_FOUND/i.test(String((err as Error)?.message ?? err))) {
      return undefined;
    }
    throw err;
  }
  return loaded.default;
}

/**
 * Command modules written directly for yargs (the daemons, consumer-groups). Their handler may leave
 * a server running, so the process is left to end by itself: only process.exitCode is set.
 */
async function runWithYargs(entry: CommandEntry, mod: CommandModule, args: string[], shownName: string): Promise<undefined> {
  const { default: yargs } = await import('yargs');
  let failed = false;
  try {
    await yargs([entry.name, ...args])
      .scriptName(shownName.startsWith('kts ') ? 'kts' : shownName)
      .command(mod)
      .demandCommand(1)
      .version(pkg.version)
      .fail((msg, err) => {
        failed = true;
        process.stderr.write(msg ? `${msg}\n` : `kts: ${oneLine(err)}\n`);
        process.exitCode = 1;
      })
      .parseAsync();
  } catch (err) {
    // yargs rejects after calling fail() for a handler's error: it has been reported once already.
    if (!failed) throw err;
  }
  if (failed) process.exitCode = 1;
  return undefined;
}

/** Exits once stdout has taken everything written to it (pipes may still hold buffered output). */
function exitAfterFlush(code: number | undefined): void {
  if (code === undefined) return;
  process.exitCode = code;
  const done = (): void => process.exit(code);
  if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) {
    done();
    return;
  }
  process.stdout.write('', () => process.stderr.write('', done));
}

/** Runs kts for `argv` (process.argv) and exits when the command is done (a daemon keeps running). */
export function runCli(argv: string[], loader: CommandLoader): void {
  importCommand = loader;
  installLastResortHandlers();
  main(argv).then(exitAfterFlush, (err: unknown) => {
    if (process.env.KTS_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write(`kts: ${oneLine(err)}\n`);
    exitAfterFlush(1);
  });
}
