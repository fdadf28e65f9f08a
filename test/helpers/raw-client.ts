// A bare Kafka connection for tests that need exact requests (bad input, error codes): frames
// encoded by src/protocol, responses matched by correlation id.
import { connect, type Socket } from 'node:net';
import { decodeResponse, encodeRequest } from '../../src/protocol/index.js';

export class RawClient {
  private buffer = Buffer.alloc(0);
  private nextCorrelationId = 1;
  private readonly waiting = new Map<number, { apiKey: number; version: number; resolve: (body: any) => void; reject: (e: Error) => void }>();
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.values()) w.reject(new Error('connection closed'));
      this.waiting.clear();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  request(apiKey: number, version: number, body: object, clientId = 'raw-test'): Promise<any> {
    const correlationId = this.nextCorrelationId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(correlationId, { apiKey, version, resolve, reject });
      for (const chunk of encodeRequest(apiKey, version, correlationId, clientId, body)) this.socket.write(chunk);
    });
  }

  /** Resolves when the broker closes this connection (or rejects after timeoutMs). */
  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const size = this.buffer.readInt32BE(0);
      if (this.buffer.length < 4 + size) break;
      const frame = this.buffer.subarray(4, 4 + size);
      this.buffer = this.buffer.subarray(4 + size);
      const correlationId = frame.readInt32BE(0);
      const w = this.waiting.get(correlationId);
      if (!w) continue;
      this.waiting.delete(correlationId);
      w.resolve(decodeResponse(w.apiKey, w.version, frame).body);
    }
  }
}

export interface FetchBodyOptions {
  /** The answer's byte limit; each partition's too unless partitionMaxBytes says otherwise (default 1 MiB). */
  maxBytes?: number;
  partitionMaxBytes?: number;
  /** 0 read_uncommitted (default), 1 read_committed. */
  isolationLevel?: number;
}

/**
 * The body of a consumer's Fetch (v4-v12) that does not wait for data: one topic, each listed
 * partition read from its offset, no fetch session.
 */
export function fetchBody(topic: string, from: ReadonlyArray<{ partition: number; offset: number | bigint }>, options: FetchBodyOptions = {}) {
  const maxBytes = options.maxBytes ?? 1 << 20;
  const partitionMaxBytes = options.partitionMaxBytes ?? maxBytes;
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes,
    isolationLevel: options.isolationLevel ?? 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: from.map(({ partition, offset }) => ({ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes })) }],
    forgottenTopicsData: [],
    rackId: '',
  };
}
