// kts consumer-groups --describe --watch [seconds]: the offsets view again every interval, with
// each partition's consume rate (committed offset growth, measured between the group's commits:
// commitWindowRates), produce rate (log-end growth) and the time until its lag reaches zero at
// those rates ("keeping-up" when the lag is only what the consumer has read and not yet committed).
//   terminal  the screen is cleared and redrawn: a header line (group, state, time) and a table,
//             lag in red when it grew since the previous tick, green when it shrank.
//   plain     one block per tick: Kafka's describe columns, then CONSUME-RATE and
//             TIME-TO-ZERO-LAG; blocks are separated by a blank line (each opens with one, as
//             Kafka's do).
//   json      one JSON object per tick and line (JSONL).
// SIGINT ends the watch with 0, SIGTERM with 143; a closed stdout (EPIPE) with 0.
import type { KafkaClient } from '../../client/index.js';
import type { ToolContext } from '../tool.js';
import { collectOffsets, offsetJson, offsetsLayout, offsetsStateNote, type GroupOffsets, type Notes, type OffsetRow } from './describe.js';
import { truncateMiddle } from '../table.js';
import { MISSING, javaString, row } from './text.js';
import { raceTimeout } from '../../util/timeout.js';

export const DEFAULT_WATCH_SECONDS = 2;

/** The offsets of one partition at one tick. */
export interface OffsetSample {
  committed: number | null;
  logEnd: number | null;
  /**
   * The committed offset where it was first seen and where it last changed, with when (ms): the
   * watch's own record of the group's commits (rateTick keeps it).
   */
  commits?: CommitMark[];
}

export interface CommitMark {
  offset: number;
  /** The tick that first saw this committed offset. */
  at: number;
  /** The partition's log end at the same tick: the produce rate over a commit window comes from it. */
  logEnd?: number;
  /**
   * The tick before, which still saw the previous committed offset: the commit itself happened
   * between `since` and `at`. Absent where the offset was first seen (nothing before to compare).
   */
  since?: number;
}

/** Without a commit seen for this long (and longer than two commit intervals), the consumer counts as stalled. */
const STALL_MS = 10_000;

export interface PartitionRates {
  lag: number | null;
  /** Records per second the group committed since the previous tick; null on the first tick or when unknown. */
  consumeRate: number | null;
  /** Records per second appended to the partition since the previous tick. */
  produceRate: number | null;
  /** Seconds until the lag is zero at these rates; 0 without lag; null when it does not shrink or is unknown. */
  timeToZeroLag: number | null;
  /** The lag grows at these rates (produce rate above consume rate while there is lag). */
  lagGrowing: boolean;
  /** Lag now minus lag at the previous tick; null when either is unknown. */
  lagChange: number | null;
  /** The lag is what the consumer has read but not yet committed: it consumes as fast as records come. */
  keepingUp?: boolean;
}

/**
 * The rates and the time to zero lag of one partition, from its offsets at the previous tick
 * (undefined on the first) and now, `elapsedSeconds` apart.
 */
export function partitionRates(prev: OffsetSample | undefined, now: OffsetSample, elapsedSeconds: number): PartitionRates {
  const lag = now.committed !== null && now.logEnd !== null ? Math.max(0, now.logEnd - now.committed) : null;
  const rate = (a: number | null | undefined, b: number | null): number | null =>
    a === null || a === undefined || b === null || !(elapsedSeconds > 0) ? null : Math.max(0, b - a) / elapsedSeconds;
  const consumeRate = rate(prev?.committed, now.committed);
  const produceRate = rate(prev?.logEnd, now.logEnd);
  const prevLag = prev && prev.committed !== null && prev.logEnd !== null ? Math.max(0, prev.logEnd - prev.committed) : null;
  let timeToZeroLag: number | null = null;
  let lagGrowing = false;
  if (lag === 0) timeToZeroLag = 0;
  else if (lag !== null && consumeRate !== null && produceRate !== null) {
    const net = consumeRate - produceRate;
    if (net > 0) timeToZeroLag = lag / net;
    else if (net < 0) lagGrowing = true;
  }
  return { lag, consumeRate, produceRate, timeToZeroLag, lagGrowing, lagChange: lag !== null && prevLag !== null ? lag - prevLag : null };
}

