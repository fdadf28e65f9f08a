// Which old segments a partition log lets go, and letting them go: retention by time and size, and
// the segments wholly below the log start offset (moved by DeleteRecords, a follower's leader, or
// retention itself). Runs on the log's append chain (PartitionLog hands it a view of its state),
// never alongside an append; the files go in two steps (segment-deletions.ts).
import type { LogSegment } from './log-segment.js';
import type { ReplicaLogView } from './replica-log.js';

/** What retention sees and changes of the log (a part of the view replica-log.ts gets). */
export type RetentionView = Pick<ReplicaLogView, 'log' | 'segments' | 'setLogStartOffset' | 'epochs' | 'deletions' | 'logger' | 'roll'>;

type SegmentTest = (seg: LogSegment, next: LogSegment | undefined) => boolean;

/** retention.ms and retention.bytes (a compact-only log keeps everything), then the log start offset. */
export async function applyRetention(v: RetentionView, now: number): Promise<void> {
  const c = v.log.config;
  // As Kafka: a compact-only log (cleanup.policy=compact) is never cut by time or size.
  if (c.delete && c.retentionMs >= 0) {
    await deleteOldSegments(
      v,
      (seg) => now - (seg.maxTimestamp >= 0 ? seg.maxTimestamp : seg.lastModifiedMs) > c.retentionMs,
      `retention.ms ${c.retentionMs}`,
      now,
    );
  }
  if (c.delete && c.retentionBytes >= 0) {
    let excess = v.log.size - c.retentionBytes;
    await deleteOldSegments(
      v,
      (seg) => {
        if (excess - seg.size < 0) return false;
        excess -= seg.size;
        return true;
      },
      `retention.bytes ${c.retentionBytes}`,
      now,
    );
  }
  dropSegmentsBelowLogStart(v);
}

/**
 * Deletes the oldest segments while `shouldDelete` says so. When every segment qualifies, the
 * active one is rolled first (a new empty segment keeps the log end offset), as Kafka does.
 */
async function deleteOldSegments(v: RetentionView, shouldDelete: SegmentTest, reason: string, now: number): Promise<void> {
  let count = 0;
  const segs = v.segments;
  for (let i = 0; i < segs.length; i++) {
    const next = segs[i + 1];
    if (!next && segs[i].isEmpty) break;
    if (!shouldDelete(segs[i], next)) break;
    count++;
  }
  if (count === 0) return;
  if (count === segs.length) await v.roll(now, v.log.logEndOffset);
  dropSegments(v, count, reason);
}

/** Deletes the segments whose records are all below the log start offset, never the active one (no roll needed). */
export function dropSegmentsBelowLogStart(v: RetentionView): void {
  const start = v.log.logStartOffset;
  let count = 0;
  const segs = v.segments;
  while (count < segs.length - 1 && segs[count + 1].baseOffset <= start) count++;
  if (count > 0) dropSegments(v, count, 'log start offset');
}

/** Takes the `count` oldest segments out of the log and schedules their files' deletion. */
function dropSegments(v: RetentionView, count: number, reason: string): void {
  const dropped = v.segments.slice(0, count);
  v.segments = v.segments.slice(count);
  v.setLogStartOffset(Math.max(v.log.logStartOffset, v.segments[0].baseOffset));
  const start = v.log.logStartOffset;
  v.epochs.truncateFromStart(start);
  v.logger.info(`[${v.log.name}] deleting segments ${dropped.map((s) => s.baseOffset).join(',')} (${reason}); log start offset ${start}`);
  for (const seg of dropped) v.deletions.schedule(seg, v.log.config.fileDeleteDelayMs);
}
