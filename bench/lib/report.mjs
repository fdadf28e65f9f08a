// Output of the bench: console table, bench/results.json, bench/RESULTS.md and bench/chart.svg.
import { readFileSync, writeFileSync } from 'node:fs';

const fmt = (v, unit) => {
  if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return 'n/a';
  if (typeof v === 'string') return v;
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
  return `${v.toFixed(digits)}${unit ? ' ' + unit : ''}`;
};

/** met / NOT MET for a goal; report for a figure without one; why there is no verdict otherwise. */
export function verdict(row) {
  if (row.verdict) return row.verdict;
  if (row.met === true) return 'met';
  if (row.met === false) return 'NOT MET';
  if (!row.goal) return typeof row.kts === 'number' && !Number.isFinite(row.kts) ? 'not measured' : 'report';
  return typeof row.kts === 'number' && Number.isFinite(row.kts) ? 'no reference' : 'not measured';
}

export function tableLines(rows) {
  const head = ['scenario', 'kts', 'reference', 'ratio', 'goal', 'result'];
  const body = rows.map((r) => [
    r.scenario,
    fmt(r.kts, r.unit),
    r.ref === undefined ? '' : `${fmt(r.ref, r.refUnit ?? r.unit)}${r.refName ? ` (${r.refName})` : ''}`,
    r.ratio === undefined ? '' : Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}x` : 'n/a',
    r.goal ?? '',
    verdict(r) + (r.note ? ` — ${r.note}` : ''),
  ]);
  return { head, body };
}

export function printTable(rows) {
  const { head, body } = tableLines(rows);
  const widths = head.map((h, i) => Math.min(70, Math.max(h.length, ...body.map((b) => b[i].length))));
  const line = (cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

export function markdownTable(rows) {
  const { head, body } = tableLines(rows);
  const esc = (s) => s.replace(/\|/g, '\\|');
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((b) => `| ${b.map(esc).join(' | ')} |`)].join('\n');
}

const xml = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Hand-written SVG: one bar per scenario with a numeric ratio goal, drawn as a fraction of its
 * goal (goal = the dashed line; for "higher is better" goals the bar is goal/ratio so that left of
 * the line is always good).
 */
export function chartSvg(rows, subtitle) {
  const items = rows.filter((r) => Number.isFinite(r.score));
  const rowH = 26;
  const left = 360;
  const barMax = 420; // width of 2.0 x goal
  const top = 58;
  const width = left + barMax + 230;
  const height = top + items.length * rowH + 40;
  const x = (s) => left + (Math.min(s, 2) / 2) * barMax;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="12" y="22" font-size="16" font-weight="bold">kts benchmarks: measured / goal (left of the dashed line = goal met)</text>`);
  out.push(`<text x="12" y="42" fill="#555">${xml(subtitle)}</text>`);
  items.forEach((r, i) => {
    const y = top + i * rowH;
    const met = r.met === true;
    out.push(`<text x="${left - 8}" y="${y + 16}" text-anchor="end">${xml(r.scenario.length > 56 ? r.scenario.slice(0, 55) + '…' : r.scenario)}</text>`);
    out.push(`<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(r.score) - left).toFixed(1)}" height="${rowH - 8}" fill="${met ? '#3a9d5d' : '#d9534f'}"/>`);
    const label = `${r.display}${r.score > 2 ? ' (off scale)' : ''}`;
    out.push(`<text x="${(x(r.score) + 6).toFixed(1)}" y="${y + 16}" fill="#333">${xml(label)}</text>`);
  });
  const gx = x(1);
  out.push(`<line x1="${gx}" y1="${top - 4}" x2="${gx}" y2="${top + items.length * rowH}" stroke="#000" stroke-dasharray="4 3"/>`);
  out.push(`<text x="${gx}" y="${top + items.length * rowH + 16}" text-anchor="middle" fill="#333">goal</text>`);
  out.push(`<line x1="${left}" y1="${top - 4}" x2="${left}" y2="${top + items.length * rowH}" stroke="#999"/>`);
  out.push(`<text x="${x(2)}" y="${top + items.length * rowH + 16}" text-anchor="end" fill="#333">2x goal</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** One sentence on how busy the machine was (1-minute load average against the core count). */
export function loadSentence(machine) {
  const cores = Number(machine.nproc) || 1;
  const peak = Math.max(...[machine.loadStart, machine.loadEnd].map((l) => Number(String(l ?? '0').split(' ')[0])));
  return peak > cores * 0.5
    ? `The machine was shared (1-minute load up to ${peak.toFixed(1)} on ${cores} cores): numbers are noisy; each figure is the median of its rounds.`
    : `The machine was quiet (1-minute load at most ${peak.toFixed(1)} on ${cores} cores).`;
}

export function summaryLine(rows) {
  const count = (v) => rows.filter((r) => verdict(r) === v).length;
  return `${count('met')} met, ${count('NOT MET')} NOT MET, ${count('report')} report only, ${count('not measured') + count('no reference')} without a verdict (not measured or no reference)`;
}

/**
 * The block README.md carries between `<!-- bench:start -->` and `<!-- bench:end -->`: date,
 * machine, load, the table and the chart. Returns false when README.md has no such markers.
 */
export function updateReadme(readmePath, { rows, machine, started, durationS, command }) {
  let text;
  try {
    text = readFileSync(readmePath, 'utf8');
  } catch {
    return false;
  }
  const a = text.indexOf('<!-- bench:start -->');
  const b = text.indexOf('<!-- bench:end -->');
  if (a < 0 || b < a) return false;
  const block = [
    '<!-- bench:start -->',
    `Latest \`${command}\` run: ${started.slice(0, 16).replace('T', ' ')} UTC, ${durationS.toFixed(0)} s, on ${machine.cpu} (\`nproc\` ${machine.nproc}, ${machine.memTotal ?? '?'} RAM), Node ${machine.node}; load average ${machine.loadStart} at start, ${machine.loadEnd} at end. ${loadSentence(machine)} ${summaryLine(rows)}. Details and notes: [bench/RESULTS.md](bench/RESULTS.md).`,
    '',
    markdownTable(rows),
    '',
    '![kts benchmarks: measured / goal](bench/chart.svg)',
    '',
  ].join('\n');
  writeFileSync(readmePath, text.slice(0, a) + block + text.slice(b));
  return true;
}

