// Decodes a request frame, routes it to its handler and encodes the answer. Kafka's rules:
// ApiVersions at an unknown version gets a v0-layout UNSUPPORTED_VERSION answer; any other unknown
// key or version, or bytes that do not parse, closes the connection (clients probe that way).
import { ApiKey, ErrorCode, ProtocolError, apiName, decodeRequestBody, decodeRequestHeader, encodeResponse } from '../protocol/index.js';
import type { RequestContext } from './api-handler.js';
import type { BrokerContext } from './broker-context.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { Logger } from './logger.js';
import type { Connection } from './network/connection.js';
import type { Faults } from './faults.js';
import type { RequestRecording } from './request-recording.js';
import { principalToString } from './security/principal.js';
import { keepLeasedBuffer } from '../storage/read-buffers.js';
import type { BrokerMetrics } from './metrics/broker-metrics.js';

/** The test kit's hooks (startBroker's `faults` and `requests()`); both absent in a plain broker. */
export interface DispatchHooks {
  faults?: Faults;
  recording?: RequestRecording;
  /** kts.metrics.port's counters: each request adds its latency to its API's histogram. */
  metrics?: BrokerMetrics;
}

export class RequestDispatcher {
  /** `kts.broker.request` (Kafka's kafka.request.logger): one DEBUG line per completed request. */
  private readonly requestLog: Logger;

  constructor(
    private readonly broker: BrokerContext,
    private readonly registry: HandlerRegistry,
    private readonly hooks: DispatchHooks = {},
  ) {
    this.requestLog = broker.log.child('request');
  }

  /** Resolves with the response frame chunks, or null for no response; rejects to close the connection. */
  async dispatch(frame: Buffer, connection: Connection): Promise<Buffer[] | null> {
    const { header, bodyOffset } = decodeRequestHeader(frame);
    const { apiKey, apiVersion, correlationId } = header;
    const sasl = connection.sasl;
    // KIP-368, as Kafka's SocketServer: a SaslHandshake on an authenticated connection whose session
    // has an expiry starts re-authentication; any other request after the session's end closes the
    // connection unanswered.
    if (sasl?.complete && !(apiKey === ApiKey.SaslHandshake && sasl.maybeBeginReauthentication()) && sasl.expired()) {
      connection.close(`SASL session expired (connections.max.reauth.ms or the credential's lifetime) before ${apiName(apiKey) ?? apiKey}; the client did not re-authenticate`, 'debug');
      return null;
    }
    // A SASL listener's connection that has not authenticated may ask for versions and authenticate, nothing else.
    if (sasl && !sasl.complete && !(apiKey === ApiKey.ApiVersions ? sasl.acceptsApiVersions : apiKey === ApiKey.SaslHandshake || apiKey === ApiKey.SaslAuthenticate)) {
      throw new ProtocolError(`Unexpected Kafka request of type ${apiName(apiKey) ?? apiKey} during SASL ${sasl.reauthenticating ? 're-authentication' : 'handshake'}`);
    }
    const handler = this.registry.get(apiKey);
    // With --as-kafka the served range can be narrower than the handler's (src/broker/handler-registry.ts).
    const served = this.registry.served(apiKey);
    if (!handler || !served || apiVersion < served.minVersion || apiVersion > served.maxVersion) {
      if (apiKey === ApiKey.ApiVersions && served) {
        // Answered in the v0 layout, which every client can read before it knows our versions.
        return encodeResponse(ApiKey.ApiVersions, 0, correlationId, {
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          apiKeys: [{ apiKey: ApiKey.ApiVersions, ...served }],
        });
      }
      throw new ProtocolError(
        handler && served
          ? `unsupported version ${apiVersion} of ${apiName(apiKey)} (serving ${served.minVersion}-${served.maxVersion})`
          : `unknown API key ${apiKey}${apiName(apiKey) ? ` (${apiName(apiKey)})` : ''}`,
      );
    }
    let request: unknown;
    try {
      request = decodeRequestBody(apiKey, apiVersion, frame, bodyOffset);
    } catch (err) {
      throw new ProtocolError(`malformed ${apiName(apiKey)} v${apiVersion} request: ${(err as Error).message}`);
    }
    const ctx: RequestContext = {
      apiVersion,
      correlationId,
      clientId: header.clientId,
      broker: this.broker,
      connection,
      registry: this.registry,
    };
    let response: object | null;
    const started = Date.now();
    const { faults, recording, metrics } = this.hooks;
    const clock = metrics ? performance.now() : 0;
    // Fault rules are looked at only while one exists; recording only when it was asked for.
    if ((faults && faults.active) || recording) {
      // The recording keeps the request, whose Produce records are views of the frame.
      keepLeasedBuffer(frame);
      try {
        return await this.dispatchHooked(apiKey, request, ctx, started, connection);
      } finally {
        metrics?.requestDone(apiKey, performance.now() - clock);
      }
    }
    try {
      response = await handler.handle(request, ctx);
    } catch (err) {
      // A request Kafka refuses as it parses it (an ACL filter naming UNKNOWN, SaslAuthenticate
      // during the handshake) closes the connection like a malformed one: not a broker error.
      if (err instanceof ProtocolError) throw err;
      this.broker.log.error(`Error handling ${apiName(apiKey)} v${apiVersion} from ${connection.remoteAddress}: ${(err as Error).stack ?? err}`);
      throw new Error(`internal error handling ${apiName(apiKey)}`);
    } finally {
      metrics?.requestDone(apiKey, performance.now() - clock);
    }
    if (this.requestLog.isDebugEnabled()) {
      this.requestLog.debug(
        `Completed request: ${apiName(apiKey)} v${apiVersion} correlationId=${correlationId} clientId=${header.clientId ?? ''} from ${connection.remoteAddress} in ${Date.now() - started} ms`,
      );
    }
    if (response === null) return null;
    return encodeResponse(apiKey, apiVersion, correlationId, response);
  }

