// The coordinator's session deadlines (SessionTracker): a silent session ends at its last packet +
// its timeout, not in a later tick bucket and not at the next sweep. A Kafka failover waits for
// exactly this (the controller hears of a dead broker when its session ends), so lateness here is
// lateness there. Timers and the clock are vitest's fake ones: the deadlines are checked to the ms.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LiveSession, SessionTracker } from '../../../src/coordinator/sessions.js';

describe('SessionTracker deadlines', () => {
  let expired: Array<{ id: bigint; at: number }>;
  let tracker: SessionTracker;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000_123 }); // not on any tick boundary
    expired = [];
    tracker = new SessionTracker(Buffer.alloc(32, 1), (s: LiveSession) => expired.push({ id: s.id, at: Date.now() }));
  });
  afterEach(() => {
    tracker.close();
    vi.useRealTimers();
  });

  it('expires a silent session exactly at its timeout', () => {
    const start = Date.now();
    const s = tracker.add(tracker.allocateId(), 18_000);
    vi.advanceTimersByTime(17_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([{ id: s.id, at: start + 18_000 }]);
  });

  it('a packet moves the deadline to that packet + timeout', () => {
    const start = Date.now();
    const s = tracker.add(tracker.allocateId(), 4_000);
    vi.advanceTimersByTime(3_000);
    tracker.touch(s); // deadline start + 7000
    vi.advanceTimersByTime(2_500);
    tracker.touch(s); // deadline start + 9500
    vi.advanceTimersByTime(3_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([{ id: s.id, at: start + 9_500 }]);
  });

  it('sessions with different timeouts each end at their own deadline', () => {
    const start = Date.now();
    const long = tracker.add(tracker.allocateId(), 40_000);
    vi.advanceTimersByTime(1_000);
    const short = tracker.add(tracker.allocateId(), 4_000);
    vi.advanceTimersByTime(40_000);
    expect(expired).toEqual([
      { id: short.id, at: start + 5_000 },
      { id: long.id, at: start + 40_000 },
    ]);
  });

  it('a removed or closing session does not expire', () => {
    const gone = tracker.add(tracker.allocateId(), 4_000);
    const closing = tracker.add(tracker.allocateId(), 4_000);
    closing.closing = true;
    tracker.remove(gone.id);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual([]);
  });
});
