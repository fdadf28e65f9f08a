// Brokers that reach each other over TLS and SASL (issue 16: security.inter.broker.protocol /
// inter.broker.listener.name). Each cluster has one secured listener and no PLAINTEXT port, so
// replica fetchers must speak it: three brokers, a topic with RF=3 and min.insync.replicas=3, and an
// acks=all produce that only completes when both followers fetched it. Over SSL with
// ssl.client.auth=required the fetchers present the broker's certificate; over SASL_SSL with PLAIN and
// StandardAuthorizer, they log in as the broker user, the only one holding ClusterAction.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, KTS_BIN, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { run } from '../../helpers/kcat.js';
import { spawnCoordinator, waitFor, type SpawnedCoordinator } from '../../helpers/zookeeper.js';
import { makeCerts, tlsOverrides, type Certs } from './support.js';

const IDS = [1, 2, 3];

class SecuredCluster {
  readonly brokers = new Map<number, SpawnedBroker>();
  readonly ports = new Map<number, number>();
  constructor(
    private readonly coordinator: SpawnedCoordinator,
    private readonly chroot: string,
    private readonly protocol: 'SSL' | 'SASL_SSL',
    private readonly overrides: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    for (const id of IDS) this.ports.set(id, await freePort());
    await Promise.all(IDS.map((id) => this.startBroker(id)));
  }

  startBroker(id: number, extra: Record<string, string> = {}): Promise<SpawnedBroker> {
    const port = this.ports.get(id)!;
    return spawnBroker({
      port,
      timeoutMs: 60_000,
      overrides: {
        listeners: `${this.protocol}://127.0.0.1:${port}`,
        'security.inter.broker.protocol': this.protocol,
        'broker.id': String(id),
        'zookeeper.connect': `127.0.0.1:${this.coordinator.port}${this.chroot}`,
        'zookeeper.session.timeout.ms': '10000',
        'replica.fetch.wait.max.ms': '200',
        ...this.overrides,
        ...extra,
      },
    }).then((b) => {
      this.brokers.set(id, b);
      return b;
    });
  }

  get bootstrap(): string {
    return IDS.map((id) => `127.0.0.1:${this.ports.get(id)}`).join(',');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.brokers.values()].map((b) => b.stop()));
  }
}

async function kts(args: string[]): Promise<{ code: number | null; out: string }> {
  const r = await run(process.execPath, [KTS_BIN, ...args], { timeoutMs: 60_000 });
  return { code: r.code, out: r.stdout + r.stderr };
}

/** Each partition's Leader and Isr, as `kts topics --describe` prints them. */
async function describe3(bootstrap: string, config: string, topic: string): Promise<{ leader: number; isr: string }[]> {
  const d = await kts(['topics', '--bootstrap-server', bootstrap, '--command-config', config, '--describe', '--topic', topic]);
  expect(d.code, d.out).toBe(0);
  return [...d.out.matchAll(/Leader: (-?\d+)\s+Replicas: [\d,]+\s+Isr: ([\d,]*)/g)].map((m) => ({ leader: Number(m[1]), isr: m[2].split(',').sort().join(',') }));
}

