// ConfigDef.parseType and its validators as Kafka 3.9 applies them: Java's number syntax and ranges,
// case-insensitive booleans, comma lists, and Kafka's message naming the key and the value.
import { describe, expect, it } from 'vitest';
import { BROKER_CONFIG_KEYS } from '../../../src/config/broker-configs.js';
import { checkConfigValue } from '../../../src/config/config-def.js';
import { validateTopicConfig, validateTopicConfigs } from '../../../src/config/topic-configs.js';

const broker = async (name: string, value: string) => {
  const key = BROKER_CONFIG_KEYS.get(name);
  if (!key) throw new Error(`no key ${name}`);
  return checkConfigValue(key, value);
};

describe('config values', () => {
  it('INT and LONG take Java integers within their range, trimmed, with an optional sign', async () => {
    expect(await broker('num.partitions', ' +3 ')).toBeNull();
    expect(await broker('num.partitions', '2147483647')).toBeNull();
    expect(await broker('num.partitions', '2147483648')).toBe('Invalid value 2147483648 for configuration num.partitions: Not a number of type INT');
    expect(await broker('num.partitions', '1e3')).toBe('Invalid value 1e3 for configuration num.partitions: Not a number of type INT');
    expect(await broker('log.retention.ms', '9223372036854775807')).toBeNull();
    expect(await broker('log.retention.ms', '9223372036854775808')).toBe('Invalid value 9223372036854775808 for configuration log.retention.ms: Not a number of type LONG');
    expect(await broker('offsets.topic.replication.factor', '32768')).toBe('Invalid value 32768 for configuration offsets.topic.replication.factor: Not a number of type SHORT');
  });

  it('BOOLEAN ignores case; DOUBLE takes Java doubles; ranges are inclusive', async () => {
    expect(await broker('auto.create.topics.enable', 'TRUE')).toBeNull();
    expect(await broker('log.cleaner.min.cleanable.ratio', '1')).toBeNull();
    expect(await broker('log.cleaner.min.cleanable.ratio', '5e-1')).toBeNull();
    expect(await broker('log.cleaner.min.cleanable.ratio', 'half')).toBe('Invalid value half for configuration log.cleaner.min.cleanable.ratio: Not a number of type DOUBLE');
    expect(await broker('log.segment.bytes', '14')).toBeNull();
  });

  it('lists name their first bad element; an empty list is a list', () => {
    expect(validateTopicConfig('cleanup.policy', 'compact, delete')).toBeNull();
    expect(validateTopicConfig('cleanup.policy', '')).toBeNull();
    expect(validateTopicConfig('cleanup.policy', 'compact,nope,x')).toBe('Invalid value nope for configuration cleanup.policy: String must be one of: compact, delete');
    expect(validateTopicConfig('leader.replication.throttled.replicas', '0:0,1:0')).toBeNull();
    expect(validateTopicConfig('leader.replication.throttled.replicas', '*')).toBeNull();
    expect(validateTopicConfig('leader.replication.throttled.replicas', 'all')).toMatch(/must be the literal '\*' or a list of replicas/);
  });

  it('unknown topic keys and the cross-key compaction check', () => {
    expect(validateTopicConfig('retention.hours', '1')).toBe('Unknown topic config name: retention.hours');
    expect(validateTopicConfigs([['min.compaction.lag.ms', '10']])).toBeNull();
    expect(validateTopicConfigs([['min.compaction.lag.ms', '10'], ['max.compaction.lag.ms', '5']])).toBe(
      'conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)',
    );
  });
});
