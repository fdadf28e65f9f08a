// Start-up order, as ZooKeeper's: the port is open before the database is loaded. While it loads,
// ruok answers imok, other four-letter words say the server is not serving, and a client's
// ConnectRequest waits unread, then gets its session once recovery is done.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startCoordinator, type CoordinatorHandle } from '../../../src/coordinator/index.js';
import { Database } from '../../../src/coordinator/database.js';
import { ZooKeeperClient } from '../../../src/cluster/zookeeper-client.js';
import { fourLetter, freePort, tempDir, waitFor } from '../../helpers/zookeeper.js';

describe('coordinator start-up', () => {
  afterEach(() => vi.restoreAllMocks());

  it('answers ruok while the database loads and serves a waiting client once it is loaded', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const open = Database.open.bind(Database);
    vi.spyOn(Database, 'open').mockImplementationOnce(async (opts) => {
      await gate;
      return open(opts);
    });
    const port = await freePort();
    const started = startCoordinator({ port, dataDir: tempDir('kts-zk-early-'), tickTime: 2000, fourLetterWhitelist: ['*'] });
    let handle: CoordinatorHandle | undefined;
    let client: ZooKeeperClient | undefined;
    try {
      await waitFor('ruok during load', async () => (await fourLetter(port, 'ruok')) === 'imok');
      expect(await fourLetter(port, 'srvr')).toBe('This ZooKeeper instance is not currently serving requests\n');
      let connected = false;
      const connecting = ZooKeeperClient.connect(`127.0.0.1:${port}`, { connectTimeoutMs: 10_000 }).then((c) => {
        connected = true;
        return c;
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(connected).toBe(false);

      release();
      handle = await started;
      client = await connecting;
      await client.create('/after-load', 'v');
      expect((await client.getData('/after-load')).data!.toString()).toBe('v');
      expect(await fourLetter(port, 'srvr')).toMatch(/^Zookeeper version: /);
    } finally {
      release();
      await client?.close();
      await (handle ?? (await started.catch(() => undefined)))?.close();
    }
  });
});
