// Authorization over the real wire, as Kafka's ACL authorizer: the PLAINTEXT principal is
// User:ANONYMOUS, so a broker with super.users=User:ANONYMOUS is run by a super user and one without
// it by a user who has only the ACLs given to User:ANONYMOUS. A user with Read on topic `a` and
// group `g` consumes `a`, cannot see or read `b`, cannot create topics nor write; a super user can;
// the ACLs (created through CreateAcls by kafkajs) survive the restart in between. An ACL for the
// client's host (127.0.0.1) applies; one for another host does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes, type Admin } from 'kafkajs';
import { spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { kcat } from '../../helpers/kcat.js';
import { kcatPath } from '../../helpers/tools.js';
import { RawClient } from '../../helpers/raw-client.js';
import { kts } from '../cli/support.js';
import { ApiKey, ErrorCode } from '../../../src/protocol/index.js';

const AUTHORIZER = { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer' };
const ANONYMOUS = 'User:ANONYMOUS';

function client(bootstrap: string) {
  return new Kafka({ clientId: 'acl-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
}

async function withAdmin<T>(bootstrap: string, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = client(bootstrap).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

const errorType = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: any) => err?.type ?? err?.errors?.[0]?.type ?? err?.originalError?.type ?? String(err),
  );

describe('ACLs enforced over PLAINTEXT (User:ANONYMOUS)', () => {
  const dataDir = tempDir('kts-acls-');
  let broker: SpawnedBroker | undefined;
  afterAll(async () => {
    await broker?.stop();
  });

  beforeAll(async () => {
    // A super user sets the stage: topics a and b with a record each, and the consumer's ACLs.
    broker = await spawnBroker({ dataDir, overrides: { ...AUTHORIZER, 'super.users': `User:admin;${ANONYMOUS}` } });
    await withAdmin(broker.bootstrap, async (admin) => {
      await admin.createTopics({ topics: [{ topic: 'a' }, { topic: 'b' }, { topic: 'h1' }, { topic: 'h2' }] });
      await admin.createAcls({
        acl: [
          { resourceType: AclResourceTypes.TOPIC, resourceName: 'a', resourcePatternType: ResourcePatternTypes.LITERAL, principal: ANONYMOUS, host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW },
          // Host matching: the client's address is 127.0.0.1 (without its port); h2's ACL is for another host.
          { resourceType: AclResourceTypes.TOPIC, resourceName: 'h1', resourcePatternType: ResourcePatternTypes.LITERAL, principal: ANONYMOUS, host: '127.0.0.1', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW },
          { resourceType: AclResourceTypes.TOPIC, resourceName: 'h2', resourcePatternType: ResourcePatternTypes.LITERAL, principal: ANONYMOUS, host: '10.9.9.9', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW },
          { resourceType: AclResourceTypes.GROUP, resourceName: 'g', resourcePatternType: ResourcePatternTypes.LITERAL, principal: ANONYMOUS, host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW },
        ],
      });
    });
    const producer = client(broker.bootstrap).producer();
    await producer.connect();
    await producer.send({ topic: 'a', messages: [{ value: 'for-a' }] });
    await producer.send({ topic: 'b', messages: [{ value: 'for-b' }] });
    await producer.disconnect();
    expect(await broker.stop()).toBe(0);
    broker = await spawnBroker({ dataDir, overrides: AUTHORIZER });
  }, 120_000);

  it('keeps the ACLs across the restart (DescribeAcls needs Describe on the cluster)', async () => {
    await withAdmin(broker!.bootstrap, async (admin) => {
      expect(await errorType(admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }))).toBe(
        'CLUSTER_AUTHORIZATION_FAILED',
      );
    });
  });

  it('lets the user consume topic a in group g', async () => {
    const consumer = client(broker!.bootstrap).consumer({ groupId: 'g' });
    await consumer.connect();
    const values: string[] = [];
    try {
      await consumer.subscribe({ topic: 'a', fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
        void consumer.run({
          eachMessage: async ({ message }) => {
            values.push(message.value!.toString());
            resolve();
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    expect(values).toEqual(['for-a']);
  });

  it('hides topic b from Metadata and refuses it by name', async () => {
    await withAdmin(broker!.bootstrap, async (admin) => {
      expect((await admin.listTopics()).sort()).toEqual(['a', 'h1']);
      expect(await errorType(admin.fetchTopicMetadata({ topics: ['b'] }))).toBe('TOPIC_AUTHORIZATION_FAILED');
      // A topic that does not exist is refused the same way: its absence is not told either.
      expect(await errorType(admin.fetchTopicMetadata({ topics: ['nope'] }))).toBe('TOPIC_AUTHORIZATION_FAILED');
    });
    const kcatBin = kcatPath();
    if (kcatBin) {
      const listing = await kcat(['-b', broker!.bootstrap, '-L']);
      expect(listing).toContain('topic "a"');
      expect(listing).not.toContain('topic "b"');
    }
  });

  it('refuses to read b, to use another group, to write a and to create topics', async () => {
    const other = client(broker!.bootstrap).consumer({ groupId: 'g' });
    await other.connect();
    expect(await errorType(other.subscribe({ topic: 'b', fromBeginning: true }))).toBe('TOPIC_AUTHORIZATION_FAILED');
    await other.disconnect();

    const stranger = client(broker!.bootstrap).consumer({ groupId: 'h' });
    await stranger.connect();
    await stranger.subscribe({ topic: 'a', fromBeginning: true });
    const crashed = new Promise<string>((resolve) =>
      stranger.on(stranger.events.CRASH, (e) => {
        const err = e.payload.error as any;
        resolve(err.type ?? err.cause?.type ?? err.originalError?.type ?? `${err.name}: ${err.message}`);
      }),
    );
    void stranger.run({ eachMessage: async () => {} });
    // kafkajs reports a refused FindCoordinator as "coordinator not found"; the wire says why.
    expect(await crashed).toMatch(/GROUP_AUTHORIZATION_FAILED|group coordinator/i);
    await stranger.disconnect();
    const raw = await RawClient.connect(broker!.port);
    try {
      const found = await raw.request(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['h'] });
      expect(found.coordinators[0]).toMatchObject({ key: 'h', errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, nodeId: -1 });
      const joined = await raw.request(ApiKey.JoinGroup, 5, { groupId: 'h', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [] });
      expect(joined.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
      const fetched = await raw.request(ApiKey.Fetch, 11, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: 'b', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1024 }] }],
        forgottenTopicsData: [], rackId: '',
      });
      expect(fetched.responses[0].partitions[0].errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      expect(fetched.responses[0].partitions[0].records?.length ?? 0).toBe(0);
      // The other checks KafkaApis makes, each with its own error code.
      const E = ErrorCode;
      const listed = await raw.request(ApiKey.ListOffsets, 5, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'b', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
      expect(listed.topics[0].partitions[0].errorCode).toBe(E.TOPIC_AUTHORIZATION_FAILED);
      const committed = await raw.request(ApiKey.OffsetCommit, 8, {
        groupId: 'g', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
        topics: [{ name: 'b', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      expect(committed.topics[0].partitions[0].errorCode).toBe(E.TOPIC_AUTHORIZATION_FAILED);
      const described = await raw.request(ApiKey.DescribeGroups, 5, { groups: ['g', 'h'], includeAuthorizedOperations: true });
      expect(described.groups.map((g: any) => [g.groupId, g.errorCode])).toEqual([['g', 0], ['h', E.GROUP_AUTHORIZATION_FAILED]]);
      // Read on g implies Describe; nothing else (READ=3, DESCRIBE=8).
      expect(described.groups[0].authorizedOperations).toBe((1 << 3) | (1 << 8));
      const heartbeat = (groupId: string, topics: string[]) =>
        raw.request(ApiKey.ConsumerGroupHeartbeat, 0, { groupId, memberId: '', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000, subscribedTopicNames: topics, serverAssignor: null, topicPartitions: [] });
      expect((await heartbeat('h', ['a'])).errorCode).toBe(E.GROUP_AUTHORIZATION_FAILED);
      expect((await heartbeat('g', ['a', 'b'])).errorCode).toBe(E.TOPIC_AUTHORIZATION_FAILED);
      expect((await raw.request(ApiKey.InitProducerId, 4, { transactionalId: 'tx', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 })).errorCode).toBe(E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
      expect((await raw.request(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 })).errorCode).toBe(E.CLUSTER_AUTHORIZATION_FAILED);
      const configs = await raw.request(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: 'a', configurationKeys: null }, { resourceType: 4, resourceName: '0', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
      expect(configs.results.map((r: any) => r.errorCode)).toEqual([E.TOPIC_AUTHORIZATION_FAILED, E.CLUSTER_AUTHORIZATION_FAILED]);
      // Nothing on the cluster for User:ANONYMOUS: an empty set of authorized operations.
      expect((await raw.request(ApiKey.DescribeCluster, 0, { includeClusterAuthorizedOperations: true })).clusterAuthorizedOperations).toBe(0);
      const deleted = await raw.request(ApiKey.DeleteTopics, 4, { topicNames: ['a'], timeoutMs: 5000 });
      expect(deleted.responses[0].errorCode).toBe(E.TOPIC_AUTHORIZATION_FAILED);
    } finally {
      raw.close();
    }

    const producer = client(broker!.bootstrap).producer();
    await producer.connect();
    expect(await errorType(producer.send({ topic: 'a', messages: [{ value: 'x' }] }))).toBe('TOPIC_AUTHORIZATION_FAILED');
    await producer.disconnect();

    await withAdmin(broker!.bootstrap, async (admin) => {
      expect(await errorType(admin.createTopics({ topics: [{ topic: 'new-topic' }] }))).toBe('TOPIC_AUTHORIZATION_FAILED');
    });
  });

  it('lets a super user see and read b and create topics', async () => {
    await broker!.stop();
    broker = await spawnBroker({ dataDir, overrides: { ...AUTHORIZER, 'super.users': ANONYMOUS } });
    await withAdmin(broker.bootstrap, async (admin) => {
      expect((await admin.listTopics()).filter((t) => !t.startsWith('__')).sort()).toEqual(['a', 'b', 'h1', 'h2']);
      expect(await admin.createTopics({ topics: [{ topic: 'created-by-super' }] })).toBe(true);
      const acls = await admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
      expect(acls.resources.map((r) => `${r.resourceType}:${r.resourceName}`).sort()).toEqual([`${AclResourceTypes.TOPIC}:a`, `${AclResourceTypes.TOPIC}:h1`, `${AclResourceTypes.TOPIC}:h2`, `${AclResourceTypes.GROUP}:g`].sort());
    });
    const kcatBin = kcatPath();
    if (kcatBin) expect(await kcat(['-b', broker.bootstrap, '-C', '-t', 'b', '-o', 'beginning', '-c', '1', '-e', '-f', '%s\n'])).toBe('for-b\n');
  }, 60_000);

  it('kts acls --remove asks first, as kafka-acls does without --force', async () => {
    const json = await kts(['acls', '--bootstrap-server', broker!.bootstrap, '--list', '--output', 'json']);
    expect(JSON.parse(json.stdout)).toEqual({
      acls: [
        { resourceType: 'TOPIC', name: 'a', patternType: 'LITERAL', principal: ANONYMOUS, host: '*', operation: 'READ', permissionType: 'ALLOW' },
        { resourceType: 'TOPIC', name: 'h1', patternType: 'LITERAL', principal: ANONYMOUS, host: '127.0.0.1', operation: 'READ', permissionType: 'ALLOW' },
        { resourceType: 'TOPIC', name: 'h2', patternType: 'LITERAL', principal: ANONYMOUS, host: '10.9.9.9', operation: 'READ', permissionType: 'ALLOW' },
        { resourceType: 'GROUP', name: 'g', patternType: 'LITERAL', principal: ANONYMOUS, host: '*', operation: 'READ', permissionType: 'ALLOW' },
      ],
    });
    const remove = ['acls', '--bootstrap-server', broker!.bootstrap, '--remove', '--group', 'g'];
    const question = 'Are you sure you want to delete all ACLs for resource filter `ResourcePattern(resourceType=GROUP, name=g, patternType=LITERAL)`? (y/n)\n';
    const declined = await kts(remove, { input: 'n\n' });
    expect(declined).toMatchObject({ code: 0, stdout: question });
    const listGroup = ['acls', '--bootstrap-server', broker!.bootstrap, '--list', '--group', 'g'];
    expect((await kts(listGroup)).stdout).toContain('operation=READ');
    const confirmed = await kts(remove, { input: 'y\n' });
    expect(confirmed).toMatchObject({ code: 0, stdout: question });
    expect(await kts(listGroup)).toMatchObject({ code: 0, stdout: '' });
  }, 60_000);
});

describe('without an authorizer', () => {
  let broker: SpawnedBroker;
  beforeAll(async () => {
    broker = await spawnBroker();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('answers the ACL APIs SECURITY_DISABLED, as Kafka', async () => {
    await withAdmin(broker.bootstrap, async (admin) => {
      expect(await errorType(admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }))).toBe(
        'SECURITY_DISABLED',
      );
    });
  });
});
