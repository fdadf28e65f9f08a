// Kafka's single message transforms and predicates that people use most, by Kafka's class names
// and config keys: InsertField, ReplaceField, MaskField ($Key / $Value), TimestampRouter,
// RegexRouter, Filter; predicates TopicNameMatches, HasHeaderKey, RecordIsTombstone. Records with
// a struct schema get a new schema (fields in Kafka's order); schemaless ones must be maps.
import { ConfigException } from './converters.js';
import { DataException, structSchema, TIMESTAMP_LOGICAL, type Schema, type SchemaType } from './data.js';
import type { ConnectRecord, PredicateFactory, TransformFactory, Transformation } from './transforms.js';

const PKG = 'org.apache.kafka.connect.transforms.';

const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

function required(props: Record<string, string>, key: string): string {
  const v = props[key];
  if (v === undefined) throw new ConfigException(`Missing required configuration "${key}" which has no default value.`);
  return v;
}

/** The part of the record a $Key/$Value transform works on, and how to put it back. */
function side(isKey: boolean | null, className: string): { get(r: ConnectRecord): { schema: Schema | null; value: unknown }; set<R extends ConnectRecord>(r: R, schema: Schema | null, value: unknown): R } {
  if (isKey === null) throw new ConfigException(`${className} needs $Key or $Value: ${PKG}${className}$Value`);
  return isKey
    ? { get: (r) => ({ schema: r.keySchema ?? null, value: r.key ?? null }), set: (r, schema, value) => ({ ...r, keySchema: schema, key: value }) }
    : { get: (r) => ({ schema: r.valueSchema ?? null, value: r.value ?? null }), set: (r, schema, value) => ({ ...r, valueSchema: schema, value }) };
}

/** A schemaless value as an ordered map (a Map, or a plain object from a plugin). */
function asMap(value: unknown, purpose: string): Map<string, unknown> {
  if (value instanceof Map) return new Map(value);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value)) return new Map(Object.entries(value));
  throw new DataException(`Only Map objects supported in absence of schema for [${purpose}], found: ${javaClassOf(value)}`);
}

function asStruct(schema: Schema, value: unknown, purpose: string): Record<string, unknown> {
  if (schema.type !== 'struct' || value === null || typeof value !== 'object') throw new DataException(`Only Struct objects supported for [${purpose}], found: ${javaClassOf(value)}`);
  return value as Record<string, unknown>;
}

function javaClassOf(v: unknown): string {
  if (typeof v === 'string') return 'java.lang.String';
  if (typeof v === 'number') return Number.isInteger(v) ? 'java.lang.Long' : 'java.lang.Double';
  if (typeof v === 'boolean') return 'java.lang.Boolean';
  if (Buffer.isBuffer(v)) return '[B';
  if (Array.isArray(v)) return 'java.util.ArrayList';
  return v === null ? 'null' : 'java.util.HashMap';
}

// ---- InsertField ----

const insertField: TransformFactory = (props, isKey) => {
  const s = side(isKey, 'InsertField');
  const spec = (key: string): { name: string; optional: boolean } | null => {
    const v = props[key];
    if (!v) return null;
    if (v.endsWith('!')) return { name: v.slice(0, -1), optional: false };
    if (v.endsWith('?')) return { name: v.slice(0, -1), optional: true };
    return { name: v, optional: true };
  };
  const topicF = spec('topic.field');
  const partitionF = spec('partition.field');
  const offsetF = spec('offset.field');
  const timestampF = spec('timestamp.field');
  const staticF = spec('static.field');
  const staticValue = props['static.value'];
  if (!topicF && !partitionF && !offsetF && !timestampF && !staticF) throw new ConfigException('No field insertion configured');
  if (staticF && staticValue === undefined) throw new ConfigException('No value specified for static field: static.field');
  const extra = (r: ConnectRecord): { name: string; schema: Schema; value: unknown; schemaless: unknown }[] => {
    const out: { name: string; schema: Schema; value: unknown; schemaless: unknown }[] = [];
    if (topicF) out.push({ name: topicF.name, schema: { type: 'string', optional: topicF.optional }, value: r.topic, schemaless: r.topic });
    if (partitionF) out.push({ name: partitionF.name, schema: { type: 'int32', optional: partitionF.optional }, value: r.kafkaPartition ?? null, schemaless: r.kafkaPartition ?? null });
    if (offsetF) {
      const off = (r as { kafkaOffset?: number }).kafkaOffset;
      if (off === undefined) throw new DataException('Offset insertion is only supported for sink connectors, record is of type: class org.apache.kafka.connect.source.SourceRecord');
      out.push({ name: offsetF.name, schema: { type: 'int64', optional: offsetF.optional }, value: off, schemaless: off });
    }
    if (timestampF) {
      const ts = r.timestamp ?? null;
      out.push({ name: timestampF.name, schema: { type: 'int64', optional: timestampF.optional, name: TIMESTAMP_LOGICAL, version: 1 }, value: ts, schemaless: ts });
    }
    if (staticF) out.push({ name: staticF.name, schema: { type: 'string', optional: staticF.optional }, value: staticValue, schemaless: staticValue });
    return out;
  };
  return {
    apply(r) {
      const { schema, value } = s.get(r);
      if (value === null) return r; // tombstones pass through
      const fields = extra(r);
      if (schema === null) {
        const m = asMap(value, 'field insertion');
        for (const f of fields) m.set(f.name, f.schemaless);
        return s.set(r, null, m);
      }
      const struct = asStruct(schema, value, 'field insertion');
      const newSchema = structSchema(schema, [...(schema.fields ?? []), ...fields.map((f) => ({ name: f.name, schema: f.schema }))]);
      const out: Record<string, unknown> = { ...struct };
      for (const f of fields) out[f.name] = f.value;
      return s.set(r, newSchema, out);
    },
  };
};

