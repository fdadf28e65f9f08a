// What every kafka-* tool shares: a ToolSpec (options, help text, how run-time errors print) that a
// command module wraps as a yargs CommandModule, and runTool(), which does the Kafka-style parse,
// --help/--version, output selection, then loads the tool's work lazily and maps failures to one
// line and Kafka's exit code.
import type { Argv, CommandModule } from 'yargs';
import { CliError, UsageError, hintFor, oneLine } from './errors.js';
import { renderHelp } from './help.js';
import { parseArgs, type OptionSpec, type ParsedArgs } from './options.js';
import { OUTPUT_MODES, Output, type OutputMode } from './output.js';

/** The Kafka release whose tools kts reproduces; printed by each tool's --version. */
export const KAFKA_VERSION = '3.9.0';

export interface ToolContext {
  readonly tool: ToolSpec;
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** The name the user typed (`kafka-topics.sh`, `kts topics`), for messages. */
  readonly invokedAs: string;
}

export interface ToolImplementation {
  run(args: ParsedArgs, ctx: ToolContext): Promise<number | void>;
}

export interface ToolSpec {
  /** The kts subcommand: `topics`. */
  name: string;
  /** Kafka's script: `kafka-topics.sh`. */
  kafkaName: string;
  /** One line for `kts --help` and yargs. */
  describe: string;
  /** The first line of Kafka's --help. */
  summary: string;
  options: OptionSpec[];
  /** Output faces the tool supports (default plain, table, json). */
  outputs?: readonly OutputMode[];
  /** How a run-time failure prints: Kafka's prefix and stream for this tool. */
  runtimeError: { prefix: string; stream: 'stdout' | 'stderr' };
  /** Extra help text (kts extensions, JSON shapes). */
  epilogue?: string;
  /** Command lines shown at the end of --help, each with what it does: [command, comment]. */
  examples?: readonly (readonly [string, string])[];
  load(): Promise<ToolImplementation>;
}

/** Options every tool has besides its own. */
function commonOptions(spec: ToolSpec): OptionSpec[] {
  const outputs = spec.outputs ?? ['plain', 'table', 'json'];
  return [
    { name: 'help', describe: 'Print usage information.' },
    { name: 'version', describe: 'Display Kafka version.' },
    {
      name: 'output',
      arg: 'required',
      argName: outputs.join('|'),
      describe:
        'kts: output format. Default: plain (Kafka\'s exact text) when stdout is not a terminal, table on a terminal.',
    },
  ];
}

export function allOptions(spec: ToolSpec): OptionSpec[] {
  const own = new Set(spec.options.map((o) => o.name));
  return [...spec.options, ...commonOptions(spec).filter((o) => !own.has(o.name))];
}

export function helpText(spec: ToolSpec): string {
  const examples = spec.examples?.length
    ? `Examples:\n${spec.examples.map(([line, what]) => `  # ${what}\n  kts ${spec.name}${line ? ` ${line}` : ''}`).join('\n')}`
    : undefined;
  return renderHelp(spec.summary, allOptions(spec), [spec.epilogue, examples].filter(Boolean).join('\n\n') || undefined);
}

export interface RunOptions {
  invokedAs?: string;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  packageVersion?: string;
}

/** Parses `argv` (the tool's own arguments), runs the tool, returns the exit code. Never throws. */
export async function runTool(spec: ToolSpec, argv: readonly string[], opts: RunOptions = {}): Promise<number> {
  const stdout = (opts.stdout ?? process.stdout) as NodeJS.WritableStream & { isTTY?: boolean };
  const stderr = (opts.stderr ?? process.stderr) as NodeJS.WritableStream & { isTTY?: boolean };
  const invokedAs = opts.invokedAs ?? `kts ${spec.name}`;
  const usageHint = `Run '${invokedAs} --help' for the list of options.`;

  let args: ParsedArgs;
  try {
    args = parseArgs(argv, allOptions(spec));
    if (args.tokenCount === 0 || args.has('help')) {
      stderr.write(helpText(spec));
      return 1;
    }
    if (args.has('version')) {
      stdout.write(stdout.isTTY && opts.packageVersion ? `${KAFKA_VERSION} (kts ${opts.packageVersion})\n` : `${KAFKA_VERSION}\n`);
      return 0;
    }
  } catch (err) {
    const suggestion = err instanceof UsageError && err.suggestion ? `${err.suggestion}\n` : '';
    stderr.write(`${oneLine(err)}\n${suggestion}${usageHint}\n`);
    return 1;
  }

  let out: Output | undefined;
  try {
    out = await Output.create({
      requested: args.str('output'),
      allowed: spec.outputs ?? ['plain', 'table', 'json'],
      stdout: stdout as never,
      stderr: stderr as never,
    });
    const impl = await spec.load();
    const ctx: ToolContext = {
      tool: spec,
      out,
      env: opts.env ?? process.env,
      stdin: opts.stdin ?? process.stdin,
      invokedAs,
    };
    const code = await impl.run(args, ctx);
    return code ?? 0;
  } catch (err) {
    if (err instanceof UsageError) {
      stderr.write(`${err.message}\n${err.suggestion ? `${err.suggestion}\n` : ''}${usageHint}\n`);
      return 1;
    }
    if (process.env.KTS_DEBUG && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
    const message = oneLine(err);
    const exitCode = err instanceof CliError ? err.exitCode : 1;
    const bare = err instanceof CliError && err.bare;
    const line = bare ? message : spec.runtimeError.prefix + message;
    if (out && (out.mode === 'json' || out.mode === 'jsonl')) {
      stdout.write(`${JSON.stringify({ error: { message, exitCode } })}\n`);
      stderr.write(`${line}\n`);
    } else if (out?.interactive) {
      out.error(line, hintFor(err));
    } else if (spec.runtimeError.stream === 'stdout' && !bare) {
      stdout.write(`${line}\n`);
    } else {
      stderr.write(`${line}\n`);
    }
    return exitCode;
  }
}

/** Options as yargs sees them, for mounting a tool in a yargs program (help, completion, tests). */
export function defineTool(spec: ToolSpec): CommandModule & { tool: ToolSpec } {
  return {
    command: spec.name,
    describe: spec.describe,
    tool: spec,
    builder: (y: Argv) => {
      for (const o of allOptions(spec)) {
        y.option(o.name, {
          describe: o.describe,
          type: o.arg ? 'string' : 'boolean',
          array: Boolean(o.repeatable),
          hidden: o.hidden,
        });
      }
      return y.help(false).version(false);
    },
    handler: async (argv) => {
      process.exitCode = await runTool(spec, tokensFromYargs(spec, argv as Record<string, unknown>));
    },
  };
}

function tokensFromYargs(spec: ToolSpec, argv: Record<string, unknown>): string[] {
  const tokens: string[] = [];
  for (const o of allOptions(spec)) {
    const v = argv[o.name];
    if (v === undefined || v === false) continue;
    if (!o.arg) tokens.push(`--${o.name}`);
    else for (const item of Array.isArray(v) ? v : [v]) tokens.push(`--${o.name}=${String(item)}`);
  }
  return tokens;
}

export { OUTPUT_MODES };
