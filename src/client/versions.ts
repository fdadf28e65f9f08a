// The APIs the client speaks and the version range it can fill in for each. A connection uses
// min(our max, the broker's max), refusing when that falls below either minimum. The maxima are
// Kafka 4.4's where the request is the same for the client, and stop below versions that need
// state kts does not keep or another request shape: Produce v12+ (transaction version 2).
// The forms by topic id (Fetch v13+, OffsetCommit v10, OffsetFetch v10) are sent only when every
// topic of the request has an id in Metadata, else the last version by name, as Kafka's clients do
// (client/fetch-request.ts, Groups.topicIds); DeleteTopics v6 names its topics.
// test/e2e/real-kafka/client-versions.test.ts checks the versions negotiated with Kafka 4.4 and 3.9.
import { ApiKey } from '../protocol/generated/api-keys.js';

export const API = ApiKey;

export const OUR_VERSIONS: Readonly<Record<number, readonly [number, number]>> = {
  // v12 means transaction version 2 (the leader adds the partition to the transaction): a
  // transactional producer here (src/streams) speaks version 1, so, as Kafka's client then does, 11.
  [API.Produce]: [3, 11],
  [API.Fetch]: [4, 18],
  [API.ListOffsets]: [1, 11],
  [API.Metadata]: [1, 13],
  [API.OffsetCommit]: [2, 10],
  [API.OffsetFetch]: [1, 10],
  [API.FindCoordinator]: [0, 6],
  [API.JoinGroup]: [0, 9],
  [API.Heartbeat]: [0, 4],
  [API.LeaveGroup]: [0, 5],
  [API.SyncGroup]: [0, 5],
  [API.DescribeGroups]: [0, 6],
  [API.ListGroups]: [0, 5],
  [API.ApiVersions]: [0, 0],
  [API.CreateTopics]: [0, 7],
  [API.DeleteTopics]: [0, 6],
  [API.DeleteRecords]: [0, 2],
  [API.DescribeAcls]: [1, 3],
  [API.CreateAcls]: [1, 3],
  [API.DeleteAcls]: [1, 3],
  [API.DescribeConfigs]: [0, 4],
  [API.AlterConfigs]: [0, 2],
  [API.CreatePartitions]: [0, 3],
  [API.DeleteGroups]: [0, 3],
  [API.ElectLeaders]: [0, 2],
  [API.IncrementalAlterConfigs]: [0, 1],
  [API.OffsetDelete]: [0, 0],
  [API.AlterPartitionReassignments]: [0, 0],
  [API.ListPartitionReassignments]: [0, 0],
  [API.DescribeCluster]: [0, 2],
  [API.DescribeTopicPartitions]: [0, 0],
  [API.ConsumerGroupDescribe]: [0, 1],
  [API.DescribeProducers]: [0, 0],
  [API.DescribeTransactions]: [0, 0],
  [API.ListTransactions]: [0, 1],
  [API.WriteTxnMarkers]: [0, 2],
  // Brokers' own form (KIP-890): a partition leader asking a transaction coordinator.
  [API.AddPartitionsToTxn]: [4, 5],
  // An idempotent producer's id (kts migrate, Connect's source tasks: no transactional id).
  [API.InitProducerId]: [0, 5],
};

const names = new Map<number, string>(Object.entries(API).map(([name, key]) => [key as number, name]));

export function apiLabel(apiKey: number): string {
  return names.get(apiKey) ?? `API ${apiKey}`;
}
