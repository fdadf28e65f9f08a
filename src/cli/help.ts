// The option table Kafka's tools print for --help (jopt-simple's built-in layout: an `Option` and a
// `Description` column, options sorted by name, arguments as `<String: topic>`, defaults appended
// as `(default: x)`, both columns wrapped to 80 characters).
import type { OptionSpec } from './options.js';

const OPTION_WIDTH = 41;
const DESCRIPTION_WIDTH = 39;

export function renderHelp(summary: string, options: readonly OptionSpec[], epilogue?: string): string {
  const rows = options
    .filter((o) => !o.hidden)
    .slice()
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((o) => [optionLabel(o), describeOption(o)] as const);
  const lines: string[] = [summary, pad('Option', OPTION_WIDTH) + 'Description', pad('------', OPTION_WIDTH) + '-----------'];
  for (const [label, text] of rows) {
    const left = wrap(label, OPTION_WIDTH - 1, '  ');
    const right = wrap(text, DESCRIPTION_WIDTH, '  ');
    const n = Math.max(left.length, right.length);
    for (let i = 0; i < n; i++) {
      lines.push((pad(left[i] ?? '', OPTION_WIDTH) + (right[i] ?? '')).trimEnd());
    }
  }
  if (epilogue) lines.push('', epilogue.trimEnd());
  return `${lines.join('\n')}\n`;
}

function optionLabel(o: OptionSpec): string {
  if (!o.arg) return `--${o.name}`;
  const type = o.type === 'int' ? 'Integer' : o.type === 'long' ? 'Long' : o.type === 'double' ? 'Double' : 'String';
  const inner = o.argName ? `${type}: ${o.argName}` : type;
  return o.arg === 'required' ? `--${o.name} <${inner}>` : `--${o.name} [${inner}]`;
}

function describeOption(o: OptionSpec): string {
  return o.defaultValue !== undefined ? `${o.describe} (default: ${JSON.stringify(o.defaultValue).slice(1, -1)})` : o.describe;
}

function pad(s: string, width: number): string {
  return s.length >= width ? `${s} ` : s + ' '.repeat(width - s.length);
}

/** Greedy word wrap; continuation lines get `indent`; explicit newlines are kept. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/ +/)) {
      const prefix = out.length > 0 && line === '' ? indent : '';
      const candidate = line === '' ? prefix + word : `${line} ${word}`;
      if (candidate.length > width && line !== '') {
        out.push(line);
        line = indent + word;
      } else {
        line = candidate;
      }
    }
    out.push(line);
  }
  return out;
}
