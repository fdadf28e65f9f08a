// `kts migrate --from <bootstrap> --to <bootstrap>`: topics, records and consumer group positions
// from one cluster into another (kts -> Kafka, Kafka -> kts, kts -> kts). The order of the work:
//   1. read where earlier runs stopped (the offset-syncs topic on the target) and plan;
//   2. create the missing topics on the target with the source's partition counts and configs;
//   3. note each new partition's starting point, then line up partitions an interrupted run left
//      ahead of their progress record (copier.ts catchUpWithTarget);
//   4. copy every partition up to the source's end as it was at step 1 (copier.ts);
//   5. translate every group's committed offsets through the mapping and commit them on the target.
// Any step may be cut short by a crash or SIGKILL; running the same command again goes on from the
// target's state without writing a record twice.
import { BrokerUnreachableError, type KafkaClient } from '../client/index.js';
import { ErrorCode } from '../protocol/index.js';
import { KafkaClientError } from '../client/errors.js';
import { connect, defaultTarget, fullMatch, readPropertiesFile, validateHostPorts, type Target } from '../cli/connect.js';
import { CliError, UsageError } from '../cli/errors.js';
import { rejectCombination, type ParsedArgs } from '../cli/options.js';
import { namedProfile } from '../cli/profiles.js';
import type { ToolContext } from '../cli/tool.js';
import { catchUpWithTarget, copyPartitions, IdempotentWriter, type CopyProgress } from './copier.js';
import { commitGroups, translateGroups, type TranslatedGroup } from './groups.js';
import { OffsetSyncs, SYNC_TOPIC } from './offset-syncs.js';
import { planMigration, type MigrationPlan, type TopicPlan } from './plan.js';
import { printReport, progressBar } from './report.js';

export interface MigrationResult {
  dryRun: boolean;
  plan: MigrationPlan;
  groups: TranslatedGroup[];
  records: number;
  bytes: number;
  elapsedMs: number;
}

export async function run(args: ParsedArgs, ctx: ToolContext): Promise<number> {
  const fromSide = sideOf(args, ctx.env, 'from');
  const toSide = sideOf(args, ctx.env, 'to');
  const from = fromSide.bootstrap;
  validateHostPorts(from);
  validateHostPorts(toSide.bootstrap);
  const replicationFactor = args.int('replication-factor') ?? -1;
  const throttle = args.int('throttle') ?? 0;
  if (throttle < 0) throw new CliError(`--throttle must be a number of bytes per second, not ${throttle}`);
  const topics = fullMatch(args.str('topics') ?? '.*', 'topic regex');
  const groups = fullMatch(args.str('groups') ?? '.*', 'group regex');
  const dryRun = args.has('dry-run');
  const fromProps = args.has('from-config') ? await readPropertiesFile(args.str('from-config')!) : new Map<string, string>();
  const toProps = args.has('to-config') ? await readPropertiesFile(args.str('to-config')!) : new Map<string, string>();

  const source = await connectSide(ctx, fromSide, fromProps, 'source');
  let target: KafkaClient | undefined;
  try {
    target = await connectSide(ctx, toSide, toProps, 'target');
    const started = Date.now();
    const sourceCluster = source.cluster.metadata.clusterId ?? from;
    if (target.cluster.metadata.clusterId && target.cluster.metadata.clusterId === source.cluster.metadata.clusterId) {
      throw new CliError(`--from and --to are the same cluster (${sourceCluster}).`);
    }
    const syncs = await ctx.out.spin('Reading the progress of earlier runs', OffsetSyncs.load(target, sourceCluster));
    const plan = await ctx.out.spin('Planning', planMigration(source, target, syncs, { topics, groups }));
    if (dryRun) {
      await printReport(ctx, { dryRun, plan, groups: translateGroups(plan.groups, syncs), records: 0, bytes: 0, elapsedMs: Date.now() - started });
      return 0;
    }
    await createTopics(ctx, target, plan.topics, replicationFactor);
    const syncProducer = target.producer({ acks: -1, lingerMs: 0 });
    try {
      const flushSyncs = () => syncs.flush(syncProducer);
      for (const t of plan.topics) {
        for (const p of t.copies) {
          const tgtEnd = t.targetEnds[p.partition];
          if (!syncs.progress(p.topic, p.partition)) syncs.setProgress(p.topic, p.partition, { src: p.srcNext, tgt: p.tgtNext, topicId: p.topicId });
          else if (tgtEnd > p.tgtNext) await catchUpWithTarget(source, target, syncs, p, tgtEnd);
          p.srcStart = p.srcNext;
          p.end = Math.max(p.end, p.srcNext);
        }
      }
      await flushSyncs();
      const writer = await IdempotentWriter.open(target);
      const copies = plan.topics.flatMap((t) => t.copies);
      const bar = startProgress(ctx);
      try {
        await copyPartitions(source, writer, syncs, copies, { throttleBytesPerSecond: throttle, onProgress: bar.update, flushSyncs });
      } finally {
        bar.stop();
      }
      const translated = translateGroups(plan.groups, syncs);
      await ctx.out.spin('Committing the groups\' offsets on the target', commitGroups(target, plan.groups, translated));
      const result: MigrationResult = {
        dryRun,
        plan,
        groups: translated,
        records: copies.reduce((n, p) => n + p.records, 0),
        bytes: copies.reduce((n, p) => n + p.bytes, 0),
        elapsedMs: Date.now() - started,
      };
      await printReport(ctx, result);
      const failed = translated.filter((g) => g.error);
      if (failed.length > 0) {
        throw new CliError(`The offsets of ${failed.length === 1 ? `group ${failed[0].groupId}` : `${failed.length} groups`} were not committed on the target: ${failed[0].error}`);
      }
      return 0;
    } finally {
      syncProducer.close();
    }
  } catch (err) {
    if (err instanceof KafkaClientError && !(err instanceof BrokerUnreachableError)) throw new CliError(err.message, { hint: err.hint });
    throw err;
  } finally {
    source.close();
    target?.close();
  }
}

