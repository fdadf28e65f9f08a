// One client connection. Requests may be pipelined and responses always keep request order. Kafka
// processes one request per connection at a time (it mutes the channel); kts does too, except that
// consecutive Produce requests overlap: the next one is decoded, checked and queued on its
// partitions' append chains while the previous one's write is still in flight, so the CPU work of
// one request hides the disk round trip of another. Appends to a partition still happen in request
// order (each request joins the partition's chain when it starts, and requests start in order).
// Any other request waits until everything before it has answered, and everything after it waits
// for its answer, exactly as before. Reading pauses while too much is queued or the socket's write
// buffer is full (backpressure).
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import { FrameReader, FrameTooLargeError } from './frame-reader.js';
import { noteBytesReceived, noteBytesSent } from './gc-pacing.js';
import { readIntoBuffers } from './socket-reads.js';
import { holdsLeasedBuffer, releaseReadBuffers } from '../../storage/read-buffers.js';
import { ANONYMOUS, type KafkaPrincipal, type SecurityProtocol } from '../security/principal.js';
import type { SaslSession } from '../security/sasl/session.js';

export interface ConnectionOptions {
  id: number;
  maxFrameSize: number;
  idleTimeoutMs: number;
  log: Logger;
  /** The listener that accepted it (default PLAINTEXT). */
  listenerName?: string;
  securityProtocol?: SecurityProtocol;
  /** Handles one frame; resolves with the response chunks or null (no response), or rejects to close. */
  handleFrame(frame: Buffer, connection: Connection): Promise<Buffer[] | null>;
}

/**
 * Stop reading from a client once this much is queued unprocessed, in flight, or unsent. 2 MiB
 * keeps a fast producer's pipeline full (two 1 MB produce requests: one being written while the
 * next is decoded) and bounds what sits in memory: every frame held here is a Buffer that
 * outlives a scavenge or two and is then freed only by a full GC, so the allowance shows up almost
 * whole in the broker's peak RSS under a producer that pipelines (kcat: 16 MiB cost ~30 MB; 4 MiB
 * against 2 MiB: peak 102-108 vs 96-101 MB, kcat produce no slower, bench/RESULTS.md).
 */
export const HIGH_WATER_BYTES = 2 * 1024 * 1024;
/** At most this many Produce requests of one connection are in flight together. */
export const MAX_OVERLAPPING_PRODUCES = 16;
const PRODUCE_API_KEY = 0;

/** A request being handled: its answer is sent once every earlier one has been. */
interface InFlight {
  bytes: number;
  /** The request's frame, until it has been handled (a Produce frame may be a leased buffer). */
  frame: Buffer | null;
  overlappable: boolean;
  settled: boolean;
  response: Buffer[] | null;
  failure: Error | undefined;
}

/** Produce requests may overlap each other (nothing else may). */
function isOverlappable(frame: Buffer): boolean {
  return frame.length >= 2 && frame.readInt16BE(0) === PRODUCE_API_KEY;
}

export class Connection {
  /** The client's socket (for plain TCP not the one accepted: socket-reads.ts). */
  readonly socket: Socket;
  readonly id: number;
  readonly remoteAddress: string;
  readonly listenerName: string;
  readonly securityProtocol: SecurityProtocol;
  /** Who is connected: set by TLS client authentication or a completed SASL exchange. */
  principal: KafkaPrincipal = ANONYMOUS;
  /** SASL listeners: the exchange; until it completes only ApiVersions and SASL requests are served. */
  sasl: SaslSession | undefined;
  /** Set by closeAfterResponse: the connection ends once the next answer is written. */
  private endReason: string | undefined;
  private readonly reader: FrameReader;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private readonly inFlight: InFlight[] = [];
  private inFlightBytes = 0;
  /** A pump is scheduled for the next microtask (see pump). */
  private pumpScheduled = false;
  private closed = false;

