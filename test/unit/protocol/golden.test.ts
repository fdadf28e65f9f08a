// Hand-checked encodings: each expected frame is spelled out field by field (hex, `#` comments).
import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  ErrorCode,
  ProtocolError,
  ZERO_UUID,
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from '../../../src/protocol/index.js';
import { concat, hex } from './fixtures.js';

const apiVersionsKeys = [
  { apiKey: 0, minVersion: 0, maxVersion: 7 },
  { apiKey: 18, minVersion: 0, maxVersion: 3 },
];

describe('ApiVersions responses always use response header v0', () => {
  it('v0', () => {
    const expected = hex(`
      00000016        # size 22
      00000007        # correlation id (header v0)
      0000            # error_code
      00000002        # api_keys: 2 (int32 count)
      0000 0000 0007  # Produce 0-7
      0012 0000 0003  # ApiVersions 0-3
    `);
    const frame = concat(encodeResponse(ApiKey.ApiVersions, 0, 7, { apiKeys: apiVersionsKeys }));
    expect(frame.toString('hex')).toBe(expected.toString('hex'));
    expect(decodeResponse(18, 0, frame.subarray(4))).toEqual({ correlationId: 7, body: { errorCode: 0, apiKeys: apiVersionsKeys, throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: -1, finalizedFeatures: [], zkMigrationReady: false } });
  });

  it('v0 layout UNSUPPORTED_VERSION answer (the dispatcher sends it for a too-new ApiVersions)', () => {
    const frame = concat(encodeResponse(18, 0, 1, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] }));
    expect(frame.toString('hex')).toBe(hex('00000010 00000001 0023 00000001 0012 0000 0003').toString('hex'));
  });

  it('v3: flexible body, but no tagged-field byte in the header', () => {
    const expected = hex(`
      0000001a           # size 26
      00000007           # correlation id, header v0 even though v3 is flexible
      0000               # error_code
      03                 # api_keys: compact count 2+1
      0000 0000 0007 00  # Produce 0-7, empty tagged fields
      0012 0000 0003 00  # ApiVersions 0-3
      00000000           # throttle_time_ms
      00                 # tagged fields: none (all at default)
    `);
    expect(concat(encodeResponse(18, 3, 7, { apiKeys: apiVersionsKeys })).toString('hex')).toBe(expected.toString('hex'));
  });

  it('v3 with tagged fields, in ascending tag order, defaults omitted', () => {
    const expected = hex(`
      00000027           # size 39
      00000007           # correlation id
      0000 03
      0000 0000 0007 00
      0012 0000 0003 00
      00000000           # throttle_time_ms
      02                 # 2 tagged fields (supported/finalized features are empty = default)
      01 08 0000000000000005  # tag 1 FinalizedFeaturesEpoch, 8 bytes
      03 01 01                # tag 3 ZkMigrationReady = true
    `);
    const body = { apiKeys: apiVersionsKeys, zkMigrationReady: true, finalizedFeaturesEpoch: 5, supportedFeatures: [] };
    const frame = concat(encodeResponse(18, 3, 7, body));
    expect(frame.toString('hex')).toBe(expected.toString('hex'));
    const back = decodeResponse(18, 3, frame.subarray(4)).body;
    expect(back).toMatchObject(body);
    expect(back.finalizedFeatures).toEqual([]);
  });
});

// Metadata v9 response: flexible, response header v1.
const metadataV9 = {
  throttleTimeMs: 0,
  brokers: [{ nodeId: 1, host: 'kts', port: 9092, rack: null }],
  clusterId: 'c1',
  controllerId: 1,
  topics: [
    {
      errorCode: 0,
      name: 'a',
      topicId: ZERO_UUID,
      isInternal: false,
      partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 2, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }],
      topicAuthorizedOperations: -2147483648,
    },
  ],
  clusterAuthorizedOperations: -2147483648,
};
const metadataV9Hex = (topicTags: string, topTags: string) => `
  00000009 00          # correlation id, header v1 tagged fields
  00000000             # throttle_time_ms
  02                   # brokers: 1
    00000001           #   node_id
    04 6b7473          #   host "kts" (compact: length+1)
    00002384           #   port 9092
    00                 #   rack null (compact 0)
    00                 #   tagged fields
  03 6331              # cluster_id "c1"
  00000001             # controller_id
  02                   # topics: 1
    0000               #   error_code
    02 61              #   name "a"
    00                 #   is_internal
    02                 #   partitions: 1
      0000             #     error_code
      00000000         #     partition_index
      00000001         #     leader_id
      00000002         #     leader_epoch
      02 00000001      #     replica_nodes [1]
      02 00000001      #     isr_nodes [1]
      01               #     offline_replicas []
      00               #     tagged fields
    80000000           #   topic_authorized_operations
    ${topicTags}       #   tagged fields
  80000000             # cluster_authorized_operations (v8-10)
  ${topTags}           # tagged fields
`;

