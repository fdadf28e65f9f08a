// Kafka's SMTs and predicates by class name and config keys, on records with and without schemas,
// and JsonConverter's text for what they produce (the shapes Kafka's own converter writes).
import { describe, expect, it } from 'vitest';
import { JsonConverter } from '../../../src/connect/converters.js';
import { STRING_SCHEMA, type Schema } from '../../../src/connect/data.js';
import { simpleDateFormat } from '../../../src/connect/smt.js';
import { buildChain, type ConnectRecord } from '../../../src/connect/transforms.js';

const T = 'org.apache.kafka.connect.transforms.';
const userSchema: Schema = {
  type: 'struct',
  optional: false,
  name: 'user',
  fields: [
    { name: 'id', schema: { type: 'int32', optional: false } },
    { name: 'email', schema: { type: 'string', optional: false } },
    { name: 'score', schema: { type: 'float64', optional: true } },
  ],
};
const user = (): ConnectRecord & { kafkaOffset: number } => ({
  topic: 'users',
  kafkaPartition: 2,
  kafkaOffset: 41,
  valueSchema: userSchema,
  value: { id: 7, email: 'a@b.c', score: 1.5 },
  timestamp: Date.UTC(2024, 0, 31, 23, 59, 58),
  headers: [{ key: 'trace', value: Buffer.from('x') }],
});
const json = new JsonConverter({ 'schemas.enable': 'true' });
const jsonText = (r: ConnectRecord | null) => json.fromConnectData(r!.topic, r!.valueSchema ?? null, r!.value)!.toString();
const chain = (cfg: Record<string, string>) => buildChain(cfg);

describe('InsertField', () => {
  it('adds topic, partition, offset, timestamp and a static field after the struct\'s own fields', () => {
    const t = chain({
      transforms: 'ins',
      'transforms.ins.type': `${T}InsertField$Value`,
      'transforms.ins.topic.field': 'topic',
      'transforms.ins.partition.field': 'part!',
      'transforms.ins.offset.field': 'off',
      'transforms.ins.timestamp.field': 'ts',
      'transforms.ins.static.field': 'origin',
      'transforms.ins.static.value': 'kts',
    });
    expect(jsonText(t(user()))).toBe(
      '{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"},{"type":"string","optional":false,"field":"email"},{"type":"double","optional":true,"field":"score"},' +
        '{"type":"string","optional":true,"field":"topic"},{"type":"int32","optional":false,"field":"part"},{"type":"int64","optional":true,"field":"off"},' +
        '{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts"},{"type":"string","optional":true,"field":"origin"}],"optional":false,"name":"user"},' +
        '"payload":{"id":7,"email":"a@b.c","score":1.5,"topic":"users","part":2,"off":41,"ts":1706745598000,"origin":"kts"}}',
    );
  });

  it('puts fields into a schemaless map, passes tombstones, and refuses a string', () => {
    const t = chain({ transforms: 'i', 'transforms.i.type': 'InsertField$Value', 'transforms.i.static.field': 's', 'transforms.i.static.value': 'v' });
    const out = t({ topic: 'x', value: new Map([['a', 1]]) });
    expect([...(out!.value as Map<string, unknown>)]).toEqual([['a', 1], ['s', 'v']]);
    expect(t({ topic: 'x', value: null })).toEqual({ topic: 'x', value: null });
    expect(() => t({ topic: 'x', value: 'str' })).toThrow('Only Map objects supported in absence of schema for [field insertion], found: java.lang.String');
  });

  it('works on the key with $Key and refuses offset.field on a source record', () => {
    const t = chain({ transforms: 'k', 'transforms.k.type': `${T}InsertField$Key`, 'transforms.k.topic.field': 't' });
    expect([...(t({ topic: 'x', key: {}, value: 'v' })!.key as Map<string, unknown>)]).toEqual([['t', 'x']]);
    const o = chain({ transforms: 'o', 'transforms.o.type': `${T}InsertField$Value`, 'transforms.o.offset.field': 'o' });
    expect(() => o({ topic: 'x', value: {} })).toThrow('Offset insertion is only supported for sink connectors');
  });
});

describe('ReplaceField', () => {
  it('excludes, includes and renames, keeping the schema\'s order', () => {
    const t = chain({ transforms: 'r', 'transforms.r.type': `${T}ReplaceField$Value`, 'transforms.r.exclude': 'score', 'transforms.r.renames': 'email:mail,id:user_id' });
    expect(jsonText(t(user()))).toBe(
      '{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"user_id"},{"type":"string","optional":false,"field":"mail"}],"optional":false,"name":"user"},"payload":{"user_id":7,"mail":"a@b.c"}}',
    );
    const inc = chain({ transforms: 'r', 'transforms.r.type': `${T}ReplaceField$Value`, 'transforms.r.include': 'email' });
    expect([...(inc({ topic: 'x', value: new Map<string, unknown>([['id', 1], ['email', 'e']]) })!.value as Map<string, unknown>)]).toEqual([['email', 'e']]);
    expect(() => chain({ transforms: 'r', 'transforms.r.type': `${T}ReplaceField$Value`, 'transforms.r.renames': 'a:b:c' })).toThrow('Invalid rename mapping: a:b:c');
  });
});