// ---- ReplaceField ----

const replaceField: TransformFactory = (props, isKey) => {
  const s = side(isKey, 'ReplaceField');
  const exclude = new Set(list(props.exclude ?? props.blacklist));
  const include = new Set(list(props.include ?? props.whitelist));
  const renames = new Map<string, string>();
  for (const pair of list(props.renames)) {
    const [from, to, more] = pair.split(':');
    if (!from || !to || more !== undefined) throw new ConfigException(`Invalid value [${props.renames}] for configuration renames: Invalid rename mapping: ${pair}`);
    renames.set(from, to);
  }
  const keep = (name: string): boolean => !exclude.has(name) && (include.size === 0 || include.has(name));
  return {
    apply(r) {
      const { schema, value } = s.get(r);
      if (value === null) return r;
      if (schema === null) {
        const m = asMap(value, 'field replacement');
        const out = new Map<string, unknown>();
        for (const [k, v] of m) if (keep(k)) out.set(renames.get(k) ?? k, v);
        return s.set(r, null, out);
      }
      const struct = asStruct(schema, value, 'field replacement');
      const fields = (schema.fields ?? []).filter((f) => keep(f.name));
      const newSchema = structSchema(schema, fields.map((f) => ({ name: renames.get(f.name) ?? f.name, schema: f.schema })));
      const out: Record<string, unknown> = {};
      for (const f of fields) out[renames.get(f.name) ?? f.name] = struct[f.name];
      return s.set(r, newSchema, out);
    },
  };
};

// ---- MaskField ----

const ZERO: Partial<Record<SchemaType, unknown>> = { boolean: false, int8: 0, int16: 0, int32: 0, int64: 0, float32: 0, float64: 0, string: '' };

const maskField: TransformFactory = (props, isKey) => {
  const s = side(isKey, 'MaskField');
  const fields = list(required(props, 'fields'));
  if (fields.length === 0) throw new ConfigException('Invalid value [] for configuration fields: Empty list');
  const replacement = props.replacement;
  const masked = (type: SchemaType | null, v: unknown): unknown => {
    if (v === null || v === undefined) return v ?? null;
    const t: SchemaType | null = type ?? (typeof v === 'string' ? 'string' : typeof v === 'number' ? (Number.isInteger(v) ? 'int64' : 'float64') : typeof v === 'boolean' ? 'boolean' : Array.isArray(v) ? 'array' : v instanceof Map || typeof v === 'object' ? 'map' : null);
    if (replacement === undefined || replacement === '') {
      if (t === 'array') return [];
      if (t === 'map') return new Map();
      if (t !== null && t in ZERO) return ZERO[t];
      throw new DataException(`Cannot mask value of type: ${javaClassOf(v)}`);
    }
    if (t === 'string') return replacement;
    if (t && ['int8', 'int16', 'int32', 'int64', 'float32', 'float64'].includes(t)) {
      const n = Number(replacement);
      if (Number.isNaN(n)) throw new DataException(`Unable to convert ${replacement} (String) to number`);
      return t.startsWith('int') ? Math.trunc(n) : n;
    }
    throw new DataException(`Cannot mask value of type ${javaClassOf(v)} with custom replacement.`);
  };
  return {
    apply(r) {
      const { schema, value } = s.get(r);
      if (value === null) return r;
      if (schema === null) {
        const m = asMap(value, 'masking fields');
        for (const f of fields) if (m.has(f)) m.set(f, masked(null, m.get(f)));
        return s.set(r, null, m);
      }
      const struct = { ...asStruct(schema, value, 'masking fields') };
      for (const f of fields) {
        const field = schema.fields?.find((x) => x.name === f);
        if (field) struct[f] = masked(field.schema.type, struct[f]);
      }
      return s.set(r, schema, struct);
    },
  };
};

