// Every API the broker serves. Adding an API = adding its file here; ApiVersions follows.
// snappy, lz4 and zstd (gzip is built in); loaded on first use.
import '../../protocol/records/codecs.js';
import { groupHandlers } from '../groups/index.js';
import { HandlerRegistry } from '../handler-registry.js';
import { transactionHandlers } from '../transactions/index.js';
import type { AsKafka } from '../kafka-releases.js';
import produce from './00-produce.js';
import fetch from './01-fetch.js';
import listOffsets from './02-list-offsets.js';
import metadata from './03-metadata.js';
import saslHandshake from './17-sasl-handshake.js';
import apiVersions from './18-api-versions.js';
import saslAuthenticate from './36-sasl-authenticate.js';
import createTopics from './19-create-topics.js';
import deleteTopics from './20-delete-topics.js';
import deleteRecords from './21-delete-records.js';
import initProducerId from './22-init-producer-id.js';
import offsetForLeaderEpoch from './23-offset-for-leader-epoch.js';
import describeAcls from './29-describe-acls.js';
import createAcls from './30-create-acls.js';
import deleteAcls from './31-delete-acls.js';
import describeConfigs from './32-describe-configs.js';
import alterConfigs from './33-alter-configs.js';
import createPartitions from './37-create-partitions.js';
import electLeaders from './43-elect-leaders.js';
import incrementalAlterConfigs from './44-incremental-alter-configs.js';
import alterPartitionReassignments from './45-alter-partition-reassignments.js';
import listPartitionReassignments from './46-list-partition-reassignments.js';
import describeUserScramCredentials from './50-describe-user-scram-credentials.js';
import alterUserScramCredentials from './51-alter-user-scram-credentials.js';
import describeCluster from './60-describe-cluster.js';
import describeTopicPartitions from './75-describe-topic-partitions.js';

/** `asKafka`: speak as that Kafka release (its version ranges), see handler-registry.ts. */
export function createHandlerRegistry(asKafka?: AsKafka): HandlerRegistry {
  return new HandlerRegistry([
    produce,
    fetch,
    listOffsets,
    metadata,
    saslHandshake,
    apiVersions,
    createTopics,
    deleteTopics,
    deleteRecords,
    initProducerId,
    offsetForLeaderEpoch,
    describeAcls,
    createAcls,
    deleteAcls,
    describeConfigs,
    alterConfigs,
    createPartitions,
    electLeaders,
    incrementalAlterConfigs,
    saslAuthenticate,
    alterPartitionReassignments,
    listPartitionReassignments,
    describeUserScramCredentials,
    alterUserScramCredentials,
    describeCluster,
    describeTopicPartitions,
    ...groupHandlers,
    ...transactionHandlers,
  ], asKafka);
}
