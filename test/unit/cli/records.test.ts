// Record text formats: DefaultMessageFormatter (consumer output), LineMessageReader (producer
// input), the kts JSONL interchange and --from/--until positions.
import { describe, expect, it } from 'vitest';
import { CliError } from '../../../src/cli/errors.js';
import { encodePayload, parseJsonRecord, toJsonRecord } from '../../../src/cli/records/jsonl.js';
import { LineMessageReader, javaSplit } from '../../../src/cli/records/line-reader.js';
import { DefaultMessageFormatter, type ConsumedRecord } from '../../../src/cli/records/message-formatter.js';
import { parseDuration, parsePosition, resolvePosition } from '../../../src/cli/records/positions.js';

const rec = (over: Partial<ConsumedRecord> = {}): ConsumedRecord => ({
  topic: 'orders',
  partition: 0,
  offset: 42,
  timestamp: 1718000000000,
  timestampType: 'CreateTime',
  key: Buffer.from('user-42'),
  value: Buffer.from('hello'),
  headers: [
    { key: 'trace', value: Buffer.from('abc') },
    { key: 'tenant', value: Buffer.from('7') },
  ],
  ...over,
});

const fmt = (props: Record<string, string>, r = rec()): string => new DefaultMessageFormatter(new Map(Object.entries(props))).format(r).toString('utf8');
const ALL = { 'print.timestamp': 'true', 'print.partition': 'true', 'print.offset': 'true', 'print.headers': 'true', 'print.key': 'true' };

describe('DefaultMessageFormatter', () => {
  it('prints the value alone by default', () => {
    expect(fmt({})).toBe('hello\n');
  });

  it('prints every field in Kafka order with all print.* on', () => {
    expect(fmt(ALL)).toBe('CreateTime:1718000000000\tPartition:0\tOffset:42\ttrace:abc,tenant:7\tuser-42\thello\n');
  });

  it('uses key.separator between every field and line.separator at the end', () => {
    expect(fmt({ ...ALL, 'key.separator': ':', 'line.separator': '|' })).toBe('CreateTime:1718000000000:Partition:0:Offset:42:trace:abc,tenant:7:user-42:hello|');
  });

  it('prints null literals, NO_HEADERS, NO_TIMESTAMP and LogAppendTime', () => {
    expect(fmt({ 'print.key': 'true' }, rec({ key: null }))).toBe('null\thello\n');
    expect(fmt({ 'print.key': 'true', 'null.literal': '<nil>' }, rec({ key: null, value: null }))).toBe('<nil>\t<nil>\n');
    expect(fmt({ 'print.headers': 'true' }, rec({ headers: [] }))).toBe('NO_HEADERS\thello\n');
    expect(fmt({ 'print.headers': 'true', 'headers.separator': ';' }, rec({ headers: [{ key: 'a', value: null }, { key: 'b', value: Buffer.from('2') }] }))).toBe('a:null;b:2\thello\n');
    expect(fmt({ 'print.timestamp': 'true' }, rec({ timestampType: 'NO_TIMESTAMP', timestamp: -1 }))).toBe('NO_TIMESTAMP\thello\n');
    expect(fmt({ 'print.timestamp': 'true' }, rec({ timestampType: 'LogAppendTime' }))).toBe('LogAppendTime:1718000000000\thello\n');
  });

  it('with print.value=false the last printed field ends the line', () => {
    expect(fmt({ 'print.key': 'true', 'print.value': 'false' })).toBe('user-42\n');
    expect(fmt({ 'print.offset': 'true', 'print.value': 'false' })).toBe('Offset:42\n');
    expect(fmt({ 'print.value': 'false' })).toBe('');
  });

  it('booleans are true only for "true" (trimmed, any case)', () => {
    expect(fmt({ 'print.key': ' TRUE ' })).toBe('user-42\thello\n');
    expect(fmt({ 'print.key': 'yes' })).toBe('hello\n');
  });

  it('applies deserializers, substituting the null literal first', () => {
    const int = Buffer.alloc(4);
    int.writeInt32BE(-7);
    expect(fmt({ 'value.deserializer': 'org.apache.kafka.common.serialization.IntegerDeserializer' }, rec({ value: int }))).toBe('-7\n');
    const long = Buffer.alloc(8);
    long.writeBigInt64BE(1234567890123n);
    expect(fmt({ 'key.deserializer': 'org.apache.kafka.common.serialization.LongDeserializer', 'print.key': 'true' }, rec({ key: long }))).toBe('1234567890123\thello\n');
    expect(fmt({ 'value.deserializer': 'org.apache.kafka.common.serialization.IntegerDeserializer' }, rec({ value: null }))).toBe(`${Buffer.from('null').readInt32BE(0)}\n`);
    expect(() => fmt({ 'value.deserializer': 'org.apache.kafka.common.serialization.IntegerDeserializer' })).toThrow('Size of data received by IntegerDeserializer is not 4');
    expect(() => new DefaultMessageFormatter(new Map([['value.deserializer', 'com.example.Nope']]))).toThrow(CliError);
  });
});

