// The printing conventions of Kafka's ConsumerGroupCommand: `%-Ns` columns joined by one space,
// "-" for a missing value, errors as "\nError: <msg>" on stdout, state notes on stderr, and
// warnings as tools-log4j lines.

export const MISSING = '-';

/** Java's `%-Ns`: pad on the right to at least `width`, never cut. */
export function col(value: string | number, width: number): string {
  return String(value).padEnd(width);
}

/** Joins cells formatted as `%-w1s %-w2s ... %s`: the last cell is not padded unless given a width. */
export function row(cells: (string | number)[], widths: (number | undefined)[]): string {
  return cells.map((c, i) => (widths[i] === undefined ? String(c) : col(c, widths[i]!))).join(' ');
}

/** Kafka's printError: an empty line, then `Error: <msg>`, on stdout. */
export function errorText(message: string): string {
  return `\nError: ${message}\n`;
}

export function widest(min: number, values: Iterable<string>): number {
  let w = min;
  for (const v of values) w = Math.max(w, v.length);
  return w;
}

function pad2(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** A line as Kafka's tools-log4j.properties lays it out (`[%d] %p %m (%c)%n`). */
export function log4j(level: 'WARN' | 'ERROR', message: string, logger = 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand'): string {
  const d = new Date();
  const ts = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())},${pad2(d.getMilliseconds(), 3)}`;
  return `[${ts}] ${level} ${message} (${logger})`;
}

/** What `String.valueOf(exception)` shows for a failed admin future: the cause, wrapped. */
export function executionException(err: unknown): string {
  return `java.util.concurrent.ExecutionException: ${javaString(err)}`;
}

/** `org.apache.kafka.common.errors.X: message` for client errors, the message otherwise. */
export function javaString(err: unknown): string {
  const e = err as { javaString?: unknown; message?: unknown };
  if (typeof e?.javaString === 'string') return e.javaString;
  return typeof e?.message === 'string' ? e.message : String(err);
}
