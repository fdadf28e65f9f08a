// The coordinator's session deadlines (SessionTracker): a silent session ends at its last packet +
// its timeout, not in a later tick bucket and not at the next sweep. A Kafka failover waits for
// exactly this (the controller hears of a dead broker when its session ends), so lateness here is
// lateness there. Timers and the clock are vitest's fake ones: the deadlines are checked to the ms.
import net from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type LiveSession, SessionTracker } from '../../../src/coordinator/sessions.js';

/**
 * A passed deadline is judged after that turn's socket reads, in a setImmediate (left real here):
 * waiting for one lets it run, with the fake clock still at the deadline.
 */
const afterReads = () => new Promise((resolve) => setImmediate(resolve));

describe('SessionTracker deadlines', () => {
  let expired: Array<{ id: bigint; at: number }>;
  let tracker: SessionTracker;

  beforeEach(() => {
    // Not on any tick boundary; setImmediate stays real (afterReads).
    vi.useFakeTimers({ now: 1_000_000_123, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    expired = [];
    tracker = new SessionTracker(Buffer.alloc(32, 1), (s: LiveSession) => expired.push({ id: s.id, at: Date.now() }));
  });
  afterEach(() => {
    tracker.close();
    vi.useRealTimers();
  });

  it('expires a silent session exactly at its timeout', async () => {
    const start = Date.now();
    const s = tracker.add(tracker.allocateId(), 18_000);
    vi.advanceTimersByTime(17_999);
    await afterReads();
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    await afterReads();
    expect(expired).toEqual([{ id: s.id, at: start + 18_000 }]);
  });

  it('a packet moves the deadline to that packet + timeout', async () => {
    const start = Date.now();
    const s = tracker.add(tracker.allocateId(), 4_000);
    vi.advanceTimersByTime(3_000);
    tracker.touch(s); // deadline start + 7000
    vi.advanceTimersByTime(2_500);
    tracker.touch(s); // deadline start + 9500
    vi.advanceTimersByTime(3_999);
    await afterReads();
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    await afterReads();
    expect(expired).toEqual([{ id: s.id, at: start + 9_500 }]);
  });

  it('sessions with different timeouts each end at their own deadline', async () => {
    const start = Date.now();
    const long = tracker.add(tracker.allocateId(), 40_000);
    vi.advanceTimersByTime(1_000);
    const short = tracker.add(tracker.allocateId(), 4_000);
    vi.advanceTimersByTime(4_000);
    await afterReads();
    vi.advanceTimersByTime(35_000);
    await afterReads();
    expect(expired).toEqual([
      { id: short.id, at: start + 5_000 },
      { id: long.id, at: start + 40_000 },
    ]);
  });

  it('a removed or closing session does not expire', async () => {
    const gone = tracker.add(tracker.allocateId(), 4_000);
    const closing = tracker.add(tracker.allocateId(), 4_000);
    closing.closing = true;
    tracker.remove(gone.id);
    vi.advanceTimersByTime(10_000);
    await afterReads();
    expect(expired).toEqual([]);
  });
});

describe('SessionTracker after a stall (real timers and sockets)', () => {
  it('a ping waiting in the socket when the deadline passes keeps the session', async () => {
    // After a stall Node runs due timers before it reads sockets: the session's deadline and the
    // ping sent before it are both pending when the process wakes. The ping must win, as it
    // arrived in time. The stall here is a busy loop in a setImmediate callback, the ping written
    // just before it (it lands in the kernel's buffer at once over loopback). The session then
    // ends 100 ms after that ping was read, not before it was read.
    const events: Array<[string, number]> = [];
    const tracker = new SessionTracker(Buffer.alloc(32, 1), () => events.push(['expired', Date.now()]));
    let session: LiveSession | undefined;
    const server = net.createServer((sock) =>
      sock.on('data', () => {
        events.push(['ping read', Date.now()]);
        tracker.touch(session!);
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    try {
      await new Promise<void>((resolve) => client.once('connect', resolve));
      await new Promise((resolve) => setTimeout(resolve, 50)); // the server side is accepted
      session = tracker.add(tracker.allocateId(), 100);
      await new Promise<void>((resolve) =>
        setImmediate(() => {
          client.write('ping');
          const until = Date.now() + 300; // well past the 100 ms deadline
          while (Date.now() < until);
          resolve();
        }),
      );
      for (const t = Date.now(); events.length < 2 && Date.now() - t < 5_000; ) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(events.map(([what]) => what)).toEqual(['ping read', 'expired']);
      expect(events[1][1] - events[0][1]).toBeGreaterThanOrEqual(99);
    } finally {
      tracker.close();
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
