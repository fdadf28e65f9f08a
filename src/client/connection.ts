// One TCP connection to one broker: framing, correlation ids, pipelining (any number of requests in
// flight; answers are matched by correlation id), per-request timeouts, and the ApiVersions
// handshake whose answer decides which version of each API we speak on this connection.
import { Socket, connect as netConnect } from 'node:net';
// node:tls and the SASL code (node:crypto) are imported by the first connection that needs them:
// a PLAINTEXT client (most CLI runs) starts without them.
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { SaslCredentials } from './sasl.js';
// The frame codec without the schemas: each API's are loaded by the first request that sends it.
import { decodeResponse, encodeRequest, ensureApiSchemas, type EncodableRequest } from '../protocol/codec/frames.js';
import type { ApiKeyNumber, RequestBody, ResponseData } from '../protocol/generated/api-types.js';
import { KafkaClientError, RequestTimeoutError, check } from './errors.js';
import { READ_BUFFER_BYTES, ResponseFrames } from './response-frames.js';
import { API, OUR_VERSIONS, apiLabel } from './versions.js';

export interface ConnectionOptions {
  clientId: string;
  /** Budget for the TCP connect plus the ApiVersions exchange. */
  connectTimeoutMs: number;
  /** Default wait for an answer. */
  requestTimeoutMs: number;
  /** TLS (SSL, SASL_SSL) and SASL (SASL_PLAINTEXT, SASL_SSL); absent for PLAINTEXT. */
  security?: ClientSecurity;
}

export interface ClientSecurity {
  tls?: TlsConnectionOptions;
  sasl?: SaslCredentials;
}

