// The work of `kts consumer-groups` (Kafka's ConsumerGroupCommand). Usage problems exit 1 with
// usage on stderr; everything that goes wrong later is printed as Kafka prints it (on stdout,
// "\nError: ...") and, like Kafka, still exits 0 unless --strict is given.
import type { KafkaClient } from '../../client/index.js';
import { bootstrapFrom, connect, readPropertiesFile } from '../connect.js';
import { UsageError, oneLine } from '../errors.js';
import type { ParsedArgs } from '../options.js';
import type { View } from '../output.js';
import type { ToolContext } from '../tool.js';
import { deleteGroups, deleteOffsets, list, listConsumerGroups } from './admin-actions.js';
import { checkArgs, parseStates, parseTypes } from './args.js';
import { describeMembers, describeOffsets, describeState, type KafkaText, type Notes } from './describe.js';
import { resetOffsets } from './reset.js';
import { javaString } from './text.js';
import { watchOffsets, watchSeconds } from './watch.js';

/** --kafka-text, else $KTS_KAFKA_TEXT, else 3.9: whose tool's text --describe prints. */
function kafkaText(args: ParsedArgs, env: NodeJS.ProcessEnv): KafkaText {
  const given = args.str('kafka-text') ?? (env.KTS_KAFKA_TEXT || '3.9');
  if (given !== '3.9' && given !== '4.4') throw new UsageError(`Invalid value '${given}' for option kafka-text: expected one of 3.9, 4.4`);
  return given;
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  const action = checkArgs(args, (line) => ctx.out.note(line));
  const text = kafkaText(args, ctx.env);
  const strict = args.has('strict');
  const states = action === 'list' ? parseStates(args.str('state')) : [];
  const types = action === 'list' ? parseTypes(args.str('type')) : [];
  const props = args.has('command-config') ? await readPropertiesFile(args.str('command-config')!) : new Map<string, string>();
  const notes: Notes = { stderr: [], failed: false };
  let client: KafkaClient | undefined;
  let view: View;
  try {
    client = await connect(ctx, bootstrapFrom(args, ctx.env), props, 'kts-consumer-groups');
    const groups = async () => (args.has('all-groups') ? (await listConsumerGroups(client!)).map((g) => g.groupId) : args.all('group'));
    switch (action) {
      case 'list':
        view = await list(client, { withState: args.has('state'), withType: args.has('type'), states, types });
        break;
      case 'describe': {
        if (args.has('watch')) return await watchOffsets(client, groups, watchSeconds(args.str('watch')), ctx);
        const ids = await groups();
        if (args.has('members')) view = await describeMembers(client, ids, args.has('verbose'), notes, text);
        else if (args.has('state')) view = await describeState(client, ids, notes, text, args.has('verbose'));
        else view = await describeOffsets(client, ids, notes, text === '4.4' && args.has('verbose'));
        break;
      }
      case 'delete':
        view = await deleteGroups(client, await groups(), notes);
        break;
      case 'reset-offsets':
        view = await resetOffsets(client, args, await groups(), notes);
        break;
      case 'delete-offsets':
        view = await deleteOffsets(client, args.str('group')!, args.all('topic'), notes);
        break;
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    for (const line of notes.stderr) ctx.out.note(line);
    if (process.env.KTS_DEBUG && err instanceof Error && err.stack) ctx.out.note(err.stack);
    const message = `Executing consumer group command failed due to ${oneLine(javaString(err))}`;
    const exitCode = strict ? 1 : 0;
    // The same error document as every other tool's (tool.ts), with this tool's exit code.
    if (ctx.out.mode === 'json' || ctx.out.mode === 'jsonl') ctx.out.write(`${JSON.stringify({ error: { message, exitCode } })}\n`);
    else if (ctx.out.interactive) ctx.out.error(`Error: ${message}`, (err as { hint?: string }).hint);
    else ctx.out.write(`\nError: ${message}\n`);
    return exitCode;
  } finally {
    client?.close();
  }
  for (const line of notes.stderr) ctx.out.note(line);
  await ctx.out.print(view);
  return strict && notes.failed ? 1 : 0;
}
