// Work that is asked for again while it runs (a reload after a ZooKeeper watch fires, following the
// coordinator partitions' leadership): one run at a time, and an ask made during a run is answered by
// one more pass after it, asks made meanwhile sharing that pass. Imports nothing of ours, so every
// folder may use it.

export class CoalescedPasses {
  private current: Promise<void> | null = null;
  private again = false;

  /**
   * `pass` does the work once; what it throws ends the run and rejects it for every caller.
   * `stopped` is asked before each further pass: once it says yes (the owner closed), none is made.
   */
  constructor(
    private readonly pass: () => Promise<void>,
    private readonly stopped: () => boolean,
  ) {}

  /** Starts a run, or asks the run under way for one more pass; resolves when that run ends. */
  request(): Promise<void> {
    if (this.current) {
      this.again = true;
      return this.current;
    }
    this.current = this.passes();
    return this.current;
  }

  /** From within a pass: one more pass after it (a failure worth trying again). */
  repeat(): void {
    this.again = true;
  }

  /** The run under way, if any (a close waits for it). */
  get running(): Promise<void> | null {
    return this.current;
  }

  private async passes(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped());
    } finally {
      // In the step that decides to stop, not in a .finally() a microtask later: a request in between
      // would find this run still going, ask it for a pass it no longer makes, and be lost.
      this.current = null;
    }
  }
}
