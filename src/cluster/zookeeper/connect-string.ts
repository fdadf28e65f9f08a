// `host:port,host2:port/chroot` (ZooKeeper's ConnectStringParser): hosts without a port get 2181,
// IPv6 hosts are bracketed (`[::1]:2181`), and the optional chroot applies to every path.
import { pathError } from '../../protocol/zookeeper/index.js';

export interface ConnectString {
  hosts: { host: string; port: number }[];
  /** '' when there is none. */
  chroot: string;
}

export function parseConnectString(text: string): ConnectString {
  let hostsPart = text.trim();
  let chroot = '';
  const slash = hostsPart.indexOf('/');
  if (slash >= 0) {
    chroot = hostsPart.slice(slash);
    hostsPart = hostsPart.slice(0, slash);
    if (chroot === '/') chroot = '';
    else if (chroot.endsWith('/')) chroot = chroot.slice(0, -1);
    const err = chroot && pathError(chroot);
    if (err) throw new Error(`Invalid chroot '${chroot}' in connect string: ${err}`);
  }
  const hosts = hostsPart
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean)
    .map((h) => {
      const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(h) ?? /^([^:]+)(?::(\d+))?$/.exec(h);
      if (!m) throw new Error(`Invalid host '${h}' in connect string`);
      const port = m[2] === undefined ? 2181 : Number(m[2]);
      if (!(port > 0 && port < 65536)) throw new Error(`Invalid port in '${h}'`);
      return { host: m[1], port };
    });
  if (hosts.length === 0) throw new Error(`No hosts in connect string '${text}'`);
  return { hosts, chroot };
}

/** Client path -> server path. */
export function prependChroot(chroot: string, path: string): string {
  if (!chroot) return path;
  return path === '/' ? chroot : chroot + path;
}

/** Server path -> client path (paths outside the chroot are returned unchanged). */
export function stripChroot(chroot: string, path: string): string {
  if (!chroot) return path;
  if (path === chroot) return '/';
  return path.startsWith(chroot + '/') ? path.slice(chroot.length) : path;
}
