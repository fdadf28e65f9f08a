// Four-letter words (FourLetterCommands / the command classes): a plain-text answer written in
// place of the handshake, then the socket closes. Only whitelisted words run (srvr always);
// the others get ZooKeeper's "not in the whitelist" line.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import os from 'node:os';

export const FOUR_LETTER_WORDS = new Set([
  'conf', 'cons', 'crst', 'dirs', 'dump', 'envi', 'gtmk', 'ruok', 'stmk', 'srvr',
  'srst', 'stat', 'wchc', 'wchp', 'wchs', 'mntr', 'isro', 'hash',
]);

export const VERSION = '3.8.0-kts-0.1.0, built on 2026-11-24 00:00 UTC';

export interface ConnectionInfo {
  remote: string;
  queued: number;
  received: number;
  sent: number;
  sessionId: bigint;
  watches: number;
}

export interface ServerView {
  clientPort: number;
  dataDir: string;
  dataLogDir: string;
  tickTime: number;
  maxClientCnxns: number;
  minSessionTimeout: number;
  maxSessionTimeout: number;
  startedAt: number;
  stats: {
    received: number;
    sent: number;
    minLatency: number;
    maxLatency: number;
    totalLatency: number;
    count: number;
    fsyncs: number;
    fsyncedTxns: number;
  };
  lastZxid: number;
  nodeCount: number;
  dataSize: number;
  ephemeralCount: number;
  watchCount: number;
  sessions: Map<bigint, number>;
  ephemeralsBySession: Map<bigint, Set<string>>;
  connections: ConnectionInfo[];
  /** The connection asking (listed by `stat`, as ZooKeeper lists it). */
  self: ConnectionInfo;
  resetStats(): void;
}

export function isWhitelisted(word: string, whitelist: ReadonlySet<string>): boolean {
  return word === 'srvr' || whitelist.has('*') || whitelist.has(word);
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;
const avg = (v: ServerView) => (v.stats.count ? Math.round((v.stats.totalLatency / v.stats.count) * 10000) / 10000 : 0);
const fmt = (n: number) => (Number.isInteger(n) ? `${n}.0` : String(n));

function latency(v: ServerView): string {
  const min = v.stats.count ? Math.round(v.stats.minLatency) : 0;
  return `Latency min/avg/max: ${min}/${fmt(avg(v))}/${Math.round(v.stats.maxLatency)}\n`;
}

function serverLines(v: ServerView): string {
  const outstanding = v.connections.reduce((n, c) => n + c.queued, 0);
  return (
    latency(v) +
    `Received: ${v.stats.received}\nSent: ${v.stats.sent}\nConnections: ${v.connections.length}\n` +
    `Outstanding: ${outstanding}\nZxid: ${hex(v.lastZxid)}\nMode: standalone\nNode count: ${v.nodeCount}\n`
  );
}

function brief(c: ConnectionInfo, self: boolean): string {
  return ` /${c.remote}[${self ? 0 : 1}](queued=${c.queued},recved=${c.received},sent=${c.sent})\n`;
}

export async function fourLetterAnswer(word: string, v: ServerView): Promise<string> {
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'isro':
      return 'rw';
    case 'srvr':
      return `Zookeeper version: ${VERSION}\n${serverLines(v)}`;
    case 'stat': {
      const clients = v.connections.map((c) => brief(c, false)).join('') + brief(v.self, true);
      return `Zookeeper version: ${VERSION}\nClients:\n${clients}\n${serverLines(v)}`;
    }
    case 'cons':
      return (
        v.connections
          .map((c) => ` /${c.remote}[1](queued=${c.queued},recved=${c.received},sent=${c.sent},sid=${hex(c.sessionId)})\n`)
          .join('') + brief(v.self, true) + '\n'
      );
    case 'conf':
      return (
        `clientPort=${v.clientPort}\nsecureClientPort=-1\n` +
        `dataDir=${v.dataDir}\ndataDirSize=${await dirSize(v.dataDir)}\n` +
        `dataLogDir=${v.dataLogDir}\ndataLogSize=${await dirSize(v.dataLogDir)}\n` +
        `tickTime=${v.tickTime}\nmaxClientCnxns=${v.maxClientCnxns}\n` +
        `minSessionTimeout=${v.minSessionTimeout}\nmaxSessionTimeout=${v.maxSessionTimeout}\n` +
        `clientPortListenBacklog=-1\nserverId=0\n`
      );
    case 'mntr': {
      const outstanding = v.connections.reduce((n, c) => n + c.queued, 0);
      const rows: [string, string | number][] = [
        ['zk_version', VERSION],
        ['zk_server_state', 'standalone'],
        ['zk_avg_latency', avg(v)],
        ['zk_max_latency', Math.round(v.stats.maxLatency)],
        ['zk_min_latency', v.stats.count ? Math.round(v.stats.minLatency) : 0],
        ['zk_packets_received', v.stats.received],
        ['zk_packets_sent', v.stats.sent],
        ['zk_num_alive_connections', v.connections.length + 1],
        ['zk_outstanding_requests', outstanding],
        ['zk_znode_count', v.nodeCount],
        ['zk_watch_count', v.watchCount],
        ['zk_ephemerals_count', v.ephemeralCount],
        ['zk_approximate_data_size', v.dataSize],
        ['zk_global_sessions', v.sessions.size],
        ['zk_uptime', Date.now() - v.startedAt],
        ['zk_fsync_count', v.stats.fsyncs],
        ['zk_avg_sync_processor_batch_size', v.stats.fsyncs ? Math.round((v.stats.fsyncedTxns / v.stats.fsyncs) * 10000) / 10000 : 0],
      ];
      return rows.map(([k, val]) => `${k}\t${val}\n`).join('');
    }
    case 'envi':
      return (
        `Environment:\nzookeeper.version=${VERSION}\nhost.name=${os.hostname()}\n` +
        `node.version=${process.version}\nos.name=${os.type()}\nos.arch=${os.arch()}\nos.version=${os.release()}\n` +
        `user.name=${os.userInfo().username}\nuser.home=${os.homedir()}\nuser.dir=${process.cwd()}\n`
      );
    case 'dump': {
      let out = 'SessionTracker dump:\nGlobal Sessions(' + v.sessions.size + '):\n';
      for (const [id, timeout] of v.sessions) out += `${hex(id)}\t${timeout}ms\n`;
      out += 'ephemeral nodes dump:\nSessions with Ephemerals (' + v.ephemeralsBySession.size + '):\n';
      for (const [id, paths] of v.ephemeralsBySession) out += `${hex(id)}:\n${[...paths].map((p) => `\t${p}\n`).join('')}`;
      return out;
    }
    case 'wchs':
      return `${v.connections.length} connections watching ${v.watchCount} paths\nTotal watches:${v.watchCount}\n`;
    case 'dirs':
      return `datadir_size: ${await dirSize(v.dataDir)}\nlogdir_size: ${await dirSize(v.dataLogDir)}\n`;
    case 'srst':
    case 'crst':
      v.resetStats();
      return word === 'srst' ? 'Server stats reset.\n' : 'Connection stats reset.\n';
    default:
      return `${word} is not supported by kts.\n`;
  }
}

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    total += (await stat(join(dir, name)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}