describe('flexible Metadata v9 response', () => {
  it('encodes compact strings/arrays and a tagged-field section per struct', () => {
    const frame = concat(encodeResponse(ApiKey.Metadata, 9, 9, metadataV9));
    const body = hex(metadataV9Hex('00', '00'));
    expect(frame.readInt32BE(0)).toBe(74);
    expect(frame.subarray(4).toString('hex')).toBe(body.toString('hex'));
    // (v13's top-level errorCode, absent at v9, decodes as its default 0)
    expect(decodeResponse(3, 9, body)).toEqual({ correlationId: 9, body: { ...metadataV9, errorCode: 0 } });
  });

  it('skips unknown tagged fields (in the header, a nested struct and the body)', () => {
    const withUnknown = hex(
      metadataV9Hex('02 09 03 616263 7f 00', '01 a001 02 beef').replace('00000009 00', '00000009 01 05 01 ff'),
    );
    expect(decodeResponse(3, 9, withUnknown)).toEqual({ correlationId: 9, body: { ...metadataV9, errorCode: 0 } });
  });

  it('a tagged field whose size runs past the end is a ProtocolError', () => {
    const bad = hex(metadataV9Hex('00', '01 05 7f 00'));
    expect(() => decodeResponse(3, 9, bad)).toThrow(ProtocolError);
  });
});

describe('Produce v3 request with a records field', () => {
  const records = Buffer.from('00010203040506070809', 'hex');
  const expected = hex(`
    00000030                  # size 48
    0000 0003 00000005 0001 63  # header v1: Produce, v3, correlation 5, client_id "c"
    ffff                      # transactional_id null
    ffff                      # acks -1
    000003e8                  # timeout_ms 1000
    00000001                  # topic_data: 1
      0001 74                 #   name "t"
      00000001                #   partition_data: 1
        00000000              #     index 0
        0000000a 00010203040506070809  # records: int32 size + bytes
  `);
  const body = { acks: -1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] };

  it('encodes, from a Buffer or a list of Buffers', () => {
    expect(concat(encodeRequest(0, 3, 5, 'c', body)).toString('hex')).toBe(expected.toString('hex'));
    const split = { ...body, topicData: [{ name: 't', partitionData: [{ index: 0, records: [records.subarray(0, 3), records.subarray(3)] }] }] };
    // <number>: the encoder takes more than the generated types say (here a list of Buffers for records).
    expect(concat(encodeRequest<number>(0, 3, 5, 'c', split)).toString('hex')).toBe(expected.toString('hex'));
  });

  it('decodes records as a view of the frame', () => {
    const frame = expected.subarray(4);
    const { header, bodyOffset } = decodeRequestHeader(frame);
    expect(header).toEqual({ apiKey: 0, apiVersion: 3, correlationId: 5, clientId: 'c' });
    const req = decodeRequestBody(0, 3, frame, bodyOffset);
    // (v13's topicId, absent at v3, decodes as the zero uuid)
    expect(req).toEqual({ transactionalId: null, ...body, topicData: [{ ...body.topicData[0], topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }] });
    const got = req.topicData[0].partitionData[0].records!;
    expect(got.buffer).toBe(frame.buffer);
    expect(got.byteOffset).toBe(frame.byteOffset + 38);
  });

  it('records and bytes may be plain Uint8Arrays', () => {
    const split = { ...body, topicData: [{ name: 't', partitionData: [{ index: 0, records: new Uint8Array(records) }] }] };
    expect(concat(encodeRequest<number>(0, 3, 5, 'c', split)).toString('hex')).toBe(expected.toString('hex'));
  });

  it('null records are int32 -1', () => {
    const frame = concat(encodeRequest(0, 3, 5, 'c', { ...body, topicData: [{ name: 't', partitionData: [{ index: 0, records: null }] }] }));
    expect(frame.subarray(-4).toString('hex')).toBe('ffffffff');
  });
});

