// The host a broker announces (Metadata, the ready line) when its listener names no host to reach
// it by: a wildcard bind (0.0.0.0, ::, or an empty host) is where it listens, not an address a
// client can dial. Kafka announces InetAddress.getLocalHost().getCanonicalHostName(); kts announces
// the machine's host name when it resolves to an address the listener accepts, else loopback.
import { hostname } from 'node:os';

const WILDCARDS = new Set(['', '0.0.0.0', '::']);

export function isWildcardHost(host: string): boolean {
  return WILDCARDS.has(host);
}

export async function announcedHost(host: string): Promise<string> {
  if (!isWildcardHost(host)) return host;
  // An IPv4 wildcard accepts only IPv4; `::` (and the empty host, which kts binds as `::`) both.
  const ipv4Only = host === '0.0.0.0';
  const name = hostname();
  try {
    // node:dns is loaded by a wildcard listener only.
    const { lookup } = await import('node:dns/promises');
    await lookup(name, { family: ipv4Only ? 4 : 0 });
    return name;
  } catch {
    return ipv4Only ? '127.0.0.1' : 'localhost';
  }
}
