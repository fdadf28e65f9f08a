// `kts cluster` against real brokers: a single broker with a rack (id, controller, the broker's
// address and rack, counts), then three brokers on the kts coordinator where one is killed: the
// partition it shared shows up under-replicated, the one it alone held offline, in the piped text,
// the JSON document and the terminal tables (fitted to 80 columns).
import { afterAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { ptyKtsRun, screenLines, shownWidth } from '../../helpers/pty.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { ThreeBrokers } from '../cluster/three-brokers.js';
import { kts } from './support.js';

describe('kts cluster', () => {
  let single: SpawnedBroker | undefined;
  const three = new ThreeBrokers({});
  afterAll(async () => {
    await single?.stop();
    await three.stop();
  });

  it('one broker: id, controller, address, rack and counts; plain piped, tables on a terminal', async () => {
    single = await spawnBroker({ overrides: { 'broker.rack': 'rack-a' } });
    const b = single.bootstrap;
    expect((await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'orders', '--partitions', '3'])).code).toBe(0);
    const r = await kts(['cluster', '--bootstrap-server', b]);
    expect(r.code, r.stderr).toBe(0);
    const [host, port] = b.split(':');
    expect(r.stdout).toMatch(
      new RegExp(
        '^CLUSTER\\n=======\\nid: +[\\w-]{22}\\ncontroller: +0\\nbrokers: +1\\ntopics: +1\\npartitions: +3\\nunder-replicated partitions: +0\\noffline partitions: +0\\n\\n' +
          `BROKERS\\n=======\\nID +HOST +PORT +RACK\\n0\\* +${host.replace(/\./g, '\\.')} +${port} +rack-a\\n$`,
      ),
    );
    const json = JSON.parse((await kts(['cluster', '--bootstrap-server', b, '--output', 'json'])).stdout);
    expect(json).toMatchObject({ controllerId: 0, brokers: [{ id: 0, host, port: Number(port), rack: 'rack-a', controller: true }], topics: 1, partitions: 3, underReplicated: [], offline: [] });
    expect(json.clusterId).toMatch(/^[\w-]{22}$/);

    const shown = await ptyKtsRun(['cluster', '--bootstrap-server', b], 80);
    expect(shown.code).toBe(0);
    const lines = screenLines(shown.output);
    expect(lines.filter((l) => shownWidth(l) > 80)).toEqual([]);
    expect(lines).toContain(`Cluster ${json.clusterId}`);
    expect(lines.some((l) => /^ID\s+HOST\s+PORT\s+RACK\s+ROLE$/.test(l))).toBe(true);
    expect(lines.some((l) => new RegExp(`^ 0\\s+${host.replace(/\./g, '\\.')}\\s+${port}\\s+rack-a\\s+controller$`).test(l))).toBe(true);
  });

  it('three brokers, one killed: under-replicated and offline partitions named', async () => {
    await three.start();
    // One partition on all three brokers, one on broker 3 alone.
    await three.createTopic('shared', 1, {}, [[1, 2, 3]]);
    await three.createTopic('alone', 1, {}, [[3]]);
    const bootstrap = three.bootstrap();
    const before = JSON.parse((await kts(['cluster', '--bootstrap-server', bootstrap, '--output', 'json'])).stdout);
    expect(before).toMatchObject({ brokers: [{ id: 1 }, { id: 2 }, { id: 3 }], underReplicated: [], offline: [] });
    await three.brokers.get(3)!.kill9();
    const alive = three.bootstrap();
    // Once the controller sees broker 3's session end: shared-0 loses it from the ISR, alone-0 its leader.
    const after = await waitFor('broker 3 out of the metadata', async () => {
      const r = await kts(['cluster', '--bootstrap-server', alive, '--output', 'json']);
      const doc = r.code === 0 ? JSON.parse(r.stdout) : null;
      return doc && doc.brokers.length === 2 && doc.underReplicated.length === 1 && doc.offline.length === 1 ? doc : null;
    }, 60_000);
    expect(after.underReplicated).toEqual([{ topic: 'shared', partition: 0, replicas: [1, 2, 3], isr: [1, 2] }]);
    expect(after.offline).toEqual([{ topic: 'alone', partition: 0, replicas: [3] }]);
    const piped = await kts(['cluster', '--bootstrap-server', alive]);
    expect(piped.stdout).toMatch(/\nbrokers: +2\n/);
    expect(piped.stdout).toMatch(/\nunder-replicated partitions: +1\noffline partitions: +1\n/);
    expect(piped.stdout).toContain('\nUNDER-REPLICATED PARTITIONS\n===========================\nTOPIC   PARTITION  REPLICAS  ISR\nshared  0          1,2,3     1,2\n');
    expect(piped.stdout).toContain('\nOFFLINE PARTITIONS\n==================\nTOPIC  PARTITION  REPLICAS\nalone  0          3\n');
    expect(piped.stdout.match(/^\d\*/m)?.[0]).toBe(`${after.controllerId}*`);
  }, 180_000);
});
