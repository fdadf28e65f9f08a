// Kafka's leader-epoch cache (KIP-101/KIP-279): for each leader epoch that wrote to this partition,
// the offset of its first record. A follower asks its leader where an epoch ended
// (OffsetForLeaderEpoch) and truncates its own log there instead of at its high watermark, so a
// leader change never leaves two replicas with different records at the same offset.
//
// Persisted as `<partition dir>/leader-epoch-checkpoint`, the same text format as Kafka's:
//   0            <- version
//   2            <- number of entries
//   0 0          <- epoch startOffset
//   3 1200
// The semantics (assign, endOffsetFor, truncateFromEnd/Start) follow Kafka's LeaderEpochFileCache,
// so a kts replica answers and truncates exactly as a Kafka one would for the same log.
import { type FileSystem, readSmallFile, writeFileAtomic } from './file-system.js';

export const LEADER_EPOCH_CHECKPOINT = 'leader-epoch-checkpoint';
/** Kafka's "no epoch" (an OffsetForLeaderEpoch answer that knows nothing). */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export class LeaderEpochCache {
  /** Ascending in both epoch and start offset (assign keeps it so). */
  private list: EpochEntry[] = [];

  constructor(entries: readonly EpochEntry[] = []) {
    for (const e of entries) this.assign(e.epoch, e.startOffset);
  }

  /** Replaces every entry (undoing a change whose checkpoint could not be written). */
  reset(entries: readonly EpochEntry[]): void {
    this.list = entries.map((e) => ({ ...e }));
  }

  entries(): EpochEntry[] {
    return this.list.map((e) => ({ ...e }));
  }
  get isEmpty(): boolean {
    return this.list.length === 0;
  }
  latestEntry(): EpochEntry | undefined {
    const last = this.list[this.list.length - 1];
    return last ? { ...last } : undefined;
  }
  /** The newest epoch that wrote records here, or undefined. */
  latestEpoch(): number | undefined {
    return this.list[this.list.length - 1]?.epoch;
  }
  earliestEntry(): EpochEntry | undefined {
    return this.list[0] ? { ...this.list[0] } : undefined;
  }

  /** Whether assign(epoch, startOffset) would change anything (the common append path asks this). */
  isUpdateNeeded(epoch: number, startOffset: number): boolean {
    const last = this.list[this.list.length - 1];
    return last === undefined || epoch !== last.epoch || startOffset < last.startOffset;
  }

  /**
   * Records that `epoch` starts at `startOffset`. Entries that would break the order (an epoch >= this
   * one, or a start offset >= this one) are dropped first, as Kafka does: they belong to records this
   * log no longer has. Returns whether the cache changed (then it must be written out). Negative
   * values throw, as in Kafka (a batch from before leader epochs has epoch -1 and is never assigned).
   */
  assign(epoch: number, startOffset: number): boolean {
    if (!Number.isInteger(epoch) || epoch < 0 || !Number.isSafeInteger(startOffset) || startOffset < 0) {
      throw new RangeError(`invalid leader epoch entry (epoch ${epoch}, start offset ${startOffset})`);
    }
    if (!this.isUpdateNeeded(epoch, startOffset)) return false;
    let keep = this.list.length;
    while (keep > 0 && (this.list[keep - 1].epoch >= epoch || this.list[keep - 1].startOffset >= startOffset)) keep--;
    this.list = [...this.list.slice(0, keep), { epoch, startOffset }];
    return true;
  }

  /**
   * Where `requestedEpoch` ended in this log: the largest epoch <= requested and the start offset of
   * the next higher epoch (the log end offset when the requested epoch is the latest). A request older
   * than every epoch here gets the first epoch's start (those records are gone: replicate from there).
   * A request newer than all, or UNDEFINED_EPOCH, gets (-1, -1).
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { epoch: number; endOffset: number } {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH) return undefinedAnswer;
    if (this.latestEpoch() === requestedEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.list.findIndex((e) => e.epoch > requestedEpoch);
    if (higher < 0) return undefinedAnswer;
    if (higher === 0) return { epoch: requestedEpoch, endOffset: this.list[0].startOffset };
    return { epoch: this.list[higher - 1].epoch, endOffset: this.list[higher].startOffset };
  }

  /** The epoch of the records at `offset` (the latest entry starting at or before it). */
  epochForOffset(offset: number): number | undefined {
    let found: number | undefined;
    for (const e of this.list) {
      if (e.startOffset > offset) break;
      found = e.epoch;
    }
    return found;
  }

  /** Drops the entries starting at or after `endOffset` (the log was cut there). Returns whether any went. */
  truncateFromEnd(endOffset: number): boolean {
    if (endOffset < 0) return false;
    let keep = this.list.length;
    while (keep > 0 && this.list[keep - 1].startOffset >= endOffset) keep--;
    if (keep === this.list.length) return false;
    this.list = this.list.slice(0, keep);
    return true;
  }

  /**
   * The log now starts at `startOffset`: entries starting at or before it go, and the last of them comes
   * back starting at `startOffset` (its records from there on are still in the log). An entry starting
   * exactly there is kept as it is. Returns whether anything changed.
   */
  truncateFromStart(startOffset: number): boolean {
    let removed = 0;
    while (removed < this.list.length && this.list[removed].startOffset <= startOffset) removed++;
    if (removed === 0) return false;
    const lastRemoved = this.list[removed - 1];
    const changed = removed > 1 || lastRemoved.startOffset !== startOffset;
    this.list = [{ epoch: lastRemoved.epoch, startOffset }, ...this.list.slice(removed)];
    return changed;
  }
}

