// `kts transactions find-hanging` (Kafka's FindHangingTransactionsCommand): the open transactions
// that partitions hold but no coordinator will ever end. The partitions searched are one partition
// (--topic and --partition), a topic's (--topic) or every topic's, internal ones included, each kept
// only when --broker-id is one of its replicas. A producer whose open transaction there has been
// silent for longer than --max-transaction-timeout minutes (15) is a candidate (DescribeProducers,
// asked of --broker-id or each leader); it hangs when ListTransactions names no transactional id for
// its producer id, when its coordinator no longer knows that id, or when the coordinator's
// transaction does not include the partition. Printed as Kafka's table, in the order Kafka's maps
// iterate; any failed lookup ends the tool with Kafka's message and exit 1.
import type { KafkaClient } from '../../client/index.js';
import { kafkaError, type KafkaClientError } from '../../client/errors.js';
import { describeProducers, describeTransaction, listTransactions, type ProducerStateDescription, type TransactionDescription } from '../../client/transactions.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CliError } from '../errors.js';
import { javaHashMapOrder, javaHashOrder, javaLongHash, javaTopicPartitionHash } from '../java-hash-order.js';
import type { ParsedArgs } from '../options.js';
import type { ToolContext } from '../tool.js';

const HEADERS = ['Topic', 'Partition', 'ProducerId', 'ProducerEpoch', 'CoordinatorEpoch', 'StartOffset', 'LastTimestamp', 'Duration(min)'];
/** Kafka's batches: at most this many topics per DescribeTopics, partitions per DescribeProducers. */
const MAX_BATCH_SIZE = 500;
/** DescribeProducers requests in flight at once (one per partition here). */
const CONCURRENCY = 16;

interface TopicPartition {
  topic: string;
  partition: number;
}

interface OpenTransaction extends TopicPartition {
  producer: ProducerStateDescription;
}

type Failed = (message: string, cause: unknown) => CliError;

export async function findHanging(args: ParsedArgs, ctx: ToolContext, client: KafkaClient, failed: Failed, prettyTable: (h: string[], rows: string[][]) => string): Promise<number> {
  const brokerId = args.has('broker-id') ? args.int('broker-id')! : undefined;
  const topic = args.has('topic') ? args.str('topic')! : undefined;
  if (topic === undefined && brokerId === undefined) throw new CliError('The `find-hanging` command requires either --topic or --broker-id to limit the scope of the search');
  const partition = args.has('partition') ? args.int('partition')! : undefined;
  if (partition !== undefined && topic === undefined) throw new CliError('The --partition argument requires --topic to be provided');
  const maxTimeoutMs = (args.has('max-transaction-timeout') ? args.int('max-transaction-timeout')! : 15) * 60_000;

  const partitions = await ctx.out.spin('Finding the partitions', partitionsToSearch(client, topic, partition, brokerId, failed));
  const candidates = await ctx.out.spin('Describing producers', openTransactions(client, partitions, brokerId, maxTimeoutMs, failed));
  const hanging = candidates.length === 0 ? [] : await ctx.out.spin('Checking the coordinators', withoutCoordinator(client, candidates, failed));

  const now = Date.now();
  const rows = hanging.map((t) => [
    t.topic,
    String(t.partition),
    String(t.producer.producerId),
    String(t.producer.producerEpoch),
    String(t.producer.coordinatorEpoch),
    String(t.producer.currentTransactionStartOffset),
    String(t.producer.lastTimestamp),
    String(Math.trunc((now - t.producer.lastTimestamp) / 60_000)),
  ]);
  await ctx.out.print({
    plain: prettyTable(HEADERS, rows),
    json: {
      hangingTransactions: hanging.map((t, i) => ({
        topic: t.topic,
        partition: t.partition,
        producerId: t.producer.producerId,
        producerEpoch: t.producer.producerEpoch,
        coordinatorEpoch: t.producer.coordinatorEpoch,
        startOffset: t.producer.currentTransactionStartOffset,
        lastTimestamp: t.producer.lastTimestamp,
        durationMinutes: Number(rows[i][7]),
      })),
    },
    tables: [{ head: HEADERS, rows }],
  });
  return 0;
}

