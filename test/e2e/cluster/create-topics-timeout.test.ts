// CreateTopics and CreatePartitions wait for the new partitions' leaders as long as the request's
// timeoutMs says, as Kafka's ZooKeeper mode (ZkAdminManager + DelayedCreatePartitions): past it the
// answer is REQUEST_TIMED_OUT with no message, and for a timeout <= 0 it comes at once; either way
// the topic (or the partitions) is created and the controller gives it leaders afterwards. Before,
// kts waited a fixed 15 s whatever the client asked. The controller is held with SIGSTOP so that no
// leader can be elected while the request waits.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../../helpers/zookeeper.js';
import { IDS, ThreeBrokers } from './three-brokers.js';

const REQUEST_TIMED_OUT = 7;
const cluster = new ThreeBrokers({});

beforeAll(() => cluster.start(), 120_000);
afterAll(() => cluster.stop(), 120_000);

const createTopic = (via: number, name: string, timeoutMs: number, assignment: number[]) =>
  cluster.request(via, 19, 5, {
    topics: [{ name, numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: assignment }], configs: [] }],
    timeoutMs,
    validateOnly: false,
  });

const createPartitions = (via: number, name: string, count: number, timeoutMs: number) =>
  cluster.request(via, 37, 3, { topics: [{ name, count, assignments: null }], timeoutMs, validateOnly: false });

/** Waits until broker `via`'s Metadata gives every partition of `topic` a leader; their count. */
async function ledPartitions(via: number, topic: string, partitions: number): Promise<void> {
  await waitFor(`${topic}: ${partitions} partitions with a leader`, async () => {
    const t = await cluster.metadata(via, topic);
    return t.errorCode === 0 && t.partitions.length === partitions && t.partitions.every((p: any) => p.leaderId >= 0) ? true : null;
  }, 30_000);
}

it('a timeout of 0 answers REQUEST_TIMED_OUT at once; the topic is created and gets its leader', async () => {
  const t0 = performance.now();
  const res = await createTopic(1, 'zero', 0, [1, 2, 3]);
  expect(res.topics[0]).toMatchObject({ name: 'zero', errorCode: REQUEST_TIMED_OUT, errorMessage: null });
  expect(performance.now() - t0).toBeLessThan(5_000);
  await ledPartitions(1, 'zero', 1);
}, 60_000);

it('with the controller held, CreateTopics and CreatePartitions answer REQUEST_TIMED_OUT after timeoutMs, not 15 s', async () => {
  const controller = JSON.parse((await cluster.controllerNode())!).brokerid as number;
  const via = IDS.find((id) => id !== controller)!;
  cluster.pause(controller);
  try {
    let t0 = performance.now();
    const created = await createTopic(via, 'late', 1500, [via]);
    let waited = performance.now() - t0;
    expect(created.topics[0]).toMatchObject({ name: 'late', errorCode: REQUEST_TIMED_OUT, errorMessage: null });
    expect(waited).toBeGreaterThanOrEqual(1400);
    expect(waited).toBeLessThan(8_000);
    expect(await cluster.exists('/brokers/topics/late')).toBe(true); // created all the same

    t0 = performance.now();
    const grown = await createPartitions(via, 'zero', 2, 1500);
    waited = performance.now() - t0;
    expect(grown.results[0]).toMatchObject({ name: 'zero', errorCode: REQUEST_TIMED_OUT, errorMessage: null });
    expect(waited).toBeGreaterThanOrEqual(1400);
    expect(waited).toBeLessThan(8_000);
  } finally {
    cluster.resume(controller);
  }
  // The controller, back, elects what was created meanwhile.
  await ledPartitions(via, 'late', 1);
  await ledPartitions(via, 'zero', 2);
}, 90_000);
