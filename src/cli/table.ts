// The terminal face's tables: compact (a header row and one line per row, no borders, no row
// separators), fitted to the terminal's width (the widest columns give way first, long values are
// cut in the middle with `…` so both ends of an id stay readable; nothing wraps), and coloured by
// meaning through tones rather than pre-styled strings, so a value is measured and cut before it is
// coloured. Pure functions: the pseudo-terminal tests and the unit tests check their lines.
//
// Not cli-table3: it cuts cells at the end only (ids need both ends), does not fit a table to the
// terminal (it needs fixed column widths, which this file would compute anyway), measures cells
// after they are coloured, and draws borders unless every border character is blanked; what
// remained for it was padding, about 40 lines here, for a dependency of its own (string-width).

export type Tone = 'bad' | 'warn' | 'good' | 'dim' | 'bold';

/** A cell that carries a meaning: `bad` (offline, lag growing), `warn` (lag, under-replicated), `good`. */
export interface ToneCell {
  text: string;
  tone?: Tone;
}

export type Cell = string | number | ToneCell;

export interface Painter {
  (tone: Tone | 'head', text: string): string;
}

const COLUMN_GAP = '  ';
/** A column is not cut below this many characters (or its natural width when smaller). */
const MIN_COLUMN = 6;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function cellText(c: Cell): string {
  return typeof c === 'object' ? c.text : String(c);
}

export function cellTone(c: Cell): Tone | undefined {
  return typeof c === 'object' ? c.tone : undefined;
}

/** Characters as a terminal shows them: escape sequences take no room; astral characters take one. */
export function visibleLength(s: string): number {
  return [...s.replace(ANSI, '')].length;
}

/** `s` in at most `width` characters, cut in the middle: `consumer-1-9f3c…c0ffee`. */
export function truncateMiddle(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  if (width <= 0) return '';
  if (width === 1) return '…';
  const keep = width - 1;
  const head = Math.ceil(keep / 2);
  return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (keep - head)).join('')}`;
}

/** `s` in at most `width` characters, cut at the end (for prose: titles, notes). */
export function truncateEnd(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  return width <= 0 ? '' : `${chars.slice(0, width - 1).join('')}…`;
}

/**
 * Column widths that fit `maxWidth` (undefined: no limit): the natural widths, then, while the
 * line is too long, the widest column gives up one character at a time: first down to its
 * header's length (values are cut before headers), then down to MIN_COLUMN, then to one.
 */
export function fitWidths(natural: number[], maxWidth: number | undefined, headWidths: number[] = []): number[] {
  const widths = natural.slice();
  if (maxWidth === undefined || widths.length === 0) return widths;
  let excess = widths.reduce((a, b) => a + b, 0) + COLUMN_GAP.length * (widths.length - 1) - maxWidth;
  const floors: ((i: number) => number)[] = [(i) => Math.max(headWidths[i] ?? 0, MIN_COLUMN), () => MIN_COLUMN, () => 1];
  for (const floor of floors) {
    while (excess > 0) {
      let widest = -1;
      for (let i = 0; i < widths.length; i++) {
        if (widths[i] > Math.min(natural[i], floor(i)) && (widest < 0 || widths[i] > widths[widest])) widest = i;
      }
      if (widest < 0) break;
      widths[widest]--;
      excess--;
    }
  }
  return widths;
}

export interface TableLayout {
  head: string[];
  rows: Cell[][];
  /** Columns aligned right (numbers). Default: a column whose every value is a number. */
  alignRight?: boolean[];
}

/** The table's lines (no line ends), each at most `maxWidth` visible characters. */
export function renderTable(t: TableLayout, paint: Painter, maxWidth?: number): string[] {
  const n = t.head.length;
  const texts = t.rows.map((r) => Array.from({ length: n }, (_, i) => cellText(r[i] ?? '')));
  const natural = t.head.map((h, i) => Math.max(visibleLength(h), ...texts.map((r) => visibleLength(r[i]))));
  const widths = fitWidths(natural, maxWidth, t.head.map(visibleLength));
  const right = t.alignRight ?? t.head.map((_, i) => t.rows.length > 0 && t.rows.every((r) => typeof r[i] === 'number' || /^-?\d+(\.\d+)?$/.test(cellText(r[i] ?? ''))));
  const line = (cells: string[], tones: (Tone | 'head' | undefined)[]): string => {
    const parts = cells.map((text, i) => {
      const cut = truncateMiddle(text.replace(ANSI, ''), widths[i]);
      const pad = ' '.repeat(Math.max(0, widths[i] - visibleLength(cut)));
      const last = i === n - 1;
      const painted = tones[i] ? paint(tones[i]!, cut) : cut;
      return right[i] ? pad + painted : last ? painted : painted + pad;
    });
    const joined = parts.join(COLUMN_GAP);
    return maxWidth !== undefined && visibleLength(joined) > maxWidth ? cutVisible(joined, maxWidth) : joined;
  };
  return [
    line(t.head, t.head.map(() => 'head')),
    ...t.rows.map((r, ri) => line(texts[ri], Array.from({ length: n }, (_, i) => cellTone(r[i] ?? '')))),
  ];
}

/** Cuts a line with escape sequences to `width` visible characters (the last resort guarantee). */
function cutVisible(s: string, width: number): string {
  let out = '';
  let seen = 0;
  let i = 0;
  while (i < s.length && seen < width) {
    const m = s[i] === '\x1b' ? /^\x1b\[[0-9;?]*[A-Za-z]/.exec(s.slice(i)) : null;
    if (m) {
      out += m[0];
      i += m[0].length;
      continue;
    }
    const cp = s.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    out += ch;
    i += ch.length;
    seen++;
  }
  // A cut may leave a colour open: reset it so the next line starts plain.
  return s.includes('\x1b') ? `${out}\x1b[0m` : out;
}
