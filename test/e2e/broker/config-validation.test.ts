// Configuration is checked with Kafka 3.9's types and bounds: a bad broker value stops the start
// (exit 1, Kafka's line naming key and value), an unknown key is warned about, a listener that
// promises TLS or SASL is refused rather than served in plaintext, and a bad topic value is refused
// with INVALID_CONFIG (40) by CreateTopics, AlterConfigs and IncrementalAlterConfigs alike.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../../src/client/index.js';
import { ApiKey } from '../../../src/protocol/index.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { RawClient } from '../../helpers/raw-client.js';
import { freePort, spawnBroker, tempDir, type SpawnedBroker } from '../../helpers/broker.js';
import { kts, startKts } from '../cli/support.js';

/** `kts server-start` with these overrides, expected to refuse to start. */
async function refusedStart(overrides: Record<string, string>) {
  const args = ['server-start', '--override', `log.dirs=${tempDir('kts-badcfg-')}`, '--override', `listeners=PLAINTEXT://127.0.0.1:${await freePort()}`];
  for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
  const r = await kts(args, { timeoutMs: 20_000 });
  return { code: r.code, output: r.stdout + r.stderr };
}

describe('broker configuration at start-up', () => {
  // [key, value, Kafka's message]
  const bad: [string, string, string][] = [
    ['num.partitions', 'abc', 'Invalid value abc for configuration num.partitions: Not a number of type INT'],
    ['num.partitions', '0', 'Invalid value 0 for configuration num.partitions: Value must be at least 1'],
    ['num.partitions', '2147483648', 'Invalid value 2147483648 for configuration num.partitions: Not a number of type INT'],
    ['log.retention.ms', '1.5', 'Invalid value 1.5 for configuration log.retention.ms: Not a number of type LONG'],
    ['log.retention.ms', '0', 'log.retention.ms must be unlimited (-1) or, greater than or equal to 1'],
    ['replica.socket.timeout.ms', '499', 'replica.socket.timeout.ms should always be at least replica.fetch.wait.max.ms to prevent unnecessary socket timeouts'],
    ['replica.lag.time.max.ms', '499', 'replica.fetch.wait.max.ms should always be less than or equal to replica.lag.time.max.ms to prevent frequent changes in ISR'],
    ['log.segment.bytes', '13', 'Invalid value 13 for configuration log.segment.bytes: Value must be at least 14'],
    ['log.index.size.max.bytes', '3', 'Invalid value 3 for configuration log.index.size.max.bytes: Value must be at least 4'],
    ['auto.create.topics.enable', 'yes', 'Invalid value yes for configuration auto.create.topics.enable: Expected value to be either true or false'],
    ['log.cleanup.policy', 'delete,bogus', 'Invalid value bogus for configuration log.cleanup.policy: String must be one of: compact, delete'],
    ['log.message.timestamp.type', 'x', 'Invalid value x for configuration log.message.timestamp.type: String must be one of: CreateTime, LogAppendTime'],
    ['compression.type', 'foo', 'Invalid value foo for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer'],
    ['min.insync.replicas', '0', 'Invalid value 0 for configuration min.insync.replicas: Value must be at least 1'],
    ['offsets.topic.num.partitions', '0', 'Invalid value 0 for configuration offsets.topic.num.partitions: Value must be at least 1'],
    ['socket.request.max.bytes', '-1', 'Invalid value -1 for configuration socket.request.max.bytes: Value must be at least 1'],
    ['log.cleaner.min.cleanable.ratio', '1.5', 'Invalid value 1.5 for configuration log.cleaner.min.cleanable.ratio: Value must be no more than 1'],
    // A Kafka key kts does not act on is still checked.
    ['num.io.threads', 'many', 'Invalid value many for configuration num.io.threads: Not a number of type INT'],
    ['kts.max.partitions', '0', 'Invalid value 0 for configuration kts.max.partitions: Value must be at least 1'],
  ];
  it.each(bad)('%s=%s is refused: exit 1 and Kafka\'s message', async (key, value, message) => {
    const { code, output } = await refusedStart({ [key]: value });
    expect(code).toBe(1);
    expect(output).toContain(`Fatal error during startup: ${message} (kts.broker)\n`);
    expect(output).not.toMatch(/ready: bootstrap server/);
    expect(output).not.toMatch(/^\s+at /m);
  });

  it('a TLS listener without key material is refused, never served in plaintext', async () => {
    const port = await freePort();
    const noKeys = 'a TLS listener needs ssl.keystore.location (PEM or PKCS12) or ssl.keystore.key with ssl.keystore.certificate.chain';
    const cases: [Record<string, string>, string][] = [
      [{ listeners: `SSL://127.0.0.1:${port}` }, `listener SSL: ${noKeys}`],
      [{ listeners: `SASL_PLAINTEXT://127.0.0.1:${port}`, 'sasl.enabled.mechanisms': 'GSSAPI' }, 'listener SASL_PLAINTEXT: sasl.enabled.mechanisms=GSSAPI names no mechanism kts serves'],
      [{ listeners: `SASL_SSL://127.0.0.1:${port}` }, `listener SASL_SSL: ${noKeys}`],
      [{ listeners: `SECURE://127.0.0.1:${port}`, 'listener.security.protocol.map': 'SECURE:SSL,PLAINTEXT:PLAINTEXT' }, `listener SECURE: ${noKeys}`],
      [{ listeners: `PLAINTEXT://127.0.0.1:${port},SSL://127.0.0.1:${port + 1}` }, `listener SSL: ${noKeys}`],
      [{ listeners: `SSL://127.0.0.1:${port}`, 'ssl.keystore.location': '/nonexistent/broker.pem' }, 'Failed to load SSL keystore or truststore from ssl.keystore.location=/nonexistent/broker.pem'],
      [{ listeners: `PLAINTEXT://127.0.0.1:${port},OTHER://127.0.0.1:${port}`, 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT' }, 'Each listener must have a different port'],
      [{ 'inter.broker.listener.name': 'INTERNAL' }, 'inter.broker.listener.name must be a listener name defined in advertised.listeners'],
      [{ listeners: `INTERNAL://127.0.0.1:${port}` }, 'No security protocol defined for listener INTERNAL'],
      [{ 'listener.security.protocol.map': 'PLAINTEXT:TLS' }, 'Invalid security protocol `TLS` defined in listener.security.protocol.map'],
    ];
    for (const [overrides, message] of cases) {
      const { code, output } = await refusedStart(overrides);
      expect(code, JSON.stringify(overrides)).toBe(1);
      const line = output.split('\n').find((l) => l.includes('Fatal error during startup:'));
      expect(line, output).toContain(message);
      expect(output).not.toMatch(/ready: bootstrap server/);
    }
    // Nothing listens on the port a refused listener named.
    await expect(RawClient.connect(port)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a custom listener name mapped to PLAINTEXT starts', async () => {
    const port = await freePort();
    const broker = await spawnBroker({ port, overrides: { listeners: `CLIENT://127.0.0.1:${port}`, 'listener.security.protocol.map': 'CLIENT:PLAINTEXT' } });
    await broker.stop();
  });

  it('unknown keys are warned about in Kafka\'s words, and the broker starts; kts.* and Kafka keys are not; Kafka keys without effect are listed, the security ones kts reads are not', async () => {
    const security = { 'ssl.client.auth': 'required', 'ssl.enabled.protocols': 'TLSv1.3', 'connections.max.reauth.ms': '60000', 'sasl.server.max.receive.size': '65536', 'security.inter.broker.protocol': 'PLAINTEXT' };
    // The log cleaner reads these four (broker.ts), so they are not "without effect".
    const cleaner = { 'log.cleaner.enable': 'true', 'log.cleaner.backoff.ms': '1000', 'log.cleaner.dedupe.buffer.size': '1048576', 'log.cleaner.io.max.bytes.per.second': '1e9' };
    const broker = await spawnBroker({ overrides: { 'log.retention.hour': '5', 'num.partitons': '3', 'kts.max.partitions': '500', 'num.network.threads': '3', 'listener.name.plaintext.foo': 'x', ...security, ...cleaner } });
    try {
      expect(broker.output()).toContain("These configurations '[log.retention.hour, num.partitons]' were supplied but are not used yet.");
      expect(broker.output().match(/were supplied but are not used yet/g)).toHaveLength(1);
      expect(broker.output()).toContain("These Kafka configurations '[num.network.threads]' are accepted but have no effect in kts.");
    } finally {
      await broker.stop();
    }
  });
});

describe('topic configuration', () => {
  let broker: SpawnedBroker;
  let client: KafkaClient;
  beforeAll(async () => {
    broker = await spawnBroker({ overrides: { 'offsets.topic.num.partitions': '5' } });
    client = await KafkaClient.connect(broker.bootstrap, { clientId: 'config-validation' });
    await client.admin.createTopics([{ name: 'existing' }]);
  });
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  const bad: [string, string, string][] = [
    ['segment.bytes', '1', 'Invalid value 1 for configuration segment.bytes: Value must be at least 14'],
    ['max.message.bytes', '-1', 'Invalid value -1 for configuration max.message.bytes: Value must be at least 0'],
    ['segment.ms', '0', 'Invalid value 0 for configuration segment.ms: Value must be at least 1'],
    ['retention.ms', '-5', 'Invalid value -5 for configuration retention.ms: Value must be at least -1'],
    ['segment.index.bytes', '0', 'Invalid value 0 for configuration segment.index.bytes: Value must be at least 4'],
    ['cleanup.policy', 'bogus', 'Invalid value bogus for configuration cleanup.policy: String must be one of: compact, delete'],
    ['message.timestamp.type', 'x', 'Invalid value x for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime'],
    ['min.insync.replicas', '0', 'Invalid value 0 for configuration min.insync.replicas: Value must be at least 1'],
    ['compression.type', 'foo', 'Invalid value foo for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer'],
    ['segment.bytes', 'abc', 'Invalid value abc for configuration segment.bytes: Not a number of type INT'],
    ['retention.ms', '99999999999999999999', 'Invalid value 99999999999999999999 for configuration retention.ms: Not a number of type LONG'],
    ['preallocate', 'maybe', 'Invalid value maybe for configuration preallocate: Expected value to be either true or false'],
    ['min.cleanable.dirty.ratio', '-0.1', 'Invalid value -0.1 for configuration min.cleanable.dirty.ratio: Value must be at least 0'],
    ['flush.messages', '0', 'Invalid value 0 for configuration flush.messages: Value must be at least 1'],
    ['local.retention.ms', '-3', 'Invalid value -3 for configuration local.retention.ms: Value must be at least -2'],
    ['remote.storage.enable', 'true', 'Invalid value true for configuration remote.storage.enable: Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.'],
    ['min.compaction.lag.ms', '10000', 'conflict topic config setting min.compaction.lag.ms (10000) > max.compaction.lag.ms (5000)'],
  ];
  const withCompanion = (key: string, value: string): Record<string, string> =>
    key === 'min.compaction.lag.ms' ? { [key]: value, 'max.compaction.lag.ms': '5000' } : { [key]: value };

  it.each(bad)('%s=%s: INVALID_CONFIG from CreateTopics, AlterConfigs and IncrementalAlterConfigs', async (key, value, message) => {
    const configs = withCompanion(key, value);
    const [created] = await client.admin.createTopics([{ name: `bad-${key}`, configs }]);
    expect(created.error?.code).toBe(ErrorCode.INVALID_CONFIG);
    expect(created.errorMessage).toBe(message);
    expect((await client.admin.listTopics()).map((t) => t.name)).not.toContain(`bad-${key}`);

    const [altered] = await client.admin.alterConfigs([{ type: 'topic', name: 'existing', configs }]);
    expect(altered.error?.code).toBe(ErrorCode.INVALID_CONFIG);
    expect(altered.error?.message).toBe(message);

    const ops = Object.entries(configs).map(([name, v]) => ({ name, op: 'set' as const, value: v }));
    const [incremental] = await client.admin.incrementalAlterConfigs([{ type: 'topic', name: 'existing', ops }]);
    expect(incremental.error?.code).toBe(ErrorCode.INVALID_CONFIG);
    expect(incremental.error?.message).toBe(message);
  });

  it('nothing was changed by the refused alterations', async () => {
    const [described] = await client.admin.describeConfigs([{ type: 'topic', name: 'existing' }]);
    expect(described.entries.filter((e) => e.source === 'DYNAMIC_TOPIC_CONFIG')).toEqual([]);
  });

  it('the boundary values are accepted, and the topic takes records', async () => {
    const boundary = {
      'segment.bytes': '14',
      'max.message.bytes': '0',
      'segment.ms': '1',
      'retention.ms': '-1',
      'segment.index.bytes': '4',
      'min.insync.replicas': '1',
      'min.cleanable.dirty.ratio': '1',
      'local.retention.ms': '-2',
      'cleanup.policy': 'compact,delete',
      'message.timestamp.type': 'LogAppendTime',
      'compression.type': 'uncompressed',
    };
    const [created] = await client.admin.createTopics([{ name: 'boundary', configs: boundary }]);
    expect(created.error).toBeUndefined();
    const [altered] = await client.admin.alterConfigs([{ type: 'topic', name: 'existing', configs: boundary }]);
    expect(altered.error).toBeUndefined();
    const ops = Object.entries(boundary).map(([name, value]) => ({ name, op: 'set' as const, value }));
    const [incremental] = await client.admin.incrementalAlterConfigs([{ type: 'topic', name: 'existing', ops }]);
    expect(incremental.error).toBeUndefined();
    // A topic at the smallest index and roll time still takes and serves records.
    const [small] = await client.admin.createTopics([{ name: 'small-index', configs: { 'segment.index.bytes': '4', 'segment.ms': '1', 'segment.bytes': '14000' } }]);
    expect(small.error).toBeUndefined();
    const produced = await kts(['console-producer', '--bootstrap-server', broker.bootstrap, '--topic', 'small-index'], { input: 'a\nb\nc\n' });
    expect(produced.stderr).toBe('');
    const consumed = await kts(['console-consumer', '--bootstrap-server', broker.bootstrap, '--topic', 'small-index', '--from-beginning', '--max-messages', '3'], { timeoutMs: 30_000 });
    expect(consumed.stdout).toBe('a\nb\nc\n');
  });

  it('kts topics --create --config and kts configs --alter: one line, exit 1', async () => {
    const b = broker.bootstrap;
    const create = await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'cli-bad', '--config', 'segment.bytes=1']);
    expect(create.code).toBe(1);
    expect((create.stdout + create.stderr).trim().split('\n')).toEqual([
      'Error while executing topic command : Invalid value 1 for configuration segment.bytes: Value must be at least 14',
    ]);
    const alter = await kts(['configs', '--bootstrap-server', b, '--alter', '--entity-type', 'topics', '--entity-name', 'existing', '--add-config', 'retention.ms=-5']);
    expect(alter.code).toBe(1);
    const lines = (alter.stdout + alter.stderr).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/InvalidConfigurationException: Invalid value -5 for configuration retention.ms: Value must be at least -1$/);
  });

  it('dynamic broker configs are checked the same way', async () => {
    const set = (configs: Record<string, string>) => client.admin.alterConfigs([{ type: 'broker', name: '0', configs }]);
    const [badType] = await set({ 'log.retention.ms': 'abc' });
    expect(badType.error).toMatchObject({ code: ErrorCode.INVALID_CONFIG, message: 'Invalid value abc for configuration log.retention.ms: Not a number of type LONG' });
    const [badBound] = await client.admin.incrementalAlterConfigs([{ type: 'broker', name: '', ops: [{ name: 'log.segment.bytes', op: 'set', value: '1' }] }]);
    expect(badBound.error).toMatchObject({ code: ErrorCode.INVALID_CONFIG, message: 'Invalid value 1 for configuration log.segment.bytes: Value must be at least 14' });
    const [badEnum] = await set({ 'log.cleanup.policy': 'bogus' });
    expect(badEnum.error?.code).toBe(ErrorCode.INVALID_CONFIG);
    const [good] = await set({ 'log.retention.ms': '3600000' });
    expect(good.error).toBeUndefined();
    const [described] = await client.admin.describeConfigs([{ type: 'broker', name: '0' }]);
    const byName = new Map(described.entries.map((e) => [e.name, e]));
    expect(byName.get('log.retention.ms')?.value).toBe('3600000');
    expect(byName.get('log.segment.bytes')?.value).toBe('1073741824');
    await set({});
  });

  it('CreateTopics of __consumer_offsets gets the coordinator\'s layout: offsets.topic.num.partitions, compacted', async () => {
    const conn = await client.cluster.any();
    const body = await conn.request(ApiKey.CreateTopics, {
      topics: [{ name: '__consumer_offsets', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] }],
      timeoutMs: 10_000,
      validateOnly: false,
    });
    expect(body.topics[0]).toMatchObject({ errorCode: 0, numPartitions: 5 });
    const [topic] = await client.admin.describeTopics(['__consumer_offsets']);
    expect(topic.partitions).toHaveLength(5);
    expect(topic.isInternal).toBe(true);
    const [described] = await client.admin.describeConfigs([{ type: 'topic', name: '__consumer_offsets' }]);
    expect(described.entries.find((e) => e.name === 'cleanup.policy')?.value).toBe('compact');
    // Groups work on it.
    const consumed = await kts(['console-consumer', '--bootstrap-server', broker.bootstrap, '--topic', 'small-index', '--group', 'g', '--from-beginning', '--max-messages', '3'], { timeoutMs: 30_000 });
    expect(consumed.stdout).toBe('a\nb\nc\n');
  });
});

