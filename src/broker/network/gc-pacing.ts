// Paces V8's young-generation GC by the bytes clients send, in a broker process (`kts server-start`).
//
// Why: a Buffer's memory is freed only when the GC collects its JS object, and V8 schedules GC by
// the JS heap, not by Buffer bytes. A producer pushing 100 MB/s makes almost no JS garbage but
// dead Buffers all the same: each frame once handled, and over TLS (and before socket-reads.ts for
// plain TCP) 2 MB per MB received, the socket's 64 KiB chunks and then the joined frame. They
// waited for V8's external-memory limit (64 MB above the last full GC) to force a mark-compact: the
// broker's peak RSS under kcat carried 15-30 MB of dead Buffers. A scavenge every 4 MiB received
// frees them young (bench/memory.mjs, load ~25: peak 114-118 MB before, 93-107 after, broker CPU
// not higher: the scavenges replace the forced mark-compacts).
//
// Fetch answers are the same in the other direction: each one's records are a fresh Buffer read
// from the log (1 MiB for kcat), dead once written, so a consumer reading at full speed had V8
// force a mark-compact about every 20 MB sent (31 of them, 0.48 s, in three rounds of kcat reading
// 1M x 100 B and 100k x 1 KiB: half the broker's CPU). A scavenge every 4 MiB sent frees them young
// instead (1 mark-compact; broker CPU per 1M x 100 B round 0.17 -> 0.08 s; bench/RESULTS.md).
//
// The young generation is also kept from growing (V8 doubles it when scavenges are frequent, to
// 16 MB per semi-space: 8 MB of committed, mostly empty heap in this process).
//
// Both need V8 flags set at run time (node:v8 setFlagsFromString; `kts server-start` is started by
// users and scripts without node flags): done only by the CLI's broker process, never on import,
// so a broker embedded in someone's process leaves their GC alone.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (opts: { type: 'minor' }) => void;

/** Bytes received between two young-generation collections. */
export const GC_EVERY_BYTES = 4 * 1024 * 1024;

let gc: Gc | undefined;
let received = 0;

/** Turns the pacing on for this process (once; later calls do nothing). */
export function paceGcByBytesReceived(collect?: Gc): void {
  if (gc) return;
  if (collect) {
    gc = collect;
    return;
  }
  setFlagsFromString('--semi-space-growth-factor=1');
  // --expose-gc set now reaches contexts created from now on: a new context's `gc` is the collector.
  setFlagsFromString('--expose-gc');
  gc = runInNewContext('gc') as Gc;
}

/** Counts bytes read from a client; collects the young generation every GC_EVERY_BYTES. */
export function noteBytesReceived(bytes: number): void {
  if (!gc) return;
  received += bytes;
  if (received < GC_EVERY_BYTES) return;
  received = 0;
  gc({ type: 'minor' });
}

/** @internal Tests: turns the pacing off again. */
export function stopGcPacing(): void {
  gc = undefined;
  received = 0;
  sent = 0;
}

let sent = 0;

/**
 * Counts bytes of an answer about to be written to a client; collects the young generation every
 * GC_EVERY_BYTES. Called before the write: the answers before it have left by then (a consumer
 * waits for one before it asks again), and this one's Buffers merely survive one scavenge.
 */
export function noteBytesSent(bytes: number): void {
  if (!gc) return;
  sent += bytes;
  if (sent < GC_EVERY_BYTES) return;
  sent = 0;
  gc({ type: 'minor' });
}
