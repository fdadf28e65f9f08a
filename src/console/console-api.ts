// What the web console's page asks for, answered with kts's own client (src/client), so the console
// works against kts and against any Kafka. Each function takes the connected client and plain
// arguments and returns plain JSON-able objects; console-server.ts maps URLs onto them.
import type { KafkaClient } from '../client/index.js';
import { ListOffsetsTime } from '../client/index.js';
import type { FetchedRecord, TopicMetadata } from '../client/index.js';

/** A request the page got wrong: answered 400 with the message. */
export class BadRequest extends Error {}

export async function clusterOverview(client: KafkaClient) {
  const [cluster, md, groups] = await Promise.all([client.admin.describeCluster(), client.metadata(null), client.groups.listGroups().catch(() => [])]);
  let partitions = 0;
  let underReplicated = 0;
  let offline = 0;
  for (const t of md.topics) {
    for (const p of t.partitions) {
      partitions++;
      if (p.leader < 0) offline++;
      else if (p.isr.length < p.replicas.length) underReplicated++;
    }
  }
  return {
    clusterId: cluster.clusterId,
    controllerId: cluster.controllerId,
    brokers: cluster.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })),
    topics: md.topics.filter((t) => !t.isInternal).length,
    internalTopics: md.topics.filter((t) => t.isInternal).length,
    partitions,
    underReplicated,
    offline,
    groups: groups.length,
  };
}

/** Start and end offsets of every partition of the topics, keyed `topic:partition`. */
async function offsetsOf(client: KafkaClient, topics: TopicMetadata[]) {
  const tps = topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition })));
  if (tps.length === 0) return new Map<string, { start: number; end: number }>();
  const [starts, ends] = await Promise.all([
    client.admin.listOffsets(tps.map((tp) => ({ ...tp, timestamp: ListOffsetsTime.earliest }))),
    client.admin.listOffsets(tps.map((tp) => ({ ...tp, timestamp: ListOffsetsTime.latest }))),
  ]);
  const out = new Map<string, { start: number; end: number }>();
  starts.forEach((s, i) => out.set(`${s.topic}:${s.partition}`, { start: s.offset, end: ends[i].offset }));
  return out;
}

export async function listTopics(client: KafkaClient) {
  const md = await client.metadata(null);
  const topics = md.topics.filter((t) => t.errorCode === 0).sort((a, b) => (a.name < b.name ? -1 : 1));
  const offsets = await offsetsOf(client, topics);
  return topics.map((t) => {
    let records = 0;
    for (const p of t.partitions) {
      const o = offsets.get(`${t.name}:${p.partition}`);
      if (o && o.end >= 0 && o.start >= 0) records += o.end - o.start;
    }
    return {
      name: t.name,
      internal: t.isInternal,
      partitions: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
      underReplicated: t.partitions.filter((p) => p.leader >= 0 && p.isr.length < p.replicas.length).length,
      offline: t.partitions.filter((p) => p.leader < 0).length,
      records,
    };
  });
}

export async function describeTopic(client: KafkaClient, name: string) {
  const [topic] = await client.admin.describeTopics([name]);
  if (!topic || topic.errorCode !== 0) throw new BadRequest(`Topic '${name}' does not exist`);
  const [offsets, configs] = await Promise.all([offsetsOf(client, [topic]), client.admin.describeConfigs([{ type: 'topic', name }])]);
  return {
    name: topic.name,
    topicId: topic.topicId,
    internal: topic.isInternal,
    partitions: topic.partitions
      .slice()
      .sort((a, b) => a.partition - b.partition)
      .map((p) => ({ partition: p.partition, leader: p.leader, replicas: p.replicas, isr: p.isr, ...offsets.get(`${name}:${p.partition}`) })),
    configs: (configs[0]?.entries ?? []).map((e) => ({ name: e.name, value: e.isSensitive ? '(sensitive)' : e.value, source: e.source, isDefault: e.isDefault })),
  };
}

export async function createTopic(client: KafkaClient, body: { name?: unknown; partitions?: unknown; replicationFactor?: unknown; configs?: unknown }) {
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  if (!name) throw new BadRequest('A topic needs a name');
  const partitions = body.partitions === undefined || body.partitions === '' ? -1 : Number(body.partitions);
  const replicationFactor = body.replicationFactor === undefined || body.replicationFactor === '' ? -1 : Number(body.replicationFactor);
  if (!Number.isInteger(partitions) || !Number.isInteger(replicationFactor)) throw new BadRequest('Partitions and replication factor are whole numbers');
  const configs: Record<string, string> = {};
  if (body.configs && typeof body.configs === 'object') for (const [k, v] of Object.entries(body.configs)) configs[k] = String(v);
  const [created] = await client.admin.createTopics([{ name, numPartitions: partitions, replicationFactor, configs }]);
  if (created?.error) throw new BadRequest(created.error.message);
  return { name };
}

