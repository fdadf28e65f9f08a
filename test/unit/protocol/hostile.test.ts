// A broker faces hostile bytes: every malformed input must end in a ProtocolError (never another
// exception, never an allocation sized by an untrusted count).
import { describe, expect, it } from 'vitest';
import {
  API_SCHEMAS,
  ProtocolError,
  decodeConsumerAssignment,
  decodeConsumerSubscription,
  decodeRequestBody,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
} from '../../../src/protocol/index.js';
import { capturedFrames, concat, hex } from './fixtures.js';
import { sample } from './sample.js';

function decodeRequest(frame: Buffer): unknown {
  const { header, bodyOffset } = decodeRequestHeader(frame);
  return decodeRequestBody(header.apiKey, header.apiVersion, frame, bodyOffset);
}

function expectProtocolError(fn: () => unknown, what: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (!(thrown instanceof ProtocolError)) {
    throw new Error(`${what}: expected a ProtocolError, got ${thrown instanceof Error ? thrown.stack : String(thrown)}`);
  }
}

/** Valid request frames (without size prefix): captured ones plus samples of the newest flexible versions. */
function validRequests(): { name: string; frame: Buffer }[] {
  const out = capturedFrames().map((f) => ({ name: f.file, frame: f.frame }));
  for (const [key, version] of [[0, 11], [1, 17], [3, 12], [8, 9], [9, 9], [11, 9], [14, 5], [19, 7], [18, 4], [68, 0]]) {
    const api = API_SCHEMAS.find((a) => a.apiKey === key)!;
    out.push({ name: `${api.name} v${version}`, frame: concat(encodeRequest(key, version, 1, 'c', sample(api.request.fields, version, 'values'))).subarray(4) });
  }
  return out;
}

describe('truncation at every byte', () => {
  it('requests: every strict prefix of a valid frame is a ProtocolError', () => {
    for (const { name, frame } of validRequests()) {
      expect(() => decodeRequest(frame), name).not.toThrow();
      for (let n = 0; n < frame.length; n++) {
        // A fresh copy so a read past `n` would hit the end of the buffer, not neighbouring bytes.
        expectProtocolError(() => decodeRequest(Buffer.from(frame.subarray(0, n))), `${name} cut at ${n}`);
      }
    }
  });

  it('responses: every strict prefix is a ProtocolError', () => {
    for (const [key, version] of [[18, 0], [18, 3], [3, 1], [3, 12], [0, 7], [0, 11], [1, 11], [1, 17], [11, 9], [55, 2]]) {
      const api = API_SCHEMAS.find((a) => a.apiKey === key)!;
      const frame = concat(encodeResponse(key, version, 1, sample(api.response.fields, version, 'values'))).subarray(4);
      expect(() => decodeResponse(key, version, frame)).not.toThrow();
      for (let n = 0; n < frame.length; n++) {
        expectProtocolError(() => decodeResponse(key, version, Buffer.from(frame.subarray(0, n))), `${api.name} v${version} cut at ${n}`);
      }
    }
  });
});

