// Golden bytes captured from real clients (scripts/capture-client-frames.mjs): kafkajs 2.2.4,
// kafka-node 5.0.0 and kcat 1.7.1 / librdkafka 2.0.2 ("kcat-full" = answered with wider version
// ranges, so librdkafka picks flexible versions where it can).
import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  apiName,
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  decodeRequestBody,
  decodeRequestHeader,
  encodeConsumerAssignment,
  encodeConsumerSubscription,
  encodeRequest,
  isFlexible,
} from '../../../src/protocol/index.js';
import type { ApiKeyNumber } from '../../../src/protocol/generated/api-types.js';
import { capturedFrames, concat } from './fixtures.js';

const frames = capturedFrames();
/** A captured request of API `apiKey`, its body typed as that API's request. */
const frame = <K extends ApiKeyNumber>(file: string, apiKey: K) => {
  const f = frames.find((x) => x.file === file);
  if (!f) throw new Error(`missing fixture ${file}`);
  const { header, bodyOffset } = decodeRequestHeader(f.frame);
  expect(header.apiKey, file).toBe(apiKey);
  return { header, body: decodeRequestBody(apiKey, header.apiVersion, f.frame, bodyOffset) };
};

describe('captured client frames', () => {
  it('has the frames the compatibility notes promise', () => {
    const names = new Set(frames.map((f) => f.file.replace(/\.hex$/, '')));
    for (const expected of [
      'kafkajs-ApiVersions-v2', 'kafkajs-Metadata-v6', 'kafkajs-Produce-v7', 'kafkajs-JoinGroup-v5', 'kafkajs-Fetch-v11',
      'kafka-node-ApiVersions-v0', 'kafka-node-Metadata-v1', 'kafka-node-Produce-v2', 'kafka-node-Fetch-v0', 'kafka-node-JoinGroup-v0',
      'kcat-ApiVersions-v3', 'kcat-Metadata-v4', 'kcat-Produce-v7', 'kcat-Fetch-v11', 'kcat-full-OffsetFetch-v7',
    ]) {
      expect(names, expected).toContain(expected);
    }
  });

  for (const f of frames) {
    it(`${f.file}: header, body and exact re-encoding`, () => {
      const { header, bodyOffset } = decodeRequestHeader(f.frame);
      expect(apiName(header.apiKey)).toBe(f.api);
      expect(header.apiVersion).toBe(f.version);
      const body = decodeRequestBody(header.apiKey, header.apiVersion, f.frame, bodyOffset);
      const encoded = concat(encodeRequest(header.apiKey, header.apiVersion, header.correlationId, header.clientId, body as object));
      expect(encoded.readInt32BE(0)).toBe(encoded.length - 4);
      expect(encoded.subarray(4).toString('hex')).toBe(f.frame.toString('hex'));
    });
  }

  it('ApiVersions probes: v0 (kafka-node), v2 (kafkajs), v3 flexible with header v2 (librdkafka)', () => {
    expect(frame('kafka-node-ApiVersions-v0.hex', ApiKey.ApiVersions).header).toEqual({ apiKey: 18, apiVersion: 0, correlationId: 0, clientId: 'kafka-node-capture' });
    expect(frame('kafkajs-ApiVersions-v2.hex', ApiKey.ApiVersions).header.clientId).toBe('kafkajs-capture');
    const kcat = frame('kcat-ApiVersions-v3.hex', ApiKey.ApiVersions);
    expect(isFlexible(ApiKey.ApiVersions, 3)).toBe(true);
    expect(kcat.header).toEqual({ apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'rdkafka' });
    // (v5's clusterId and nodeId, absent at v3, decode as their defaults)
    expect(kcat.body).toEqual({ clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2', clusterId: null, nodeId: -1 });
  });

  it('Metadata: null = all topics (kafka-node v1), [] = none (librdkafka v4 bootstrap), named (kafkajs v6)', () => {
    expect(frame('kafka-node-Metadata-v1.hex', ApiKey.Metadata).body.topics).toBeNull();
    const kcat = frame('kcat-Metadata-v4.hex', ApiKey.Metadata).body;
    expect(kcat.topics).toEqual([]);
    expect(kcat.allowAutoTopicCreation).toBe(false);
    const kjs = frame('kafkajs-Metadata-v6.hex', ApiKey.Metadata).body;
    expect(kjs.topics?.map((t) => t.name)).toEqual(['capture']);
    expect(kjs.allowAutoTopicCreation).toBe(true);
  });

  it('Produce: records stay a view of the frame; magic 2 from kafkajs/kcat, magic 1 from kafka-node', () => {
    for (const [file, acks, magic] of [
      ['kafkajs-Produce-v7.hex', -1, 2],
      ['kcat-Produce-v7.hex', -1, 2],
      ['kafka-node-Produce-v2.hex', 1, 1],
    ] as const) {
      const f = frames.find((x) => x.file === file)!;
      const { header, bodyOffset } = decodeRequestHeader(f.frame);
      expect(header.apiKey).toBe(ApiKey.Produce);
      const body = decodeRequestBody(ApiKey.Produce, header.apiVersion, f.frame, bodyOffset);
      expect(body.acks, file).toBe(acks);
      expect(body.transactionalId).toBeNull();
      const part = body.topicData[0].partitionData[0];
      expect(body.topicData[0].name).toBe('capture');
      expect(part.index).toBe(0);
      const records = part.records!;
      expect(records.buffer).toBe(f.frame.buffer); // zero-copy
      // Byte 16 is the magic in both a v2 batch header and a legacy message-set entry.
      expect(records[16], file).toBe(magic);
      expect(records.subarray(0, 8).readBigInt64BE(0)).toBe(0n);
    }
  });

  it('Fetch: v0 from kafka-node, v11 from kafkajs (read_committed) and librdkafka', () => {
    const v0 = frame('kafka-node-Fetch-v0.hex', ApiKey.Fetch).body;
    expect(v0.replicaId).toBe(-1);
    expect(v0.topics[0].topic).toBe('capture');
    expect(v0.topics[0].partitions[0]).toMatchObject({ partition: 0, fetchOffset: 0, partitionMaxBytes: 1048576 });
    const v11 = frame('kafkajs-Fetch-v11.hex', ApiKey.Fetch).body;
    expect(v11).toMatchObject({ isolationLevel: 1, sessionId: 0, sessionEpoch: -1, maxWaitMs: 5000, rackId: '' });
    expect(v11.forgottenTopicsData).toEqual([]);
    expect(frame('kcat-Fetch-v11.hex', ApiKey.Fetch).body.maxBytes).toBe(52428800);
  });

  it('group APIs: JoinGroup v0/v5 metadata decodes as ConsumerProtocolSubscription', () => {
    const node = frame('kafka-node-JoinGroup-v0.hex', ApiKey.JoinGroup).body;
    expect(node).toMatchObject({ groupId: 'kafka-node-group', sessionTimeoutMs: 6000, memberId: '', protocolType: 'consumer' });
    const nodeSub = decodeConsumerSubscription(node.protocols[0].metadata);
    expect(nodeSub).toMatchObject({ version: 0, topics: ['capture'], userData: null });

    const kjs = frame('kafkajs-JoinGroup-v5.hex', ApiKey.JoinGroup).body;
    expect(kjs).toMatchObject({ rebalanceTimeoutMs: 60000, groupInstanceId: null });
    expect(kjs.protocols[0].name).toBe('RoundRobinAssigner');
    const kjsSub = decodeConsumerSubscription(kjs.protocols[0].metadata);
    expect(kjsSub).toMatchObject({ version: 0, topics: ['capture'] });
    expect(kjsSub.userData).toEqual(Buffer.alloc(0));

    const kcat = frame('kcat-JoinGroup-v5.hex', ApiKey.JoinGroup).body;
    expect(kcat.protocols.map((p: { name: string }) => p.name)).toEqual(['range', 'roundrobin']);
    const kcatSub = decodeConsumerSubscription(kcat.protocols[0].metadata);
    expect(kcatSub).toMatchObject({ version: 1, topics: ['capture'], ownedPartitions: [] });
    for (const [sub, raw] of [
      [nodeSub, node.protocols[0].metadata],
      [kjsSub, kjs.protocols[0].metadata],
      [kcatSub, kcat.protocols[0].metadata],
    ] as [typeof nodeSub, Buffer][]) {
      expect(encodeConsumerSubscription(sub.version, sub).toString('hex')).toBe(raw.toString('hex'));
    }
  });

  it('group APIs: SyncGroup assignments decode as ConsumerProtocolAssignment', () => {
    for (const file of ['kafka-node-SyncGroup-v0.hex', 'kafkajs-SyncGroup-v3.hex', 'kcat-SyncGroup-v3.hex']) {
      const body = frame(file, ApiKey.SyncGroup).body;
      expect(body.assignments).toHaveLength(1);
      const raw: Buffer = body.assignments[0].assignment;
      const assignment = decodeConsumerAssignment(raw);
      expect(assignment.version, file).toBe(0);
      expect(assignment.assignedPartitions, file).toEqual([{ topic: 'capture', partitions: [0] }]);
      expect(encodeConsumerAssignment(0, assignment).toString('hex')).toBe(raw.toString('hex'));
    }
  });

  it('offsets: OffsetFetch v0 (plain kafka-node consumer) and flexible v7 (librdkafka)', () => {
    expect(frame('kafka-node-OffsetFetch-v0.hex', ApiKey.OffsetFetch).body).toMatchObject({ groupId: 'kafka-node-plain', topics: [{ name: 'capture', partitionIndexes: [0] }] });
    const v7 = frame('kcat-full-OffsetFetch-v7.hex', ApiKey.OffsetFetch);
    expect(isFlexible(ApiKey.OffsetFetch, 7)).toBe(true);
    expect(v7.body).toMatchObject({ groupId: 'kcat-full-group', requireStable: true, topics: [{ name: 'capture', partitionIndexes: [0] }] });
    expect(frame('kafka-node-OffsetCommit-v2.hex', ApiKey.OffsetCommit).body).toMatchObject({
      generationIdOrMemberEpoch: 1,
      retentionTimeMs: -1,
      topics: [{ name: 'capture', partitions: [{ partitionIndex: 0, committedOffset: 0, committedMetadata: 'm' }] }],
    });
  });

  it('admin: kafkajs CreateTopics v3', () => {
    expect(frame('kafkajs-CreateTopics-v3.hex', ApiKey.CreateTopics).body).toEqual({
      topics: [{ name: 'created', numPartitions: 2, replicationFactor: -1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
  });
});
