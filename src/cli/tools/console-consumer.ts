// The work of `kts console-consumer` (Kafka's ConsoleConsumer). Without --group the partitions are
// assigned directly (Kafka uses a throw-away group `console-consumer-NNNNN` that commits nothing;
// the records printed are the same). With --group the client joins the group (range assignor),
// starts from committed offsets and commits what it printed. Ends on --max-messages, --timeout-ms,
// --until, a closed stdout (exit 0) or SIGINT/SIGTERM (exit 130/143); always reports
// "Processed a total of N messages" on stderr.
import type { FetchedRecord, KafkaClient, TopicPartition } from '../../client/index.js';
import type { Properties } from '../../config/properties.js';
import { bootstrapFrom, connect, fullMatch, mergedProperties, readPropertiesFile } from '../connect.js';
import { CliError, UsageError, oneLine } from '../errors.js';
import { log4jLine } from '../log.js';
import type { ParsedArgs } from '../options.js';
import { toJsonRecord } from '../records/jsonl.js';
import { DefaultMessageFormatter, NoOpMessageFormatter, type MessageFormatter } from '../records/message-formatter.js';
import { parsePosition, resolvePosition, type PositionSpec } from '../records/positions.js';
import type { ToolContext } from '../tool.js';

const FORMATTERS: Record<string, 'default' | 'noop' | 'logging'> = {
  'org.apache.kafka.tools.consumer.DefaultMessageFormatter': 'default',
  'org.apache.kafka.tools.consumer.NoOpMessageFormatter': 'noop',
  'org.apache.kafka.tools.consumer.LoggingMessageFormatter': 'logging',
};
const LEGACY_FORMATTERS: Record<string, string> = {
  'kafka.tools.DefaultMessageFormatter': 'org.apache.kafka.tools.consumer.DefaultMessageFormatter',
  'kafka.tools.NoOpMessageFormatter': 'org.apache.kafka.tools.consumer.NoOpMessageFormatter',
  'kafka.tools.LoggingMessageFormatter': 'org.apache.kafka.tools.consumer.LoggingMessageFormatter',
};

export interface ConsumerPlan {
  topic?: string;
  include?: RegExp;
  partition?: number;
  /** With --partition: where to start. */
  offset: 'earliest' | 'latest' | number;
  groupId?: string;
  autoCommit: boolean;
  /** When there is no committed offset. */
  resetPolicy: 'earliest' | 'latest' | 'none';
  maxMessages?: number;
  timeoutMs?: number;
  isolationLevel: 0 | 1;
  skipOnError: boolean;
  formatter: 'default' | 'noop' | 'logging';
  from?: PositionSpec;
  until?: PositionSpec;
  allowAutoCreate: boolean;
}

