// Fuzz engine shared by the CI fuzz tests (test/fuzz/*.test.ts) and the long run on demand
// (`node scripts/fuzz.mjs --cases N`). Deterministic: a seeded PRNG, so a failing case is
// reproducible from (seed, case index).
//
// Seeds: the request frames captured from real clients (test/fixtures/protocol/captured/) plus
// encodeRequest() of sample bodies for every API and every request version in the generated schemas.
// Cases: byte-level mutations of seeds (bit flips, hostile integers and lengths, truncation,
// insertion, deletion, splicing, pure random bytes) and structure-aware bodies (every field of a
// schema filled with hostile values and encoded properly, so they get past the decoder into handlers).
import { API_SCHEMAS, ProtocolError, decodeRequestBody, decodeRequestHeader, encodeRequest } from '../../src/protocol/index.js';
import { buildRecordBatch } from '../../src/protocol/records/index.js';
import type { FieldSchema, StructSchema } from '../../src/protocol/codec/schema.js';
import { capturedFrames } from '../unit/protocol/fixtures.js';
import { sample } from '../unit/protocol/sample.js';
import { createHandlerRegistry } from '../../src/broker/handlers/index.js';

/** Seeds of the APIs and versions the broker serves (the others end at the dispatcher's version check). */
export function servedSeeds(): Seed[] {
  const registry = createHandlerRegistry();
  return seeds().filter((s) => {
    const h = registry.get(s.apiKey);
    return h !== undefined && s.version >= h.minVersion && s.version <= h.maxVersion;
  });
}

/** xorshift128+ reduced to 32-bit outputs; deterministic per seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = seed | 0 || 0x9e3779b9;
    this.b = 0x243f6a88 ^ seed;
    this.c = 0xb7e15162;
    this.d = 0x85a308d3 + seed;
    for (let i = 0; i < 20; i++) this.u32();
  }
  /** xoshiro128** */
  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r >>> 0;
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}
const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

export interface Seed {
  name: string;
  apiKey: number;
  version: number;
  /** The request frame without its 4-byte size prefix. */
  frame: Buffer;
}

let seedCache: Seed[] | undefined;
/** Captured client frames plus a sample request for every API and version the schemas define. */
export function seeds(): Seed[] {
  if (seedCache) return seedCache;
  const out: Seed[] = capturedFrames().map((f) => ({ name: f.file, apiKey: f.frame.readInt16BE(0), version: f.frame.readInt16BE(2), frame: f.frame }));
  for (const api of API_SCHEMAS) {
    const [min, max] = api.request.validVersions;
    for (let v = min; v <= max; v++) {
      for (const variant of ['values', 'nulls'] as const) {
        try {
          const frame = Buffer.concat(encodeRequest(api.apiKey, v, 7, 'fuzz', sample(api.request.fields, v, variant))).subarray(4);
          out.push({ name: `${api.name} v${v} ${variant}`, apiKey: api.apiKey, version: v, frame });
        } catch {
          // a variant the encoder refuses (e.g. null where the version does not allow it) is skipped
        }
      }
    }
  }
  seedCache = out;
  return out;
}

// ---- byte-level mutations ----

const INTERESTING32 = [0, 1, -1, 0x7fffffff, -0x80000000, 0x40000000, 0x3fffffff, 0xffff, 0x10000, 100, -2, 0x7ffffffe];
const INTERESTING16 = [0, 1, -1, 0x7fff, -0x8000, 0xff, 0x100, -2];
/** Unsigned varints that decode to hostile lengths (compact arrays/strings are length+1). */
const HOSTILE_VARINTS = [
  [0x00],
  [0x80, 0x80, 0x80, 0x80, 0x04], // 2^30: a 1 GiB compact length
  [0xff, 0xff, 0xff, 0xff, 0x0f], // 2^32 - 1
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], // too long a varint
  [0x80, 0x80, 0x80], // unterminated
  [0x81, 0x80, 0x80, 0x80, 0x08],
];

