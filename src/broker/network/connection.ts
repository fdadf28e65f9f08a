// One client connection. Requests may be pipelined; they are processed one at a time, in order, as
// Kafka does (it mutes a channel while a request is in flight), so responses keep request order.
// Reading pauses while too much is queued or the socket's write buffer is full (backpressure).
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';
import { FrameReader, FrameTooLargeError } from './frame-reader.js';

export interface ConnectionOptions {
  id: number;
  maxFrameSize: number;
  idleTimeoutMs: number;
  log: Logger;
  /** Handles one frame; resolves with the response chunks or null (no response), or rejects to close. */
  handleFrame(frame: Buffer, connection: Connection): Promise<Buffer[] | null>;
}

/** Stop reading from a client once this much is queued unprocessed or unsent. */
const HIGH_WATER_BYTES = 16 * 1024 * 1024;

export class Connection {
  readonly id: number;
  readonly remoteAddress: string;
  private readonly reader: FrameReader;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private processing = false;
  private closed = false;

  constructor(
    readonly socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.id = opts.id;
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.reader = new FrameReader(opts.maxFrameSize);
    socket.setNoDelay(true);
    if (opts.idleTimeoutMs > 0 && opts.idleTimeoutMs < 2 ** 31) {
      socket.setTimeout(opts.idleTimeoutMs, () => this.close(`idle for more than ${opts.idleTimeoutMs} ms`, 'debug'));
    }
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => this.close());
    socket.on('close', () => (this.closed = true));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(reason?: string, level: 'warn' | 'debug' = 'warn'): void {
    if (this.closed) return;
    this.closed = true;
    if (reason) this.opts.log[level](`Closing connection ${this.remoteAddress} (id ${this.id}): ${reason}`);
    this.queue.length = 0;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      if (err instanceof FrameTooLargeError) {
        this.close(`${err.message} (socket.request.max.bytes); request refused`);
        return;
      }
      throw err;
    }
    for (const frame of frames) {
      this.queue.push(frame);
      this.queuedBytes += frame.length;
    }
    // Complete frames waiting count, not a large frame still arriving: that one must be read whole.
    if (this.queuedBytes > HIGH_WATER_BYTES) this.socket.pause();
    void this.processQueue();
  }

  private async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        if (this.socket.writableLength > HIGH_WATER_BYTES) await this.drained();
        if (this.closed) return;
        const frame = this.queue.shift()!;
        this.queuedBytes -= frame.length;
        let response: Buffer[] | null;
        try {
          response = await this.opts.handleFrame(frame, this);
        } catch (err) {
          this.close((err as Error).message);
          return;
        }
        if (response && !this.closed) this.send(response);
      }
    } finally {
      this.processing = false;
    }
    this.maybeResume();
  }

  private send(chunks: Buffer[]): void {
    if (chunks.length === 1) {
      this.socket.write(chunks[0]);
      return;
    }
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }

  /** A slow reader: wait until the socket has sent what it holds (or closes). */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private maybeResume(): void {
    if (this.closed || !this.socket.isPaused()) return;
    if (this.queuedBytes <= HIGH_WATER_BYTES && this.socket.writableLength <= HIGH_WATER_BYTES) {
      this.socket.resume();
    }
  }
}
