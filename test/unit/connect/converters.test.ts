// StringConverter, ByteArrayConverter and JsonConverter (with and without schemas.enable), by
// Kafka's class names: the bytes they write and what they read back.
import { describe, expect, it } from 'vitest';
import { createConverter, javaDouble } from '../../../src/connect/converters.js';
import { javaString, STRING_SCHEMA, type Schema } from '../../../src/connect/data.js';

const json = (enable: string) => createConverter('org.apache.kafka.connect.json.JsonConverter', { 'schemas.enable': enable }, false);

describe('JsonConverter', () => {
  it('writes the envelope the quickstart shows, and a plain JSON string without schemas', () => {
    expect(json('true').fromConnectData('t', STRING_SCHEMA, 'foo')!.toString()).toBe('{"schema":{"type":"string","optional":false},"payload":"foo"}');
    expect(json('false').fromConnectData('t', STRING_SCHEMA, 'foo')!.toString()).toBe('"foo"');
    expect(json('true').fromConnectData('t', null, null)).toBeNull();
  });

  it('writes maps, arrays, bytes and doubles as Kafka does, and reads them back', () => {
    const schema: Schema = {
      type: 'struct',
      optional: false,
      fields: [
        { name: '9', schema: { type: 'float64', optional: false } },
        { name: 'tags', schema: { type: 'array', optional: true, valueSchema: { type: 'string', optional: false } } },
        { name: 'm', schema: { type: 'map', optional: false, keySchema: { type: 'int32', optional: false }, valueSchema: { type: 'bytes', optional: false } } },
      ],
    };
    const value = { '9': 1e20, tags: ['a'], m: new Map([[1, Buffer.from('hi')]]) };
    const text = json('true').fromConnectData('t', schema, value)!.toString();
    expect(text).toBe(
      '{"schema":{"type":"struct","fields":[{"type":"double","optional":false,"field":"9"},{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"tags"},' +
        '{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"bytes","optional":false},"optional":false,"field":"m"}],"optional":false},"payload":{"9":1.0E20,"tags":["a"],"m":[[1,"aGk="]]}}',
    );
    const back = json('true').toConnectData('t', Buffer.from(text));
    expect(back.schema).toEqual(schema);
    expect(back.value).toEqual(value);
    expect(javaString(back.value, back.schema)).toBe('Struct{9=1.0E20,tags=[a],m={1=[B@' + javaString(Buffer.from('hi')).slice(3) + '}}');
  });

  it('refuses plain JSON when schemas are enabled, with Kafka\'s advice', () => {
    expect(() => json('true').toConnectData('t', Buffer.from('{"a":1}'))).toThrow('JsonConverter with schemas.enable requires "schema" and "payload" fields');
    expect(json('false').toConnectData('t', Buffer.from('{"a":1}')).value).toEqual(new Map([['a', 1]]));
  });

  it('prints doubles as Java does', () => {
    expect([1, 0.5, 1e-4, 1e7, 123456.789, -0].map(javaDouble)).toEqual(['1.0', '0.5', '1.0E-4', '1.0E7', '123456.789', '-0.0']);
  });
});

describe('StringConverter and ByteArrayConverter', () => {
  it('round-trip UTF-8 text and bytes; ByteArrayConverter refuses a string schema', () => {
    const s = createConverter('org.apache.kafka.connect.storage.StringConverter', {}, false);
    expect(s.fromConnectData('t', STRING_SCHEMA, 'héllo')).toEqual(Buffer.from('héllo'));
    expect(s.toConnectData('t', Buffer.from('héllo'))).toEqual({ schema: { type: 'string', optional: true }, value: 'héllo' });
    const b = createConverter('ByteArrayConverter', {}, true);
    expect(b.fromConnectData('t', null, Buffer.from([1, 2]))).toEqual(Buffer.from([1, 2]));
    expect(() => b.fromConnectData('t', STRING_SCHEMA, 'x')).toThrow('Invalid schema type for ByteArrayConverter: STRING');
    expect(() => createConverter('com.example.Nope', {}, false)).toThrow('Class com.example.Nope could not be found.');
  });
});
