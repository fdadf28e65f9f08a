// The body of `kts zookeeper-server-start`: read the properties file, start, and stay up until
// SIGINT/SIGTERM (clean close, exit 0). A failed transaction-log write stops the process (exit 1):
// nothing after it could be acknowledged.
import { dirname, resolve } from 'node:path';
import { readProperties } from '../config/properties.js';
import { coordinatorOptionsFromProperties } from './config.js';
import { consoleLogger } from './logger.js';
import { startCoordinator } from './index.js';

export async function runZookeeperServerStart(configPath?: string): Promise<void> {
  const log = consoleLogger();
  let props = new Map<string, string>();
  let baseDir = process.cwd();
  if (configPath) {
    const file = resolve(configPath);
    log.info(`Reading configuration from: ${file}`);
    props = await readProperties(file);
    baseDir = dirname(file);
  } else {
    log.info('No configuration file given: using defaults');
  }
  const opts = coordinatorOptionsFromProperties(props, baseDir);
  const starting = startCoordinator({
    ...opts,
    logger: log,
    onFatal: () => process.exit(1),
  });
  // Handlers before the "binding to port" line is printed: whoever waits for it may signal at once.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`Received ${signal}, shutting down`);
    starting
      .then((handle) => handle.close())
      .then(
        () => process.exit(0),
        (err: Error) => {
          log.error(`Shutdown failed: ${err.message}`);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  const handle = await starting;
  log.info(
    `kts ZooKeeper-protocol server started on ${handle.host}:${handle.port} ` +
      `(dataDir=${opts.dataDir}${opts.dataLogDir ? `, dataLogDir=${opts.dataLogDir}` : ''})`,
  );
}
