#!/usr/bin/env node
// Generates src/protocol/generated/ from Apache Kafka's message schemas (JSON with // comments).
//
//   node scripts/generate-protocol.mjs [schemaDir] [--check]
//
// schemaDir defaults to ../shared/kafka-protocol/messages (relative to the repository root).
// --check writes nothing and exits 1 if the committed files differ from what would be generated.
// The output is plain typed data (see src/protocol/codec/schema.ts); the runtime codec compiles it.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const schemaDir = resolve(root, args.find((a) => !a.startsWith('--')) ?? '../shared/kafka-protocol/messages');
const outDir = join(root, 'src/protocol/generated');
// Schemas of a later Kafka release that replace the base directory's file of the same name (the
// APIs kts serves at that release's versions, e.g. KIP-848's ConsumerGroupHeartbeat v1). Kept in
// the repository so generating needs nothing outside it but the base directory.
const overlayDir = join(root, 'scripts/kafka-4.4-messages');
const OVERLAY_RELEASE = '4.4.0';
const MAX_VERSION = 0x7fff;
const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'int64', 'float64', 'string', 'bytes', 'uuid', 'records']);
const INT_RANGES = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Removes // comments (whole-line and trailing) outside string literals. */
function stripComments(text) {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      out += c;
    }
  }
  return out;
}

function parseVersions(spec, what) {
  if (spec === undefined) return undefined;
  const s = String(spec).trim();
  if (s === 'none') return null;
  let m = /^(\d+)\+$/.exec(s);
  if (m) return [Number(m[1]), MAX_VERSION];
  m = /^(\d+)-(\d+)$/.exec(s);
  if (m) return [Number(m[1]), Number(m[2])];
  m = /^(\d+)$/.exec(s);
  if (m) return [Number(m[1]), Number(m[1])];
  throw new Error(`${what}: bad version spec ${JSON.stringify(spec)}`);
}

const camel = (name) => name.charAt(0).toLowerCase() + name.slice(1);

function parseDefault(field, elemType, isArray, isStruct, where) {
  if (!('default' in field)) return undefined;
  const raw = field.default;
  if (raw === 'null' || raw === null) return null;
  if (isArray || isStruct) throw new Error(`${where}: unsupported default ${JSON.stringify(raw)}`);
  switch (elemType) {
    case 'bool':
      if (raw === true || raw === 'true') return true;
      if (raw === false || raw === 'false') return false;
      break;
    case 'int8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'int64': {
      const s = String(raw).trim();
      const n = /^-?0x[0-9a-f]+$/i.test(s) ? (s.startsWith('-') ? -parseInt(s.slice(1), 16) : parseInt(s, 16)) : Number(s);
      // int64 values are JS numbers: a default such as Long.MAX_VALUE (Fetch v18's HighWatermark)
      // is kept as the nearest double, which the writer clamps back to the same int64.
      if (elemType === 'int64' && /^-?\d+$/.test(s) && BigInt(s) >= -(2n ** 63n) && BigInt(s) < 2n ** 63n) return n;
      const [lo, hi] = INT_RANGES[elemType];
      if (!Number.isInteger(n) || n < lo || n > hi) break;
      return n;
    }
    case 'float64': {
      const n = Number(raw);
      if (Number.isNaN(n)) break;
      return n;
    }
    case 'string':
      return String(raw);
  }
  throw new Error(`${where}: bad default ${JSON.stringify(raw)} for ${elemType}`);
}

