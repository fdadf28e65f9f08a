// Small file-system helpers shared by the transaction log and the snapshots.
import { open } from 'node:fs/promises';
import { crc32c, crc32cJs } from '../protocol/records/crc.js';

/** Makes a directory entry change (a created, renamed or deleted file) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Ranges below this take the table-driven CRC-32C. Loading the native one (@node-rs/crc32) costs a
 * coordinator ~3 MB of RSS and ~5 ms of start-up, which only pays off on large snapshots: txn
 * records and a small tree's snapshot are a few hundred bytes to a few KB.
 */
const NATIVE_CRC_MIN_BYTES = 1 << 20;

/** CRC-32C over buf[start, end) for log records and snapshots (same value either way). */
export function checksum(buf: Uint8Array, start = 0, end = buf.length): number {
  return end - start >= NATIVE_CRC_MIN_BYTES ? crc32c(buf, start, end) : crc32cJs(buf, start, end);
}
