// Kafka-style option parsing (what jopt-simple does for Kafka's tools), hand-rolled because loading
// yargs costs more than Node's own start-up (bench/cli-startup.mjs) and because the tools' error
// texts and token rules are jopt's, not yargs':
// * long options only, `--name value` or `--name=value`, no abbreviations; a single-dash word is
//   accepted when the whole word is a known option (`-topic x`);
// * an option with a required argument takes the next token even if it starts with `-`
//   (`--shift-by -5`); an optional argument is taken only when the next token does not look like
//   an option;
// * repeatable options keep every value; a non-repeatable one given twice is an error when read;
// * typed arguments are checked up front with jopt's wording.
import { UsageError } from './errors.js';
import { didYouMean } from './suggest.js';

export type ArgType = 'string' | 'int' | 'long' | 'double';

export interface OptionSpec {
  /** Without the dashes: `bootstrap-server`. */
  name: string;
  describe: string;
  /** Absent: a flag. */
  arg?: 'required' | 'optional';
  type?: ArgType;
  /** Shown in help as `<String: argName>`. */
  argName?: string;
  repeatable?: boolean;
  /** Shown in help as `(default: x)` and returned by `str()` when the option is absent. */
  defaultValue?: string;
  /** Accepted but not listed in help. */
  hidden?: boolean;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

export class ParsedArgs {
  constructor(
    private readonly specs: Map<string, OptionSpec>,
    private readonly values: Map<string, string[]>,
    /** Tokens that are not options (Kafka's tools ignore them). */
    readonly positional: string[],
    /** The tokens as given (for messages that echo the command line). */
    readonly tokens: readonly string[],
  ) {}

  /** How many tokens were given at all (Kafka prints usage when there are none). */
  get tokenCount(): number {
    return this.tokens.length;
  }

  has(name: string): boolean {
    this.spec(name);
    return this.values.has(name);
  }

  /** The single value, or the default, or undefined. Throws jopt's error for a repeated option. */
  str(name: string): string | undefined {
    const spec = this.spec(name);
    const values = this.values.get(name);
    if (!values || values.length === 0) return spec.defaultValue;
    if (values.length > 1 && !spec.repeatable) {
      throw new UsageError(`Found multiple arguments for option ${name}, but you asked for only one`);
    }
    return values[values.length - 1];
  }

  /** Every value given, in order. */
  all(name: string): string[] {
    this.spec(name);
    return [...(this.values.get(name) ?? [])];
  }

  int(name: string): number | undefined {
    const v = this.str(name);
    return v === undefined ? undefined : convert(this.spec(name), v);
  }

  /** Names of the options present, in the order of their specs. */
  present(): string[] {
    return [...this.specs.keys()].filter((n) => this.values.has(n));
  }

  private spec(name: string): OptionSpec {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`internal: option --${name} is not declared`);
    return spec;
  }
}

export function parseArgs(argv: readonly string[], options: readonly OptionSpec[]): ParsedArgs {
  const specs = new Map(options.map((o) => [o.name, o]));
  const values = new Map<string, string[]>();
  const positional: string[] = [];
  const add = (spec: OptionSpec, value: string | undefined): void => {
    if (value !== undefined && spec.type && spec.type !== 'string') convert(spec, value);
    const list = values.get(spec.name) ?? [];
    if (value !== undefined) list.push(value);
    values.set(spec.name, list);
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      positional.push(token);
      continue;
    }
    const body = token.startsWith('--') ? token.slice(2) : token.slice(1);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    const spec = specs.get(name);
    if (!spec) {
      const known = options.filter((o) => !o.hidden).map((o) => o.name);
      throw new UsageError(`${name} is not a recognized option`, didYouMean(name, known, (c) => `--${c}`));
    }

    if (!spec.arg) {
      if (inline !== undefined) throw new UsageError(`Option ${name} does not take an argument`);
      add(spec, undefined);
    } else if (inline !== undefined) {
      add(spec, inline);
    } else if (spec.arg === 'required') {
      if (i + 1 >= argv.length) throw new UsageError(`Option ${name} requires an argument`);
      add(spec, argv[++i]);
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !looksLikeOption(next)) {
        add(spec, next);
        i++;
      } else {
        add(spec, undefined);
      }
    }
  }
  return new ParsedArgs(specs, values, positional, [...argv]);
}

function looksLikeOption(token: string): boolean {
  return token.length > 1 && token.startsWith('-') && !/^-\d/.test(token);
}

function convert(spec: OptionSpec, value: string): number {
  const fail = (): never => {
    throw new UsageError(`Cannot parse argument '${value}' of option ${spec.name}`);
  };
  switch (spec.type) {
    case 'int': {
      if (!/^[+-]?\d+$/.test(value)) fail();
      const n = Number(value);
      if (n < INT_MIN || n > INT_MAX) fail();
      return n;
    }
    case 'long': {
      if (!/^[+-]?\d+$/.test(value)) fail();
      const n = BigInt(value);
      if (n < -(2n ** 63n) || n >= 2n ** 63n) fail();
      return Number(n);
    }
    case 'double': {
      const n = Number(value);
      if (value.trim() === '' || Number.isNaN(n)) fail();
      return n;
    }
    default:
      return fail();
  }
}

/** `key=value` as Kafka splits command-line pairs: on the first `=`; no `=` means an empty value. */
export function splitAssignment(pair: string): [string, string] {
  const eq = pair.indexOf('=');
  return eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
}

/** Kafka's `CommandLineUtils.checkRequiredArgs` wording. */
export function requireOptions(args: ParsedArgs, ...names: string[]): void {
  for (const name of names) {
    if (!args.has(name)) throw new UsageError(`Missing required argument "[${name}]"`);
  }
}

/** Kafka's `CommandLineUtils.checkInvalidArgs` wording: `used` may not appear with any of `invalid`. */
export function rejectCombination(args: ParsedArgs, used: string, invalid: readonly string[]): void {
  if (!args.has(used)) return;
  for (const other of invalid) {
    if (args.has(other)) throw new UsageError(`Option "[${used}]" can't be used with option "[${other}]"`);
  }
}
