// The process around a Connect worker, for both commands: a start that fails is one line and exit 1;
// SIGINT/SIGTERM stop the worker (its tasks commit what they delivered) and exit 0.
import { connectLog } from './standalone.js';

export async function runWorker(command: string, start: () => Promise<{ stop(): Promise<void> }>): Promise<void> {
  let worker: { stop(): Promise<void> };
  try {
    worker = await start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`kts ${command}: ${message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    connectLog('INFO Kafka Connect stopping');
    void worker.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
