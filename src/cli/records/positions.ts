// kts console-consumer --from / --until: where to start and where to stop, per partition.
//   earliest | latest | end     the log start / the log end at start-up ("end" only for --until)
//   N                           the absolute offset N
//   -N                          N records before the log end
//   @2024-06-10T12:00:00Z       the first record at or after that time (no zone given: UTC)
//   @1718000000000              the same, epoch milliseconds
//   @-1h, @-30m, @-2d, @-1h30m  that long before now (units ms, s, m, h, d, w)
// --until bounds are exclusive: the consumer stops before the first offset at or past them and
// exits 0 once every partition got there.
import { UsageError } from '../errors.js';

export type PositionSpec =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: number }
  | { kind: 'back'; count: number }
  | { kind: 'time'; timestamp: number };

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string): number | undefined {
  if (!/^(\d+(ms|s|m|h|d|w))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) total += Number(m[1]) * UNITS[m[2]];
  return total;
}

export function parsePosition(text: string, option: 'from' | 'until', now = Date.now()): PositionSpec {
  const bad = (): never => {
    throw new UsageError(
      `Invalid value '${text}' for option ${option}: expected earliest, latest${option === 'until' ? ', end' : ''}, an offset N, -N (N before the end), @<ISO time>, @<epoch ms> or @-<duration> such as @-1h`,
    );
  };
  const t = text.trim();
  if (t === 'earliest' || t === 'beginning') return { kind: 'earliest' };
  if (t === 'latest' || (t === 'end' && option === 'until')) return { kind: 'latest' };
  if (/^\d+$/.test(t)) return { kind: 'offset', offset: Number(t) };
  if (/^-\d+$/.test(t)) return { kind: 'back', count: Number(t.slice(1)) };
  if (t.startsWith('@')) {
    const rest = t.slice(1);
    if (rest.startsWith('-')) {
      const ms = parseDuration(rest.slice(1));
      return ms === undefined ? bad() : { kind: 'time', timestamp: now - ms };
    }
    if (/^\d+$/.test(rest)) return { kind: 'time', timestamp: Number(rest) };
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(rest) || !rest.includes('T');
    const ms = Date.parse(hasZone ? rest : `${rest}Z`);
    return Number.isNaN(ms) ? bad() : { kind: 'time', timestamp: ms };
  }
  return bad();
}

/** The offset a spec names for one partition, given its log start and end (and the time lookup). */
export function resolvePosition(spec: PositionSpec, start: number, end: number, offsetForTime?: number): number {
  switch (spec.kind) {
    case 'earliest':
      return start;
    case 'latest':
      return end;
    case 'offset':
      return spec.offset;
    case 'back':
      return Math.max(start, end - spec.count);
    case 'time':
      return offsetForTime === undefined || offsetForTime < 0 ? end : offsetForTime;
  }
}
