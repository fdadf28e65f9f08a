// Kafka's two-step segment deletion: the files are renamed to `*.deleted` at once (a restart finishes
// the job: the loader removes such leftovers), and unlinked after file.delete.delay.ms, so reads that
// already hold the segment finish first. Close and partition deletion finish every pending delete.
import type { LogSegment } from './log-segment.js';

interface Logger {
  warn(message: string): void;
}

export class SegmentDeletions {
  private readonly pending = new Map<LogSegment, { timer: NodeJS.Timeout; renamed: Promise<void> }>();
  private readonly destroying = new Set<Promise<void>>();

  constructor(
    private readonly name: string,
    private readonly logger: Logger,
  ) {}

  /** Renames the files to *.deleted now (unless done already) and unlinks them after `delayMs`. */
  schedule(seg: LogSegment, delayMs: number, alreadyRenamed = false): void {
    const renamed = alreadyRenamed
      ? Promise.resolve()
      : seg.markDeleted().catch((err) => {
          this.logger.warn(`[${this.name}] renaming segment ${seg.baseOffset} for deletion failed: ${String(err)}`);
        });
    const timer = setTimeout(() => {
      this.pending.delete(seg);
      void renamed.then(() => this.destroy(seg));
    }, Math.max(0, delayMs));
    timer.unref?.();
    this.pending.set(seg, { timer, renamed });
  }

  private destroy(seg: LogSegment): Promise<void> {
    const p: Promise<void> = seg
      .destroy()
      .catch((err) => this.logger.warn(`[${this.name}] deleting segment ${seg.baseOffset} failed: ${String(err)}`))
      .finally(() => this.destroying.delete(p));
    this.destroying.add(p);
    return p;
  }

  /** Deletes now what was waiting for its delay (shutdown, partition deletion). */
  async finish(): Promise<void> {
    for (const [seg, { timer, renamed }] of [...this.pending]) {
      clearTimeout(timer);
      this.pending.delete(seg);
      await renamed;
      void this.destroy(seg);
    }
    while (this.destroying.size > 0) await Promise.all([...this.destroying]);
  }
}
