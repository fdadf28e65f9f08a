// --list, --delete and --delete-offsets, with Kafka's texts.
import { kafkaError, type KafkaClient, type TopicPartition } from '../../client/index.js';
import type { View } from '../output.js';
import { parseTopicArg } from './args.js';
import type { Notes } from './describe.js';
import { col, errorText, executionException, javaString } from './text.js';

export interface Listing {
  groupId: string;
  state: string;
  type: string;
}

/** Consumer groups as Kafka's admin lists them: protocol type "consumer", or "" (offsets only). */
export async function listConsumerGroups(client: KafkaClient, states: string[] = []): Promise<Listing[]> {
  const all = await client.groups.listGroups(states.length ? { states } : {});
  return all
    .filter((g) => g.protocolType === 'consumer' || g.protocolType === '')
    .map((g) => ({ groupId: g.groupId, state: g.state || 'Unknown', type: g.type || 'classic' }));
}

const typeName = (t: string) => (t.toLowerCase() === 'consumer' ? 'Consumer' : t.toLowerCase() === 'classic' ? 'Classic' : 'Unknown');

export async function list(client: KafkaClient, opts: { withState: boolean; withType: boolean; states: string[]; types: string[] }): Promise<View> {
  let groups = await listConsumerGroups(client, opts.withState ? opts.states : []);
  if (opts.types.length) groups = groups.filter((g) => opts.types.includes(g.type.toLowerCase()));
  const json = { groups: groups.map((g) => ({ group: g.groupId, state: g.state, type: typeName(g.type).toLowerCase() })) };
  if (!opts.withState && !opts.withType) {
    return { plain: groups.map((g) => `${g.groupId}\n`).join(''), json, tables: [{ head: ['GROUP'], rows: groups.map((g) => [g.groupId]) }] };
  }
  const width = Math.max(15, ...groups.map((g) => g.groupId.length)) + 10;
  const line = (id: string, type: string, state: string) =>
    `${col(id, width)}${opts.withType ? ` ${col(type, 20)}` : ''}${opts.withState ? ` ${col(state, 20)}` : ''}\n`;
  const head = ['GROUP', ...(opts.withType ? ['TYPE'] : []), ...(opts.withState ? ['STATE'] : [])];
  return {
    plain: line('GROUP', 'TYPE', 'STATE') + groups.map((g) => line(g.groupId, typeName(g.type), g.state)).join(''),
    json,
    tables: [{ head, rows: groups.map((g) => [g.groupId, ...(opts.withType ? [typeName(g.type)] : []), ...(opts.withState ? [g.state] : [])]) }],
  };
}

export async function deleteGroups(client: KafkaClient, groupIds: string[], notes: Notes): Promise<View> {
  const results = await client.groups.deleteGroups(groupIds);
  const ok = results.filter((r) => !r.error).map((r) => r.groupId);
  const failed = results.filter((r) => r.error);
  const json = { deleted: ok, failed: failed.map((r) => ({ group: r.groupId, error: javaString(r.error) })) };
  if (failed.length === 0) {
    return { plain: `Deletion of requested consumer groups ('${ok.join("', '")}') was successful.\n`, json };
  }
  notes.failed = true;
  let plain = errorText('Deletion of some consumer groups failed:');
  for (const r of failed) plain += `* Group '${r.groupId}' could not be deleted due to: ${executionException(r.error)}\n`;
  if (ok.length) plain += `\nThese consumer groups were deleted successfully: '${ok.join("', '")}'\n`;
  return { plain, json };
}

export async function deleteOffsets(client: KafkaClient, groupId: string, topicArgs: string[], notes: Notes): Promise<View> {
  const statuses = new Map<string, { topic: string; partition: number; error: unknown }>();
  const partitions: TopicPartition[] = [];
  for (const raw of new Set(topicArgs)) {
    const { topic, partitions: given } = parseTopicArg(raw);
    if (given) {
      partitions.push(...given.map((partition) => ({ topic, partition })));
      continue;
    }
    try {
      const md = await client.topic(topic, true);
      if (md.errorCode) throw kafkaError(md.errorCode);
      partitions.push(...md.partitions.map((p) => ({ topic, partition: p.partition })));
    } catch (err) {
      // Kafka shows the broker's exception for an unknown topic, not a tool message.
      const code = (err as { code?: number }).code;
      statuses.set(`${topic}-1`, { topic, partition: -1, error: code ? kafkaError(code) : err });
    }
  }
  const unique = [...new Map(partitions.map((p) => [`${p.topic}:${p.partition}`, p])).values()];
  const result = await client.groups.deleteOffsets(groupId, unique);
  const perPartition = new Map(result.partitions.map((p) => [`${p.topic}:${p.partition}`, p.error]));
  for (const p of unique) {
    statuses.set(`${p.topic}${p.partition}`, { ...p, error: result.error ?? perPartition.get(`${p.topic}:${p.partition}`) });
  }
  const top = result.error?.code ?? (result.partitions.find((p) => p.error)?.error?.code ?? 0);
  let plain: string;
  switch (top) {
    case 0:
      plain = `Request succeed for deleting offsets with topic ${topicArgs.join(', ')} group ${groupId}\n`;
      break;
    case 24:
      plain = errorText(`'${groupId}' is not valid.`);
      break;
    case 69:
      plain = errorText(`'${groupId}' does not exist.`);
      break;
    case 30:
      plain = errorText(`Access to '${groupId}' is not authorized.`);
      break;
    case 68:
      plain = errorText(`Deleting offsets of a consumer group '${groupId}' is forbidden if the group is not empty.`);
      break;
    case 86:
    case 29:
    case 3:
      plain = errorText('Encounter some partition level error, see the follow-up details:');
      break;
    default:
      plain = errorText(`Encounter some unknown error: ${result.error?.javaName ?? top}`);
  }
  if (top !== 0) notes.failed = true;
  const rows = [...statuses.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
  const fmt = (c: (string | number)[]) => `\n${col(c[0], 30)} ${col(c[1], 15)} ${col(c[2], 15)}`;
  const status = (e: unknown) => (e ? `Error: :${javaString(e)}` : 'Successful');
  plain += fmt(['TOPIC', 'PARTITION', 'STATUS']);
  for (const r of rows) plain += fmt([r.topic, r.partition >= 0 ? r.partition : 'Not Provided', status(r.error)]);
  plain += '\n';
  return {
    plain,
    json: {
      group: groupId,
      error: result.error ? javaString(result.error) : null,
      partitions: rows.map((r) => ({ topic: r.topic, partition: r.partition >= 0 ? r.partition : null, error: r.error ? javaString(r.error) : null })),
    },
    tables: [{ head: ['TOPIC', 'PARTITION', 'STATUS'], rows: rows.map((r) => [r.topic, r.partition >= 0 ? r.partition : 'Not Provided', status(r.error)]) }],
  };
}