describe('MaskField', () => {
  it('masks with each type\'s empty value, or with replacement', () => {
    const t = chain({ transforms: 'm', 'transforms.m.type': `${T}MaskField$Value`, 'transforms.m.fields': 'email,score' });
    expect((t(user())!.value as Record<string, unknown>)).toEqual({ id: 7, email: '', score: 0 });
    expect(jsonText(t(user()))).toContain('"payload":{"id":7,"email":"","score":0.0}');
    const r = chain({ transforms: 'm', 'transforms.m.type': `${T}MaskField$Value`, 'transforms.m.fields': 'email,id', 'transforms.m.replacement': '12' });
    expect((r(user())!.value as Record<string, unknown>)).toMatchObject({ id: 12, email: '12' });
    const schemaless = chain({ transforms: 'm', 'transforms.m.type': `${T}MaskField$Value`, 'transforms.m.fields': 'ok,n' });
    expect([...(schemaless({ topic: 't', value: new Map<string, unknown>([['ok', true], ['n', 3]]) })!.value as Map<string, unknown>)]).toEqual([['ok', false], ['n', 0]]);
  });
});

describe('TimestampRouter and RegexRouter', () => {
  it('routes by the record timestamp in UTC with SimpleDateFormat patterns', () => {
    const t = chain({ transforms: 'ts', 'transforms.ts.type': `${T}TimestampRouter` });
    expect(t(user())!.topic).toBe('users-20240131');
    const custom = chain({ transforms: 'ts', 'transforms.ts.type': 'TimestampRouter', 'transforms.ts.topic.format': 'daily_${topic}', 'transforms.ts.timestamp.format': "yyyy-MM-dd'T'HH" });
    expect(custom(user())!.topic).toBe('daily_users');
    expect(simpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS", Date.UTC(2024, 1, 3, 4, 5, 6, 7))).toBe('2024-02-03T04:05:06.007');
    expect(() => t({ topic: 'x', value: 1, timestamp: null })).toThrow('Timestamp missing on record');
  });

  it('renames whole-matching topics with Java\'s $1 replacement', () => {
    const t = chain({ transforms: 'rr', 'transforms.rr.type': `${T}RegexRouter`, 'transforms.rr.regex': '(.*)-raw', 'transforms.rr.replacement': '$1-clean' });
    expect(t({ topic: 'orders-raw', value: 1 })!.topic).toBe('orders-clean');
    expect(t({ topic: 'orders-raw-x', value: 1 })!.topic).toBe('orders-raw-x');
  });
});

describe('Filter with predicates', () => {
  const base = { transforms: 'drop', 'transforms.drop.type': `${T}Filter` };
  it('drops what TopicNameMatches, HasHeaderKey or RecordIsTombstone select, and keeps the rest (negate flips it)', () => {
    const byTopic = chain({ ...base, 'transforms.drop.predicate': 'p', predicates: 'p', 'predicates.p.type': `${T}predicates.TopicNameMatches`, 'predicates.p.pattern': 'test-.*' });
    expect(byTopic({ topic: 'test-1', value: 1 })).toBeNull();
    expect(byTopic({ topic: 'prod', value: 1 })).not.toBeNull();
    const byHeader = chain({ ...base, 'transforms.drop.predicate': 'h', predicates: 'h', 'predicates.h.type': 'HasHeaderKey', 'predicates.h.name': 'trace' });
    expect(byHeader(user())).toBeNull();
    expect(byHeader({ topic: 'x', value: 1 })).not.toBeNull();
    const keepTombstones = chain({ ...base, 'transforms.drop.predicate': 't', 'transforms.drop.negate': 'true', predicates: 't', 'predicates.t.type': 'RecordIsTombstone' });
    expect(keepTombstones({ topic: 'x', value: null })).not.toBeNull();
    expect(keepTombstones({ topic: 'x', value: 'v', valueSchema: STRING_SCHEMA })).toBeNull();
  });

  it('refuses unknown classes and missing keys with Kafka\'s messages', () => {
    expect(() => chain({ transforms: 'a', 'transforms.a.type': 'NoSuch' })).toThrow('Class NoSuch could not be found.');
    expect(() => chain({ transforms: 'a' })).toThrow('Missing required configuration "transforms.a.type" which has no default value.');
    expect(() => chain({ ...base, 'transforms.drop.predicate': 'zz' })).toThrow('Predicate not found');
  });
});
