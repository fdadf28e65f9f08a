// CRC-32C (Castagnoli) guards magic-2 record batches; CRC-32 (IEEE) guards legacy messages.
// Slicing-by-8 tables: one table lookup per byte would be 4-8x slower on the produce path.
// CRC-32C also has a hardware path: @node-rs/crc32 (prebuilt, SSE4.2 / ARMv8 CRC instructions) runs
// at several GB/s where the tables manage ~0.7 GB/s, which is what recovering a 1 GB log after a
// crash spends its time on. It is loaded on the first range long enough to be worth a native call
// (short ones stay in JS: the call costs about what 150 bytes of table lookups do); without it (a
// platform with no prebuilt binary) the tables do all the work.
import { createRequire } from 'node:module';

function makeTables(poly: number): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    tables[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[0][n];
    for (let t = 1; t < 8; t++) {
      c = tables[0][c & 0xff] ^ (c >>> 8);
      tables[t][n] = c >>> 0;
    }
  }
  return tables;
}

function makeCrc(poly: number) {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = makeTables(poly);
  /** `prev`: the CRC of the bytes before buf[start] (0 for none), so a range can be done in pieces. */
  return function crc(buf: Uint8Array, start = 0, end = buf.length, prev = 0): number {
    let c = (prev ^ 0xffffffff) >>> 0;
    let i = start;
    const fastEnd = end - ((end - start) & 7);
    while (i < fastEnd) {
      const a = (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)) ^ c;
      c =
        t7[a & 0xff] ^
        t6[(a >>> 8) & 0xff] ^
        t5[(a >>> 16) & 0xff] ^
        t4[a >>> 24] ^
        t3[buf[i + 4]] ^
        t2[buf[i + 5]] ^
        t1[buf[i + 6]] ^
        t0[buf[i + 7]];
      i += 8;
    }
    while (i < end) c = t0[(c ^ buf[i++]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
}

const crc32cTables = makeCrc(0x82f63b78);

/** Below this many bytes the JS tables beat the native call. */
const NATIVE_MIN_BYTES = 256;
type NativeCrc = (input: Buffer, initialState?: number) => number;
let native: NativeCrc | null | undefined;

function loadNative(): NativeCrc | null {
  if (process.env.KTS_CRC32C_JS === '1') return null;
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc };
    const fn = mod.crc32c;
    // Trust it only if it gives the standard check value of "123456789".
    return typeof fn === 'function' && fn(Buffer.from('123456789')) >>> 0 === 0xe3069283 ? fn : null;
  } catch {
    return null;
  }
}

/**
 * CRC-32C over buf[start, end). `prev` continues an earlier result: crc32c(b, 0, b.length, crc32c(a))
 * equals the CRC of a followed by b.
 */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, prev = 0): number {
  if (end - start >= NATIVE_MIN_BYTES) {
    native ??= loadNative();
    if (native) return native(Buffer.from(buf.buffer, buf.byteOffset + start, end - start), prev) >>> 0;
  }
  return crc32cTables(buf, start, end, prev);
}

/** @internal The table-driven CRC-32C alone (tests compare the two paths). */
export const crc32cJs = crc32cTables;
/** @internal Whether the hardware CRC-32C is in use (false before the first long range). */
export const crc32cIsNative = (): boolean => (native ??= loadNative()) !== null;
/** CRC-32 (IEEE, as zlib) over buf[start, end). */
export const crc32 = makeCrc(0xedb88320);