/** Turns one schema file into the generated data model (see src/protocol/codec/schema.ts). */
function convertMessage(json, file) {
  const common = new Map((json.commonStructs ?? []).map((s) => [s.name, s]));
  const usedCommon = new Map(); // name -> converted struct (filled lazily, ordered by first completion)

  function convertStruct(structName, fields, where) {
    const seenNames = new Set();
    const seenTags = new Set();
    return {
      struct: structName,
      fields: fields.map((f) => {
        const fw = `${where}.${f.name}`;
        const name = camel(f.name);
        if (!/^[a-z][A-Za-z0-9]*$/.test(name)) throw new Error(`${fw}: unusable field name`);
        if (seenNames.has(name)) throw new Error(`${fw}: duplicate field`);
        seenNames.add(name);
        const isArray = f.type.startsWith('[]');
        const elem = isArray ? f.type.slice(2) : f.type;
        let type;
        let isStruct = false;
        if (PRIMITIVES.has(elem)) {
          type = elem;
        } else {
          isStruct = true;
          if (f.fields) {
            type = convertStruct(elem, f.fields, fw);
          } else if (common.has(elem)) {
            type = { ref: elem };
            resolveCommon(elem, fw);
          } else {
            throw new Error(`${fw}: unknown type ${f.type}`);
          }
        }
        const out = { name, type };
        if (isArray) out.array = true;
        out.versions = parseVersions(f.versions, fw);
        if (!out.versions) throw new Error(`${fw}: field without versions`);
        const nullable = parseVersions(f.nullableVersions, fw);
        if (nullable) out.nullable = nullable;
        if (f.tag !== undefined) {
          const tag = Number(f.tag);
          if (!Number.isInteger(tag) || tag < 0) throw new Error(`${fw}: bad tag`);
          if (seenTags.has(tag)) throw new Error(`${fw}: duplicate tag ${tag}`);
          seenTags.add(tag);
          out.tag = tag;
          out.tagged = parseVersions(f.taggedVersions, fw);
          if (!out.tagged) throw new Error(`${fw}: tag without taggedVersions`);
        } else if (f.taggedVersions !== undefined) {
          throw new Error(`${fw}: taggedVersions without tag`);
        }
        const def = parseDefault(f, elem, isArray, isStruct, fw);
        if (def !== undefined) out.default = def;
        if (f.ignorable) out.ignorable = true;
        if (f.flexibleVersions !== undefined) out.flexible = parseVersions(f.flexibleVersions, fw);
        if (f.zeroCopy) out.zeroCopy = true;
        if (f.mapKey) out.mapKey = true;
        if (f.entityType) out.entityType = f.entityType;
        return out;
      }),
    };
  }

  function resolveCommon(name, where) {
    if (usedCommon.has(name)) {
      if (usedCommon.get(name) === 'pending') throw new Error(`${where}: recursive common struct ${name}`);
      return;
    }
    usedCommon.set(name, 'pending');
    const converted = convertStruct(name, common.get(name).fields, `${file}#${name}`);
    usedCommon.delete(name); // re-insert so dependencies come first in insertion order
    usedCommon.set(name, converted);
  }

  const msg = {
    name: json.name,
    ...(json.apiKey !== undefined ? { apiKey: json.apiKey } : {}),
    type: json.type,
    validVersions: parseVersions(json.validVersions, file),
    flexibleVersions: parseVersions(json.flexibleVersions ?? 'none', file),
  };
  if (json.deprecatedVersions !== undefined) msg.deprecatedVersions = parseVersions(json.deprecatedVersions, file);
  if (json.latestVersionUnstable) msg.latestVersionUnstable = true;
  if (json.listeners) msg.listeners = json.listeners;
  msg.fields = convertStruct(json.name, json.fields, file).fields;
  return { msg, commons: usedCommon };
}

// ---------------------------------------------------------------------------------------------
// Overlays keep the old versions

/**
 * A later release's schema with the base release's older versions put back: Kafka 4 dropped
 * versions (KIP-896) that kts still serves by default (kafka-node speaks Produce v0, Fetch v0,
 * OffsetCommit v0...), so the overlay's valid range is widened down to the base's and the fields
 * only those versions had (OffsetCommit v1's CommitTimestamp, ListOffsets v0's MaxNumOffsets) are
 * put back where the base had them. Then every version is checked to encode exactly as the release
 * that defines it does: the base's at its versions, the overlay's at its own; a difference throws.
 */
function withOldVersions(later, base, file) {
  if (!base) return later;
  const laterRange = parseVersions(later.validVersions, file);
  const baseRange = parseVersions(base.validVersions, file);
  if (baseRange[0] >= laterRange[0]) return later;
  const merged = structuredClone(later);
  merged.validVersions = `${baseRange[0]}-${laterRange[1]}`;
  delete merged.deprecatedVersions;
  merged.fields = mergeFields(base.fields, merged.fields);
  const baseCommons = new Map((base.commonStructs ?? []).map((s) => [s.name, s]));
  for (const struct of merged.commonStructs ?? []) {
    if (baseCommons.has(struct.name)) struct.fields = mergeFields(baseCommons.get(struct.name).fields, struct.fields);
  }
  const views = { merged: convertMessage(merged, file), base: convertMessage(base, file), later: convertMessage(later, file) };
  for (let v = baseRange[0]; v <= laterRange[1]; v++) {
    const reference = v >= laterRange[0] ? views.later : views.base;
    const got = JSON.stringify(layoutAt(views.merged, v));
    const want = JSON.stringify(layoutAt(reference, v));
    if (got !== want) throw new Error(`${file}: merged schema differs from ${v >= laterRange[0] ? 'the overlay' : 'the base'} at v${v}:\n${got}\n${want}`);
  }
  return merged;
}

