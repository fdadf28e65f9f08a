// What a migration will do, worked out before anything is written (and all that --dry-run does):
// which source topics are copied, with which partition counts and configs; whether each exists on the
// target and where each partition's copy starts (from the offset-syncs progress) and ends (the
// source's last stable offset now); which groups have committed offsets to translate.
import type { KafkaClient, TopicMetadata } from '../client/index.js';
import { KafkaClientError } from '../client/errors.js';
import type { PartitionCopy } from './copier.js';
import { SYNC_TOPIC, type OffsetSyncs } from './offset-syncs.js';

/**
 * Topic configs not copied, as MirrorMaker 2's default config filter leaves them out: replication
 * throttles and min.insync.replicas/unclean election belong to the target's own replication, and a
 * LogAppendTime topic would stamp the copies with the time of the copy instead of keeping the
 * source's timestamps.
 */
export const CONFIGS_NOT_COPIED = new Set([
  'follower.replication.throttled.replicas',
  'leader.replication.throttled.replicas',
  'message.timestamp.type',
  'message.timestamp.difference.max.ms',
  'min.insync.replicas',
  'unclean.leader.election.enable',
]);

/** Kafka's internal topics and the internal topics of its tools (MirrorMaker 2, Connect, ours). */
export function isInternalTopic(t: { name: string; isInternal: boolean }): boolean {
  return t.isInternal || t.name.startsWith('__') || /[.-]internal$/.test(t.name) || t.name === SYNC_TOPIC;
}

export interface TopicPlan {
  name: string;
  topicId: string;
  partitions: number;
  /** The source's non-default topic configs that are copied. */
  configs: Record<string, string>;
  /** create: absent on the target; resume: copied before (progress known); adopt: exists empty. */
  action: 'create' | 'resume' | 'adopt';
  copies: PartitionCopy[];
  /** Target partition ends seen at planning, by partition. */
  targetEnds: number[];
}

export interface GroupOffsets {
  groupId: string;
  offsets: { topic: string; partition: number; offset: number; metadata: string | null }[];
}

export interface MigrationPlan {
  sourceCluster: string;
  topics: TopicPlan[];
  groups: GroupOffsets[];
}

export interface PlanOptions {
  topics: RegExp;
  groups: RegExp;
}

export async function planMigration(source: KafkaClient, target: KafkaClient, syncs: OffsetSyncs, opts: PlanOptions): Promise<MigrationPlan> {
  const md = await source.metadata(null);
  const chosen = md.topics.filter((t) => t.errorCode === 0 && !isInternalTopic(t) && opts.topics.test(t.name)).sort((a, b) => a.name.localeCompare(b.name));
  const targetMd = await target.metadata(chosen.map((t) => t.name));
  const topics: TopicPlan[] = [];
  const described = chosen.length > 0 ? await source.admin.describeConfigs(chosen.map((t) => ({ type: 'topic' as const, name: t.name }))) : [];
  for (const t of chosen) {
    const d = described.find((r) => r.name === t.name);
    if (d?.error) throw new KafkaClientError(`Describing the configs of source topic ${t.name} failed: ${d.error.javaString}`);
    const configs: Record<string, string> = {};
    for (const e of d?.entries ?? []) {
      if (e.source === 'DYNAMIC_TOPIC_CONFIG' && e.value !== null && !e.isSensitive && !CONFIGS_NOT_COPIED.has(e.name)) configs[e.name] = e.value;
    }
    topics.push(await planTopic(source, target, syncs, t, targetMd.topics.find((x) => x.name === t.name), configs));
  }
  const groups = await sourceGroups(source, opts.groups, new Set(chosen.map((t) => t.name)));
  return { sourceCluster: syncs.sourceCluster, topics, groups };
}

