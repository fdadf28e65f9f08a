// node bench/readme.mjs — puts the table of bench/results.json (date, machine, load, rows, chart)
// between README.md's `<!-- bench:start -->` and `<!-- bench:end -->` markers. `npm run bench` does
// this itself at the end of a full run; this is for results produced elsewhere (a fresh clone) and
// copied into this tree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { updateReadme } from './lib/report.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const r = JSON.parse(readFileSync(join(ROOT, 'bench', 'results.json'), 'utf8'));
const ok = updateReadme(join(ROOT, 'README.md'), { rows: r.rows, machine: r.machine, started: r.date, durationS: r.durationS, command: r.command });
if (!ok) {
  console.error('README.md has no <!-- bench:start --> ... <!-- bench:end --> markers: add them where the table should go.');
  process.exit(1);
}
console.log(`README.md: table of the ${r.date} run (${r.rows.length} rows) written between the bench markers`);
