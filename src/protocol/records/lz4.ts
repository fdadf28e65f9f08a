// LZ4 frame format (what Kafka calls "lz4"), written here in TypeScript: the block codec is small,
// and owning the frame layer lets us handle Kafka's KAFKA-3160 quirk — magic 0 producers (and the
// old Java client) computed the frame header checksum over the 4 magic bytes as well as the frame
// descriptor. We accept both checksums on magic 0/1 input and write the old one for magic 0 output.
// Blocks may be independent or linked: we decode into one contiguous buffer, so a match may reach
// back into the previous block either way.

const MAGIC = 0x184d2204;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_SIZES: Record<number, number> = { 4: 65536, 5: 262144, 6: 1048576, 7: 4194304 };
/** What we write: Kafka's Java producer also uses 64 KiB independent blocks. */
const OUT_BLOCK_SIZE = 65536;

// ---- xxHash32 (the frame format's checksum) ----
const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const u32 = (b: Uint8Array, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;

export function xxhash32(buf: Uint8Array, start = 0, end = buf.length, seed = 0): number {
  let p = start;
  let h: number;
  if (end - start >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = end - 16;
    while (p <= limit) {
      v1 = Math.imul(rotl((v1 + Math.imul(u32(buf, p), P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(u32(buf, p + 4), P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(u32(buf, p + 8), P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(u32(buf, p + 12), P2)) | 0, 13), P1);
      p += 16;
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + (end - start)) | 0;
  while (p + 4 <= end) {
    h = Math.imul(rotl((h + Math.imul(u32(buf, p), P3)) | 0, 17), P4);
    p += 4;
  }
  while (p < end) {
    h = Math.imul(rotl((h + Math.imul(buf[p], P5)) | 0, 11), P1);
    p++;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}

// ---- block decoder ----

class Lz4Error extends Error {}

/**
 * Decodes one LZ4 block from src[start, end) into out at `op`; returns the new output position.
 * `limit` bounds the output (the caller grows `out` up to its maximum by retrying).
 */
function decodeBlock(src: Uint8Array, start: number, end: number, out: Uint8Array, op: number, limit: number): number {
  let ip = start;
  for (;;) {
    if (ip >= end) throw new Lz4Error('lz4 block ends inside a sequence');
    const token = src[ip++];
    let litLen = token >>> 4;
    if (litLen === 15) {
      let b: number;
      do {
        if (ip >= end) throw new Lz4Error('lz4 literal length runs past the block');
        b = src[ip++];
        litLen += b;
      } while (b === 255);
    }
    if (ip + litLen > end) throw new Lz4Error('lz4 literals run past the block');
    if (op + litLen > limit) throw new RangeError('lz4 output exceeds its bound');
    if (litLen < 32) {
      // Short copies are faster by hand than through subarray + set.
      for (let i = 0; i < litLen; i++) out[op + i] = src[ip + i];
    } else out.set(src.subarray(ip, ip + litLen), op);
    ip += litLen;
    op += litLen;
    if (ip === end) return op; // the last sequence has literals only
    if (ip + 2 > end) throw new Lz4Error('lz4 match offset truncated');
    const offset = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (offset === 0 || offset > op) throw new Lz4Error(`lz4 match offset ${offset} is invalid`);
    let matchLen = token & 15;
    if (matchLen === 15) {
      let b: number;
      do {
        if (ip >= end) throw new Lz4Error('lz4 match length runs past the block');
        b = src[ip++];
        matchLen += b;
      } while (b === 255);
    }
    matchLen += 4;
    if (op + matchLen > limit) throw new RangeError('lz4 output exceeds its bound');
    let from = op - offset;
    if (offset >= matchLen && matchLen >= 32) {
      out.copyWithin(op, from, from + matchLen);
      op += matchLen;
    } else {
      // Short or overlapping copy (an overlap repeats the last `offset` bytes), byte by byte.
      const stop = op + matchLen;
      while (op < stop) out[op++] = out[from++];
    }
  }
}

// ---- block encoder (greedy, one hash table; the format's end-of-block rules kept) ----

const HASH_LOG = 16;
const MIN_MATCH = 4;
const LAST_LITERALS = 5;
const MF_LIMIT = 12;
const MAX_OFFSET = 65535;
const hashTable = new Int32Array(1 << HASH_LOG);

const hash4 = (b: Uint8Array, i: number) => Math.imul(u32(b, i), 2654435761) >>> (32 - HASH_LOG);

function writeLength(dst: Uint8Array, op: number, len: number): number {
  while (len >= 255) {
    dst[op++] = 255;
    len -= 255;
  }
  dst[op++] = len;
  return op;
}

/** Compresses src[start, end) into dst at `op` (dst must have room for the worst case); returns the end. */
function encodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, op: number): number {
  const len = end - start;
  let anchor = start;
  if (len >= MF_LIMIT + 1) {
    hashTable.fill(-1);
    const matchLimit = end - LAST_LITERALS;
    const searchLimit = end - MF_LIMIT;
    let ip = start;
    while (ip < searchLimit) {
      const h = hash4(src, ip);
      const ref = hashTable[h];
      hashTable[h] = ip;
      if (ref < 0 || ip - ref > MAX_OFFSET || u32(src, ref) !== u32(src, ip)) {
        ip++;
        continue;
      }
      // Extend the match forwards (never into the last 5 bytes).
      let mEnd = ip + MIN_MATCH;
      let r = ref + MIN_MATCH;
      while (mEnd < matchLimit && src[mEnd] === src[r]) {
        mEnd++;
        r++;
      }
      const litLen = ip - anchor;
      const matchLen = mEnd - ip - MIN_MATCH;
      const tokenPos = op++;
      let token = 0;
      if (litLen >= 15) {
        token = 0xf0;
        op = writeLength(dst, op, litLen - 15);
      } else token = litLen << 4;
      dst.set(src.subarray(anchor, ip), op);
      op += litLen;
      const offset = ip - ref;
      dst[op++] = offset & 0xff;
      dst[op++] = offset >>> 8;
      if (matchLen >= 15) {
        token |= 15;
        op = writeLength(dst, op, matchLen - 15);
      } else token |= matchLen;
      dst[tokenPos] = token;
      ip = mEnd;
      anchor = ip;
      if (ip < searchLimit) hashTable[hash4(src, ip - 2)] = ip - 2;
    }
  }
  // The last literals.
  const litLen = end - anchor;
  if (litLen >= 15) {
    dst[op++] = 0xf0;
    op = writeLength(dst, op, litLen - 15);
  } else dst[op++] = litLen << 4;
  dst.set(src.subarray(anchor, end), op);
  return op + litLen;
}

// ---- frames ----

/** Compresses `data` into one LZ4 frame. `brokenHeaderChecksum` reproduces KAFKA-3160 (magic 0). */
export function lz4CompressFrame(data: Uint8Array, brokenHeaderChecksum = false): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / OUT_BLOCK_SIZE));
  const worst = 7 + blocks * (4 + OUT_BLOCK_SIZE + Math.ceil(OUT_BLOCK_SIZE / 255) + 16) + 4;
  const out = Buffer.allocUnsafe(Math.min(worst, 7 + data.length + Math.ceil(data.length / 255) + blocks * 24 + 4));
  out.writeUInt32LE(MAGIC, 0);
  out[4] = 0x60; // version 01, independent blocks, no checksums, no content size
  out[5] = 0x40; // 64 KiB blocks
  out[6] = (xxhash32(out, brokenHeaderChecksum ? 0 : 4, 6) >>> 8) & 0xff;
  let op = 7;
  for (let p = 0; p < data.length; p += OUT_BLOCK_SIZE) {
    const end = Math.min(p + OUT_BLOCK_SIZE, data.length);
    const sizeAt = op;
    const blockEnd = encodeBlock(data, p, end, out, op + 4);
    const size = blockEnd - op - 4;
    if (size >= end - p) {
      // Incompressible: store the bytes as they are (high bit = uncompressed).
      out.set(data.subarray(p, end), op + 4);
      out.writeUInt32LE((0x80000000 | (end - p)) >>> 0, sizeAt);
      op += 4 + (end - p);
    } else {
      out.writeUInt32LE(size, sizeAt);
      op = blockEnd;
    }
  }
  out.writeUInt32LE(0, op); // EndMark
  return out.subarray(0, op + 4);
}

/**
 * Decompresses LZ4 frames (concatenated frames and skippable frames allowed), producing at most
 * `maxBytes` (RangeError beyond). `allowBrokenHeaderChecksum`: accept KAFKA-3160 headers (magic 0/1).
 */
export function lz4DecompressFrame(src: Uint8Array, maxBytes: number, allowBrokenHeaderChecksum = false): Buffer {
  const frames = decodeFrames(src, maxBytes, allowBrokenHeaderChecksum, Number.POSITIVE_INFINITY);
  for (;;) {
    const step = frames.next();
    if (step.done) return step.value;
  }
}

/** lz4DecompressFrame that hands the event loop back after every `sliceBytes` of output. */
export async function lz4DecompressFrameAsync(
  src: Uint8Array,
  maxBytes: number,
  allowBrokenHeaderChecksum = false,
  sliceBytes = 2 << 20,
): Promise<Buffer> {
  const frames = decodeFrames(src, maxBytes, allowBrokenHeaderChecksum, sliceBytes);
  for (;;) {
    const step = frames.next();
    if (step.done) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** The frame decoder; it yields (pauses) between blocks once `sliceBytes` more output was written. */
function* decodeFrames(src: Uint8Array, maxBytes: number, allowBrokenHeaderChecksum: boolean, sliceBytes: number): Generator<void, Buffer, void> {
  let nextPause = sliceBytes;
  let out = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(1024, src.length * 4)));
  let op = 0;
  let ip = 0;
  const ensure = (needed: number) => {
    if (needed <= out.length) return;
    if (needed > maxBytes) throw new RangeError('lz4 output exceeds its bound');
    const grown = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(needed, out.length * 2)));
    out.copy(grown, 0, 0, op);
    out = grown;
  };
  if (src.length < 4) throw new Lz4Error('lz4 frame truncated');
  while (ip + 4 <= src.length) {
    const magic = u32(src, ip);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (ip + 8 > src.length) throw new Lz4Error('lz4 skippable frame truncated');
      ip += 8 + u32(src, ip + 4);
      continue;
    }
    if (magic !== MAGIC) {
      if (op > 0) break; // trailing bytes after a complete frame: ignored, as the reference decoder's callers do
      throw new Lz4Error('not an lz4 frame (bad magic)');
    }
    if (ip + 7 > src.length) throw new Lz4Error('lz4 frame header truncated');
    const flg = src[ip + 4];
    const bd = src[ip + 5];
    if (flg >>> 6 !== 1) throw new Lz4Error(`lz4 frame version ${flg >>> 6} is not supported`);
    if (flg & 0x01) throw new Lz4Error('lz4 frames with a dictionary id are not supported');
    const blockChecksums = (flg & 0x10) !== 0;
    const hasContentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const blockMax = BLOCK_SIZES[(bd >>> 4) & 7];
    if (!blockMax) throw new Lz4Error(`lz4 block size id ${(bd >>> 4) & 7} is invalid`);
    const descEnd = ip + 6 + (hasContentSize ? 8 : 0);
    if (descEnd + 1 > src.length) throw new Lz4Error('lz4 frame header truncated');
    const hc = src[descEnd];
    const good = (xxhash32(src, ip + 4, descEnd) >>> 8) & 0xff;
    if (hc !== good) {
      const old = (xxhash32(src, ip, descEnd) >>> 8) & 0xff;
      if (!(allowBrokenHeaderChecksum && hc === old)) throw new Lz4Error('lz4 frame header checksum mismatch');
    }
    if (hasContentSize) {
      const size = src[ip + 6] + src[ip + 7] * 256 + src[ip + 8] * 65536 + src[ip + 9] * 16777216 + u32(src, ip + 10) * 4294967296;
      if (op + size > maxBytes) throw new RangeError('lz4 content size exceeds its bound');
      ensure(op + size);
    }
    ip = descEnd + 1;
    const frameStart = op;
    for (;;) {
      if (ip + 4 > src.length) throw new Lz4Error('lz4 frame truncated (no end mark)');
      const word = u32(src, ip);
      ip += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMax) throw new Lz4Error(`lz4 block of ${size} bytes exceeds the frame's ${blockMax}`);
      if (ip + size + (blockChecksums ? 4 : 0) > src.length) throw new Lz4Error('lz4 block truncated');
      if (blockChecksums && xxhash32(src, ip, ip + size) !== u32(src, ip + size)) throw new Lz4Error('lz4 block checksum mismatch');
      if (word & 0x80000000) {
        ensure(op + size);
        out.set(src.subarray(ip, ip + size), op);
        op += size;
      } else {
        ensure(Math.min(op + blockMax, maxBytes));
        op = decodeBlock(src, ip, ip + size, out, op, Math.min(out.length, op + blockMax));
      }
      ip += size + (blockChecksums ? 4 : 0);
      if (op >= nextPause) {
        nextPause = op + sliceBytes;
        yield;
      }
    }
    if (contentChecksum) {
      if (ip + 4 > src.length) throw new Lz4Error('lz4 content checksum truncated');
      if (xxhash32(out, frameStart, op) !== u32(src, ip)) throw new Lz4Error('lz4 content checksum mismatch');
      ip += 4;
    }
  }
  return out.subarray(0, op);
}
