// What source and sink task runners share: the task's state as the REST API reports it
// (UNASSIGNED, RUNNING, PAUSED, FAILED with its trace), pause/resume, and a stop that waits for the
// loop to end and the task to stop.

export type TaskState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED' | 'RESTARTING';

export interface RunnerDeps {
  connector: string;
  taskId: number;
  config: Record<string, string>;
  log(line: string): void;
}

export abstract class TaskRunner {
  state: TaskState = 'UNASSIGNED';
  trace: string | null = null;
  protected stopping = false;
  protected paused = false;
  private wake: (() => void) | null = null;
  private done: Promise<void> | null = null;

  constructor(private readonly base: RunnerDeps) {}

  start(paused: boolean): void {
    this.paused = paused;
    this.done = this.work().then(
      () => undefined,
      (err: unknown) => {
        if (this.stopping) return;
        this.state = 'FAILED';
        this.trace = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
        this.base.log(`ERROR ${this.base.connector}-${this.base.taskId} Task threw an uncaught and unrecoverable exception. Task is being killed and will not recover until manually restarted: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  }

  protected started(): void {
    if (this.state !== 'FAILED') this.state = this.paused ? 'PAUSED' : 'RUNNING';
  }

  pause(): void {
    this.paused = true;
    if (this.state === 'RUNNING') this.state = 'PAUSED';
  }

  resume(): void {
    this.paused = false;
    if (this.state === 'PAUSED') this.state = 'RUNNING';
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.done;
    await this.cleanup().catch(() => undefined);
  }

  /** Sleeps up to `ms`, cut short by resume() or stop(). */
  protected idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  protected async waitWhilePaused(): Promise<void> {
    while (this.paused && !this.stopping) await this.idle(1000);
  }

  protected abstract work(): Promise<void>;
  protected abstract cleanup(): Promise<void>;
}
