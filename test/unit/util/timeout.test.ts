// raceTimeout: the value of the work before the time, the timeout's value or error after it, and no
// timer left behind either way (fake timers count them; Node's active resources tell a ref'd one).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { raceTimeout } from '../../../src/util/timeout.js';

const never = new Promise<never>(() => {});
const settledState = (p: Promise<unknown>) => {
  const state = { done: false, value: undefined as unknown, error: undefined as unknown };
  p.then(
    (v) => Object.assign(state, { done: true, value: v }),
    (e) => Object.assign(state, { done: true, error: e }),
  );
  return state;
};

describe('raceTimeout', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('resolves with the value of work that settles before the time, and clears its timer', async () => {
    const work = new Promise<string>((r) => setTimeout(() => r('done'), 50));
    const raced = settledState(raceTimeout(work, 100, () => 'late'));
    expect(vi.getTimerCount()).toBe(2);
    await vi.advanceTimersByTimeAsync(50);
    expect(raced).toEqual({ done: true, value: 'done', error: undefined });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the work’s own error before the time, and clears its timer', async () => {
    const boom = new Error('boom');
    const work = new Promise<never>((_, reject) => setTimeout(() => reject(boom), 10));
    const raced = settledState(raceTimeout(work, 100, () => 'late'));
    await vi.advanceTimersByTimeAsync(10);
    expect(raced).toEqual({ done: true, value: undefined, error: boom });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with the error the timeout throws, at the time and not before', async () => {
    const late = new Error('no answer in 100 ms');
    const raced = settledState(
      raceTimeout(never, 100, () => {
        throw late;
      }),
    );
    await vi.advanceTimersByTimeAsync(99);
    expect(raced.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(raced).toEqual({ done: true, value: undefined, error: late });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves with the value the timeout returns when the work is late', async () => {
    const raced = settledState(raceTimeout(never, 100, () => 'late' as const));
    await vi.advanceTimersByTimeAsync(100);
    expect(raced).toEqual({ done: true, value: 'late', error: undefined });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('raceTimeout with real timers', () => {
  const refTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('keeps the process alive only without unref', async () => {
    let finish!: () => void;
    const work = new Promise<void>((r) => (finish = r));
    const before = refTimers();
    const refd = raceTimeout(work, 60_000, () => undefined);
    expect(refTimers()).toBe(before + 1);
    const unrefd = raceTimeout(work, 60_000, () => undefined, { unref: true });
    expect(refTimers()).toBe(before + 1);
    finish();
    await Promise.all([refd, unrefd]);
    expect(refTimers()).toBe(before);
  });
});
