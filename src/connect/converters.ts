// Kafka Connect's converters, by Kafka's class names: StringConverter, ByteArrayConverter and
// JsonConverter (with and without schemas.enable). JsonConverter's text is written by hand rather
// than with JSON.stringify so that it is byte-for-byte what Kafka's Jackson writes: struct fields
// in schema order (JSON.stringify would move integer-like keys first), doubles as Java prints them
// (1.0, 1.0E20), bytes as base64.
import { DataException, javaDouble, OPTIONAL_BYTES_SCHEMA, OPTIONAL_STRING_SCHEMA, type Schema, type SchemaType } from './data.js';

export interface SchemaAndValue {
  schema: Schema | null;
  value: unknown;
}

export interface Converter {
  fromConnectData(topic: string, schema: Schema | null, value: unknown): Buffer | null;
  toConnectData(topic: string, bytes: Buffer | null): SchemaAndValue;
}

/** Class names (and short names) to factories; `props` are the converter's own keys (prefix removed). */
const CONVERTERS: Record<string, (props: Record<string, string>, isKey: boolean) => Converter> = {
  'org.apache.kafka.connect.storage.StringConverter': () => new StringConverter(),
  'org.apache.kafka.connect.converters.ByteArrayConverter': () => new ByteArrayConverter(),
  'org.apache.kafka.connect.json.JsonConverter': (props) => new JsonConverter(props),
};

export const CONVERTER_CLASSES = Object.keys(CONVERTERS);

export function createConverter(className: string, props: Record<string, string>, isKey: boolean): Converter {
  const name = className.trim();
  const factory = CONVERTERS[name] ?? Object.entries(CONVERTERS).find(([full]) => full.endsWith(`.${name}`))?.[1];
  if (!factory) throw new ConfigException(`Class ${name} could not be found.`);
  return factory(props, isKey);
}

export { javaDouble };

export class ConfigException extends Error {
  override name = 'ConfigException';
}

export class StringConverter implements Converter {
  fromConnectData(_topic: string, _schema: Schema | null, value: unknown): Buffer | null {
    if (value === null || value === undefined) return null;
    return Buffer.from(typeof value === 'string' ? value : String(value), 'utf8');
  }
  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: OPTIONAL_STRING_SCHEMA, value: bytes === null ? null : bytes.toString('utf8') };
  }
}

export class ByteArrayConverter implements Converter {
  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Buffer | null {
    if (schema !== null && schema.type !== 'bytes') throw new DataException(`Invalid schema type for ByteArrayConverter: ${schema.type.toUpperCase()}`);
    if (value === null || value === undefined) return null;
    if (!Buffer.isBuffer(value)) throw new DataException(`ByteArrayConverter is not compatible with objects of type ${typeof value}`);
    return value;
  }
  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    return { schema: OPTIONAL_BYTES_SCHEMA, value: bytes };
  }
}

export class JsonConverter implements Converter {
  readonly schemasEnabled: boolean;
  constructor(props: Record<string, string> = {}) {
    const v = (props['schemas.enable'] ?? 'true').trim().toLowerCase();
    if (v !== 'true' && v !== 'false') throw new ConfigException(`Invalid value ${props['schemas.enable']} for configuration schemas.enable: Expected value to be either true or false`);
    this.schemasEnabled = v === 'true';
  }

  fromConnectData(_topic: string, schema: Schema | null, value: unknown): Buffer | null {
    // A tombstone stays a tombstone (Kafka's JsonConverter returns null for a null schema and value).
    if (schema === null && (value === null || value === undefined)) return null;
    const payload = toJson(schema, value);
    const text = this.schemasEnabled ? `{"schema":${schema === null ? 'null' : schemaJson(schema)},"payload":${payload}}` : payload;
    return Buffer.from(text, 'utf8');
  }

