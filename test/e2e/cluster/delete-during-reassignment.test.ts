// Deleting a topic while a reassignment of it is in progress. Kafka's controller holds the deletion
// back (TopicDeletionManager: the topic is ineligible while it is being reassigned) and resumes it
// once the reassignment completes; meanwhile a reassignment or cancellation of the topic is refused
// with UNKNOWN_TOPIC_OR_PARTITION ("The partition does not exist."). kts deleted the znodes at once,
// from under the move. Three real brokers; the move's new replica is paused (SIGSTOP, registered)
// so the reassignment stays in progress until it is let go.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../../helpers/zookeeper.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { IDS, ThreeBrokers } from './three-brokers.js';

// The paused broker must stay registered through the held phase: sessions of 20 s (ticks of 1 s).
const cluster = new ThreeBrokers({ 'zookeeper.session.timeout.ms': '20000', 'auto.leader.rebalance.enable': 'false' }, { tickTime: 1000 });
const TOPIC = 'doomed';

beforeAll(() => cluster.start(), 120_000);
afterAll(() => cluster.stop(), 120_000);

const request = (id: number, apiKey: number, version: number, body: any) => cluster.request(id, apiKey, version, body);

const reassign = (via: number, replicas: number[] | null) =>
  request(via, 45, 0, { timeoutMs: 30_000, topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, replicas }] }] }).then((b) => b.responses[0].partitions[0]);

it('a deletion waits for the reassignment in progress, which cannot be changed meanwhile; the topic goes once the move completes', async () => {
  const controller = JSON.parse((await cluster.controllerNode())!).brokerid as number;
  // The new replica (paused) must not be the controller, which decides the move and the deletion.
  const target = IDS.find((id) => id !== controller)!;
  const [kept, removed] = IDS.filter((id) => id !== target);
  await cluster.createTopic(TOPIC, 1, {}, [[kept, removed]]);
  await cluster.produceOk(kept, TOPIC, 0, 'before the move');

  cluster.pause(target);
  expect(await reassign(controller, [kept, target])).toMatchObject({ errorCode: 0 });
  await waitFor('the move in the topic znode', async () => {
    const doc = JSON.parse((await cluster.nodeText(`/brokers/topics/${TOPIC}`)) ?? '{}');
    return doc.adding_replicas?.['0']?.includes(target) ? true : null;
  }, 30_000);

  const deleted = request(kept, 20, 4, { topicNames: [TOPIC], timeoutMs: 30_000 }).then((b) => b.responses[0]);
  await waitFor('the controller holding the deletion back', async () =>
    (cluster.brokers.get(controller)!.output().includes(`Deletion of topic ${TOPIC} held back: topic reassignment in progress`) ? true : null), 30_000);
  expect(await cluster.exists(`/admin/delete_topics/${TOPIC}`)).toBe(true);
  expect(await cluster.exists(`/brokers/topics/${TOPIC}`)).toBe(true);
  // Another DeleteTopics meanwhile is answered at its own timeout (Kafka's DelayedDeleteTopics), not
  // after a fixed wait: REQUEST_TIMED_OUT, and the deletion stays queued.
  for (const timeoutMs of [0, 500]) {
    const asked = Date.now();
    const answer = (await request(kept, 20, 4, { topicNames: [TOPIC], timeoutMs })).responses[0];
    expect([answer.errorCode, Date.now() - asked < 10_000]).toEqual([ErrorCode.REQUEST_TIMED_OUT, true]);
  }
  expect(await cluster.exists(`/admin/delete_topics/${TOPIC}`)).toBe(true);
  expect((await cluster.stateNode(TOPIC, 0)).leader).toBe(kept);
  // Neither a new plan nor a cancellation of a topic queued for deletion (Kafka's answer).
  expect(await reassign(controller, null)).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'The partition does not exist.' });
  expect(await reassign(controller, [kept, removed])).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });

  // The new replica catches up, the move completes, then the topic goes, from every broker.
  cluster.resume(target);
  // The controller removes the topic's znodes, then the deletion request's.
  await waitFor('the topic deleted', async () =>
    (!(await cluster.exists(`/brokers/topics/${TOPIC}`)) && !(await cluster.exists(`/admin/delete_topics/${TOPIC}`)) ? true : null), 60_000);
  await waitFor('no broker keeps a log of it', async () => (IDS.every((id) => !existsSync(join(cluster.brokers.get(id)!.dataDir, `${TOPIC}-0`))) ? true : null), 60_000);
  // The DeleteTopics answer: done, or (on a slow machine) timed out while the move went on, as Kafka's.
  expect([ErrorCode.NONE, ErrorCode.REQUEST_TIMED_OUT]).toContain((await deleted).errorCode);
  expect(cluster.brokers.get(controller)!.output()).toMatch(new RegExp(`reassignment to \\[${kept},${target}\\] completed`));
}, 180_000);
