// One Fetch request to one broker, by topic id where the broker and the metadata allow it.
// Fetch v13+ names topics by id only (KIP-516); Kafka's consumer sends it when every topic of the
// request has an id from Metadata, and otherwise stays at v12, which still takes names. This does
// the same, and maps the answer's topic ids back to names, so callers see names either way.
// Kept apart from fetch.ts (the record decoding), which kts migrate does not need.
import type { PartitionData } from '../protocol/generated/01-fetch.js';
import type { Cluster } from './cluster.js';
import { ZERO_ID } from './cluster.js';
import type { BrokerConnection } from './connection.js';
import { API } from './versions.js';

/** The last Fetch version that names topics. */
export const LAST_FETCH_BY_NAME = 12;

export interface FetchPartitionRequest {
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

export interface FetchParams {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  isolationLevel: 0 | 1;
  timeoutMs: number;
}

/** A topic of the answer, by name, with its partitions as decoded. */
export interface FetchedTopic {
  topic: string;
  partitions: PartitionData[];
}

export async function sendFetch(conn: BrokerConnection, cluster: Cluster, topics: [string, FetchPartitionRequest[]][], params: FetchParams): Promise<FetchedTopic[]> {
  const ids = topics.map(([name]) => cluster.topic(name)?.topicId ?? ZERO_ID);
  let version = conn.version(API.Fetch);
  if (version > LAST_FETCH_BY_NAME && ids.some((id) => id === ZERO_ID)) version = LAST_FETCH_BY_NAME;
  const byId = version > LAST_FETCH_BY_NAME;
  const body = await conn.send(
    API.Fetch,
    version,
    {
      replicaId: -1,
      maxWaitMs: params.maxWaitMs,
      minBytes: params.minBytes,
      maxBytes: params.maxBytes,
      isolationLevel: params.isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: topics.map(([topic, partitions], i) => ({
        ...(byId ? { topicId: ids[i] } : { topic }),
        partitions: partitions.map((p) => ({ ...p, currentLeaderEpoch: -1, lastFetchedEpoch: -1, logStartOffset: -1 })),
      })),
      forgottenTopicsData: [],
      rackId: '',
    },
    { timeoutMs: params.timeoutMs },
  );
  const nameOf = new Map(topics.map(([name], i) => [ids[i], name]));
  const out: FetchedTopic[] = [];
  for (const t of body.responses) {
    const topic = byId ? nameOf.get(t.topicId) : t.topic;
    if (topic !== undefined) out.push({ topic, partitions: t.partitions });
  }
  return out;
}
