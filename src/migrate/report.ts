// What `kts migrate` prints: a progress bar while copying (on a terminal) and the final report, as
// lines (piped), tables (terminal) or one JSON document (--output json).
import type { ToolContext } from '../cli/tool.js';
import type { CopyProgress } from './copier.js';
import type { MigrationResult } from './run.js';

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** `[██████░░░░░░]  52%  104,000 records  9.8 MB  3.1 MB/s` */
export function progressBar(p: CopyProgress, elapsedMs: number, width = 24): string {
  const fraction = p.offsetsTotal > 0 ? Math.min(1, p.offsetsDone / p.offsetsTotal) : 1;
  const filled = Math.round(fraction * width);
  const rate = elapsedMs > 0 ? p.bytes / (elapsedMs / 1000) : 0;
  return `Copying [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${p.records.toLocaleString('en-US')} records  ${mb(p.bytes)}  ${mb(rate)}/s`;
}

export async function printReport(ctx: ToolContext, r: MigrationResult): Promise<void> {
  const topicRecords = (name: string) => r.plan.topics.find((t) => t.name === name)!.copies.reduce((n, p) => n + p.records, 0);
  const topicBytes = (name: string) => r.plan.topics.find((t) => t.name === name)!.copies.reduce((n, p) => n + p.bytes, 0);
  const upTo = (name: string) => r.plan.topics.find((t) => t.name === name)!.copies.reduce((n, p) => n + Math.max(0, p.end - p.srcNext), 0);
  const configText = (c: Record<string, string>) => Object.entries(c).map(([k, v]) => `${k}=${v}`).join(',');
  const lines: string[] = [];
  for (const t of r.plan.topics) {
    const configs = Object.keys(t.configs).length > 0 ? ` (${configText(t.configs)})` : '';
    if (r.dryRun) {
      const what = t.action === 'create' ? `would create with ${t.partitions} partitions${configs}` : t.action === 'resume' ? 'copied before, would resume' : 'exists empty on the target, would fill';
      lines.push(`Topic ${t.name}: ${what}; up to ${upTo(t.name)} offsets to copy.`);
    } else {
      const what = t.action === 'create' ? `created with ${t.partitions} partitions${configs}` : t.action === 'resume' ? 'resumed' : 'filled (it existed empty)';
      lines.push(`Topic ${t.name}: ${what}; copied ${topicRecords(t.name)} records (${mb(topicBytes(t.name))}).`);
    }
  }
  for (const g of r.groups) {
    if (r.dryRun) lines.push(`Group ${g.groupId}: would translate the committed offsets of ${g.offsets.length} partitions.`);
    else if (g.error) lines.push(`Group ${g.groupId}: offsets NOT committed: ${g.error}`);
    else lines.push(`Group ${g.groupId}: committed the offsets of ${g.offsets.length} partitions (${g.offsets.map((o) => `${o.topic}-${o.partition} ${o.source}->${o.target}`).join(', ')}).`);
  }
  const summary = r.dryRun
    ? `Dry run: ${r.plan.topics.length} topics and ${r.groups.length} groups would be migrated; nothing was written.`
    : `Migrated ${r.records} records (${mb(r.bytes)}) of ${r.plan.topics.length} topics and the offsets of ${r.groups.filter((g) => !g.error).length} groups in ${(r.elapsedMs / 1000).toFixed(1)} s.`;
  lines.push(summary);
  await ctx.out.print({
    plain: lines.map((l) => `${l}\n`).join(''),
    json: {
      dryRun: r.dryRun,
      topics: r.plan.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions,
        action: t.action,
        configs: t.configs,
        ...(r.dryRun ? { offsetsToCopy: upTo(t.name) } : { records: topicRecords(t.name), bytes: topicBytes(t.name) }),
      })),
      groups: r.groups.map((g) => ({ groupId: g.groupId, offsets: g.offsets, ...(g.error ? { error: g.error } : {}) })),
      records: r.records,
      bytes: r.bytes,
      elapsedMs: r.elapsedMs,
    },
    tables: [
      {
        head: ['TOPIC', 'PARTITIONS', 'ACTION', r.dryRun ? 'OFFSETS TO COPY' : 'RECORDS', r.dryRun ? 'CONFIGS' : 'BYTES'],
        rows: r.plan.topics.map((t) => [
          t.name,
          String(t.partitions),
          r.dryRun ? `${t.action} (planned)` : t.action,
          String(r.dryRun ? upTo(t.name) : topicRecords(t.name)),
          r.dryRun ? configText(t.configs) || '-' : mb(topicBytes(t.name)),
        ]),
        empty: 'No topics to migrate.',
      },
      {
        head: ['GROUP', 'PARTITION', 'SOURCE OFFSET', 'TARGET OFFSET'],
        rows: r.groups.flatMap((g) =>
          g.offsets.map((o) => [g.groupId, `${o.topic}-${o.partition}`, String(o.source), g.error ? { text: 'not committed', tone: 'bad' as const } : String(o.target ?? '-')]),
        ),
        empty: 'No consumer groups with committed offsets.',
      },
    ],
    done: summary,
  });
}
