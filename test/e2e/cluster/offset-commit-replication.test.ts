// Issue 12: an offset commit on a replicated __consumer_offsets is acknowledged only once the ISR
// has it, as Kafka's group coordinator appends with acks=-1 (offsets.commit.required.acks) and
// offsets.commit.timeout.ms. With the coordinator's two followers paused (SIGSTOP, still in the ISR)
// a commit is answered REQUEST_TIMED_OUT after the timeout and OffsetFetch keeps the previous
// offset; the coordinator is then killed, a follower takes over, and what it serves is the last
// offset that was acknowledged — never one that was acknowledged and then lost. On kts's
// coordinator and on a real Apache ZooKeeper.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COORDINATORS } from '../../helpers/coordinators.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { IDS, ThreeBrokers } from './three-brokers.js';

const TOPIC = 'committed';
const GROUP = 'replicated-offsets';
const OFFSETS = '__consumer_offsets';
const COMMIT_TIMEOUT_MS = 5000;
const FETCH_WAIT_MS = 200;

describe.each(COORDINATORS)('offset commits wait for the ISR of __consumer_offsets, on the $name coordinator', (kind) => {
  describe.skipIf(!kind.available)('three brokers', () => {
    // 20 s sessions on 1 s ticks: the paused followers keep their sessions on a loaded machine.
    // replica.lag.time.max.ms well above the pause: the followers stay in the ISR while stopped.
    const cluster = new ThreeBrokers(
      {
        'zookeeper.session.timeout.ms': '20000',
        'offsets.topic.num.partitions': '1',
        'offsets.topic.replication.factor': '3',
        'offsets.commit.timeout.ms': String(COMMIT_TIMEOUT_MS),
        'replica.lag.time.max.ms': '120000',
        'replica.fetch.wait.max.ms': String(FETCH_WAIT_MS),
      },
      { tickTime: 1000, coordinator: kind },
    );
    const paused = new Set<number>();

    beforeAll(async () => {
      await cluster.start();
    }, 120_000);

    afterAll(async () => {
      for (const id of paused) cluster.brokers.get(id)?.process.kill('SIGCONT');
      await cluster.stop();
    }, 120_000);

    async function onBroker<T>(id: number, fn: (raw: RawClient) => Promise<T>): Promise<T> {
      const raw = await RawClient.connect(cluster.brokers.get(id)!.port);
      try {
        return await fn(raw);
      } finally {
        raw.close();
      }
    }

    /** The group's coordinator as broker `via` names it (FindCoordinator v3), once there is one. */
    const coordinatorOf = (via: number) =>
      waitFor(`the coordinator of ${GROUP} named by broker ${via}`, () =>
        onBroker(via, async (raw) => {
          const found = await raw.request(10, 3, { key: GROUP, keyType: 0 });
          return found.errorCode === 0 ? (found.nodeId as number) : null;
        }).catch(() => null),
      60_000);

    const commit = (id: number, offset: number) =>
      onBroker(id, async (raw) => {
        const answer = await raw.request(8, 8, {
          groupId: GROUP,
          generationIdOrMemberEpoch: -1,
          memberId: '',
          groupInstanceId: null,
          topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: '' }] }],
        });
        return answer.topics[0].partitions[0].errorCode as number;
      });

    const fetchCommitted = (id: number) =>
      onBroker(id, async (raw) => {
        const answer = await raw.request(9, 8, { groups: [{ groupId: GROUP, topics: [{ name: TOPIC, partitionIndexes: [0] }] }], requireStable: false });
        const group = answer.groups[0];
        return { errorCode: group.errorCode as number, offset: Number(group.topics[0]?.partitions[0]?.committedOffset ?? -1) };
      });

    it('a commit the paused ISR never got is refused, and the new coordinator serves the last acknowledged offset', async () => {
      // The broker asked may not have seen the third registration yet (INVALID_REPLICATION_FACTOR, 38).
      await waitFor(`${TOPIC} created with three replicas`, () =>
        cluster.createTopic(TOPIC, 1).then(() => true, (err: Error) => {
          if (!/: 38 /.test(err.message)) throw err;
          return null;
        }),
      30_000);
      const coordinator = await coordinatorOf(IDS[0]);
      await waitFor(`${OFFSETS}-0 in sync on three brokers, led by ${coordinator}`, async () => {
        const s = await cluster.stateNode(OFFSETS, 0).catch(() => null);
        return s && s.isr.length === 3 && s.leader === coordinator ? true : null;
      }, 60_000);
      const acknowledged: number[] = [];
      const committed = await waitFor('a first commit', async () => ((await commit(coordinator, 10)) === 0 ? true : null), 30_000);
      expect(committed).toBe(true);
      acknowledged.push(10);

      const followers = IDS.filter((id) => id !== coordinator);
      for (const id of followers) {
        cluster.brokers.get(id)!.process.kill('SIGSTOP');
        paused.add(id);
      }
      // A follower stopped while its fetch waits at the leader (replica.fetch.wait.max.ms) would
      // still be sent the next commit's record by the leader, and append it once it runs again: the
      // commit would then be on the new coordinator, as Kafka's follower would have it too. Seen in
      // full runs 5 and 6 (d749850, load ~9) and 1 in 6 runs of the file: both followers at log end 2
      // after the failover, serving 20. Waiting ten times the fetch wait lets the waiting fetches end
      // (answered empty), and a stopped follower sends no other: the commit reaches no follower.
      await new Promise((r) => setTimeout(r, 10 * FETCH_WAIT_MS));
      const started = Date.now();
      const code = await commit(coordinator, 20);
      const waitedMs = Date.now() - started;
      if (code === 0) acknowledged.push(20);
      const logs = () => IDS.map((id) => `broker ${id}:\n${cluster.brokers.get(id)!.output().split('\n').filter((l) => /group|__consumer_offsets|oordinator|ISR|leader/i.test(l)).slice(-30).join('\n')}`).join('\n');
      // Kafka's answer to an append the ISR did not confirm within offsets.commit.timeout.ms.
      expect({ code, waitedAtLeastTheTimeout: waitedMs >= COMMIT_TIMEOUT_MS - 200 }, `coordinator ${coordinator}\n${logs()}`).toEqual({ code: 7, waitedAtLeastTheTimeout: true });
      // The coordinator's cache keeps the offset that was acknowledged.
      expect(await fetchCommitted(coordinator)).toEqual({ errorCode: 0, offset: 10 });

      // The coordinator dies; the followers come back and one of them takes __consumer_offsets-0 over.
      await cluster.brokers.get(coordinator)!.kill9();
      for (const id of followers) {
        cluster.brokers.get(id)!.process.kill('SIGCONT');
        paused.delete(id);
      }
      const next = await waitFor('a new coordinator', async () => {
        const s = await cluster.stateNode(OFFSETS, 0).catch(() => null);
        return s && followers.includes(s.leader) ? s.leader : null;
      }, 90_000);
      await waitFor(`broker ${next} names itself the coordinator`, async () => ((await coordinatorOf(followers[0])) === next ? true : null), 60_000);
      const served = await waitFor('the committed offset from the new coordinator', async () => {
        const r = await fetchCommitted(next).catch(() => null);
        return r && r.errorCode === 0 ? r.offset : null;
      }, 60_000);
      expect(served, logs()).toBe(acknowledged.at(-1));

      // With the ISR answering, a commit is acknowledged (after the remaining follower has it).
      expect(await waitFor('a commit on the new coordinator', async () => ((await commit(next, 30)) === 0 ? true : null), 30_000)).toBe(true);
      expect(await fetchCommitted(next)).toEqual({ errorCode: 0, offset: 30 });
    }, 300_000);
  });
});