/** A mutated copy of `frame`. Mostly keeps the 4-byte api key/version so the body decoder is reached. */
export function mutate(frame: Buffer, rng: Rng, all: readonly Seed[]): Buffer {
  let buf = Buffer.from(frame);
  const rounds = 1 + rng.int(rng.chance(0.2) ? 8 : 3);
  for (let r = 0; r < rounds; r++) {
    const keepHeader = rng.chance(0.9) && buf.length > 8;
    const lo = keepHeader ? 4 : 0;
    const pos = lo + rng.int(Math.max(1, buf.length - lo));
    switch (rng.int(11)) {
      case 0: // bit flip
        if (pos < buf.length) buf[pos] ^= 1 << rng.int(8);
        break;
      case 1: // random byte
        if (pos < buf.length) buf[pos] = rng.int(256);
        break;
      case 2: // hostile int32 (array, string, bytes lengths; sizes; counts)
        if (pos + 4 <= buf.length) buf.writeInt32BE(rng.pick(INTERESTING32), pos);
        break;
      case 3: // hostile int16 (string lengths, versions)
        if (pos + 2 <= buf.length) buf.writeInt16BE(rng.pick(INTERESTING16), pos);
        break;
      case 4: {
        // hostile varint overwriting bytes in place
        const v = rng.pick(HOSTILE_VARINTS);
        for (let i = 0; i < v.length && pos + i < buf.length; i++) buf[pos + i] = v[i];
        break;
      }
      case 5: // truncate
        buf = buf.subarray(0, pos);
        break;
      case 6: // insert random bytes
        buf = Buffer.concat([buf.subarray(0, pos), rng.bytes(1 + rng.int(16)), buf.subarray(pos)]);
        break;
      case 7: {
        // delete a chunk
        const n = 1 + rng.int(16);
        buf = Buffer.concat([buf.subarray(0, pos), buf.subarray(Math.min(buf.length, pos + n))]);
        break;
      }
      case 8: {
        // duplicate a chunk
        const n = 1 + rng.int(32);
        buf = Buffer.concat([buf.subarray(0, pos + n), buf.subarray(pos)]);
        break;
      }
      case 9: {
        // splice: our prefix + another seed's suffix
        const other = rng.pick(all).frame;
        buf = Buffer.concat([buf.subarray(0, pos), other.subarray(rng.int(other.length))]);
        break;
      }
      case 10: // random api version (reaches other versions' decoders with this body)
        if (buf.length >= 4 && rng.chance(0.5)) buf.writeInt16BE(rng.int(20), 2);
        else if (buf.length >= 4) buf.writeInt16BE(rng.int(80), 0);
        break;
    }
  }
  return buf;
}

// ---- structure-aware hostile bodies ----

const HOSTILE_STRINGS = ['', 'a', '.', '..', 'x'.repeat(250), '__consumer_offsets', 'fuzz-topic', 'a/b', '\u0000', 'ünï€', 'g'];
const HOSTILE_INT32 = [0, 1, -1, 2, 3, 0x7fffffff, -0x80000000, 1000000, 100];
const HOSTILE_INT64 = [0, 1, -1, -2, 2 ** 53 - 1, -(2 ** 53) + 1, 1e15];

const isStruct = (t: FieldSchema['type']): t is StructSchema => typeof t !== 'string';
const within = (r: readonly [number, number] | null | undefined, v: number) => r != null && v >= r[0] && v <= r[1];

function hostilePrimitive(f: FieldSchema, rng: Rng): unknown {
  switch (f.type) {
    case 'bool':
      return rng.chance(0.5);
    case 'int8':
      return rng.pick([0, 1, -1, 127, -128, 2]);
    case 'int16':
      return rng.pick([0, 1, -1, 0x7fff, -0x8000, 3]);
    case 'uint16':
      return rng.pick([0, 1, 0xffff]);
    case 'int32':
      // Partition counts stay small: a CreateTopics/CreatePartitions asking for 1,000,000 partitions is
      // obeyed (as Kafka obeys it) and would spend the run creating directories (see the report).
      if (f.name === 'numPartitions' || f.name === 'count') return rng.pick([-1, 0, 1, 2, 3, -0x80000000]);
      return rng.pick(HOSTILE_INT32);
    case 'int64':
      return rng.pick(HOSTILE_INT64);
    case 'float64':
      return rng.pick([0, -1, NaN, Infinity, 1e300]);
    case 'string':
      return rng.pick(HOSTILE_STRINGS);
    case 'bytes':
      return rng.bytes(rng.int(40));
    case 'uuid':
      return rng.bytes(16).toString('base64url').slice(0, 22);
    case 'records':
      return hostileRecords(rng);
  }
  return null;
}