/** ConsoleConsumerOptions' checks, in Kafka's order and wording, plus kts's --from/--until. */
export function planConsumer(args: ParsedArgs, props: Properties, propsFromArgs: Properties, propsFromFile: Properties, warn: (line: string) => void): ConsumerPlan {
  const chosen = ['topic', 'include', 'whitelist'].filter((o) => args.has(o));
  if (chosen.length !== 1) throw new UsageError('Exactly one of --include/--topic is required. ');
  if (args.has('whitelist')) warn('--whitelist is deprecated and will be removed in a future release. Please use --include instead.');
  if (args.has('partition') && !args.has('topic')) throw new UsageError('The topic is required when partition is specified.');
  if (args.has('from-beginning') && args.has('offset')) throw new UsageError('Options from-beginning and offset cannot be specified together.');
  if (args.has('offset') && !args.has('partition')) throw new UsageError('The partition is required when offset is specified.');
  if (args.has('group') && args.has('partition')) throw new UsageError('Options group and partition cannot be specified together.');
  const groupIds: string[] = [];
  const addGroup = (g: string | undefined): void => {
    if (g !== undefined && !groupIds.includes(g)) groupIds.push(g);
  };
  addGroup(args.str('group'));
  addGroup(propsFromArgs.get('group.id'));
  addGroup(propsFromFile.get('group.id'));
  if (groupIds.length > 1) {
    throw new UsageError(
      `The group ids provided in different places (directly using '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group ids: ${groupIds.map((g) => `'${g}'`).join(', ')}`,
    );
  }
  for (const [a, b] of [['from', 'from-beginning'], ['from', 'offset']] as const) {
    if (args.has(a) && args.has(b)) throw new UsageError(`Options ${a} and ${b} cannot be specified together.`);
  }
  let offset: ConsumerPlan['offset'] = 'latest';
  const offsetText = args.str('offset')!;
  if (offsetText === 'earliest' || offsetText === 'latest') offset = offsetText;
  else if (/^\d+$/.test(offsetText)) offset = Number(offsetText);
  else throw new UsageError(`The provided offset value '${offsetText}' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.`);
  if (args.has('from-beginning')) offset = 'earliest';

  const reset = props.get('auto.offset.reset');
  if (args.has('from-beginning') && reset !== undefined && reset !== 'earliest') {
    throw new CliError(`Can't simultaneously specify --from-beginning and 'auto.offset.reset=${reset}', please remove one option`, { bare: true });
  }
  const resetPolicy = args.has('from-beginning') ? 'earliest' : (reset ?? 'latest');
  if (resetPolicy !== 'earliest' && resetPolicy !== 'latest' && resetPolicy !== 'none') {
    throw new CliError(`Invalid value ${resetPolicy} for configuration auto.offset.reset: String must be one of: latest, earliest, none`);
  }
  const isolation = props.get('isolation.level') !== undefined && !args.has('isolation-level') ? props.get('isolation.level')! : args.str('isolation-level')!;
  if (isolation !== 'read_uncommitted' && isolation !== 'read_committed') {
    throw new CliError(`Invalid value ${isolation} for configuration isolation.level: String must be one of: read_committed, read_uncommitted`);
  }
  let formatterName = args.str('formatter')!;
  if (LEGACY_FORMATTERS[formatterName]) {
    warn(`WARNING: ${formatterName} is deprecated and will be removed in the next major release. Please use ${LEGACY_FORMATTERS[formatterName]} instead`);
    formatterName = LEGACY_FORMATTERS[formatterName];
  }
  const formatter = FORMATTERS[formatterName];
  if (!formatter) throw new CliError(`kts has no formatter class ${formatterName}; available: ${Object.keys(FORMATTERS).join(', ')}`);
  const groupId = groupIds[0];
  const topicRegex = args.str('include') ?? args.str('whitelist');
  return {
    topic: args.str('topic'),
    include: topicRegex !== undefined ? fullMatch(topicRegex) : undefined,
    partition: args.int('partition'),
    offset,
    groupId,
    autoCommit: groupId !== undefined && (props.get('enable.auto.commit') ?? 'true').trim().toLowerCase() === 'true',
    resetPolicy: resetPolicy as ConsumerPlan['resetPolicy'],
    maxMessages: args.int('max-messages'),
    timeoutMs: args.int('timeout-ms'),
    isolationLevel: isolation === 'read_committed' ? 1 : 0,
    skipOnError: args.has('skip-message-on-error'),
    formatter,
    from: args.has('from') ? parsePosition(args.str('from')!, 'from') : undefined,
    until: args.has('until') ? parsePosition(args.str('until')!, 'until') : undefined,
    allowAutoCreate: (props.get('allow.auto.create.topics') ?? 'true').trim().toLowerCase() === 'true',
  };
}

interface PartitionState extends TopicPartition {
  position: number;
  /** Exclusive stop offset (--until). */
  end?: number;
  done: boolean;
}

const key = (tp: TopicPartition): string => `${tp.topic}\u0000${tp.partition}`;

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  // Kafka 4.2+ (KIP-1147) spells them --command-config/--command-property, --formatter-property.
  const configFile = args.str('command-config') ?? args.str('consumer.config');
  const propsFromFile = configFile !== undefined ? await readPropertiesFile(configFile) : new Map<string, string>();
  const propsFromArgs = await mergedProperties(undefined, [...args.all('consumer-property'), ...args.all('command-property')]);
  const props = new Map([...propsFromFile, ...propsFromArgs]);
  const plan = planConsumer(args, props, propsFromArgs, propsFromFile, (l) => ctx.out.note(l));

  const formatterProps = await mergedProperties(args.str('formatter-config'), [...args.all('property'), ...args.all('formatter-property')]);
  if (args.has('key-deserializer')) formatterProps.set('key.deserializer', args.str('key-deserializer')!);
  if (args.has('value-deserializer')) formatterProps.set('value.deserializer', args.str('value-deserializer')!);
  const formatter: MessageFormatter = plan.formatter === 'noop' ? new NoOpMessageFormatter() : new DefaultMessageFormatter(formatterProps);

  const client = await connect(ctx, bootstrapFrom(args, ctx.env), props, props.get('client.id') ?? 'console-consumer');
  const consumer = new ConsoleConsumer(client, plan, formatter, ctx);
  let code = 0;
  try {
    code = await consumer.run();
  } catch (err) {
    code = 1;
    ctx.out.stderr.write(log4jLine('ERROR', `Unknown error when running consumer: ${oneLine(err)}`, 'org.apache.kafka.tools.consumer.ConsoleConsumer'));
  } finally {
    await consumer.close();
    client.close();
  }
  ctx.out.note(`Processed a total of ${consumer.count} messages`);
  if (args.has('enable-systest-events')) {
    // On stdout as Kafka does, unless stdout carries a JSON document or record stream.
    if (ctx.out.mode === 'plain') ctx.out.write('shutdown_complete\n');
    else ctx.out.note('shutdown_complete');
  }
  return code;
}