/** Kafka's collectTopicPartitionsToSearch: one partition as given, else the topics' partitions with a replica on the broker. */
async function partitionsToSearch(client: KafkaClient, topic: string | undefined, partition: number | undefined, brokerId: number | undefined, failed: Failed): Promise<TopicPartition[]> {
  if (topic !== undefined && partition !== undefined) return [{ topic, partition }];
  let topics: string[];
  if (topic !== undefined) topics = [topic];
  else {
    try {
      const md = await client.cluster.refresh(null);
      topics = javaHashMapOrder(md.topics.filter((t) => t.errorCode === 0).map((t) => t.name));
    } catch (err) {
      throw failed('Failed to list topics', err);
    }
  }
  const out: TopicPartition[] = [];
  for (let i = 0; i < topics.length; i += MAX_BATCH_SIZE) {
    const batch = topics.slice(i, i + MAX_BATCH_SIZE);
    let described;
    try {
      const md = await client.cluster.refresh(batch);
      const missing = md.topics.find((t) => t.errorCode !== ErrorCode.NONE);
      // The admin client's exception for the code (UnknownTopicOrPartitionException's own words).
      if (missing) throw kafkaError(missing.errorCode);
      described = md.topics;
    } catch (err) {
      throw failed(`Failed to describe ${batch.length} topics`, err);
    }
    // The admin client's DescribeTopics answer is a HashMap by topic name.
    const byName = new Map(described.map((t) => [t.name, t]));
    for (const name of javaHashMapOrder(batch.filter((n) => byName.has(n)))) {
      for (const p of byName.get(name)!.partitions) {
        if (brokerId === undefined || p.replicas.includes(brokerId)) out.push({ topic: name, partition: p.partition });
      }
    }
  }
  return out;
}

/** Kafka's collectCandidateOpenTransactions: producers with a transaction open and silent past the timeout. */
async function openTransactions(client: KafkaClient, partitions: TopicPartition[], brokerId: number | undefined, maxTimeoutMs: number, failed: Failed): Promise<OpenTransaction[]> {
  const out: OpenTransaction[] = [];
  for (let i = 0; i < partitions.length; i += MAX_BATCH_SIZE) {
    const batch = partitions.slice(i, i + MAX_BATCH_SIZE);
    const states = new Map<TopicPartition, ProducerStateDescription[]>();
    try {
      for (let j = 0; j < batch.length; j += CONCURRENCY) {
        await Promise.all(batch.slice(j, j + CONCURRENCY).map(async (tp) => states.set(tp, await describeProducers(client.cluster, tp.topic, tp.partition, { brokerId }))));
      }
    } catch (err) {
      throw failed(`Failed to describe producers for ${batch.length} partitions on broker ${brokerId === undefined ? 'Optional.empty' : `Optional[${brokerId}]`}`, err);
    }
    const now = Date.now();
    // DescribeProducersResult.all(): a HashMap sized for the batch, filled from the default-sized map of its futures.
    const futuresOrder = javaHashOrder(batch, javaTopicPartitionHash);
    for (const tp of javaHashOrder(futuresOrder, javaTopicPartitionHash, batch.length)) {
      for (const producer of states.get(tp)!) {
        if (producer.currentTransactionStartOffset >= 0 && now - producer.lastTimestamp > maxTimeoutMs) out.push({ ...tp, producer });
      }
    }
  }
  return out;
}

/** Kafka's filterHangingTransactions, after ListTransactions by producer id and DescribeTransactions of the ids found. */
async function withoutCoordinator(client: KafkaClient, candidates: OpenTransaction[], failed: Failed): Promise<OpenTransaction[]> {
  const byProducer = new Map<number, OpenTransaction[]>();
  for (const c of candidates) {
    const list = byProducer.get(c.producer.producerId) ?? [];
    list.push(c);
    byProducer.set(c.producer.producerId, list);
  }
  const producerIds = javaHashOrder([...byProducer.keys()], javaLongHash);
  const transactionalIds = new Map<number, string>();
  try {
    const listed = await listTransactions(client.cluster, { producerIdFilters: producerIds });
    for (const listings of listed.values()) for (const l of listings) if (byProducer.has(l.producerId)) transactionalIds.set(l.producerId, l.transactionalId);
  } catch (err) {
    throw failed(`Failed to list transactions for ${producerIds.length} producers`, err);
  }
  const descriptions = new Map<string, TransactionDescription | null>();
  const ids = [...transactionalIds.values()];
  try {
    for (const id of new Set(ids)) {
      try {
        descriptions.set(id, await describeTransaction(client.cluster, id));
      } catch (err) {
        if ((err as KafkaClientError).code !== ErrorCode.TRANSACTIONAL_ID_NOT_FOUND) throw err;
        descriptions.set(id, null);
      }
    }
  } catch (err) {
    throw failed(`Failed to describe ${ids.length} transactions`, err);
  }
  const hanging: OpenTransaction[] = [];
  for (const producerId of producerIds) {
    const open = byProducer.get(producerId)!;
    const id = transactionalIds.get(producerId);
    const description = id === undefined ? null : descriptions.get(id);
    if (!description) hanging.push(...open);
    else hanging.push(...open.filter((t) => !description.topicPartitions.some((tp) => tp.topic === t.topic && tp.partition === t.partition)));
  }
  return hanging;
}
