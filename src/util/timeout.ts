// A wait with a bound: the one place that races a promise against a timer. Imports nothing of ours,
// so every folder may use it.

/**
 * Settles as `work` does if it settles within `ms`; otherwise as `onTimeout()` then: with the value it
 * returns, or rejected with what it throws. The timer is cleared either way, so none is left behind
 * (`unref`: the timer does not keep the process alive meanwhile). `work` is not cancelled.
 */
export async function raceTimeout<T, L>(work: Promise<T>, ms: number, onTimeout: () => L, opts: { unref?: boolean } = {}): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<L>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err);
      }
    }, ms);
    if (opts.unref) timer.unref();
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