  toConnectData(_topic: string, bytes: Buffer | null): SchemaAndValue {
    if (bytes === null) return { schema: null, value: null };
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      throw new DataException(`Converting byte[] to Kafka Connect data failed due to serialization error: ${(err as Error).message}`);
    }
    if (!this.schemasEnabled) return { schema: null, value: fromJsonSchemaless(parsed) };
    const env = parsed as Record<string, unknown>;
    if (env === null || typeof env !== 'object' || Array.isArray(env) || Object.keys(env).length !== 2 || !('schema' in env) || !('payload' in env)) {
      throw new DataException(
        'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.',
      );
    }
    if (env.schema === null) return { schema: null, value: fromJsonSchemaless(env.payload) };
    const schema = schemaFromJson(env.schema);
    return { schema, value: fromJson(schema, env.payload) };
  }
}

// ---- Connect data to JSON text ----

const JSON_TYPES: Record<SchemaType, string> = {
  int8: 'int8', int16: 'int16', int32: 'int32', int64: 'int64', float32: 'float', float64: 'double',
  boolean: 'boolean', string: 'string', bytes: 'bytes', array: 'array', map: 'map', struct: 'struct',
};

/** Kafka's JsonConverter.asJsonSchema: type, then the nested schemas, then optional, name, version, doc, parameters, default. */
export function schemaJson(s: Schema): string {
  const parts = [`"type":${str(JSON_TYPES[s.type])}`];
  if (s.type === 'array') parts.push(`"items":${schemaJson(s.valueSchema!)}`);
  if (s.type === 'map') parts.push(`"keys":${schemaJson(s.keySchema!)}`, `"values":${schemaJson(s.valueSchema!)}`);
  if (s.type === 'struct') {
    parts.push(`"fields":[${(s.fields ?? []).map((f) => `${schemaJson(f.schema).slice(0, -1)},"field":${str(f.name)}}`).join(',')}]`);
  }
  parts.push(`"optional":${s.optional}`);
  if (s.name !== undefined) parts.push(`"name":${str(s.name)}`);
  if (s.version !== undefined) parts.push(`"version":${s.version}`);
  if (s.doc !== undefined) parts.push(`"doc":${str(s.doc)}`);
  if (s.parameters !== undefined) parts.push(`"parameters":{${Object.entries(s.parameters).map(([k, v]) => `${str(k)}:${str(v)}`).join(',')}}`);
  if (s.defaultValue !== undefined && s.defaultValue !== null) parts.push(`"default":${toJson(s, s.defaultValue)}`);
  return `{${parts.join(',')}}`;
}

const str = (s: string): string => JSON.stringify(s);

export function toJson(schema: Schema | null, value: unknown): string {
  if (value === null || value === undefined) {
    if (schema === null) return 'null';
    if (schema.defaultValue !== undefined && schema.defaultValue !== null) return toJson(schema, schema.defaultValue);
    if (schema.optional) return 'null';
    throw new DataException('Conversion error: null value for field that is required and has no default value');
  }
  if (schema === null) return schemalessJson(value);
  switch (schema.type) {
    case 'int8':
    case 'int16':
    case 'int32':
    case 'int64':
      if (typeof value === 'bigint') return value.toString();
      if (value instanceof Date) return String(value.getTime());
      if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidType(schema, value);
      return String(value);
    case 'float32':
    case 'float64':
      if (typeof value !== 'number') throw invalidType(schema, value);
      return javaDouble(value);
    case 'boolean':
      if (typeof value !== 'boolean') throw invalidType(schema, value);
      return String(value);
    case 'string':
      if (typeof value !== 'string') throw invalidType(schema, value);
      return str(value);
    case 'bytes':
      if (!Buffer.isBuffer(value)) throw invalidType(schema, value);
      return str(value.toString('base64'));
    case 'array':
      if (!Array.isArray(value)) throw invalidType(schema, value);
      return `[${value.map((v) => toJson(schema.valueSchema ?? null, v)).join(',')}]`;
    case 'map': {
      const entries = value instanceof Map ? [...value] : Object.entries(value as object);
      if (schema.keySchema?.type === 'string') return `{${entries.map(([k, v]) => `${str(String(k))}:${toJson(schema.valueSchema ?? null, v)}`).join(',')}}`;
      return `[${entries.map(([k, v]) => `[${toJson(schema.keySchema ?? null, k)},${toJson(schema.valueSchema ?? null, v)}]`).join(',')}]`;
    }
    case 'struct': {
      const obj = value as Record<string, unknown>;
      return `{${(schema.fields ?? []).map((f) => `${str(f.name)}:${toJson(f.schema, obj[f.name])}`).join(',')}}`;
    }
  }
}