/**
 * The rates again, with the consume rate taken between the group's commits rather than between two
 * ticks. A consumer commits every few seconds (Kafka's auto.commit.interval.ms is 5 s), so between
 * ticks its committed offset mostly stands still while the log end moves: per tick it would show 0
 * records/s and a lag growing to "∞", then a burst. Between commits the rate is the one measured over
 * the last commit-to-commit window; once no commit has come for two such windows (and STALL_MS),
 * the rate is what was committed since the commit before, so it falls towards 0 as a stall goes on.
 * A lag no larger than what arrives within a commit interval is the consumer keeping up.
 */
export function commitWindowRates(base: PartitionRates, commits: CommitMark[], now: OffsetSample, at: number, elapsedSeconds: number): PartitionRates {
  if (now.committed === null || now.logEnd === null || commits.length === 0 || base.lag === null) return base;
  const [first, last] = commits.length === 1 ? [commits[0], commits[0]] : commits;
  const window = last.at - first.at;
  const sinceLast = at - last.at;
  let consumeRate: number | null;
  const betweenCommits = commits.length === 2 && sinceLast <= Math.max(2 * window, 2 * elapsedSeconds * 1000);
  if (betweenCommits) consumeRate = ((last.offset - first.offset) * 1000) / window;
  else if (at - first.at >= Math.max(STALL_MS, 2 * window)) consumeRate = ((now.committed - first.offset) * 1000) / (at - first.at);
  else consumeRate = base.consumeRate && base.consumeRate > 0 ? base.consumeRate : null; // no commit seen yet: unknown, not 0
  const produceRate = base.produceRate;
  const lag = base.lag;
  // The consume rate is compared with the produce rate over the same commit window: a producer's
  // rate over one tick swings with its batches (95/s in one tick of a steady ~70/s, on a loaded
  // machine), which made a consumer keeping up look slower than it is.
  const windowProduceRate = commits.length === 2 && window > 0 && first.logEnd !== undefined && last.logEnd !== undefined ? ((last.logEnd - first.logEnd) * 1000) / window : produceRate;
  // The ticks date each commit only to within one tick (it happened after the tick before the one
  // that saw it): the commits may have been as little as last.since - first.at apart. A consumer
  // that keeps up but whose first commit landed just before a tick and the next just after one
  // showed 43/s over a 2.5 s window against 55/s produced, and so "lag growing" (watch-rates.test.ts
  // at load 14): its records could have been read in 1.9 s, 57/s. Keeping up is judged at the
  // fastest rate the ticks allow; a consumer that really falls behind is caught by its lag below.
  // (Once the commits stopped, the rate since the commit before is the one to judge by.)
  const shortest = last.since !== undefined ? last.since - first.at : window;
  const fastestConsume = betweenCommits ? (shortest > 0 ? ((last.offset - first.offset) * 1000) / shortest : Infinity) : consumeRate;
  // What arrives within one commit interval (plus a tick) is what a keeping-up consumer has not committed yet.
  const interval = commits.length === 2 ? Math.max(window, sinceLast) : at - first.at;
  const keepingUp =
    lag > 0 && fastestConsume !== null && produceRate !== null && windowProduceRate !== null && fastestConsume >= 0.8 * windowProduceRate && lag <= produceRate * (interval / 1000 + elapsedSeconds) * 1.25 + 1;
  let timeToZeroLag: number | null = lag === 0 ? 0 : null;
  let lagGrowing = false;
  if (lag > 0 && !keepingUp && consumeRate !== null && produceRate !== null) {
    const net = consumeRate - produceRate;
    if (net > 0) timeToZeroLag = lag / net;
    else if (net < 0) lagGrowing = true;
  }
  return { ...base, consumeRate, timeToZeroLag, lagGrowing, keepingUp };
}

/** A rate for the text: one decimal (`12.5`), `-` when unknown. */
export function formatRate(rate: number | null): string {
  return rate === null ? MISSING : rate.toFixed(1);
}

/**
 * The time to zero lag for the text: `0s`, `42s`, `3m05s`, `2h07m`, `∞` when the lag grows,
 * `keeping-up` when the lag is only what the consumer has not committed yet, `-` when unknown.
 */
export function formatEta(r: Pick<PartitionRates, 'timeToZeroLag' | 'lagGrowing' | 'keepingUp'>): string {
  if (r.keepingUp) return 'keeping-up';
  if (r.timeToZeroLag === null) return r.lagGrowing ? '∞' : MISSING;
  const s = Math.ceil(r.timeToZeroLag);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Parses the `--watch` value: seconds, default 2; throws the message for a bad one. */
export function watchSeconds(value: string | undefined): number {
  if (value === undefined) return DEFAULT_WATCH_SECONDS;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) return NaN;
  return n;
}

