// `kts zookeeper-server-start`: a standalone ZooKeeper-protocol coordination server.
import { Coordinator, type CoordinatorHandle, type CoordinatorOptions } from './server.js';

export type { CoordinatorHandle, CoordinatorOptions } from './server.js';
export type { CoordinatorLogger } from './logger.js';
export { consoleLogger, silentLogger } from './logger.js';
export { coordinatorOptionsFromProperties } from './config.js';

/** Recovers the data directory, then listens. Resolves once clients can connect. */
export async function startCoordinator(opts: CoordinatorOptions): Promise<CoordinatorHandle> {
  return new Coordinator(opts).start();
}
