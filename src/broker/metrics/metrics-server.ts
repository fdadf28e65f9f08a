// `kts.metrics.port`: the broker's metrics in Prometheus' text format at /metrics. Off by default;
// it binds `kts.metrics.host` (loopback unless given). The counters come from BrokerMetrics; the
// gauges are read at each scrape from what the broker already holds (no scan of any log's bytes).
//
// Names: Kafka's JMX metric as Prometheus' jmx_exporter rules for Kafka spell it, so dashboards
// built for a JMX-exported Kafka find them:
//   kafka.<domain>:type=<Type>,name=<Name>[PerSec],<k>=<v>  ->  kafka_<domain>_<type>_<name>{<k>="<v>"}
// lower-cased, with `_total` for Kafka's meters (counters), the gauge's name as is, and seconds for
// times (a histogram). What Kafka has no JMX metric for uses the Prometheus clients' names
// (process_*, nodejs_*) or else kts_*. The list is in the README ("Metrics").
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { apiName } from '../../protocol/index.js';
import type { BrokerContext } from '../broker-context.js';
import { LATENCY_BUCKETS_MS, type BrokerMetrics } from './broker-metrics.js';
import { CONTENT_TYPE, PrometheusText } from './prometheus-text.js';

export interface MetricsSources {
  broker: BrokerContext;
  metrics: BrokerMetrics;
  /** Open client connections (on every listener). */
  connectionCount(): number;
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** The text a scrape gets now. */
  render(): string;
  close(): Promise<void>;
}

const GROUP_STATE_METRICS: [string, string][] = [
  ['Stable', 'numgroupsstable'],
  ['Empty', 'numgroupsempty'],
  ['PreparingRebalance', 'numgroupspreparingrebalance'],
  ['CompletingRebalance', 'numgroupscompletingrebalance'],
  ['Dead', 'numgroupsdead'],
];

export async function startMetricsServer(sources: MetricsSources, host: string, port: number): Promise<MetricsServer> {
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const startedAt = Date.now() - process.uptime() * 1000;
  const render = () => renderMetrics(sources, loopDelay, startedAt);
  const server = createServer((req, res) => serve(req, res, render));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: Error) => {
    loopDelay.disable();
    throw new Error(`Unable to bind the metrics port ${host}:${port} (kts.metrics.port): ${err.message}`);
  });
  return {
    host,
    port: (server.address() as { port: number }).port,
    render,
    close: () => closeServer(server, loopDelay),
  };
}

