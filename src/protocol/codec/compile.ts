// Compiles a (message schema, version) pair into a specialised decoder and encoder, once, on first
// use. The schema is walked here, at compile time; the emitted JavaScript is straight-line code
// with fixed object shapes (an object literal per struct, in wire order), so decoding does no
// per-field lookups, and V8 sees monomorphic property access. The generated source only embeds
// identifiers checked against a strict pattern and literals from the committed schema data.
import { ProtocolError } from '../errors.js';
import { ZERO_UUID, type Reader } from './reader.js';
import { inVersions, type FieldSchema, type MessageSchema, type PrimitiveType, type StructSchema } from './schema.js';
import type { Writer } from './writer.js';

export interface Codec {
  /** The message as the generated `...Data` interface of its schema describes it. */
  decode(r: Reader): unknown;
  /** Takes an Encodable of that interface: a field left out is written as its default. */
  encode(w: Writer, value: object): void;
  /** The generated JavaScript (for debugging). */
  readonly source: string;
}

const EMPTY_BUF = Buffer.alloc(0);
const EMPTY_OBJ = Object.freeze({});
const IDENT = /^[a-z][A-Za-z0-9]*$/;

const caches = new WeakMap<MessageSchema, Codec[]>();

/** The codec of `schema` at `version` (compiled and cached on first use). Throws RangeError if the version is not valid. */
export function codecFor(schema: MessageSchema, version: number): Codec {
  let byVersion = caches.get(schema);
  if (!byVersion) caches.set(schema, (byVersion = []));
  let codec = byVersion[version];
  if (!codec) {
    if (!Number.isInteger(version) || !inVersions(schema.validVersions, version)) {
      throw new RangeError(`${schema.name} has no version ${version} (valid ${schema.validVersions[0]}-${schema.validVersions[1]})`);
    }
    codec = compile(schema, version);
    byVersion[version] = codec;
  }
  return codec;
}

function lit(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' && !Number.isFinite(v)) return v > 0 ? 'Infinity' : v < 0 ? '-Infinity' : 'NaN';
  return JSON.stringify(v);
}

function typeZero(type: PrimitiveType): string {
  switch (type) {
    case 'bool':
      return 'false';
    case 'string':
      return '""';
    case 'bytes':
      return 'EMPTY_BUF';
    case 'uuid':
      return lit(ZERO_UUID);
    case 'records':
      return 'null';
    default:
      return '0';
  }
}

function isStruct(t: FieldSchema['type']): t is StructSchema {
  return typeof t !== 'string';
}

