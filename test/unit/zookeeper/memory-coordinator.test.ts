// The coordinator with storage 'memory' (startCluster's): the same ZooKeeper semantics over a tree
// that lives in this process only. Nothing is read or written under dataDir (not even the lock or
// the session secret), and a second one on the same dataDir starts (there is nothing to share).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCoordinator } from '../../../src/coordinator/index.js';
import { ZooKeeperClient } from '../../../src/cluster/zookeeper-client.js';
import { tempDir } from '../../helpers/zookeeper.js';

describe('coordinator in memory', () => {
  it('serves creates, reads and ephemerals, writes nothing, and forgets everything at close', async () => {
    const dataDir = join(tempDir('kts-zk-memory-'), 'never-made');
    const first = await startCoordinator({ port: 0, dataDir, storage: 'memory', tickTime: 500 });
    const second = await startCoordinator({ port: 0, dataDir, storage: 'memory', tickTime: 500 });
    try {
      const zk = await ZooKeeperClient.connect(`127.0.0.1:${first.port}`, { sessionTimeoutMs: 4000 });
      const watcher = await ZooKeeperClient.connect(`127.0.0.1:${first.port}`, { sessionTimeoutMs: 4000 });
      await zk.create('/brokers');
      await zk.create('/brokers/ids');
      await zk.create('/brokers/ids/0', '{"port":9092}', { mode: 'ephemeral' });
      expect((await watcher.getData('/brokers/ids/0')).data!.toString()).toBe('{"port":9092}');
      let fired!: () => void;
      const gone = new Promise<void>((resolve) => (fired = resolve));
      expect(await watcher.exists('/brokers/ids/0', () => fired())).not.toBeNull();
      await zk.close();
      await gone; // the ephemeral went with its session, and the watch fired
      expect(await watcher.exists('/brokers/ids/0')).toBeNull();
      await watcher.close();
      // The other one has its own tree.
      const other = await ZooKeeperClient.connect(`127.0.0.1:${second.port}`, { sessionTimeoutMs: 4000 });
      expect(await other.exists('/brokers')).toBeNull();
      await other.close();
    } finally {
      await first.close();
      await second.close();
    }
    expect(existsSync(dataDir)).toBe(false);
  });
});
