// Java .properties syntax (java.util.Properties.load): `key=value`, `key: value` or `key value`;
// `#`/`!` comments; a trailing backslash continues the line; backslash escapes (\t \n \uXXXX).
// Kafka's server.properties, ZooKeeper's zoo.cfg and the tools' --command-config files all use it.
import { readFile } from 'node:fs/promises';

export type Properties = Map<string, string>;

export function parseProperties(text: string): Properties {
  const props: Properties = new Map();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].replace(/^[ \t\f]+/, '');
    if (line === '' || line[0] === '#' || line[0] === '!') continue;
    while (endsWithContinuation(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i].replace(/^[ \t\f]+/, '');
    }
    if (endsWithContinuation(line)) line = line.slice(0, -1);
    const [key, value] = splitKeyValue(line);
    props.set(unescape(key), unescape(value));
  }
  return props;
}

export async function readProperties(path: string): Promise<Properties> {
  return parseProperties(await readFile(path, 'utf8'));
}

/** `k=v` strings as given to --override / --config / --property. */
export function parseAssignment(assignment: string): [string, string] {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new Error(`Invalid property '${assignment}': expected key=value`);
  return [assignment.slice(0, eq).trim(), assignment.slice(eq + 1)];
}

function endsWithContinuation(line: string): boolean {
  let backslashes = 0;
  for (let j = line.length - 1; j >= 0 && line[j] === '\\'; j--) backslashes++;
  return backslashes % 2 === 1;
}

function splitKeyValue(line: string): [string, string] {
  let i = 0;
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
  }
  const key = line.slice(0, i);
  let rest = line.slice(i).replace(/^[ \t\f]+/, '');
  if (rest[0] === '=' || rest[0] === ':') rest = rest.slice(1).replace(/^[ \t\f]+/, '');
  return [key, rest];
}

function unescape(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e[0] === 'u' && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return e === 't' ? '\t' : e === 'n' ? '\n' : e === 'r' ? '\r' : e === 'f' ? '\f' : e;
  });
}
