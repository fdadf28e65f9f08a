// The contract every API handler implements. One file per API under handlers/, named with its key
// (`00-produce.ts`); the registry (handlers/index.ts) builds dispatch and the ApiVersions answer
// from these objects, so a handler that is not registered is not advertised.
//
// Requests arrive decoded by src/protocol, typed by the generated interfaces (ProduceRequestData...,
// field names are the schema's, camelCased: `Topics` -> `topics`; int64 as number; records as
// Buffer; every field present at every version). A handler returns a plain response object in the
// same naming; fields it leaves out are encoded with the schema default, so `throttleTimeMs` and
// friends need not be set. Returning `null` sends no response (Produce with acks=0).
import type { ApiKeyNumber, RequestData, ResponseBody } from '../protocol/generated/api-types.js';
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

/** What a handler of API `K` answers: its response, any field left out (written as the schema default), or null for no answer. */
export type HandlerResult<K extends ApiKeyNumber> = ResponseBody<K> | null;

/** A handler of API `K`: it receives `K`'s request as decoded and answers `K`'s response. */
export interface TypedApiHandler<K extends ApiKeyNumber> {
  readonly apiKey: K;
  /** Lowest and highest version served; advertised as-is in ApiVersions. */
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(request: RequestData<K>, ctx: RequestContext): Promise<HandlerResult<K>> | HandlerResult<K>;
}

/**
 * A handler as the registry and the dispatcher hold it: the API key is known only at run time, so
 * the request is the decoder's output for that key and the answer any response object. Every
 * TypedApiHandler is one (its handle's parameter is the decoder's output for its own key).
 */
export interface ApiHandler {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(request: unknown, ctx: RequestContext): Promise<object | null> | object | null;
}

/** Types a handler by its `apiKey`: `handle` gets that API's request and must answer its response. */
export function defineHandler<K extends ApiKeyNumber>(handler: TypedApiHandler<K>): TypedApiHandler<K> {
  return handler;
}
