// snappy, lz4 and zstd for the codec registry. Importing this file only registers small wrappers;
// the native snappy addon and the zstd WebAssembly module are loaded on first use, synchronously,
// so a CLI command that never touches compressed data never loads them.
//  - snappy: `snappy` 7 (napi-rs; prebuilt binaries come as npm optional packages), installed under
//    the alias `snappy-napi` so that the name `snappy` stays free for kafka-node's optional snappy 6
//    (a different, callback API that kafka-node finds by that name). Input may be the
//    xerial "snappy-java" stream (Kafka's Java clients) or raw snappy (librdkafka, kafkajs); we
//    write the xerial stream, as Kafka's Java producer and broker do. The decompressed size is read
//    from each raw block's preamble and checked against the bound before anything is inflated.
//  - lz4: our own LZ4 frame code (lz4.ts), for the KAFKA-3160 header checksum of magic 0.
//  - zstd: `@bokuweb/zstd-wasm` (zstd compiled to WebAssembly, shipped in the package), instantiated
//    synchronously. zstd frames are decompressed into a buffer no larger than the bound.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { registerCodec, type CompressionCodec } from './compression.js';
import { lz4CompressFrame, lz4DecompressFrame, lz4DecompressFrameAsync } from './lz4.js';

const require = createRequire(import.meta.url);

// ---- snappy ----

interface SnappyBinding {
  compressSync(input: Uint8Array): Buffer;
  uncompressSync(input: Uint8Array, opts: { asBuffer: true }): Buffer;
}
let snappyBinding: SnappyBinding | undefined;
const snappy = (): SnappyBinding => (snappyBinding ??= require('snappy-napi') as SnappyBinding);

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_SIZE = 16;
/** snappy-java's default block size, which Kafka's Java client keeps. */
const XERIAL_BLOCK_SIZE = 32 * 1024;

/** The uncompressed length a raw snappy block announces (its varint preamble). */
function snappyLength(data: Uint8Array, start: number, end: number): number {
  let result = 0;
  let mul = 1;
  for (let i = start; i < end && i < start + 5; i++) {
    const b = data[i];
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return result;
    mul *= 128;
  }
  throw new Error('snappy length preamble is invalid');
}

function isXerial(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.subarray(0, 8).equals(XERIAL_MAGIC);
}

/**
 * The raw blocks of a snappy input (xerial stream or one raw block) and the total they announce,
 * read from the blocks' preambles: the bound is checked before anything is inflated.
 */
function snappyBlocks(data: Buffer, maxBytes: number): { blocks: Buffer[]; total: number } {
  if (!isXerial(data)) {
    const total = snappyLength(data, 0, data.length);
    if (total > maxBytes) throw new RangeError('snappy output exceeds its bound');
    return { blocks: [data], total };
  }
  const blocks: Buffer[] = [];
  let total = 0;
  let p = XERIAL_HEADER_SIZE;
  while (p < data.length) {
    if (p + 4 > data.length) throw new Error('xerial snappy block length truncated');
    const len = data.readInt32BE(p);
    p += 4;
    if (len < 0 || p + len > data.length) throw new Error('xerial snappy block truncated');
    const block = data.subarray(p, p + len);
    total += snappyLength(block, 0, block.length);
    if (total > maxBytes) throw new RangeError('snappy output exceeds its bound');
    blocks.push(block);
    p += len;
  }
  return { blocks, total };
}

/** Inflates blocks[from..] into `out` at `at` until `sliceBytes` more are written; returns [next block, next position]. */
function inflateSnappy(blocks: Buffer[], from: number, out: Buffer, at: number, sliceBytes: number): [number, number] {
  const stop = at + sliceBytes;
  let i = from;
  for (; i < blocks.length && at < stop; i++) {
    const plain = snappy().uncompressSync(blocks[i], { asBuffer: true });
    if (at + plain.length > out.length) throw new Error('snappy block is longer than its preamble says');
    plain.copy(out, at);
    at += plain.length;
  }
  return [i, at];
}

