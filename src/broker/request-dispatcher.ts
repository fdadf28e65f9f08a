// Decodes a request frame, routes it to its handler and encodes the answer. Kafka's rules:
// ApiVersions at an unknown version gets a v0-layout UNSUPPORTED_VERSION answer; any other unknown
// key or version, or bytes that do not parse, closes the connection (clients probe that way).
import { ApiKey, ErrorCode, ProtocolError, apiName, decodeRequestBody, decodeRequestHeader, encodeResponse } from '../protocol/index.js';
import type { RequestContext } from './api-handler.js';
import type { BrokerContext } from './broker-context.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { Logger } from './logger.js';
import type { Connection } from './network/connection.js';

export class RequestDispatcher {
  /** `kts.broker.request` (Kafka's kafka.request.logger): one DEBUG line per completed request. */
  private readonly requestLog: Logger;

  constructor(
    private readonly broker: BrokerContext,
    private readonly registry: HandlerRegistry,
  ) {
    this.requestLog = broker.log.child('request');
  }

  /** Resolves with the response frame chunks, or null for no response; rejects to close the connection. */
  async dispatch(frame: Buffer, connection: Connection): Promise<Buffer[] | null> {
    const { header, bodyOffset } = decodeRequestHeader(frame);
    const { apiKey, apiVersion, correlationId } = header;
    const handler = this.registry.get(apiKey);
    if (!handler || apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) {
        // Answered in the v0 layout, which every client can read before it knows our versions.
        const own = this.registry.get(ApiKey.ApiVersions)!;
        return encodeResponse(ApiKey.ApiVersions, 0, correlationId, {
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          apiKeys: [{ apiKey: ApiKey.ApiVersions, minVersion: own.minVersion, maxVersion: own.maxVersion }],
        });
      }
      throw new ProtocolError(
        handler
          ? `unsupported version ${apiVersion} of ${apiName(apiKey)} (serving ${handler.minVersion}-${handler.maxVersion})`
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
    try {
      response = await handler.handle(request, ctx);
    } catch (err) {
      this.broker.log.error(`Error handling ${apiName(apiKey)} v${apiVersion} from ${connection.remoteAddress}: ${(err as Error).stack ?? err}`);
      throw new Error(`internal error handling ${apiName(apiKey)}`);
    }
    if (this.requestLog.isDebugEnabled()) {
      this.requestLog.debug(
        `Completed request: ${apiName(apiKey)} v${apiVersion} correlationId=${correlationId} clientId=${header.clientId ?? ''} from ${connection.remoteAddress} in ${Date.now() - started} ms`,
      );
    }
    if (response === null) return null;
    return encodeResponse(apiKey, apiVersion, correlationId, response);
  }
}
