// What the client knows about the cluster: the bootstrap list, one connection per broker, and the
// latest metadata (brokers, topics, partition leaders). Requests for a partition go to its leader;
// admin requests go to the controller when one is known, else to any broker.
import { BrokerConnection, type ConnectionOptions } from './connection.js';
import { BrokerUnreachableError, KafkaClientError, kafkaError } from './errors.js';
import { API } from './versions.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface BrokerInfo extends HostPort {
  nodeId: number;
  rack: string | null;
}

export interface PartitionMetadata {
  partition: number;
  errorCode: number;
  /** -1 when leaderless. */
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
}

export interface TopicMetadata {
  name: string;
  /** 22-character base64 UUID; all-zero (`AAAAAAAAAAAAAAAAAAAAAA`) when the broker has none. */
  topicId: string;
  errorCode: number;
  isInternal: boolean;
  /** Sorted by partition. */
  partitions: PartitionMetadata[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicMetadata[];
}

/** Parses `host1:9092,host2:9093` (IPv6 as `[::1]:9092`). Throws with Kafka's wording. */
export function parseBootstrap(list: string): HostPort[] {
  const out: HostPort[] = [];
  for (const raw of list.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const m = /^\[([^\]]+)\]:(\d+)$/.exec(item) ?? /^([^:]+):(\d+)$/.exec(item);
    const port = m ? Number(m[2]) : NaN;
    if (!m || !(port > 0 && port < 65536)) {
      throw new KafkaClientError(`Invalid url in bootstrap.servers: ${item}`, { javaName: 'ConfigException' });
    }
    out.push({ host: m[1], port });
  }
  if (out.length === 0) throw new KafkaClientError('No resolvable bootstrap urls given in bootstrap.servers', { javaName: 'ConfigException' });
  return out;
}

export interface ClusterOptions extends ConnectionOptions {
  /** How long to keep trying to reach a first broker. */
  bootstrapTimeoutMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Socket errors that mean nothing listens at the address (or the name does not resolve). */
const REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND']);

export class Cluster {
  private readonly byNode = new Map<number, Promise<BrokerConnection>>();
  private readonly byAddress = new Map<string, Promise<BrokerConnection>>();
  /** Group coordinator connections, apart from the data ones (see coordinator()). */
  private readonly coordinatorConns = new Map<number, Promise<BrokerConnection>>();
  private bootstrapConn: BrokerConnection | null = null;
  metadata: ClusterMetadata = { clusterId: null, controllerId: -1, brokers: [], topics: [] };
  private closed = false;
  /** Whether any broker ever answered this client (then a refusal is a restart, worth waiting for). */
  private everConnected = false;

  constructor(
    readonly bootstrapText: string,
    private readonly bootstrap: HostPort[],
    readonly opts: ClusterOptions,
  ) {}

  /** Any live connection, reaching for the bootstrap list (retrying until the budget ends). */
  async any(): Promise<BrokerConnection> {
    if (this.bootstrapConn && !this.bootstrapConn.closed) return this.bootstrapConn;
    for (const b of this.metadata.brokers) {
      const existing = this.byAddress.get(`${b.host}:${b.port}`);
      if (existing) {
        const c = await existing.catch(() => null);
        if (c && !c.closed) return (this.bootstrapConn = c);
      }
    }
    const started = Date.now();
    let lastError = '';
    let delay = 100;
    for (;;) {
      // Addresses that refused the connection (or do not resolve) this round: nobody is there.
      const refused: string[] = [];
      for (const hp of this.bootstrap) {
        const remaining = this.opts.bootstrapTimeoutMs - (Date.now() - started);
        try {
          const c = await this.connectTo(hp, Math.max(100, Math.min(this.opts.connectTimeoutMs, remaining)));
          this.bootstrapConn = c;
          this.everConnected = true;
          return c;
        } catch (err) {
          // A refused authentication or TLS handshake will not succeed by retrying: fail at once, as Kafka's clients do.
          if (err instanceof KafkaClientError && /^(Sasl|Ssl|UnsupportedSasl)/.test(err.javaName ?? '')) throw err;
          lastError = (err as Error).message;
          if (REFUSED.has((err as KafkaClientError).socketCode ?? '')) refused.push(lastError);
        }
      }
      const elapsed = Date.now() - started;
      // A tool's first connect fails at once when every address refused: waiting would not make a
      // broker appear, and a mistyped port should cost no 10 s. Once connected, a refusal is a
      // broker restarting, and the client waits for it within the budget as before.
      if (!this.everConnected && refused.length === this.bootstrap.length && refused.length > 0) {
        throw new BrokerUnreachableError(this.bootstrapText, elapsed, [...new Set(refused)].join('; '), 'refused');
      }
      if (this.closed || elapsed >= this.opts.bootstrapTimeoutMs) {
        throw new BrokerUnreachableError(this.bootstrapText, elapsed, lastError);
      }
      await sleep(Math.min(delay, this.opts.bootstrapTimeoutMs - elapsed));
      delay = Math.min(delay * 2, 1000);
    }
  }

