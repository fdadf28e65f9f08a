// Reusable buffers for the big log reads that fetch answers are made of.
//
// Why (issue 13, memory): a consumer at full speed is answered ~1 MiB at a time (kcat's and Java's
// max.partition.fetch.bytes), and each answer's records were a fresh Buffer read by pread, dead as
// soon as the answer was written but freed only when a scavenge collected its JS object. By then
// glibc's dynamic mmap threshold has risen past 1 MB (the first large block freed raises it), so
// those reads came from its brk heap, which returns memory only from its top: a consumer left a
// few MB of holes there. A read of LEASED_MIN_BYTES..READ_BUFFER_BYTES is leased from here instead,
// and the connection that wrote the answer gives it back once the write is done, so a few
// buffers serve a consumer however much it reads (bench/RESULTS.md, "fetch reads").
//
// Only a buffer written to a client comes back (releaseReadBuffers after the socket's write
// callback); one read for anything else (the group coordinator loading its log, scrubbing, a
// long-poll round whose answer was not sent) is never given back and is collected like any Buffer,
// so whoever keeps a read's bytes may keep them.
//
// Produce frames of this size range are read into the same buffers (frame-reader.ts): the
// connection gives a Produce frame back once its request has been answered (its log write is done
// by then). Whoever keeps a view of a frame past its request calls keepLeasedBuffer first (the
// recent-batches cache, the test kit's request recording): such a buffer is never given back.

/** A 1 MiB fetch plus the batch header read past it (log-segment.ts readBatches), rounded up. */
export const READ_BUFFER_BYTES = 1024 * 1024 + 4096;
/** Smaller reads come from malloc's bins, which reuse them well. */
export const LEASED_MIN_BYTES = 128 * 1024;
/**
 * Free buffers kept; more in flight at once are allocated and then dropped. A producer at full speed
 * holds up to 3-4 frames (HIGH_WATER_BYTES of queued and in-flight requests, and the one arriving),
 * and a consumer one or two reads: with 2 kept, a buffer was dropped and another allocated every few
 * frames (15 allocated in a round of kcat against 6), and the peak was no lower than without the pool
 * (memory.mjs 2, alternating, load 20-28: 90.5-98.1 MB, against 79.3-82.2 MB with 4; bench/RESULTS.md).
 */
const MAX_FREE = 4;
/** Free buffers are dropped after idleDropMs without a lease (an idle broker keeps none); tests shorten it. */
export const readBufferSettings = { idleDropMs: 10_000 };

const free: Buffer[] = [];
/** Leased buffers by their memory; a WeakMap, so that a buffer never given back is collected. */
const leased = new WeakMap<ArrayBufferLike, Buffer>();
let lastLeaseAt = 0;
let dropTimer: NodeJS.Timeout | undefined;

/** A Buffer of `length` bytes to read into: leased when its size fits, else a new one. */
export function leaseReadBuffer(length: number): Buffer {
  if (length < LEASED_MIN_BYTES || length > READ_BUFFER_BYTES) return Buffer.allocUnsafe(length);
  const buf = free.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  leased.set(buf.buffer, buf);
  lastLeaseAt = Date.now();
  return buf.subarray(0, length);
}

/** Whether any of these chunks is (part of) a leased buffer. */
export function holdsLeasedBuffer(chunks: readonly Buffer[]): boolean {
  for (const chunk of chunks) if (chunk.buffer.byteLength === READ_BUFFER_BYTES && leased.has(chunk.buffer)) return true;
  return false;
}

/**
 * The caller keeps (a view of) `buf` for as long as it likes: a leased buffer is then never given
 * back to the pool, and is collected like any Buffer once nothing refers to it. No-op otherwise.
 */
export function keepLeasedBuffer(buf: Buffer): void {
  if (buf.buffer.byteLength === READ_BUFFER_BYTES) leased.delete(buf.buffer);
}

/**
 * Gives back the leased buffers among `chunks`: call only once nothing will read them again (their
 * socket write completed). A buffer is given back once, however many of the chunks are views of it.
 */
export function releaseReadBuffers(chunks: readonly Buffer[]): void {
  for (const chunk of chunks) {
    if (chunk.buffer.byteLength !== READ_BUFFER_BYTES) continue;
    const buf = leased.get(chunk.buffer);
    if (!buf) continue;
    leased.delete(chunk.buffer);
    if (free.length >= MAX_FREE) continue;
    free.push(buf);
    dropTimer ??= setTimeout(dropIdle, readBufferSettings.idleDropMs).unref();
  }
}

function dropIdle(): void {
  dropTimer = undefined;
  const idleFor = Date.now() - lastLeaseAt;
  if (idleFor >= readBufferSettings.idleDropMs) free.length = 0;
  else if (free.length > 0) dropTimer = setTimeout(dropIdle, readBufferSettings.idleDropMs - idleFor).unref();
}

/** @internal Tests: how many free buffers are kept. */
export function freeReadBuffers(): number {
  return free.length;
}

/** @internal Tests: keeps no free buffer and no timer. */
export function resetReadBuffers(): void {
  free.length = 0;
  if (dropTimer) clearTimeout(dropTimer);
  dropTimer = undefined;
}
