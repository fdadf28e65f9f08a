// What kcat (librdkafka 2.0.2) saw of a consume, from its `-d fetch,protocol` log on stderr: each
// Fetch answer (bytes, round trip), the records each put on kcat's queue (and the queue's length
// then), and the pauses librdkafka took because the queue held queued.min.messages (100,000).
// Why those pauses decide the 1M x 100 B wall time: bench/RESULTS.md, "kcat's queue pauses".
import { median, percentile } from './proc.mjs';

/** kcat's debug flags for a traced consume. */
export const TRACE_FLAGS = ['-d', 'fetch,protocol'];

/**
 * The consume's trace: answers [{ at, bytes, rtt }], enqueued [{ at, records, qlen, last }], pauses
 * [[start, end]] (seconds, librdkafka's clock), first (the first Fetch's time), rttMedian (ms), and
 * fillRate / drainRate: records per second the answers brought and kcat took off its queue, from the
 * first Fetch to the first pause (to the end when there was none).
 */
export function parseKcatTrace(log) {
  const t = (line) => Number(/^%\d\|(\d+\.\d+)\|/.exec(line)?.[1] ?? NaN);
  const answers = [];
  const enqueued = [];
  const pauses = [];
  let pauseStart = null;
  let first = NaN;
  for (const l of log.split('\n')) {
    let m;
    if (Number.isNaN(first) && /Fetch topic \S+ \[\d+\] at offset/.test(l)) first = t(l);
    if ((m = /Received FetchResponse \(v\d+, (\d+) bytes, CorrId \d+, rtt ([\d.]+)ms\)/.exec(l))) answers.push({ at: t(l), bytes: Number(m[1]), rtt: Number(m[2]) });
    else if ((m = /Enqueue (\d+) message\(s\) .* fetch queue \(qlen (\d+), v\d+, last_offset (\d+)/.exec(l))) enqueued.push({ at: t(l), records: Number(m[1]), qlen: Number(m[2]), last: Number(m[3]) });
    else if (/is not fetchable: queued\.(min\.messages|max\.messages\.kbytes) exceeded/.test(l)) pauseStart = t(l);
    else if (pauseStart !== null && /\[\d+\].* is fetchable/.test(l)) {
      pauses.push([pauseStart, t(l)]);
      pauseStart = null;
    }
  }
  if (pauseStart !== null) pauses.push([pauseStart, NaN]);
  // Before an answer's records are queued kcat has taken (offsets so far) - qlen records off it.
  const fillEnd = pauses[0]?.[0] ?? enqueued.at(-1)?.at;
  const last = enqueued.filter((e) => e.at <= fillEnd).at(-1);
  const span = last ? last.at - first : NaN;
  return {
    answers,
    enqueued,
    pauses,
    first,
    rttMedian: median(answers.map((a) => a.rtt)),
    fillRate: last && span > 0 ? (last.last + 1) / span : NaN,
    drainRate: last && span > 0 ? (last.last + 1 - last.records - last.qlen) / span : NaN,
  };
}

/** One line about a traced consume. */
export function formatKcatTrace(trace) {
  const { answers, enqueued, pauses, first } = trace;
  const records = enqueued.map((e) => e.records).filter((n) => n > 0);
  const fmt = (x) => x.toFixed(2);
  return [
    `answers ${answers.length} (${answers.length - records.length} without records, ${answers.filter((a) => a.bytes < 1_000_000).length} < 1 MB)`,
    `records/answer med ${median(records)} min ${Math.min(...records)} max ${Math.max(...records)}`,
    `bytes/answer med ${median(answers.map((a) => a.bytes))}`,
    `rtt med ${fmt(trace.rttMedian)} p90 ${fmt(percentile(answers.map((a) => a.rtt), 90))} ms`,
    `pauses ${pauses.length} [${pauses.map(([a, b]) => `at ${fmt(a - first)} for ${fmt(b - a)}`).join(', ')}] s`,
    `fetched ${fmt(trace.fillRate / 1e6)} M rec/s, kcat drained ${fmt(trace.drainRate / 1e6)} M rec/s before the first pause`,
  ].join(', ');
}