export function writeOutputs(dir, { rows, machine, extra, started, durationS, command }) {
  writeFileSync(`${dir}/results.json`, JSON.stringify({ date: started, durationS, command, machine, rows, extra }, null, 2) + '\n');
  const subtitle = `${started.slice(0, 16).replace('T', ' ')} UTC · ${machine.cpu} · ${machine.nproc} cores · load ${machine.loadStart} at start, ${machine.loadEnd} at end`;
  writeFileSync(`${dir}/chart.svg`, chartSvg(rows, subtitle));
  const md = [];
  md.push('# kts benchmark results');
  md.push('');
  md.push(`Produced by \`${command}\` (bench/run.mjs) on ${started} in ${durationS.toFixed(0)} s.`);
  md.push('');
  md.push('## Machine');
  md.push('');
  md.push(`- CPU: ${machine.cpu}, \`nproc\` = ${machine.nproc}`);
  md.push(`- Memory (\`free -h\`):`);
  md.push('');
  md.push('```');
  md.push(machine.free.trimEnd());
  md.push('```');
  md.push('');
  md.push(`- Node ${machine.node}, ${machine.kernel}; ${machine.librdkafka === 'not installed' ? 'kcat not installed' : machine.librdkafka}`);
  md.push(`- Load average (1, 5, 15 min) at start: ${machine.loadStart}; at end: ${machine.loadEnd}. ${loadSentence(machine)}`);
  if (extra.timings) md.push(`- Time per scenario (s): ${Object.entries(extra.timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
  md.push('');
  md.push('## Results');
  md.push('');
  md.push(`${summaryLine(rows)}.`);
  md.push('');
  md.push('Ratios are kts / reference (lower is better) unless the goal says ">=". "NOT MET" rows are goals the current code misses; "report" rows have no goal; "not measured" rows say why.');
  md.push('');
  md.push(markdownTable(rows));
  md.push('');
  md.push('![chart](chart.svg)');
  md.push('');
  if (extra.notes?.length) {
    md.push('## Notes');
    md.push('');
    for (const n of extra.notes) md.push(`- ${n}`);
    md.push('');
  }
  for (const [name, text] of Object.entries(extra.external ?? {})) {
    md.push(`## ${name}`);
    md.push('');
    md.push('```');
    md.push(String(text).trimEnd());
    md.push('```');
    md.push('');
  }
  writeFileSync(`${dir}/RESULTS.md`, md.join('\n'));
}
