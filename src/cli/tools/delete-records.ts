// The work of `kts delete-records` (Kafka's DeleteRecordsCommand).
import { readFile } from 'node:fs/promises';
import { bootstrapFrom, connect, readPropertiesFile } from '../connect.js';
import { errorName } from '../../protocol/errors.js';
import { CliError } from '../errors.js';
import { log4jLine } from '../log.js';
import { requireOptions, type ParsedArgs } from '../options.js';
import type { ToolContext } from '../tool.js';

export interface OffsetRequest {
  topic: string;
  partition: number;
  offset: number;
}

/** The offset JSON file: {"partitions": [{"topic", "partition", "offset"}], "version": 1}. */
export function parseOffsetJson(text: string): OffsetRequest[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CliError(`The offset json file is not valid JSON: ${(err as Error).message}`);
  }
  const d = doc as { version?: unknown; partitions?: unknown };
  if (typeof d !== 'object' || d === null) throw new CliError('The offset json file must hold a JSON object');
  if (d.version !== undefined && d.version !== 1) throw new CliError(`Not supported version field value ${String(d.version)}`);
  if (!Array.isArray(d.partitions)) throw new CliError('The offset json file is missing the "partitions" list');
  const out = (d.partitions as unknown[]).map((p) => {
    const e = p as { topic?: unknown; partition?: unknown; offset?: unknown };
    if (typeof e?.topic !== 'string' || !Number.isInteger(e.partition) || !Number.isInteger(e.offset)) {
      throw new CliError(`Each partition needs "topic" (string), "partition" and "offset" (integers): ${JSON.stringify(p)}`);
    }
    return { topic: e.topic, partition: e.partition as number, offset: e.offset as number };
  });
  const seen = new Set<string>();
  const dups: string[] = [];
  for (const r of out) {
    const k = `${r.topic}-${r.partition}`;
    if (seen.has(k) && !dups.includes(k)) dups.push(k);
    seen.add(k);
  }
  if (dups.length > 0) throw new CliError(`Offset json file contains duplicate topic partitions: ${dups.join(',')}`);
  return out;
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  requireOptions(args, 'offset-json-file');
  const path = args.str('offset-json-file')!;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError((err as NodeJS.ErrnoException).code === 'ENOENT' ? `${path} (No such file or directory)` : (err as Error).message);
  }
  const requests = parseOffsetJson(text);
  const props = args.has('command-config') ? await readPropertiesFile(args.str('command-config')!) : new Map<string, string>();
  const client = await connect(ctx, bootstrapFrom(args, ctx.env), props, 'kts-delete-records');
  try {
    const plainMode = ctx.out.mode === 'plain' || ctx.out.mode === 'table';
    if (plainMode) ctx.out.write('Executing records delete operation\n');
    const results = await ctx.out.spin('Deleting records', client.admin.deleteRecords(requests));
    // Kafka's admin client logs every partition that failed for a reason it will not retry.
    for (const r of results) {
      if (!r.error || r.error.retriable || r.error.code === undefined) continue;
      const message = `[AdminClient clientId=${props.get('client.id') ?? 'adminclient-1'}] DeleteRecords request for topic partition ${r.topic}-${r.partition} failed due to an unexpected error ${errorName(r.error.code)}`;
      ctx.out.stderr.write(log4jLine('ERROR', message, 'org.apache.kafka.clients.admin.internals.DeleteRecordsHandler'));
    }
    const lines = ['Records delete operation completed:'];
    for (const r of results) {
      lines.push(r.error ? `partition: ${r.topic}-${r.partition}\terror: ${r.error.javaString}` : `partition: ${r.topic}-${r.partition}\tlow_watermark: ${r.lowWatermark}`);
    }
    await ctx.out.print({
      plain: lines.map((l) => `${l}\n`).join(''),
      json: {
        partitions: results.map((r) => (r.error ? { topic: r.topic, partition: r.partition, error: r.error.javaString } : { topic: r.topic, partition: r.partition, lowWatermark: r.lowWatermark })),
      },
    });
    return 0;
  } finally {
    client.close();
  }
}
