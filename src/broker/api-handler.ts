// The contract every API handler implements. One file per API under handlers/, named with its key
// (`00-produce.ts`); the registry (handlers/index.ts) builds dispatch and the ApiVersions answer
// from these objects, so a handler that is not registered is not advertised.
//
// Requests arrive decoded by src/protocol (field names are the schema's, camelCased: `Topics` ->
// `topics`, `PartitionIndex` -> `partitionIndex`; int64 as number; records as Buffer). A handler
// returns a plain response object in the same naming; fields it leaves out are encoded with the
// schema default, so `throttleTimeMs` and friends need not be set. Returning `null` sends no
// response (Produce with acks=0).
import type { BrokerContext } from './broker-context.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { KafkaPrincipal, SecurityProtocol } from './security/principal.js';
import type { SaslSession } from './security/sasl/session.js';

/** The connection a request came on: who sent it (the authorizer's principal) and through which listener. */
export interface RequestConnection {
  readonly id: number;
  readonly remoteAddress: string;
  /** The authenticated principal; User:ANONYMOUS on PLAINTEXT and on SSL without a client certificate. */
  readonly principal: KafkaPrincipal;
  /** The listener's name (e.g. PLAINTEXT, SASL_SSL, INTERNAL) and its security protocol. */
  readonly listenerName: string;
  readonly securityProtocol: SecurityProtocol;
  /** SASL listeners: the connection's exchange (absent on PLAINTEXT and SSL). */
  readonly sasl?: SaslSession;
  /** Closes the connection once the answer to the current request is sent (a failed authentication). */
  closeAfterResponse?(reason: string): void;
}

export interface RequestContext {
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly broker: BrokerContext;
  readonly connection: RequestConnection;
  /** Every registered API (ApiVersions answers from it). */
  readonly registry: HandlerRegistry;
}

export interface ApiHandler {
  readonly apiKey: number;
  /** Lowest and highest version served; advertised as-is in ApiVersions. */
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(request: any, ctx: RequestContext): Promise<object | null> | object | null;
}

export function defineHandler(handler: ApiHandler): ApiHandler {
  return handler;
}
