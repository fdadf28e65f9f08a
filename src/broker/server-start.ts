// The process around a broker: start it, say where it is, stop cleanly on SIGINT/SIGTERM.
import { parseAssignment } from '../config/properties.js';
import { startBroker } from './broker.js';
import { createLogger } from './logger.js';
import { paceGcByBytesReceived } from './network/gc-pacing.js';

export async function runServerStart(args: { config?: string; override?: string[] }): Promise<void> {
  const overrides: Record<string, string> = {};
  for (const o of args.override ?? []) {
    const [key, value] = parseAssignment(o);
    overrides[key] = value;
  }
  const log = createLogger({ component: 'kts.broker' });
  paceGcByBytesReceived();
  // A broker of `kts server-start --brokers N` has an IPC channel to its supervisor: when that closes
  // (the supervisor was killed), the broker stops too rather than live on unowned; before it serves,
  // it simply exits (the data-dir lock goes with the process).
  let onSupervisorGone: () => void = () => process.exit(1);
  // Its supervisor may stop it while it starts (another broker failed to): exiting releases the
  // data-dir lock (a death by the signal would leave it for the next start to judge stale).
  const stopWhileStarting = (signal: NodeJS.Signals) => {
    log.info(`Received ${signal} while starting, exiting`);
    process.exit(1);
  };
  if (process.send) {
    process.on('SIGTERM', stopWhileStarting);
    process.on('SIGINT', stopWhileStarting);
    process.on('disconnect', () => onSupervisorGone());
    // An orphan's stdout is a pipe nobody reads any more: its EPIPE must not stop the shutdown.
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
  }
  let broker;
  try {
    // A process nobody asks for requests() keeps none.
    broker = await startBroker({ configFile: args.config, overrides, logger: log, recordRequests: false });
  } catch (err) {
    log.error(`Fatal error during startup: ${(err as Error).message}`);
    log.error('Exiting Kafka due to fatal exception during startup.');
    process.exit(1);
  }
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${why}, shutting down`);
    broker.close().then(
      () => process.exit(0),
      (err) => {
        log.error(`Shutdown failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.off('SIGTERM', stopWhileStarting);
  process.off('SIGINT', stopWhileStarting);
  process.on('SIGINT', () => stop('Received SIGINT'));
  process.on('SIGTERM', () => stop('Received SIGTERM'));
  onSupervisorGone = () => stop('The supervisor of the local cluster is gone');
  // After the handlers: whoever waits for this line may signal at once (stdout to a pipe is written
  // before write() returns), and a signal with no handler yet would kill the broker uncleanly.
  process.stdout.write(`kts broker ${broker.nodeId} ready: bootstrap server ${broker.bootstrap}, data in ${broker.storage === 'memory' ? 'memory' : broker.dataDir}\n`);
  process.send?.({ kts: 'broker-ready', nodeId: broker.nodeId, bootstrap: broker.bootstrap, dataDir: broker.dataDir });
}