function compile(schema: MessageSchema, version: number): Codec {
  const messageFlexible = inVersions(schema.flexibleVersions, version);
  const out: string[] = [];
  const structIds = new Map<readonly FieldSchema[], number>();
  let nextFn = 0;

  const flexibleField = (f: FieldSchema): boolean =>
    messageFlexible && (f.flexible === undefined || inVersions(f.flexible, version));
  const nullableIn = (f: FieldSchema): boolean => inVersions(f.nullable, version);
  const isTaggedIn = (f: FieldSchema): boolean => f.tag !== undefined && inVersions(f.tagged, version);

  /** Ids of the d/e/z/isz functions for a struct (generated on first request). */
  function struct(s: StructSchema): number {
    let id = structIds.get(s.fields);
    if (id !== undefined) return id;
    id = nextFn++;
    structIds.set(s.fields, id);
    emitStruct(id, s);
    return id;
  }

  /** Expression for a field's default value when decoding (a fresh value each time). */
  function defaultExpr(f: FieldSchema): string {
    if (f.default === null) return 'null';
    if (f.array) return '[]';
    if (isStruct(f.type)) return `z${struct(f.type)}()`;
    if (f.default !== undefined) return lit(f.default);
    return typeZero(f.type);
  }

  /** Value written when the object lacks the field (or holds null where null is not allowed). */
  function encodeDefault(f: FieldSchema, nullable: boolean): string {
    if (f.default === null && nullable) return 'null';
    if (f.array) return '[]';
    if (isStruct(f.type)) return 'EMPTY_OBJ';
    if (f.default !== undefined && f.default !== null) return lit(f.default);
    if (f.type === 'records') return nullable ? 'null' : 'EMPTY_BUF';
    return typeZero(f.type);
  }

  function primitiveRead(type: PrimitiveType, flex: boolean, nullable: boolean, zeroCopy: boolean): string {
    switch (type) {
      case 'string':
        return flex ? `r.compactString(${nullable})` : `r.string(${nullable})`;
      case 'bytes':
        return flex ? `r.compactBytes(${nullable}, ${!zeroCopy})` : `r.bytes(${nullable}, ${!zeroCopy})`;
      case 'records':
        return flex ? `r.compactBytes(${nullable}, false)` : `r.bytes(${nullable}, false)`;
      default:
        return `r.${type}()`;
    }
  }

  function primitiveWrite(type: PrimitiveType, flex: boolean, x: string): string {
    switch (type) {
      case 'string':
        return flex ? `w.compactString(${x})` : `w.string(${x})`;
      case 'bytes':
        return flex ? `w.compactBytes(${x})` : `w.bytes(${x})`;
      case 'records':
        return `w.records(${x}, ${flex})`;
      default:
        return `w.${type}(${x})`;
    }
  }

  /** Expression reading a present field's value (`flex` = compact encodings). */
  function readExpr(f: FieldSchema, flex: boolean, nullable: boolean, tagged: boolean): string {
    if (f.array) {
      const id = nextFn++;
      const elem = isStruct(f.type) ? `d${struct(f.type)}(r)` : primitiveRead(f.type, flex, false, !!f.zeroCopy);
      const len = flex ? `r.compactArrayLength(${nullable})` : `r.arrayLength(${nullable})`;
      out.push(
        `function a${id}(r) {\n  const n = ${len};\n  if (n < 0) return null;\n  const a = [];\n` +
          `  for (let i = 0; i < n; i++) a.push(${elem});\n  return a;\n}`,
      );
      return `a${id}(r)`;
    }
    if (isStruct(f.type)) {
      const d = `d${struct(f.type)}(r)`;
      if (!nullable) return d;
      return tagged ? `(r.uvarint() === 0 ? null : ${d})` : `(r.int8() < 0 ? null : ${d})`;
    }
    return primitiveRead(f.type, flex, nullable, !!f.zeroCopy);
  }

  /** Statements writing value `x` (already defaulted: null only where nullable). */
  function writeStmts(f: FieldSchema, flex: boolean, nullable: boolean, tagged: boolean, x: string): string {
    if (f.array) {
      const elem = isStruct(f.type) ? `e${struct(f.type)}(w, ${x}[i])` : primitiveWrite(f.type, flex, `${x}[i]`);
      const len = flex ? `w.uvarint(${x}.length + 1)` : `w.int32(${x}.length)`;
      const loop = `${len}; for (let i = 0; i < ${x}.length; i++) ${elem};`;
      if (!nullable) return loop;
      return `if (${x} === null) ${flex ? 'w.uvarint(0)' : 'w.int32(-1)'}; else { ${loop} }`;
    }
    if (isStruct(f.type)) {
      const e = `e${struct(f.type)}(w, ${x})`;
      if (!nullable) return `${e};`;
      return tagged
        ? `if (${x} === null) w.uvarint(0); else { w.uvarint(1); ${e}; }`
        : `if (${x} === null) w.int8(-1); else { w.int8(1); ${e}; }`;
    }
    return `${primitiveWrite(f.type, flex, x)};`;
  }

  /** Condition under which tagged value `x` (not undefined) differs from the default and is written. */
  function taggedPresent(f: FieldSchema, nullable: boolean, x: string): string {
    const nullCase = nullable && f.default !== null ? 'true' : 'false';
    let nonNull: string;
    if (f.default === null) nonNull = 'true';
    else if (f.array || f.type === 'bytes') nonNull = `${x}.length !== 0`;
    else if (isStruct(f.type)) nonNull = `!isz${struct(f.type)}(${x})`;
    else if (f.type === 'int64') nonNull = `${x} != ${lit(f.default ?? 0)}`;
    else nonNull = `${x} !== ${f.default !== undefined ? lit(f.default) : typeZero(f.type)}`;
    return `(${x} === undefined ? false : ${x} === null ? ${nullCase} : ${nonNull})`;
  }

  /** Condition: struct field value `x` equals its default (Kafka's equals() with a fresh struct). */
  function fieldIsDefault(f: FieldSchema, x: string): string {
    if (f.default === null || f.type === 'records') return `${x} === null`;
    if (f.array || f.type === 'bytes') return `(${x} !== null && ${x}.length === 0)`;
    if (isStruct(f.type)) return `(${x} !== null && isz${struct(f.type)}(${x}))`;
    const d = f.default !== undefined ? lit(f.default) : typeZero(f.type);
    return f.type === 'int64' ? `${x} == ${d}` : `${x} === ${d}`;
  }

  function emitStruct(id: number, s: StructSchema): void {
    const present = s.fields.filter((f) => inVersions(f.versions, version));
    for (const f of s.fields) if (!IDENT.test(f.name)) throw new Error(`bad field name ${f.name} in ${s.struct}`);
    const tagged = present.filter(isTaggedIn).sort((a, b) => a.tag! - b.tag!);

    // Decoder.
    const props = s.fields.map((f) => {
      const value = !present.includes(f) || isTaggedIn(f) ? defaultExpr(f) : readExpr(f, flexibleField(f), nullableIn(f), false);
      return `    ${f.name}: ${value},`;
    });
    let tags = '';
    if (messageFlexible) {
      if (tagged.length === 0) {
        tags = '  r.skipTaggedFields();\n';
      } else {
        const cases = tagged
          .map((f) => `      case ${f.tag}: o.${f.name} = ${readExpr(f, true, nullableIn(f), true)}; break;`)
          .join('\n');
        tags =
          `  const nt = r.uvarint();\n` +
          `  if (nt > r.end - r.pos) throw new ProtocolError("tagged field count " + nt + " exceeds the bytes left");\n` +
          `  for (let i = 0; i < nt; i++) {\n` +
          `    const tag = r.uvarint();\n    const size = r.uvarint();\n    const start = r.pos;\n    const end = r.end;\n` +
          `    if (size > end - start) r.underflow(size);\n    r.end = start + size;\n` +
          `    switch (tag) {\n${cases}\n    }\n` +
          `    r.end = end;\n    r.pos = start + size;\n  }\n`;
      }
    }
    out.push(`function d${id}(r) {\n  const o = {\n${props.join('\n')}\n  };\n${tags}  return o;\n}`);

    // Encoder.
    const body: string[] = ['  if (o == null) o = EMPTY_OBJ;'];
    for (const f of present) {
      if (isTaggedIn(f)) continue;
      const nullable = nullableIn(f);
      const flex = flexibleField(f);
      const def = encodeDefault(f, nullable);
      const get = nullable ? `o.${f.name} === undefined ? ${def} : o.${f.name}` : `o.${f.name} ?? ${def}`;
      // Plain numeric fields skip the temporary.
      if (!f.array && !isStruct(f.type) && f.type !== 'string' && f.type !== 'bytes' && f.type !== 'records' && !nullable) {
        body.push(`  ${primitiveWrite(f.type, flex, `(${get})`)};`);
      } else {
        body.push(`  { const x = ${get}; ${writeStmts(f, flex, nullable, false, 'x')} }`);
      }
    }
    if (messageFlexible) {
      if (tagged.length === 0) {
        body.push('  w.uvarint(0);');
      } else {
        const checks = tagged.map((f, i) => `  const t${i} = o.${f.name};\n  const h${i} = ${taggedPresent(f, nullableIn(f), `t${i}`)};`);
        body.push(...checks);
        body.push(`  w.uvarint(${tagged.map((_, i) => `(h${i} ? 1 : 0)`).join(' + ')});`);
        tagged.forEach((f, i) => {
          const nullable = nullableIn(f);
          const nullWrite = nullable ? `if (t${i} === null) w.uvarint(0); else ` : '';
          const stmts = writeStmts(f, true, false, true, `t${i}`);
          const inner = isStruct(f.type) && !f.array && nullable ? `w.uvarint(1); ${stmts}` : stmts;
          body.push(`  if (h${i}) { w.uvarint(${f.tag}); const m = w.beginSized(); ${nullWrite}{ ${inner} } w.endSized(m); }`);
        });
      }
    }
    out.push(`function e${id}(w, o) {\n${body.join('\n')}\n}`);

    // Default builder and default check (version independent: all fields, as Kafka's equals()).
    out.push(`function z${id}() {\n  return {\n${s.fields.map((f) => `    ${f.name}: ${defaultExpr(f)},`).join('\n')}\n  };\n}`);
    const eq = s.fields.map((f) => `(o.${f.name} === undefined || ${fieldIsDefault(f, `o.${f.name}`)})`);
    out.push(`function isz${id}(o) {\n  return ${eq.length ? eq.join(' &&\n    ') : 'true'};\n}`);
  }

  const root = struct({ struct: schema.name, fields: schema.fields });
  const source =
    `"use strict";\nconst { ProtocolError, EMPTY_BUF, EMPTY_OBJ } = H;\n` +
    out.join('\n') +
    `\nreturn { decode: d${root}, encode: e${root} };\n//# sourceURL=kafka-codec/${schema.name}-v${version}.js`;
  const factory = new Function('H', source) as (h: unknown) => Omit<Codec, 'source'>;
  const { decode, encode } = factory({ ProtocolError, EMPTY_BUF, EMPTY_OBJ });
  return { decode, encode, source };
}
