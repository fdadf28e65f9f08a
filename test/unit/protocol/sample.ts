// Builds sample objects from a schema for round-trip tests: every field present in the version
// gets a non-default value (or null, in the "nulls" variant, where the version allows it); fields
// absent from the version get the value a decoder fills in (default or type zero).
import type { FieldSchema, MessageSchema, StructSchema } from '../../../src/protocol/codec/schema.js';
import { ZERO_UUID } from '../../../src/protocol/index.js';

const within = (r: readonly [number, number] | null | undefined, v: number) => r != null && v >= r[0] && v <= r[1];
const isStruct = (t: FieldSchema['type']): t is StructSchema => typeof t !== 'string';
export type Variant = 'values' | 'nulls';

export function defaultValue(f: FieldSchema): unknown {
  if (f.default === null) return null;
  if (f.array) return [];
  if (isStruct(f.type)) return defaults(f.type.fields);
  if (f.default !== undefined) return f.default;
  switch (f.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'uuid':
      return ZERO_UUID;
    case 'records':
      return null;
    default:
      return 0;
  }
}

export function defaults(fields: readonly FieldSchema[]): Record<string, unknown> {
  return Object.fromEntries(fields.map((f) => [f.name, defaultValue(f)]));
}

function differentFrom(def: unknown, ...candidates: number[]): number {
  return candidates.find((c) => c !== def)!;
}

function primitive(f: FieldSchema, seed: number): unknown {
  const def = f.default;
  switch (f.type) {
    case 'bool':
      return !(def ?? false);
    case 'int8':
      return differentFrom(def, -7 - (seed % 3), 9);
    case 'int16':
      return differentFrom(def, 1234 + seed, -2);
    case 'uint16':
      return differentFrom(def, 65000 - seed, 1);
    case 'int32':
      return differentFrom(def, 123456789 + seed, -5);
    case 'int64':
      return differentFrom(def, seed % 2 ? 1234567890123 + seed : -(2 ** 53) + 1 + seed, 7);
    case 'float64':
      return 1.25 + seed;
    case 'string':
      return seed % 3 === 0 ? `s-${f.name}-${seed}-ünï€` : `s-${f.name}-${seed}`;
    case 'bytes':
      return Buffer.from([1, 2, 3, seed & 0xff]);
    case 'records':
      return Buffer.from(`records-${seed}`);
    case 'uuid': {
      const b = Buffer.alloc(16);
      for (let i = 0; i < 16; i++) b[i] = (seed * 31 + i * 7 + 1) & 0xff;
      return b.toString('base64url');
    }
  }
  throw new Error(`type ${String(f.type)}`);
}

export function sample(fields: readonly FieldSchema[], version: number, variant: Variant, seed = 1): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let n = seed;
  for (const f of fields) {
    n++;
    if (!within(f.versions, version)) {
      out[f.name] = defaultValue(f);
    } else if (variant === 'nulls' && within(f.nullable, version)) {
      out[f.name] = null;
    } else if (f.array) {
      const elem = (i: number) => (isStruct(f.type) ? sample(f.type.fields, version, variant, n * 10 + i) : primitive(f, n * 10 + i));
      out[f.name] = [elem(1), elem(2)];
    } else if (isStruct(f.type)) {
      out[f.name] = sample(f.type.fields, version, variant, n * 10);
    } else {
      out[f.name] = primitive(f, n);
    }
  }
  return out;
}

export function versionsOf(schema: MessageSchema): number[] {
  const out: number[] = [];
  for (let v = schema.validVersions[0]; v <= schema.validVersions[1]; v++) out.push(v);
  return out;
}
