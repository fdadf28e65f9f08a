// Debian's zkCli.sh 3.8 against `kts zookeeper-server-start` and against Apache ZooKeeper 3.8,
// with the same command script: the outputs must match line for line once times and session
// ids are masked. That covers data, versions, cversion, numChildren, zxids (writes, failed
// writes and session creation all consume zxids the same way), error messages and ls order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type RealZooKeeper,
  type SpawnedCoordinator,
  normalizeZkCli,
  runInterop,
  spawnCoordinator,
  startRealZooKeeper,
  zkCli,
} from '../../helpers/zookeeper.js';

const SCRIPT = [
  'create /kts hello',
  'create /kts/a',
  'create /kts/a/b x',
  'create -e -s /kts/eph- d',
  'get /kts',
  'set /kts world',
  'get -s /kts',
  'stat /kts',
  'ls /kts',
  'ls -s /kts',
  'get -s /kts/a/b',
  'stat /kts/eph-0000000001',
  'create /kts/a again',
  'create /nope/x',
  'create relative',
  'get /missing',
  'stat /missing',
  'delete /kts/a',
  'set -v 9 /kts stale',
  'set -v 1 /kts fresh',
  'delete -v 0 /kts/a/b',
  'create -s /kts/seq-',
  'create -s /kts/seq-',
  'create -t 1000 /kts/ttl t',
  'ls /kts',
  'getAllChildrenNumber /kts',
  'getAcl /kts',
  'sync /kts',
  'deleteall /kts/a',
  'stat /kts',
  'delete /kts/eph-0000000001',
  'deleteall /kts',
  'ls /',
  'stat /',
];

describe.skipIf(!runInterop)('zkCli.sh: kts and Apache ZooKeeper 3.8 answer alike', () => {
  let kts: SpawnedCoordinator;
  let real: RealZooKeeper;
  beforeAll(async () => {
    [kts, real] = await Promise.all([spawnCoordinator(), startRealZooKeeper()]);
  });
  afterAll(async () => {
    await Promise.all([kts?.stop(), real?.stop()]);
  });

  it('create, create -e -s, get, set, stat, ls, delete, deleteall', async () => {
    const [ours, theirs] = await Promise.all([zkCli(kts.port, SCRIPT), zkCli(real.port, SCRIPT)]);
    // stdout and stderr (error messages) are compared separately: their interleaving varies.
    const a = { out: normalizeZkCli(ours.stdout), err: normalizeZkCli(ours.stderr) };
    const b = { out: normalizeZkCli(theirs.stdout), err: normalizeZkCli(theirs.stderr) };
    // A few landmarks, so a broken zkCli run cannot pass by printing nothing on both sides.
    const all = [...b.out, ...b.err];
    expect(all).toContain('Created /kts/eph-0000000001');
    expect(all).toContain('ephemeralOwner = <session>');
    expect(all).toContain('dataVersion = 2');
    expect(all).toContain('Node does not exist: /missing');
    expect(a).toEqual(b);
  });
});
