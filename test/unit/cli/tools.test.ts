// Per-tool argument checks and result views, against the texts of the Kafka 3.9 reference.
import { describe, expect, it } from 'vitest';
import { allOptions } from '../../../src/cli/tool.js';
import { parseArgs } from '../../../src/cli/options.js';
import { checkTopicArgs, parseTopicConfigs } from '../../../src/cli/tools/topics.js';
import { COLLISION_WARNING, createdView, describeView, listView, partitionLine, topicSummaryLine, type TopicDescription } from '../../../src/cli/tools/topics-view.js';
import { planConsumer } from '../../../src/cli/tools/console-consumer.js';
import { producerSettings } from '../../../src/cli/tools/console-producer.js';
import { offsetsView, parseTime, parseTopicPartitions } from '../../../src/cli/tools/get-offsets.js';
import { describeLines, parseAddConfig, resolveTarget } from '../../../src/cli/tools/configs.js';
import { parseOffsetJson } from '../../../src/cli/tools/delete-records.js';
import topics from '../../../commands/topics.js';
import consumerCmd from '../../../commands/console-consumer.js';
import producerCmd from '../../../commands/console-producer.js';
import configsCmd from '../../../commands/configs.js';

const args = (mod: { tool: Parameters<typeof allOptions>[0] }, argv: string[]) => parseArgs(argv, allOptions(mod.tool));
const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '(no error)';
};

