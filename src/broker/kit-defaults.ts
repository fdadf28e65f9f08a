// The test kit's broker defaults (startBroker/startCluster from the package entry; `kts server-start`
// keeps Kafka's). A test suite wants a group's first rebalance at once rather than after Kafka's 3 s,
// members that may ask for sessions of a second or two so a test that kills one waits seconds
// rather than Kafka's 45 s, and topics that appear when a client first names them. Every key can be
// set back through `overrides`.
import { startBrokerWith, type BrokerHandle, type BrokerOptions } from './broker.js';

/** What the kit sets unless `overrides` says otherwise (Kafka's value in the comment). */
export const KIT_BROKER_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  // Kafka: 3000. A classic group's first rebalance starts when its first member joins.
  'group.initial.rebalance.delay.ms': '0',
  // Kafka: 6000. Classic members (kafkajs, librdkafka) may ask for sessions down to 1 s.
  'group.min.session.timeout.ms': '1000',
  // Kafka: 45000 / 45000 / 5000 / 5000. KIP-848 members: a silent member is fenced after 10 s (it may ask
  // for 1 s), and is told to heartbeat every second (at least every 500 ms).
  'group.consumer.session.timeout.ms': '10000',
  'group.consumer.min.session.timeout.ms': '1000',
  'group.consumer.heartbeat.interval.ms': '1000',
  'group.consumer.min.heartbeat.interval.ms': '500',
  // Kafka's default too, spelled out: the kit relies on it (a producer's first send makes its topic).
  'auto.create.topics.enable': 'true',
  // Kafka: 50. Fewer __consumer_offsets partitions to create and load at a group's first use.
  'offsets.topic.num.partitions': '5',
});

/**
 * A broker inside the calling process, for tests: as `kts server-start` with the options given, plus
 * the kit's defaults (KIT_BROKER_DEFAULTS) where `overrides` and `configFile` do not set the key.
 */
export async function startBroker(opts: BrokerOptions = {}): Promise<BrokerHandle> {
  return startBrokerWith(opts, { defaults: KIT_BROKER_DEFAULTS });
}