async function planTopic(
  source: KafkaClient,
  target: KafkaClient,
  syncs: OffsetSyncs,
  t: TopicMetadata,
  onTarget: TopicMetadata | undefined,
  configs: Record<string, string>,
): Promise<TopicPlan> {
  const n = t.partitions.length;
  const parts = t.partitions.map((p) => ({ topic: t.name, partition: p.partition }));
  const [starts, ends] = await Promise.all([
    source.admin.listOffsets(parts.map((p) => ({ ...p, timestamp: -2 }))),
    source.admin.listOffsets(parts.map((p) => ({ ...p, timestamp: -1 })), { isolationLevel: 1 }),
  ]);
  for (const r of [...starts, ...ends]) if (r.error) throw new KafkaClientError(`Listing the offsets of source partition ${r.topic}-${r.partition} failed: ${r.error.javaString}`);
  const exists = onTarget !== undefined && onTarget.errorCode === 0;
  let targetEnds = new Array<number>(n).fill(0);
  let action: TopicPlan['action'] = 'create';
  if (exists) {
    if (onTarget.partitions.length !== n) {
      throw new KafkaClientError(`Topic ${t.name} has ${n} partitions on the source and ${onTarget.partitions.length} on the target: records would land in other partitions.`);
    }
    targetEnds = (await target.admin.listOffsets(parts.map((p) => ({ ...p, timestamp: -1 })))).map((r) => {
      if (r.error) throw new KafkaClientError(`Listing the offsets of target partition ${r.topic}-${r.partition} failed: ${r.error.javaString}`);
      return r.offset;
    });
    const targetStarts = await target.admin.listOffsets(parts.map((p) => ({ ...p, timestamp: -2 })));
    action = syncs.knowsTopic(t.name) ? 'resume' : 'adopt';
    for (const p of parts) {
      const progress = syncs.progress(t.name, p.partition);
      if (progress && progress.topicId && progress.topicId !== t.topicId) {
        throw new KafkaClientError(`Source topic ${t.name} was deleted and created again since it was copied (topic id ${progress.topicId}, now ${t.topicId}): delete it on the target to copy it afresh.`);
      }
      if (!progress && targetEnds[p.partition] !== targetStarts[p.partition].offset) {
        throw new KafkaClientError(`Topic ${t.name} already exists on the target with records that kts migrate did not write (partition ${p.partition}).`);
      }
      if (progress && targetEnds[p.partition] < progress.tgt) {
        throw new KafkaClientError(`Target partition ${t.name}-${p.partition} ends at ${targetEnds[p.partition]}, before the ${progress.tgt} records already copied: records were deleted on the target.`);
      }
    }
  }
  const copies: PartitionCopy[] = parts.map((p) => {
    const progress = syncs.progress(t.name, p.partition);
    const srcStart = progress ? progress.src : starts[p.partition].offset;
    return {
      topic: t.name,
      partition: p.partition,
      topicId: t.topicId,
      srcStart,
      srcNext: srcStart,
      end: Math.max(ends[p.partition].offset, srcStart),
      tgtNext: progress ? progress.tgt : targetEnds[p.partition],
      records: 0,
      bytes: 0,
    };
  });
  return { name: t.name, topicId: t.topicId, partitions: n, configs, action, copies, targetEnds };
}

/** Every group's committed offsets on the migrated topics (groups with none are left out). */
async function sourceGroups(source: KafkaClient, filter: RegExp, topics: Set<string>): Promise<GroupOffsets[]> {
  const listed = (await source.groups.listGroups()).filter((g) => filter.test(g.groupId)).sort((a, b) => a.groupId.localeCompare(b.groupId));
  const out: GroupOffsets[] = [];
  for (const g of listed) {
    const committed = await source.groups.fetchOffsets(g.groupId);
    const offsets = committed
      .filter((c) => !c.error && c.offset >= 0 && topics.has(c.topic))
      .map((c) => ({ topic: c.topic, partition: c.partition, offset: c.offset, metadata: c.metadata }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    if (offsets.length > 0) out.push({ groupId: g.groupId, offsets });
  }
  return out;
}
