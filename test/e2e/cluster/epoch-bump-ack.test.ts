// An acks=all produce waiting for the ISR when the controller bumps the leader epoch and keeps the
// leader (here: a reassignment completing, which drops the removed replica from the ISR with a new
// epoch). Kafka keeps the produce waiting (delayed produce fails only when the leadership is lost):
// the high watermark passes it once the new ISR has it, and it is acknowledged. kts answered it
// NOT_LEADER_OR_FOLLOWER at the bump. Three real brokers; the replica being removed is paused
// (SIGSTOP, still registered and in the ISR), so the produce waits until the move completes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { IDS, ThreeBrokers } from './three-brokers.js';

const cluster = new ThreeBrokers(
  { 'zookeeper.session.timeout.ms': '20000', 'replica.lag.time.max.ms': '120000', 'auto.leader.rebalance.enable': 'false' },
  { tickTime: 1000 },
);
const TOPIC = 'bump';

beforeAll(() => cluster.start(), 120_000);
afterAll(() => cluster.stop(), 120_000);

it('a produce waiting for the ISR is acknowledged across an epoch bump that keeps its leader', async () => {
  const controller = JSON.parse((await cluster.controllerNode())!).brokerid as number;
  const removed = IDS.find((id) => id !== controller)!; // paused: not the controller, which completes the move
  const [leader, target] = IDS.filter((id) => id !== removed);
  await cluster.createTopic(TOPIC, 1, { 'min.insync.replicas': '2' }, [[leader, removed]]);
  const before = await waitFor('leader and ISR settled', async () => {
    const s = await cluster.stateNode(TOPIC, 0);
    return s.leader === leader && s.isr.length === 2 ? s : null;
  }, 30_000);
  await cluster.produceOk(leader, TOPIC, 0, 'before');

  cluster.pause(removed);
  const pending = cluster.produce(leader, TOPIC, 0, ['waits for the ISR']);

  const c = await RawClient.connect(cluster.brokers.get(controller)!.port);
  try {
    const body = await c.request(45, 0, { timeoutMs: 30_000, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, replicas: [leader, target] }] }] });
    expect(body.responses[0].partitions[0].errorCode).toBe(0);
  } finally {
    c.close();
  }
  const after = await waitFor('the move completed', async () => {
    const s = await cluster.stateNode(TOPIC, 0);
    return s.leader_epoch > before.leader_epoch ? s : null;
  }, 30_000);
  expect(after).toMatchObject({ leader, leader_epoch: before.leader_epoch + 1 });
  expect([...after.isr].sort()).toEqual([leader, target].sort());

  expect(await pending).toEqual({ errorCode: 0, baseOffset: 1 });
  expect(await cluster.readAll(leader, TOPIC, 0)).toEqual(['before', 'waits for the ISR']);
}, 120_000);
