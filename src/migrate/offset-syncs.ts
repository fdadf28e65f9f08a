// Where a migration keeps its place: the offset-syncs topic on the TARGET cluster (MirrorMaker 2's
// idea: its offset-syncs topic maps upstream offsets to downstream ones). Kept on the target rather
// than in a local file so that the state travels with the data it describes: a rerun from another
// machine, or after the local disk is gone, resumes the same copy; and it is written after the data
// it describes is acknowledged, so it can lag the data but never run ahead of it.
//
// Two kinds of record, JSON keys and values, in one compacted partition:
//   ["sync", sourceCluster, topic, partition, src] -> {"tgt": n}
//       the source record at offset src was copied to target offset n, and it starts a run: the
//       record copied before it came from another source offset than src - 1 (a hole left by
//       compaction, a transaction marker, an aborted transaction, deleted records). Within a run,
//       source and target offsets advance together, so these few records map every copied offset.
//   ["progress", sourceCluster, topic, partition] -> {"src": s, "tgt": t, "topicId": id}
//       everything before source offset s is copied (or was skipped) and the target partition's end
//       was t. Written once before the first record of a partition is produced (so a target
//       partition with records and no progress is never ours) and after each acknowledged round.
//
// On a rerun the target partition's end may be past the last progress (SIGKILL between a produce's
// acknowledgement and the progress write): src/migrate/copier.ts counts that many records forward
// from the progress in the source and checks the last one against the target's last record.
import type { KafkaClient, Producer } from '../client/index.js';
import type { CopyRun } from './batches.js';

export const SYNC_TOPIC = 'kts-migrate.offset-syncs.internal';

export interface OffsetSync {
  src: number;
  tgt: number;
}

export interface Progress {
  src: number;
  tgt: number;
  topicId: string;
}

interface PartitionMap {
  /** Sorted by src (and so by tgt). */
  syncs: OffsetSync[];
  progress: Progress | null;
}

