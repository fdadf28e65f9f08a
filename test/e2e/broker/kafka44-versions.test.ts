// The versions Kafka 4.4 serves that Kafka 3.9 did not, each sent raw at that version to the default
// kts (which serves them, plus the old ones). Expected answers are what a real Kafka 4.4 broker gave
// to the same requests (recorded by hand with test/helpers/real-kafka.ts; as-kafka.test.ts compares
// the advertised ranges with a live 4.4 on every run).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';
import { buildRecordBatch } from '../../../src/protocol/records/index.js';

const UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';
const ZERO_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

describe('Kafka 4.4 versions on the default broker', () => {
  let broker: SpawnedBroker;
  let raw: RawClient;
  let topicId: string;
  let clusterId: string;

  beforeAll(async () => {
    broker = await spawnBroker();
    raw = await RawClient.connect(broker.port);
    const created = await raw.request(19, 7, {
      topics: [{ name: 't44', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10000,
      validateOnly: false,
    });
    topicId = created.topics[0].topicId;
    const batch = buildRecordBatch([0, 1, 2].map((i) => ({ key: `k${i}`, value: `v${i}` })));
    const produced = await raw.request(0, 9, { transactionalId: null, acks: -1, timeoutMs: 10000, topicData: [{ name: 't44', partitionData: [{ index: 0, records: batch }] }] });
    expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
  });
  afterAll(async () => {
    raw?.close();
    await broker?.stop();
  });

  it('ApiVersions v5 advertises 4.4 maxima, finalizes group.version 1 and checks the cluster the client meant', async () => {
    const md = await raw.request(3, 13, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    clusterId = md.clusterId;
    const res = await raw.request(18, 5, { clientSoftwareName: 't', clientSoftwareVersion: '1', clusterId, nodeId: 0 });
    expect(res.errorCode).toBe(0);
    const max = new Map(res.apiKeys.map((k: { apiKey: number; maxVersion: number }) => [k.apiKey, k.maxVersion]));
    expect(Object.fromEntries([0, 1, 2, 3, 8, 9, 15, 18, 42, 60].map((key) => [key, max.get(key)]))).toEqual({
      0: 13, 1: 18, 2: 11, 3: 13, 8: 10, 9: 10, 15: 6, 18: 5, 42: 3, 60: 2,
    });
    // The old versions stay (kafka-node speaks Produce, Fetch and OffsetFetch v0).
    expect(res.apiKeys.find((k: { apiKey: number }) => k.apiKey === 0).minVersion).toBe(0);
    expect(res.finalizedFeatures).toContainEqual({ name: 'group.version', minVersionLevel: 1, maxVersionLevel: 1 });
    expect(res.supportedFeatures).toContainEqual({ name: 'group.version', minVersion: 0, maxVersion: 1 });
    // v3 leaves out the supported features whose minimum is 0, as Kafka does.
    const v3 = await raw.request(18, 3, { clientSoftwareName: 't', clientSoftwareVersion: '1' });
    expect(v3.supportedFeatures.map((f: { name: string }) => f.name)).toEqual(['metadata.version']);
    expect(v3.finalizedFeatures.map((f: { name: string }) => f.name)).toContain('group.version');

    const wrongCluster = await raw.request(18, 5, { clientSoftwareName: 't', clientSoftwareVersion: '1', clusterId: 'wrongwrongwrongwrongww', nodeId: 0 });
    expect(wrongCluster).toMatchObject({ errorCode: 129, apiKeys: [] }); // REBOOTSTRAP_REQUIRED
    const wrongNode = await raw.request(18, 5, { clientSoftwareName: 't', clientSoftwareVersion: '1', clusterId, nodeId: 7 });
    expect(wrongNode.errorCode).toBe(129);
    const halfNamed = await raw.request(18, 5, { clientSoftwareName: 't', clientSoftwareVersion: '1', clusterId, nodeId: -1 });
    expect(halfNamed.errorCode).toBe(42); // INVALID_REQUEST: both or neither
  });

  it('Metadata v13 carries a top-level error code (0)', async () => {
    const res = await raw.request(3, 13, { topics: [{ name: 't44', topicId: ZERO_ID }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(res.errorCode).toBe(0);
    expect(res.topics[0]).toMatchObject({ errorCode: 0, name: 't44', topicId });
  });

  it('Produce v12 by name and v13 by topic id append; an unknown id is UNKNOWN_TOPIC_ID', async () => {
    const v12 = await raw.request(0, 12, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10000,
      topicData: [{ name: 't44', partitionData: [{ index: 0, records: buildRecordBatch([{ value: 'v12' }]) }] }],
    });
    expect(v12.responses[0]).toMatchObject({ name: 't44', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 3 }] });
    const v13 = await raw.request(0, 13, {
      transactionalId: null,
      acks: -1,
      timeoutMs: 10000,
      topicData: [
        { topicId, partitionData: [{ index: 0, records: buildRecordBatch([{ value: 'v13' }]) }] },
        { topicId: UNKNOWN_ID, partitionData: [{ index: 0, records: buildRecordBatch([{ value: 'lost' }]) }] },
      ],
    });
    expect(v13.responses).toEqual([
      expect.objectContaining({ topicId, partitionResponses: [expect.objectContaining({ index: 0, errorCode: 0, baseOffset: 4 })] }),
      expect.objectContaining({ topicId: UNKNOWN_ID, partitionResponses: [expect.objectContaining({ index: 0, errorCode: 100 })] }),
    ]);
  });

  it('Fetch v18 reads by topic id', async () => {
    const res = await raw.request(1, 18, {
      replicaId: -1,
      replicaState: { replicaId: -1, replicaEpoch: -1 },
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    expect(res.errorCode).toBe(0);
    expect(res.responses[0].topicId).toBe(topicId);
    expect(res.responses[0].partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 5 });
    expect(res.responses[0].partitions[0].records.length).toBeGreaterThan(0);
  });

  it('ListOffsets v8-v11: -4 is the log start, -5 and -6 are -1 without tiered storage, each refused below its version', async () => {
    const ask = async (version: number, timestamp: number) =>
      (
        await raw.request(2, version, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [{ name: 't44', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }],
          timeoutMs: 1000,
        })
      ).topics[0].partitions[0];
    expect(await ask(11, -4)).toMatchObject({ errorCode: 0, offset: 0, timestamp: -1, leaderEpoch: 0 });
    expect(await ask(11, -5)).toMatchObject({ errorCode: 0, offset: -1, timestamp: -1, leaderEpoch: -1 });
    expect(await ask(11, -6)).toMatchObject({ errorCode: 0, offset: -1, timestamp: -1, leaderEpoch: -1 });
    expect(await ask(8, -4)).toMatchObject({ errorCode: 0, offset: 0 });
    expect(await ask(8, -5)).toMatchObject({ errorCode: 35, offset: -1 }); // UNSUPPORTED_VERSION
    expect(await ask(10, -6)).toMatchObject({ errorCode: 35, offset: -1 });
    expect(await ask(7, -4)).toMatchObject({ errorCode: 35, offset: -1 });
  });

  it('OffsetCommit v10 and OffsetFetch v10 name topics by id; an unknown id is UNKNOWN_TOPIC_ID', async () => {
    const committed = await raw.request(8, 10, {
      groupId: 'g44',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        { topicId, partitions: [{ partitionIndex: 0, committedOffset: 2, committedLeaderEpoch: -1, committedMetadata: 'm' }] },
        { topicId: UNKNOWN_ID, partitions: [{ partitionIndex: 0, committedOffset: 2, committedLeaderEpoch: -1, committedMetadata: 'm' }] },
      ],
    });
    expect(committed.topics).toEqual([
      { name: '', topicId, partitions: [{ partitionIndex: 0, errorCode: 0 }] },
      { name: '', topicId: UNKNOWN_ID, partitions: [{ partitionIndex: 0, errorCode: 100 }] },
    ]);
    const fetched = await raw.request(9, 10, {
      groups: [{ groupId: 'g44', memberId: null, memberEpoch: -1, topics: [{ topicId, partitionIndexes: [0, 5] }, { topicId: UNKNOWN_ID, partitionIndexes: [0] }] }],
      requireStable: false,
    });
    expect(fetched.groups[0]).toEqual({
      groupId: 'g44',
      errorCode: 0,
      topics: [
        {
          name: '',
          topicId,
          partitions: [
            { partitionIndex: 0, committedOffset: 2, committedLeaderEpoch: -1, metadata: 'm', errorCode: 0 },
            { partitionIndex: 5, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          ],
        },
        { name: '', topicId: UNKNOWN_ID, partitions: [{ partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 100 }] },
      ],
    });
    const all = await raw.request(9, 10, { groups: [{ groupId: 'g44', memberId: null, memberEpoch: -1, topics: null }], requireStable: false });
    expect(all.groups[0].topics).toEqual([
      { name: '', topicId, partitions: [{ partitionIndex: 0, committedOffset: 2, committedLeaderEpoch: -1, metadata: 'm', errorCode: 0 }] },
    ]);
  });

  it('DescribeGroups v6 answers an unknown group GROUP_ID_NOT_FOUND with a message (v5: Dead, no error)', async () => {
    const v6 = await raw.request(15, 6, { groups: ['nope'], includeAuthorizedOperations: false });
    expect(v6.groups[0]).toMatchObject({ errorCode: 69, errorMessage: 'Group nope not found.', groupId: 'nope', groupState: 'Dead' });
    const v5 = await raw.request(15, 5, { groups: ['nope'], includeAuthorizedOperations: false });
    expect(v5.groups[0]).toMatchObject({ errorCode: 0, groupId: 'nope', groupState: 'Dead' });
    // A group with committed offsets only is Empty, described without error at v6 too.
    const g44 = await raw.request(15, 6, { groups: ['g44'], includeAuthorizedOperations: false });
    expect(g44.groups[0]).toMatchObject({ errorCode: 0, errorMessage: null, groupState: 'Empty' });
  });

  it('DeleteGroups v3 and DescribeCluster v2', async () => {
    const deleted = await raw.request(42, 3, { groupsNames: ['nope'] });
    expect(deleted.results).toEqual([{ groupId: 'nope', errorCode: 69, errorMessage: null }]);
    const cluster = await raw.request(60, 2, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: true });
    expect(cluster).toMatchObject({ errorCode: 0, clusterId, brokers: [{ brokerId: 0, port: broker.port, isFenced: false }] });
  });
});