describe('__consumer_offsets by Metadata auto-creation', () => {
  it('is created the coordinator\'s way', async () => {
    const broker = await spawnBroker({ overrides: { 'offsets.topic.num.partitions': '3' } });
    const client = await KafkaClient.connect(broker.bootstrap, { clientId: 'auto-offsets' });
    try {
      const conn = await client.cluster.any();
      const body = await conn.request(ApiKey.Metadata, { topics: [{ name: '__consumer_offsets', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
      expect(body.topics[0]).toMatchObject({ errorCode: 0, name: '__consumer_offsets', isInternal: true });
      expect(body.topics[0].partitions).toHaveLength(3);
      const [described] = await client.admin.describeConfigs([{ type: 'topic', name: '__consumer_offsets' }]);
      expect(described.entries.find((e) => e.name === 'cleanup.policy')?.value).toBe('compact');
    } finally {
      client.close();
      await broker.stop();
    }
  });
});

describe('a wildcard listener', () => {
  it('is announced by a reachable host name, and a client bootstrapping there can produce', async () => {
    const port = await freePort();
    const p = startKts(['server-start', '--override', `log.dirs=${tempDir('kts-wild-')}`, '--override', `listeners=PLAINTEXT://0.0.0.0:${port}`, '--override', 'group.initial.rebalance.delay.ms=0']);
    try {
      await p.waitForStdout((s) => / ready: /.test(s));
      const announced = /bootstrap server (\S+):(\d+),/.exec(p.stdout())!;
      expect(announced, p.stdout()).not.toBeNull();
      const [, host, announcedPort] = announced;
      expect(Number(announcedPort)).toBe(port);
      expect(['0.0.0.0', '::', '']).not.toContain(host);

      const kafka = new Kafka({ clientId: 'wildcard', brokers: [`${host}:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
      const admin = kafka.admin();
      await admin.connect();
      const cluster = await admin.describeCluster();
      expect(cluster.brokers).toEqual([expect.objectContaining({ host, port })]);
      await admin.createTopics({ topics: [{ topic: 'wild' }] });
      await admin.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      const [sent] = await producer.send({ topic: 'wild', messages: [{ value: 'through the announced host' }] });
      expect(sent.errorCode).toBe(0);
      await producer.disconnect();
    } finally {
      await p.stop('SIGTERM');
    }
  });
});