// ---- TimestampRouter ----

/** Java's SimpleDateFormat for the usual letters (y M d H m s S, 'quoted text'), in UTC. */
export function simpleDateFormat(pattern: string, ms: number): string {
  const d = new Date(ms);
  const fields: Record<string, number> = {
    y: d.getUTCFullYear(), M: d.getUTCMonth() + 1, d: d.getUTCDate(), H: d.getUTCHours(), m: d.getUTCMinutes(), s: d.getUTCSeconds(), S: d.getUTCMilliseconds(),
  };
  let out = '';
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i];
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      const text = pattern.slice(i + 1, end < 0 ? pattern.length : end);
      out += text === '' ? "'" : text;
      i = end < 0 ? pattern.length : end + 1;
      continue;
    }
    let n = 1;
    while (pattern[i + n] === c) n++;
    if (c in fields) {
      const v = fields[c];
      out += c === 'y' && n === 2 ? String(v % 100).padStart(2, '0') : String(v).padStart(n, '0');
    } else if (/[a-zA-Z]/.test(c)) throw new ConfigException(`Invalid value ${pattern} for configuration timestamp.format: Illegal pattern character '${c}'`);
    else out += c.repeat(n);
    i += n;
  }
  return out;
}

const timestampRouter: TransformFactory = (props) => {
  const topicFormat = props['topic.format'] ?? '${topic}-${timestamp}';
  const tsFormat = props['timestamp.format'] ?? 'yyyyMMdd';
  simpleDateFormat(tsFormat, 0); // a bad pattern fails at configuration, as in Kafka
  return {
    apply(r) {
      if (r.timestamp === null || r.timestamp === undefined) throw new DataException(`Timestamp missing on record: ${r.topic}`);
      const topic = topicFormat.replaceAll('${topic}', r.topic).replaceAll('${timestamp}', simpleDateFormat(tsFormat, r.timestamp));
      return { ...r, topic };
    },
  };
};

// ---- RegexRouter ----

const regexRouter: TransformFactory = (props) => {
  const source = required(props, 'regex');
  const replacement = required(props, 'replacement');
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw new ConfigException(`Invalid value ${source} for configuration regex: ${(err as Error).message}`);
  }
  // Java's replacement syntax: $1 and ${name}; \$ is a literal dollar.
  const jsReplacement = replacement.replace(/\\\$/g, '$$$$').replace(/\$\{(\w+)\}/g, '$<$1>');
  return {
    apply(r) {
      if (!re.test(r.topic)) return r;
      return { ...r, topic: r.topic.replace(re, jsReplacement) };
    },
  };
};

const filter: TransformFactory = () => ({ apply: () => null }) as Transformation;

export const TRANSFORMS: Record<string, TransformFactory> = {
  [`${PKG}InsertField`]: insertField,
  [`${PKG}ReplaceField`]: replaceField,
  [`${PKG}MaskField`]: maskField,
  [`${PKG}TimestampRouter`]: timestampRouter,
  [`${PKG}RegexRouter`]: regexRouter,
  [`${PKG}Filter`]: filter,
};

// ---- Predicates ----

export const PREDICATES: Record<string, PredicateFactory> = {
  [`${PKG}predicates.TopicNameMatches`]: (props) => {
    const pattern = required(props, 'pattern');
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${pattern})$`);
    } catch (err) {
      throw new ConfigException(`Invalid value ${pattern} for configuration pattern: entry must be a Java-compatible regular expression: ${(err as Error).message}`);
    }
    return { test: (r) => re.test(r.topic) };
  },
  [`${PKG}predicates.HasHeaderKey`]: (props) => {
    const name = required(props, 'name');
    return { test: (r) => (r.headers ?? []).some((h) => h.key === name) };
  },
  [`${PKG}predicates.RecordIsTombstone`]: () => ({ test: (r) => r.value === null || r.value === undefined }),
};
