// `kts leader-election` (Kafka's kafka-leader-election.sh) and ElectLeaders on a three-broker
// cluster with auto.leader.rebalance.enable=false, so only the tool moves leaders back.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { waitFor } from '../../helpers/zookeeper.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { kts } from '../cli/support.js';
import { IDS, ThreeBrokers } from './three-brokers.js';

const cluster = new ThreeBrokers({ 'auto.leader.rebalance.enable': 'false' });

beforeAll(() => cluster.start(), 120_000);
afterAll(() => cluster.stop(), 120_000);

const tool = (args: string[]) => kts(['leader-election', '--bootstrap-server', cluster.bootstrap(), ...args], { timeoutMs: 60_000 });

describe('kts leader-election', () => {
  it('--election-type preferred gives a partition back to its first replica (new leader epoch); again: nothing to do', async () => {
    await cluster.createTopic('le', 2, {}, [[1, 2, 3], [2, 3, 1]]);
    await waitFor('broker 1 leads le-0', async () => ((await cluster.stateNode('le', 0)).leader === 1 ? true : null), 30_000);
    expect(await cluster.brokers.get(1)!.stop('SIGTERM')).toBe(0);
    await cluster.startBroker(1);
    const moved = await waitFor('broker 1 back in the ISR of le-0, not leading', async () => {
      const s = await cluster.stateNode('le', 0);
      return s.isr.includes(1) ? s : null;
    }, 60_000);
    expect(moved.leader).toBe(2);

    const elected = await tool(['--election-type', 'preferred', '--topic', 'le', '--partition', '0']);
    expect(elected).toMatchObject({ code: 0, stdout: 'Successfully completed leader election (PREFERRED) for partitions le-0\n', stderr: '' });
    const after = await cluster.stateNode('le', 0);
    expect(after.leader).toBe(1);
    expect(after.leader_epoch).toBe(moved.leader_epoch + 1);
    expect(after.isr).toEqual(moved.isr);

    const again = await tool(['--election-type', 'PREFERRED', '--topic', 'le', '--partition', '0']);
    expect(again).toMatchObject({ code: 0, stdout: 'Valid replica already elected for partitions le-0\n', stderr: '' });
    // Every partition already led by its preferred replica: Kafka's answer leaves them all out.
    expect(await tool(['--election-type', 'preferred', '--all-topic-partitions'])).toMatchObject({ code: 0, stdout: '', stderr: '' });
  }, 180_000);

  it('--path-to-json-file: a partition that does not exist fails the run (exit 1) after the others are reported', async () => {
    const file = join(tempDir('kts-election-'), 'election.json');
    writeFileSync(file, JSON.stringify({ partitions: [{ topic: 'le', partition: 0 }, { topic: 'le', partition: 1 }, { topic: 'nope', partition: 0 }] }));
    const r = await tool(['--election-type', 'preferred', '--path-to-json-file', file]);
    expect(r.code).toBe(1);
    // Java's HashSet order of TopicPartition: le-1 (bucket 9) before le-0 (bucket 10).
    expect(r.stdout).toBe(
      'Valid replica already elected for partitions le-1, le-0\n' +
        'Error completing leader election (PREFERRED) for partition: nope-0: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: The partition does not exist.\n',
    );
    expect(r.stderr).toBe('1 replica(s) could not be elected\n');

    writeFileSync(file, JSON.stringify({ partitions: [{ topic: 'le', partition: 0 }, { topic: 'le', partition: 0 }] }));
    expect(await tool(['--election-type', 'preferred', '--path-to-json-file', file])).toMatchObject({ code: 1, stdout: '', stderr: 'Replica election data contains duplicate partitions: [le-0]\n' });
    expect(await tool(['--election-type', 'preferred', '--topic', 'le'])).toMatchObject({ code: 1, stderr: 'Missing required option(s): partition\n' });
    expect(await tool(['--election-type', 'preferred', '--topic', 'le', '--partition', '0', '--all-topic-partitions'])).toMatchObject({
      code: 1,
      stderr: 'One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file\n',
    });
  }, 120_000);

  it('--election-type unclean: an offline partition whose ISR is gone gets a live out-of-sync replica as leader', async () => {
    await cluster.createTopic('unc', 1, {}, [[2, 3]]);
    await waitFor('broker 2 leads unc-0', async () => ((await cluster.stateNode('unc', 0)).leader === 2 ? true : null), 30_000);
    expect(await cluster.brokers.get(3)!.stop('SIGTERM')).toBe(0);
    await cluster.brokers.get(2)!.kill9();
    const offline = await waitFor('unc-0 offline with ISR [2]', async () => {
      const s = await cluster.stateNode('unc', 0);
      return s.leader === -1 ? s : null;
    }, 60_000);
    expect(offline.isr).toEqual([2]);
    await cluster.startBroker(3);
    // unclean.leader.election.enable=false: broker 3 is back but not in the ISR, so no leader.
    expect((await cluster.stateNode('unc', 0)).leader).toBe(-1);
    const preferred = await tool(['--election-type', 'preferred', '--topic', 'unc', '--partition', '0']);
    expect(preferred.code).toBe(1);
    expect(preferred.stdout).toBe('Error completing leader election (PREFERRED) for partition: unc-0: org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: Failed to elect leader for partition unc-0 under strategy PreferredReplicaPartitionLeaderElectionStrategy\n');

    const r = await tool(['--election-type', 'unclean', '--topic', 'unc', '--partition', '0']);
    expect(r).toMatchObject({ code: 0, stdout: 'Successfully completed leader election (UNCLEAN) for partitions unc-0\n', stderr: '' });
    const s = await cluster.stateNode('unc', 0);
    expect(s).toMatchObject({ leader: 3, isr: [3], leader_epoch: offline.leader_epoch + 1 });
    await cluster.startBroker(2);
    await waitFor('broker 2 back in the ISR of unc-0', async () => ((await cluster.stateNode('unc', 0)).isr.length === 2 ? true : null), 60_000);
  }, 180_000);

  it('ElectLeaders sent to a broker that is not the controller is forwarded to it', async () => {
    const controller = JSON.parse((await waitFor('a controller', () => cluster.controllerNode())) as string).brokerid;
    const other = IDS.find((id) => id !== controller && cluster.isUp(id))!;
    const client = await RawClient.connect(cluster.brokers.get(other)!.port);
    try {
      const body = await client.request(43, 2, { electionType: 0, topicPartitions: [{ topic: 'le', partitions: [0] }], timeoutMs: 30_000 });
      expect(body.errorCode).toBe(0);
      expect(body.replicaElectionResults).toEqual([{ topic: 'le', partitionResult: [{ partitionId: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' }] }]);
    } finally {
      client.close();
    }
  }, 60_000);
});
