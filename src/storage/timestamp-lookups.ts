// A partition log's offset lookups by time (ListOffsets): they read a snapshot of the segment list
// and pin the segments they touch, so they run in parallel with appends, like reads.
import { storageError } from './file-system.js';
import type { LogSegment } from './log-segment.js';

export interface TimestampedOffset {
  offset: number;
  timestamp: number;
}

/** The first offset whose record's timestamp is at or after `timestamp`, at or above the log start. */
export async function offsetForTimestamp(
  segments: readonly LogSegment[],
  logStartOffset: number,
  timestamp: number,
  logName: string,
): Promise<TimestampedOffset | null> {
  for (const seg of segments) seg.pin();
  try {
    for (const seg of segments) {
      if (seg.nextOffset <= logStartOffset || seg.maxTimestamp < timestamp) continue;
      const hit = await seg.findOffsetByTimestamp(timestamp, logStartOffset);
      if (hit) return hit;
    }
    return null;
  } catch (err) {
    throw storageError(err, `[${logName}] offset lookup by timestamp failed`);
  } finally {
    for (const seg of segments) seg.unpin();
  }
}

export async function maxTimestampOffset(
  segments: readonly LogSegment[],
  logStartOffset: number,
  logName: string,
): Promise<TimestampedOffset | null> {
  // Kafka takes the first segment with the largest max timestamp, records without one (-1)
  // included: a log of such records answers its first record with timestamp -1.
  let best: LogSegment | undefined;
  for (const seg of segments) {
    if (seg.nextOffset <= logStartOffset || seg.nextOffset <= seg.baseOffset) continue;
    if (!best || seg.maxTimestamp > best.maxTimestamp) best = seg;
  }
  if (!best) return null;
  best.pin();
  try {
    return await best.maxTimestampRecord();
  } catch (err) {
    throw storageError(err, `[${logName}] max timestamp lookup failed`);
  } finally {
    best.unpin();
  }
}

/**
 * ListOffsets v0's answer (Kafka's legacy fetchOffsetsBefore, from segment modification times):
 * each segment stands for its base offset at the time it was last written, and a non-empty active
 * (last) segment adds the log end offset at `now`. -1 (latest) starts from the newest entry, -2
 * (earliest) from the oldest, any other time from the newest entry written at or before it (none:
 * no offsets). Up to maxNumOffsets offsets from there back, newest first.
 */
export function legacyOffsetsBefore(
  segments: readonly LogSegment[],
  logStartOffset: number,
  logEndOffset: number,
  timestamp: number,
  maxNumOffsets: number,
  now: number,
): number[] {
  const entries = segments.map((seg) => ({ offset: Math.max(seg.baseOffset, logStartOffset), time: seg.lastModifiedMs }));
  const active = segments[segments.length - 1];
  if (active.size > 0) entries.push({ offset: Math.max(logEndOffset, logStartOffset), time: now });
  let start: number;
  if (timestamp === -1) start = entries.length - 1;
  else if (timestamp === -2) start = 0;
  else for (start = entries.length - 1; start >= 0 && entries[start].time > timestamp; start--);
  const offsets: number[] = [];
  for (let i = start; i >= 0 && offsets.length < maxNumOffsets; i--) offsets.push(entries[i].offset);
  return offsets.sort((a, b) => b - a);
}
