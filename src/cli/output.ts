// The one output formatter every tool renders through. A tool describes a result once, as a View
// (Kafka's exact text, a JSON document, optionally tables for a terminal), and this module picks
// the face:
//   plain  Kafka 3.9's bytes. The default whenever stdout is not a terminal, so scripts written for
//          Kafka's tools keep working byte for byte.
//   table  the default on a terminal: colour (chalk), compact tables fitted to the terminal's width
//          (table.ts), a spinner (ora) for waits over 300 ms, a success line after a change, errors
//          with a hint. Those modules are imported only in this mode.
//   json   one JSON document on stdout (shapes per tool are listed in src/cli/README.md).
//   jsonl  one JSON object per line; the console consumer's record stream (replayable by
//          `console-producer --input jsonl`).
import type { Writable } from 'node:stream';
import { UsageError } from './errors.js';
import type { Cell, Tone } from './table.js';

export type OutputMode = 'plain' | 'table' | 'json' | 'jsonl';
export const OUTPUT_MODES: readonly OutputMode[] = ['plain', 'table', 'json', 'jsonl'];

export interface TableView {
  /** Lines above the table: the first in bold, the others dim; cut to the terminal's width. */
  title?: string;
  head: string[];
  rows: Cell[][];
  /** Columns aligned right; default: the columns whose every value is a number. */
  alignRight?: boolean[];
  /** Printed (dim) instead of the header when there are no rows; without it the header is printed alone. */
  empty?: string;
}

export interface View {
  /** Exactly what Kafka's tool prints on stdout (newlines included). */
  plain: string;
  /** The document for `--output json` (and jsonl, one line). */
  json: unknown;
  /** The terminal face; without it the terminal gets `plain`. */
  tables?: TableView[];
  /**
   * What a change did, in words (`Deleted topic orders.`): printed in green on the terminal face
   * after the tables (instead of `plain` when there are none). Kafka prints nothing for some
   * changes; a person at a terminal should still see that it worked.
   */
  done?: string;
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

export class Output {
  style: Style = NO_STYLE;

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
        if (view.tables && view.tables.length > 0) this.write(await this.renderTables(view.tables));
        else if (!view.done) this.write(view.plain);
        if (view.done) this.write(`${this.fit(this.style.green(view.done))}\n`);
        return;
      default:
        this.write(view.plain);
    }
  }

  /**
   * The terminal's width in columns: the terminal's own when stdout is one, else $COLUMNS, else
   * undefined (no limit: `--output table` into a pipe).
   */
  get width(): number | undefined {
    const cols = this.stdout.isTTY ? (this.stdout as { columns?: number }).columns : undefined;
    if (cols && cols > 0) return cols;
    const env = Number(process.env.COLUMNS);
    return Number.isInteger(env) && env > 0 ? env : undefined;
  }

  /** A line cut to the terminal's width (for titles and notes of the terminal face). */
  fit(line: string): string {
    const width = this.width;
    if (width === undefined || line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').length <= width) return line;
    return `${[...line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')].slice(0, width - 1).join('')}…`;
  }

  /** Tables as compact, width-fitted lines (src/cli/table.ts), a blank line after each. */
  async renderTables(tables: TableView[]): Promise<string> {
    const { renderTable, truncateEnd } = await import('./table.js');
    const s = this.style;
    const paint = (tone: Tone | 'head', text: string): string =>
      tone === 'head' ? s.cyan(text) : tone === 'bad' ? s.red(text) : tone === 'warn' ? s.yellow(text) : tone === 'good' ? s.green(text) : tone === 'dim' ? s.dim(text) : s.bold(text);
    const width = this.width;
    const parts: string[] = [];
    for (const t of tables) {
      const title = t.title === undefined ? [] : t.title.split('\n').map((l, i) => (i === 0 ? s.bold : s.dim)(width === undefined ? l : truncateEnd(l, width)));
      const body = t.rows.length === 0 && t.empty !== undefined ? [s.dim(width === undefined ? t.empty : truncateEnd(t.empty, width))] : renderTable(t, paint, width);
      parts.push([...title, ...body].map((l) => `${l}\n`).join(''));
    }
    return parts.join('\n');
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