export async function deleteTopic(client: KafkaClient, name: string) {
  const [deleted] = await client.admin.deleteTopics([name]);
  if (deleted?.error) throw new BadRequest(deleted.error.message);
  return { name };
}

export interface BrowseQuery {
  partition?: number;
  /** Start at this offset (per partition), or at the first record at/after this time (ms). */
  offset?: number;
  timestamp?: number;
  /** 'beginning' (default without offset/timestamp: the newest `limit`), or 'end'. */
  from?: 'beginning' | 'newest';
  limit: number;
  /** Case-insensitive text looked for in key, value and headers. */
  search?: string;
}

/** At most this many records are read per browse (a search scans up to this far). */
const SCAN_LIMIT = 5000;

export async function browse(client: KafkaClient, topicName: string, q: BrowseQuery) {
  const [topic] = await client.admin.describeTopics([topicName]);
  if (!topic || topic.errorCode !== 0) throw new BadRequest(`Topic '${topicName}' does not exist`);
  const partitions = topic.partitions.map((p) => p.partition).filter((p) => q.partition === undefined || p === q.partition).sort((a, b) => a - b);
  if (partitions.length === 0) throw new BadRequest(`Topic '${topicName}' has no partition ${q.partition}`);
  const limit = Math.max(1, Math.min(q.limit, 500));
  const bounds = await offsetsOf(client, [{ ...topic, partitions: topic.partitions.filter((p) => partitions.includes(p.partition)) }]);
  const starts = new Map<number, number>();
  if (q.timestamp !== undefined) {
    const found = await client.admin.listOffsets(partitions.map((partition) => ({ topic: topicName, partition, timestamp: q.timestamp! })));
    for (const f of found) starts.set(f.partition, f.offset >= 0 ? f.offset : bounds.get(`${topicName}:${f.partition}`)!.end);
  } else {
    for (const p of partitions) {
      const b = bounds.get(`${topicName}:${p}`)!;
      const start = q.offset !== undefined ? q.offset : q.from === 'beginning' || q.search ? b.start : Math.max(b.start, b.end - limit);
      starts.set(p, Math.min(Math.max(start, b.start), b.end));
    }
  }
  const needle = q.search?.toLowerCase();
  const matches: FetchedRecord[] = [];
  let scanned = 0;
  const positions = new Map(starts);
  // Fetch rounds until every partition reached its end, enough records matched, or the scan limit.
  for (let round = 0; round < 200 && matches.length < limit * partitions.length && scanned < SCAN_LIMIT; round++) {
    const wanted = partitions.filter((p) => positions.get(p)! < bounds.get(`${topicName}:${p}`)!.end);
    if (wanted.length === 0) break;
    const fetched = await client.fetch(
      wanted.map((partition) => ({ topic: topicName, partition, offset: positions.get(partition)!, maxBytes: 1024 * 1024 })),
      { maxWaitMs: 0, maxBytes: 4 * 1024 * 1024 },
    );
    let progressed = false;
    for (const f of fetched) {
      if (f.error) throw new BadRequest(`Partition ${f.partition}: ${f.error.message}`);
      if (f.nextOffset > positions.get(f.partition)!) progressed = true;
      positions.set(f.partition, Math.max(positions.get(f.partition)!, f.nextOffset));
      const taken = matches.filter((m) => m.partition === f.partition).length;
      let room = limit - taken;
      for (const r of f.records) {
        scanned++;
        if (room <= 0) break;
        if (needle && !recordMatches(r, needle)) continue;
        matches.push(r);
        room--;
      }
    }
    if (!progressed) break;
  }
  matches.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset);
  return {
    topic: topicName,
    partitions: partitions.map((p) => ({ partition: p, ...bounds.get(`${topicName}:${p}`), from: starts.get(p), next: positions.get(p) })),
    scanned,
    records: matches.slice(0, limit).map(recordJson),
  };
}

function text(buffer: Buffer | null): string | null {
  return buffer === null ? null : buffer.toString('utf8');
}

function recordMatches(r: FetchedRecord, needle: string): boolean {
  if (text(r.key)?.toLowerCase().includes(needle)) return true;
  if (text(r.value)?.toLowerCase().includes(needle)) return true;
  return r.headers.some((h) => h.key.toLowerCase().includes(needle) || text(h.value)?.toLowerCase().includes(needle));
}

function recordJson(r: FetchedRecord) {
  return {
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: r.timestampType,
    key: text(r.key),
    value: text(r.value),
    headers: r.headers.map((h) => ({ key: h.key, value: text(h.value) })),
  };
}

