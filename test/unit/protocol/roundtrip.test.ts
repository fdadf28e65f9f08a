// Property round trips over every API key and version of Kafka's schemas: a sample object with a
// non-default value in every field the version has (and a variant with every nullable field null)
// must survive encode -> decode unchanged, for requests and responses.
import { describe, expect, it } from 'vitest';
import {
  API_SCHEMAS,
  decodeMessage,
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeMessage,
  encodeRequest,
  encodeResponse,
} from '../../../src/protocol/index.js';
import * as generated from '../../../src/protocol/generated/index.js';
import type { MessageSchema } from '../../../src/protocol/codec/schema.js';
import { defaults, sample, versionsOf } from './sample.js';

function roundTrip(schema: MessageSchema, version: number, value: object): unknown {
  return decodeMessage(schema, version, encodeMessage(schema, version, value));
}

describe('round trip of every API, version, request and response', () => {
  for (const api of API_SCHEMAS) {
    it(`${api.apiKey} ${api.name}`, () => {
      for (const schema of [api.request, api.response]) {
        for (const version of versionsOf(schema)) {
          for (const variant of ['values', 'nulls'] as const) {
            const value = sample(schema.fields, version, variant);
            expect(roundTrip(schema, version, value), `${schema.name} v${version} ${variant}`).toEqual(value);
          }
          // Everything left out: the encoder writes defaults, the decoder reads them back.
          expect(roundTrip(schema, version, {}), `${schema.name} v${version} empty`).toEqual(defaults(schema.fields));
        }
      }
    });
  }

  it('full frames: encodeRequest/decodeRequestHeader/decodeRequestBody and encodeResponse/decodeResponse', () => {
    let correlationId = 0;
    for (const api of API_SCHEMAS) {
      for (const version of versionsOf(api.request)) {
        const req = sample(api.request.fields, version, 'values');
        const frame = Buffer.concat(encodeRequest(api.apiKey, version, ++correlationId, `client-${api.name}`, req));
        expect(frame.readInt32BE(0)).toBe(frame.length - 4);
        const { header, bodyOffset } = decodeRequestHeader(frame.subarray(4));
        // ControlledShutdown v0 alone uses request header v0, which has no client id.
        const clientId = api.apiKey === 7 && version === 0 ? null : `client-${api.name}`;
        expect(header).toEqual({ apiKey: api.apiKey, apiVersion: version, correlationId, clientId });
        expect(decodeRequestBody(api.apiKey, version, frame.subarray(4), bodyOffset)).toEqual(req);
      }
      for (const version of versionsOf(api.response)) {
        const res = sample(api.response.fields, version, 'values');
        const frame = Buffer.concat(encodeResponse(api.apiKey, version, ++correlationId, res));
        expect(frame.readInt32BE(0)).toBe(frame.length - 4);
        expect(decodeResponse(api.apiKey, version, frame.subarray(4))).toEqual({ correlationId, body: res });
      }
    }
  });

  it('headers and data schemas', () => {
    const others = Object.values(generated).filter(
      (s): s is MessageSchema => typeof s === 'object' && s !== null && 'fields' in s && 'validVersions' in s,
    );
    expect(others.map((s) => s.name).sort()).toEqual([
      'ConsumerProtocolAssignment', 'ConsumerProtocolSubscription', 'DefaultPrincipalData', 'KRaftVersionRecord',
      'LeaderChangeMessage', 'RequestHeader', 'ResponseHeader', 'SnapshotFooterRecord', 'SnapshotHeaderRecord', 'VotersRecord',
    ]);
    for (const schema of others) {
      for (const version of versionsOf(schema)) {
        for (const variant of ['values', 'nulls'] as const) {
          const value = sample(schema.fields, version, variant);
          expect(roundTrip(schema, version, value), `${schema.name} v${version}`).toEqual(value);
        }
      }
    }
  });
});
