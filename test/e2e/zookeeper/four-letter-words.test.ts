// Four-letter words: ruok -> imok, srvr/stat/mntr/conf in ZooKeeper's formats, the whitelist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type CoordinatorHandle } from '../../../src/coordinator/index.js';
import { fourLetter, runInterop, startRealZooKeeper, tempDir, type RealZooKeeper } from '../../helpers/zookeeper.js';

const keys = (text: string) => text.trim().split('\n').map((l) => l.split(/[:=\t]/)[0]);

describe('four-letter words', () => {
  let kts: CoordinatorHandle;
  let restricted: CoordinatorHandle;
  beforeAll(async () => {
    kts = await startCoordinator({ port: 0, dataDir: tempDir('kts-4lw-'), tickTime: 2000, fourLetterWhitelist: ['ruok', 'stat', 'mntr', 'conf', 'isro'] });
    restricted = await startCoordinator({ port: 0, dataDir: tempDir('kts-4lw-'), tickTime: 2000 });
  });
  afterAll(async () => {
    await kts?.close();
    await restricted?.close();
  });

  it('ruok -> imok (no newline), isro -> rw', async () => {
    expect(await fourLetter(kts.port, 'ruok')).toBe('imok');
    expect(await fourLetter(kts.port, 'isro')).toBe('rw');
  });

  it('srvr has ZooKeeper’s lines', async () => {
    const srvr = await fourLetter(kts.port, 'srvr');
    expect(srvr).toMatch(
      /^Zookeeper version: 3\.8\.0-kts[^\n]*\nLatency min\/avg\/max: \d+\/[\d.]+\/\d+\nReceived: \d+\nSent: \d+\nConnections: \d+\nOutstanding: 0\nZxid: 0x[0-9a-f]+\nMode: standalone\nNode count: 4\n$/,
    );
  });

  it('stat lists clients, mntr is key<TAB>value, conf reports the session bounds', async () => {
    const stat = await fourLetter(kts.port, 'stat');
    expect(stat).toMatch(/\nClients:\n \/127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)\n\n/);
    const mntr = await fourLetter(kts.port, 'mntr');
    for (const k of ['zk_version', 'zk_server_state', 'zk_znode_count', 'zk_ephemerals_count', 'zk_num_alive_connections', 'zk_watch_count', 'zk_avg_latency']) {
      expect(mntr).toMatch(new RegExp(`^${k}\\t.+$`, 'm'));
    }
    expect(mntr).toMatch(/^zk_server_state\tstandalone$/m);
    const conf = await fourLetter(kts.port, 'conf');
    expect(conf).toMatch(/^tickTime=2000$/m);
    expect(conf).toMatch(/^minSessionTimeout=4000$/m);
    expect(conf).toMatch(/^maxSessionTimeout=40000$/m);
    expect(conf).toMatch(/^dataDir=.*\/version-2$/m);
  });

  it('only whitelisted words run; srvr always does', async () => {
    expect(await fourLetter(restricted.port, 'ruok')).toBe('ruok is not executed because it is not in the whitelist.\n');
    expect(await fourLetter(kts.port, 'dump')).toBe('dump is not executed because it is not in the whitelist.\n');
    expect(await fourLetter(restricted.port, 'srvr')).toMatch(/^Zookeeper version: /);
  });

  describe.skipIf(!runInterop)('against Apache ZooKeeper 3.8', () => {
    let real: RealZooKeeper;
    beforeAll(async () => {
      real = await startRealZooKeeper({ whitelist: 'ruok,stat,mntr,conf,isro' });
    });
    afterAll(async () => {
      await real?.stop();
    });

    it('answers with the same lines', async () => {
      for (const word of ['ruok', 'isro', 'dump']) expect(await fourLetter(kts.port, word)).toBe(await fourLetter(real.port, word));
      expect(keys(await fourLetter(kts.port, 'srvr'))).toEqual(keys(await fourLetter(real.port, 'srvr')));
      expect(keys(await fourLetter(kts.port, 'stat'))).toEqual(keys(await fourLetter(real.port, 'stat')));
      expect(keys(await fourLetter(kts.port, 'conf'))).toEqual(keys(await fourLetter(real.port, 'conf')).filter((k) => k !== 'initLimit' && k !== 'syncLimit'));
    });
  });
});