describe('Fetch v11 response', () => {
  const expected = hex(`
    00000057              # size 87
    0000000b              # correlation id (v11 is not flexible: header v0)
    00000000              # throttle_time_ms
    0000                  # error_code
    00000000              # session_id
    00000001              # responses: 1
      0001 74             #   topic "t"
      00000001            #   partitions: 1
        00000000          #     partition_index
        0000              #     error_code
        000000000000000a  #     high_watermark 10
        000000000000000a  #     last_stable_offset 10
        0000000000000000  #     log_start_offset 0
        00000001          #     aborted_transactions: 1
          0000000000000007 #      producer_id 7
          0000000000000003 #      first_offset 3
        ffffffff          #     preferred_read_replica -1
        00000004 deadbeef #     records
  `);
  const partition = {
    partitionIndex: 0,
    highWatermark: 10,
    lastStableOffset: 10,
    logStartOffset: 0,
    abortedTransactions: [{ producerId: 7, firstOffset: 3 }],
    records: Buffer.from('deadbeef', 'hex'),
  };

  it('encodes (partial object: defaults fill the rest)', () => {
    const frame = concat(encodeResponse(1, 11, 11, { responses: [{ topic: 't', partitions: [partition] }] }));
    expect(frame.toString('hex')).toBe(expected.toString('hex'));
    const { body } = decodeResponse(1, 11, frame.subarray(4));
    expect(body.responses[0].partitions[0]).toMatchObject({ ...partition, errorCode: 0, preferredReadReplica: -1 });
  });

  it('null aborted_transactions is int32 -1; large records are passed through, not copied', () => {
    const big = Buffer.alloc(100_000, 7);
    const chunks = encodeResponse(1, 11, 11, {
      responses: [{ topic: 't', partitions: [{ ...partition, abortedTransactions: null, records: big }] }],
    });
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toBe(big);
    const frame = concat(chunks);
    expect(frame.readInt32BE(0)).toBe(frame.length - 4);
    const p = decodeResponse(1, 11, frame.subarray(4)).body.responses[0].partitions[0];
    expect(p.abortedTransactions).toBeNull();
    expect(p.records!.equals(big)).toBe(true);
  });
});

