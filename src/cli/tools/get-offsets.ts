// The work of `kts get-offsets` (Kafka's GetOffsetShell): match topic-partitions, ListOffsets at
// --time, print `topic:partition:offset` sorted by the string `topic-partition`.
import { bootstrapFrom, connect, includeList, INTERNAL_TOPICS, readPropertiesFile, validateHostPorts } from '../connect.js';
import { CliError } from '../errors.js';
import type { ParsedArgs } from '../options.js';
import type { View } from '../output.js';
import type { ToolContext } from '../tool.js';

const NAMED_TIMES: Record<string, number> = { latest: -1, earliest: -2, 'max-timestamp': -3, 'earliest-local': -4, 'latest-tiered': -5 };

export function parseTime(text: string): number {
  if (text in NAMED_TIMES) return NAMED_TIMES[text];
  if (/^[+-]?\d+$/.test(text)) return Number(text);
  throw new CliError(
    `Malformed time argument ${text}. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp`,
  );
}

export interface PartitionFilter {
  topic: RegExp;
  partition(p: number): boolean;
}

/** `--topic-partitions 't1:1,t2:0-3,t3,t4:5-,:-3'`. */
export function parseTopicPartitions(spec: string): PartitionFilter[] {
  return spec.split(',').map((rule) => {
    const m = /^([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?$/.exec(rule);
    if (!m) throw new CliError(`Invalid rule specification: ${rule}`);
    const g = (i: number): string | undefined => (m[i] !== undefined && m[i] !== '' ? m[i] : undefined);
    const topic = includeList(g(1) ?? '.*');
    if (g(2) !== undefined) {
      const only = Number(g(2));
      return { topic, partition: (p) => p === only };
    }
    const lower = g(3) !== undefined ? Number(g(3)) : 0;
    const upper = g(4) !== undefined ? Number(g(4)) : 2147483647;
    return { topic, partition: (p) => p >= lower && p < upper };
  });
}

export function offsetsView(rows: { topic: string; partition: number; offset: number }[]): View {
  const sorted = [...rows].sort((a, b) => {
    const x = `${a.topic}-${a.partition}`;
    const y = `${b.topic}-${b.partition}`;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return {
    plain: sorted.map((r) => `${r.topic}:${r.partition}:${r.offset}\n`).join(''),
    json: { offsets: sorted },
    tables: [{ head: ['Topic', 'Partition', 'Offset'], rows: sorted.map((r) => [r.topic, r.partition, r.offset]) }],
  };
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  const target = bootstrapFrom(args, ctx.env, 'broker-list');
  validateHostPorts(target.bootstrap);
  if (args.has('topic-partitions') && (args.has('topic') || args.has('partitions'))) {
    throw new CliError('--topic-partitions cannot be used with --topic or --partitions');
  }
  const time = parseTime(args.str('time')!);
  let filters: PartitionFilter[];
  if (args.has('topic-partitions')) {
    filters = parseTopicPartitions(args.str('topic-partitions')!);
  } else {
    const partitionsText = args.str('partitions');
    let ids: Set<number> | null = null;
    if (partitionsText) {
      const parts = partitionsText.split(',');
      if (!parts.every((p) => /^[+-]?\d+$/.test(p))) {
        throw new CliError(`--partitions expects a comma separated list of numeric partition ids, but received: ${partitionsText}`);
      }
      ids = new Set(parts.map(Number));
    }
    filters = [{ topic: includeList(args.str('topic') ?? '.*'), partition: (p) => ids === null || ids.has(p) }];
  }
  const props = args.has('command-config') ? await readPropertiesFile(args.str('command-config')!) : new Map<string, string>();
  const client = await connect(ctx, target, props, 'GetOffsetShell');
  try {
    const exclude = args.has('exclude-internal-topics');
    const topics = (await client.admin.listTopics({ includeInternal: !exclude })).filter((t) => !(exclude && INTERNAL_TOPICS.has(t.name)));
    const wanted = topics.flatMap((t) =>
      t.partitions
        .filter((p) => filters.some((f) => f.topic.test(t.name) && f.partition(p.partition)))
        .map((p) => ({ topic: t.name, partition: p.partition, timestamp: time })),
    );
    if (wanted.length === 0) throw new CliError('Could not match any topic-partitions with the specified filters');
    const listed = await ctx.out.spin('Listing offsets', client.admin.listOffsets(wanted));
    const rows: { topic: string; partition: number; offset: number }[] = [];
    for (const l of listed) {
      if (l.error) {
        ctx.out.note(`Skip getting offsets for topic-partition ${l.topic}-${l.partition} due to error: ${l.error.javaString}`);
        continue;
      }
      if (l.offset !== -1) rows.push({ topic: l.topic, partition: l.partition, offset: l.offset });
    }
    await ctx.out.print(offsetsView(rows));
    return 0;
  } finally {
    client.close();
  }
}
