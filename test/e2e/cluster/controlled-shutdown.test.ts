// Leadership moves on purpose: a broker stopped with SIGTERM hands its partitions to other ISR
// members and leaves the ISRs before it deregisters (controlled shutdown), and a broker that comes
// back gets the leadership of its preferred partitions again (auto.leader.rebalance.enable).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/zookeeper.js';
import { IDS, ThreeBrokers } from './three-brokers.js';

const cluster = new ThreeBrokers({
  // The imbalance check every second (Kafka's lowest), so a test can wait for it.
  'leader.imbalance.check.interval.seconds': '1',
  // The give-up bound of a controlled shutdown is retries x backoff: 60 s here, so a stop that
  // waited for it could not pass as a quick one.
  'controlled.shutdown.retry.backoff.ms': '20000',
});

beforeAll(() => cluster.start(), 120_000);
afterAll(() => cluster.stop(), 120_000);

/** Produces acks=all to partition 0 until stopped, following the leader through Metadata on the brokers still up. */
function producerLoop(topic: string) {
  const acked = new Map<number, string>();
  let stop = false;
  let worstGapMs = 0;
  let lastAck = Date.now();
  const done = (async () => {
    // Every attempt has its own value: a write answered with an error may still be in the log (the
    // client retries it as a new record, as a producer without idempotence would).
    for (let attempt = 0; !stop; attempt++) {
      const via = IDS.find((id) => cluster.isUp(id));
      if (via === undefined) break;
      const leader = await cluster.metadata(via, topic).then((t) => t.partitions[0].leaderId, () => -1);
      if (leader < 0 || !cluster.isUp(leader)) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const value = `v-${attempt}`;
      const r = await cluster.produce(leader, topic, 0, [value]).catch(() => ({ errorCode: -1, baseOffset: -1 }));
      if (r.errorCode !== 0) {
        await new Promise((res) => setTimeout(res, 50));
        continue;
      }
      const now = Date.now();
      worstGapMs = Math.max(worstGapMs, now - lastAck);
      lastAck = now;
      acked.set(r.baseOffset, value);
    }
  })();
  return {
    acked,
    worstGapMs: () => worstGapMs,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

describe('controlled shutdown', () => {
  it('SIGTERM of a leader: leadership and the ISRs move before its registration goes; every acked record kept; exit 0', async () => {
    const TOPIC = 'cs';
    await cluster.createTopic(TOPIC, 3, { 'min.insync.replicas': '2' });
    const leader = (await cluster.stateNode(TOPIC, 0)).leader;
    const before = await Promise.all([0, 1, 2].map((p) => cluster.stateNode(TOPIC, p)));
    const producer = producerLoop(TOPIC);
    await waitFor('30 acked records', () => (producer.acked.size >= 30 ? true : null), 30_000);

    const code = await cluster.brokers.get(leader)!.stop('SIGTERM');
    expect(code).toBe(0);
    const ackedAtExit = producer.acked.size;
    await waitFor('30 more acked records on the new leader', () => (producer.acked.size >= ackedAtExit + 30 ? true : null), 30_000);
    await producer.stop();
    console.log(`controlled shutdown of broker ${leader}: longest wait between two acks ${producer.worstGapMs()} ms`);

    // The controller wrote every change while the broker was still registered: its departure (the
    // last child change of /brokers/ids) comes after the last write of every state node.
    const departed = await cluster.lastBrokerChangeZxid();
    for (let p = 0; p < 3; p++) {
      const state = await cluster.stateNode(TOPIC, p);
      expect(state.leader).not.toBe(leader);
      expect(state.isr).not.toContain(leader);
      expect(state.isr).toHaveLength(2);
      expect(Number(state.stat.mzxid)).toBeLessThan(departed);
      // A new leader has a new epoch; a follower leaving the ISR does not change the epoch.
      expect(state.leader_epoch).toBe(before[p].leader === leader ? before[p].leader_epoch + 1 : before[p].leader_epoch);
    }
    const newLeader = (await cluster.stateNode(TOPIC, 0)).leader;
    const values = await cluster.readAll(newLeader, TOPIC, 0);
    for (const [offset, value] of producer.acked) expect(values[offset]).toBe(value);
    expect(new Set(values).size).toBe(values.length);

    await cluster.startBroker(leader);
    await waitFor(`broker ${leader} back in every ISR`, async () => {
      const states = await Promise.all([0, 1, 2].map((p) => cluster.stateNode(TOPIC, p)));
      return states.every((s) => s.isr.includes(leader)) ? true : null;
    }, 60_000);
  }, 180_000);

  it('the last ISR member just stops: no waiting for the retries; the partition is offline until it returns', async () => {
    const TOPIC = 'cs-last';
    await cluster.createTopic(TOPIC, 1, {}, [[1, 2]]);
    await waitFor('broker 1 leads cs-last', async () => ((await cluster.stateNode(TOPIC, 0)).leader === 1 ? true : null), 30_000);
    // Broker 2 stops first (a controlled shutdown that takes it out of the ISR).
    expect(await cluster.brokers.get(2)!.stop('SIGTERM')).toBe(0);
    expect((await cluster.stateNode(TOPIC, 0)).isr).toEqual([1]);

    const started = Date.now();
    expect(await cluster.brokers.get(1)!.stop('SIGTERM')).toBe(0);
    const elapsed = Date.now() - started;
    console.log(`last ISR member stopped in ${elapsed} ms`);
    // Waiting out retries x backoff would take 60 s.
    expect(elapsed).toBeLessThan(45_000);
    // Broker 3, alive, is (or becomes) the controller: no leader, the ISR kept (unclean election is off).
    await waitFor('cs-last offline, its ISR kept', async () => {
      const s = await cluster.stateNode(TOPIC, 0);
      return s.leader === -1 && s.isr.join() === '1' ? true : null;
    }, 30_000);

    for (const id of [1, 2]) await cluster.startBroker(id);
    await waitFor('cs-last led by broker 1 again, both in sync', async () => {
      const s = await cluster.stateNode(TOPIC, 0);
      return s.leader === 1 && s.isr.length === 2 ? true : null;
    }, 60_000);
  }, 240_000);
});

describe('preferred replica election (auto.leader.rebalance.enable)', () => {
  it('a preferred replica that returns and catches up leads again, at a new leader epoch', async () => {
    const TOPIC = 'preferred';
    await cluster.createTopic(TOPIC, 1, {}, [[2, 3, 1]]);
    await waitFor('broker 2 leads', async () => ((await cluster.stateNode(TOPIC, 0)).leader === 2 ? true : null), 30_000);
    for (let i = 0; i < 10; i++) expect(await cluster.produceOk(2, TOPIC, 0, `a-${i}`)).toBe(i);

    expect(await cluster.brokers.get(2)!.stop('SIGTERM')).toBe(0);
    const moved = await cluster.stateNode(TOPIC, 0);
    expect(moved.leader).toBe(3);
    for (let i = 0; i < 10; i++) expect(await cluster.produceOk(3, TOPIC, 0, `b-${i}`)).toBe(10 + i);

    await cluster.startBroker(2);
    const back = await waitFor('broker 2 leads again', async () => {
      const s = await cluster.stateNode(TOPIC, 0);
      return s.leader === 2 ? s : null;
    }, 60_000);
    expect(back.isr).toContain(2);
    expect(back.leader_epoch).toBe(moved.leader_epoch + 1);
    // Broker 2 serves it once its own cache has the new state.
    const values = await waitFor('broker 2 serving preferred-0', () => cluster.readAll(2, TOPIC, 0).catch(() => null), 30_000);
    expect(values).toEqual([...Array.from({ length: 10 }, (_, i) => `a-${i}`), ...Array.from({ length: 10 }, (_, i) => `b-${i}`)]);
  }, 180_000);
});
