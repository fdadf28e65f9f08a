// startBroker({ clock: 'fake' }): the broker's time is real time plus an offset the test moves with
// `broker.clock.advance(ms)`. Everything time-based that a test waits for reads this clock: log
// retention (segment ages), group sessions and rebalance timers (the group runtime's Scheduler) and
// transaction timeouts. advance() fires the group timers now due and runs the retention check and
// the transaction timeout check once, so their effect is there when it resolves. Real time still
// flows (timers also fire when their real delay passes), so a broker with a fake clock serves as any
// other; a broker without one reads Date.now and Node's timers directly, as before.
import type { Scheduler } from './groups/types.js';

interface FakeTimer {
  due: number;
  fn: () => void;
  real: NodeJS.Timeout;
}

/** `broker.clock` of a broker started with `clock: 'fake'`. */
export interface BrokerClock {
  /** The broker's time (epoch ms): real time plus what advance() added. */
  now(): number;
  /** How far advance() has moved the clock in total. */
  readonly offsetMs: number;
  /**
   * Moves the broker's time forward: timers now due fire (in due order), then the retention check
   * and the transaction timeout check run once. Resolves when they are done.
   */
  advance(ms: number): Promise<void>;
}

export class FakeClock implements BrokerClock, Scheduler {
  private offset = 0;
  private readonly timers = new Set<FakeTimer>();
  private readonly checks: Array<() => Promise<unknown>> = [];

  readonly now = (): number => Date.now() + this.offset;

  get offsetMs(): number {
    return this.offset;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer: FakeTimer = {
      due: this.now() + Math.max(0, ms),
      fn,
      real: setTimeout(() => this.fire(timer), Math.max(0, Math.min(ms, 2 ** 31 - 1))),
    };
    timer.real.unref();
    this.timers.add(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    const timer = handle as FakeTimer;
    clearTimeout(timer.real);
    this.timers.delete(timer);
  }

  /** Runs at each advance, after the timers (the retention and transaction timeout checks). */
  onAdvance(check: () => Promise<unknown>): void {
    this.checks.push(check);
  }

  async advance(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new RangeError(`advance takes a number of milliseconds from 0, not ${String(ms)}`);
    this.offset += ms;
    for (;;) {
      const due = [...this.timers].filter((t) => t.due <= this.now()).sort((a, b) => a.due - b.due);
      if (due.length === 0) break;
      for (const t of due) this.fire(t);
      // What the fired timers started (a rebalance completing, a member removed) runs before the checks.
      await new Promise((resolve) => setImmediate(resolve));
    }
    for (const check of this.checks) await check();
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t.real);
    this.timers.clear();
    this.checks.length = 0;
  }

  private fire(timer: FakeTimer): void {
    if (!this.timers.delete(timer)) return;
    clearTimeout(timer.real);
    timer.fn();
  }
}