describe('kts topics', () => {
  const check = (...argv: string[]) => message(() => checkTopicArgs(args(topics, argv)));

  it('needs exactly one action', () => {
    expect(check('--topic', 'x')).toBe('Command must include exactly one action: --list, --describe, --create, --alter or --delete');
    expect(check('--list', '--describe')).toBe('Command must include exactly one action: --list, --describe, --create, --alter or --delete');
  });

  it('needs --topic except for list/describe, --partitions for alter', () => {
    expect(check('--create')).toBe('Missing required argument "[topic]"');
    expect(check('--delete')).toBe('Missing required argument "[topic]"');
    expect(check('--alter', '--topic', 'x')).toBe('Missing required argument "[partitions]"');
    expect(check('--list')).toBe('(no error)');
    expect(check('--describe')).toBe('(no error)');
  });

  it('rejects options that do not fit the action', () => {
    expect(check('--describe', '--partitions', '3')).toBe('Option "[partitions]" can\'t be used with option "[list]"'.replace('[list]', '[describe]'));
    expect(check('--list', '--if-exists')).toBe('Option "[if-exists]" can\'t be used with option "[list]"');
    expect(check('--create', '--topic', 'x', '--replica-assignment', '0', '--partitions', '1')).toBe('Option "[replica-assignment]" can\'t be used with option "[partitions]"');
    expect(check('--describe', '--topics-with-overrides', '--under-replicated-partitions')).toBe(
      'Option "[under-replicated-partitions]" can\'t be used with option "[topics-with-overrides]"',
    );
    expect(check('--alter', '--topic', 'x', '--partitions', '2', '--config', 'a=b')).toMatch(/^Option combination "\[bootstrap-server\],\[config\]" can't be used with option "\[alter\]"/);
  });

  it('parses --config like TopicCommand', () => {
    expect(parseTopicConfigs(['retention.ms = 1000', 'cleanup.policy=compact'])).toEqual({ 'retention.ms': '1000', 'cleanup.policy': 'compact' });
    expect(() => parseTopicConfigs(['a=b=c'])).toThrow('requirement failed: Invalid topic config: all configs to be added must be in the format "key=val".');
    expect(() => parseTopicConfigs(['a='])).toThrow('Invalid topic config');
  });

  const orders: TopicDescription = {
    name: 'orders',
    topicId: 'Hc8Ke0p9R3eWf1yXo5n1Dg',
    replicationFactor: 1,
    configs: [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'retention.ms', value: '86400000' },
    ],
    partitions: [0, 1, 2].map((partition) => ({ partition, leader: 1, replicas: [1], isr: [1], elr: [], lastKnownElr: [] })),
  };

  it('describes like the reference', () => {
    expect(describeView([{ topic: orders, summary: true, partitions: orders.partitions }]).plain).toBe(
      'Topic: orders\tTopicId: Hc8Ke0p9R3eWf1yXo5n1Dg\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: cleanup.policy=compact,retention.ms=86400000\n' +
        '\tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n' +
        '\tTopic: orders\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n' +
        '\tTopic: orders\tPartition: 2\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n',
    );
  });

  it('omits a zero topic id, ends empty configs in a space, prints none and N/A', () => {
    const t: TopicDescription = { ...orders, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', configs: [], partitions: orders.partitions.slice(0, 1) };
    expect(topicSummaryLine(t)).toBe('Topic: orders\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: ');
    expect(partitionLine('orders', { partition: 4, leader: -1, replicas: [1, 2], isr: [], elr: null, lastKnownElr: null })).toBe(
      '\tTopic: orders\tPartition: 4\tLeader: none\tReplicas: 1,2\tIsr: \tElr: N/A\tLastKnownElr: N/A',
    );
  });

  it('lists sorted names and prints one empty line for none', () => {
    expect(listView(['a', 'b']).plain).toBe('a\nb\n');
    expect(listView([]).plain).toBe('\n');
    expect(listView(['a']).json).toEqual({ topics: ['a'] });
  });

  it('announces a created topic', () => {
    expect(createdView('x', true, false).plain).toBe('Created topic x.\n');
    expect(createdView('x', false, false).plain).toBe('');
    expect(COLLISION_WARNING).toBe(
      "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.",
    );
  });
});

describe('kts console-consumer', () => {
  const plan = (argv: string[], props: Record<string, string> = {}, file: Record<string, string> = {}) =>
    planConsumer(args(consumerCmd, argv), new Map(Object.entries({ ...file, ...props })), new Map(Object.entries(props)), new Map(Object.entries(file)), () => {});
  const check = (argv: string[], props: Record<string, string> = {}, file: Record<string, string> = {}) => message(() => plan(argv, props, file));

  it('validates like ConsoleConsumerOptions', () => {
    expect(check([])).toBe('Exactly one of --include/--topic is required. ');
    expect(check(['--topic', 'a', '--include', 'b'])).toBe('Exactly one of --include/--topic is required. ');
    expect(check(['--include', 'a', '--partition', '0'])).toBe('The topic is required when partition is specified.');
    expect(check(['--topic', 'a', '--partition', '0', '--from-beginning', '--offset', '3'])).toBe('Options from-beginning and offset cannot be specified together.');
    expect(check(['--topic', 'a', '--offset', '3'])).toBe('The partition is required when offset is specified.');
    expect(check(['--topic', 'a', '--group', 'g', '--partition', '0'])).toBe('Options group and partition cannot be specified together.');
    expect(check(['--topic', 'a', '--partition', '0', '--offset', 'x'])).toBe("The provided offset value 'x' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.");
    expect(check(['--topic', 'a', '--group', 'g1'], { 'group.id': 'g2' })).toBe(
      "The group ids provided in different places (directly using '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group ids: 'g1', 'g2'",
    );
    expect(check(['--topic', 'a', '--from-beginning'], { 'auto.offset.reset': 'latest' })).toBe(
      "Can't simultaneously specify --from-beginning and 'auto.offset.reset=latest', please remove one option",
    );
  });

  it('derives the plan', () => {
    const p = plan(['--topic', 'a', '--from-beginning', '--max-messages', '5', '--from', '-3', '--until', 'end'].filter((x) => x !== '--from-beginning'));
    expect(p).toMatchObject({ topic: 'a', resetPolicy: 'latest', maxMessages: 5, from: { kind: 'back', count: 3 }, until: { kind: 'latest' }, autoCommit: false });
    expect(plan(['--topic', 'a', '--group', 'g', '--from-beginning'])).toMatchObject({ groupId: 'g', resetPolicy: 'earliest', autoCommit: true });
    expect(plan(['--topic', 'a'], {}, { 'group.id': 'g' })).toMatchObject({ groupId: 'g' });
    expect(plan(['--include', 'or.*'])!.include!.test('orders')).toBe(true);
    expect(plan(['--include', 'or'])!.include!.test('orders')).toBe(false);
    expect(check(['--topic', 'a', '--from', 'earliest', '--from-beginning'])).toBe('Options from and from-beginning cannot be specified together.');
  });
});

describe('kts console-producer', () => {
  const settings = (argv: string[], props: Record<string, string> = {}) => producerSettings(args(producerCmd, ['--topic', 't', ...argv]), new Map(Object.entries(props)));

  it('uses Kafka\'s defaults', () => {
    expect(settings([])).toMatchObject({ acks: -1, compression: 0, batchSize: 16384, lingerMs: 1000, retries: 3, requestTimeoutMs: 1500, maxBlockMs: 60000 });
  });

  it('an explicit option beats a producer property, which beats the default', () => {
    expect(settings([], { acks: '1', 'linger.ms': '5' })).toMatchObject({ acks: 1, lingerMs: 5 });
    expect(settings(['--request-required-acks', '0'], { acks: '1' })).toMatchObject({ acks: 0 });
    expect(settings(['--compression-codec'])).toMatchObject({ compression: 1 });
    expect(settings(['--compression-codec', 'zstd'])).toMatchObject({ compression: 4 });
    expect(settings([], { 'compression.type': 'lz4' })).toMatchObject({ compression: 3 });
    expect(settings(['--max-partition-memory-bytes', '100'])).toMatchObject({ batchSize: 100 });
  });

  it('rejects bad values with the config wording', () => {
    expect(message(() => settings(['--compression-codec', 'brotli']))).toBe(
      'Invalid value brotli for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd',
    );
    expect(message(() => settings(['--request-required-acks', '2']))).toBe('Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1');
  });
});

describe('kts get-offsets', () => {
  it('parses --time', () => {
    expect(parseTime('latest')).toBe(-1);
    expect(parseTime('-2')).toBe(-2);
    expect(parseTime('max-timestamp')).toBe(-3);
    expect(parseTime('1718000000000')).toBe(1718000000000);
    expect(message(() => parseTime('foo'))).toBe(
      'Malformed time argument foo. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp',
    );
  });

  it('parses --topic-partitions rules', () => {
    const [a, b, c, d, e] = parseTopicPartitions('t1:1,t2:0-3,t3,t4:5-,:-3');
    expect([a.topic.test('t1'), a.partition(1), a.partition(0)]).toEqual([true, true, false]);
    expect([b.partition(0), b.partition(2), b.partition(3)]).toEqual([true, true, false]);
    expect([c.topic.test('t3'), c.partition(99)]).toEqual([true, true]);
    expect([d.partition(4), d.partition(5), d.partition(500)]).toEqual([false, true, true]);
    expect([e.topic.test('anything'), e.partition(2), e.partition(3)]).toEqual([true, true, false]);
    expect(message(() => parseTopicPartitions('t:x'))).toBe('Invalid rule specification: t:x');
  });

  it('prints topic:partition:offset sorted by "topic-partition"', () => {
    const rows = [2, 10, 1].map((partition) => ({ topic: 't', partition, offset: partition * 10 }));
    expect(offsetsView(rows).plain).toBe('t:1:10\nt:10:100\nt:2:20\n');
  });
});

describe('kts configs', () => {
  const target = (...argv: string[]) => resolveTarget(args(configsCmd, argv));
  it('resolves entities from --entity-* and the shorthand flags', () => {
    expect(target('--describe', '--entity-type', 'topics', '--entity-name', 'orders')).toEqual({ type: 'topics', name: 'orders' });
    expect(target('--describe', '--topic', 'orders')).toEqual({ type: 'topics', name: 'orders' });
    expect(target('--describe', '--broker-defaults')).toEqual({ type: 'brokers', name: '' });
    expect(target('--describe', '--entity-type', 'brokers')).toEqual({ type: 'brokers', name: undefined });
    expect(message(() => target('--topic', 'x'))).toBe('Command must include exactly one action: --describe, --alter');
    expect(message(() => target('--describe', '--broker', 'x'))).toBe('The entity name for brokers must be a valid integer broker id, but it is: x');
    expect(message(() => target('--alter', '--entity-type', 'topics'))).toBe('an entity name must be specified with --alter of topics');
    expect(message(() => target('--alter', '--topic', 'x'))).toBe('At least one of --add-config, --add-config-file, or --delete-config must be specified with --alter');
  });

  it('parses --add-config with brackets and empty values', () => {
    expect(parseAddConfig('k1=v1,k2=[a,b],k3=')).toEqual(new Map([['k1', 'v1'], ['k2', 'a,b'], ['k3', '']]));
    expect(message(() => parseAddConfig('k1'))).toBe('Invalid entity config: all configs to be added must be in the format "key=val".');
  });

  it('describes like the reference', () => {
    const lines = describeLines('topics', 'orders', false, [
      {
        name: 'cleanup.policy',
        value: 'compact',
        source: 'DYNAMIC_TOPIC_CONFIG',
        isDefault: false,
        isSensitive: false,
        readOnly: false,
        synonyms: [
          { name: 'cleanup.policy', value: 'compact', source: 'DYNAMIC_TOPIC_CONFIG' },
          { name: 'log.cleanup.policy', value: 'delete', source: 'DEFAULT_CONFIG' },
        ],
      },
    ]);
    expect(lines).toEqual([
      'Dynamic configs for topic orders are:',
      '  cleanup.policy=compact sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact, DEFAULT_CONFIG:log.cleanup.policy=delete}',
    ]);
    expect(describeLines('brokers', '', true, [])).toEqual(['Default configs for brokers in the cluster are:']);
    expect(describeLines('brokers', '0', true, [])).toEqual(['All configs for broker 0 are:']);
  });
});

describe('kts delete-records', () => {
  it('reads the offset file and refuses duplicates', () => {
    expect(parseOffsetJson('{"partitions":[{"topic":"orders","partition":0,"offset":3}],"version":1}')).toEqual([{ topic: 'orders', partition: 0, offset: 3 }]);
    expect(message(() => parseOffsetJson('{"partitions":[{"topic":"o","partition":0,"offset":3},{"topic":"o","partition":0,"offset":4}]}'))).toBe(
      'Offset json file contains duplicate topic partitions: o-0',
    );
  });
});