const sampleKey = (group: string, r: OffsetRow) => `${group}\u0000${r.topic}\u0000${r.partition}`;
const sampleOf = (r: OffsetRow): OffsetSample => ({
  committed: r.current === MISSING ? null : Number(r.current),
  logEnd: r.logEnd === MISSING ? null : Number(r.logEnd),
});

export interface Tick {
  time: Date;
  /** Seconds since the previous tick's fetch; null on the first tick. */
  elapsed: number | null;
  groups: { offsets: GroupOffsets; rates: PartitionRates[] }[];
}

/** Adds rates to fetched offsets, given the samples of the previous tick (updated in place). */
export function rateTick(groups: GroupOffsets[], samples: Map<string, OffsetSample>, time: Date, elapsed: number | null): Tick {
  const out: Tick = { time, elapsed, groups: [] };
  const seen = new Set<string>();
  for (const g of groups) {
    const at = time.getTime();
    const rates = g.rows.map((r) => {
      const key = sampleKey(g.group, r);
      const now = sampleOf(r);
      const prev = elapsed === null ? undefined : samples.get(key);
      let rates = partitionRates(prev, now, elapsed ?? 0);
      // The commits seen: where the committed offset was first seen, then where it last moved.
      let commits = prev?.commits ?? [];
      if (now.committed !== null) {
        const last = commits[commits.length - 1];
        const since = last && elapsed !== null ? { since: at - elapsed * 1000 } : {};
        const mark: CommitMark = { offset: now.committed, at, ...(now.logEnd !== null ? { logEnd: now.logEnd } : {}), ...since };
        if (!last || now.committed < last.offset) commits = [mark]; // first sight, or offsets reset
        else if (now.committed > last.offset) commits = [commits.length === 1 ? commits[0] : last, mark];
      } else commits = [];
      if (prev) rates = commitWindowRates(rates, commits, now, at, elapsed ?? 0);
      samples.set(key, { ...now, commits });
      seen.add(key);
      return rates;
    });
    out.groups.push({ offsets: g, rates });
  }
  for (const key of [...samples.keys()]) if (!seen.has(key)) samples.delete(key);
  return out;
}

const EXTRA = [
  { head: 'CONSUME-RATE', width: 15 },
  { head: 'TIME-TO-ZERO-LAG', width: 16 },
];

/** One tick in plain text: Kafka's describe layout plus CONSUME-RATE and TIME-TO-ZERO-LAG. */
export function tickPlain(tick: Tick, notes: Notes): string {
  const plain: string[] = [];
  for (const { offsets: g, rates } of tick.groups) {
    if (!offsetsStateNote(g, { plain, notes })) continue;
    const { widths, header } = offsetsLayout(g.rows, EXTRA);
    const cells = g.rows.map((r, i) => [r.group, r.topic, r.partition, r.current, r.logEnd, r.lag, r.consumerId, r.host, r.clientId, formatRate(rates[i].consumeRate), formatEta(rates[i])]);
    plain.push(`\n${row(header, widths)}${cells.map((c) => `\n${row(c, widths)}`).join('')}\n`);
  }
  return plain.join('');
}

const round = (n: number | null, digits: number): number | null => (n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits);

/** One tick as a JSON object (one line of the JSONL stream). */
export function tickJson(tick: Tick): unknown {
  return {
    time: tick.time.toISOString(),
    intervalSeconds: round(tick.elapsed, 3),
    groups: tick.groups.map(({ offsets: g, rates }) => ({
      group: g.group,
      state: g.state,
      offsets: g.rows.map((r, i) => ({
        ...offsetJson(r),
        consumeRate: round(rates[i].consumeRate, 2),
        produceRate: round(rates[i].produceRate, 2),
        timeToZeroLag: round(rates[i].timeToZeroLag, 1),
        lagGrowing: rates[i].lagGrowing,
        keepingUp: rates[i].keepingUp ?? false,
      })),
    })),
  };
}

const CLEAR = '\x1b[H\x1b[2J\x1b[3J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

