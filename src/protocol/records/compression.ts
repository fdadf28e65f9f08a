// Compression codec registry. gzip ships with node:zlib; snappy, lz4 and zstd plug in later through
// registerCodec (from npm packages) without touching the record code. Every decompression is
// bounded: a few KB of compressed input must not be able to inflate into gigabytes.
import { createRequire } from 'node:module';
import { ErrorCode, KafkaError } from '../errors.js';

// node:zlib is loaded at the first gzip batch, as the other codecs are (codecs.ts): a broker or tool
// that never sees one does not carry it (~0.2 MB of RSS).
const require = createRequire(import.meta.url);
let zlibModule: typeof import('node:zlib') | undefined;
const zlib = (): typeof import('node:zlib') => (zlibModule ??= require('node:zlib') as typeof import('node:zlib'));

export const CompressionName: Readonly<Record<number, string>> = {
  0: 'none',
  1: 'gzip',
  2: 'snappy',
  3: 'lz4',
  4: 'zstd',
};

/** Passed to codecs that must behave differently per message format (lz4 with magic 0, KAFKA-3160). */
export interface CodecContext {
  magic: number;
}

export interface CompressionCodec {
  compress(data: Buffer, ctx: CodecContext): Buffer;
  /** Same, but gives the event loop back while it works (off-thread). */
  compressAsync?(data: Buffer, ctx: CodecContext): Promise<Buffer>;
  /** Must not produce more than `maxBytes`; throw (anything) when it would. */
  decompress(data: Buffer, maxBytes: number, ctx: CodecContext): Buffer;
  /** Same contract, but gives the event loop back while it works (off-thread or in slices). */
  decompressAsync?(data: Buffer, maxBytes: number, ctx: CodecContext): Promise<Buffer>;
}

/** Default bound on one decompressed batch or wrapper message. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 128 * 1024 * 1024;

const GZIP_INLINE_BYTES = 4 << 20;
const GZIP_COMPRESS_INLINE_BYTES = 1 << 20;

const gzipCodec: CompressionCodec = {
  compress: (data) => zlib().gzipSync(data),
  // gzip deflates at ~20 MB/s on records that differ a little (offset deltas): up to 1 MB is done
  // inline, more on zlib's thread pool.
  compressAsync(data) {
    if (data.length <= GZIP_COMPRESS_INLINE_BYTES) return Promise.resolve(zlib().gzipSync(data));
    return new Promise((resolve, reject) => zlib().gzip(data, (err, out) => (err ? reject(err) : resolve(out))));
  },
  decompress: (data, maxBytes) => zlib().gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) }),
  // Most batches inflate to a few MB at most: inline is cheapest. Anything larger is inflated again
  // on zlib's thread pool (the first GZIP_INLINE_BYTES are done twice), so the event loop never
  // works on more than that.
  decompressAsync(data, maxBytes) {
    try {
      return Promise.resolve(zlib().gunzipSync(data, { maxOutputLength: Math.max(1, Math.min(maxBytes, GZIP_INLINE_BYTES)) }));
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_BUFFER_TOO_LARGE' || maxBytes <= GZIP_INLINE_BYTES) return Promise.reject(err);
    }
    return new Promise((resolve, reject) => zlib().gunzip(data, { maxOutputLength: maxBytes }, (err, out) => (err ? reject(err) : resolve(out))));
  },
};

const codecs = new Map<number, CompressionCodec>([[1, gzipCodec]]);

/** Installs (or replaces) the codec for a Kafka compression id (1 gzip, 2 snappy, 3 lz4, 4 zstd). */
export function registerCodec(id: number, codec: CompressionCodec): void {
  if (!Number.isInteger(id) || id < 1 || id > 7) throw new RangeError(`invalid compression id ${id}`);
  codecs.set(id, codec);
}

export function hasCodec(id: number): boolean {
  return codecs.has(id);
}

function codecFor(id: number): CompressionCodec {
  const codec = codecs.get(id);
  if (codec) return codec;
  const name = CompressionName[id] ?? `id ${id}`;
  throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `compression codec ${name} is not available`);
}

/** Compresses `data` with codec `id`; `magic` matters only to lz4. */
export function compress(id: number, data: Buffer, magic = 2): Buffer {
  if (id === 0) return data;
  return codecFor(id).compress(data, { magic });
}

/** compress() for the broker's event loop: codecs that can work off-thread do. */
export async function compressAsync(id: number, data: Buffer, magic = 2): Promise<Buffer> {
  if (id === 0) return data;
  const codec = codecFor(id);
  return codec.compressAsync ? codec.compressAsync(data, { magic }) : codec.compress(data, { magic });
}

/**
 * Decompresses `data` with codec `id`, refusing to produce more than `maxBytes`:
 * over the bound -> INVALID_RECORD (not retriable, so a producer does not resend a bomb forever);
 * an undecodable stream -> CORRUPT_MESSAGE; no such codec -> UNSUPPORTED_COMPRESSION_TYPE.
 */
export function decompress(id: number, data: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES, magic = 2): Buffer {
  if (id === 0) return data;
  const codec = codecFor(id);
  let out: Buffer;
  try {
    out = codec.decompress(data, maxBytes, { magic });
  } catch (err) {
    throw decompressError(id, maxBytes, err);
  }
  if (out.length > maxBytes) throw bombError(id, maxBytes);
  return out;
}

/** decompress() for the broker's event loop: codecs that can work off-thread or in slices do. */
export async function decompressAsync(id: number, data: Buffer, maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES, magic = 2): Promise<Buffer> {
  if (id === 0) return data;
  const codec = codecFor(id);
  let out: Buffer;
  try {
    out = codec.decompressAsync ? await codec.decompressAsync(data, maxBytes, { magic }) : codec.decompress(data, maxBytes, { magic });
  } catch (err) {
    throw decompressError(id, maxBytes, err);
  }
  if (out.length > maxBytes) throw bombError(id, maxBytes);
  return out;
}

function decompressError(id: number, maxBytes: number, err: unknown): KafkaError {
  if (err instanceof KafkaError) return err;
  const code = (err as { code?: string }).code;
  if (err instanceof RangeError || code === 'ERR_BUFFER_TOO_LARGE') return bombError(id, maxBytes);
  return new KafkaError(ErrorCode.CORRUPT_MESSAGE, `cannot decompress ${CompressionName[id]} data: ${(err as Error).message}`);
}

function bombError(id: number, maxBytes: number): KafkaError {
  return new KafkaError(ErrorCode.INVALID_RECORD, `${CompressionName[id]} data decompresses to more than ${maxBytes} bytes`);
}
