// What handlers call to ask the authorizer, as KafkaApis does: who is asking (the connection's
// principal and address) and may they do an operation on a resource. Without an authorizer
// (authorizer.class.name empty, Kafka's default) everything is allowed and nothing is looked up.
import type { RequestContext } from '../api-handler.js';
import { AclOperation, CLUSTER_NAME, ResourceType } from './acl.js';
import type { Requester } from './authorizer.js';
import { errorResponse } from '../../protocol/error-response.js';
import type { ApiKeyNumber, RequestData, ResponseBody } from '../../protocol/generated/api-types.js';
import { principalToString } from '../security/principal.js';

export { AclOperation as Op, ResourceType as Resource };

/** The principal of the connection a request came on ("User:alice"; PLAINTEXT's is User:ANONYMOUS). */
export function principalOf(ctx: RequestContext): string {
  return principalToString(ctx.connection.principal);
}

/**
 * The client's IP address as Kafka's ACL host field names it: the connection's address without its
 * port, and an IPv4 client without the ::ffff: prefix of a dual-stack socket.
 */
export function hostOf(ctx: RequestContext): string {
  const address = ctx.connection.remoteAddress;
  const colon = address.lastIndexOf(':');
  const ip = colon > 0 && /^\d+$/.test(address.slice(colon + 1)) ? address.slice(0, colon) : address;
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export function requesterOf(ctx: RequestContext): Requester {
  return { principal: principalOf(ctx), host: hostOf(ctx) };
}

/** May the request's principal do `operation` on the resource? True when no authorizer is configured. */
export function authorized(ctx: RequestContext, operation: number, resourceType: number, name: string): boolean {
  const authorizer = ctx.broker.authorizer;
  return !authorizer || authorizer.authorize(requesterOf(ctx), operation, resourceType, name);
}

export function clusterAuthorized(ctx: RequestContext, operation: number): boolean {
  return authorized(ctx, operation, ResourceType.CLUSTER, CLUSTER_NAME);
}

/** Kafka's authorizeByResourceType: `operation` on at least one resource of the type. */
export function authorizedOnAny(ctx: RequestContext, operation: number, resourceType: number): boolean {
  const authorizer = ctx.broker.authorizer;
  return !authorizer || authorizer.authorizeAny(requesterOf(ctx), operation, resourceType);
}

/** The subset of `names` the principal may do `operation` on (all of them without an authorizer). */
export function filterAuthorized<T>(ctx: RequestContext, operation: number, resourceType: number, items: T[], nameOf: (item: T) => string): T[] {
  if (!ctx.broker.authorizer) return items;
  return items.filter((item) => authorized(ctx, operation, resourceType, nameOf(item)));
}

/** The bit set Kafka answers in *AuthorizedOperations fields: each allowed operation's bit. */
export function authorizedOperations(ctx: RequestContext, resourceType: number, name: string, operations: readonly number[]): number {
  let bits = 0;
  for (const op of operations) if (authorized(ctx, op, resourceType, name)) bits |= 1 << op;
  return bits;
}

/** The whole request refused with one error, in that version's layout (every group, topic, partition). */
export function refuseAll<K extends ApiKeyNumber>(ctx: RequestContext, apiKey: K, request: RequestData<K>, errorCode: number): ResponseBody<K> {
  // errorResponse walks the response schema of `apiKey`, so its answer has that API's shape.
  return errorResponse(apiKey, ctx.apiVersion, request, errorCode) as ResponseBody<K>;
}
