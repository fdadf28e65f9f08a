// One client socket: framing, the handshake, and the outbound queue.
//
// Output commit: the tree runs ahead of the transaction log, so every packet queued here is
// tagged with the zxid it depends on (the txn that caused it, or for a read the last zxid the
// read could have seen) and is written only once the log has fsync'd that far. The queue is
// FIFO and tags never decrease, so replies leave in request order, a notification leaves
// before any reply queued after it, and no client ever sees a change that a crash could undo.
import type { Socket } from 'node:net';
import {
  type ConnectRequest,
  DEFAULT_MAX_BUFFER,
  FrameDecoder,
  JuteError,
  JuteWriter,
  KeeperState,
  decodeConnectRequest,
  encodeConnectResponse,
  encodeNotification,
} from '../protocol/zookeeper/index.js';
import type { LiveSession } from './sessions.js';
import type { Watcher } from './watch-manager.js';

/** What a connection needs from the server. */
export interface ConnectionHost {
  readonly maxBuffer: number;
  durableZxid(): number;
  fourLetterWord(word: string, conn: ClientConnection): Promise<string> | null;
  connect(conn: ClientConnection, req: ConnectRequest): void;
  request(conn: ClientConnection, frame: Buffer): void;
  closed(conn: ClientConnection): void;
  /** The connection has packets waiting for the log to catch up. */
  waiting(conn: ClientConnection): void;
  packetSent(startedAt: number): void;
}

interface Outbound {
  buf: Buffer;
  zxid: number;
  /** When the request arrived, for latency stats (0 for notifications). */
  startedAt: number;
  closeAfter: boolean;
}

/** Bytes queued (held or in the socket buffer) above which we stop reading from the client. */
const HIGH_WATER = 4 << 20;

export class ClientConnection implements Watcher {
  readonly decoder: FrameDecoder;
  state: 'new' | 'open' | 'closing' | 'closed' = 'new';
  session: LiveSession | null = null;
  /** Ids added with `addauth` (auth packets). */
  readonly authIds: { scheme: string; id: string }[] = [];
  readonly remote: string;
  readonly remoteAddress: string;
  readonly established = Date.now();
  received = 0;
  sent = 0;
  private readonly queue: Outbound[] = [];
  private queuedBytes = 0;
  private paused = false;
  /** Set while a chunk of requests is processed: replies are written together afterwards. */
  private batching = false;
  private readonly writer = new JuteWriter(128);

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.decoder = new FrameDecoder(host.maxBuffer ?? DEFAULT_MAX_BUFFER);
    this.remoteAddress = socket.remoteAddress ?? '?';
    this.remote = `${this.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', () => {});
    socket.on('close', () => this.onClose());
  }

  get sessionId(): bigint {
    return this.session?.id ?? 0n;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  /** Queues a packet that may leave once the log is durable up to `zxid`. */
  send(buf: Buffer, zxid: number, startedAt = 0, closeAfter = false): void {
    if (this.state === 'closed') return;
    this.queue.push({ buf, zxid, startedAt, closeAfter });
    this.queuedBytes += buf.length;
    if (this.queuedBytes > HIGH_WATER) this.pause();
    if (!this.batching) this.flush(this.host.durableZxid());
  }

  /** Watcher: a WatcherEvent, ordered like any reply. */
  notify(type: number, path: string, zxid: number): void {
    this.send(Buffer.from(encodeNotification({ type, state: KeeperState.SyncConnected, path }, this.writer)), zxid);
  }

  /** Writes every queued packet the log has made durable. */
  flush(durable: number): void {
    if (this.queue.length === 0 || this.state === 'closed') return;
    if (this.queue[0].zxid > durable) {
      this.host.waiting(this);
      return;
    }
    this.socket.cork();
    let n = 0;
    let close = false;
    while (n < this.queue.length && this.queue[n].zxid <= durable) {
      const o = this.queue[n++];
      this.socket.write(o.buf);
      this.queuedBytes -= o.buf.length;
      this.sent++;
      this.host.packetSent(o.startedAt);
      if (o.closeAfter) {
        close = true;
        break;
      }
    }
    this.queue.splice(0, n);
    this.socket.uncork();
    if (close) this.close();
    else if (this.queue.length > 0) this.host.waiting(this);
    this.maybeResume();
  }

  /** The session ended (expired, or moved to another connection): drop the socket. */
  closeForSession(_reason: string): void {
    this.session = null;
    this.close();
  }

  /** Closes after what is already writable; packets still held for the log are dropped. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.queue.length = 0;
    this.socket.end();
  }

  /** Closes at once, with nothing more written. */
  destroy(): void {
    this.state = 'closed';
    this.queue.length = 0;
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.decoder.push(chunk);
    try {
      if (this.state === 'new') {
        // Four-letter words replace the first frame length (all decode to lengths over 1 MB).
        const head = this.decoder.peek(4);
        if (!head) return;
        const answer = this.host.fourLetterWord(head.toString('latin1'), this);
        if (answer) {
          this.state = 'closing';
          this.decoder.drain();
          void answer.then(
            (text) => this.socket.end(text),
            () => this.socket.destroy(),
          );
          return;
        }
      }
      this.batching = true;
      try {
        for (let frame = this.decoder.next(); frame; frame = this.decoder.next()) {
          this.received++;
          if (this.state === 'new') {
            this.state = 'open';
            this.host.connect(this, decodeConnectRequest(frame));
          } else if (this.state === 'open') {
            this.host.request(this, frame);
          }
          if (this.state !== 'open') break;
        }
      } finally {
        this.batching = false;
      }
      // One write (one writev under cork) for every reply the chunk produced.
      this.flush(this.host.durableZxid());
    } catch (e) {
      // Oversized or negative frame length, or undecodable bytes: ZooKeeper drops the connection.
      if (e instanceof JuteError) this.destroy();
      else throw e;
    }
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (this.paused && this.queuedBytes + this.socket.writableLength < HIGH_WATER / 2) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private onClose(): void {
    this.state = 'closed';
    this.queue.length = 0;
    this.host.closed(this);
  }

  /** A ConnectResponse; the readOnly byte only when the request had one. */
  static connectResponse(req: ConnectRequest, timeOut: number, sessionId: bigint, passwd: Buffer): Buffer {
    return Buffer.from(
      encodeConnectResponse({
        protocolVersion: 0,
        timeOut,
        sessionId,
        passwd,
        ...(req.readOnly !== undefined ? { readOnly: false } : {}),
      }),
    );
  }
}
