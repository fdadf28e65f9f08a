// The work of `kts transactions` (Kafka's TransactionsCommand): `list` and `describe`, printed as
// Kafka's ToolsUtils.prettyPrintTable does (each column padded to its widest cell, every cell
// followed by a tab), and `abort` of a transaction named by producer id, epoch and coordinator
// epoch (WriteTxnMarkers to the partition's leader) or by the start offset of its open transaction
// there (found with DescribeProducers), and `describe-producers` (DescribeProducers to the leader or
// --broker-id), and `find-hanging` (transactions-find-hanging.ts).
import type { KafkaClient } from '../../client/index.js';
import { abortTransaction, describeProducers, describeTransaction, listTransactions } from '../../client/transactions.js';
import type { KafkaClientError } from '../../client/errors.js';
import { bootstrapFrom, connect, readPropertiesFile } from '../connect.js';
import { CliError, UsageError } from '../errors.js';
import type { ParsedArgs } from '../options.js';
import type { ToolContext } from '../tool.js';
import { javaTopicPartitionOrder } from './leader-election.js';
import { findHanging } from './transactions-find-hanging.js';

const COMMANDS = ['list', 'describe', 'describe-producers', 'abort', 'find-hanging'];
const LIST_HEADERS = ['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'];
const PRODUCER_HEADERS = ['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset'];
const DESCRIBE_HEADERS = [
  'CoordinatorId',
  'TransactionalId',
  'ProducerId',
  'ProducerEpoch',
  'TransactionState',
  'TransactionTimeoutMs',
  'CurrentTransactionStartTimeMs',
  'TransactionDurationMs',
  'TopicPartitions',
];

/** Kafka's ToolsUtils.prettyPrintTable. */
export function prettyTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (row: string[]) => `${row.map((cell, i) => `${cell.padEnd(widths[i])}\t`).join('')}\n`;
  return line(headers) + rows.map(line).join('');
}

/** What Kafka's tool prints before exiting 1: the message, the cause's, and its advice. */
const failed = (message: string, cause: unknown) => new CliError(`${message}: ${(cause as Error).message}. Enable debug logging for additional detail.`);

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  const [command, ...extra] = args.positional;
  if (command === undefined) throw new UsageError('kafka-transactions.sh: error: too few arguments');
  if (!COMMANDS.includes(command)) throw new UsageError(`kafka-transactions.sh: error: argument COMMAND: invalid choice: '${command}' (choose from ${COMMANDS.map((c) => `'${c}'`).join(', ')})`);
  if (extra.length > 0) throw new UsageError(`kafka-transactions.sh: error: unrecognized arguments: '${extra.join(' ')}'`);
  if (command === 'describe' && !args.has('transactional-id')) throw new UsageError('kafka-transactions.sh: error: argument --transactional-id is required');
  if (command === 'abort' || command === 'describe-producers') {
    if (!args.has('topic')) throw new UsageError('kafka-transactions.sh: error: argument --topic is required');
    if (!args.has('partition')) throw new UsageError('kafka-transactions.sh: error: argument --partition is required');
  }
  const props = args.has('command-config') ? await readPropertiesFile(args.str('command-config')!) : new Map<string, string>();
  const client = await connect(ctx, bootstrapFrom(args, ctx.env), props, 'kts-transactions');
  try {
    if (command === 'abort') return await abort(args, ctx, client);
    if (command === 'describe-producers') return await producers(args, ctx, client);
    if (command === 'find-hanging') return await findHanging(args, ctx, client, failed, prettyTable);
    if (command === 'list') {
      const duration = args.has('duration-filter') ? Number(args.str('duration-filter')) : -1;
      let byBroker;
      try {
        byBroker = await ctx.out.spin('Listing transactions', listTransactions(client.cluster, { durationFilterMs: duration }));
      } catch (err) {
        throw failed('Failed to list transactions', err);
      }
      const rows = [...byBroker].flatMap(([broker, listings]) => listings.map((l) => [l.transactionalId, String(broker), String(l.producerId), l.state]));
      await ctx.out.print({
        plain: prettyTable(LIST_HEADERS, rows),
        json: { transactions: rows.map(([transactionalId, coordinator, producerId, state]) => ({ transactionalId, coordinator: Number(coordinator), producerId: Number(producerId), state })) },
        tables: [{ head: LIST_HEADERS, rows }],
      });
      return 0;
    }
    const id = args.str('transactional-id')!;
    let d;
    try {
      d = await ctx.out.spin('Describing the transaction', describeTransaction(client.cluster, id));
    } catch (err) {
      throw failed(`Failed to describe transaction state of transactional-id \`${id}\``, err as KafkaClientError);
    }
    const started = d.transactionStartTimeMs >= 0 ? d.transactionStartTimeMs : null;
    const durationMs = started === null ? null : Date.now() - started;
    // The admin client collects the partitions in a HashSet: Java's iteration order.
    const partitions = javaTopicPartitionOrder(d.topicPartitions).map((tp) => `${tp.topic}-${tp.partition}`);
    const row = [String(d.coordinatorId), id, String(d.producerId), String(d.producerEpoch), d.state, String(d.transactionTimeoutMs), started === null ? 'None' : String(started), durationMs === null ? 'None' : String(durationMs), partitions.join(',')];
    await ctx.out.print({
      plain: prettyTable(DESCRIBE_HEADERS, [row]),
      json: {
        coordinatorId: d.coordinatorId,
        transactionalId: id,
        producerId: d.producerId,
        producerEpoch: d.producerEpoch,
        state: d.state,
        transactionTimeoutMs: d.transactionTimeoutMs,
        transactionStartTimeMs: started,
        transactionDurationMs: durationMs,
        topicPartitions: partitions,
      },
      tables: [{ head: DESCRIBE_HEADERS, rows: [row] }],
    });
    return 0;
  } finally {
    client.close();
  }
}

