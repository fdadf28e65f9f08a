// kts's own client speaks the topic-id forms when the broker offers them (src/client/versions.ts):
// Fetch v13+, OffsetCommit v10 and OffsetFetch v10 name topics by the ids Metadata gave, answers
// are mapped back to names, and a topic deleted and re-created under the same name (a new id) is
// found again after UNKNOWN_TOPIC_ID and a metadata refresh. A proxy in front of the kts broker
// notes each request's version. Against Kafka 4.4 and 3.9: test/e2e/real-kafka/client-versions.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../../src/client/index.js';
import { API } from '../../../src/client/versions.js';
import { freePort, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { requestRecordingProxy, type RecordingProxy } from '../../helpers/real-kafka.js';

describe("kts's client by topic id", () => {
  let broker: SpawnedBroker;
  let proxy: RecordingProxy;
  let client: KafkaClient;
  let other: KafkaClient;
  beforeAll(async () => {
    const port = await freePort();
    const proxyPort = await freePort();
    broker = await spawnBroker({ port, overrides: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxyPort}` } });
    proxy = await requestRecordingProxy(port, proxyPort);
    client = await KafkaClient.connect(`127.0.0.1:${proxyPort}`, { clientId: 'by-id' });
    other = await KafkaClient.connect(broker.bootstrap, { clientId: 'other' });
  });
  afterAll(async () => {
    client?.close();
    other?.close();
    await proxy?.close();
    await broker?.stop();
  });

  const versions = (apiKey: number) => [...new Set(proxy.requests.filter((r) => r.apiKey === apiKey && r.clientId === 'by-id').map((r) => r.version))];
  const values = async (c: KafkaClient, topic: string) => (await c.fetch([{ topic, partition: 0, offset: 0 }], { maxWaitMs: 100 }))[0];

  it('fetches, commits and reads committed offsets by topic id, and the answers name the topics', async () => {
    const [created] = await client.admin.createTopics([{ name: 'ids', numPartitions: 1, replicationFactor: 1 }]);
    expect(created.error).toBeUndefined();
    const producer = client.producer({ acks: -1 });
    for (const v of ['a', 'b', 'c']) await producer.send('ids', { key: null, value: Buffer.from(v) });
    const fetched = await values(client, 'ids');
    expect(fetched.errorCode).toBe(0);
    expect(fetched.records.map((r) => `${r.topic}:${r.offset}:${r.value}`)).toEqual(['ids:0:a', 'ids:1:b', 'ids:2:c']);
    expect(versions(API.Fetch)).toEqual([18]);

    const committed = await client.groups.commitOffsets('by-id-group', [{ topic: 'ids', partition: 0, offset: 3, metadata: 'm' }]);
    expect(committed).toEqual([{ topic: 'ids', partition: 0, error: undefined }]);
    expect(versions(API.OffsetCommit)).toEqual([10]);
    const one = { topic: 'ids', partition: 0, offset: 3, leaderEpoch: -1, metadata: 'm', error: undefined };
    expect(await client.groups.fetchOffsets('by-id-group', [{ topic: 'ids', partition: 0 }])).toEqual([one]);
    // Every topic of the group: the ids answered are named through Metadata.
    expect(await client.groups.fetchOffsets('by-id-group')).toEqual([one]);
    expect(versions(API.OffsetFetch)).toEqual([10]);
  });

  it('finds a topic re-created under the same name (a new id) after UNKNOWN_TOPIC_ID', async () => {
    const oldId = client.cluster.topic('ids')!.topicId;
    const deleted = await other.admin.deleteTopics(['ids']);
    expect(deleted).toEqual([{ name: 'ids', error: undefined }]);
    let created;
    for (const t0 = Date.now(); Date.now() - t0 < 20_000; await new Promise((r) => setTimeout(r, 100))) {
      [created] = await other.admin.createTopics([{ name: 'ids', numPartitions: 1, replicationFactor: 1 }]);
      if (!created.error) break;
    }
    expect(created!.error).toBeUndefined();
    await other.producer({ acks: -1 }).send('ids', { key: null, value: Buffer.from('new') });
    // The client still holds the old id: the broker answers UNKNOWN_TOPIC_ID, the client refreshes.
    expect(client.cluster.topic('ids')!.topicId).toBe(oldId);
    const fetched = await values(client, 'ids');
    expect(fetched.errorCode).toBe(0);
    expect(fetched.records.map((r) => String(r.value))).toEqual(['new']);
    expect(client.cluster.topic('ids')!.topicId).not.toBe(oldId);
  });
});