/** The later fields, plus the base's fields the later one dropped, each after its base predecessor. */
function mergeFields(baseFields, laterFields) {
  const out = laterFields.map((f) => ({ ...f }));
  let after = -1;
  for (const baseField of baseFields) {
    const at = out.findIndex((f) => f.name === baseField.name);
    if (at >= 0) {
      if (baseField.fields && out[at].fields) out[at].fields = mergeFields(baseField.fields, out[at].fields);
      after = at;
    } else {
      out.splice(after + 1, 0, structuredClone(baseField));
      after += 1;
    }
  }
  return out;
}

/** What goes on the wire at one version: the fields present, in order, with their encodings. */
function layoutAt({ msg, commons }, v) {
  const has = (range) => !!range && v >= range[0] && v <= range[1];
  const flexible = has(msg.flexibleVersions);
  const fields = (list) =>
    list
      .filter((f) => has(f.versions))
      .map((f) => {
        const struct = typeof f.type === 'string' ? null : f.type.ref ? commons.get(f.type.ref) : f.type;
        return {
          name: f.name,
          type: struct ? fields(struct.fields) : f.type,
          array: !!f.array,
          nullable: has(f.nullable),
          tag: has(f.tagged) ? f.tag : null,
          default: f.default ?? null,
          flexible: f.flexible === undefined ? flexible : has(f.flexible),
        };
      });
  return { flexible, fields: fields(msg.fields) };
}

// ---------------------------------------------------------------------------------------------
// TypeScript emission

