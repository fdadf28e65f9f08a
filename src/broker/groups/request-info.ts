// Who sent a group request, in the form Kafka records and shows it (DescribeGroups, the CLI's
// HOST column): the client id, and the address as Java's InetAddress.toString() prints it.
import type { RequestContext } from '../api-handler.js';

export function clientHostOf(ctx: RequestContext): string {
  const address = ctx.connection.remoteAddress ?? '';
  return `/${address.startsWith('::ffff:') ? address.slice(7) : address}`;
}

export function clientIdOf(ctx: RequestContext): string {
  return ctx.clientId ?? '';
}
