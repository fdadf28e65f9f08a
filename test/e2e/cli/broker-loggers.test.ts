// Broker loggers (config resource type 8, Kafka's KIP-412) against the real broker: `kts configs`
// lists them in Kafka 3.9's text and JSON, changes a level at run time (the broker's output really
// changes), resets it, and the broker answers bad requests with Kafka's errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../../src/client/index.js';
import { ApiKey } from '../../../src/protocol/index.js';
import { ErrorCode } from '../../../src/protocol/errors.js';
import { spawnBroker, type SpawnedBroker } from '../../helpers/broker.js';
import { kts } from './support.js';

const LOGGERS = ['kts.broker', 'kts.broker.cluster', 'kts.broker.group', 'kts.broker.log', 'kts.broker.request', 'kts.broker.transaction', 'root'];

async function waitFor(pred: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('broker loggers', () => {
  let broker: SpawnedBroker;
  let b: string;
  let client: KafkaClient;
  const configs = (...args: string[]) => kts(['configs', '--bootstrap-server', b, ...args]);
  /** The broker's output printed after `from` characters. */
  const since = (from: number) => broker.output().slice(from);

  beforeAll(async () => {
    broker = await spawnBroker();
    b = broker.bootstrap;
    client = await KafkaClient.connect(b, { clientId: 'broker-loggers-test' });
  });
  afterAll(async () => {
    client?.close();
    await broker?.stop();
  });

  it('describes the loggers in Kafka 3.9 text and JSON', async () => {
    const text = LOGGERS.map((l) => `  ${l}=INFO sensitive=false synonyms={}\n`).join('');
    const described = await configs('--describe', '--entity-type', 'broker-loggers', '--entity-name', '0');
    expect(described).toMatchObject({ code: 0, stderr: '', stdout: `Dynamic configs for broker-logger 0 are:\n${text}` });
    expect((await configs('--describe', '--broker-logger', '0')).stdout).toBe(`Dynamic configs for broker-logger 0 are:\n${text}`);
    expect((await configs('--describe', '--broker-logger', '0', '--all')).stdout).toBe(`All configs for broker-logger 0 are:\n${text}`);
    const json = await configs('--describe', '--broker-logger', '0', '--output', 'json');
    expect(JSON.parse(json.stdout)).toEqual({
      entities: [
        {
          type: 'broker-loggers',
          name: '0',
          configs: LOGGERS.map((name) => ({ name, value: 'INFO', source: 'DYNAMIC_BROKER_LOGGER_CONFIG', sensitive: false, synonyms: [] })),
        },
      ],
    });
    // Only the wanted keys when the request names some.
    const [one] = await client.admin.describeConfigs([{ type: 'brokerLogger', name: '0', keys: ['kts.broker.log'] }]);
    expect(one.entries.map((e) => [e.name, e.value, e.source])).toEqual([['kts.broker.log', 'INFO', 'DYNAMIC_BROKER_LOGGER_CONFIG']]);
  });

  it('sets a logger to DEBUG and back at run time: the broker starts and stops printing its DEBUG lines', async () => {
    expect(broker.output()).not.toMatch(/\] DEBUG /);
    let mark = broker.output().length;
    const set = await configs('--alter', '--entity-type', 'broker-loggers', '--entity-name', '0', '--add-config', 'kts.broker.request=DEBUG');
    expect(set).toMatchObject({ code: 0, stderr: '', stdout: 'Completed updating config for broker-logger 0.\n' });
    await waitFor(() => /\] DEBUG Completed request: IncrementalAlterConfigs v\d+ .*\(kts\.broker\.request\)\n/.test(since(mark)), 'a DEBUG line');
    expect(since(mark)).toMatch(/\] WARN Updated the log level of kts\.broker\.request to DEBUG \(kts\.broker\)\n/);
    const debugOn = (await configs('--describe', '--broker-logger', '0')).stdout;
    expect(debugOn).toContain('  kts.broker.request=DEBUG sensitive=false synonyms={}\n');
    expect(debugOn).toContain('  kts.broker=INFO sensitive=false synonyms={}\n');
    await waitFor(() => /\] DEBUG Completed request: DescribeConfigs v\d+ correlationId=\d+ clientId=kts-configs from /.test(since(mark)), 'DescribeConfigs DEBUG');

    // Reset (DELETE): it inherits kts.broker's INFO again and stops printing DEBUG.
    const reset = await configs('--alter', '--broker-logger', '0', '--delete-config', 'kts.broker.request', '--output', 'json');
    expect(JSON.parse(reset.stdout)).toEqual({ type: 'broker-loggers', name: '0', set: {}, deleted: ['kts.broker.request'] });
    await waitFor(() => /\] WARN Unset the log level of kts\.broker\.request \(kts\.broker\)\n/.test(broker.output()), 'the unset line');
    mark = broker.output().length;
    expect((await configs('--describe', '--broker-logger', '0')).stdout).toContain('  kts.broker.request=INFO sensitive=false synonyms={}\n');
    await client.admin.describeConfigs([{ type: 'brokerLogger', name: '0' }]);
    await new Promise((r) => setTimeout(r, 300));
    expect(since(mark)).not.toMatch(/DEBUG/);
  });

  it('kts.broker at WARN hides its INFO lines and its children inherit the level', async () => {
    expect((await configs('--alter', '--broker-logger', '0', '--add-config', 'kts.broker=WARN')).code).toBe(0);
    const inherited = (await configs('--describe', '--broker-logger', '0')).stdout;
    expect(inherited).toContain('  kts.broker.log=WARN sensitive=false synonyms={}\n');
    expect(inherited).toContain('  root=INFO sensitive=false synonyms={}\n');
    let mark = broker.output().length;
    expect((await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'quiet'])).code).toBe(0);
    // The partition log is created (kts.broker.log, INFO) and the topic (kts.broker, INFO): neither prints.
    await new Promise((r) => setTimeout(r, 300));
    expect(since(mark)).not.toContain('Created topic quiet');

    expect((await configs('--alter', '--broker-logger', '0', '--delete-config', 'kts.broker')).code).toBe(0);
    expect((await configs('--describe', '--broker-logger', '0')).stdout).toContain('  kts.broker.log=INFO sensitive=false synonyms={}\n');
    mark = broker.output().length;
    expect((await kts(['topics', '--bootstrap-server', b, '--create', '--topic', 'loud'])).code).toBe(0);
    await waitFor(() => /\] INFO Created topic loud with 1 partition\(s\), replication factor 1 \(kts\.broker\)\n/.test(since(mark)), 'the Created topic line');
  });

  it('refuses unknown loggers and levels, root resets, other ops, other brokers and legacy AlterConfigs as Kafka does', async () => {
    const cmd = ['--alter', '--broker-logger', '0', '--add-config', 'kts.broker=LOUD'];
    const badLevel = await configs(...cmd);
    expect(badLevel).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        `Error while executing config command with args '--bootstrap-server ${b} ${cmd.join(' ')}': org.apache.kafka.common.errors.InvalidConfigurationException: ` +
        'Cannot set the log level of kts.broker to LOUD as it is not a supported log level. Valid log levels are DEBUG, ERROR, FATAL, INFO, TRACE, WARN\n',
    });
    // The tool checks names against the broker's list first (deleted, then added), as Kafka's does.
    const unknown = await configs('--alter', '--broker-logger', '0', '--add-config', 'nope=DEBUG', '--delete-config', 'gone');
    expect(unknown).toMatchObject({ code: 1, stdout: '', stderr: 'Invalid broker logger(s): gone,nope\n' });
    expect(await configs('--describe', '--entity-type', 'broker-loggers')).toMatchObject({
      code: 1,
      stderr: 'an entity name must be specified with --describe of broker-loggers\n',
    });
    expect(await configs('--describe', '--broker-logger', 'x')).toMatchObject({
      code: 1,
      stderr: 'The entity name for broker-loggers must be a valid integer broker id, but it is: x\n',
    });

    const alter = async (ops: { name: string; op: 'set' | 'delete' | 'append' | 'subtract'; value?: string }[], opts = {}) =>
      (await client.admin.incrementalAlterConfigs([{ type: 'brokerLogger', name: '0', ops }], opts))[0].error;
    /** Raw answers: the client would route a request for another broker id to that (unknown) broker. */
    const conn = await client.cluster.any();
    const rawDescribe = async (name: string) => {
      const body = await conn.request(ApiKey.DescribeConfigs, {
        resources: [{ resourceType: 8, resourceName: name, configurationKeys: null }],
        includeSynonyms: false,
        includeDocumentation: false,
      });
      const [r] = body.results as { errorCode: number; errorMessage: string | null }[];
      return { code: r.errorCode, message: r.errorMessage };
    };
    expect(await alter([{ name: 'nope', op: 'set', value: 'DEBUG' }])).toMatchObject({ code: ErrorCode.INVALID_CONFIG, message: 'Logger nope does not exist!' });
    expect(await alter([{ name: 'nope', op: 'delete' }])).toMatchObject({ code: ErrorCode.INVALID_CONFIG, message: 'Logger nope does not exist!' });
    expect(await alter([{ name: 'kts.broker', op: 'set', value: 'debug' }])).toMatchObject({ code: ErrorCode.INVALID_CONFIG });
    expect(await alter([{ name: 'root', op: 'delete' }])).toMatchObject({
      code: ErrorCode.INVALID_REQUEST,
      message: 'Removing the log level of the root logger is not allowed',
    });
    expect(await alter([{ name: 'kts.broker', op: 'append', value: 'DEBUG' }])).toMatchObject({
      code: ErrorCode.INVALID_REQUEST,
      message: 'APPEND operation is not allowed for the BROKER_LOGGER resource',
    });
    const otherNode = await conn.request(ApiKey.IncrementalAlterConfigs, {
      resources: [{ resourceType: 8, resourceName: '7', configs: [{ name: 'kts.broker', configOperation: 0, value: 'DEBUG' }] }],
      validateOnly: false,
    });
    expect((otherNode.responses as object[])[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unexpected node id. Expected 0, but received 7' });
    // One bad op fails the whole resource: the good one before it is not applied.
    expect(await alter([{ name: 'kts.broker.log', op: 'set', value: 'ERROR' }, { name: 'nope', op: 'set', value: 'ERROR' }])).toMatchObject({ code: ErrorCode.INVALID_CONFIG });
    // validateOnly checks without applying.
    expect(await alter([{ name: 'kts.broker.log', op: 'set', value: 'ERROR' }], { validateOnly: true })).toBeUndefined();
    // root itself can be set; TRACE is accepted.
    expect(await alter([{ name: 'root', op: 'set', value: 'TRACE' }])).toBeUndefined();
    const [after] = await client.admin.describeConfigs([{ type: 'brokerLogger', name: '0' }]);
    expect(Object.fromEntries(after.entries.map((e) => [e.name, e.value]))).toEqual({
      'kts.broker': 'TRACE',
      'kts.broker.cluster': 'TRACE',
      'kts.broker.group': 'TRACE',
      'kts.broker.log': 'TRACE',
      'kts.broker.request': 'TRACE',
      'kts.broker.transaction': 'TRACE',
      root: 'TRACE',
    });
    expect(await alter([{ name: 'root', op: 'set', value: 'INFO' }])).toBeUndefined();

    const [legacy] = await client.admin.alterConfigs([{ type: 'brokerLogger', name: '0', configs: { 'kts.broker': 'DEBUG' } }]);
    expect(legacy.error).toMatchObject({ code: ErrorCode.INVALID_REQUEST, message: 'Unknown resource type 8' });
    expect(await rawDescribe('')).toEqual({ code: ErrorCode.INVALID_REQUEST, message: 'Broker id must not be empty' });
    expect(await rawDescribe('5')).toEqual({ code: ErrorCode.INVALID_REQUEST, message: 'Unexpected broker id, expected 0 but received 5' });
    expect(await rawDescribe('x')).toEqual({ code: ErrorCode.INVALID_REQUEST, message: 'Broker id must be an integer, but it is: x' });
  });
});