/**
 * Where one side of the migration is, as the other tools find their cluster (connect.ts): --from /
 * --to give the address; --from-profile / --to-profile a profile (its address and client settings,
 * under --from-config's / --to-config's). With neither, the source is the cluster the tools reach by
 * default ($KTS_PROFILE, $KTS_BOOTSTRAP_SERVER, the profile in use, localhost:9092); the target must
 * be named: writing into a default would be too easy a mistake.
 */
function sideOf(args: ParsedArgs, env: NodeJS.ProcessEnv, side: 'from' | 'to'): Target {
  const profileOption = `${side}-profile`;
  rejectCombination(args, side, [profileOption]);
  const address = args.str(side);
  if (address !== undefined) return { bootstrap: address };
  const name = args.str(profileOption);
  if (name !== undefined) {
    const profile = namedProfile(env, name, `--${profileOption} names`);
    return { bootstrap: profile.bootstrapServers, profile };
  }
  if (side === 'to') throw new UsageError('Missing required argument "[to]"', 'Name the target with --to host:port or --to-profile <profile>.');
  return defaultTarget(env);
}

async function connectSide(ctx: ToolContext, where: Target, props: Map<string, string>, side: string): Promise<KafkaClient> {
  try {
    return await connect(ctx, where, props, `kts-migrate-${side}`);
  } catch (err) {
    if (err instanceof Error) err.message = `The ${side} cluster: ${err.message}`;
    throw err;
  }
}

/** Creates the topics missing on the target (and the offset-syncs topic), then waits until each has leaders. */
async function createTopics(ctx: ToolContext, target: KafkaClient, topics: TopicPlan[], replicationFactor: number): Promise<void> {
  const md = await target.metadata([SYNC_TOPIC]);
  const needSyncTopic = !md.topics.some((t) => t.name === SYNC_TOPIC && t.errorCode === 0);
  const wanted = [
    ...(needSyncTopic ? [{ name: SYNC_TOPIC, numPartitions: 1, replicationFactor, configs: { 'cleanup.policy': 'compact' } }] : []),
    ...topics.filter((t) => t.action === 'create').map((t) => ({ name: t.name, numPartitions: t.partitions, replicationFactor, configs: t.configs })),
  ];
  if (wanted.length === 0) return;
  const created = await ctx.out.spin(`Creating ${wanted.length} topics on the target`, target.admin.createTopics(wanted));
  for (const c of created) {
    if (c.error && c.error.code !== ErrorCode.TOPIC_ALREADY_EXISTS) {
      throw new CliError(`Creating topic ${c.name} on the target failed: ${c.errorMessage ?? c.error.message}`);
    }
  }
  for (const w of wanted) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const t = (await target.metadata([w.name])).topics.find((x) => x.name === w.name);
      if (t && t.errorCode === 0 && t.partitions.length === w.numPartitions && t.partitions.every((p) => p.leader >= 0)) break;
      if (Date.now() > deadline) throw new CliError(`Topic ${w.name} was created on the target but has no leaders after 60 s.`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** On a terminal, a spinner with a progress bar (ora), redrawn with the latest figures; elsewhere nothing until the report. */
function startProgress(ctx: ToolContext): { update(p: CopyProgress): void; stop(): void } {
  if (!ctx.out.interactive) return { update: () => undefined, stop: () => undefined };
  let spinner: { text: string; stop(): void } | undefined;
  let latest: CopyProgress | undefined;
  let stopped = false;
  const started = Date.now();
  const text = () => (latest ? progressBar(latest, Date.now() - started) : 'Copying');
  const timer = setInterval(() => {
    if (spinner) spinner.text = text();
  }, 100);
  void import('ora').then(({ default: ora }) => {
    if (!stopped) spinner = ora({ text: text(), stream: ctx.out.stderr as NodeJS.WritableStream }).start();
  });
  return {
    update(p) {
      latest = p;
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      spinner?.stop();
    },
  };
}
