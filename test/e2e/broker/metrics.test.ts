// kts.metrics.port: /metrics scraped while kafkajs produces and kcat consumes. The text is parsed
// with Prometheus' own Python client (prometheus_client.parser), and the counters must rise by
// exactly what was produced: records appended, bytes received (= the bytes stored), bytes fetched,
// requests answered; a group's lag falls to zero once its consumer has committed.
import { execFileSync } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { kcat } from '../../helpers/kcat.js';
import { run } from '../../helpers/kcat.js';
import { interopRequired, kcatPath } from '../../helpers/tools.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

// The parser: prometheus_client's text_string_to_metric_families (installed by .ci/run with pip).
const PARSER = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
docs = []
for text in sys.stdin.read().split(chr(0)):
    out = []
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.append({"family": family.name, "type": family.type, "name": s.name, "labels": s.labels, "value": s.value})
    docs.append(out)
print(json.dumps(docs))
`;

function hasPrometheusClient(): boolean {
  try {
    execFileSync('python3', ['-c', 'import prometheus_client.parser'], { stdio: 'ignore' });
    return true;
  } catch {
    if (interopRequired) throw new Error('python3 with prometheus_client is required (KTS_REQUIRE_INTEROP=1): pip install prometheus_client');
    return false;
  }
}

const ready = hasPrometheusClient() && kcatPath() !== null;

type Parsed = (Sample & { family: string; type: string })[];

/** Parses several scrapes in one Python run. */
async function parseAll(texts: string[]): Promise<Parsed[]> {
  const result = await run('python3', ['-c', PARSER], { input: texts.join('\0') });
  if (result.code !== 0) throw new Error(`prometheus_client could not parse the scrape: ${result.stderr}\n${texts.join('\n----\n')}`);
  return JSON.parse(result.stdout);
}

const parse = async (text: string) => (await parseAll([text]))[0];

const sends = 150;
const perSend = 20;

describe.skipIf(!ready)('/metrics (kts.metrics.port)', () => {
  let broker: SpawnedBroker;
  let url: string;
  let kafka: Kafka;

  const scrapeText = async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  const scrape = async () => parse(await scrapeText());
  const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) => {
    const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    return hits.reduce((sum, s) => sum + s.value, 0);
  };

  beforeAll(async () => {
    const metricsPort = await freePort();
    broker = await spawnBroker({ overrides: { 'kts.metrics.port': String(metricsPort) } });
    expect(broker.output()).toContain(`Metrics served at http://127.0.0.1:${metricsPort}/metrics`);
    url = `http://127.0.0.1:${metricsPort}/metrics`;
    kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, clientId: 'metrics-test' });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'load', numPartitions: 3 }] });
    await admin.disconnect();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('counts a produce load exactly, scraped while it runs; the text parses with prometheus_client', async () => {
    const before = await scrape();
    expect(value(before, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'load' })).toBe(0);
    const producer = kafka.producer();
    await producer.connect();
    const textsDuringLoad: string[] = [];
    let producing = true;
    // Scrapes while the producer runs (parsed afterwards, all in one Python run): the counter only ever rises.
    const scraper = (async () => {
      while (producing) textsDuringLoad.push(await scrapeText());
    })();
    for (let i = 0; i < sends; i++) {
      await producer.send({
        topic: 'load',
        acks: 1,
        messages: Array.from({ length: perSend }, (_, j) => ({ key: `k${j}`, value: `value ${i}-${j} ${'x'.repeat(j)}`, headers: { h: 'v' } })),
      });
    }
    producing = false;
    await scraper;
    await producer.disconnect();
    const seenDuringLoad = (await parseAll(textsDuringLoad)).map((samples) => value(samples, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'load' }));
    expect(seenDuringLoad.length).toBeGreaterThan(3);
    expect(seenDuringLoad.some((n) => n > 0 && n < sends * perSend), `scraped mid-load: ${seenDuringLoad.join(' ')}`).toBe(true);
    for (let i = 1; i < seenDuringLoad.length; i++) expect(seenDuringLoad[i]).toBeGreaterThanOrEqual(seenDuringLoad[i - 1]);

    const after = await scrape();
    expect(value(after, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'load' })).toBe(sends * perSend);
    // Batches are stored as received: bytes in = the bytes now in the topic's logs.
    const bytesIn = value(after, 'kafka_server_brokertopicmetrics_bytesin_total', { topic: 'load' });
    expect(bytesIn).toBeGreaterThan(sends * perSend * 10);
    expect(bytesIn).toBe(value(after, 'kafka_log_log_size', { topic: 'load' }));
    expect(value(after, 'kafka_log_log_logendoffset', { topic: 'load' })).toBe(sends * perSend);
    // Every send was one Produce request (one broker, no retries); each is in the latency histogram.
    const produces = value(after, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' });
    expect(produces).toBeGreaterThanOrEqual(sends);
    expect(produces - value(before, 'kafka_network_requestmetrics_requests_total', { request: 'Produce' })).toBe(sends);
    expect(value(after, 'kafka_network_requestmetrics_totaltime_seconds_count', { request: 'Produce' })).toBe(produces);
    expect(value(after, 'kafka_network_requestmetrics_totaltime_seconds_bucket', { request: 'Produce', le: '+Inf' })).toBe(produces);
    expect(value(after, 'kafka_server_brokertopicmetrics_failedproducerequests_total', { topic: 'load' })).toBe(0);

    // The families a dashboard needs are there, with the types Prometheus expects.
    const families = new Map(after.map((s) => [s.family, s.type]));
    expect(families.get('kafka_network_requestmetrics_totaltime_seconds')).toBe('histogram');
    expect(families.get('kafka_server_brokertopicmetrics_bytesin')).toBe('counter');
    for (const gauge of [
      'kafka_server_replicamanager_partitioncount',
      'kafka_server_replicamanager_underreplicatedpartitions',
      'kafka_coordinator_group_groupmetadatamanager_numgroups',
      'kafka_server_socket_server_metrics_connection_count',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(families.get(gauge), gauge).toBe('gauge');
    }
    expect(value(after, 'kafka_server_replicamanager_partitioncount')).toBeGreaterThanOrEqual(3);
    expect(value(after, 'kafka_server_replicamanager_underreplicatedpartitions')).toBe(0);
    expect(value(after, 'process_resident_memory_bytes')).toBeGreaterThan(10e6);
    expect(value(after, 'kafka_server_socket_server_metrics_connection_count')).toBeGreaterThanOrEqual(0);
  });

  it('counts bytes out to kcat, and a group\'s lag falls to zero as it commits', async () => {
    const stored = value(await scrape(), 'kafka_log_log_size', { topic: 'load' });
    const before = value(await scrape(), 'kafka_server_brokertopicmetrics_bytesout_total', { topic: 'load' });
    const out = await kcat(['-b', broker.bootstrap, '-C', '-t', 'load', '-o', 'beginning', '-e', '-q', '-f', '%o\n'], { timeoutMs: 60_000 });
    expect(out.trim().split('\n')).toHaveLength(sends * perSend);
    // Every stored byte went out at least once (kcat may fetch a batch twice across its fetches).
    expect(value(await scrape(), 'kafka_server_brokertopicmetrics_bytesout_total', { topic: 'load' }) - before).toBeGreaterThanOrEqual(stored);

    // A group that committed offset 0 everywhere lags by the whole topic; a consumer brings it to 0.
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: 'lagging', topic: 'load', partitions: [0, 1, 2].map((partition) => ({ partition, offset: '0' })) });
    await admin.disconnect();
    let samples = await scrape();
    expect(value(samples, 'kafka_consumergroup_lag', { group: 'lagging', topic: 'load' })).toBe(sends * perSend);
    expect(value(samples, 'kafka_coordinator_group_groupmetadatamanager_numgroups')).toBeGreaterThanOrEqual(1);
    const consumer = kafka.consumer({ groupId: 'lagging' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'load' });
    let consumed = 0;
    await consumer.run({ eachMessage: async () => void consumed++ });
    const deadline = Date.now() + 30_000;
    for (;;) {
      samples = await scrape();
      if (value(samples, 'kafka_consumergroup_lag', { group: 'lagging' }) === 0) break;
      if (Date.now() > deadline) throw new Error(`lag still ${value(samples, 'kafka_consumergroup_lag', { group: 'lagging' })} after 30 s (consumed ${consumed})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(value(samples, 'kafka_coordinator_group_groupmetadatamanager_numgroupsstable')).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'kafka_server_socket_server_metrics_connection_count')).toBeGreaterThan(0);
    await consumer.disconnect();
  });

  it('answers 404 elsewhere and serves only loopback by default', async () => {
    const res = await fetch(url.replace('/metrics', '/'));
    expect(res.status).toBe(404);
    await res.text();
    expect(url.startsWith('http://127.0.0.1:')).toBe(true);
  });
});

describe('kts.metrics.port validation', () => {
  it('a bad port stops the start with Kafka\'s message', async () => {
    await expect(spawnBroker({ overrides: { 'kts.metrics.port': '70000' }, timeoutMs: 20_000 })).rejects.toThrow(/Invalid value 70000 for configuration kts.metrics.port/);
  });
});
