// The one output formatter every tool renders through. A tool describes a result once, as a View
// (Kafka's exact text, a JSON document, optionally tables for a terminal), and this module picks
// the face:
//   plain  Kafka 3.9's bytes. The default whenever stdout is not a terminal, so scripts written for
//          Kafka's tools keep working byte for byte.
//   table  the default on a terminal: colour (chalk), tables (cli-table3), a spinner (ora) for waits
//          over 300 ms, errors with a hint. Those libraries are imported only in this mode.
//   json   one JSON document on stdout (shapes per tool are listed in src/cli/README.md).
//   jsonl  one JSON object per line; the console consumer's record stream (replayable by
//          `console-producer --input jsonl`).
import type { Writable } from 'node:stream';
import { UsageError } from './errors.js';

export type OutputMode = 'plain' | 'table' | 'json' | 'jsonl';
export const OUTPUT_MODES: readonly OutputMode[] = ['plain', 'table', 'json', 'jsonl'];

export interface TableView {
  title?: string;
  head: string[];
  rows: (string | number)[][];
}

export interface View {
  /** Exactly what Kafka's tool prints on stdout (newlines included). */
  plain: string;
  /** The document for `--output json` (and jsonl, one line). */
  json: unknown;
  /** The terminal face; without it the terminal gets `plain`. */
  tables?: TableView[];
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const identity = (s: string): string => s;
const NO_STYLE: Style = { bold: identity, dim: identity, red: identity, green: identity, yellow: identity, cyan: identity };

export interface OutputOptions {
  /** The `--output` value, if given. */
  requested?: string;
  allowed?: readonly OutputMode[];
  stdout?: Writable & { isTTY?: boolean };
  stderr?: Writable & { isTTY?: boolean };
}

type TableCtor = new (opts: object) => { push(...rows: unknown[]): void; toString(): string };

export class Output {
  style: Style = NO_STYLE;
  private tableCtor?: TableCtor;

  private constructor(
    readonly mode: OutputMode,
    readonly stdout: Writable & { isTTY?: boolean },
    readonly stderr: Writable & { isTTY?: boolean },
  ) {}

  static async create(opts: OutputOptions = {}): Promise<Output> {
    const stdout = opts.stdout ?? process.stdout;
    const stderr = opts.stderr ?? process.stderr;
    const allowed = opts.allowed ?? ['plain', 'table', 'json'];
    let mode: OutputMode;
    if (opts.requested !== undefined) {
      if (!allowed.includes(opts.requested as OutputMode)) {
        throw new UsageError(`Invalid value '${opts.requested}' for option output: expected one of ${allowed.join(', ')}`);
      }
      mode = opts.requested as OutputMode;
    } else {
      mode = stdout.isTTY && allowed.includes('table') ? 'table' : 'plain';
    }
    const out = new Output(mode, stdout, stderr);
    if (mode === 'table') await out.loadStyle();
    return out;
  }

  /** True when a person is watching stderr (spinners, hints, colour in messages). */
  get interactive(): boolean {
    return this.mode === 'table' && Boolean(this.stderr.isTTY);
  }

  private async loadStyle(): Promise<void> {
    const { default: chalk } = await import('chalk');
    this.style = {
      bold: (s) => chalk.bold(s),
      dim: (s) => chalk.dim(s),
      red: (s) => chalk.red(s),
      green: (s) => chalk.green(s),
      yellow: (s) => chalk.yellow(s),
      cyan: (s) => chalk.cyan(s),
    };
  }

  /** Writes raw text or bytes to stdout; false when the stream wants a drain. */
  write(chunk: string | Uint8Array): boolean {
    return this.stdout.write(chunk);
  }

  /** Renders a finished result in the chosen face. */
  async print(view: View): Promise<void> {
    switch (this.mode) {
      case 'json':
        this.write(`${JSON.stringify(view.json, null, 2)}\n`);
        return;
      case 'jsonl':
        this.write(`${JSON.stringify(view.json)}\n`);
        return;
      case 'table':
        if (view.tables && view.tables.length > 0) {
          this.write(await this.renderTables(view.tables));
          return;
        }
        this.write(view.plain);
        return;
      default:
        this.write(view.plain);
    }
  }

  async renderTables(tables: TableView[]): Promise<string> {
    if (!this.tableCtor) this.tableCtor = (await import('cli-table3')).default as unknown as TableCtor;
    const parts: string[] = [];
    for (const t of tables) {
      const table = new this.tableCtor({ head: t.head.map((h) => this.style.cyan(h)), style: { head: [], border: [] } });
      for (const row of t.rows) table.push(row.map(String));
      parts.push(`${t.title ? `${this.style.bold(t.title)}\n` : ''}${table.toString()}\n`);
    }
    return parts.join('');
  }

  /** One line on stderr. */
  note(line: string): void {
    this.stderr.write(`${line}\n`);
  }

  /** An error line on stderr, plus its hint on a terminal. */
  error(line: string, hint?: string): void {
    if (this.interactive) {
      this.stderr.write(`${this.style.red(line)}\n`);
      if (hint) this.stderr.write(`${this.style.dim(`hint: ${hint}`)}\n`);
    } else {
      this.stderr.write(`${line}\n`);
    }
  }

  /**
   * Waits for `work`; on a terminal, shows a spinner on stderr if it takes longer than 300 ms
   * (ora is imported only then).
   */
  async spin<T>(label: string, work: Promise<T>): Promise<T> {
    if (!this.interactive) return work;
    let spinner: { stop(): void } | undefined;
    let settled = false;
    const timer = setTimeout(() => {
      void import('ora').then(({ default: ora }) => {
        if (!settled) spinner = ora({ text: label, stream: this.stderr as NodeJS.WritableStream }).start();
      });
    }, 300);
    try {
      return await work;
    } finally {
      settled = true;
      clearTimeout(timer);
      spinner?.stop();
    }
  }
}