export async function produce(client: KafkaClient, topic: string, body: { key?: unknown; value?: unknown; partition?: unknown; headers?: unknown }) {
  const partition = body.partition === undefined || body.partition === null || body.partition === '' ? undefined : Number(body.partition);
  if (partition !== undefined && !Number.isInteger(partition)) throw new BadRequest('The partition is a whole number');
  const headers = Array.isArray(body.headers)
    ? body.headers.filter((h) => h && typeof h.key === 'string' && h.key !== '').map((h) => ({ key: String(h.key), value: h.value == null ? null : Buffer.from(String(h.value)) }))
    : [];
  const producer = client.producer({ acks: -1 });
  try {
    const meta = await producer.send(topic, {
      key: typeof body.key === 'string' && body.key !== '' ? Buffer.from(body.key) : null,
      value: body.value == null ? null : Buffer.from(String(body.value)),
      headers,
      partition,
    });
    return { topic, partition: meta.partition, offset: meta.offset, timestamp: meta.timestamp };
  } finally {
    producer.close();
  }
}

export async function listGroups(client: KafkaClient) {
  const listed = await client.groups.listGroups();
  const ids = listed.map((g) => g.groupId).sort();
  const described = ids.length ? await client.groups.describeGroups(ids) : [];
  return Promise.all(
    described.map(async (g) => {
      const lag = await groupLag(client, g.groupId).catch(() => []);
      return {
        groupId: g.groupId,
        type: g.type,
        state: g.state,
        members: g.members.length,
        topics: [...new Set(lag.map((l) => l.topic))],
        lag: lag.reduce((sum, l) => sum + (l.lag ?? 0), 0),
      };
    }),
  );
}

async function groupLag(client: KafkaClient, groupId: string) {
  const committed = (await client.groups.fetchOffsets(groupId)).filter((c) => !c.error);
  if (committed.length === 0) return [];
  const ends = await client.admin.listOffsets(committed.map((c) => ({ topic: c.topic, partition: c.partition, timestamp: ListOffsetsTime.latest })));
  return committed
    .map((c, i) => ({ topic: c.topic, partition: c.partition, committed: c.offset, end: ends[i].offset, lag: c.offset >= 0 && ends[i].offset >= 0 ? Math.max(0, ends[i].offset - c.offset) : null }))
    .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

export async function describeGroup(client: KafkaClient, groupId: string) {
  const [g] = await client.groups.describeGroups([groupId]);
  if (!g || g.error) throw new BadRequest(g?.error?.message ?? `Group '${groupId}' not found`);
  const partitions = await groupLag(client, groupId);
  return {
    groupId,
    type: g.type,
    state: g.state,
    protocol: g.protocol,
    members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost })),
    partitions,
    lag: partitions.reduce((sum, p) => sum + (p.lag ?? 0), 0),
    at: Date.now(),
  };
}

/** Reset a group's offsets on a topic (the group must have no members, as kafka-consumer-groups requires). */
export async function resetOffsets(client: KafkaClient, groupId: string, body: { topic?: unknown; to?: unknown; value?: unknown }) {
  const topicName = typeof body.topic === 'string' ? body.topic : '';
  const [topic] = await client.admin.describeTopics([topicName]);
  if (!topic || topic.errorCode !== 0) throw new BadRequest(`Topic '${topicName}' does not exist`);
  const [g] = await client.groups.describeGroups([groupId]);
  if (g && g.members.length > 0) throw new BadRequest(`Group '${groupId}' has ${g.members.length} active member(s): stop its consumers first (state ${g.state})`);
  const tps = topic.partitions.map((p) => ({ topic: topicName, partition: p.partition }));
  let targets: { topic: string; partition: number; offset: number }[];
  if (body.to === 'earliest' || body.to === 'latest' || body.to === 'timestamp') {
    const timestamp = body.to === 'earliest' ? ListOffsetsTime.earliest : body.to === 'latest' ? ListOffsetsTime.latest : Number(body.value);
    if (!Number.isFinite(timestamp)) throw new BadRequest('The time is milliseconds since the epoch');
    const found = await client.admin.listOffsets(tps.map((tp) => ({ ...tp, timestamp })));
    const ends = body.to === 'timestamp' ? await client.admin.listOffsets(tps.map((tp) => ({ ...tp, timestamp: ListOffsetsTime.latest }))) : found;
    targets = found.map((f, i) => ({ topic: f.topic, partition: f.partition, offset: f.offset >= 0 ? f.offset : ends[i].offset }));
  } else if (body.to === 'offset') {
    const offset = Number(body.value);
    if (!Number.isInteger(offset) || offset < 0) throw new BadRequest('The offset is a whole number');
    targets = tps.map((tp) => ({ ...tp, offset }));
  } else {
    throw new BadRequest('Reset to earliest, latest, offset or timestamp');
  }
  const results = await client.groups.commitOffsets(groupId, targets);
  const failed = results.find((r) => r.error);
  if (failed) throw new BadRequest(`Partition ${failed.partition}: ${failed.error!.message}`);
  return { groupId, offsets: targets };
}
