// The generated TypeScript interfaces (src/protocol/generated/*.ts, after the schemas) must describe
// what the decoder really produces: every API's request and response, at every version, decoded from
// a sample with a value in every field, from one with every nullable field null, and from an empty
// object, is checked against the interface text (each key present and no other, each value of the
// declared type). The type-level lines below fail `tsc --noEmit` if the handler-facing types loosen.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { API_SCHEMAS, decodeMessage, encodeMessage } from '../../../src/protocol/index.js';
import type { MessageSchema } from '../../../src/protocol/codec/schema.js';
import type { ProduceRequestData, TopicProduceData } from '../../../src/protocol/generated/00-produce.js';
import type { RequestData, ResponseBody } from '../../../src/protocol/generated/api-types.js';
import { sample, versionsOf } from './sample.js';

const dir = new URL('../../../src/protocol/generated/', import.meta.url);

/** interface name -> (field -> declared type text), from every generated API file. */
function parseInterfaces(file: string): Map<string, Map<string, string>> {
  const text = readFileSync(new URL(file, dir), 'utf8');
  const out = new Map<string, Map<string, string>>();
  for (const m of text.matchAll(/^export interface (\w+) \{\n([\s\S]*?)^\}/gm)) {
    const fields = new Map<string, string>();
    for (const f of m[2].matchAll(/^ {2}(\w+): (.+);$/gm)) fields.set(f[1], f[2]);
    out.set(m[1], fields);
  }
  return out;
}

/** Where `value` does not match `type` (a path and why), or null. */
function mismatch(value: unknown, type: string, types: Map<string, Map<string, string>>, path: string): string | null {
  const alternatives = type.split(' | ');
  const reasons: string[] = [];
  for (const alt of alternatives) {
    let why: string | null = null;
    if (alt === 'null') why = value === null ? null : 'not null';
    else if (alt === 'number' || alt === 'string' || alt === 'boolean') why = typeof value === alt ? null : `not a ${alt}`;
    else if (alt === 'Buffer') why = Buffer.isBuffer(value) ? null : 'not a Buffer';
    else if (alt.endsWith('[]')) {
      if (!Array.isArray(value)) why = 'not an array';
      else {
        const elem = alt.slice(0, -2).replace(/^\((.*)\)$/, '$1');
        for (let i = 0; i < value.length && !why; i++) why = mismatch(value[i], elem, types, `${path}[${i}]`);
      }
    } else {
      const fields = types.get(alt);
      if (!fields) why = `unknown type ${alt}`;
      else if (typeof value !== 'object' || value === null) why = `not an object (${alt})`;
      else {
        const keys = Object.keys(value).sort();
        const declared = [...fields.keys()].sort();
        if (keys.join() !== declared.join()) why = `keys ${keys.join()} but ${alt} declares ${declared.join()}`;
        for (const [name, t] of fields) if (!why) why = mismatch((value as Record<string, unknown>)[name], t, types, `${path}.${name}`);
      }
    }
    if (why === null) return null;
    reasons.push(why);
  }
  return `${path}: ${reasons.join('; ')}`;
}

describe('generated data types match the decoder', () => {
  const files = readdirSync(dir).filter((f) => /^\d\d-/.test(f));
  for (const api of API_SCHEMAS) {
    it(`${api.apiKey} ${api.name}`, () => {
      const file = files.find((f) => f.startsWith(`${String(api.apiKey).padStart(2, '0')}-`));
      expect(file).toBeDefined();
      const types = parseInterfaces(file!);
      for (const schema of [api.request, api.response] as MessageSchema[]) {
        expect(types.has(`${schema.name}Data`)).toBe(true);
        for (const version of versionsOf(schema)) {
          for (const value of [sample(schema.fields, version, 'values'), sample(schema.fields, version, 'nulls'), {}]) {
            const decoded = decodeMessage(schema, version, encodeMessage(schema, version, value));
            expect(mismatch(decoded, `${schema.name}Data`, types, `${schema.name} v${version}`)).toBeNull();
          }
        }
      }
    });
  }

  it('the checker itself refuses a wrong value', () => {
    const types = parseInterfaces('00-produce.ts');
    const good = { transactionalId: null, acks: 1, timeoutMs: 5, topicData: [{ name: 't', topicId: 'x', partitionData: [{ index: 0, records: null }] }] };
    expect(mismatch(good, 'ProduceRequestData', types, 'r')).toBeNull();
    expect(mismatch({ ...good, acks: '1' }, 'ProduceRequestData', types, 'r')).toMatch(/r\.acks: not a number/);
    expect(mismatch({ ...good, extra: 1 }, 'ProduceRequestData', types, 'r')).toMatch(/keys/);
    const { timeoutMs: _, ...missing } = good;
    expect(mismatch(missing, 'ProduceRequestData', types, 'r')).toMatch(/keys/);
  });

  it('handler-facing types (checked by tsc)', () => {
    expectTypeOf<RequestData<0>>().toEqualTypeOf<ProduceRequestData>();
    expectTypeOf<ProduceRequestData['topicData']>().toEqualTypeOf<TopicProduceData[]>();
    expectTypeOf<ProduceRequestData['transactionalId']>().toEqualTypeOf<string | null>();
    const partial: ResponseBody<0> = { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0 }] }] };
    // @ts-expect-error errorCode is a number
    const wrongType: ResponseBody<0> = { responses: [{ partitionResponses: [{ errorCode: 'NONE' }] }] };
    // @ts-expect-error no such field
    const wrongName: ResponseBody<0> = { responses: [{ partitions: [] }] };
    expect([partial, wrongType, wrongName]).toHaveLength(3);
  });
});
