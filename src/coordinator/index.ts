// `kts zookeeper-server-start`: a standalone ZooKeeper-protocol coordination server.
import { Coordinator, type CoordinatorHandle, type CoordinatorOptions } from './server.js';

export type { CoordinatorHandle, CoordinatorOptions } from './server.js';
export type { CoordinatorLogger } from './logger.js';
export { consoleLogger, silentLogger } from './logger.js';
export { coordinatorOptionsFromProperties } from './config.js';

/**
 * Listens, then recovers the data directory (ruok is answered meanwhile; clients wait). Resolves
 * once clients are served.
 */
export async function startCoordinator(opts: CoordinatorOptions): Promise<CoordinatorHandle> {
  return new Coordinator(opts).start();
}
