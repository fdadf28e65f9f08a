// Who sent a group request, in the form Kafka records and shows it (DescribeGroups, the CLI's
// HOST column): the client id, and the address as Java's InetAddress.toString() prints it.
import { isIP } from 'node:net';
import type { RequestContext } from '../api-handler.js';

/** `/127.0.0.1` from the connection's `address:port` (IPv4-mapped IPv6 shown as IPv4). */
export function clientHostOf(ctx: RequestContext): string {
  // The connection reports `address:port` (IPv6 without brackets): drop the port when what is
  // left is still an address.
  let address = ctx.connection.remoteAddress ?? '';
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(address);
  if (m && isIP(m[1]) !== 0) address = m[1];
  if (address.startsWith('::ffff:') && address.includes('.')) address = address.slice(7);
  return `/${address}`;
}

export function clientIdOf(ctx: RequestContext): string {
  return ctx.clientId ?? '';
}