/** Kafka's AbortTransactionCommand with the explicit producer (the form for any broker): prints nothing on success. */
async function abort(args: ParsedArgs, ctx: ToolContext, client: KafkaClient): Promise<number> {
  const topic = args.str('topic')!;
  const partition = args.int('partition')!;
  if (!args.has('start-offset') && !args.has('producer-id')) {
    throw new CliError('The transaction to abort must be identified either with --start-offset (for brokers on 3.0 or above) or with --producer-id, --producer-epoch, and --coordinator-epoch (for older brokers)');
  }
  let spec: { topic: string; partition: number; producerId: number; producerEpoch: number; coordinatorEpoch: number };
  if (args.has('start-offset')) {
    // Kafka's buildAbortSpec: the producer whose open transaction starts there, as the leader knows it.
    const startOffset = Number(args.str('start-offset'));
    let states;
    try {
      states = await ctx.out.spin('Finding the transaction', describeProducers(client.cluster, topic, partition));
    } catch (err) {
      throw failed(`Failed to validate producer state for partition ${topic}-${partition}`, err);
    }
    const found = states.find((s) => s.currentTransactionStartOffset >= 0 && s.currentTransactionStartOffset === startOffset);
    if (!found) throw new CliError(`Could not find any open transactions starting at offset ${startOffset} on partition ${topic}-${partition}`);
    spec = { topic, partition, producerId: found.producerId, producerEpoch: found.producerEpoch, coordinatorEpoch: Math.max(0, found.coordinatorEpoch) };
  } else {
    if (!args.has('producer-epoch')) throw new CliError('Missing required argument --producer-epoch');
    if (!args.has('coordinator-epoch')) throw new CliError('Missing required argument --coordinator-epoch');
    spec = { topic, partition, producerId: Number(args.str('producer-id')), producerEpoch: args.int('producer-epoch')!, coordinatorEpoch: args.int('coordinator-epoch')! };
  }
  try {
    await ctx.out.spin('Aborting the transaction', abortTransaction(client.cluster, spec));
  } catch (err) {
    throw failed(`Failed to abort transaction AbortTransactionSpec(topicPartition=${topic}-${partition}, producerId=${spec.producerId}, producerEpoch=${spec.producerEpoch}, coordinatorEpoch=${spec.coordinatorEpoch})`, err);
  }
  await ctx.out.print({ plain: '', json: { aborted: { topic, partition, producerId: spec.producerId, producerEpoch: spec.producerEpoch, coordinatorEpoch: spec.coordinatorEpoch } } });
  return 0;
}

/** Kafka's DescribeProducersCommand: the partition's producers, "None" for no open transaction. */
async function producers(args: ParsedArgs, ctx: ToolContext, client: KafkaClient): Promise<number> {
  const topic = args.str('topic')!;
  const partition = args.int('partition')!;
  const brokerId = args.has('broker-id') ? args.int('broker-id')! : undefined;
  let states;
  try {
    states = await ctx.out.spin('Describing producers', describeProducers(client.cluster, topic, partition, { brokerId }));
  } catch (err) {
    throw failed(`Failed to describe producers for partition ${topic}-${partition} on ${brokerId === undefined ? 'leader' : `broker ${brokerId}`}`, err);
  }
  const rows = states.map((s) => [
    String(s.producerId),
    String(s.producerEpoch),
    String(s.coordinatorEpoch),
    String(s.lastSequence),
    String(s.lastTimestamp),
    s.currentTransactionStartOffset >= 0 ? String(s.currentTransactionStartOffset) : 'None',
  ]);
  await ctx.out.print({
    plain: prettyTable(PRODUCER_HEADERS, rows),
    json: {
      producers: states.map((s) => ({
        producerId: s.producerId,
        producerEpoch: s.producerEpoch,
        coordinatorEpoch: s.coordinatorEpoch,
        lastSequence: s.lastSequence,
        lastTimestamp: s.lastTimestamp,
        currentTransactionStartOffset: s.currentTransactionStartOffset >= 0 ? s.currentTransactionStartOffset : null,
      })),
    },
    tables: [{ head: PRODUCER_HEADERS, rows }],
  });
  return 0;
}
