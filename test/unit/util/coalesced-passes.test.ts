// CoalescedPasses: one run at a time; requests made during a run share one more pass after it; a pass
// may ask for another; nothing more once stopped; a failed pass fails its run. And no request is lost
// at the end of a run: the run is marked over in the step that decides to stop, not a microtask later
// (with `.finally(() => (running = null))`, the form the reload loops had, a request landing in between
// joined a run that made no more passes).
import { describe, expect, it } from 'vitest';
import { CoalescedPasses } from '../../../src/util/coalesced-passes.js';

/** A promise and the function that resolves it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

describe('CoalescedPasses', () => {
  it('runs one pass at a time; requests made during a run share one more pass, and wait for it', async () => {
    const gates = [gate(), gate()];
    let passes = 0;
    const runner = new CoalescedPasses(
      async () => {
        await gates[passes++].opened;
      },
      () => false,
    );
    const first = runner.request();
    const during = [runner.request(), runner.request(), runner.request()];
    expect(passes).toBe(1);
    let done = false;
    void first.then(() => (done = true));
    gates[0].open();
    await new Promise((r) => setImmediate(r));
    expect(passes).toBe(2); // the three requests made during the first pass: one more pass
    expect(done).toBe(false); // and the run goes on until it is done
    gates[1].open();
    await Promise.all([first, ...during]);
    expect(passes).toBe(2);
    expect(runner.running).toBeNull();
  });

  it('makes one more pass when a pass repeats, and none once stopped', async () => {
    let passes = 0;
    let stopped = false;
    const runner: CoalescedPasses = new CoalescedPasses(
      async () => {
        passes++;
        if (passes < 3) runner.repeat(); // a failure worth trying again
        if (passes === 2) stopped = true;
      },
      () => stopped,
    );
    await runner.request();
    expect(passes).toBe(2);
  });

  it('rejects the run for every caller when a pass throws; the next request starts a new run', async () => {
    let passes = 0;
    const release = gate();
    const runner = new CoalescedPasses(
      async () => {
        passes++;
        await release.opened;
        if (passes === 1) throw new Error('boom');
      },
      () => false,
    );
    const a = runner.request();
    const b = runner.request();
    release.open();
    await expect(a).rejects.toThrow('boom');
    await expect(b).rejects.toThrow('boom');
    expect(runner.running).toBeNull();
    await runner.request();
    expect(passes).toBe(2);
  });

  it('answers a request made in any microtask around the end of a run with a pass that starts after it', async () => {
    for (let depth = 0; depth < 16; depth++) {
      let clock = 0;
      let lastPassStart = -1;
      let requestedAt = -1;
      let scheduled = false;
      const runner: CoalescedPasses = new CoalescedPasses(
        async () => {
          lastPassStart = clock++;
          if (scheduled) return;
          scheduled = true;
          // A request `depth` microtasks from now: some depths land while the run is ending.
          let later = Promise.resolve();
          for (let i = 0; i < depth; i++) later = later.then(() => {});
          void later.then(() => {
            requestedAt = clock++;
            void runner.request();
          });
        },
        () => false,
      );
      await runner.request();
      await new Promise((r) => setImmediate(r)); // every microtask has run
      await runner.running;
      expect(requestedAt, `depth ${depth}`).toBeGreaterThanOrEqual(0);
      expect(lastPassStart, `a request ${depth} microtasks after the first pass started`).toBeGreaterThan(requestedAt);
    }
  });
});