/** Records for Produce: a valid batch, a valid batch with damage, random bytes, or none. */
function hostileRecords(rng: Rng): Buffer | null {
  const n = rng.int(5);
  if (n === 0) return null;
  if (n === 1) return rng.bytes(rng.int(120));
  const batch = buildRecordBatch(Array.from({ length: 1 + rng.int(3) }, (_, i) => ({ key: Buffer.from(`k${i}`), value: rng.bytes(rng.int(30)) })));
  const buf = Buffer.from(batch);
  if (n === 3) buf[rng.int(buf.length)] ^= 0xff;
  if (n === 4 && buf.length > 20) return Buffer.concat([buf, buf.subarray(0, rng.int(buf.length))]);
  return buf;
}

export function hostileBody(fields: readonly FieldSchema[], version: number, rng: Rng, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!within(f.versions, version)) continue;
    if (within(f.nullable, version) && rng.chance(0.15)) {
      out[f.name] = null;
    } else if (f.array) {
      const n = depth > 3 ? 0 : rng.pick([0, 1, 1, 2, 3]);
      out[f.name] = Array.from({ length: n }, () => (isStruct(f.type) ? hostileBody(f.type.fields, version, rng, depth + 1) : hostilePrimitive(f, rng)));
    } else if (isStruct(f.type)) {
      out[f.name] = hostileBody(f.type.fields, version, rng, depth + 1);
    } else {
      out[f.name] = hostilePrimitive(f, rng);
    }
  }
  return out;
}

/** A well-formed request frame (without size prefix) with hostile field values, or null if it does not encode. */
export function hostileFrame(apiKey: number, version: number, rng: Rng, correlationId = 1): Buffer | null {
  const api = API_SCHEMAS.find((a) => a.apiKey === apiKey);
  if (!api) return null;
  try {
    return Buffer.concat(encodeRequest(apiKey, version, correlationId, rng.pick(['fuzz', '', 'c'.repeat(100)]), hostileBody(api.request.fields, version, rng))).subarray(4);
  } catch {
    return null;
  }
}

// ---- decoder-level run ----

export interface DecoderFuzzResult {
  cases: number;
  decodedOk: number;
  protocolErrors: number;
  /** Anything thrown that is not a ProtocolError: a decoder bug. */
  crashes: { caseIndex: number; api: string; error: string; frameHex: string }[];
  perApi: Map<string, number>;
  ms: number;
}

/**
 * Decodes `cases` mutated frames in-process: header, then body. Every failure must be a
 * ProtocolError; anything else (TypeError, RangeError, an allocation failure) is a crash.
 */
export function runDecoderFuzz(cases: number, seed: number): DecoderFuzzResult {
  const all = seeds();
  const rng = new Rng(seed);
  const res: DecoderFuzzResult = { cases: 0, decodedOk: 0, protocolErrors: 0, crashes: [], perApi: new Map(), ms: 0 };
  const apiNames = new Map(API_SCHEMAS.map((a) => [a.apiKey, a.name]));
  const started = Date.now();
  for (let i = 0; i < cases; i++) {
    const s = all[i % all.length];
    let frame: Buffer;
    const mode = rng.int(20);
    if (mode === 0) frame = rng.bytes(rng.int(64));
    else if (mode <= 3) frame = hostileFrame(s.apiKey, s.version, rng) ?? mutate(s.frame, rng, all);
    else frame = mutate(s.frame, rng, all);
    res.cases++;
    const api = apiNames.get(s.apiKey) ?? String(s.apiKey);
    res.perApi.set(api, (res.perApi.get(api) ?? 0) + 1);
    try {
      const { header, bodyOffset } = decodeRequestHeader(frame);
      decodeRequestBody(header.apiKey, header.apiVersion, frame, bodyOffset);
      res.decodedOk++;
    } catch (err) {
      if (err instanceof ProtocolError) res.protocolErrors++;
      else if (res.crashes.length < 20) res.crashes.push({ caseIndex: i, api: s.name, error: String((err as Error)?.stack ?? err).slice(0, 500), frameHex: frame.toString('hex').slice(0, 400) });
      else res.crashes.length++;
    }
  }
  res.ms = Date.now() - started;
  return res;
}