function serve(req: IncomingMessage, res: ServerResponse, render: () => string): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: the metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  let body: string;
  try {
    body = render();
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(err as Error).message}\n`);
    return;
  }
  res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function closeServer(server: Server, loopDelay: IntervalHistogram): Promise<void> {
  loopDelay.disable();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export function renderMetrics(sources: MetricsSources, loopDelay: IntervalHistogram, startedAt: number): string {
  const { broker, metrics } = sources;
  const out = new PrometheusText();
  const ms = 1000;

  // Requests per API: Kafka's RequestMetrics RequestsPerSec and TotalTimeMs (here a histogram in seconds).
  const requests = [...metrics.requests()];
  out.family('kafka_network_requestmetrics_requests_total', 'counter', 'Requests answered, per API (Kafka: kafka.network:type=RequestMetrics,name=RequestsPerSec).');
  for (const r of requests) out.sample('kafka_network_requestmetrics_requests_total', r.cumulative[r.cumulative.length - 1], { request: requestName(r.apiKey) });
  out.family('kafka_network_requestmetrics_totaltime_seconds', 'histogram', 'Time from a request read to its answer, per API (Kafka: TotalTimeMs; a Fetch long poll included).');
  for (const r of requests) {
    const request = requestName(r.apiKey);
    LATENCY_BUCKETS_MS.forEach((le, i) => out.sample('kafka_network_requestmetrics_totaltime_seconds_bucket', r.cumulative[i], { request, le: le / ms }));
    const count = r.cumulative[r.cumulative.length - 1];
    out.sample('kafka_network_requestmetrics_totaltime_seconds_bucket', count, { request, le: '+Inf' });
    out.sample('kafka_network_requestmetrics_totaltime_seconds_sum', r.sumMs / ms, { request });
    out.sample('kafka_network_requestmetrics_totaltime_seconds_count', count, { request });
  }

  // Per topic: Kafka's BrokerTopicMetrics (the broker-wide value is their sum).
  const topicCounters = [...metrics.topics()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const perTopic: [string, keyof (typeof topicCounters)[number][1], string][] = [
    ['kafka_server_brokertopicmetrics_bytesin_total', 'bytesIn', 'Bytes of record batches produced to the topic, as received (BytesInPerSec).'],
    ['kafka_server_brokertopicmetrics_messagesin_total', 'messagesIn', 'Records appended to the topic (MessagesInPerSec).'],
    ['kafka_server_brokertopicmetrics_bytesout_total', 'bytesOut', 'Bytes of record batches fetched by consumers (BytesOutPerSec).'],
    ['kafka_server_brokertopicmetrics_replicationbytesout_total', 'replicationBytesOut', 'Bytes of record batches fetched by follower replicas (ReplicationBytesOutPerSec).'],
    ['kafka_server_brokertopicmetrics_failedproducerequests_total', 'failedProduce', 'Partitions of Produce requests answered with an error (FailedProduceRequestsPerSec).'],
  ];
  for (const [name, field, help] of perTopic) {
    out.family(name, 'counter', help);
    for (const [topic, c] of topicCounters) out.sample(name, c[field], { topic });
  }

  // Partitions: Kafka's ReplicaManager gauges, and the controller's where this broker is it.
  const nodeId = broker.nodeId;
  const hosted = broker.logs.all();
  let leaders = 0;
  let underReplicated = 0;
  let underMinIsr = 0;
  for (const log of hosted) {
    const state = broker.topics.partitionState(log.topic, log.partition);
    if (!state || state.leader !== nodeId) continue;
    leaders++;
    if (state.isr.length < state.replicas.length) underReplicated++;
    const minIsr = Number(broker.config.topicValue('min.insync.replicas', broker.topics.get(log.topic)?.configs ?? new Map()));
    if (state.isr.length < minIsr) underMinIsr++;
  }
  out.single('kafka_server_replicamanager_partitioncount', 'gauge', 'Partitions with a replica on this broker.', hosted.length);
  out.single('kafka_server_replicamanager_leadercount', 'gauge', 'Partitions this broker leads.', leaders);
  out.single('kafka_server_replicamanager_underreplicatedpartitions', 'gauge', 'Partitions this broker leads whose ISR is smaller than their replica set.', underReplicated);
  out.single('kafka_server_replicamanager_underminisrpartitioncount', 'gauge', 'Partitions this broker leads with fewer in-sync replicas than min.insync.replicas.', underMinIsr);
  const isController = broker.topics.controllerId() === nodeId;
  out.single('kafka_controller_kafkacontroller_activecontrollercount', 'gauge', '1 on the broker that is the controller.', isController ? 1 : 0);
  if (isController) {
    let partitions = 0;
    let offline = 0;
    const topics = broker.topics.list();
    for (const topic of topics) {
      for (let p = 0; p < topic.partitions; p++) {
        partitions++;
        if ((broker.topics.partitionState(topic.name, p)?.leader ?? -1) < 0) offline++;
      }
    }
    out.single('kafka_controller_kafkacontroller_globaltopiccount', 'gauge', 'Topics in the cluster (on the controller).', topics.length);
    out.single('kafka_controller_kafkacontroller_globalpartitioncount', 'gauge', 'Partitions in the cluster (on the controller).', partitions);
    out.single('kafka_controller_kafkacontroller_offlinepartitionscount', 'gauge', 'Partitions without a live leader (on the controller).', offline);
  }

  // Logs: Kafka's kafka.log:type=Log gauges, per partition hosted here.
  const sorted = hosted.slice().sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  const perLog: [string, string, (l: (typeof hosted)[number]) => number][] = [
    ['kafka_log_log_size', 'Bytes of the partition\'s segments (kafka.log:type=Log,name=Size).', (l) => l.size],
    ['kafka_log_log_numlogsegments', 'Segments of the partition (NumLogSegments).', (l) => l.segmentCount],
    ['kafka_log_log_logstartoffset', 'The partition\'s first offset (LogStartOffset).', (l) => l.logStartOffset],
    ['kafka_log_log_logendoffset', 'The partition\'s next offset (LogEndOffset).', (l) => l.logEndOffset],
  ];
  for (const [name, help, value] of perLog) {
    out.family(name, 'gauge', help);
    for (const log of sorted) out.sample(name, value(log), { topic: log.topic, partition: log.partition });
  }

  // Groups this broker coordinates: Kafka's GroupMetadataManager counts, and the lag of their
  // committed offsets on the partitions this broker leads (Kafka's broker has no lag metric;
  // kafka_exporter's kafka_consumergroup_lag is the usual name).
  const groups = broker.groups.listGroups();
  out.single('kafka_coordinator_group_groupmetadatamanager_numgroups', 'gauge', 'Groups this broker coordinates (NumGroups).', groups.length);
  for (const [state, suffix] of GROUP_STATE_METRICS) {
    out.single(`kafka_coordinator_group_groupmetadatamanager_${suffix}`, 'gauge', `Groups in state ${state}.`, groups.filter((g) => g.groupState === state).length);
  }
  out.family('kafka_consumergroup_lag', 'gauge', 'Records between a group\'s committed offset and the high watermark, per partition this broker leads.');
  for (const group of groups.slice().sort((a, b) => (a.groupId < b.groupId ? -1 : 1))) {
    const committed = broker.groups.fetchOffsets(group.groupId, null);
    if (committed.errorCode !== 0) continue;
    for (const t of committed.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== 0 || p.committedOffset < 0) continue;
        const log = broker.logs.get(t.name, p.partitionIndex);
        if (!log || broker.topics.partitionState(t.name, p.partitionIndex)?.leader !== nodeId) continue;
        out.sample('kafka_consumergroup_lag', Math.max(0, log.highWatermark - p.committedOffset), { group: group.groupId, topic: t.name, partition: p.partitionIndex });
      }
    }
  }

  // Connections: Kafka's socket-server-metrics.
  out.single('kafka_server_socket_server_metrics_connection_count', 'gauge', 'Open client connections (connection-count).', sources.connectionCount());
  out.single('kafka_server_socket_server_metrics_connection_creation_total', 'counter', 'Connections accepted (connection-creation-total).', metrics.connectionsCreated);
  out.single('kafka_server_socket_server_metrics_connection_close_total', 'counter', 'Connections closed (connection-close-total).', metrics.connectionsClosed);

  // The process, under the Prometheus clients' names.
  const memory = process.memoryUsage();
  const cpu = process.cpuUsage();
  out.single('process_resident_memory_bytes', 'gauge', 'Resident set size.', memory.rss);
  out.single('process_cpu_seconds_total', 'counter', 'User and system CPU time.', (cpu.user + cpu.system) / 1e6);
  out.single('process_start_time_seconds', 'gauge', 'Start time of the process since the Unix epoch.', Math.round(startedAt / 1000));
  out.single('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap in use.', memory.heapUsed);
  out.single('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap reserved (used, free and the young generation).', memory.heapTotal);
  out.single('nodejs_external_memory_bytes', 'gauge', 'Memory outside the V8 heap held by JS objects (Buffers among them).', memory.external);
  out.single('nodejs_array_buffers_bytes', 'gauge', 'Memory of ArrayBuffers and Buffers (part of the external memory).', memory.arrayBuffers);
  // Event-loop delay since the previous scrape (perf_hooks.monitorEventLoopDelay, 10 ms resolution).
  const ns = 1e9;
  const hasSamples = loopDelay.count > 0;
  out.single('nodejs_eventloop_lag_mean_seconds', 'gauge', 'Mean event-loop delay since the previous scrape.', hasSamples ? loopDelay.mean / ns : 0);
  out.single('nodejs_eventloop_lag_p50_seconds', 'gauge', 'Median event-loop delay since the previous scrape.', hasSamples ? loopDelay.percentile(50) / ns : 0);
  out.single('nodejs_eventloop_lag_p99_seconds', 'gauge', '99th percentile of the event-loop delay since the previous scrape.', hasSamples ? loopDelay.percentile(99) / ns : 0);
  out.single('nodejs_eventloop_lag_max_seconds', 'gauge', 'Longest event-loop delay since the previous scrape.', hasSamples ? loopDelay.max / ns : 0);
  loopDelay.reset();
  return out.toString();
}

function requestName(apiKey: number): string {
  return apiName(apiKey) ?? `ApiKey${apiKey}`;
}