  constructor(
    accepted: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.reader = new FrameReader(opts.maxFrameSize);
    const reading = readIntoBuffers(accepted, { buffer: () => this.reader.readTarget(), callback: (n) => this.onRead(n) });
    const socket = reading ?? accepted;
    this.socket = socket;
    this.id = opts.id;
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.listenerName = opts.listenerName ?? 'PLAINTEXT';
    this.securityProtocol = opts.securityProtocol ?? 'PLAINTEXT';
    socket.setNoDelay(true);
    if (opts.idleTimeoutMs > 0 && opts.idleTimeoutMs < 2 ** 31) {
      socket.setTimeout(opts.idleTimeoutMs, () => this.close(`idle for more than ${opts.idleTimeoutMs} ms`, 'debug'));
    }
    if (!reading) socket.on('data', (chunk) => this.onData(chunk));
    socket.on('drain', () => {
      this.pump();
      this.maybeResume();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => (this.closed = true));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Requests started and not yet answered (for tests). */
  get inFlightCount(): number {
    return this.inFlight.length;
  }

  /** A new request size limit (the pre-authentication one is lifted once SASL completes). */
  setMaxFrameSize(limit: number): void {
    this.reader.setMaxFrameSize(limit);
  }

  /** Ends the connection once the answer being prepared is sent (a refused authentication). */
  closeAfterResponse(reason: string): void {
    this.endReason = reason;
  }

  close(reason?: string, level: 'warn' | 'debug' = 'warn'): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.opts.log[level](`Closing connection ${this.remoteAddress} (id ${this.id}): ${reason}`);
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.socket.destroy();
  }

  /** Bytes read in place (socket-reads.ts); false pauses the socket, as socket.pause() does for 'data'. */
  private onRead(n: number): boolean {
    this.onData(null, n);
    if (this.closed) return false;
    return !this.socket.isPaused();
  }

  private onData(chunk: Buffer | null, readBytes = 0): void {
    noteBytesReceived(chunk ? chunk.length : readBytes);
    let frames: Buffer[];
    try {
      frames = chunk ? this.reader.push(chunk) : this.reader.pushRead(readBytes);
    } catch (err) {
      if (err instanceof FrameTooLargeError) {
        const limit = this.sasl && !this.sasl.complete ? 'sasl.server.max.receive.size, before authentication' : 'socket.request.max.bytes';
        this.close(`${err.message} (${limit}); request refused`);
        return;
      }
      throw err;
    }
    for (const frame of frames) {
      this.queue.push(frame);
      this.queuedBytes += frame.length;
    }
    // Complete frames waiting count, not a large frame still arriving: that one must be read whole.
    if (this.queuedBytes + this.inFlightBytes > HIGH_WATER_BYTES) this.socket.pause();
    this.pump();
  }

  /**
   * Starts the queued requests that may start now. After starting an overlappable request the next
   * one waits a microtask: a request that fails at once (a malformed frame) is seen as failed before
   * anything after it starts, so nothing after a request that closes the connection is processed.
   */
  private pump(): void {
    while (!this.closed && this.queue.length > 0 && !this.pumpScheduled) {
      if (this.inFlight.some((f) => f.failure)) return;
      if (this.socket.writableLength > HIGH_WATER_BYTES) {
        return; // the 'drain' handler pumps again
      }
      const frame = this.queue[0];
      const overlappable = isOverlappable(frame);
      if (this.inFlight.length > 0) {
        if (!overlappable || this.inFlight.length >= MAX_OVERLAPPING_PRODUCES) return;
        if (!this.inFlight[this.inFlight.length - 1].overlappable) return;
        if (this.inFlightBytes + frame.length > HIGH_WATER_BYTES) return;
      }
      this.queue.shift();
      this.queuedBytes -= frame.length;
      this.start(frame, overlappable);
      if (!overlappable) return;
      this.pumpScheduled = true;
      queueMicrotask(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  private start(frame: Buffer, overlappable: boolean): void {
    const entry: InFlight = { bytes: frame.length, frame, overlappable, settled: false, response: null, failure: undefined };
    this.inFlight.push(entry);
    this.inFlightBytes += frame.length;
    let result: Promise<Buffer[] | null>;
    try {
      result = this.opts.handleFrame(frame, this);
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (response) => this.settle(entry, response, undefined),
      (err: unknown) => this.settle(entry, null, err instanceof Error ? err : new Error(String(err))),
    );
  }

  private settle(entry: InFlight, response: Buffer[] | null, failure: Error | undefined): void {
    // A Produce request answered is done with its frame: its batches are in the log by then, and
    // whoever keeps a view of them (the recent-batches cache) has taken the buffer out of the pool
    // (keepLeasedBuffer). A failed one closes the connection: its frame is left to the GC.
    if (entry.overlappable && !failure && entry.frame) releaseReadBuffers([entry.frame]);
    entry.frame = null;
    entry.settled = true;
    entry.response = response;
    entry.failure = failure;
    // Answers leave in request order: send every settled answer at the head of the line, several
    // of them in one write when they are ready together.
    let corked = this.inFlight.length > 1 && this.inFlight[0].settled && this.inFlight[1].settled;
    if (corked) this.socket.cork();
    while (this.inFlight.length > 0 && this.inFlight[0].settled) {
      const head = this.inFlight.shift()!;
      this.inFlightBytes -= head.bytes;
      if (head.failure) {
        if (corked) this.socket.uncork(); // the answers before it go out first
        corked = false;
        this.inFlight.length = 0;
        this.inFlightBytes = 0;
        this.close(head.failure.message);
        return;
      }
      if (head.response && !this.closed) this.send(head.response);
      if (this.endReason !== undefined) {
        // Nothing after it is served; end() lets the answer reach the client before the FIN.
        this.opts.log.debug(`Closing connection ${this.remoteAddress} (id ${this.id}): ${this.endReason}`);
        this.closed = true;
        this.queue.length = 0;
        this.queuedBytes = 0;
        this.inFlight.length = 0;
        this.inFlightBytes = 0;
        if (corked) this.socket.uncork();
        this.socket.end();
        return;
      }
    }
    if (corked) this.socket.uncork();
    this.pump();
    this.maybeResume();
  }

  private send(chunks: Buffer[]): void {
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.length;
    noteBytesSent(bytes);
    // A fetch answer's records read from the log go back to their pool once written (not after a
    // failed write: nothing says the socket is done with them then; they are collected instead).
    const written = holdsLeasedBuffer(chunks) ? (err?: Error | null) => err || releaseReadBuffers(chunks) : undefined;
    if (chunks.length === 1) {
      this.socket.write(chunks[0], written);
      return;
    }
    this.socket.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.socket.write(chunks[i]);
    this.socket.write(chunks[chunks.length - 1], written);
    this.socket.uncork();
  }

  private maybeResume(): void {
    if (this.closed || !this.socket.isPaused()) return;
    if (this.queuedBytes + this.inFlightBytes <= HIGH_WATER_BYTES && this.socket.writableLength <= HIGH_WATER_BYTES) {
      this.socket.resume();
    }
  }
}