const tp = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export class OffsetSyncs {
  private readonly maps = new Map<string, PartitionMap>();
  private readonly queued: { key: string; value: string }[] = [];

  constructor(readonly sourceCluster: string) {}

  /** Reads every sync and progress record of `sourceCluster` from the target (none if the topic is absent). */
  static async load(target: KafkaClient, sourceCluster: string): Promise<OffsetSyncs> {
    const syncs = new OffsetSyncs(sourceCluster);
    const md = await target.metadata([SYNC_TOPIC]);
    const t = md.topics.find((x) => x.name === SYNC_TOPIC);
    if (!t || t.errorCode !== 0 || t.partitions.length === 0) return syncs;
    const [{ offset: end }] = await target.admin.listOffsets([{ topic: SYNC_TOPIC, partition: 0, timestamp: -1 }]);
    const [{ offset: start }] = await target.admin.listOffsets([{ topic: SYNC_TOPIC, partition: 0, timestamp: -2 }]);
    const latest = new Map<string, string>();
    let offset = Math.max(start, 0);
    while (offset < end) {
      const [p] = await target.fetch([{ topic: SYNC_TOPIC, partition: 0, offset, maxBytes: 8 * 1024 * 1024 }], { maxWaitMs: 100 });
      if (p.error) throw p.error;
      for (const r of p.records) if (r.key && r.value) latest.set(r.key.toString('utf8'), r.value.toString('utf8'));
      if (p.nextOffset <= offset) break;
      offset = p.nextOffset;
    }
    for (const [key, value] of latest) syncs.apply(key, value);
    for (const m of syncs.maps.values()) {
      m.syncs.sort((a, b) => a.src - b.src);
      // Syncs past the progress were written in a round whose progress never landed: the rerun
      // derives them again from the source.
      if (m.progress) m.syncs = m.syncs.filter((s) => s.src < m.progress!.src);
      else m.syncs = [];
    }
    return syncs;
  }

  private apply(key: string, value: string): void {
    let k: unknown;
    let v: { src?: number; tgt?: number; topicId?: string };
    try {
      k = JSON.parse(key);
      v = JSON.parse(value);
    } catch {
      return; // not ours
    }
    if (!Array.isArray(k) || k[1] !== this.sourceCluster || typeof k[2] !== 'string' || !Number.isInteger(k[3])) return;
    const m = this.map(k[2], k[3]);
    if (k[0] === 'sync' && Number.isInteger(k[4]) && Number.isInteger(v.tgt)) m.syncs.push({ src: k[4], tgt: v.tgt! });
    else if (k[0] === 'progress' && Number.isInteger(v.src) && Number.isInteger(v.tgt)) m.progress = { src: v.src!, tgt: v.tgt!, topicId: v.topicId ?? '' };
  }

  private map(topic: string, partition: number): PartitionMap {
    let m = this.maps.get(tp(topic, partition));
    if (!m) {
      m = { syncs: [], progress: null };
      this.maps.set(tp(topic, partition), m);
    }
    return m;
  }

  progress(topic: string, partition: number): Progress | null {
    return this.maps.get(tp(topic, partition))?.progress ?? null;
  }

  /** Whether any progress of this source cluster is recorded for `topic`. */
  knowsTopic(topic: string): boolean {
    for (const key of this.maps.keys()) if (key.startsWith(`${topic}\u0000`)) return true;
    return false;
  }

  /** Notes that the records of `runs` landed at target offsets `tgtBase`, `tgtBase + 1`, ... */
  copied(topic: string, partition: number, runs: readonly CopyRun[], tgtBase: number): void {
    const m = this.map(topic, partition);
    let tgt = tgtBase;
    for (const run of runs) {
      const last = m.syncs[m.syncs.length - 1];
      if (!last || run.src - tgt !== last.src - last.tgt) {
        m.syncs.push({ src: run.src, tgt });
        this.queue(['sync', this.sourceCluster, topic, partition, run.src], { tgt });
      }
      tgt += run.count;
    }
  }

  setProgress(topic: string, partition: number, progress: Progress): void {
    this.map(topic, partition).progress = progress;
    this.queue(['progress', this.sourceCluster, topic, partition], progress);
  }

  private queue(key: unknown[], value: object): void {
    this.queued.push({ key: JSON.stringify(key), value: JSON.stringify(value) });
  }

  /** Writes what was noted since the last flush (acks=all), in order. */
  async flush(producer: Producer): Promise<void> {
    const items = this.queued.splice(0);
    if (items.length === 0) return;
    const acks: Promise<unknown>[] = [];
    for (const { key, value } of items) {
      await producer.enqueue(SYNC_TOPIC, { key: Buffer.from(key), value: Buffer.from(value), partition: 0 }, (ack) => acks.push(ack));
    }
    await producer.flush();
    await Promise.all(acks);
  }

  /**
   * The target offset at which a consumer positioned at source offset `src` goes on: that of the
   * first copied record at or after `src` (the target's next offset when there is none yet).
   * Null when nothing of the partition was ever copied or planned.
   */
  translate(topic: string, partition: number, src: number): number | null {
    const m = this.maps.get(tp(topic, partition));
    if (!m?.progress) return null;
    const { syncs, progress } = m;
    if (src >= progress.src || syncs.length === 0) return progress.tgt;
    // The last sync at or before src.
    let lo = 0;
    let hi = syncs.length - 1;
    if (src < syncs[0].src) return syncs[0].tgt;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (syncs[mid].src <= src) lo = mid;
      else hi = mid - 1;
    }
    const s = syncs[lo];
    const runEndTgt = lo + 1 < syncs.length ? syncs[lo + 1].tgt : progress.tgt;
    const runLength = runEndTgt - s.tgt;
    return src - s.src < runLength ? s.tgt + (src - s.src) : runEndTgt;
  }
}
