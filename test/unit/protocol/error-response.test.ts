// errorResponse(): for every API and version Kafka's schemas define, the error answer to a request
// encodes and decodes as that API's response, and carries the code at the top and in every entry
// mirrored from the request (topics, partitions, coordinator keys, groups).
import { describe, expect, it } from 'vitest';
import { API_SCHEMAS, ApiKey, decodeResponse, encodeResponse } from '../../../src/protocol/index.js';
import { inVersions, type FieldSchema, type StructSchema } from '../../../src/protocol/codec/schema.js';
import { errorResponse, responseErrorCode } from '../../../src/protocol/error-response.js';

/** A request with one entry in every list, strings 'x', numbers 0: what a client could send. */
function sample(fields: readonly FieldSchema[], version: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!inVersions(f.versions, version)) continue;
    const one = (): unknown => {
      if (typeof f.type === 'object') return sample((f.type as StructSchema).fields, version);
      switch (f.type) {
        case 'string':
          return 'x';
        case 'bool':
          return false;
        case 'uuid':
          return 'AAAAAAAAAAAAAAAAAAAAAA';
        case 'bytes':
        case 'records':
          return Buffer.alloc(0);
        default:
          return 0;
      }
    };
    out[f.name] = f.array ? [one()] : one();
  }
  return out;
}

/** Every errorCode in a decoded response, by path. */
function codes(value: unknown, path = ''): Array<[string, number]> {
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return [];
  const out: Array<[string, number]> = [];
  for (const [k, v] of Object.entries(value)) {
    if (/(^e|E)rrorCode$/.test(k) && typeof v === 'number') out.push([`${path}.${k}`, v]);
    else if (Array.isArray(v)) v.forEach((e, i) => out.push(...codes(e, `${path}.${k}[${i}]`)));
    else out.push(...codes(v, `${path}.${k}`));
  }
  return out;
}

/** What a client reads: the answer encoded and decoded (schema defaults filled in). */
function onTheWire(apiKey: number, version: number, request: object, code: number): Record<string, unknown> {
  const frame = Buffer.concat(encodeResponse(apiKey, version, 1, errorResponse(apiKey, version, request, code)));
  return decodeResponse(apiKey, version, frame.subarray(4)).body as Record<string, unknown>;
}

describe('errorResponse', () => {
  it('answers every version of every API with a response that encodes, decodes and carries the code', () => {
    let checked = 0;
    for (const api of API_SCHEMAS) {
      const [min, max] = api.response.validVersions;
      for (let v = min; v <= max; v++) {
        if (api.apiKey === ApiKey.ApiVersions) continue; // answered by the dispatcher's own rule
        const request = sample(api.request.fields, v);
        const body = errorResponse(api.apiKey, v, request, 6);
        const frame = Buffer.concat(encodeResponse(api.apiKey, v, 7, body));
        const decoded = decodeResponse(api.apiKey, v, frame.subarray(4));
        expect(decoded.correlationId).toBe(7);
        const found = codes(body);
        const back = new Map(codes(decoded.body));
        for (const [path] of found) expect(back.get(path), `${api.name} v${v} ${path}`).toBe(6);
        const hasCodes = /rrorCode"/.test(JSON.stringify(api.response.fields));
        // (AlterUserScramCredentials answers deletions and upsertions in one list: left empty.)
        if (hasCodes && api.apiKey !== 51) {
          expect(found.length, `${api.name} v${v}`).toBeGreaterThan(0);
          expect(found.every(([, c]) => c === 6), `${api.name} v${v}: ${JSON.stringify(found)}`).toBe(true);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('places the code as Kafka does for the APIs clients retry on', () => {
    const produce = errorResponse(ApiKey.Produce, 9, { acks: -1, topicData: [{ name: 't', partitionData: [{ index: 2, records: null }] }] }, 6);
    expect(produce.responses).toEqual([
      { name: 't', partitionResponses: [{ index: 2, errorCode: 6, baseOffset: -1, recordErrors: [] }] },
    ]);
    expect(errorResponse(ApiKey.Heartbeat, 4, { groupId: 'g', generationId: 3, memberId: 'm' }, 27)).toEqual({ errorCode: 27 });
    expect(errorResponse(ApiKey.FindCoordinator, 3, { key: 'g', keyType: 0 }, 15)).toEqual({ errorCode: 15, nodeId: -1, port: -1 });
    expect(errorResponse(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['g1', 'g2'] }, 15)).toEqual({
      coordinators: [
        { key: 'g1', nodeId: -1, port: -1, errorCode: 15 },
        { key: 'g2', nodeId: -1, port: -1, errorCode: 15 },
      ],
    });
    const join = onTheWire(ApiKey.JoinGroup, 5, { groupId: 'g', memberId: 'm', protocols: [] }, 27);
    expect(join).toMatchObject({ errorCode: 27, generationId: -1, memberId: '', leader: '', members: [] });
    const fetch12 = onTheWire(ApiKey.Fetch, 12, { topics: [{ topic: 't', partitions: [{ partition: 0 }] }] }, 6);
    expect(fetch12).toMatchObject({ errorCode: 6, responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: 6, highWatermark: -1 }] }] });
    expect(errorResponse(ApiKey.Fetch, 13, { topics: [{ topicId: 'x', partitions: [{ partition: 0 }] }] }, 6)).toMatchObject({ errorCode: 6, responses: [] });
    const offsetFetch = onTheWire(ApiKey.OffsetFetch, 5, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }] }, 16);
    expect(offsetFetch).toMatchObject({ errorCode: 16, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: -1, errorCode: 16 }, { partitionIndex: 1, errorCode: 16 }] }] });
    expect(onTheWire(ApiKey.Metadata, 9, { topics: [{ name: 't' }] }, 5)).toMatchObject({ brokers: [], topics: [{ name: 't', errorCode: 5, partitions: [] }] });
  });

  it('reports the top-level code, else the first partition\'s', () => {
    expect(responseErrorCode({ errorCode: 27 })).toBe(27);
    expect(responseErrorCode({ responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 6 }, { index: 1, errorCode: 0 }] }] })).toBe(6);
    expect(responseErrorCode({ brokers: [{ nodeId: 1 }], topics: [{ name: 't', errorCode: 3, partitions: [] }] })).toBe(3);
    expect(responseErrorCode({ errorCode: 0, responses: [{ partitions: [{ errorCode: 0 }, { errorCode: 6 }] }] })).toBe(0);
    expect(responseErrorCode(null)).toBe(0);
  });
});
