// The broker process: configuration, storage, topic metadata, group coordinator and listeners.
// `startBroker` is the library entry (tests and users embed it); `kts server-start` is a thin
// command over it.
import { createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { BrokerConfig, type Listener } from '../config/broker-config.js';
import { announcedHost } from './advertised-host.js';
import { readProperties } from '../config/properties.js';
import type { BrokerEndpoint, ClusterMetadata } from '../cluster/cluster-metadata.js';
import type { ZkSession } from '../cluster/zk-session.js';
import { loadMetaProperties, type MetaPropertiesEnsemble, verifyMetaProperties, writeMetaProperties } from '../cluster/meta-properties.js';
import { readStoredClusterId, TopicRegistry } from '../cluster/topic-registry.js';
import { lockDirs } from '../storage/dir-lock.js';
import { checkStoredMetadata } from '../cluster/stored-metadata.js';
import { LogManager, nodeFileSystem, type FileSystem } from '../storage/index.js';
import { MemoryFileSystem } from '../storage/memory-file-system.js';
import type { BrokerContext } from './broker-context.js';
import { GroupCoordinator } from './groups/index.js';
import { producerIdManagerFor } from './producer-ids.js';
import { startTransactionCoordinator, type TransactionCoordinator } from './transactions/index.js';
import { RemoteMarkers, writeMarkerHere } from './transactions/markers.js';
import { TxnVerifier } from './transactions/verification.js';
import { createHandlerRegistry } from './handlers/index.js';
import { parseAsKafka, type AsKafka } from './kafka-releases.js';
import { apiName } from '../protocol/index.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { Connection } from './network/connection.js';
import { RequestDispatcher } from './request-dispatcher.js';
import { FakeClock, type BrokerClock } from './fake-clock.js';
import { Faults } from './faults.js';
import { DEFAULT_RECORDING_LIMIT, formatRecording, RequestRecording, type RecordedRequest } from './request-recording.js';
import { ReplicaManager } from './replication/replica-manager.js';
import { Authorizer } from './auth/authorizer.js';
import { FileAclStore, ZkAclStore } from './auth/acl-store.js';
import { certificateSubject, listenerTls, type ListenerTls } from './security/tls-options.js';
import { userPrincipal, type SecurityProtocol } from './security/principal.js';
import { saslListenerConfig, SaslSession, type SaslListenerConfig } from './security/sasl/session.js';
import type { ScramCredential, ScramMechanism } from './security/sasl/scram.js';
import { FileScramStore, ZkScramStore, type ScramStore } from './security/scram-store.js';
import { interBrokerSecurity } from './security/inter-broker.js';

/** A listener as bound: its name, security protocol, TLS settings and where it is announced. */
interface BoundListener {
  listener: Listener;
  protocol: SecurityProtocol;
  tls?: ListenerTls;
  sasl?: SaslListenerConfig;
  port: number;
  advertised: { host: string; port: number };
}
import { BrokerMetrics } from './metrics/broker-metrics.js';
import type { MetricsServer } from './metrics/metrics-server.js';

export interface BrokerOptions {
  /** A server.properties file (Java properties syntax). */
  configFile?: string;
  /** Settings over the file, as `--override k=v`. */
  overrides?: Record<string, string>;
  /** Shorthand for `log.dirs`. */
  dataDir?: string;
  /**
   * Where the logs and metadata live (the config key kts.storage): 'files' under log.dirs (the
   * default), or 'memory', in this process only — nothing is written to disk and everything is gone
   * once the broker is closed (log.dirs is then only a name).
   */
  storage?: 'files' | 'memory';
  /**
   * Keep the served requests and their answers for `requests()`: true (the newest 1,000), a number
   * (the newest that many) or false. Default: on with storage 'memory' (a broker inside a test), off otherwise.
   */
  recordRequests?: boolean | number;
  /** Shorthands for the PLAINTEXT listener; port 0 picks a free port. */
  host?: string;
  port?: number;
  logLevel?: LogLevel;
  logger?: Logger;
  /** Clock seam for tests. */
  now?: () => number;
  /**
   * 'fake': the broker's time is real time plus what `broker.clock.advance(ms)` adds, for retention,
   * group sessions and transaction timeouts (see BrokerClock). Default 'real'.
   */
  clock?: 'real' | 'fake';
  /**
   * Speak as that Kafka release: advertise and serve exactly its ApiVersions ranges, as far as kts
   * implements them (the config key kts.as.kafka; `kts server-start --as-kafka 4.0`). Default: Kafka
   * 4.4's versions plus the older ones kts also serves.
   */
  asKafka?: AsKafka;
}

export interface BrokerHandle {
  /** The first listener's announced host and bound port. */
  readonly host: string;
  readonly port: number;
  /** `host:port`, what clients pass as bootstrap servers. */
  readonly bootstrap: string;
  readonly dataDir: string;
  /** 'memory' when the logs live in this process (dataDir is then only a name). */
  readonly storage: 'files' | 'memory';
  readonly clusterId: string;
  readonly nodeId: number;
  /** Every listener: its name, security protocol and announced address (port as bound). */
  readonly listeners: readonly { name: string; securityProtocol: SecurityProtocol; host: string; port: number; bootstrap: string }[];
  /** Fault injection: rules that answer matching requests with an error, delay them, drop the connection or hold them. */
  readonly faults: Faults;
  /** With `clock: 'fake'`: moves the broker's time forward (undefined otherwise). */
  readonly clock?: BrokerClock;
  /** The port of the Prometheus metrics endpoint (kts.metrics.port), when it is on. */
  readonly metricsPort?: number;
  /** The requests served so far, oldest first (empty unless recording: see BrokerOptions.recordRequests). */
  requests(): RecordedRequest[];
  /** Forgets the recorded requests. */
  clearRequests(): void;
  /** The recorded requests as a readable trace, one line each. */
  requestTrace(): string;
  close(): Promise<void>;
}

export async function buildBrokerConfig(opts: BrokerOptions, defaults: Readonly<Record<string, string>> = {}): Promise<BrokerConfig> {
  // Defaults (the test kit's) first: the file and the overrides both win over them.
  const props = new Map<string, string>(Object.entries(defaults));
  if (opts.configFile) for (const [k, v] of await readProperties(opts.configFile)) props.set(k, v);
  for (const [k, v] of Object.entries(opts.overrides ?? {})) props.set(k, v);
  if (opts.dataDir !== undefined) props.set('log.dirs', opts.dataDir);
  if (opts.asKafka !== undefined) props.set('kts.as.kafka', opts.asKafka);
  if (opts.storage !== undefined) props.set('kts.storage', opts.storage);
  if (opts.host !== undefined || opts.port !== undefined) {
    props.set('listeners', `PLAINTEXT://${opts.host ?? '127.0.0.1'}:${opts.port ?? 9092}`);
  }
  return new BrokerConfig(props);
}

export async function startBroker(opts: BrokerOptions = {}): Promise<BrokerHandle> {
  return startBrokerWith(opts, {});
}

/** What the library keeps from users: startCluster restarts a broker on the memory files it had. */
export interface BrokerSeams {
  /** With storage 'memory': these files rather than new, empty ones. */
  memoryFiles?: MemoryFileSystem;
  /** Settings under the file and the overrides (the test kit's defaults). */
  defaults?: Readonly<Record<string, string>>;
}

export async function startBrokerWith(opts: BrokerOptions, seams: BrokerSeams): Promise<BrokerHandle> {
  const config = await buildBrokerConfig(opts, seams.defaults);
  const log = opts.logger ?? createLogger({ level: opts.logLevel ?? 'info', component: 'kts.broker' });
  // Bad values and secure-named listeners stop the start (before anything is written); unknown keys
  // are only warned about, in Kafka's words (AbstractConfig.logUnused).
  const unknownKeys = config.validate();
  if (unknownKeys.length > 0) log.warn(`These configurations '[${unknownKeys.join(', ')}]' were supplied but are not used yet.`);
  const inert = config.withoutEffect();
  if (inert.length > 0) log.info(`These Kafka configurations '[${inert.join(', ')}]' are accepted but have no effect in kts.`);
  if (opts.clock !== undefined && opts.clock !== 'real' && opts.clock !== 'fake') throw new TypeError(`clock is 'real' or 'fake', not ${String(opts.clock)}`);
  const fakeClock = opts.clock === 'fake' ? new FakeClock() : undefined;
  const now = fakeClock?.now ?? opts.now ?? Date.now;
  const nodeId = config.nodeId;

  // Start-up order: lock every log dir, bind the listener, check meta.properties, and only then
  // write anything (recovery, checkpoints, the clean-shutdown marker, meta.properties). A start that
  // is refused or cannot bind leaves the directories as they were.
  // In memory the files are this broker's alone: there is no directory to lock and nothing to recover.
  const inMemory = config.getString('kts.storage') === 'memory';
  const fs: FileSystem = inMemory ? (seams.memoryFiles ?? new MemoryFileSystem({ now })) : nodeFileSystem;
  const recordLimit = opts.recordRequests === undefined ? (inMemory ? DEFAULT_RECORDING_LIMIT : 0) : opts.recordRequests === true ? DEFAULT_RECORDING_LIMIT : Number(opts.recordRequests);
  if (!Number.isInteger(recordLimit) || recordLimit < 0) throw new RangeError(`recordRequests must be a boolean or a non-negative integer, not ${String(opts.recordRequests)}`);
  // SCRAM credentials live in the cluster metadata, which opens after the listeners are bound.
  let scramStore: ScramStore | undefined;
  let scramCredential: (mechanism: ScramMechanism, user: string) => Promise<ScramCredential | undefined> = async () => undefined;
  // Key material is read before anything is locked or bound: a listener that cannot serve TLS stops the start.
  const listenerSetups = await Promise.all(
    config.listeners.map(async (listener) => {
      const protocol = config.listenerProtocol(listener.name);
      const tls = protocol === 'SSL' || protocol === 'SASL_SSL' ? await listenerTls(listener.name, (k) => config.listenerValue(listener.name, k)) : undefined;
      const sasl = protocol.startsWith('SASL_') ? saslListenerConfig(config, listener.name, (m, user) => scramCredential(m, user), log, now) : undefined;
      return { listener, protocol, tls, sasl };
    }),
  );
  const locks = inMemory ? [] : await lockDirs(config.logDirs, 'broker', log.child('log'));
  // Connections accepted before the request handlers exist are held (unread: their bytes wait in the
  // socket) and served once the broker is ready; without a listener they were never answered.
  const early: [Socket, BoundListener][] = [];
  const dropEarly = (socket: Socket) => socket.destroy();
  let accept = (socket: Socket, bound: BoundListener) => {
    socket.on('error', dropEarly);
    early.push([socket, bound]);
  };
  // With ZooKeeper, brokers reach each other with the inter-broker listener's TLS/SASL: its keys are
  // checked (and its files read) now, before anything is bound. A lone broker never connects to another.
  const interBroker = config.getString('zookeeper.connect').trim() ? interBrokerSecurity(config) : undefined;
  const interBrokerClient = () => interBroker?.security();
  const bound: BoundListener[] = [];
  let servers: Server[] = [];
  let logs: LogManager | undefined;
  let zookeeper: ZooKeeperJoin | undefined;
  let topics: ClusterMetadata;
  let topicsOpened: ClusterMetadata | undefined;
  let groups: GroupCoordinator;
  let txnCoordinator: TransactionCoordinator | undefined;
  let remoteMarkers: RemoteMarkers | undefined;
  // Declared before the start so that markers written by a reloaded transaction (which may run
  // before the replica manager exists) read undefined rather than hitting the temporal dead zone.
  let replication: ReplicaManager | undefined;
  let authorizer: Authorizer | undefined;
  let advertised: { host: string; port: number };
  try {
    for (const setup of listenerSetups) {
      const { listener } = setup;
      const entry: BoundListener = { ...setup, port: 0, advertised: { host: '', port: 0 } };
      const listening = await listen(listener, setup.tls, (socket) => accept(socket, entry));
      servers.push(...listening);
      entry.port = (listening[0].address() as { port: number }).port;
      const advertisedListener = config.advertisedListeners.find((l) => l.name === listener.name) ?? listener;
      entry.advertised = {
        host: await announcedHost(advertisedListener.host),
        port: advertisedListener.port === 0 || advertisedListener === listener ? entry.port : advertisedListener.port,
      };
      bound.push(entry);
    }
    // Other brokers (replication, transaction markers) reach this one on the inter-broker listener.
    advertised = (bound.find((b) => b.listener.name === config.interBrokerListenerName) ?? bound[0]).advertised;
    const endpoints = Object.fromEntries(bound.map((b) => [b.listener.name, b.advertised]));
    const meta = await loadMetaProperties(config.logDirs, fs);
    const connect = config.getString('zookeeper.connect').trim();
    // The cluster id meta.properties must name: the embedded metadata's, or ZooKeeper's /cluster/id.
    const metaClusterId = verifyMetaProperties(meta, { nodeId, clusterId: connect ? undefined : await readStoredClusterId(config, fs) });
    if (connect) zookeeper = await joinZooKeeper(connect, config, log, meta);
    // The embedded store's file against the partition dirs, before the logs are opened: a refusal then
    // leaves every file as it was. (With ZooKeeper the topics are not in the data dir.)
    if (!connect) await checkStoredMetadata(config, fs);
    const maxOpenFiles = config.getNumber('kts.log.open.files.max');
    logs = await LogManager.open({
      logDirs: config.logDirs,
      defaults: config.logConfig(),
      now,
      logger: log.child('log'),
      fs,
      // Memory files hold no descriptors: no bound to keep, no idle sweep to run.
      openFiles: inMemory
        ? { maxOpen: 2 ** 30, idleMs: 0 }
        : { maxOpen: maxOpenFiles > 0 ? maxOpenFiles : undefined, idleMs: config.getNumber('kts.log.open.files.idle.ms') },
    });
    topics = topicsOpened = await openClusterMetadata(
      config,
      logs,
      log,
      { nodeId, host: advertised.host, port: advertised.port, rack: config.get('broker.rack') ?? null, listeners: endpoints },
      zookeeper,
      metaClusterId,
    );
    await writeMetaProperties(config.logDirs, meta, topics.clusterId, nodeId, fs);
    // SCRAM credentials live where the topics do: ZooKeeper (/config/users) or the first log dir.
    const credentials: ScramStore = zookeeper ? new ZkScramStore(zookeeper.zk) : await FileScramStore.open(config.logDirs[0], fs);
    scramStore = credentials;
    scramCredential = (m, user) => credentials.get(m, user);
    // ACLs live where the topics do: ZooKeeper (Kafka's /kafka-acl layout) or the first log dir.
    if (config.getString('authorizer.class.name').trim() !== '') {
      const store = zookeeper ? await ZkAclStore.open(zookeeper.zk, now, (m) => log.warn(m)) : new FileAclStore(config.logDirs[0], fs);
      authorizer = new Authorizer(config, store);
      await authorizer.reload();
    }
    groups = await GroupCoordinator.start({ logs, topics, config, now, scheduler: fakeClock, log: log.child('group'), nodeId, replication: () => replication });
    const openedLogs = logs;
    const markerBroker = { nodeId, logs, topics, now, groups, config, get replication() { return replication; } };
    remoteMarkers = new RemoteMarkers(markerBroker, interBrokerClient);
    const sendMarkers = remoteMarkers;
    txnCoordinator = await startTransactionCoordinator({
      logs,
      topics,
      config,
      now,
      log: log.child('transaction'),
      nodeId,
      generateProducerId: () => producerIdManagerFor({ config, topics, logs: openedLogs }).generate(),
      // Partitions another broker leads get their markers through WriteTxnMarkers.
      replication: () => replication,
      writeMarker: (m) => {
        const leader = topics.partitionState(m.topic, m.partition)?.leader ?? nodeId;
        return leader >= 0 && leader !== nodeId ? sendMarkers.write(m, leader) : writeMarkerHere(markerBroker, m);
      },
    });
  } catch (err) {
    // Whatever was opened is closed as a stop would (the logs write their checkpoints and the
    // clean-shutdown marker again), and the locks go: a failed start leaves the dirs released and
    // as the last clean stop left them.
    for (const server of servers) server.close();
    for (const [socket] of early) socket.destroy();
    await txnCoordinator?.close().catch(() => {});
    await authorizer?.close().catch(() => {});
    remoteMarkers?.close();
    await topicsOpened?.close().catch((e) => log.error(`Closing the topic metadata after a failed start: ${(e as Error).message}`));
    await logs?.close().catch((e) => log.error(`Closing the logs after a failed start: ${(e as Error).message}`));
    await zookeeper?.zk.close().catch(() => {});
    await Promise.allSettled(locks.map((l) => l.release()));
    throw err;
  }

  // ZooKeeper mode: followers copy their leaders' logs, leaders track the ISR and high watermark.
  replication = topics.onStatesChanged ? await ReplicaManager.start({ nodeId, config, logs, topics, log: log.child('replica'), now, interBrokerSecurity: interBrokerClient }) : undefined;
  // Counting costs a few additions per request: done only when someone can read the counts.
  const metricsPort = config.getNumber('kts.metrics.port');
  const metrics = metricsPort >= 0 ? new BrokerMetrics() : undefined;
  const txnVerifier = new TxnVerifier({ nodeId, topics, txnCoordinator, log: log.child('transaction') }, interBrokerClient);
  const context: BrokerContext = {
    nodeId,
    clusterId: topics.clusterId,
    config,
    logs,
    topics,
    groups,
    txnCoordinator,
    txnVerifier,
    replication,
    authorizer,
    scram: scramStore,
    log,
    interBrokerSecurity: interBrokerClient,
    advertised,
    now,
    metrics,
  };
  // Kafka's coordinator drops the committed offsets of deleted partitions (tombstones included).
  topics.onTopicDeleted((topic) => groups.onTopicDeleted(topic));
  if (metrics) {
    topics.onTopicDeleted(async (topic) => metrics.topicDeleted(topic));
  }

  const registry = createHandlerRegistry(parseAsKafka(config.getString('kts.as.kafka')));
  if (registry.asKafka) {
    const gaps = registry.gaps().filter((g) => g.kts !== null);
    log.info(
      `Speaking as Kafka ${registry.asKafka}: its ApiVersions ranges for the APIs kts implements` +
        (gaps.length ? `; served narrower than Kafka ${registry.asKafka}: ${gaps.map((g) => `${apiName(g.apiKey)} ${g.release[0]}-${g.release[1]} (kts ${g.kts![0]}-${g.kts![1]})`).join(', ')}` : ''),
    );
  }
  const faults = new Faults();
  const recording = recordLimit > 0 ? new RequestRecording(recordLimit) : undefined;
  const dispatcher = new RequestDispatcher(context, registry, { faults, recording, metrics });
  const connections = new Set<Connection>();
  const perIp = new Map<string, number>();
  let nextConnectionId = 0;
  const maxConnections = config.getNumber('max.connections');
  const maxPerIp = config.getNumber('max.connections.per.ip');

  const onSocket = (socket: Socket, listener: BoundListener) => {
    const ip = socket.remoteAddress ?? '?';
    if (connections.size >= maxConnections || (perIp.get(ip) ?? 0) >= maxPerIp) {
      log.warn(`Refusing connection from ${ip}: connection limit reached (max.connections=${maxConnections}, max.connections.per.ip=${maxPerIp})`);
      socket.destroy();
      return;
    }
    // Kafka's default principal for SSL: the client certificate's subject through
    // ssl.principal.mapping.rules, else ANONYMOUS; a subject no rule maps fails the authentication.
    const subject = listener.protocol === 'SSL' ? certificateSubject(socket as TLSSocket) : undefined;
    const sslName = subject === undefined ? undefined : listener.tls!.principalMapper.map(subject);
    if (subject !== undefined && sslName === undefined) {
      log.warn(`Closing the connection from ${ip} on ${listener.listener.name}: failed to map name for '${subject}' based on SSL principal mapping rules (${listener.tls!.principalMapper})`);
      socket.destroy();
      return;
    }
    perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
    const connection = new Connection(socket, {
      id: nextConnectionId++,
      maxFrameSize: config.getNumber('socket.request.max.bytes'),
      idleTimeoutMs: config.getNumber('connections.max.idle.ms'),
      log,
      listenerName: listener.listener.name,
      securityProtocol: listener.protocol,
      handleFrame: (frame, conn) => dispatcher.dispatch(frame, conn),
    });
    if (listener.sasl) {
      // Until it authenticates, and while it re-authenticates: requests of at most sasl.server.max.receive.size, ApiVersions (before a first handshake) and SASL only.
      const maxFrameSize = config.getNumber('socket.request.max.bytes');
      const unauthenticatedMaxFrameSize = Math.min(listener.sasl.maxReceiveSize, maxFrameSize);
      connection.setMaxFrameSize(unauthenticatedMaxFrameSize);
      connection.sasl = new SaslSession(
        listener.sasl,
        (authorizationId) => {
          connection.principal = userPrincipal(authorizationId);
          connection.setMaxFrameSize(maxFrameSize);
        },
        () => connection.setMaxFrameSize(unauthenticatedMaxFrameSize),
      );
    }
    if (sslName !== undefined) connection.principal = userPrincipal(sslName);
    connections.add(connection);
    if (metrics) metrics.connectionsCreated++;
    connection.socket.on('close', () => {
      connections.delete(connection);
      if (metrics) metrics.connectionsClosed++;
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left === 0) perIp.delete(ip);
      else perIp.set(ip, left);
    });
  };
  accept = onSocket;
  for (const [socket, listener] of early.splice(0)) {
    socket.off('error', dropEarly);
    if (!socket.destroyed) onSocket(socket, listener);
  }

  // Retention and the time-based flush (flush.ms / log.flush.interval.ms) are checked together. As in
  // Kafka, log.flush.scheduler.interval.ms says how often the flusher looks (default: never), so a
  // user who sets it gets flush.ms honoured without waiting for the 5-minute retention check.
  const maintenanceMs = Math.max(
    10,
    Math.min(config.getNumber('log.retention.check.interval.ms'), config.getNumber('log.flush.scheduler.interval.ms'), 2 ** 31 - 1),
  );
  let maintenanceRunning = false;
  const maintenance = setInterval(() => {
    if (maintenanceRunning) return;
    maintenanceRunning = true;
    logs
      .runMaintenance()
      .catch((err) => log.error(`Log maintenance failed: ${(err as Error).message}`))
      .finally(() => (maintenanceRunning = false));
  }, maintenanceMs);
  maintenance.unref();
  fakeClock?.onAdvance(() => logs.runMaintenance());
  fakeClock?.onAdvance(async () => txnCoordinator?.abortTimedOutTransactions());
  logs.startScrub(config.getNumber('kts.log.scrub.bytes.per.sec'));
  // The log cleaner (cleanup.policy=compact); the keys' defaults are Kafka's (broker-configs.ts).
  if (config.getBoolean('log.cleaner.enable')) {
    await logs.startCleaner({
      backoffMs: config.getNumber('log.cleaner.backoff.ms'),
      dedupeBufferBytes: config.getNumber('log.cleaner.dedupe.buffer.size'),
      maxIoBytesPerSecond: config.getNumber('log.cleaner.io.max.bytes.per.second'),
    });
  }

  let metricsServer: MetricsServer | undefined;
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      log.info(`[KafkaServer id=${nodeId}] shutting down`);
      // Still serving meanwhile: producers see NOT_LEADER_OR_FOLLOWER once a partition moved, and
      // find its new leader with one metadata refresh.
      if (replication && topics.controlledShutdown && config.getBoolean('controlled.shutdown.enable')) {
        // Kafka gives up after controlled.shutdown.max.retries attempts, retry.backoff.ms apart.
        const timeoutMs = Math.max(1, config.getNumber('controlled.shutdown.max.retries')) * config.getNumber('controlled.shutdown.retry.backoff.ms');
        try {
          const { moved, remaining } = await topics.controlledShutdown(timeoutMs);
          if (moved) log.info(`[KafkaServer id=${nodeId}] Controlled shutdown succeeded`);
          else log.warn(`[KafkaServer id=${nodeId}] Controlled shutdown did not move ${remaining.length} partition(s) within ${timeoutMs} ms (${remaining.slice(0, 5).join(', ')}); proceeding to do an unclean shutdown`);
        } catch (err) {
          log.warn(`[KafkaServer id=${nodeId}] Controlled shutdown failed: ${(err as Error).message}; proceeding with the shutdown`);
        }
      }
      clearInterval(maintenance);
      await metricsServer?.close();
      // Held and delayed requests end now: their connections close below.
      faults.close();
      fakeClock?.close();
      for (const server of servers) server.close();
      for (const connection of connections) connection.close();
      // Marker requests in flight to other brokers fail at once; what was prepared completes after the next start.
      const txnClosing = txnCoordinator?.close();
      remoteMarkers?.close();
      txnVerifier.close();
      await txnClosing;
      await groups.close();
      await replication?.close();
      await authorizer?.close();
      await topics.close();
      try {
        await logs.close();
      } finally {
        await Promise.allSettled(locks.map((l) => l.release()));
      }
      log.info(`[KafkaServer id=${nodeId}] shut down completed`);
    })());

  if (metrics) {
    const { startMetricsServer } = await import('./metrics/metrics-server.js');
    const host = config.getString('kts.metrics.host').trim();
    try {
      metricsServer = await startMetricsServer({ broker: context, metrics, connectionCount: () => connections.size }, host === '' ? '::' : host, metricsPort);
    } catch (err) {
      // The broker is serving already: the start fails as a whole, leaving nothing running.
      await close();
      throw err;
    }
    const shown = metricsServer.host.includes(':') ? `[${metricsServer.host}]` : metricsServer.host;
    log.info(`Metrics served at http://${shown}:${metricsServer.port}/metrics (kts.metrics.port)`);
  }

  log.info(`[KafkaServer id=${nodeId}] started (kafka.server.KafkaServer)`);

  const first = bound[0];
  const hostPort = (host: string, port: number) => `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    host: first.advertised.host,
    port: first.port,
    bootstrap: hostPort(first.advertised.host, first.port),
    listeners: bound.map((b) => ({ name: b.listener.name, securityProtocol: b.protocol, host: b.advertised.host, port: b.port, bootstrap: hostPort(b.advertised.host, b.port) })),
    dataDir: config.logDirs[0],
    storage: inMemory ? 'memory' : 'files',
    clusterId: topics.clusterId,
    nodeId,
    faults,
    clock: fakeClock,
    metricsPort: metricsServer?.port,
    requests: () => recording?.list() ?? [],
    clearRequests: () => recording?.clear(),
    requestTrace: () => formatRecording(recording?.list() ?? []),
    close,
  };
}

interface ZooKeeperJoin {
  zk: ZkSession;
  clusterId: string;
}

/** Connects to ZooKeeper and learns the cluster id, refusing another cluster's data, before the logs open. */
async function joinZooKeeper(connect: string, config: BrokerConfig, log: Logger, meta: MetaPropertiesEnsemble): Promise<ZooKeeperJoin> {
  const { ZkSession } = await import('../cluster/zk-session.js');
  const { joinClusterId } = await import('../cluster/zk-cluster-metadata.js');
  const sessionTimeoutMs = config.getNumber('zookeeper.session.timeout.ms');
  const zk = await ZkSession.connect(connect, sessionTimeoutMs, config.getNumber('zookeeper.connection.timeout.ms'), log.child('zookeeper'));
  try {
    const withId = [...meta.values()].find((m) => m.clusterId !== undefined);
    return { zk, clusterId: await joinClusterId(zk, withId && { clusterId: withId.clusterId!, path: withId.path }) };
  } catch (err) {
    await zk.close();
    throw err;
  }
}

/** The embedded store, or ZooKeeper in Kafka's layout when `zookeeper.connect` is set. */
async function openClusterMetadata(
  config: BrokerConfig,
  logs: LogManager,
  log: Logger,
  self: BrokerEndpoint,
  zookeeper: ZooKeeperJoin | undefined,
  metaClusterId: string | undefined,
): Promise<ClusterMetadata> {
  if (!zookeeper) {
    const registry = await TopicRegistry.open(config, logs, log.child('cluster'), metaClusterId);
    registry.setSelf(self);
    return registry;
  }
  const { ZkClusterMetadata } = await import('../cluster/zk-cluster-metadata.js');
  const { zk, clusterId } = zookeeper;
  return ZkClusterMetadata.open({ zk, config, logs, log: log.child('cluster'), self, sessionTimeoutMs: config.getNumber('zookeeper.session.timeout.ms'), clusterId });
}

/**
 * A TLS listener: connections are handed on once their handshake is done. With
 * ssl.client.auth=requested a client may come without a certificate, but one whose certificate the
 * truststore does not vouch for is dropped, as Java's wantClientAuth fails that handshake.
 */
function tlsServer(createTlsServer: typeof import('node:tls').createServer, tls: ListenerTls, onConnection: (socket: Socket) => void): Server {
  const server = createTlsServer({ ...tls.options, noDelay: true } as never, (socket: TLSSocket) => {
    if (tls.clientAuth === 'requested' && !socket.authorized && socket.getPeerX509Certificate() !== undefined) {
      socket.destroy();
      return;
    }
    onConnection(socket);
  });
  // A failed handshake (a wrong certificate, a plaintext client) ends that socket only, once its alert is out.
  server.on('tlsClientError', (_err, socket) => socket.end());
  return server;
}

/**
 * Binds a listener. `localhost` binds both loopback addresses (clients may resolve it to either);
 * an empty host binds every interface, as Kafka does for `PLAINTEXT://:9092`.
 */
async function listen(listener: Listener, tls: ListenerTls | undefined, onConnection: (socket: Socket) => void): Promise<Server[]> {
  const hosts = listener.host === 'localhost' ? ['127.0.0.1', '::1'] : [listener.host === '' ? '::' : listener.host];
  const servers: Server[] = [];
  let port = listener.port;
  // node:tls is loaded by a TLS listener only (a plaintext broker's idle RSS is ~0.3 MB less).
  const createTlsServer = tls ? (await import('node:tls')).createServer : undefined;
  for (const [i, host] of hosts.entries()) {
    const server = tls && createTlsServer ? tlsServer(createTlsServer, tls, onConnection) : createServer({ noDelay: true }, onConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, backlog: 1024 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      // The second loopback (::1) is optional: some machines have no IPv6.
      if (i > 0) continue;
      throw new Error(`Unable to bind ${host}:${port}: ${(err as Error).message}`);
    }
    port = (server.address() as { port: number }).port;
    servers.push(server);
  }
  return servers;
}