const q = (s) => `'${String(s).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const vr = (v) => (v === null ? 'null' : `[${v[0]}, ${v[1] === MAX_VERSION ? 'MAX' : v[1]}]`);
const lit = (v) => (typeof v === 'string' ? q(v) : String(v));

function emitFields(fields, constPrefix, indent) {
  const pad = '  '.repeat(indent);
  const lines = ['['];
  for (const f of fields) {
    let type;
    let nested = null;
    if (typeof f.type === 'string') type = q(f.type);
    else if (f.type.ref) type = `${constPrefix}${f.type.ref}`;
    else nested = f.type;
    const parts = [`name: ${q(f.name)}`];
    if (!nested) parts.push(`type: ${type}`);
    if (f.array) parts.push('array: true');
    parts.push(`versions: ${vr(f.versions)}`);
    if (f.nullable) parts.push(`nullable: ${vr(f.nullable)}`);
    if (f.tag !== undefined) parts.push(`tag: ${f.tag}`, `tagged: ${vr(f.tagged)}`);
    if (f.default !== undefined) parts.push(`default: ${lit(f.default)}`);
    if (f.ignorable) parts.push('ignorable: true');
    if (f.flexible !== undefined) parts.push(`flexible: ${vr(f.flexible)}`);
    if (f.zeroCopy) parts.push('zeroCopy: true');
    if (f.mapKey) parts.push('mapKey: true');
    if (f.entityType) parts.push(`entityType: ${q(f.entityType)}`);
    if (nested) {
      lines.push(`${pad}  { ${parts.join(', ')}, type: { struct: ${q(nested.struct)}, fields: ${emitFields(nested.fields, constPrefix, indent + 2)} } },`);
    } else {
      lines.push(`${pad}  { ${parts.join(', ')} },`);
    }
  }
  lines.push(`${pad}]`);
  return lines.length === 2 ? '[]' : lines.join('\n');
}

function emitMessage({ msg, commons }) {
  const prefix = `${msg.name}_`;
  const out = [];
  for (const [name, struct] of commons) {
    out.push(`const ${prefix}${name}: StructSchema = { struct: ${q(name)}, fields: ${emitFields(struct.fields, prefix, 0)} };\n`);
  }
  const head = [`name: ${q(msg.name)}`];
  if (msg.apiKey !== undefined) head.push(`apiKey: ${msg.apiKey}`);
  head.push(`type: ${q(msg.type)}`, `validVersions: ${vr(msg.validVersions)}`, `flexibleVersions: ${vr(msg.flexibleVersions)}`);
  if (msg.deprecatedVersions !== undefined) head.push(`deprecatedVersions: ${vr(msg.deprecatedVersions)}`);
  if (msg.latestVersionUnstable) head.push('latestVersionUnstable: true');
  if (msg.listeners) head.push(`listeners: [${msg.listeners.map(q).join(', ')}]`);
  out.push(`export const ${msg.name}: MessageSchema = {\n  ${head.join(',\n  ')},\n  fields: ${emitFields(msg.fields, prefix, 1)},\n};\n`);
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// TypeScript types of the data (what codec/compile.ts's decoder produces)

const TS_PRIMITIVE = {
  bool: 'boolean',
  int8: 'number',
  int16: 'number',
  uint16: 'number',
  int32: 'number',
  int64: 'number',
  float64: 'number',
  string: 'string',
  bytes: 'Buffer',
  uuid: 'string',
  records: 'Buffer | null',
};

/**
 * Names every struct of a file's messages: `<Message>Data` for a message, Kafka's struct name for a
 * nested struct unless two different structs of the file share it (or it is taken by a message's
 * name), then `<Message><Struct>`. Returns (message, struct fields) -> name.
 */
function nameStructs(entries) {
  const reserved = new Set(entries.flatMap((e) => [e.msg.name, `${e.msg.name}Data`]));
  const found = []; // { entry, struct, fields }
  const resolve = (entry, t) => (typeof t === 'string' ? null : t.ref ? { struct: t.ref, fields: entry.commons.get(t.ref).fields } : t);
  const walk = (entry, fields, seen) => {
    for (const f of fields) {
      const s = resolve(entry, f.type);
      if (!s || seen.has(s.fields)) continue;
      seen.add(s.fields);
      found.push({ entry, struct: s.struct, fields: s.fields });
      walk(entry, s.fields, seen);
    }
  };
  for (const entry of entries) walk(entry, entry.msg.fields, new Set());
  const signature = (entry, fields) =>
    JSON.stringify(fields.map((f) => {
      const s = resolve(entry, f.type);
      return [f.name, s ? signature(entry, s.fields) : f.type, !!f.array, !!f.nullable || f.default === null];
    }));
  const sigsByName = new Map();
  for (const x of found) {
    x.sig = signature(x.entry, x.fields);
    const sigs = sigsByName.get(x.struct) ?? new Set();
    sigs.add(x.sig);
    sigsByName.set(x.struct, sigs);
  }
  const names = new Map(); // entry -> Map(fields -> name)
  for (const entry of entries) names.set(entry, new Map([[entry.msg.fields, `${entry.msg.name}Data`]]));
  const taken = new Map(); // name -> sig
  for (const x of found) {
    const shared = sigsByName.get(x.struct).size === 1 && !reserved.has(x.struct);
    const name = shared ? x.struct : `${x.entry.msg.name}${x.struct}`;
    if (taken.has(name) && taken.get(name) !== x.sig) throw new Error(`${x.entry.msg.name}: two structs named ${name}`);
    taken.set(name, x.sig);
    names.get(x.entry).set(x.fields, name);
  }
  return { names, resolve };
}

function fieldTsType(f, struct, name) {
  let t = struct ? name : TS_PRIMITIVE[f.type];
  const nullable = !!f.nullable || f.default === null;
  if (f.array) t = t.includes(' ') ? `(${t})[]` : `${t}[]`;
  if (nullable && !t.endsWith('| null')) t += ' | null';
  return t;
}

function emitTypes(entries) {
  const { names, resolve } = nameStructs(entries);
  const out = [];
  const done = new Set();
  for (const entry of entries) {
    const structNames = names.get(entry);
    const emit = (fields, doc) => {
      const name = structNames.get(fields);
      if (done.has(name)) return;
      done.add(name);
      const lines = fields.map((f) => {
        const s = resolve(entry, f.type);
        const v = f.versions[1] === MAX_VERSION ? `v${f.versions[0]}+` : `v${f.versions[0]}-${f.versions[1]}`;
        const notes = [v];
        if (f.nullable) notes.push(`null in ${f.nullable[1] === MAX_VERSION ? `v${f.nullable[0]}+` : `v${f.nullable[0]}-${f.nullable[1]}`}`);
        if (f.tag !== undefined) notes.push(`tag ${f.tag}`);
        if (f.default !== undefined) notes.push(`default ${f.default === null ? 'null' : JSON.stringify(f.default)}`);
        return `  /** ${notes.join(', ')} */\n  ${f.name}: ${fieldTsType(f, s, s && structNames.get(s.fields))};`;
      });
      out.push(`${doc}export interface ${name} {\n${lines.join('\n')}\n}\n`);
      for (const f of fields) {
        const s = resolve(entry, f.type);
        if (s) emit(s.fields, '');
      }
    };
    emit(entry.msg.fields, `/** ${entry.msg.name} as decoded (every field, at every version; see the header). */\n`);
  }
  return out.join('\n');
}

const TYPES_NOTE = `//
// The interfaces after the schemas type the data as codec/compile.ts's decoder produces it: every
// field of a struct is present at every version (a field the decoded version lacks, or a tagged
// field not sent, holds its schema default), so none is optional; \`| null\` where some version
// allows null or the default is null. int64 is a number, uuid a base64 string, bytes a Buffer,
// records a Buffer or null. The encoder takes a deep partial of them (codec/schema.ts, Encodable):
// an omitted field is written as its default.
`;

const headerFor = (release) => `// Generated by scripts/generate-protocol.mjs from Apache Kafka's message schemas
// (apache/kafka ${release}, clients/src/main/resources/common/message; Apache License 2.0).
// Do not edit: change the generator and run \`npm run generate\`.
`;
const HEADER = headerFor('3.9.0-rc3');

function emitFile(entries) {
  const overlaid = entries.length > 0 && entries.every((e) => e.overlay);
  const header = overlaid ? headerFor(OVERLAY_RELEASE) : HEADER;
  const needsStruct = entries.some((e) => e.commons.size > 0);
  const types = ['MessageSchema', ...(needsStruct ? ['StructSchema'] : [])].join(', ');
  const body = entries.map(emitMessage).join('\n');
  const usesMax = body.includes('MAX]');
  return (
    header +
    TYPES_NOTE +
    `import type { ${types} } from '../codec/schema.js';\n` +
    (usesMax ? `import { MAX_VERSION as MAX } from '../codec/schema.js';\n` : '') +
    '\n' +
    body +
    '\n' +
    emitTypes(entries)
  );
}

const kebab = (name) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();

// ---------------------------------------------------------------------------------------------

function main() {
  if (!existsSync(schemaDir)) throw new Error(`schema directory not found: ${schemaDir}`);
  const overlay = new Set(existsSync(overlayDir) ? readdirSync(overlayDir).filter((f) => f.endsWith('.json')) : []);
  const files = [...new Set([...readdirSync(schemaDir).filter((f) => f.endsWith('.json')), ...overlay])].sort();
  const apis = new Map(); // apiKey -> { name, request, response }
  const headers = [];
  const consumer = [];
  const data = [];
  for (const file of files) {
    const base = existsSync(join(schemaDir, file)) ? JSON.parse(stripComments(readFileSync(join(schemaDir, file), 'utf8'))) : null;
    const json = overlay.has(file) ? withOldVersions(JSON.parse(stripComments(readFileSync(join(overlayDir, file), 'utf8'))), base, file) : base;
    const converted = convertMessage(json, file);
    converted.overlay = overlay.has(file);
    if (json.type === 'request' || json.type === 'response') {
      const base = json.name.replace(/(Request|Response)$/, '');
      const entry = apis.get(json.apiKey) ?? { name: base };
      if (entry.name !== base) throw new Error(`${file}: api key ${json.apiKey} used by ${entry.name} and ${base}`);
      if (entry[json.type]) throw new Error(`${file}: duplicate ${json.type} for key ${json.apiKey}`);
      entry[json.type] = converted;
      apis.set(json.apiKey, entry);
    } else if (json.type === 'header') {
      headers.push(converted);
    } else if (json.type === 'data') {
      (json.name.startsWith('ConsumerProtocol') ? consumer : data).push(converted);
    } else {
      throw new Error(`${file}: unknown message type ${json.type}`);
    }
  }

  const outputs = new Map();
  const keys = [...apis.keys()].sort((a, b) => a - b);
  const imports = [];
  const table = [];
  const names = [];
  const loaders = [];
  const typeImports = [];
  const typeRows = [];
  for (const key of keys) {
    const api = apis.get(key);
    if (!api.request || !api.response) throw new Error(`api key ${key} (${api.name}) lacks a request or response`);
    const fileBase = `${String(key).padStart(2, '0')}-${kebab(api.name)}`;
    outputs.set(`${fileBase}.ts`, emitFile([api.request, api.response]));
    imports.push(`import { ${api.request.msg.name}, ${api.response.msg.name} } from './${fileBase}.js';`);
    table.push(`  { apiKey: ${key}, name: ${q(api.name)}, request: ${api.request.msg.name}, response: ${api.response.msg.name} },`);
    names.push(`  ${api.name}: ${key},`);
    typeImports.push(`import type { ${api.request.msg.name}Data, ${api.response.msg.name}Data } from './${fileBase}.js';`);
    typeRows.push(`  ${key}: { request: ${api.request.msg.name}Data; response: ${api.response.msg.name}Data };`);
    loaders.push(`  [${key}, () => import('./${fileBase}.js').then((m) => ({ apiKey: ${key}, name: ${q(api.name)}, request: m.${api.request.msg.name}, response: m.${api.response.msg.name} }))],`);
  }
  outputs.set('headers.ts', emitFile(headers));
  outputs.set('consumer-protocol.ts', emitFile(consumer));
  outputs.set('data.ts', emitFile(data));
  outputs.set(
    'index.ts',
    HEADER +
      `import type { ApiSchemas } from '../codec/schema.js';\n` +
      imports.join('\n') +
      '\n\n' +
      `export { RequestHeader, ResponseHeader } from './headers.js';\n` +
      `export { ${consumer.map((c) => c.msg.name).join(', ')} } from './consumer-protocol.js';\n` +
      `export { ${data.map((c) => c.msg.name).join(', ')} } from './data.js';\n\n` +
      `export { ApiKey, type ApiName } from './api-keys.js';\n\n` +
      `/** Request and response schemas of every API, ordered by key. */\n` +
      `export const API_SCHEMAS: readonly ApiSchemas[] = [\n${table.join('\n')}\n];\n`,
  );

  outputs.set(
    'api-keys.ts',
    HEADER +
      `/** Every API key in Kafka's schemas, by name (the schema name without Request/Response). */\n` +
      `export const ApiKey = {\n${names.join('\n')}\n} as const;\n\n` +
      `export type ApiName = keyof typeof ApiKey;\n`,
  );
  outputs.set(
    'api-types.ts',
    HEADER +
      `import type { Encodable } from '../codec/schema.js';\n` +
      typeImports.join('\n') +
      '\n\n' +
      `/** Each API's request and response data, by key, as the decoder produces them (see any API's file). */\n` +
      `export interface ApiTypes {\n${typeRows.join('\n')}\n}\n\n` +
      `export type ApiKeyNumber = keyof ApiTypes;\n` +
      `/** A request of \`K\` as decoded. */\n` +
      `export type RequestData<K extends ApiKeyNumber> = ApiTypes[K]['request'];\n` +
      `/** A response of \`K\` as decoded. */\n` +
      `export type ResponseData<K extends ApiKeyNumber> = ApiTypes[K]['response'];\n` +
      `/** What the encoder takes for a request of \`K\` (omitted fields are written as their defaults). */\n` +
      `export type RequestBody<K extends ApiKeyNumber> = Encodable<RequestData<K>>;\n` +
      `/** What the encoder takes for a response of \`K\`. */\n` +
      `export type ResponseBody<K extends ApiKeyNumber> = Encodable<ResponseData<K>>;\n`,
  );
  // A client that speaks a few APIs loads only their schemas (a CLI's start-up: bench/cli-startup.mjs).
  outputs.set(
    'lazy.ts',
    HEADER +
      `import type { ApiSchemas } from '../codec/schema.js';\n\n` +
      `/** Each API's schemas as a module of its own, by key, for registerApiSchemas (codec/frames.ts). */\n` +
      `export const API_LOADERS: ReadonlyMap<number, () => Promise<ApiSchemas>> = new Map<number, () => Promise<ApiSchemas>>([\n${loaders.join('\n')}\n]);\n`,
  );

  if (check) {
    const existing = existsSync(outDir) ? readdirSync(outDir).filter((f) => f.endsWith('.ts')) : [];
    const stale = [];
    for (const [name, text] of outputs) {
      const path = join(outDir, name);
      if (!existsSync(path) || readFileSync(path, 'utf8') !== text) stale.push(name);
    }
    for (const name of existing) if (!outputs.has(name)) stale.push(`${name} (not generated)`);
    if (stale.length) {
      console.error(`src/protocol/generated is out of date: ${stale.join(', ')}`);
      process.exit(1);
    }
    console.log(`src/protocol/generated is up to date (${outputs.size} files)`);
    return;
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of outputs) writeFileSync(join(outDir, name), text);
  console.log(`wrote ${outputs.size} files to ${outDir} from ${files.length} schemas`);
}

main();
