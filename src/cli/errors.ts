// How the tools fail: one human line (never a stack trace unless KTS_DEBUG is set) and Kafka's exit
// code. Usage problems are UsageError (exit 1, stderr, with a pointer to --help); everything that
// happens at run time is a CliError, printed the way the tool's Kafka original prints it (see
// ToolSpec.runtimeError in tool.ts).

export class UsageError extends Error {
  readonly exitCode = 1;
  /** A line printed after the message (`Did you mean --list?`); Kafka's message stays the first line. */
  readonly suggestion?: string;
  constructor(message: string, suggestion?: string) {
    super(message);
    this.name = 'UsageError';
    this.suggestion = suggestion;
  }
}

export interface CliErrorOptions {
  exitCode?: number;
  /** Shown on a terminal only, after the message. */
  hint?: string;
  /** Print the message as-is, without the tool's runtime-error prefix. */
  bare?: boolean;
}

export class CliError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  readonly bare: boolean;
  constructor(message: string, opts: CliErrorOptions = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = opts.exitCode ?? 1;
    this.hint = opts.hint;
    this.bare = opts.bare ?? false;
  }
}

/** The message of anything thrown, on one line. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Hints for failures a user can fix; attached by the client's error types via `hint`. */
export function hintFor(err: unknown): string | undefined {
  if (err instanceof CliError) return err.hint;
  const hint = (err as { hint?: unknown } | null)?.hint;
  return typeof hint === 'string' ? hint : undefined;
}

/** Last resort: anything that escapes a tool becomes one line on stderr and exit 1. */
export function installLastResortHandlers(): void {
  const die = (err: unknown): void => {
    if (process.env.KTS_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write(`kts: ${oneLine(err)}\n`);
    process.exit(typeof (err as CliError)?.exitCode === 'number' ? (err as CliError).exitCode : 1);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
}