class ConsoleConsumer {
  count = 0;
  private readonly partitions = new Map<string, PartitionState>();
  private stopReason: 'max' | 'timeout' | 'until' | 'epipe' | 'SIGINT' | 'SIGTERM' | null = null;
  private member: ReturnType<KafkaClient['groupMember']> | null = null;
  private lastCommit = Date.now();
  private wroteJson = false;
  private lastMetadataCheck = 0;

  constructor(
    private readonly client: KafkaClient,
    private readonly plan: ConsumerPlan,
    private readonly formatter: MessageFormatter,
    private readonly ctx: ToolContext,
  ) {}

  async run(): Promise<number> {
    const onSignal = (s: NodeJS.Signals): void => {
      this.stopReason ??= s === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
    };
    const onStdoutError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.stopReason = 'epipe';
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    this.ctx.out.stdout.on('error', onStdoutError);
    try {
      return await this.loop();
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }

  private async loop(): Promise<number> {
    if (this.plan.groupId !== undefined) await this.joinGroup();
    else await this.assignDirectly();
    let lastRecordAt = Date.now();
    while (!this.stopReason) {
      if (this.member) {
        if (this.member.fatal) throw this.member.fatal;
        if (this.member.rebalanceNeeded) await this.joinGroup();
        if (this.plan.autoCommit && Date.now() - this.lastCommit >= 5000) await this.commit();
      } else if (Date.now() - this.lastMetadataCheck > (this.partitions.size === 0 ? 500 : 5000)) {
        await this.assignDirectly();
      }
      const active = [...this.partitions.values()].filter((p) => !p.done);
      if (this.plan.until && this.partitions.size > 0 && active.length === 0) {
        this.stopReason = 'until';
        break;
      }
      if (active.length === 0) {
        await sleep(200);
      } else {
        const results = await this.client.fetch(
          active.map((p) => ({ topic: p.topic, partition: p.partition, offset: p.position })),
          { maxWaitMs: 500, isolationLevel: this.plan.isolationLevel },
        );
        for (const r of results) {
          const state = this.partitions.get(key(r));
          if (!state || this.stopReason) continue;
          if (r.errorCode === 1) {
            await this.resetOffsets([state]);
            continue;
          }
          if (r.errorCode !== 0) continue; // leadership moves, unknown topic: retried on the next round
          if (await this.emit(state, r.records)) lastRecordAt = Date.now();
          if (!state.done) state.position = Math.max(state.position, r.nextOffset);
          if (state.end !== undefined && state.position >= state.end) state.done = true;
        }
      }
      if (!this.stopReason && this.plan.timeoutMs !== undefined && Date.now() - lastRecordAt >= this.plan.timeoutMs) {
        this.stopReason = 'timeout';
      }
    }
    switch (this.stopReason) {
      case 'timeout':
        this.ctx.out.stderr.write(
          log4jLine('ERROR', 'Error processing message, terminating consumer process: ', 'org.apache.kafka.tools.consumer.ConsoleConsumer') +
            'org.apache.kafka.common.errors.TimeoutException\n',
        );
        return 0;
      case 'epipe':
        this.ctx.out.note('Unable to write to standard out, closing consumer.');
        return 0;
      case 'SIGINT':
        return 130;
      case 'SIGTERM':
        return 143;
      default:
        return 0;
    }
  }

  /** Prints records (respecting --until and --max-messages); true if any was printed. */
  private async emit(state: PartitionState, records: FetchedRecord[]): Promise<boolean> {
    const chunks: (Buffer | string)[] = [];
    let printed = false;
    for (const r of records) {
      if (state.end !== undefined && r.offset >= state.end) {
        state.done = true;
        state.position = state.end;
        break;
      }
      state.position = r.offset + 1;
      try {
        chunks.push(this.render(r));
      } catch (err) {
        if (!this.plan.skipOnError) throw err;
        this.ctx.out.stderr.write(log4jLine('ERROR', `Error processing message, skipping this message: ${oneLine(err)}`, 'org.apache.kafka.tools.consumer.ConsoleConsumer'));
        continue;
      }
      this.count++;
      printed = true;
      if (this.plan.maxMessages !== undefined && this.count >= this.plan.maxMessages) {
        this.stopReason = 'max';
        break;
      }
    }
    if (chunks.length > 0) await this.write(chunks);
    return printed;
  }

  private render(r: FetchedRecord): Buffer | string {
    const mode = this.ctx.out.mode;
    if (mode === 'jsonl') return `${JSON.stringify(toJsonRecord(r))}\n`;
    if (mode === 'json') {
      const text = `${this.wroteJson ? ',\n' : '[\n'}${JSON.stringify(toJsonRecord(r))}`;
      this.wroteJson = true;
      return text;
    }
    const out = this.formatter.format(r);
    if (this.plan.formatter === 'logging') {
      this.ctx.out.stderr.write(
        log4jLine('INFO', `${r.timestampType}:${r.timestamp}, partition:${r.partition}, offset:${r.offset}`, 'org.apache.kafka.tools.consumer.LoggingMessageFormatter'),
      );
    }
    return out;
  }

  private async write(chunks: (Buffer | string)[]): Promise<void> {
    const out = this.ctx.out.stdout;
    if (this.stopReason === 'epipe' || out.destroyed) {
      this.stopReason = 'epipe';
      return;
    }
    const data = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
    if (!out.write(data)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          out.removeListener('drain', done);
          out.removeListener('error', done);
          out.removeListener('close', done);
          resolve();
        };
        out.once('drain', done);
        out.once('error', done);
        out.once('close', done);
      });
    }
  }

  /** Without a group: every partition of the topic(s), watching for new ones. */
  private async assignDirectly(): Promise<void> {
    this.lastMetadataCheck = Date.now();
    let topics: { name: string; partitions: { partition: number }[] }[];
    if (this.plan.topic !== undefined) {
      const md = await this.client.cluster.refresh([this.plan.topic], { allowAutoCreate: this.plan.allowAutoCreate });
      topics = md.topics.filter((t) => t.errorCode === 0 && t.name === this.plan.topic);
    } else {
      const md = await this.client.cluster.refresh(null);
      topics = md.topics.filter((t) => t.errorCode === 0 && this.plan.include!.test(t.name));
    }
    const added: PartitionState[] = [];
    for (const t of topics) {
      for (const p of t.partitions) {
        if (this.plan.partition !== undefined && p.partition !== this.plan.partition) continue;
        if (this.partitions.has(key({ topic: t.name, partition: p.partition }))) continue;
        const state: PartitionState = { topic: t.name, partition: p.partition, position: 0, done: false };
        this.partitions.set(key(state), state);
        added.push(state);
      }
    }
    if (this.plan.partition !== undefined && topics.length > 0 && added.length === 0 && this.partitions.size === 0) {
      throw new CliError(`Partition ${this.plan.partition} of topic ${this.plan.topic} does not exist`);
    }
    if (added.length > 0) await this.startPositions(added, new Map());
  }

  private async joinGroup(): Promise<void> {
    if (this.member && this.plan.autoCommit) await this.commit().catch(() => undefined);
    if (!this.member) {
      this.member = this.client.groupMember({
        groupId: this.plan.groupId!,
        topics: async () => {
          if (this.plan.topic !== undefined) {
            await this.client.cluster.refresh([this.plan.topic], { allowAutoCreate: this.plan.allowAutoCreate });
            return [this.plan.topic];
          }
          const md = await this.client.cluster.refresh(null);
          return md.topics.filter((t) => t.errorCode === 0 && this.plan.include!.test(t.name)).map((t) => t.name);
        },
      });
    }
    const assigned = await this.ctx.out.spin(`Joining group ${this.plan.groupId}`, this.member.join());
    const previous = new Map(this.partitions);
    this.partitions.clear();
    const fresh: PartitionState[] = [];
    for (const tp of assigned) {
      const old = previous.get(key(tp));
      if (old) this.partitions.set(key(tp), old);
      else {
        const state: PartitionState = { ...tp, position: 0, done: false };
        this.partitions.set(key(tp), state);
        fresh.push(state);
      }
    }
    if (fresh.length === 0) return;
    const committed = new Map<string, number>();
    for (const c of await this.client.groups.fetchOffsets(this.plan.groupId!, fresh)) {
      if (!c.error && c.offset >= 0) committed.set(key(c), c.offset);
    }
    await this.startPositions(fresh, committed);
  }

  /** Start offsets: --from, else --offset (with --partition), else committed, else the reset policy. */
  private async startPositions(states: PartitionState[], committed: Map<string, number>): Promise<void> {
    const bounds = await this.bounds(states);
    const timeLookups = new Map<string, number>();
    const times = [this.plan.from, this.plan.until].filter((s): s is Extract<PositionSpec, { kind: 'time' }> => s?.kind === 'time');
    for (const spec of times) {
      const listed = await this.client.admin.listOffsets(states.map((s) => ({ topic: s.topic, partition: s.partition, timestamp: spec.timestamp })));
      for (const l of listed) timeLookups.set(`${spec.timestamp}\u0000${key(l)}`, l.error ? -1 : l.offset);
    }
    const lookup = (spec: PositionSpec, s: PartitionState): number => {
      const b = bounds.get(key(s))!;
      const t = spec.kind === 'time' ? timeLookups.get(`${spec.timestamp}\u0000${key(s)}`) : undefined;
      return resolvePosition(spec, b.start, b.end, t);
    };
    for (const s of states) {
      const b = bounds.get(key(s))!;
      if (this.plan.from) s.position = Math.min(Math.max(lookup(this.plan.from, s), b.start), b.end);
      else if (this.plan.partition !== undefined) {
        s.position = this.plan.offset === 'earliest' ? b.start : this.plan.offset === 'latest' ? b.end : this.plan.offset;
      } else if (committed.has(key(s))) s.position = committed.get(key(s))!;
      else if (this.plan.resetPolicy === 'none') {
        throw new CliError(`Undefined offset with no reset policy for partitions: [${s.topic}-${s.partition}]`);
      } else s.position = this.plan.resetPolicy === 'earliest' ? b.start : b.end;
      if (this.plan.until) {
        s.end = lookup(this.plan.until, s);
        if (s.position >= s.end) s.done = true;
      }
    }
  }

  private async bounds(states: TopicPartition[]): Promise<Map<string, { start: number; end: number }>> {
    const tps = states.map((s) => ({ topic: s.topic, partition: s.partition }));
    const iso = { isolationLevel: this.plan.isolationLevel };
    const [starts, ends] = await Promise.all([
      this.client.admin.listOffsets(tps.map((t) => ({ ...t, timestamp: -2 })), iso),
      this.client.admin.listOffsets(tps.map((t) => ({ ...t, timestamp: -1 })), iso),
    ]);
    const m = new Map<string, { start: number; end: number }>();
    tps.forEach((t, i) => {
      const err = starts[i].error ?? ends[i].error;
      if (err) throw err;
      m.set(key(t), { start: starts[i].offset, end: ends[i].offset });
    });
    return m;
  }

  /** Offset out of range: back to the reset policy's end of the log. */
  private async resetOffsets(states: PartitionState[]): Promise<void> {
    if (this.plan.resetPolicy === 'none') {
      throw new CliError(`Offsets out of range with no configured reset policy for partitions: {${states.map((s) => `${s.topic}-${s.partition}=${s.position}`).join(', ')}}`);
    }
    const bounds = await this.bounds(states);
    for (const s of states) {
      const b = bounds.get(key(s))!;
      s.position = this.plan.resetPolicy === 'earliest' ? b.start : b.end;
    }
  }

  private async commit(): Promise<void> {
    this.lastCommit = Date.now();
    if (!this.member || this.partitions.size === 0) return;
    await this.member.commit([...this.partitions.values()].map((p) => ({ topic: p.topic, partition: p.partition, offset: p.position })));
  }

  async close(): Promise<void> {
    if (this.ctx.out.mode === 'json') this.ctx.out.write(this.wroteJson ? '\n]\n' : '[]\n');
    if (this.member) {
      if (this.plan.autoCommit) await this.commit().catch(() => undefined);
      await this.member.leave();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
