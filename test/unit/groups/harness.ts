// A group coordinator on a hand-driven clock with its log in memory: the state machine under test
// is the real one; only time and the disk are stand-ins.
import { GroupCoordinator } from '../../../src/broker/groups/index.js';
import { MemoryCoordinatorLog } from '../../../src/broker/groups/store.js';
import type { JoinGroupParams, Protocol, Scheduler } from '../../../src/broker/groups/types.js';

export class FakeClock implements Scheduler {
  time = 1_700_000_000_000;
  private seq = 0;
  private timers = new Map<number, { at: number; seq: number; fn: () => void }>();

  now = (): number => this.time;

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  pending(): number {
    return this.timers.size;
  }

  /** Moves time forward, running due timers in order and letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (;;) {
      let next: [number, { at: number; seq: number; fn: () => void }] | undefined;
      for (const entry of this.timers) {
        if (entry[1].at > target) continue;
        if (!next || entry[1].at < next[1].at || (entry[1].at === next[1].at && entry[1].seq < next[1].seq)) next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
      await settle();
    }
    this.time = target;
    await settle();
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

export const silentLog = { info() {}, warn() {}, error() {} };

export function configOf(overrides: Record<string, number> = {}) {
  const values: Record<string, number> = {
    'group.min.session.timeout.ms': 1000,
    'group.max.session.timeout.ms': 1800000,
    'group.initial.rebalance.delay.ms': 0,
    'group.max.size': 2147483647,
    'offsets.topic.num.partitions': 50,
    'offsets.retention.minutes': 10080,
    'offsets.retention.check.interval.ms': 600000,
    ...overrides,
  };
  return { getNumber: (k: string) => values[k] ?? NaN };
}

export const TOPICS: Record<string, number> = { orders: 3, payments: 2, other: 1 };
export const topicLookup = { get: (name: string) => (TOPICS[name] ? { partitions: TOPICS[name] } : undefined) };

export async function startCoordinator(opts: { clock?: FakeClock; store?: MemoryCoordinatorLog; config?: Record<string, number> } = {}) {
  const clock = opts.clock ?? new FakeClock();
  const store = opts.store ?? new MemoryCoordinatorLog(50);
  const coordinator = await GroupCoordinator.start({
    config: configOf(opts.config),
    now: clock.now,
    log: silentLog,
    nodeId: 1,
    scheduler: clock,
    store,
    topics: topicLookup as never,
  });
  return { clock, store, coordinator };
}

/** ConsumerProtocolSubscription v0: version, topics, user data (null). */
export function subscription(...topics: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 0])];
  const count = Buffer.alloc(4);
  count.writeInt32BE(topics.length);
  parts.push(count);
  for (const t of topics) {
    const len = Buffer.alloc(2);
    len.writeInt16BE(Buffer.byteLength(t));
    parts.push(len, Buffer.from(t));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return Buffer.concat(parts);
}

export function protocols(topics: string[], names = ['range']): Protocol[] {
  return names.map((name) => ({ name, metadata: subscription(...topics) }));
}

export function joinParams(overrides: Partial<JoinGroupParams> = {}): JoinGroupParams {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    requireKnownMemberId: false,
    supportSkippingAssignment: false,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    rebalanceTimeoutMs: 10_000,
    sessionTimeoutMs: 6_000,
    protocolType: 'consumer',
    protocols: protocols(['orders']),
    ...overrides,
  };
}

/** Tracks a promise's outcome without awaiting it. */
export function track<T>(p: Promise<T>): { done: boolean; value?: T; promise: Promise<T> } {
  const state: { done: boolean; value?: T; promise: Promise<T> } = { done: false, promise: p };
  p.then((v) => {
    state.done = true;
    state.value = v;
  });
  return state;
}
