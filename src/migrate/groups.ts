// Consumer groups: each group's committed source offsets, translated through the offset mapping to
// the target offset of the first copied record it had not read (MirrorMaker 2's checkpoints, but
// exact: the mapping knows every run of copied offsets), and committed on the target as a standalone
// commit (no member), which Kafka accepts for a group with no active members.
import type { KafkaClient } from '../client/index.js';
import type { GroupOffsets } from './plan.js';
import type { OffsetSyncs } from './offset-syncs.js';

export interface TranslatedGroup {
  groupId: string;
  offsets: { topic: string; partition: number; source: number; target: number | null }[];
  /** Why the group's offsets were not committed, if they were not. */
  error?: string;
}

export function translateGroups(groups: GroupOffsets[], syncs: OffsetSyncs): TranslatedGroup[] {
  return groups.map((g) => ({
    groupId: g.groupId,
    offsets: g.offsets.map((o) => ({ topic: o.topic, partition: o.partition, source: o.offset, target: syncs.translate(o.topic, o.partition, o.offset) })),
  }));
}

export async function commitGroups(target: KafkaClient, groups: GroupOffsets[], translated: TranslatedGroup[]): Promise<void> {
  for (const t of translated) {
    const g = groups.find((x) => x.groupId === t.groupId)!;
    const offsets = t.offsets
      .filter((o) => o.target !== null)
      .map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: o.target!,
        metadata: g.offsets.find((x) => x.topic === o.topic && x.partition === o.partition)?.metadata ?? null,
      }));
    try {
      const results = await target.groups.commitOffsets(t.groupId, offsets);
      const failed = results.find((r) => r.error);
      if (failed) {
        const name = failed.error!.javaName ?? '';
        t.error = /UnknownMemberId|IllegalGeneration|RebalanceInProgress/.test(name)
          ? 'it has active members on the target (stop them and run kts migrate again)'
          : `${failed.topic}-${failed.partition}: ${failed.error!.javaString}`;
      }
    } catch (err) {
      t.error = (err as Error).message;
    }
  }
}