describe('nullable strings and arrays', () => {
  const header = (v: number) => `0003 ${v.toString(16).padStart(4, '0')} 00000001 ffff`; // client_id null

  it('Metadata request: v0 [] (all topics), v1+ null (all) vs [] (none)', () => {
    expect(concat(encodeRequest(3, 0, 1, null, { topics: [] })).subarray(4).toString('hex')).toBe(hex(`${header(0)} 00000000`).toString('hex'));
    expect(concat(encodeRequest(3, 1, 1, null, { topics: null })).subarray(4).toString('hex')).toBe(hex(`${header(1)} ffffffff`).toString('hex'));
    expect(concat(encodeRequest(3, 1, 1, null, {})).subarray(4).toString('hex')).toBe(hex(`${header(1)} 00000000`).toString('hex'));
    // v0 has no null: a null from a caller is written as the empty array.
    expect(concat(encodeRequest(3, 0, 1, null, { topics: null })).subarray(4).toString('hex')).toBe(hex(`${header(0)} 00000000`).toString('hex'));
    const frame = hex(`${header(1)} ffffffff`);
    expect(decodeRequestBody(3, 1, frame, decodeRequestHeader(frame).bodyOffset).topics).toBeNull();
    // A null array in v0 is malformed.
    const v0 = hex(`${header(0)} ffffffff`);
    expect(() => decodeRequestBody(3, 0, v0, decodeRequestHeader(v0).bodyOffset)).toThrow(ProtocolError);
  });

  it('Metadata request v9 (flexible, header v2): compact null array, and the client_id stays int16-length', () => {
    const expected = hex(`
      0003 0009 00000001  # Metadata v9, correlation 1
      0002 6964           # client_id "id": int16 length even in header v2
      00                  # header tagged fields
      00                  # topics: compact null
      01                  # allow_auto_topic_creation
      00 00               # include cluster/topic authorized operations
      00                  # tagged fields
    `);
    const frame = concat(encodeRequest(3, 9, 1, 'id', { topics: null, allowAutoTopicCreation: true }));
    expect(frame.subarray(4).toString('hex')).toBe(expected.toString('hex'));
    const { header: h, bodyOffset } = decodeRequestHeader(expected);
    expect(h.clientId).toBe('id');
    expect(decodeRequestBody(3, 9, expected, bodyOffset)).toEqual({
      topics: null,
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
  });

  it('nullable strings: classic -1 and compact 0; an empty string is not null', () => {
    const classic = (transactionalId: string | null | undefined) =>
      concat(encodeRequest(0, 3, 1, 'c', { transactionalId, topicData: [] })).subarray(4 + 11, 4 + 13).toString('hex');
    expect(classic(null)).toBe('ffff');
    expect(classic(undefined)).toBe('ffff'); // default null
    expect(classic('')).toBe('0000');
    const compact = concat(encodeResponse(3, 9, 1, { brokers: [{ nodeId: 1, host: '', port: 1, rack: null }] })).subarray(4 + 5 + 4);
    expect(compact.subarray(0, 12).toString('hex')).toBe(hex('02 00000001 01 00000001 00 00').toString('hex'));
  });

  it('the request header skips unknown tagged fields', () => {
    const frame = hex(`
      0003 0009 00000001 0002 6964
      02 00 01 ff 05 02 abcd  # header tagged fields: tag 0 (1 byte), tag 5 (2 bytes)
      00 01 00 00 00
    `);
    const { header: h, bodyOffset } = decodeRequestHeader(frame);
    expect(h).toEqual({ apiKey: 3, apiVersion: 9, correlationId: 1, clientId: 'id' });
    expect(decodeRequestBody(3, 9, frame, bodyOffset).topics).toBeNull();
  });
});

describe('int64, uuid, float64 and strings', () => {
  it('int64 from numbers and bigints; out-of-range numbers clamp', () => {
    const offsetOf = (baseOffset: number | bigint) =>
      concat(encodeResponse<number>(0, 3, 1, { responses: [{ name: 't', partitionResponses: [{ index: 0, baseOffset }] }] })).subarray(4 + 4 + 4 + 3 + 4 + 4 + 2, 4 + 4 + 4 + 3 + 4 + 4 + 2 + 8).toString('hex');
    expect(offsetOf(-1)).toBe('ffffffffffffffff');
    expect(offsetOf(0x123456789a)).toBe('000000123456789a');
    expect(offsetOf(Number.MAX_SAFE_INTEGER)).toBe('001fffffffffffff');
    expect(offsetOf(-Number.MAX_SAFE_INTEGER)).toBe('ffe0000000000001');
    expect(offsetOf(2n ** 63n - 1n)).toBe('7fffffffffffffff');
    expect(offsetOf(-(2n ** 63n))).toBe('8000000000000000');
    expect(offsetOf(2 ** 63)).toBe('7fffffffffffffff');
    expect(offsetOf(-(2 ** 64))).toBe('8000000000000000');
  });

  it('int64 decodes to a number (exact within 2^53)', () => {
    const frame = hex('00000001 00000001 0001 74 00000001 00000000 0000 7fffffffffffffff ffffffffffffffff 00000000');
    const p = decodeResponse(0, 2, frame).body.responses[0].partitionResponses[0];
    expect(p.baseOffset).toBe(9223372036854775807);
    expect(p.logAppendTimeMs).toBe(-1);
  });

  it('uuids are 22-character base64url strings; the zero uuid is AAAAAAAAAAAAAAAAAAAAAA', () => {
    const id = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
    const frame = concat(encodeResponse(3, 10, 1, { topics: [{ name: 'a', topicId: id.toString('base64url') }, { name: 'b' }] }));
    expect(frame.includes(id)).toBe(true);
    const topics = decodeResponse(3, 10, frame.subarray(4)).body.topics;
    expect(topics[0].topicId).toBe('AAECAwQFBgcICQoLDA0ODw');
    expect(topics[1].topicId).toBe(ZERO_UUID);
    expect(() => encodeResponse(3, 10, 1, { topics: [{ name: 'a', topicId: 'not-a-uuid' }] })).toThrow(TypeError);
    expect(() => encodeResponse(3, 10, 1, { topics: [{ name: 'a', topicId: 'AAECAwQFBgcICQoLDA0ODx' }] })).toThrow(TypeError);
    // The 16 bytes are accepted too.
    expect(concat(encodeResponse<number>(3, 10, 1, { topics: [{ name: 'a', topicId: id }] }))).toEqual(
      concat(encodeResponse(3, 10, 1, { topics: [{ name: 'a', topicId: 'AAECAwQFBgcICQoLDA0ODw' }] })),
    );
  });

  it('UTF-8 strings round trip with byte lengths, not character counts', () => {
    const name = 'tøpic-€-𝄞'.repeat(3);
    const frame = concat(encodeRequest(3, 1, 1, 'clïent', { topics: [{ name }] }));
    const { header: h, bodyOffset } = decodeRequestHeader(frame.subarray(4));
    expect(h.clientId).toBe('clïent');
    expect(decodeRequestBody(3, 1, frame.subarray(4), bodyOffset).topics![0].name).toBe(name);
    const long = 'x'.repeat(300) + 'é';
    const flex = concat(encodeRequest(3, 9, 1, null, { topics: [{ name: long }] }));
    const f2 = flex.subarray(4);
    expect(decodeRequestBody(3, 9, f2, decodeRequestHeader(f2).bodyOffset).topics![0].name).toBe(long);
  });

  it('a string over 32767 bytes cannot be encoded', () => {
    expect(() => encodeRequest(3, 1, 1, null, { topics: [{ name: 'x'.repeat(40000) }] })).toThrow(RangeError);
  });
});