describe('LineMessageReader', () => {
  const reader = (props: Record<string, string> = {}) => new LineMessageReader(new Map(Object.entries(props)));
  const show = (r: ReturnType<LineMessageReader['parse']>) => ({
    key: r.key?.toString() ?? null,
    value: r.value?.toString() ?? null,
    headers: r.headers.map((h) => [h.key, h.value?.toString() ?? null]),
  });

  it('a plain line is the value; an empty line an empty value', () => {
    expect(show(reader().parse('hello world', 1))).toEqual({ key: null, value: 'hello world', headers: [] });
    expect(show(reader().parse('', 1))).toEqual({ key: null, value: '', headers: [] });
  });

  it('parse.key splits at the first separator', () => {
    expect(show(reader({ 'parse.key': 'true' }).parse('k\tv\twith tab', 1))).toEqual({ key: 'k', value: 'v\twith tab', headers: [] });
    expect(show(reader({ 'parse.key': 'true', 'key.separator': ':' }).parse('k:v', 1))).toEqual({ key: 'k', value: 'v', headers: [] });
  });

  it('parses headers, key and value together', () => {
    const r = reader({ 'parse.key': 'true', 'parse.headers': 'true' }).parse('h1:v1,h2:v2\tuser-42\t{"a":1}', 1);
    expect(show(r)).toEqual({ key: 'user-42', value: '{"a":1}', headers: [['h1', 'v1'], ['h2', 'v2']] });
  });

  it('reports missing separators with Kafka wording, or tolerates them with ignore.error', () => {
    expect(() => reader({ 'parse.key': 'true' }).parse('abc', 3)).toThrow("No key separator found on line number 3: 'abc'");
    expect(() => reader({ 'parse.headers': 'true' }).parse('abc', 2)).toThrow("No headers delimiter found on line number 2: 'abc'");
    expect(() => reader({ 'parse.headers': 'true' }).parse('x\tv', 1)).toThrow("No header key separator found in pair 'x' on line number 1");
    expect(show(reader({ 'parse.key': 'true', 'ignore.error': 'true' }).parse('abc', 1))).toEqual({ key: null, value: 'abc', headers: [] });
    expect(show(reader({ 'parse.headers': 'true', 'ignore.error': 'true' }).parse('x\tv', 1))).toEqual({ key: null, value: 'v', headers: [['x', null]] });
  });

  it('null.marker turns fields into nulls; a null header key is an error', () => {
    const r = reader({ 'parse.key': 'true', 'parse.headers': 'true', 'null.marker': 'N' });
    expect(show(r.parse('h:N\tN\tN', 1))).toEqual({ key: null, value: null, headers: [['h', null]] });
    expect(show(r.parse('N\tk\tv', 1))).toEqual({ key: 'k', value: 'v', headers: [] });
    expect(() => r.parse('N:v\tk\tv', 1)).toThrow("Header keys should not be equal to the null marker 'N' as they can't be null");
  });

  it('headers.separator is a regex; separators must differ', () => {
    expect(show(reader({ 'parse.headers': 'true', 'headers.separator': '[;|]' }).parse('a:1;b:2|c:3\tv', 1)).headers).toEqual([['a', '1'], ['b', '2'], ['c', '3']]);
    expect(() => reader({ 'headers.delimiter': ',' })).toThrow('headers.delimiter and headers.separator may not be equal');
    expect(() => reader({ 'null.marker': '\t' })).toThrow('null.marker and key.separator may not be equal');
  });

  it('javaSplit drops trailing empty strings like String#split', () => {
    expect(javaSplit('a,b,,', /,/)).toEqual(['a', 'b']);
    expect(javaSplit('', /,/)).toEqual(['']);
    expect(javaSplit(',', /,/)).toEqual([]);
  });
});