const snappyCodec: CompressionCodec = {
  compress(data) {
    const parts: Buffer[] = [Buffer.alloc(XERIAL_HEADER_SIZE)];
    XERIAL_MAGIC.copy(parts[0], 0);
    parts[0].writeInt32BE(1, 8); // version
    parts[0].writeInt32BE(1, 12); // minimum compatible version
    for (let p = 0; p < data.length; p += XERIAL_BLOCK_SIZE) {
      const block = snappy().compressSync(data.subarray(p, Math.min(p + XERIAL_BLOCK_SIZE, data.length)));
      const len = Buffer.allocUnsafe(4);
      len.writeInt32BE(block.length, 0);
      parts.push(len, block);
    }
    return Buffer.concat(parts);
  },
  decompress(data, maxBytes) {
    const { blocks, total } = snappyBlocks(data, maxBytes);
    if (blocks.length === 1 && !isXerial(data)) return snappy().uncompressSync(data, { asBuffer: true });
    const out = Buffer.allocUnsafe(total);
    const [, written] = inflateSnappy(blocks, 0, out, 0, Number.POSITIVE_INFINITY);
    if (written !== total) throw new Error('snappy blocks are shorter than their preambles say');
    return out;
  },
  // Xerial streams come in blocks (32 KiB from Java): the event loop is handed back every ~2 MB.
  async decompressAsync(data, maxBytes) {
    const { blocks, total } = snappyBlocks(data, maxBytes);
    if (blocks.length === 1 && !isXerial(data)) return snappy().uncompressSync(data, { asBuffer: true });
    const out = Buffer.allocUnsafe(total);
    let next = 0;
    let written = 0;
    for (;;) {
      [next, written] = inflateSnappy(blocks, next, out, written, 2 << 20);
      if (next === blocks.length) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (written !== total) throw new Error('snappy blocks are shorter than their preambles say');
    return out;
  },
};

// ---- lz4 ----

const lz4Codec: CompressionCodec = {
  compress: (data, ctx) => lz4CompressFrame(data, ctx.magic === 0),
  decompress: (data, maxBytes, ctx) => lz4DecompressFrame(data, maxBytes, ctx.magic < 2),
  decompressAsync: (data, maxBytes, ctx) => lz4DecompressFrameAsync(data, maxBytes, ctx.magic < 2),
};

// ---- zstd ----

interface ZstdModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _ZSTD_compress(dst: number, dstCap: number, src: number, srcSize: number, level: number): number;
  _ZSTD_compressBound(size: number): number;
  _ZSTD_decompress(dst: number, dstCap: number, src: number, srcSize: number): number;
  _ZSTD_isError(code: number): number;
  instantiateWasm?: (imports: object, receive: (instance: WasmInstance) => unknown) => unknown;
  init(buf?: Uint8Array): unknown;
}
let zstdModule: ZstdModule | undefined;

// Node has WebAssembly; the project's TypeScript lib settings do not declare it.
interface WasmInstance {
  exports: object;
}
const Wasm = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => WasmInstance };
}).WebAssembly;

/** Loads zstd.wasm synchronously through the Emscripten glue's instantiateWasm hook. */
function zstd(): ZstdModule {
  if (zstdModule) return zstdModule;
  const dir = dirname(require.resolve('@bokuweb/zstd-wasm'));
  const mod = (require(join(dir, 'module.js')) as { Module: ZstdModule }).Module;
  const wasm = new Wasm.Module(readFileSync(join(dir, 'zstd.wasm')));
  mod.instantiateWasm = (imports, receive) => {
    const instance = new Wasm.Instance(wasm, imports);
    receive(instance);
    return instance.exports;
  };
  mod.init();
  if (typeof mod._ZSTD_compress !== 'function') throw new Error('zstd WebAssembly module did not initialise');
  return (zstdModule = mod);
}

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_LEVEL = 3; // Kafka's and librdkafka's default level

/** The first frame's declared content size, or -1 when it does not say. */
function zstdContentSize(data: Buffer): number {
  if (data.length < 6 || data.readUInt32LE(0) !== ZSTD_MAGIC) return -1;
  const fhd = data[4];
  const fcsFlag = fhd >>> 6;
  const singleSegment = (fhd >>> 5) & 1;
  const dictIdSize = [0, 1, 2, 4][fhd & 3];
  let p = 5 + (singleSegment ? 0 : 1) + dictIdSize;
  const size = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
  if (size === 0 || p + size > data.length) return -1;
  if (size === 1) return data[p];
  if (size === 2) return data.readUInt16LE(p) + 256;
  if (size === 4) return data.readUInt32LE(p);
  return data.readUInt32LE(p) + data.readUInt32LE(p + 4) * 4294967296;
}

/** ZSTD_error_dstSize_tooSmall, as ZSTD_decompress returns it (a negated size_t). */
const ZSTD_DST_TOO_SMALL = -70;

const zstdCodec: CompressionCodec = {
  compress(data) {
    const m = zstd();
    const bound = m._ZSTD_compressBound(data.length);
    const src = m._malloc(Math.max(1, data.length));
    const dst = m._malloc(bound);
    try {
      m.HEAPU8.set(data, src);
      const n = m._ZSTD_compress(dst, bound, src, data.length, ZSTD_LEVEL);
      if (m._ZSTD_isError(n)) throw new Error(`zstd compression failed (${n | 0})`);
      return Buffer.from(m.HEAPU8.subarray(dst, dst + n));
    } finally {
      m._free(src);
      m._free(dst);
    }
  },
  decompress(data, maxBytes) {
    const m = zstd();
    const declared = zstdContentSize(data);
    if (declared > maxBytes) throw new RangeError('zstd content size exceeds its bound');
    // Java's zstd streams do not declare a size: start small and grow up to the bound.
    let capacity = declared >= 0 ? Math.max(1, declared) : Math.min(maxBytes, Math.max(64 * 1024, data.length * 8));
    const src = m._malloc(Math.max(1, data.length));
    try {
      m.HEAPU8.set(data, src);
      for (;;) {
        const dst = m._malloc(capacity);
        try {
          const n = m._ZSTD_decompress(dst, capacity, src, data.length);
          if (!m._ZSTD_isError(n)) return Buffer.from(m.HEAPU8.subarray(dst, dst + n));
          if ((n | 0) !== ZSTD_DST_TOO_SMALL) throw new Error(`zstd data is corrupt (${n | 0})`);
          if (capacity >= maxBytes) throw new RangeError('zstd output exceeds its bound');
          capacity = Math.min(maxBytes, capacity * 4);
        } finally {
          m._free(dst);
        }
      }
    } finally {
      m._free(src);
    }
  },
};

registerCodec(2, snappyCodec);
registerCodec(3, lz4Codec);
registerCodec(4, zstdCodec);
