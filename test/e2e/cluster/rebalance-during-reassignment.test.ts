// The automatic preferred-leader rebalance (auto.leader.rebalance.enable) waits while any partition
// is being reassigned, as Kafka's controller does (checkAndTriggerAutoLeaderRebalance runs only
// when partitionsBeingReassigned is empty): a preferred replica back in the ISR is not made leader
// until the reassignment in progress has completed, then it is.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KTS_BIN, tempDir } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { IDS, ThreeBrokers } from './three-brokers.js';

const kts = (args: string[]) => run(process.execPath, [KTS_BIN, ...args], { timeoutMs: 60_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('auto leader rebalance during a reassignment', () => {
  // One broker is paused (SIGSTOP) to hold the reassignment: 20 s sessions on 1 s ticks.
  const cluster = new ThreeBrokers({ 'leader.imbalance.check.interval.seconds': '1', 'zookeeper.session.timeout.ms': '20000' }, { tickTime: 1000 });
  let paused: number | undefined;
  beforeAll(() => cluster.start(), 120_000);
  afterAll(async () => {
    if (paused !== undefined) cluster.brokers.get(paused)!.process.kill('SIGCONT');
    await cluster.stop();
  }, 120_000);

  it('a returning preferred replica leads again only after the reassignment in progress completes', async () => {
    const controller = JSON.parse((await waitFor('a controller', () => cluster.controllerNode(), 30_000))).brokerid as number;
    const [preferred, adding] = IDS.filter((id) => id !== controller);
    await cluster.createTopic('pref', 1, {}, [[preferred, controller]]);
    await cluster.createTopic('moving', 1, {}, [[controller]]);
    await waitFor(`broker ${preferred} leads pref`, async () => ((await cluster.stateNode('pref', 0)).leader === preferred ? true : null), 30_000);

    // The preferred replica stops (controlled shutdown): the controller leads pref meanwhile.
    expect(await cluster.brokers.get(preferred)!.stop('SIGTERM')).toBe(0);
    expect((await cluster.stateNode('pref', 0)).leader).toBe(controller);

    // A reassignment held in progress: its new replica's broker is paused.
    cluster.brokers.get(adding)!.process.kill('SIGSTOP');
    paused = adding;
    const plan = join(tempDir('held-plan-'), 'plan.json');
    writeFileSync(plan, JSON.stringify({ version: 1, partitions: [{ topic: 'moving', partition: 0, replicas: [controller, adding] }] }));
    const executed = await kts(['reassign-partitions', '--bootstrap-server', cluster.brokers.get(controller)!.bootstrap, '--execute', '--reassignment-json-file', plan]);
    expect(executed.code, executed.stderr).toBe(0);

    // Back and in pref's ISR; several imbalance checks pass without moving the leader.
    await cluster.startBroker(preferred);
    await waitFor(`broker ${preferred} back in pref's ISR`, async () => ((await cluster.stateNode('pref', 0)).isr.includes(preferred) ? true : null), 30_000);
    await sleep(4000);
    const during = await cluster.stateNode('pref', 0);
    const topicNode = JSON.parse((await cluster.nodeText('/brokers/topics/moving'))!);
    expect({ leader: during.leader, adding: topicNode.adding_replicas }).toEqual({ leader: controller, adding: { '0': [adding] } });

    // The reassignment completes: the next check makes the preferred replica leader.
    cluster.brokers.get(adding)!.process.kill('SIGCONT');
    paused = undefined;
    await waitFor('the reassignment completed', async () => (JSON.parse((await cluster.nodeText('/brokers/topics/moving'))!).adding_replicas?.['0'] ? null : true), 30_000);
    await waitFor(`broker ${preferred} leads pref again`, async () => ((await cluster.stateNode('pref', 0)).leader === preferred ? true : null), 30_000);
  }, 180_000);
});
