// The process around a broker: start it, say where it is, stop cleanly on SIGINT/SIGTERM.
import { parseAssignment } from '../config/properties.js';
import { startBroker } from './broker.js';
import { createLogger } from './logger.js';

export async function runServerStart(args: { config?: string; override?: string[] }): Promise<void> {
  const overrides: Record<string, string> = {};
  for (const o of args.override ?? []) {
    const [key, value] = parseAssignment(o);
    overrides[key] = value;
  }
  const log = createLogger({ component: 'kts.broker' });
  let broker;
  try {
    broker = await startBroker({ configFile: args.config, overrides, logger: log });
  } catch (err) {
    log.error(`Fatal error during startup: ${(err as Error).message}`);
    log.error('Exiting Kafka due to fatal exception during startup.');
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info(`Received ${signal}, shutting down`);
    broker.close().then(
      () => process.exit(0),
      (err) => {
        log.error(`Shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // After the handlers: whoever waits for this line may signal at once (stdout to a pipe is written
  // before write() returns), and a signal with no handler yet would kill the broker uncleanly.
  process.stdout.write(`kts broker ${broker.nodeId} ready: bootstrap server ${broker.bootstrap}, data in ${broker.dataDir}\n`);
}