describe('JSONL interchange', () => {
  it('encodes text as strings and other bytes as base64', () => {
    expect(encodePayload(null)).toBeNull();
    expect(encodePayload(Buffer.from('héllo'))).toBe('héllo');
    expect(encodePayload(Buffer.from([0xff, 0x00, 0x01]))).toEqual({ base64: '/wAB' });
  });

  it('round-trips a record through a line', () => {
    const r = rec({ key: Buffer.from([0xff, 0xfe]), headers: [{ key: 'h', value: null }, { key: 'h', value: Buffer.from('x') }] });
    const line = JSON.stringify(toJsonRecord(r));
    expect(JSON.parse(line)).toEqual({
      topic: 'orders',
      partition: 0,
      offset: 42,
      timestamp: 1718000000000,
      timestampType: 'CreateTime',
      key: { base64: '//4=' },
      value: 'hello',
      headers: [
        { key: 'h', value: null },
        { key: 'h', value: 'x' },
      ],
    });
    const back = parseJsonRecord(line, 1)!;
    expect(back.key).toEqual(r.key);
    expect(back.value).toEqual(r.value);
    expect(back.headers).toEqual(r.headers);
    expect(back.partition).toBe(0);
    expect(back.timestamp).toBe(1718000000000);
  });

  it('accepts minimal lines, header objects and blank lines; rejects bad ones', () => {
    expect(parseJsonRecord('', 1)).toBeNull();
    const m = parseJsonRecord('{"value":"v","headers":{"a":"1"}}', 1)!;
    expect(m.key).toBeNull();
    expect(m.headers).toEqual([{ key: 'a', value: Buffer.from('1') }]);
    expect(m.partition).toBeUndefined();
    expect(() => parseJsonRecord('{nope', 4)).toThrow(/^Line 4 is not valid JSON/);
    expect(() => parseJsonRecord('{"value": 5}', 2)).toThrow('Line 2: "value" must be null, a string or {"base64": "..."}');
    expect(() => parseJsonRecord('{"value":"v","partition":-1}', 2)).toThrow('"partition" must be a non-negative integer');
  });
});

describe('--from / --until positions', () => {
  const now = Date.parse('2024-06-10T12:00:00Z');
  it('parses every form', () => {
    expect(parsePosition('earliest', 'from')).toEqual({ kind: 'earliest' });
    expect(parsePosition('latest', 'from')).toEqual({ kind: 'latest' });
    expect(parsePosition('end', 'until')).toEqual({ kind: 'latest' });
    expect(parsePosition('42', 'from')).toEqual({ kind: 'offset', offset: 42 });
    expect(parsePosition('-10', 'from')).toEqual({ kind: 'back', count: 10 });
    expect(parsePosition('@2024-06-10T11:00:00Z', 'from')).toEqual({ kind: 'time', timestamp: now - 3_600_000 });
    expect(parsePosition('@2024-06-10T11:00:00', 'from')).toEqual({ kind: 'time', timestamp: now - 3_600_000 });
    expect(parsePosition('@1718000000000', 'from')).toEqual({ kind: 'time', timestamp: 1718000000000 });
    expect(parsePosition('@-1h', 'from', now)).toEqual({ kind: 'time', timestamp: now - 3_600_000 });
    expect(parsePosition('@-1h30m', 'until', now)).toEqual({ kind: 'time', timestamp: now - 5_400_000 });
    expect(parseDuration('2d')).toBe(172_800_000);
  });

  it('rejects nonsense, and "end" for --from', () => {
    expect(() => parsePosition('end', 'from')).toThrow(/Invalid value 'end' for option from/);
    expect(() => parsePosition('@yesterday', 'from')).toThrow(/Invalid value/);
    expect(() => parsePosition('@-1y', 'from')).toThrow(/Invalid value/);
  });

  it('resolves against a partition log', () => {
    expect(resolvePosition({ kind: 'earliest' }, 5, 20)).toBe(5);
    expect(resolvePosition({ kind: 'latest' }, 5, 20)).toBe(20);
    expect(resolvePosition({ kind: 'back', count: 3 }, 5, 20)).toBe(17);
    expect(resolvePosition({ kind: 'back', count: 30 }, 5, 20)).toBe(5);
    expect(resolvePosition({ kind: 'time', timestamp: 1 }, 5, 20, 9)).toBe(9);
    expect(resolvePosition({ kind: 'time', timestamp: 1 }, 5, 20, -1)).toBe(20);
  });
});
