// The work of `kts console-producer` (Kafka's ConsoleProducer): read stdin to EOF, one record per
// line (LineMessageReader) or per JSONL object, send asynchronously in batches, flush, exit 0.
// Send failures are logged like Kafka's ErrorLoggingCallback and do not change the exit code
// (Kafka's behaviour); with --sync the first failure ends the run with exit 1.
import { createInterface } from 'node:readline';
import type { KafkaClient, Producer, ProduceRecord, RecordMetadata } from '../../client/index.js';
import type { Properties } from '../../config/properties.js';
import { bootstrapFrom, connect, mergedProperties, validateHostPorts } from '../connect.js';
import { CliError, UsageError, oneLine } from '../errors.js';
import { log4jLine } from '../log.js';
import { requireOptions, type ParsedArgs } from '../options.js';
import { parseJsonRecord } from '../records/jsonl.js';
import { LineMessageReader, type ProducerInput } from '../records/line-reader.js';
import type { ToolContext } from '../tool.js';

const CODECS: Record<string, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };
const LINE_READERS = new Set(['kafka.tools.ConsoleProducer$LineMessageReader', 'org.apache.kafka.tools.LineMessageReader']);

/** Producer settings: an explicit option wins, then --producer-property/--producer.config, then the option's default. */
export function producerSettings(args: ParsedArgs, props: Properties) {
  const pick = (key: string, ...options: string[]): string => {
    const given = options.find((o) => args.has(o));
    if (given !== undefined) return args.str(given)!;
    if (props.has(key)) return props.get(key)!;
    return args.str(options[0])!;
  };
  let compression: string;
  if (args.has('compression-codec')) compression = args.str('compression-codec') || 'gzip';
  else compression = props.get('compression.type') ?? 'none';
  const codec = CODECS[compression.trim().toLowerCase()];
  if (codec === undefined) {
    throw new CliError(`Invalid value ${compression} for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd`);
  }
  const acksText = pick('acks', 'request-required-acks').trim();
  const acks = acksText === 'all' ? -1 : Number(acksText);
  if (![-1, 0, 1].includes(acks) || !/^(-?1|0|all)$/.test(acksText)) {
    throw new CliError(`Invalid value ${acksText} for configuration acks: String must be one of: all, -1, 0, 1`);
  }
  const num = (key: string, ...options: string[]): number => {
    const v = pick(key, ...options);
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v)) throw new CliError(`Invalid value ${v} for configuration ${key}: Not a number of type INT`);
    return n;
  };
  return {
    acks,
    compression: codec,
    batchSize: num('batch.size', args.has('batch-size') ? 'batch-size' : 'max-partition-memory-bytes'),
    lingerMs: num('linger.ms', 'timeout'),
    retries: num('retries', 'message-send-max-retries'),
    retryBackoffMs: num('retry.backoff.ms', 'retry-backoff-ms'),
    requestTimeoutMs: num('request.timeout.ms', 'request-timeout-ms'),
    maxBlockMs: num('max.block.ms', 'max-block-ms'),
    bufferMemory: num('buffer.memory', 'max-memory-bytes'),
    maxRequestSize: props.has('max.request.size') ? Number(props.get('max.request.size')) : 1048576,
  };
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  requireOptions(args, 'topic');
  const topic = args.str('topic')!;
  const target = bootstrapFrom(args, ctx.env, 'broker-list');
  validateHostPorts(target.bootstrap);
  const input = args.str('input')!;
  if (input !== 'lines' && input !== 'jsonl') throw new UsageError(`Invalid value '${input}' for option input: expected lines or jsonl`);
  const readerClass = args.str('line-reader')!;
  if (!LINE_READERS.has(readerClass)) throw new CliError(`kts has no line reader ${readerClass}; use the default LineMessageReader or --input jsonl`);

  // Kafka 4.2+ (KIP-1147) spells them --reader-property, --command-config/--command-property.
  const readerProps = await mergedProperties(args.str('reader-config'), [...args.all('property'), ...args.all('reader-property')]);
  const producerProps = await mergedProperties(args.str('command-config') ?? args.str('producer.config'), [...args.all('producer-property'), ...args.all('command-property')]);
  const settings = producerSettings(args, producerProps);
  const reader = new LineMessageReader(readerProps);
  const parse = input === 'jsonl' ? (line: string, n: number) => parseJsonRecord(line, n) : (line: string, n: number) => reader.parse(line, n);

  const client = await connect(ctx, target, producerProps, producerProps.get('client.id') ?? 'console-producer');
  const producer = client.producer(settings);
  const prompt = Boolean(ctx.stdin.isTTY && ctx.out.stdout.isTTY) && ctx.out.mode !== 'json';
  let sent = 0;
  let failed = 0;
  let stopping = false;

  const logFailure = (rec: ProduceRecord, err: unknown): void => {
    failed++;
    const size = (b: Buffer | null | undefined): string => (b == null ? 'null' : `${b.length} bytes`);
    const e = err as { javaString?: string };
    ctx.out.stderr.write(
      log4jLine('ERROR', `Error when sending message to topic ${topic} with key: ${size(rec.key)}, value: ${size(rec.value)} with error: `, 'org.apache.kafka.clients.producer.internals.ErrorLoggingCallback') +
        `${e.javaString ?? oneLine(err)}\n`,
    );
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    // Like Kafka's shutdown hook: close the producer (which sends what is buffered), then exit.
    void producer.flush().finally(() => {
      client.close();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const rl = createInterface({ input: ctx.stdin, crlfDelay: Infinity, terminal: false });
    let lineNumber = 0;
    if (prompt) ctx.out.write('>');
    for await (const line of rl) {
      lineNumber++;
      let rec: ProducerInput | null;
      try {
        rec = parse(line, lineNumber);
      } catch (err) {
        await producer.flush().catch(() => undefined);
        throw err;
      }
      if (rec) {
        const record: ProduceRecord = { key: rec.key, value: rec.value, headers: rec.headers, timestamp: rec.timestamp, partition: rec.partition };
        await send(producer, topic, record, args.has('sync'), () => sent++, (err) => {
          if (args.has('sync')) throw err;
          logFailure(record, err);
        });
      }
      if (prompt) ctx.out.write('>');
    }
    await producer.flush();
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    producer.close();
    client.close();
  }
  await ctx.out.print({
    plain: '',
    json: { topic, records: sent, failed },
    tables: undefined,
  });
  return 0;
}

async function send(
  producer: Producer,
  topic: string,
  record: ProduceRecord,
  sync: boolean,
  onAck: (m: RecordMetadata) => void,
  onError: (err: unknown) => void,
): Promise<void> {
  if (sync) {
    // Kafka's --sync waits out linger.ms for every record; sending at once is the same, faster.
    try {
      let ack!: Promise<RecordMetadata>;
      await producer.enqueue(topic, record, (p) => (ack = p));
      await producer.flush();
      onAck(await ack);
    } catch (err) {
      onError(err);
    }
    return;
  }
  try {
    await producer.enqueue(topic, record, (ack) => ack.then(onAck, onError));
  } catch (err) {
    onError(err);
  }
}

export type { KafkaClient };