  /** The connection to broker `nodeId` (from metadata). */
  async node(nodeId: number): Promise<BrokerConnection> {
    let p = this.byNode.get(nodeId);
    if (p) {
      const c = await p.catch(() => null);
      if (c && !c.closed) return c;
      this.byNode.delete(nodeId);
    }
    let broker = this.metadata.brokers.find((b) => b.nodeId === nodeId);
    if (!broker) {
      await this.refresh([]);
      broker = this.metadata.brokers.find((b) => b.nodeId === nodeId);
    }
    if (!broker) throw new KafkaClientError(`Broker ${nodeId} is not in the cluster metadata`, { retriable: true });
    p = this.connectTo(broker, this.opts.connectTimeoutMs);
    this.byNode.set(nodeId, p);
    p.catch(() => this.byNode.delete(nodeId));
    return p;
  }

  /**
   * A connection of its own to broker `nodeId` for group coordinator requests, as Kafka's clients
   * keep one (node id Integer.MAX_VALUE - id). A broker answers each connection's requests in order,
   * so on the shared connection a JoinGroup parked for the whole join phase would hold up fetches
   * and produces, and a long-poll fetch ahead of a JoinGroup, SyncGroup or Heartbeat would hold up
   * the rebalance by its max wait.
   */
  async coordinator(nodeId: number): Promise<BrokerConnection> {
    let p = this.coordinatorConns.get(nodeId);
    if (p) {
      const c = await p.catch(() => null);
      if (c && !c.closed) return c;
      this.coordinatorConns.delete(nodeId);
    }
    if (this.closed) throw new KafkaClientError('The client is closed');
    let broker = this.metadata.brokers.find((b) => b.nodeId === nodeId);
    if (!broker) {
      await this.refresh([]);
      broker = this.metadata.brokers.find((b) => b.nodeId === nodeId);
    }
    if (!broker) throw new KafkaClientError(`Broker ${nodeId} is not in the cluster metadata`, { retriable: true });
    p = BrokerConnection.open(broker.host, broker.port, this.opts);
    this.coordinatorConns.set(nodeId, p);
    p.catch(() => {
      if (this.coordinatorConns.get(nodeId) === p) this.coordinatorConns.delete(nodeId);
    });
    return p;
  }

  /** Where admin requests go: the controller if known and reachable, else any broker. */
  async controller(): Promise<BrokerConnection> {
    if (this.metadata.controllerId < 0 && this.metadata.brokers.length === 0) await this.refresh([]);
    if (this.metadata.controllerId >= 0) {
      try {
        return await this.node(this.metadata.controllerId);
      } catch {
        /* fall back below */
      }
    }
    return this.any();
  }

  private connectTo(hp: HostPort, timeoutMs: number): Promise<BrokerConnection> {
    const key = `${hp.host}:${hp.port}`;
    const existing = this.byAddress.get(key);
    if (existing) {
      return existing.then(
        (c) => (c.closed ? this.openNew(key, hp, timeoutMs) : c),
        () => this.openNew(key, hp, timeoutMs),
      );
    }
    return this.openNew(key, hp, timeoutMs);
  }

