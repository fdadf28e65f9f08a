// The two coordinators a kts cluster runs on: kts's own (`zookeeper-server-start`) and a real
// Apache ZooKeeper (Debian's 3.8). Cluster suites run once on each with describe.each; the real one
// is skipped locally without java/ZooKeeper and required in CI (KTS_REQUIRE_INTEROP=1).
import { runInterop, spawnCoordinator, startRealZooKeeper } from './zookeeper.js';

export interface RunningCoordinator {
  port: number;
  stop(): Promise<unknown>;
}

export interface CoordinatorKind {
  name: 'kts' | 'apache-zookeeper';
  available: boolean;
  /** Starts one with the given tickTime (sessions may last from 2 to 20 ticks). */
  start(tickTime: number): Promise<RunningCoordinator>;
}

export const COORDINATORS: CoordinatorKind[] = [
  { name: 'kts', available: true, start: (tickTime) => spawnCoordinator({ props: { tickTime } }) },
  { name: 'apache-zookeeper', available: runInterop, start: (tickTime) => startRealZooKeeper({ tickTime }) },
];