function invalidType(schema: Schema, value: unknown): DataException {
  return new DataException(`Invalid type for ${schema.type.toUpperCase()}: ${Buffer.isBuffer(value) ? 'class [B' : typeof value}`);
}

function schemalessJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return str(value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : javaDouble(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return str(value.toString('base64'));
  if (Array.isArray(value)) return `[${value.map(schemalessJson).join(',')}]`;
  const entries = value instanceof Map ? [...value] : Object.entries(value as object);
  return `{${entries.map(([k, v]) => `${str(String(k))}:${schemalessJson(v)}`).join(',')}}`;
}

// ---- JSON to Connect data ----

const FROM_JSON_TYPES: Record<string, SchemaType> = Object.fromEntries(Object.entries(JSON_TYPES).map(([k, v]) => [v, k as SchemaType]));

export function schemaFromJson(j: unknown): Schema {
  const o = j as Record<string, unknown>;
  if (!o || typeof o !== 'object' || typeof o.type !== 'string') throw new DataException('Schema must contain \'type\' field');
  const type = FROM_JSON_TYPES[o.type];
  if (!type) throw new DataException(`Unknown schema type: ${o.type}`);
  const s: Schema = { type, optional: o.optional === true };
  if (type === 'array') s.valueSchema = schemaFromJson(o.items);
  if (type === 'map') {
    s.keySchema = schemaFromJson(o.keys);
    s.valueSchema = schemaFromJson(o.values);
  }
  if (type === 'struct') {
    if (!Array.isArray(o.fields)) throw new DataException('Struct schema\'s "fields" argument is not an array.');
    s.fields = o.fields.map((f: Record<string, unknown>) => ({ name: String(f.field), schema: schemaFromJson(f) }));
  }
  if (typeof o.name === 'string') s.name = o.name;
  if (typeof o.version === 'number') s.version = o.version;
  if (typeof o.doc === 'string') s.doc = o.doc;
  if (o.parameters && typeof o.parameters === 'object') s.parameters = o.parameters as Record<string, string>;
  if (o.default !== undefined && o.default !== null) s.defaultValue = fromJson({ ...s }, o.default);
  return s;
}

export function fromJson(schema: Schema, j: unknown): unknown {
  if (j === null || j === undefined) {
    if (schema.defaultValue !== undefined) return schema.defaultValue;
    if (schema.optional) return null;
    throw new DataException(`Invalid null value for required ${schema.type.toUpperCase()} field`);
  }
  switch (schema.type) {
    case 'bytes':
      return Buffer.from(String(j), 'base64');
    case 'array':
      return (j as unknown[]).map((v) => fromJson(schema.valueSchema!, v));
    case 'map':
      if (schema.keySchema?.type === 'string') return new Map(Object.entries(j as object).map(([k, v]) => [k, fromJson(schema.valueSchema!, v)]));
      return new Map((j as [unknown, unknown][]).map(([k, v]) => [fromJson(schema.keySchema!, k), fromJson(schema.valueSchema!, v)]));
    case 'struct': {
      const out: Record<string, unknown> = {};
      for (const f of schema.fields ?? []) out[f.name] = fromJson(f.schema, (j as Record<string, unknown>)[f.name]);
      return out;
    }
    default:
      return j;
  }
}

function fromJsonSchemaless(j: unknown): unknown {
  if (Array.isArray(j)) return j.map(fromJsonSchemaless);
  if (j !== null && typeof j === 'object') return new Map(Object.entries(j).map(([k, v]) => [k, fromJsonSchemaless(v)]));
  return j;
}
