// The leader's bookkeeping of a replicated partition: the high watermark is the smallest log end over
// the ISR and never goes back; acks=all waiters complete when it passes them (with
// NOT_ENOUGH_REPLICAS_AFTER_APPEND below min.insync.replicas), time out, or end with the leadership;
// a follower is caught up when it fetched the log end (or the log end of its previous fetch).
import { describe, expect, it } from 'vitest';
import { LeaderPartition } from '../../../../src/broker/replication/leader-partition.js';
import { ErrorCode } from '../../../../src/protocol/errors.js';
import type { PartitionLog } from '../../../../src/storage/index.js';

function fakeLog(logEnd: number) {
  let hw: number | null = null;
  const listeners = new Set<() => void>();
  const log = {
    logEndOffset: logEnd,
    get highWatermark() {
      return hw === null ? this.logEndOffset : Math.min(hw, this.logEndOffset);
    },
    setHighWatermark(v: number | null) {
      hw = v;
    },
    onAppend(l: () => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    append(n: number) {
      this.logEndOffset += n;
      for (const l of listeners) l();
    },
  };
  return log;
}

describe('LeaderPartition', () => {
  it('high watermark = min log end over the ISR, never back; a follower outside the ISR does not hold it', () => {
    let now = 1000;
    const log = fakeLog(10);
    const leader = new LeaderPartition(log as unknown as PartitionLog, 1, 0, [1, 2, 3], [1, 2], () => now);
    expect(log.highWatermark).toBe(10); // a fresh leader starts from its log end
    log.append(5);
    expect(log.highWatermark).toBe(10); // broker 2 has not fetched the new records
    leader.followerFetched(2, 13);
    expect(log.highWatermark).toBe(13);
    leader.followerFetched(3, 0); // not in the ISR
    leader.followerFetched(2, 15);
    expect(log.highWatermark).toBe(15);
    leader.followerFetched(2, 12); // an older fetch never moves it back
    expect(log.highWatermark).toBe(15);
    now += 1;
  });

  it('acks=all waiters: completed by the high watermark, NOT_ENOUGH_REPLICAS_AFTER_APPEND below min ISR, REQUEST_TIMED_OUT, NOT_LEADER on close', async () => {
    const log = fakeLog(0);
    const leader = new LeaderPartition(log as unknown as PartitionLog, 1, 0, [1, 2], [1, 2], () => 0);
    log.append(3);
    const ok = leader.waitForHighWatermark(3, 10_000, () => 2);
    leader.followerFetched(2, 3);
    expect(await ok).toBe(0);
    log.append(1);
    const timedOut = leader.waitForHighWatermark(4, 20, () => 2);
    expect(await timedOut).toBe(ErrorCode.REQUEST_TIMED_OUT);
    const shrunk = leader.waitForHighWatermark(4, 10_000, () => 2);
    leader.update([1, 2], [1]); // ISR shrank to the leader: the high watermark passes, below min ISR
    expect(await shrunk).toBe(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    log.append(1);
    leader.update([1, 2], [1, 2]);
    const closed = leader.waitForHighWatermark(6, 10_000, () => 1);
    leader.close();
    expect(await closed).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  });

  it('lag: out of sync after replica.lag.time.max.ms without catching up; caught up at the previous fetch counts', () => {
    let now = 0;
    const log = fakeLog(100);
    const leader = new LeaderPartition(log as unknown as PartitionLog, 1, 0, [1, 2, 3], [1, 2, 3], () => now);
    now = 1000;
    leader.followerFetched(2, 100); // caught up now
    leader.followerFetched(3, 90); // behind
    log.append(10);
    now = 2000;
    leader.followerFetched(2, 100); // asked for what was the log end at its previous fetch: caught up as of then (1000)
    expect(leader.outOfSyncReplicas(1500)).toEqual([3]); // 3 last caught up at start (0)
    expect(leader.outOfSyncReplicas(500)).toEqual([2, 3]);
    leader.update([1, 2, 3], [1, 2]);
    leader.followerFetched(3, 110);
    expect(leader.caughtUpReplicas(0)).toEqual([3]);
    expect(leader.caughtUpReplicas(200)).toEqual([]); // not yet at this leadership's start
  });
});
