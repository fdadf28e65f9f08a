// The broker's ZooKeeper session: the ZooKeeperClient plus what Kafka's KafkaZkClient adds on top —
// recursive create/delete, create-or-set, and a fresh session after expiry (a broker whose session
// expired must re-register, exactly as a new one would).
import type { Logger } from '../broker/logger.js';
import { ZooKeeperClient, isNoNode, isNodeExists, type CreateMode, type Op, type Stat, type Watcher } from './zookeeper-client.js';

export { isNoNode, isNodeExists };

export class ZkSession {
  private client: ZooKeeperClient;
  private readonly listeners: (() => void)[] = [];
  private closed = false;

  private constructor(
    client: ZooKeeperClient,
    private readonly connectString: string,
    private readonly sessionTimeoutMs: number,
    private readonly log: Logger,
  ) {
    this.client = client;
    this.watchExpiry();
  }

  static async connect(connectString: string, sessionTimeoutMs: number, connectTimeoutMs: number, log: Logger): Promise<ZkSession> {
    await ensureChroot(connectString, sessionTimeoutMs, connectTimeoutMs);
    const client = await ZooKeeperClient.connect(connectString, { sessionTimeoutMs, connectTimeoutMs });
    log.info(`Connected to ZooKeeper at ${connectString} (session 0x${client.sessionId.toString(16)}, timeout ${client.sessionTimeoutMs} ms)`);
    return new ZkSession(client, connectString, sessionTimeoutMs, log);
  }

  get sessionId(): bigint {
    return this.client.sessionId;
  }

  /** Called after a replacement session is up (ephemerals and watches must be set again). */
  onSessionReestablished(listener: () => void): void {
    this.listeners.push(listener);
  }

  private watchExpiry(): void {
    this.client.once('expired', () => {
      if (this.closed) return;
      this.log.warn('ZooKeeper session expired; opening a new one');
      void this.reconnect();
    });
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        this.client = await ZooKeeperClient.connect(this.connectString, { sessionTimeoutMs: this.sessionTimeoutMs });
        this.watchExpiry();
        this.log.info(`New ZooKeeper session 0x${this.client.sessionId.toString(16)}`);
        for (const listener of this.listeners) listener();
        return;
      } catch (err) {
        this.log.warn(`Reconnecting to ZooKeeper failed (attempt ${attempt + 1}): ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
      }
    }
  }

  create(path: string, data: Buffer | null, mode: CreateMode): Promise<string> {
    return this.client.create(path, data, { mode });
  }

  getData(path: string, watch?: Watcher): Promise<{ data: Buffer | null; stat: Stat }> {
    return this.client.getData(path, watch);
  }

  /** getData, or null (with an exists watch, so creation is noticed) when the node is missing. */
  async getDataIfExists(path: string, watch?: Watcher): Promise<{ data: Buffer | null; stat: Stat } | null> {
    try {
      return await this.client.getData(path, watch);
    } catch (err) {
      if (!isNoNode(err)) throw err;
      const stat = await this.client.exists(path, watch);
      // Created between the two calls: read it now.
      return stat ? this.client.getData(path) : null;
    }
  }

  exists(path: string, watch?: Watcher): Promise<Stat | null> {
    return this.client.exists(path, watch);
  }

  getChildren(path: string, watch?: Watcher): Promise<string[]> {
    return this.client.getChildren(path, watch);
  }

  setData(path: string, data: Buffer | null, version = -1): Promise<Stat> {
    return this.client.setData(path, data, version);
  }

  /** Results of a multi with each setData's new Stat. Throws MultiError when any op fails. */
  multi(ops: Op[]) {
    return this.client.multi(ops);
  }

  async createOrSet(path: string, data: Buffer | null): Promise<void> {
    try {
      await this.client.setData(path, data, -1);
    } catch (err) {
      if (!isNoNode(err)) throw err;
      await this.mkdirp(parentOf(path));
      await this.client.create(path, data, { mode: 'persistent' }).catch((e) => (isNodeExists(e) ? this.client.setData(path, data, -1) : Promise.reject(e)));
    }
  }

  /** Creates a persistent path and its missing parents, with null data. */
  async mkdirp(path: string): Promise<void> {
    let current = '';
    for (const part of path.split('/').filter(Boolean)) {
      current += `/${part}`;
      if (await this.client.exists(current)) continue;
      await this.client.create(current, null, { mode: 'persistent' }).catch((e) => (isNodeExists(e) ? undefined : Promise.reject(e)));
    }
  }

  async deleteIfExists(path: string): Promise<void> {
    await this.client.delete(path, -1).catch((e) => (isNoNode(e) ? undefined : Promise.reject(e)));
  }

  async deleteRecursive(path: string): Promise<void> {
    let children: string[];
    try {
      children = await this.client.getChildren(path);
    } catch (err) {
      if (isNoNode(err)) return;
      throw err;
    }
    for (const child of children) await this.deleteRecursive(`${path}/${child}`);
    await this.deleteIfExists(path);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client.close();
  }
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Kafka creates a missing chroot (`host:2181/kafka`) before using it. */
async function ensureChroot(connectString: string, sessionTimeoutMs: number, connectTimeoutMs: number): Promise<void> {
  const slash = connectString.indexOf('/');
  if (slash < 0 || connectString.slice(slash) === '/') return;
  const root = await ZooKeeperClient.connect(connectString.slice(0, slash), { sessionTimeoutMs, connectTimeoutMs });
  try {
    let current = '';
    for (const part of connectString.slice(slash).split('/').filter(Boolean)) {
      current += `/${part}`;
      if (!(await root.exists(current))) await root.create(current, null, { mode: 'persistent' }).catch((e) => (isNodeExists(e) ? undefined : Promise.reject(e)));
    }
  } finally {
    await root.close();
  }
}
