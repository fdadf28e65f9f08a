// Session liveness (ZooKeeper's SessionTrackerImpl). The durable part of a session (id and
// timeout) lives in the DataTree; this tracks when each live session expires and which
// connection it is attached to.
//
// Any packet from the client pushes its deadline to now + timeout, and a silent session ends at
// that deadline. ZooKeeper files deadlines in tickTime buckets and expires a bucket when its time
// comes, so a session there ends up to one tick after T; here each session has its own timer (a
// touch only moves the deadline; the timer, when it fires early, waits for the rest), so the
// session ends at T, never later than in ZooKeeper. This is what bounds a Kafka failover: the
// controller hears of a dead broker only when its session ends.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface LiveSession {
  id: bigint;
  timeout: number;
  expiresAt: number;
  /** Set once a closeSession txn has been issued for it (by the client or by expiry). */
  closing: boolean;
  /** The connection currently attached, if any. */
  conn: { closeForSession(reason: string): void } | null;
  /** Fires at or before expiresAt (then re-armed for the rest). */
  timer: NodeJS.Timeout | null;
  /** Set while a passed deadline waits for the socket reads of the turn (see due()). */
  verdict: NodeJS.Immediate | null;
}

const MASK_56 = (1n << 56n) - 1n;

export class SessionTracker {
  readonly live = new Map<bigint, LiveSession>();
  private nextId: bigint;

  /** `expire` is called once a live session's deadline has passed (the session stays until removed). */
  constructor(
    private readonly secret: Buffer,
    private readonly expire: (s: LiveSession) => void,
    serverId = 1n,
    private readonly now: () => number = Date.now,
  ) {
    // SessionTrackerImpl.initializeNextSessionId: a time-based seed under the server id byte.
    this.nextId = (serverId << 56n) | ((BigInt(now()) << 16n) & MASK_56);
  }

  /** A fresh id, above any restored one. */
  allocateId(): bigint {
    let id = this.nextId++;
    while (id === 0n || this.live.has(id)) id = this.nextId++;
    return id;
  }

  password(id: bigint): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(id);
    return createHmac('sha256', this.secret).update(b).digest().subarray(0, 16);
  }

  checkPassword(id: bigint, passwd: Buffer): boolean {
    const expected = this.password(id);
    return passwd.length === expected.length && timingSafeEqual(passwd, expected);
  }

  add(id: bigint, timeout: number): LiveSession {
    const s: LiveSession = { id, timeout, expiresAt: 0, closing: false, conn: null, timer: null, verdict: null };
    this.live.set(id, s);
    if (id >= this.nextId) this.nextId = id + 1n;
    this.touch(s);
    return s;
  }

  remove(id: bigint): LiveSession | undefined {
    const s = this.live.get(id);
    this.live.delete(id);
    if (s?.timer) clearTimeout(s.timer);
    if (s?.verdict) clearImmediate(s.verdict);
    return s;
  }

  /** Stops every timer (the coordinator is closing; sessions stay in the database). */
  close(): void {
    for (const s of this.live.values()) {
      if (s.timer) clearTimeout(s.timer);
      if (s.verdict) clearImmediate(s.verdict);
    }
  }

  get(id: bigint): LiveSession | undefined {
    return this.live.get(id);
  }

  /** A packet from the client: the deadline moves to now + timeout (on the hot path: no timer work). */
  touch(s: LiveSession): void {
    s.expiresAt = this.now() + s.timeout;
    if (!s.timer && !s.verdict) this.arm(s, s.timeout);
  }

  private arm(s: LiveSession, ms: number): void {
    s.timer = setTimeout(() => this.due(s), ms);
    s.timer.unref();
  }

  private due(s: LiveSession): void {
    s.timer = null;
    if (this.live.get(s.id) !== s || s.closing) return;
    const left = s.expiresAt - this.now();
    if (left > 0) {
      this.arm(s, left); // touched since the timer was set
      return;
    }
    // The deadline passed, but a packet of the session may be waiting in its socket: after a stall
    // (the process descheduled on a busy machine, a long synchronous step) Node runs due timers
    // before it reads the sockets, so a ping sent in time would be read only after the session was
    // expired for its silence. The verdict waits for this turn's reads (setImmediate runs after the
    // poll phase); a packet read meanwhile has moved the deadline.
    s.verdict = setImmediate(() => {
      s.verdict = null;
      if (this.live.get(s.id) !== s || s.closing) return;
      const rest = s.expiresAt - this.now();
      if (rest > 0) this.arm(s, rest);
      else this.expire(s);
    });
  }
}

export function newSecret(): Buffer {
  return randomBytes(32);
}
