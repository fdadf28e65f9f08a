// The library entry: run a real broker inside your own process (test suites, tools).
export { type BrokerHandle, type BrokerOptions } from './broker/index.js';
export { startBroker, KIT_BROKER_DEFAULTS } from './broker/kit-defaults.js';
export { startCluster, type ClusterHandle, type ClusterOptions } from './broker/embedded-cluster.js';
export type { Faults, FaultMatch, FaultSpec, FaultRule, PauseRule } from './broker/faults.js';
export type { RecordedRequest } from './broker/request-recording.js';
// What fault rules and recorded requests are written in: API keys and error codes by Kafka's names.
export { ApiKey, ErrorCode, errorName } from './protocol/index.js';
// Waits and reads for tests, over kts's own client.
export { consumeAll, waitForGroupStable, waitForOffsets, type ConsumeAllOptions, type KitTarget, type WaitOptions } from './kit/helpers.js';
export type { FetchedRecord, GroupDescription, GroupMemberDescription } from './client/index.js';
export type { BrokerClock } from './broker/fake-clock.js';
