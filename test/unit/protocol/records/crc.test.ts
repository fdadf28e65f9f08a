import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc32, crc32c, crc32cIsNative, crc32cJs } from '../../../../src/protocol/records/crc.js';

describe('CRC-32C', () => {
  it('gives the standard check values', () => {
    const check = Buffer.from('123456789');
    expect(crc32c(check)).toBe(0xe3069283);
    expect(crc32cJs(check)).toBe(0xe3069283);
    expect(crc32(check)).toBe(0xcbf43926);
    // Long enough for the native path.
    const zeros = Buffer.alloc(4096);
    expect(crc32c(zeros)).toBe(crc32cJs(zeros));
  });

  it('uses the hardware implementation where the platform has a prebuilt one', () => {
    if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) expect(crc32cIsNative()).toBe(true);
  });

  it('native and table paths agree on any range, offset and backing store', () => {
    const big = randomBytes(70_000);
    for (const [start, end] of [[0, 0], [0, 255], [0, 256], [1, 257], [3, 1000], [17, 65_553], [0, big.length], [69_000, 70_000]]) {
      expect(crc32c(big, start, end)).toBe(crc32cJs(big, start, end));
    }
    // A plain Uint8Array view into the middle of a larger ArrayBuffer.
    const view = new Uint8Array(big.buffer, big.byteOffset + 5, 10_000);
    expect(crc32c(view, 7, 9_000)).toBe(crc32cJs(view, 7, 9_000));
    // Results are unsigned 32-bit on both paths.
    for (let i = 0; i < 50; i++) {
      const b = randomBytes(300 + i);
      const c = crc32c(b);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBe(crc32cJs(b));
    }
  });

  it('continues a CRC across pieces on both paths', () => {
    const data = randomBytes(10_000);
    const whole = crc32cJs(data);
    for (const cut of [0, 1, 100, 255, 256, 257, 4096, 9_999, 10_000]) {
      expect(crc32c(data, cut, data.length, crc32c(data, 0, cut))).toBe(whole);
      expect(crc32cJs(data, cut, data.length, crc32cJs(data, 0, cut))).toBe(whole);
    }
    let c = 0;
    for (let p = 0; p < data.length; p += 333) c = crc32c(data, p, Math.min(data.length, p + 333), c);
    expect(c).toBe(whole);
  });
});