export function formatLeaderEpochCheckpoint(entries: readonly EpochEntry[]): string {
  return `0\n${entries.length}\n${entries.map((e) => `${e.epoch} ${e.startOffset}\n`).join('')}`;
}

/** A line as it can be shown in one line of a log: quoted, control bytes escaped, long ones cut. */
const shown = (line: string): string => JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}...` : line);

/** The file's entries as written, or what is wrong with it. Order is checked by the caller. */
export function parseLeaderEpochCheckpoint(text: string): { entries: EpochEntry[]; problem?: string } {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines[0]?.trim() !== '0') return { entries: [], problem: `unknown version line ${shown(lines[0] ?? '')}` };
  const count = Number(lines[1]);
  if (lines[1] === undefined || !Number.isInteger(count) || count < 0) return { entries: [], problem: `bad entry count ${shown(lines[1] ?? '')}` };
  if (lines.length !== count + 2) return { entries: [], problem: `expected ${count} entries, found ${lines.length - 2}` };
  const entries: EpochEntry[] = [];
  for (let i = 2; i < lines.length; i++) {
    const parts = lines[i].trim().split(/\s+/);
    const epoch = Number(parts[0]);
    const startOffset = Number(parts[1]);
    if (parts.length !== 2 || !/^\d+$/.test(parts[0]) || !/^\d+$/.test(parts[1]) || epoch > 0x7fffffff || !Number.isSafeInteger(startOffset)) {
      return { entries: [], problem: `malformed line ${i + 1}: ${shown(lines[i])}` };
    }
    entries.push({ epoch, startOffset });
  }
  return { entries };
}

/** The partition's checkpoint: entries (undefined when the file is missing), or what is wrong with it. */
export async function readLeaderEpochCheckpoint(fs: FileSystem, dir: string): Promise<{ entries: EpochEntry[] | undefined; problem?: string }> {
  let data: Buffer | undefined;
  try {
    data = await readSmallFile(fs, `${dir}/${LEADER_EPOCH_CHECKPOINT}`);
  } catch (err) {
    return { entries: undefined, problem: `cannot be read: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (data === undefined) return { entries: undefined };
  const { entries, problem } = parseLeaderEpochCheckpoint(data.toString('utf8'));
  return problem ? { entries: undefined, problem } : { entries };
}

/** Replaces the checkpoint atomically (temp file, fdatasync, rename, directory fsync). */
export function writeLeaderEpochCheckpoint(fs: FileSystem, dir: string, entries: readonly EpochEntry[]): Promise<void> {
  return writeFileAtomic(fs, dir, LEADER_EPOCH_CHECKPOINT, Buffer.from(formatLeaderEpochCheckpoint(entries), 'utf8'));
}

/** Where a follower cuts its log, and whether it must ask the leader again first. */
export interface TruncationPoint {
  offset: number;
  /** False: the follower does not know the leader's epoch; it cut to its own end of an older one and asks again with it. */
  completed: boolean;
}

/**
 * Kafka's follower rule (KIP-101, KIP-279) given the leader's answer for the follower's latest epoch
 * (OffsetForLeaderEpoch, or a Fetch v12 divergingEpoch):
 *  - the leader cannot place the epoch (-1 end offset): cut to the fetch offset the follower started
 *    from (its high watermark);
 *  - an end offset without an epoch (v0 answers): cut to it;
 *  - the follower has that epoch too: cut where the first of the two ended;
 *  - the follower knows only older epochs: cut to its own end of the newest older one and ask again;
 *  - the follower knows no epoch that old: cut to the leader's end offset.
 * Never past the follower's own log end.
 */
export function followerTruncation(
  follower: LeaderEpochCache,
  leader: { epoch: number; endOffset: number },
  followerLogEnd: number,
  initialFetchOffset: number,
): TruncationPoint {
  if (leader.endOffset === UNDEFINED_EPOCH_OFFSET) return { offset: initialFetchOffset, completed: true };
  if (leader.epoch === UNDEFINED_EPOCH) return { offset: Math.min(leader.endOffset, followerLogEnd), completed: true };
  const own = follower.endOffsetFor(leader.epoch, followerLogEnd);
  if (own.endOffset === UNDEFINED_EPOCH_OFFSET) return { offset: Math.min(leader.endOffset, followerLogEnd), completed: true };
  if (own.epoch !== leader.epoch) return { offset: Math.min(own.endOffset, followerLogEnd), completed: false };
  return { offset: Math.min(own.endOffset, leader.endOffset, followerLogEnd), completed: true };
}