  /** dispatch() past the decoding, with the fault rules and the recording in the way. */
  private async dispatchHooked(apiKey: number, request: unknown, ctx: RequestContext, started: number, connection: Connection): Promise<Buffer[] | null> {
    const { apiVersion, correlationId } = ctx;
    const { faults, recording } = this.hooks;
    let fault: 'error' | 'drop' | 'pass' | undefined;
    let response: object | null = null;
    try {
      if (faults?.active) {
        const outcome = await faults.intercept(apiKey, apiVersion, request, (id) => this.broker.topics.getById(id)?.name);
        fault = outcome.kind === 'answer' ? 'error' : outcome.kind;
        if (outcome.kind === 'drop') {
          connection.close(`dropped by a fault rule (${apiName(apiKey)} v${apiVersion} correlationId=${correlationId})`, 'debug');
          return null;
        }
        if (outcome.kind === 'answer') {
          response = outcome.response;
          return encodeResponse(apiKey, apiVersion, correlationId, response);
        }
      }
      try {
        response = await this.registry.get(apiKey)!.handle(request, ctx);
      } catch (err) {
        if (err instanceof ProtocolError) throw err;
        this.broker.log.error(`Error handling ${apiName(apiKey)} v${apiVersion} from ${connection.remoteAddress}: ${(err as Error).stack ?? err}`);
        throw new Error(`internal error handling ${apiName(apiKey)}`);
      }
      if (response === null) return null;
      return encodeResponse(apiKey, apiVersion, correlationId, response);
    } finally {
      recording?.add({
        apiKey,
        apiVersion,
        clientId: ctx.clientId,
        request,
        response,
        startedAt: started,
        durationMs: Date.now() - started,
        correlationId,
        connectionId: connection.id,
        principal: principalToString(connection.principal),
        fault,
      });
    }
  }
}
