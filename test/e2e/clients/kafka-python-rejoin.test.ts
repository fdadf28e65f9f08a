// The client matrix's kafka-python "group-classic" cell, with the timing a loaded machine gave it
// now and then made certain: a proxy holds back every Metadata answer (the member's first
// JoinGroup comes before it knows the topic's partitions, so as leader it assigns nothing) and
// every SyncGroup answer (it arrives after the driver's poll(200) has given up). kafka-python
// 3.0.12 then loses the rejoin its new metadata asks for: the leader's own assignment makes
// need_rejoin() false while the finished JoinGroup/SyncGroup task is never collected, so the
// member neither takes its assignment nor heartbeats again; the broker expires it after the
// session timeout and it never comes back (the matrix cell's 90 s wait). Apache Kafka 4.4 behind
// the same proxy ends the same way (member expired, group Empty, the client stuck with nothing):
// the broker's answers are not the cause. The driver now learns the topic's partitions before its
// first poll, so its first assignment is complete and no metadata-driven rejoin follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delayingProxy, type DelayingProxy } from '../../helpers/delaying-proxy.js';
import { RawClient } from '../../helpers/raw-client.js';
import { stopProcess } from '../../helpers/processes.js';
import { interopRequired } from '../../helpers/tools.js';
import { startTestBroker, waitFor, type TestBroker } from '../groups/support.js';
import { driverFor } from './drivers.js';
import { startDriver, type DriverCommand } from './runner.js';

const METADATA = 3;
const SYNC_GROUP = 14;
const DRIVER_POLL_MS = 200; // kafka_python_driver.py group(): consumer.poll(200)

describe('kafka-python classic group member whose SyncGroup answers come after poll() gave up', () => {
  let driver: DriverCommand | null = null;
  let missing = '';
  let proxy: DelayingProxy;
  let broker: TestBroker;

  beforeAll(async () => {
    try {
      driver = driverFor('kafka-python');
    } catch (e) {
      missing = (e as Error).message;
      if (interopRequired) throw e;
      return;
    }
    proxy = await delayingProxy({ [METADATA]: 2500, [SYNC_GROUP]: 5 * DRIVER_POLL_MS });
    broker = await startTestBroker({ overrides: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxy.port}`, 'offsets.topic.num.partitions': '1' } });
    proxy.target = broker.port;
  }, 600_000);
  afterAll(async () => {
    await proxy?.close();
    await broker?.stop();
  });

  it('is assigned every partition, then shares them two-two with a second member', async ({ skip }) => {
    if (!driver) return skip(missing);
    const topic = 'late-sync';
    const raw = await RawClient.connect(broker.port);
    const created = await raw.request(19, 4, { topics: [{ name: topic, numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30_000, validateOnly: false });
    expect(created.topics[0].errorCode).toBe(0);
    // The coordinator answers at once, so the first JoinGroup comes before the delayed metadata.
    await waitFor('the group coordinator', async () => (await raw.request(10, 3, { key: `${topic}-group`, keyType: 0 })).errorCode === 0, 60_000);
    raw.close();

    const config = { bootstrap: `127.0.0.1:${proxy.port}`, topic, group: `${topic}-group`, protocol: 'classic' };
    const a = startDriver(driver, 'group', config);
    try {
      await waitFor('the first member to be assigned all 4 partitions', () => a.assigned.length === 4 || a.child.exitCode !== null, 60_000).catch((e) => {
        throw new Error(`${e.message}\nA: ${JSON.stringify(a.assigned)} ${a.log().slice(-3000)}`);
      });
      expect(a.assigned, a.log()).toEqual([0, 1, 2, 3]);
      const b = startDriver(driver, 'group', config);
      try {
        await waitFor('a two-two split', () => a.assigned.length === 2 && b.assigned.length === 2 && new Set([...a.assigned, ...b.assigned]).size === 4, 90_000).catch((e) => {
          throw new Error(`${e.message}\nA: ${JSON.stringify(a.assigned)} ${a.log().slice(-2000)}\nB: ${JSON.stringify(b.assigned)} ${b.log().slice(-2000)}`);
        });
      } finally {
        await stopProcess(b.child, 'SIGKILL');
      }
    } finally {
      await stopProcess(a.child, 'SIGKILL');
    }
    // The timing really was the one under test: every SyncGroup answer came after poll() returned.
    expect(proxy.delayed.get(SYNC_GROUP) ?? 0).toBeGreaterThanOrEqual(2);
  }, 240_000);
});