interface Pending {
  apiKey: number;
  version: number;
  /** The decoded response (the API key's ResponseData), or null for a request sent without one. */
  resolve(body: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** A request body, or a function of the negotiated version that makes it. */
export type RequestArg<K extends ApiKeyNumber> = RequestBody<K> | ((version: number) => RequestBody<K>);
/** A decoded response, with the version it was decoded at. */
export type Answer<K extends ApiKeyNumber> = ResponseData<K> & { apiVersion: number };

export interface RequestOptions {
  /** Produce with acks=0: the broker sends nothing back. */
  noResponse?: boolean;
  timeoutMs?: number;
}

export class BrokerConnection {
  /** API key -> [min, max] the broker supports. */
  readonly brokerVersions = new Map<number, readonly [number, number]>();
  private nextCorrelationId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | null = null;
  private readonly closeListeners: (() => void)[] = [];
  /** KIP-368: when the broker gave the session a lifetime, the time to re-authenticate and with what. */
  private reauth: { atMs: number; credentials: SaslCredentials } | undefined;
  /** While re-authenticating, other requests wait (a broker closes a connection that sends them then). */
  private reauthenticating: Promise<void> | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly host: string,
    readonly port: number,
    private readonly opts: ConnectionOptions,
    /** The socket's bytes; fed by the socket's `onread` (plain TCP) or, here, by its 'data' events (TLS). */
    frames: ResponseFrames,
    onread: boolean,
  ) {
    socket.setNoDelay(true);
    if (!onread) socket.on('data', (d: Buffer) => frames.feed(d, d.length, false));
    socket.on('error', (err) => this.fail(new KafkaClientError(`Connection to ${host}:${port} failed: ${err.message}`, { retriable: true })));
    socket.on('close', () => this.fail(new KafkaClientError(`Connection to ${host}:${port} was closed`, { retriable: true })));
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get closed(): boolean {
    return this.closedError !== null;
  }

  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** Opens a connection and negotiates API versions. */
  static async open(host: string, port: number, opts: ConnectionOptions): Promise<BrokerConnection> {
    const tls = opts.security?.tls;
    const tlsConnect = tls ? (await import('node:tls')).connect : undefined;
    let conn: BrokerConnection | undefined;
    const frames = new ResponseFrames(
      (frame) => conn?.dispatch(frame),
      (size) => {
        conn?.fail(new KafkaClientError(`Invalid frame size ${size} from ${host}:${port}`));
        conn?.socket.destroy();
      },
    );
    // Plain TCP reads into one reusable buffer (response-frames.ts says why); TLS sockets have no `onread`.
    const readBuffer = tls ? undefined : Buffer.allocUnsafe(READ_BUFFER_BYTES);
    const onread = readBuffer && { buffer: readBuffer, callback: (n: number, buf: Uint8Array) => frames.feed(buf as Buffer, n, true) };
    const socket = await new Promise<Socket>((resolve, reject) => {
      // TLS: the server name is the host dialled, unless it is an IP address (SNI forbids those).
      const s = tls && tlsConnect ? tlsConnect({ ...tls, host, port, servername: tls.servername ?? (/^[\d.]+$|:/.test(host) ? undefined : host) }) : netConnect({ host, port, onread });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new KafkaClientError(`connect to ${host}:${port} timed out`, { retriable: true }));
      }, opts.connectTimeoutMs);
      s.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        s.destroy();
        // A TLS refusal (an untrusted certificate) will not go away by retrying; a socket error (no syscall) might.
        if (tls && !(err as NodeJS.ErrnoException).syscall) {
          reject(new KafkaClientError(`SSL handshake with ${host}:${port} failed: ${err.message}`, { javaName: 'SslAuthenticationException' }));
          return;
        }
        const failed = new KafkaClientError(err.message, { retriable: true });
        // ECONNREFUSED, ENOTFOUND...: lets the client tell "nobody there" from "no answer".
        failed.socketCode = err.code;
        reject(failed);
      });
    });
    conn = new BrokerConnection(socket, host, port, opts, frames, onread !== undefined);
    try {
      // v0 of ApiVersions is understood by every broker and carries all we need.
      const body = await conn.send(API.ApiVersions, 0, {}, { timeoutMs: opts.connectTimeoutMs });
      check(body.errorCode);
      for (const k of body.apiKeys) {
        conn.brokerVersions.set(k.apiKey, [k.minVersion, k.maxVersion]);
      }
      if (opts.security?.sasl) await conn.authenticate(opts.security.sasl);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  /** SaslHandshake v1, then the mechanism's tokens in SaslAuthenticate requests (KIP-152). */
  private async authenticate(credentials: SaslCredentials): Promise<void> {
    const timeoutMs = this.opts.connectTimeoutMs;
    const handshake = await this.send(API.SaslHandshake, 1, { mechanism: credentials.mechanism }, { timeoutMs });
    if (handshake.errorCode !== 0) {
      throw new KafkaClientError(`Unexpected handshake request with client mechanism ${credentials.mechanism}, enabled mechanisms are [${handshake.mechanisms.join(', ')}]`, { javaName: 'UnsupportedSaslMechanismException' });
    }
    const { authenticate } = await import('./sasl.js');
    let lifetimeMs = 0;
    await authenticate(credentials, async (token) => {
      const answer = await this.send(API.SaslAuthenticate, 1, { authBytes: token }, { timeoutMs });
      if (answer.errorCode !== 0) {
        throw new KafkaClientError(answer.errorMessage ?? `SASL authentication failed with ${credentials.mechanism}`, { javaName: 'SaslAuthenticationException' });
      }
      lifetimeMs = Number(answer.sessionLifetimeMs ?? 0);
      return answer.authBytes;
    });
    // As Kafka's clients: re-authenticate at a random 85-95% of the session's lifetime, before the
    // first request after that point (the broker closes the connection at the first one past its end).
    this.reauth = lifetimeMs > 0 ? { atMs: Date.now() + lifetimeMs * (0.85 + Math.random() * 0.1), credentials } : undefined;
  }

  /** Re-authenticates once the session is due (see authenticate); a failure closes the connection. */
  private reauthenticateIfDue(): Promise<void> | undefined {
    if (this.reauthenticating) return this.reauthenticating;
    if (!this.reauth || Date.now() < this.reauth.atMs) return undefined;
    const { credentials } = this.reauth;
    this.reauth = undefined;
    this.reauthenticating = this.authenticate(credentials)
      .catch((err: Error) => {
        this.close();
        throw err;
      })
      .finally(() => (this.reauthenticating = undefined));
    return this.reauthenticating;
  }

  /** The version to use for `apiKey`: the highest both sides support. */
  version(apiKey: number): number {
    const ours = OUR_VERSIONS[apiKey];
    const theirs = this.brokerVersions.get(apiKey);
    if (!ours) throw new Error(`internal: no client versions for API ${apiKey}`);
    if (!theirs) {
      throw new KafkaClientError(`The broker at ${this.address} does not support ${apiLabel(apiKey)}`, { javaName: 'UnsupportedVersionException' });
    }
    const v = Math.min(ours[1], theirs[1]);
    if (v < Math.max(ours[0], theirs[0])) {
      throw new KafkaClientError(
        `The broker at ${this.address} supports ${apiLabel(apiKey)} versions ${theirs[0]}-${theirs[1]}, kts needs ${ours[0]}-${ours[1]}`,
        { javaName: 'UnsupportedVersionException' },
      );
    }
    return v;
  }

  supports(apiKey: number): boolean {
    try {
      this.version(apiKey);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Sends a request at the negotiated version; resolves with the decoded response body (typed by the
   * API key: the generated ...ResponseData, with the version it was decoded at), or with null when
   * `noResponse` asked for no answer.
   */
  request<K extends ApiKeyNumber>(apiKey: K, body: RequestArg<K>, opts: RequestOptions & { noResponse: true }): Promise<null>;
  request<K extends ApiKeyNumber>(apiKey: K, body: RequestArg<K>, opts?: RequestOptions & { noResponse?: false }): Promise<Answer<K>>;
  request<K extends ApiKeyNumber>(apiKey: K, body: RequestArg<K>, opts?: RequestOptions): Promise<Answer<K> | null>;
  request<K extends ApiKeyNumber>(apiKey: K, body: RequestArg<K>, opts: RequestOptions = {}): Promise<Answer<K> | null> {
    const version = this.version(apiKey);
    return this.send(apiKey, version, typeof body === 'function' ? body(version) : body, opts).then((b) => {
      if (b && typeof b === 'object') (b as { apiVersion?: number }).apiVersion ??= version;
      return b as Answer<K> | null;
    });
  }

  /** Sends a request at an explicit version (null: `noResponse`, nothing came back). */
  send<K extends ApiKeyNumber>(apiKey: K, version: number, body: RequestBody<K>, opts: RequestOptions & { noResponse: true }): Promise<null>;
  send<K extends ApiKeyNumber>(apiKey: K, version: number, body: RequestBody<K>, opts?: RequestOptions & { noResponse?: false }): Promise<ResponseData<K>>;
  send<K extends ApiKeyNumber>(apiKey: K, version: number, body: RequestBody<K>, opts?: RequestOptions): Promise<ResponseData<K> | null>;
  send<K extends ApiKeyNumber>(apiKey: K, version: number, body: RequestBody<K>, opts: RequestOptions = {}): Promise<ResponseData<K> | null> {
    if (this.closedError) return Promise.reject(this.closedError);
    if (this.reauth !== undefined || this.reauthenticating !== undefined) {
      const renewing = apiKey === API.SaslHandshake || apiKey === API.SaslAuthenticate ? undefined : this.reauthenticateIfDue();
      if (renewing) return renewing.then(() => this.send(apiKey, version, body, opts));
    }
    const loading = ensureApiSchemas(apiKey);
    if (loading) return loading.then(() => this.send(apiKey, version, body, opts));
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    // body is RequestBody<K> (the signature checks it); tsc does not resolve EncodableRequest<K> for a K not yet known.
    const frame = encodeRequest(apiKey, version, correlationId, this.opts.clientId, body as EncodableRequest<K>);
    if (opts.noResponse) {
      return new Promise<null>((resolve, reject) => {
        this.socket.cork();
        for (const chunk of frame) this.socket.write(chunk);
        this.socket.uncork();
        this.socket.write('', (err) => (err ? reject(err) : resolve(null)));
      });
    }
    return new Promise<ResponseData<K>>((resolve, reject) => {
      const ms = opts.timeoutMs ?? this.opts.requestTimeoutMs;
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new RequestTimeoutError(`${apiLabel(apiKey)} from ${this.address}`, ms));
        // Kafka's clients drop a connection whose request timed out: later answers would be stale.
        this.close();
      }, ms);
      // dispatch() decodes the answer with this API key's response schema: ResponseData<K>.
      this.pending.set(correlationId, { apiKey, version, resolve: resolve as (body: unknown) => void, reject, timer });
      this.socket.cork();
      for (const chunk of frame) this.socket.write(chunk);
      this.socket.uncork();
    });
  }

  close(): void {
    this.fail(new KafkaClientError(`Connection to ${this.address} was closed`, { retriable: true }));
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const l of this.closeListeners) l();
  }

  private dispatch(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const p = this.pending.get(correlationId);
    if (!p) return; // an answer to a request that already timed out
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    try {
      p.resolve(decodeResponse(p.apiKey, p.version, frame).body);
    } catch (err) {
      p.reject(new KafkaClientError(`Could not decode ${apiLabel(p.apiKey)} v${p.version} response from ${this.address}: ${(err as Error).message}`));
    }
  }
}