/** Creates an RF=3 topic that needs all three in sync, produces acks=all, reads it all back. */
async function replicatedRoundtrip(cluster: SecuredCluster, config: string, client: Omit<KafkaConfig, 'brokers'>, topic: string): Promise<void> {
  const created = await kts(['topics', '--bootstrap-server', cluster.bootstrap, '--command-config', config, '--create', '--topic', topic, '--partitions', '3', '--replication-factor', '3', '--config', 'min.insync.replicas=3']);
  expect(created, created.out).toMatchObject({ code: 0 });
  // kafkajs's own log (warnings and up), reported when the read below fails.
  const clientLog: string[] = [];
  const logCreator = () => ({ level, log }: { level: number; log: { message: string; [k: string]: unknown } }) => {
    const { message, timestamp: _t, logger: _l, ...rest } = log;
    clientLog.push(`${new Date().toISOString()} ${level <= logLevel.ERROR ? 'ERROR' : level === logLevel.WARN ? 'WARN' : 'INFO'} ${message} ${JSON.stringify(rest).slice(0, 300)}`);
  };
  const kafka = new Kafka({ ...client, brokers: cluster.bootstrap.split(','), logLevel: logLevel.WARN, logCreator, retry: { retries: 5, initialRetryTime: 200 } });
  // Idempotent: a retry (after a timeout on a loaded machine) is deduplicated by the broker, so the
  // partitions hold each value exactly once and their end offsets can be checked below.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const values = Array.from({ length: 30 }, (_, i) => `${topic}-${i}`);
  try {
    // acks=-1 (kafkajs's default) with three in the ISR: answered once both followers have the records.
    await producer.send({ topic, acks: -1, timeout: 20_000, messages: values.map((value, i) => ({ value, partition: i % 3 })) });
  } finally {
    await producer.disconnect();
  }
  // Each partition holds its ten values once: three end offsets of 10 (a doubled record would show).
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    expect(ends.map((o) => [o.partition, o.high]).sort()).toEqual([[0, '10'], [1, '10'], [2, '10']]);
  } finally {
    await admin.disconnect();
  }
  const partitions = await describe3(cluster.bootstrap, config, topic);
  expect(partitions).toHaveLength(3);
  for (const p of partitions) expect(p.isr).toBe('1,2,3');

  // The followers' copies: the leader of partition 0 goes (controlled shutdown), and every record is
  // still read, partition 0 now from a broker that had it only by fetching over the secured listener.
  const leader = partitions[0].leader;
  await cluster.brokers.get(leader)!.stop();
  const survivors = IDS.filter((id) => id !== leader).map((id) => `127.0.0.1:${cluster.ports.get(id)}`).join(',');
  await waitFor('a new leader for partition 0', async () => {
    const now = await describe3(survivors, config, topic);
    return now.length === 3 && now[0].leader !== leader && now[0].leader >= 0 ? now : null;
  }, 30_000);
  const reader = new Kafka({ ...client, brokers: survivors.split(','), logLevel: logLevel.WARN, logCreator });
  const consumer = reader.consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 200 });
  // Distinct values: a group rebalance may hand a partition over before its position is committed,
  // and the new owner reads it again (at-least-once); what counts is that every value arrives.
  const got = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`consumed ${got.size} of ${values.length}`)), 45_000);
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        clientLog.push(`${new Date().toISOString()} CRASH ${payload.error.message} (restart: ${payload.restart})`);
        if (payload.restart) return; // kafkajs starts the consumer again by itself
        clearTimeout(timer);
        fail(new Error(`the consumer crashed and stopped (${payload.error.message}) after ${got.size} of ${values.length}`));
      });
      void consumer
        .run({
          eachMessage: async ({ message }) => {
            got.add(message.value!.toString());
            if (got.size >= values.length) {
              clearTimeout(timer);
              done();
            }
          },
        })
        .catch(fail);
    });
  } catch (e) {
    // Two concurrent runs once read nothing in 45 s and said only that. A consumer that stops for
    // good fails at once now (a kafkajs whose request modules are gone, as when node_modules is
    // reinstalled under a running test, crashes with "Cannot find module './v5/request'" and
    // restart: false, and used to be waited on in silence); otherwise the brokers' last lines and
    // the client's own log say why.
    const tail = (out: string) => out.trimEnd().split('\n').slice(-25).join('\n');
    throw new Error(`${(e as Error).message}\n--- kafkajs:\n${clientLog.slice(-40).join('\n')}\n${[...cluster.brokers.entries()].map(([id, b]) => `--- broker ${id}:\n${tail(b.output())}`).join('\n')}`);
  } finally {
    await consumer.disconnect();
  }
  expect([...got].sort()).toEqual([...values].sort());
}

let coordinator: SpawnedCoordinator;
let certs: Certs;
const dir = tempDir('kts-inter-broker-');

beforeAll(async () => {
  certs = makeCerts(['alice']);
  coordinator = await spawnCoordinator({ props: { tickTime: 500 } });
}, 60_000);
afterAll(() => coordinator?.stop());

