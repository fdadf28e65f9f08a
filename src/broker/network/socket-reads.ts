// A client's plain TCP socket that reads into buffers we choose (net's `onread`), so that a large
// request is read straight into the frame it belongs to.
//
// Why: read through 'data' events, every socket read is a fresh 64 KiB Buffer, and a 1 MB produce
// frame was then joined from sixteen of them: 2 MB allocated per MB received, half of it garbage
// that waited for the next scavenge in glibc's heap. Reading into the frame: 1 MB per MB, and the
// broker's peak RSS under kcat 84-87 MB against 89-96 MB, broker CPU 1.10-1.15 against 1.21-1.36 s
// (bench/memory.mjs 2, alternating, load 5-7; bench/RESULTS.md).
//
// net.Server offers `onread` only to sockets that connect out, so an accepted socket's handle is
// moved into a new net.Socket made with it (as net.Server builds its own from the same handle). Done
// right after 'connection', before anything was read. Where the handle is not the expected kind (a
// TLS socket, another Node) the socket is used as it is, with 'data' events.
import { Socket } from 'node:net';

export interface ReadInto {
  /** Where the next read goes (called once now and after every read). */
  buffer(): Uint8Array;
  /** `n` bytes were read into the last buffer(); return false to pause (socket.resume() resumes). */
  callback(n: number, buf: Uint8Array): boolean;
}

interface Accepted {
  _handle?: { useUserBuffer?: unknown; readStop?: () => number; reading?: boolean } | null;
  _server?: unknown;
  server?: unknown;
  encrypted?: boolean;
  destroyed?: boolean;
  bytesRead?: number;
}

/** The socket to use in place of `accepted`, reading through `reads`; null when it cannot. */
export function readIntoBuffers(accepted: Socket, reads: ReadInto): Socket | null {
  const s = accepted as unknown as Accepted;
  const handle = s._handle;
  if (s.encrypted || s.destroyed || !handle || typeof handle.useUserBuffer !== 'function' || (s.bytesRead ?? 0) > 0) return null;
  const socket = new Socket({ handle, onread: reads } as unknown as ConstructorParameters<typeof Socket>[0]);
  // The server counts its connections through the socket that closes (net.Server#close waits for them).
  const moved = socket as unknown as Accepted;
  moved.server = s.server;
  moved._server = s._server;
  s._server = null;
  s._handle = null;
  return socket;
}
