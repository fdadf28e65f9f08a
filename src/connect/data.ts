// Connect's data model, as far as the converters and transforms need it: a schema (Kafka's
// org.apache.kafka.connect.data.Schema) and plain JavaScript values. A struct's value is a plain
// object whose keys follow its schema's fields; a map's value is a Map (or a plain object when it
// came from schemaless JSON); bytes are Buffers; int64 values are numbers (exact up to 2^53).

export type SchemaType = 'int8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'boolean' | 'string' | 'bytes' | 'array' | 'map' | 'struct';

export interface Schema {
  type: SchemaType;
  optional: boolean;
  name?: string;
  version?: number;
  doc?: string;
  parameters?: Record<string, string>;
  defaultValue?: unknown;
  /** struct */
  fields?: { name: string; schema: Schema }[];
  /** array: items; map: values */
  valueSchema?: Schema;
  /** map */
  keySchema?: Schema;
}

export const STRING_SCHEMA: Schema = { type: 'string', optional: false };
export const OPTIONAL_STRING_SCHEMA: Schema = { type: 'string', optional: true };
export const BYTES_SCHEMA: Schema = { type: 'bytes', optional: false };
export const OPTIONAL_BYTES_SCHEMA: Schema = { type: 'bytes', optional: true };

/** Kafka's logical types carried by name (org.apache.kafka.connect.data.Timestamp and friends). */
export const TIMESTAMP_LOGICAL = 'org.apache.kafka.connect.data.Timestamp';

export class DataException extends Error {
  override name = 'DataException';
}

/**
 * What Java's toString gives for a Connect value (FileStreamSink prints values with println):
 * Struct{a=1,b=x}, {k=v, k2=v2} for maps, [a, b] for lists.
 */
export function javaString(value: unknown, schema?: Schema | null): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (schema && (schema.type === 'float32' || schema.type === 'float64')) return javaDouble(value);
    return String(value);
  }
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return `[B@${(value.length * 2654435761 >>> 0).toString(16)}`;
  if (value instanceof Date) return value.toString();
  if (Array.isArray(value)) return `[${value.map((v) => javaString(v, schema?.valueSchema)).join(', ')}]`;
  if (value instanceof Map) return `{${[...value].map(([k, v]) => `${javaString(k, schema?.keySchema)}=${javaString(v, schema?.valueSchema)}`).join(', ')}}`;
  if (schema?.type === 'struct') {
    const obj = value as Record<string, unknown>;
    const parts = (schema.fields ?? []).filter((f) => obj[f.name] !== undefined && obj[f.name] !== null).map((f) => `${f.name}=${javaString(obj[f.name], f.schema)}`);
    return `Struct{${parts.join(',')}}`;
  }
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${javaString(v)}`).join(', ')}}`;
}

/** A copy of a struct schema with its fields replaced (transforms that add or drop fields). */
export function structSchema(base: Schema, fields: { name: string; schema: Schema }[]): Schema {
  const s: Schema = { type: 'struct', optional: base.optional, fields };
  if (base.name !== undefined) s.name = base.name;
  if (base.version !== undefined) s.version = base.version;
  if (base.doc !== undefined) s.doc = base.doc;
  return s;
}

/** A double as Java's Double.toString writes it (Jackson uses it): 1.0, 0.001, 1.0E7, 1.0E-4. */
export function javaDouble(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(n);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mant, exp] = n.toExponential().split('e');
  return `${mant.includes('.') ? mant : `${mant}.0`}E${Number(exp)}`;
}

