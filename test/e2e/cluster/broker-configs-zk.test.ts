// Dynamic broker configs in ZooKeeper mode keep Kafka's layout: AlterConfigs on the broker resource
// named by an id writes /config/brokers/<id> (that broker's own configs, DYNAMIC_BROKER_CONFIG),
// the default entity '' writes /config/brokers/<default> (every broker's, DYNAMIC_DEFAULT_BROKER_CONFIG).
// kafka-reassign-partitions --throttle sets its rates per broker and --verify clears them there;
// before, every per-broker write replaced the cluster-wide default, so a throttle set on one broker
// applied to all and clearing it on one cleared it everywhere.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KTS_BIN, tempDir } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { ThreeBrokers } from './three-brokers.js';

const kts = (args: string[]) => run(process.execPath, [KTS_BIN, ...args], { timeoutMs: 60_000 });
const RATE = 'leader.replication.throttled.rate';

describe('per-broker dynamic configs in ZooKeeper', () => {
  const cluster = new ThreeBrokers({});
  beforeAll(() => cluster.start(), 120_000);
  afterAll(() => cluster.stop(), 120_000);

  /** kts configs --describe of a broker (as Kafka's tool: its own dynamic configs; with --all, every value and its source). */
  const described = async (id: number, all = false) =>
    (await kts(['configs', '--bootstrap-server', cluster.brokers.get(id)!.bootstrap, '--describe', '--entity-type', 'brokers', '--entity-name', String(id), ...(all ? ['--all'] : [])])).stdout;

  it('an id writes /config/brokers/<id>, the default entity /config/brokers/<default>', async () => {
    const altered = await kts(['configs', '--bootstrap-server', cluster.bootstrap(), '--alter', '--entity-type', 'brokers', '--entity-name', '2', '--add-config', `${RATE}=1000`]);
    expect(altered.code, altered.stderr).toBe(0);
    expect(JSON.parse((await cluster.nodeText('/config/brokers/2'))!)).toEqual({ version: 1, config: { [RATE]: '1000' } });
    expect(await cluster.nodeText('/config/brokers/<default>')).toBeNull();
    expect(await described(2)).toContain(`${RATE}=1000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:${RATE}=1000}`);
    expect(await described(1)).not.toContain(RATE);

    const defaulted = await kts(['configs', '--bootstrap-server', cluster.bootstrap(), '--alter', '--entity-type', 'brokers', '--entity-default', '--add-config', `${RATE}=500`]);
    expect(defaulted.code, defaulted.stderr).toBe(0);
    expect(JSON.parse((await cluster.nodeText('/config/brokers/<default>'))!)).toEqual({ version: 1, config: { [RATE]: '500' } });
    // Broker 2's own value wins over the default; broker 1 takes the default. Each broker learns the
    // default when its own watch on /config/changes fires (as Kafka's do): one having it says
    // nothing of the other, so each is waited for.
    await waitFor('broker 1 takes the default', async () => ((await described(1, true)).includes(`${RATE}=500 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:${RATE}=500}`) ? true : null), 20_000);
    let two = '';
    await waitFor('broker 2 keeps its own value over the default', async () => ((two = await described(2)).includes(`${RATE}=1000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:${RATE}=1000, DYNAMIC_DEFAULT_BROKER_CONFIG:${RATE}=500}`) ? true : null), 20_000).catch((e: Error) => {
      throw new Error(`${e.message}; broker 2 described:\n${two}`);
    });

    const removed = await kts(['configs', '--bootstrap-server', cluster.bootstrap(), '--alter', '--entity-type', 'brokers', '--entity-name', '2', '--delete-config', RATE]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse((await cluster.nodeText('/config/brokers/2'))!)).toEqual({ version: 1, config: {} });
    expect(JSON.parse((await cluster.nodeText('/config/brokers/<default>'))!)).toEqual({ version: 1, config: { [RATE]: '500' } });
    const cleared = await kts(['configs', '--bootstrap-server', cluster.bootstrap(), '--alter', '--entity-type', 'brokers', '--entity-default', '--delete-config', RATE]);
    expect(cleared.code, cleared.stderr).toBe(0);
  }, 120_000);

  it('reassign-partitions --throttle sets the rates in each moving broker\'s node; --verify clears them there', async () => {
    await cluster.createTopic('throttled', 1, {}, [[1, 2]]);
    const plan = join(tempDir('throttle-plan-'), 'plan.json');
    writeFileSync(plan, JSON.stringify({ version: 1, partitions: [{ topic: 'throttled', partition: 0, replicas: [2, 3] }] }));
    const executed = await kts(['reassign-partitions', '--bootstrap-server', cluster.bootstrap(), '--execute', '--reassignment-json-file', plan, '--throttle', '5000']);
    expect(executed.code, executed.stderr).toBe(0);
    for (const id of [1, 2, 3]) {
      const node = JSON.parse((await cluster.nodeText(`/config/brokers/${id}`)) ?? '{"config":{}}');
      expect({ id, config: node.config }).toEqual({ id, config: { 'leader.replication.throttled.rate': '5000', 'follower.replication.throttled.rate': '5000' } });
    }
    expect(await cluster.nodeText('/config/brokers/<default>')).not.toContain('throttled.rate');
    await waitFor('the move completed and its throttles cleared', async () => {
      const verified = await kts(['reassign-partitions', '--bootstrap-server', cluster.bootstrap(), '--verify', '--reassignment-json-file', plan]);
      return verified.stdout.includes('Clearing broker-level throttles') ? true : null;
    }, 60_000);
    for (const id of [1, 2, 3]) expect({ id, node: JSON.parse((await cluster.nodeText(`/config/brokers/${id}`))!) }).toEqual({ id, node: { version: 1, config: {} } });
  }, 120_000);
});
