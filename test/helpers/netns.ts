// A small network of Linux network namespaces for partition tests: every node (a broker, the
// coordinator) gets its own namespace with one veth whose other end is on a bridge in the root
// namespace; the bridge itself has an address on the same /24, so the test process (in the root
// namespace) reaches every node, as a client on the same LAN would.
//
// A partition is made with permanent neighbour entries pointing at a MAC no one has: frames to a
// cut-off peer leave the veth, the bridge floods them, and every port drops them (not its MAC).
// That is a silent loss in both directions, like a pulled cable between those two nodes only (no
// RST, no ICMP, no local error), needs nothing beyond iproute2 and the kernel's core (this
// machine's kernel has no netem, prio or tc actions), and leaves the client's path untouched.
//
// Names carry the test process's pid (interface names are at most 15 bytes): runs in parallel do
// not clash, and leftovers of a run that died are removed by the next one (its pid is gone).
import { execFileSync } from 'node:child_process';
import { pidRuns } from '../../src/storage/dir-lock.js';

const BLACKHOLE_MAC = '02:00:00:00:de:ad';

function ip(args: string[], input?: string): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], input });
}

function ipQuiet(args: string[]): void {
  try {
    ip(args);
  } catch {
    // already gone
  }
}

const tag = (pid: number) => pid.toString(36);

/** Namespaces and bridges left by runs whose process is gone (a run killed before its afterAll). */
function removeLeftovers(): void {
  const fromTag = (t: string) => Number.parseInt(t, 36);
  for (const line of ip(['netns', 'list']).split('\n')) {
    const m = /^kts-([0-9a-z]+)-\S+/.exec(line);
    if (m && !pidRuns(fromTag(m[1]))) ipQuiet(['netns', 'del', m[0]]);
  }
  for (const line of ip(['-o', 'link', 'show', 'type', 'bridge']).split('\n')) {
    const m = /^\d+: ktsb([0-9a-z]+):/.exec(line);
    if (m && !pidRuns(fromTag(m[1]))) ipQuiet(['link', 'del', `ktsb${m[1]}`]);
  }
}

/** Why namespaces cannot be made here (not root, no `ip`), or null when they can. */
export function netnsUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)';
  const probe = `kts-${tag(process.pid)}-probe`;
  try {
    ip(['netns', 'add', probe]);
    ip(['netns', 'del', probe]);
    return null;
  } catch (err) {
    ipQuiet(['netns', 'del', probe]);
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    return e.code === 'ENOENT' ? '`ip` not found (apt-get install iproute2)' : `ip netns add failed: ${e.stderr ?? e.message}`;
  }
}

export interface NetNode {
  name: string;
  namespace: string;
  address: string;
  /** The veth end in the root namespace (on the bridge). */
  hostVeth: string;
  /** Prefix for spawn: runs the command inside the node's namespace (ip execs it: same pid). */
  launcher: string[];
}

export class NamespaceNetwork {
  readonly nodes = new Map<string, NetNode>();
  private readonly tag = tag(process.pid);
  readonly bridge = `ktsb${this.tag}`;
  /** The bridge's address: where the test's clients connect from. */
  readonly hostAddress: string;
  private readonly cuts = new Set<string>();

  private constructor(readonly subnet: string) {
    this.hostAddress = `${subnet}.254`;
  }

  /** A bridge on a /24 of 10.0.0.0/8 that nothing on this machine uses yet. */
  static create(): NamespaceNetwork {
    removeLeftovers();
    const used = ip(['-4', '-o', 'addr', 'show']);
    let subnet = '';
    for (let attempt = 0; attempt < 50 && !subnet; attempt++) {
      const candidate = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 256)}`;
      if (!used.includes(` ${candidate}.`)) subnet = candidate;
    }
    if (!subnet) throw new Error('no free 10.x.y.0/24 for the test network');
    const net = new NamespaceNetwork(subnet);
    ipQuiet(['link', 'del', net.bridge]);
    ip(['link', 'add', net.bridge, 'type', 'bridge']);
    ip(['addr', 'add', `${net.hostAddress}/24`, 'dev', net.bridge]);
    ip(['link', 'set', net.bridge, 'up']);
    return net;
  }

  /** A node with its own namespace at <subnet>.<host>. */
  add(name: string, host: number): NetNode {
    const namespace = `kts-${this.tag}-${name}`;
    const hostVeth = `ktsv${this.tag}${host}`;
    ipQuiet(['netns', 'del', namespace]);
    ip(['netns', 'add', namespace]);
    ip(['-n', namespace, 'link', 'set', 'lo', 'up']);
    ip(['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace]);
    ip(['link', 'set', hostVeth, 'master', this.bridge]);
    ip(['link', 'set', hostVeth, 'up']);
    const address = `${this.subnet}.${host}`;
    ip(['-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
    ip(['-n', namespace, 'link', 'set', 'eth0', 'up']);
    const node = { name, namespace, address, hostVeth, launcher: ['ip', 'netns', 'exec', namespace] };
    this.nodes.set(name, node);
    return node;
  }

  private node(name: string): NetNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Silently drops every packet between `name` and each of `others`, both ways; the rest of the network (and the test's clients) still reach it. */
  isolate(name: string, others: string[]): void {
    const a = this.node(name);
    for (const other of others) {
      const b = this.node(other);
      for (const [from, to] of [[a, b], [b, a]]) {
        ip(['-n', from.namespace, 'neigh', 'replace', to.address, 'lladdr', BLACKHOLE_MAC, 'dev', 'eth0', 'nud', 'permanent']);
        this.cuts.add(`${from.name}\u0000${to.name}`);
      }
    }
  }

  /** Every cut made by isolate() is mended (the neighbours are learned again by ARP). */
  heal(): void {
    for (const cut of this.cuts) {
      const [from, to] = cut.split('\u0000').map((n) => this.node(n));
      ipQuiet(['-n', from.namespace, 'neigh', 'del', to.address, 'dev', 'eth0']);
    }
    this.cuts.clear();
  }

  /** Takes the node's link down (nothing reaches it, not even the clients) or back up. */
  setLink(name: string, up: boolean): void {
    ip(['link', 'set', this.node(name).hostVeth, up ? 'up' : 'down']);
  }

  /**
   * Removes the namespaces and the bridge. Call after the processes inside have exited: a
   * namespace lives on while a process is in it, and so does its veth.
   */
  destroy(): void {
    for (const n of this.nodes.values()) {
      ipQuiet(['netns', 'del', n.namespace]);
      ipQuiet(['link', 'del', n.hostVeth]);
    }
    this.nodes.clear();
    ipQuiet(['link', 'del', this.bridge]);
  }
}
