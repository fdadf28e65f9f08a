// Our encoded responses, read by the real clients' own response parsers (kafkajs 2.2.4 and
// kafka-node 5.0.0 internals): a cross-check that the bytes mean what the clients expect.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ErrorCode, decodeRequestBody, decodeRequestHeader, encodeConsumerAssignment, encodeResponse } from '../../../src/protocol/index.js';
import { capturedFrames, concat } from './fixtures.js';

const require = createRequire(import.meta.url);
type Decode = (payload: Buffer) => Promise<any>;
const kafkajs = (api: string, v: number): Decode => require(`kafkajs/src/protocol/requests/${api}/v${v}/response.js`).decode;
/** kafkajs hands its decoders the frame without size and correlation id. */
const payload = (key: number, v: number, body: object) => concat(encodeResponse(key, v, 1, body)).subarray(8);
const kafkaNode = require('kafka-node/lib/protocol/protocol.js');

// A real magic-2 batch ("hello from kafkajs", key k1, header h=v) from the captured Produce request.
function kafkajsBatch(): Buffer {
  const f = capturedFrames().find((x) => x.file === 'kafkajs-Produce-v7.hex')!;
  const { header, bodyOffset } = decodeRequestHeader(f.frame);
  expect(header.apiKey).toBe(0);
  return decodeRequestBody(0, header.apiVersion, f.frame, bodyOffset).topicData[0].partitionData[0].records!;
}

describe('kafkajs parses our responses', () => {
  it('ApiVersions v0-v2', async () => {
    const apiKeys = [{ apiKey: 0, minVersion: 0, maxVersion: 7 }, { apiKey: 3, minVersion: 0, maxVersion: 6 }];
    for (const v of [0, 1, 2]) {
      const got = await kafkajs('apiVersions', v)(payload(18, v, { apiKeys, throttleTimeMs: 0 }));
      expect(got).toMatchObject({ errorCode: 0, apiVersions: apiKeys });
    }
  });

  it('Metadata v6', async () => {
    const got = await kafkajs('metadata', 6)(
      payload(3, 6, {
        brokers: [{ nodeId: 0, host: '127.0.0.1', port: 9092 }],
        clusterId: 'kts',
        controllerId: 0,
        topics: [{ name: 't', partitions: [{ partitionIndex: 0, leaderId: 0, replicaNodes: [0], isrNodes: [0] }] }],
      }),
    );
    expect(got).toMatchObject({
      brokers: [{ nodeId: 0, host: '127.0.0.1', port: 9092, rack: null }],
      clusterId: 'kts',
      controllerId: 0,
      topicMetadata: [{ topicErrorCode: 0, topic: 't', isInternal: false, partitionMetadata: [{ partitionId: 0, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] }] }],
    });
  });

  it('Produce v7', async () => {
    const got = await kafkajs('produce', 7)(payload(0, 7, { responses: [{ name: 't', partitionResponses: [{ index: 0, baseOffset: 41, logStartOffset: 0 }] }] }));
    expect(got.topics).toEqual([{ topicName: 't', partitions: [{ partition: 0, errorCode: 0, baseOffset: '41', logAppendTime: '-1', logStartOffset: '0' }] }]);
  });

  it('Fetch v11 carrying a real record batch', async () => {
    const got = await kafkajs('fetch', 11)(
      payload(1, 11, {
        responses: [{ topic: 'capture', partitions: [{ partitionIndex: 0, highWatermark: 1, lastStableOffset: 1, logStartOffset: 0, records: kafkajsBatch() }] }],
      }),
    );
    const p = got.responses[0].partitions[0];
    expect(p).toMatchObject({ partition: 0, errorCode: 0, highWatermark: '1', lastStableOffset: '1', abortedTransactions: [], preferredReadReplica: -1 });
    expect(p.messages).toHaveLength(1);
    expect(p.messages[0].key.toString()).toBe('k1');
    expect(p.messages[0].value.toString()).toBe('hello from kafkajs');
    expect(p.messages[0].headers.h.toString()).toBe('v');
  });

  it('group coordination: FindCoordinator v2, JoinGroup v5, SyncGroup v3, Heartbeat v3, LeaveGroup v3', async () => {
    expect(await kafkajs('findCoordinator', 2)(payload(10, 2, { nodeId: 3, host: 'h', port: 9 }))).toMatchObject({
      errorCode: 0,
      errorMessage: '', // a nullable string without an explicit default encodes as "" (Kafka's generator does the same)
      coordinator: { nodeId: 3, host: 'h', port: 9 },
    });
    const join = await kafkajs('joinGroup', 5)(
      payload(11, 5, { generationId: 2, protocolName: 'RoundRobinAssigner', leader: 'm1', memberId: 'm1', members: [{ memberId: 'm1', metadata: Buffer.from('md') }] }),
    );
    expect(join).toMatchObject({ errorCode: 0, generationId: 2, groupProtocol: 'RoundRobinAssigner', leaderId: 'm1', memberId: 'm1' });
    expect(join.members[0].memberMetadata.toString()).toBe('md');
    const assignment = encodeConsumerAssignment(0, { assignedPartitions: [{ topic: 't', partitions: [0, 1] }], userData: Buffer.alloc(0) });
    const sync = await kafkajs('syncGroup', 3)(payload(14, 3, { assignment }));
    expect(sync.memberAssignment.equals(assignment)).toBe(true);
    expect(await kafkajs('heartbeat', 3)(payload(12, 3, {}))).toMatchObject({ errorCode: 0 });
    expect(await kafkajs('leaveGroup', 3)(payload(13, 3, { members: [{ memberId: 'm1', groupInstanceId: null }] }))).toMatchObject({
      errorCode: 0,
      members: [{ memberId: 'm1', groupInstanceId: null, errorCode: 0 }],
    });
  });

  it('offsets: OffsetFetch v4, OffsetCommit v5, ListOffsets v3', async () => {
    const fetched = await kafkajs('offsetFetch', 4)(
      payload(9, 4, { topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: -1, metadata: '' }] }] }),
    );
    expect(fetched.responses).toEqual([{ topic: 't', partitions: [{ partition: 0, offset: '-1', metadata: '', errorCode: 0 }] }]);
    const committed = await kafkajs('offsetCommit', 5)(payload(8, 5, { topics: [{ name: 't', partitions: [{ partitionIndex: 0 }] }] }));
    expect(committed.responses).toEqual([{ topic: 't', partitions: [{ partition: 0, errorCode: 0 }] }]);
    const listed = await kafkajs('listOffsets', 3)(
      payload(2, 3, { topics: [{ name: 't', partitions: [{ partitionIndex: 0, timestamp: -1, offset: 12 }] }] }),
    );
    expect(listed.responses).toEqual([{ topic: 't', partitions: [{ partition: 0, errorCode: 0, timestamp: '-1', offset: '12' }] }]);
  });

  it('admin: CreateTopics v3 with a topic error', async () => {
    const mod = require('kafkajs/src/protocol/requests/createTopics/v3/response.js');
    const got = await mod.decode(
      payload(19, 3, {
        topics: [
          { name: 'a', errorMessage: null },
          { name: 'b', errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: 'exists' },
        ],
      }),
    );
    expect(got.topicErrors).toEqual([
      { topic: 'a', errorCode: 0, errorMessage: null },
      { topic: 'b', errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: 'exists' },
    ]);
    await expect(mod.parse(got)).rejects.toThrow(/creation errors/i);
  });
});