async function tickTerminal(ctx: ToolContext, tick: Tick, seconds: number): Promise<string> {
  const s = ctx.out.style;
  const parts: string[] = [];
  const time = tick.time.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  for (const { offsets: g, rates } of tick.groups) {
    // The group name gives way first when the header line is too wide for the terminal.
    const room = (ctx.out.width ?? Infinity) - g.state.length - time.length - 4;
    const name = room < g.group.length ? truncateMiddle(g.group, Math.max(1, room)) : g.group;
    parts.push(ctx.out.fit(`${s.bold(name)}  ${g.state === 'Stable' ? s.green(g.state) : g.state === 'Dead' ? s.red(g.state) : s.yellow(g.state)}  ${s.dim(time)}`) + '\n');
    if (g.rows.length === 0) {
      parts.push(`${ctx.out.fit(s.dim(g.state === 'Dead' ? `Consumer group '${g.group}' does not exist.` : 'No committed offsets and no assigned partitions.'))}\n\n`);
      continue;
    }
    const rows = g.rows.map((r, i) => {
      const x = rates[i];
      const lag = x.lagChange === null || x.lagChange === 0 ? r.lag : { text: r.lag, tone: x.lagChange > 0 ? ('bad' as const) : ('good' as const) };
      const eta = formatEta(x);
      return [r.topic, r.partition, r.current, r.logEnd, lag, formatRate(x.consumeRate), formatRate(x.produceRate), x.lagGrowing ? { text: eta, tone: 'bad' as const } : eta, r.consumerId];
    });
    parts.push(
      await ctx.out.renderTables([
        { head: ['TOPIC', 'PART', 'CURRENT', 'LOG-END', 'LAG', 'CONSUME/s', 'PRODUCE/s', 'ETA', 'CONSUMER-ID'], rows },
      ]),
      '\n',
    );
  }
  if (tick.groups.length === 0) parts.push(`${s.dim('No consumer groups.')}\n\n`);
  parts.push(`${ctx.out.fit(s.dim(`Every ${seconds}s. Rates in records/s; ETA: time until the lag is 0. Ctrl-C to stop.`))}\n`);
  return parts.join('');
}

/**
 * Runs the watch until SIGINT (0), SIGTERM (143) or a closed stdout (0). A failure on the first
 * fetch is thrown (the tool's usual error); later ones are noted on stderr and the watch goes on.
 */
export async function watchOffsets(client: KafkaClient, groupIds: () => Promise<string[]>, seconds: number, ctx: ToolContext): Promise<number> {
  const out = ctx.out;
  const terminal = out.mode === 'table';
  let stop: 'SIGINT' | 'SIGTERM' | 'epipe' | null = null;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    stop ??= sig === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
    wake();
  };
  const onStdoutError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
      stop ??= 'epipe';
      wake();
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  out.stdout.on('error', onStdoutError);
  if (terminal) out.write(HIDE_CURSOR);
  const samples = new Map<string, OffsetSample>();
  let lastFetch: number | null = null;
  let lastNotes = '';
  let ticks = 0;
  try {
    while (!stop) {
      let groups: GroupOffsets[];
      try {
        const fetched = Promise.resolve().then(async () => collectOffsets(client, await groupIds()));
        const got = await Promise.race([fetched, stopped.then(() => null)]);
        if (got === null) {
          fetched.catch(() => {});
          break;
        }
        groups = got;
      } catch (err) {
        if (ticks === 0) throw err;
        out.note(`Error: ${javaString(err)}`);
        await raceTimeout(stopped, seconds * 1000, () => undefined);
        continue;
      }
      const fetchedAt = Date.now();
      const tick = rateTick(groups, samples, new Date(fetchedAt), lastFetch === null ? null : (fetchedAt - lastFetch) / 1000);
      lastFetch = fetchedAt;
      ticks++;
      const notes: Notes = { stderr: [], failed: false };
      if (out.mode === 'json' || out.mode === 'jsonl') out.write(`${JSON.stringify(tickJson(tick))}\n`);
      else if (terminal) out.write(CLEAR + (await tickTerminal(ctx, tick, seconds)));
      else {
        const text = tickPlain(tick, notes);
        out.write(text === '' ? '\n' : text);
        // Kafka's state notes, only when they change (not once per tick).
        const joined = notes.stderr.join('\n');
        if (joined !== lastNotes) for (const line of notes.stderr) out.note(line);
        lastNotes = joined;
      }
      // The next sample comes a full interval after this one: rates over a shorter gap (a slow fetch
      // eating the wait) were noise, and intervalSeconds fell below the interval asked for.
      const wait = Math.max(0, fetchedAt + seconds * 1000 - Date.now());
      await raceTimeout(stopped, wait, () => undefined);
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    out.stdout.removeListener('error', onStdoutError);
    if (terminal) out.write(SHOW_CURSOR);
  }
  return stop === 'SIGTERM' ? 143 : 0;
}
