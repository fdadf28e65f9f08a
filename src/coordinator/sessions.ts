// Session liveness (ZooKeeper's SessionTrackerImpl). The durable part of a session (id and
// timeout) lives in the DataTree; this tracks when each live session expires and which
// connection it is attached to.
//
// Any packet from the client pushes its deadline to now + timeout, rounded up to the next tick
// boundary as ZooKeeper's expiry buckets do; the expiry sweep runs every tick, so a silent
// session ends between T and T + tickTime after its last packet.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface LiveSession {
  id: bigint;
  timeout: number;
  expiresAt: number;
  /** Set once a closeSession txn has been issued for it (by the client or by expiry). */
  closing: boolean;
  /** The connection currently attached, if any. */
  conn: { closeForSession(reason: string): void } | null;
}

const MASK_56 = (1n << 56n) - 1n;

export class SessionTracker {
  readonly live = new Map<bigint, LiveSession>();
  private nextId: bigint;

  constructor(
    private readonly tickTime: number,
    private readonly secret: Buffer,
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
    const s: LiveSession = { id, timeout, expiresAt: 0, closing: false, conn: null };
    this.live.set(id, s);
    if (id >= this.nextId) this.nextId = id + 1n;
    this.touch(s);
    return s;
  }

  remove(id: bigint): LiveSession | undefined {
    const s = this.live.get(id);
    this.live.delete(id);
    return s;
  }

  get(id: bigint): LiveSession | undefined {
    return this.live.get(id);
  }

  touch(s: LiveSession): void {
    const t = this.now() + s.timeout;
    s.expiresAt = Math.ceil(t / this.tickTime) * this.tickTime;
  }

  /** Sessions whose deadline has passed and that are not already closing. */
  expired(): LiveSession[] {
    const now = this.now();
    const out: LiveSession[] = [];
    for (const s of this.live.values()) if (!s.closing && s.expiresAt <= now) out.push(s);
    return out;
  }
}

export function newSecret(): Buffer {
  return randomBytes(32);
}