describe('three brokers replicating over SSL (security.inter.broker.protocol=SSL, ssl.client.auth=required)', () => {
  const cluster = () => ssl;
  let ssl: SecuredCluster;
  const config = join(dir, 'ssl.properties');

  beforeAll(async () => {
    writeFileSync(config, `security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=${certs.ca}\nssl.keystore.type=PEM\nssl.keystore.location=${certs.client('alice')}\n`);
    ssl = new SecuredCluster(coordinator, '/ssl', 'SSL', tlsOverrides(certs, 'required'));
    await ssl.start();
  }, 120_000);
  afterAll(() => ssl?.stop(), 60_000);

  it('an acks=all produce to RF=3 with min.insync.replicas=3 completes, the ISR holds all three, and a follower serves the data once the leader stops', async () => {
    const pem = certs.client('alice');
    await replicatedRoundtrip(cluster(), config, { clientId: 'inter-broker-ssl', ssl: { ca: [readText(certs.ca)], cert: readText(pem), key: readText(pem) } }, 'over-ssl');
  }, 180_000);
});

describe('three brokers replicating over SASL_SSL with PLAIN and an authorizer (only the broker user has ClusterAction)', () => {
  let sasl: SecuredCluster;
  const admin = join(dir, 'admin.properties');
  const alice = join(dir, 'alice.properties');
  const jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="broker-secret" user_broker="broker-secret" user_alice="alice-secret";';

  beforeAll(async () => {
    const props = (user: string) => `security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${user}" password="${user}-secret";\nssl.truststore.location=${certs.ca}\n`;
    writeFileSync(admin, props('broker'));
    writeFileSync(alice, props('alice'));
    sasl = new SecuredCluster(coordinator, '/sasl', 'SASL_SSL', {
      ...tlsOverrides(certs, 'none'),
      'sasl.enabled.mechanisms': 'PLAIN',
      'sasl.mechanism.inter.broker.protocol': 'PLAIN',
      'listener.name.sasl_ssl.plain.sasl.jaas.config': jaas,
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:broker',
    });
    await sasl.start();
  }, 120_000);
  afterAll(() => sasl?.stop(), 60_000);

  it('alice, allowed on topics and groups but not ClusterAction, produces acks=all to RF=3 and reads it back after a leader stops', async () => {
    const allowed = await kts(['acls', '--bootstrap-server', sasl.bootstrap, '--command-config', admin, '--add', '--allow-principal', 'User:alice', '--operation', 'All', '--topic', '*', '--group', '*']);
    expect(allowed.code, allowed.out).toBe(0);
    const create = await kts(['acls', '--bootstrap-server', sasl.bootstrap, '--command-config', admin, '--add', '--allow-principal', 'User:alice', '--operation', 'Create', '--cluster']);
    expect(create.code, create.out).toBe(0);
    // Followers fetch as the broker user: alice may not (ClusterAction), so the replication seen below is theirs.
    await replicatedRoundtrip(sasl, alice, { clientId: 'inter-broker-sasl', ssl: { ca: [readText(certs.ca)] }, sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' } }, 'over-sasl-ssl');
  }, 180_000);

  it('a broker whose inter-broker password is wrong cannot follow: it stays out of the ISR and logs the refused login', async () => {
    const id = 3;
    await sasl.brokers.get(id)!.stop();
    const wrong = jaas.replace('password="broker-secret"', 'password="not-it"');
    const broker = await sasl.startBroker(id, { 'listener.name.sasl_ssl.plain.sasl.jaas.config': wrong });
    await waitFor('the refused inter-broker login in broker 3\'s log', () => /ReplicaFetcher leader=\d+\] fetch from 127\.0\.0\.1:\d+ failed: Authentication failed: Invalid username or password/.test(broker.output()), 30_000);
    const partitions = await describe3(sasl.bootstrap, alice, 'over-sasl-ssl');
    expect(partitions).toHaveLength(3);
    for (const p of partitions) expect(p.isr.split(',')).not.toContain(String(id));
  }, 120_000);
});

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