  private openNew(key: string, hp: HostPort, timeoutMs: number): Promise<BrokerConnection> {
    if (this.closed) return Promise.reject(new KafkaClientError('The client is closed'));
    const p = BrokerConnection.open(hp.host, hp.port, { ...this.opts, connectTimeoutMs: timeoutMs });
    this.byAddress.set(key, p);
    p.catch(() => {
      if (this.byAddress.get(key) === p) this.byAddress.delete(key);
    });
    return p;
  }

  /**
   * Fetches metadata. `topics`: names to ask for; null = every topic; [] = brokers only.
   * Auto-creation is never requested (v4+); v1-3 brokers may still auto-create named topics.
   */
  async refresh(topics: string[] | null, opts: { allowAutoCreate?: boolean } = {}): Promise<ClusterMetadata> {
    const conn = await this.any();
    const body = await conn.request(API.Metadata, () => ({
      topics: topics === null ? null : topics.map((name) => ({ name, topicId: ZERO_ID })),
      allowAutoTopicCreation: opts.allowAutoCreate ?? false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    }));
    // v13+: a request-level error (REBOOTSTRAP_REQUIRED, KIP-1102) leaves the rest empty.
    if (body.errorCode) throw kafkaError(body.errorCode);
    const md: ClusterMetadata = {
      clusterId: body.clusterId ?? null,
      controllerId: body.controllerId ?? -1,
      brokers: body.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack ?? null })),
      topics: body.topics.map((t) => ({
        // null only for a topic asked for by id, which this client never does.
        name: t.name ?? '',
        topicId: t.topicId ?? ZERO_ID,
        errorCode: t.errorCode,
        isInternal: Boolean(t.isInternal),
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            errorCode: p.errorCode,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch ?? -1,
            replicas: p.replicaNodes ?? [],
            isr: p.isrNodes ?? [],
            offlineReplicas: p.offlineReplicas ?? [],
          }))
          .sort((a, b) => a.partition - b.partition),
      })),
    };
    this.merge(md, topics === null);
    return md;
  }

  /** Keeps brokers and controller from the newest answer; topics merge by name. */
  private merge(md: ClusterMetadata, complete: boolean): void {
    const topics = new Map(complete ? [] : this.metadata.topics.map((t) => [t.name, t]));
    for (const t of md.topics) topics.set(t.name, t);
    this.metadata = { clusterId: md.clusterId, controllerId: md.controllerId, brokers: md.brokers, topics: [...topics.values()] };
  }

  topic(name: string): TopicMetadata | undefined {
    return this.metadata.topics.find((t) => t.name === name);
  }

  /** Metadata for `name`, refreshed when unknown or `force`; throws UNKNOWN_TOPIC_OR_PARTITION. */
  async topicMetadata(name: string, force = false): Promise<TopicMetadata> {
    let t = force ? undefined : this.topic(name);
    if (!t || t.errorCode !== 0) {
      await this.refresh([name]);
      t = this.topic(name);
    }
    if (!t) throw kafkaError(3);
    if (t.errorCode !== 0) throw kafkaError(t.errorCode, t.errorCode === 3 ? `Topic '${name}' does not exist` : undefined);
    return t;
  }

  /** The leader of a partition, from current metadata. */
  leaderOf(topic: string, partition: number): number {
    const p = this.topic(topic)?.partitions.find((x) => x.partition === partition);
    return p ? p.leader : -1;
  }

  close(): void {
    this.closed = true;
    for (const p of [...this.byAddress.values(), ...this.byNode.values(), ...this.coordinatorConns.values()]) {
      p.then((c) => c.close(), () => undefined);
    }
    this.byAddress.clear();
    this.coordinatorConns.clear();
    this.byNode.clear();
    this.bootstrapConn?.close();
  }
}

export const ZERO_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