describe('lengths and counts', () => {
  // Produce v3 request: header (client "c"), transactional_id, acks, timeout, then the topics array.
  const produceHead = '0000 0003 00000001 0001 63 ffff ffff 000003e8';
  const cases: [string, string][] = [
    ['huge array count', `${produceHead} 7fffffff`],
    ['array count just above the bytes left', `${produceHead} 00000005 0001 74 00`],
    ['negative array count', `${produceHead} fffffffe`],
    ['null non-nullable array', `${produceHead} ffffffff`],
    ['negative string length', `${produceHead} 00000001 fffe`],
    ['null non-nullable string', `${produceHead} 00000001 ffff 00000000`],
    ['string longer than the frame', `${produceHead} 00000001 7fff 7474`],
    ['records size beyond the frame', `${produceHead} 00000001 0001 74 00000001 00000000 7ffffff0 00`],
    ['negative records size', `${produceHead} 00000001 0001 74 00000001 00000000 fffffff0`],
    ['negative transactional id length', '0000 0003 00000001 0001 63 fffd ffff 000003e8 00000000'],
    ['client id longer than the frame', '0000 0003 00000001 00ff 63'],
    ['negative client id length', '0000 0003 00000001 fff0 63 ffff ffff 000003e8 00000000'],
  ];
  for (const [what, bytes] of cases) {
    it(`classic: ${what}`, () => expectProtocolError(() => decodeRequest(hex(bytes)), what));
  }

  // Metadata v12 request (flexible): header v2, then topics compact array.
  const metaHead = '0003 000c 00000001 0001 63 00';
  const flexCases: [string, string][] = [
    ['compact count 2^32-2 (5-byte varint)', `${metaHead} ffffffff0f 00 00 00`],
    ['varint longer than 5 bytes', `${metaHead} ffffffffff01 00 00 00`],
    ['varint cut short', `${metaHead} ff`],
    ['compact array count above the bytes left', `${metaHead} 10 00 00 00`],
    ['compact string longer than the frame', `${metaHead} 02 ${'00'.repeat(16)} 7f 61 00 00 00 00`],
    ['compact null in a non-nullable string', `0003 000c 00000001 0001 63 00 02 ${'00'.repeat(16)} 00 00 00 00`],
    ['tagged field count above the bytes left', `${metaHead} 00 00 00 7f`],
    ['tagged field size beyond the frame', `${metaHead} 00 00 00 01 00 7f 00`],
    ['header tagged fields cut short', '0003 000c 00000001 0001 63 01 00 05 00'],
  ];
  for (const [what, bytes] of flexCases) {
    it(`flexible: ${what}`, () => expectProtocolError(() => decodeRequest(hex(bytes)), what));
  }

  it('frames shorter than a header, unknown keys and unknown versions', () => {
    for (let n = 0; n < 8; n++) expectProtocolError(() => decodeRequestHeader(Buffer.alloc(n)), `${n} bytes`);
    const unknownKey = hex('03e7 0000 00000001 ffff');
    const { header, bodyOffset } = decodeRequestHeader(unknownKey);
    expect(header.apiKey).toBe(999);
    expectProtocolError(() => decodeRequestBody(999, 0, unknownKey, bodyOffset), 'unknown key');
    expectProtocolError(() => decodeRequestBody(0, 99, unknownKey, bodyOffset), 'unknown version');
    expectProtocolError(() => decodeRequestBody(0, -1, unknownKey, bodyOffset), 'negative version');
    expectProtocolError(() => decodeRequestBody(0, 3, unknownKey, 100), 'offset beyond the frame');
    expect(() => encodeResponse(999, 0, 1, {})).toThrow(ProtocolError);
  });

  it('consumer protocol bytes', () => {
    expectProtocolError(() => decodeConsumerSubscription(Buffer.alloc(1)), 'too short');
    expectProtocolError(() => decodeConsumerSubscription(hex('ffff 00000000 ffffffff')), 'negative version');
    expectProtocolError(() => decodeConsumerSubscription(hex('0000 7fffffff')), 'huge topic count');
    expectProtocolError(() => decodeConsumerAssignment(hex('0000 00000001 0005 74')), 'truncated topic');
    // A version newer than we know is read with the newest layout (new versions only append).
    expect(decodeConsumerSubscription(hex('0009 00000001 0001 74 ffffffff 00000000 00000007 ffff extra'.replace('extra', 'ab')))).toMatchObject({
      version: 9,
      topics: ['t'],
      userData: null,
      ownedPartitions: [],
      generationId: 7,
      rackId: null,
    });
  });
});

describe('random corruption', () => {
  it('mutated frames decode or throw ProtocolError, nothing else', () => {
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const frames = validRequests();
    let decoded = 0;
    for (let i = 0; i < 20000; i++) {
      const { name, frame } = frames[rand(frames.length)];
      const mutated = Buffer.from(frame);
      const flips = 1 + rand(4);
      for (let j = 0; j < flips; j++) {
        const at = rand(mutated.length);
        mutated[at] = rand(3) === 0 ? [0x00, 0xff, 0x7f, 0x80][rand(4)] : rand(256);
      }
      const cut = rand(4) === 0 ? mutated.subarray(0, rand(mutated.length + 1)) : mutated;
      try {
        decodeRequest(cut);
        decoded++;
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw new Error(`${name} mutation ${i}: ${(err as Error).stack}`);
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});