describe('kafka-node parses our responses', () => {
  it('ApiVersions v0', () => {
    const frame = concat(encodeResponse(18, 0, 1, { apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 7 }, { apiKey: 3, minVersion: 0, maxVersion: 6 }] }));
    const got = kafkaNode.decodeVersionsResponse(frame);
    expect(got.produce).toEqual({ min: 0, max: 7, usable: 2 });
    expect(got.metadata).toEqual({ min: 0, max: 6, usable: 1 });
  });

  it('Metadata v1', () => {
    const frame = concat(
      encodeResponse(3, 1, 1, {
        brokers: [{ nodeId: 0, host: 'localhost', port: 9092, rack: null }],
        controllerId: 0,
        topics: [{ name: 't', partitions: [{ partitionIndex: 0, leaderId: 0, replicaNodes: [0], isrNodes: [0] }] }],
      }),
    );
    const [brokers, meta] = kafkaNode.decodeMetadataV1Response(frame);
    expect(brokers['0']).toMatchObject({ nodeId: 0, host: 'localhost', port: 9092 });
    expect(meta.metadata.t['0']).toMatchObject({ topic: 't', partition: 0, leader: 0, replicas: [0], isr: [0] });
    expect(meta.clusterMetadata.controllerId).toBe(0);
  });

  it('Produce v2', () => {
    const frame = concat(encodeResponse(0, 2, 1, { responses: [{ name: 't', partitionResponses: [{ index: 0, baseOffset: 77, logAppendTimeMs: -1 }] }] }));
    expect(kafkaNode.decodeProduceV2Response(frame)).toEqual({ t: { 0: 77 } });
  });
});
