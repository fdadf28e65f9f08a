// --describe: the offsets view (default), --members and --state, for --group ... or --all-groups.
// Groups print in name order (Kafka collects them in a TreeMap); each block opens with an empty
// line. Empty and rebalancing groups get a note on stderr, missing ones an error on stdout.
// The text is Kafka 3.9's tool's, or with --kafka-text 4.4 Kafka 4.4's: its --members --verbose
// shows member and target-assignment epochs, --state its own widths (and epochs with --verbose),
// --offsets --verbose each committed leader epoch.
import type { CommittedOffset, GroupDescription, KafkaClient, TopicPartition } from '../../client/index.js';
import type { TableView, View } from '../output.js';
import { MISSING, col, errorText, row, widest } from './text.js';

export interface Notes {
  /** Lines for stderr, in order. */
  stderr: string[];
  /** Whether something was reported as an error (for --strict). */
  failed: boolean;
}

/** Whose tool's text to print: Kafka 3.9's (kts's default) or 4.4's. */
export type KafkaText = '3.9' | '4.4';

export interface OffsetRow {
  group: string;
  topic: string;
  partition: string;
  /** The leader epoch committed with the offset (Kafka 4.4's --offsets --verbose). */
  leaderEpoch?: string;
  current: string;
  logEnd: string;
  lag: string;
  consumerId: string;
  host: string;
  clientId: string;
}

/**
 * Kafka's shouldPrintMemberState: Dead -> error on stdout; Empty -> "no active members" and
 * rebalancing -> a warning, both on stderr. True when there are rows worth a table.
 */
function stateNote(group: string, state: string, rows: number, out: { plain: string[]; notes: Notes }): boolean {
  switch (state) {
    case 'Dead':
      out.plain.push(errorText(`Consumer group '${group}' does not exist.`));
      out.notes.failed = true;
      return false;
    case 'Empty':
      out.notes.stderr.push(`\nConsumer group '${group}' has no active members.`);
      break;
    case 'PreparingRebalance':
    case 'CompletingRebalance':
    case 'Assigning':
    case 'Reconciling':
      out.notes.stderr.push(`\nWarning: Consumer group '${group}' is rebalancing.`);
      break;
  }
  return rows > 0;
}

const byTopicPartition = (a: TopicPartition, b: TopicPartition) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition);

async function describeSorted(client: KafkaClient, groupIds: string[]): Promise<GroupDescription[]> {
  const unique = [...new Set(groupIds)].sort();
  return client.groups.describeGroups(unique);
}

async function logEndOffsets(client: KafkaClient, partitions: TopicPartition[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (partitions.length === 0) return out;
  const listed = await client.admin.listOffsets(partitions.map((p) => ({ ...p, timestamp: -1 })));
  for (const l of listed) if (!l.error && l.offset >= 0) out.set(`${l.topic}:${l.partition}`, l.offset);
  return out;
}

/** One group's offsets view: its state and its rows, in Kafka's order (assigned first). */
export interface GroupOffsets {
  group: string;
  state: string;
  rows: OffsetRow[];
}

/** What the offsets view shows, fetched once: committed offsets, log-end offsets, members. */
export async function collectOffsets(client: KafkaClient, groupIds: string[]): Promise<GroupOffsets[]> {
  const out: GroupOffsets[] = [];
  for (const g of await describeSorted(client, groupIds)) {
    const committed = new Map<string, CommittedOffset>();
    for (const c of await client.groups.fetchOffsets(g.groupId)) if (c.offset >= 0) committed.set(`${c.topic}:${c.partition}`, c);
    const assigned = new Set<string>();
    const withMember: (TopicPartition & { member: GroupDescription['members'][number] })[] = [];
    for (const m of g.members) {
      for (const tp of m.assignment) {
        assigned.add(`${tp.topic}:${tp.partition}`);
        withMember.push({ ...tp, member: m });
      }
    }
    withMember.sort(byTopicPartition);
    const unassigned = [...committed.values()].filter((c) => !assigned.has(`${c.topic}:${c.partition}`)).sort(byTopicPartition);
    const leo = await logEndOffsets(client, [...withMember, ...unassigned].map(({ topic, partition }) => ({ topic, partition })));
    const makeRow = (tp: TopicPartition, m?: GroupDescription['members'][number]): OffsetRow => {
      const key = `${tp.topic}:${tp.partition}`;
      const current = committed.get(key)?.offset;
      const epoch = committed.get(key)?.leaderEpoch ?? -1;
      const end = leo.get(key);
      return {
        group: g.groupId,
        topic: tp.topic,
        partition: String(tp.partition),
        leaderEpoch: epoch < 0 ? MISSING : String(epoch),
        current: current === undefined ? MISSING : String(current),
        logEnd: end === undefined ? MISSING : String(end),
        lag: current === undefined || end === undefined ? MISSING : String(end - current),
        consumerId: m?.memberId ?? MISSING,
        host: m?.clientHost ?? MISSING,
        clientId: m?.clientId ?? MISSING,
      };
    };
    out.push({ group: g.groupId, state: g.state, rows: [...withMember.map((tp) => makeRow(tp, tp.member)), ...unassigned.map((tp) => makeRow(tp))] });
  }
  return out;
}

/** The JSON `Offset` of a row (null where the text prints `-`). */
export function offsetJson(r: OffsetRow): Record<string, string | number | null> {
  return {
    topic: r.topic,
    partition: Number(r.partition),
    currentOffset: r.current === MISSING ? null : Number(r.current),
    logEndOffset: r.logEnd === MISSING ? null : Number(r.logEnd),
    lag: r.lag === MISSING ? null : Number(r.lag),
    consumerId: r.consumerId === MISSING ? null : r.consumerId,
    host: r.host === MISSING ? null : r.host,
    clientId: r.clientId === MISSING ? null : r.clientId,
  };
}

export const TERMINAL_OFFSETS_HEAD = ['TOPIC', 'PART', 'CURRENT', 'LOG-END', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'];

/** Kafka's offsets table: column widths and header. `extra` columns follow CLIENT-ID (kts --watch). */
export function offsetsLayout(rows: OffsetRow[], extra: { head: string; width: number }[] = []): { widths: (number | undefined)[]; header: string[] } {
  const widths: (number | undefined)[] = [
    widest(15, rows.map((r) => r.group)),
    widest(15, rows.map((r) => r.topic)),
    10,
    15,
    15,
    15,
    widest(15, rows.map((r) => r.consumerId)),
    widest(15, rows.map((r) => r.host)),
  ];
  if (extra.length === 0) widths.push(undefined);
  else widths.push(widest(15, rows.map((r) => r.clientId)), ...extra.map((e, i) => (i === extra.length - 1 ? undefined : e.width)));
  const header = ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', ...extra.map((e) => e.head)];
  return { widths, header };
}

/** Kafka's shouldPrintMemberState, for other views of the offsets (kts --watch). */
export function offsetsStateNote(g: GroupOffsets, out: { plain: string[]; notes: Notes }): boolean {
  return stateNote(g.group, g.state, g.rows.length, out);
}

export async function describeOffsets(client: KafkaClient, groupIds: string[], notes: Notes, withLeaderEpoch = false): Promise<View> {
  const plain: string[] = [];
  const json: unknown[] = [];
  const tables: TableView[] = [];
  for (const g of await collectOffsets(client, groupIds)) {
    const rows = g.rows;
    json.push({ group: g.group, state: g.state, offsets: rows.map(offsetJson) });
    if (!stateNote(g.group, g.state, rows.length, { plain, notes })) continue;
    const { widths, header } = offsetsLayout(rows);
    const cells = rows.map((r) => [r.group, r.topic, r.partition, r.current, r.logEnd, r.lag, r.consumerId, r.host, r.clientId]);
    // Kafka 4.4's --offsets --verbose: LEADER-EPOCH (15 wide) after PARTITION.
    const withEpoch = <T>(list: T[], epoch: T) => (withLeaderEpoch ? [...list.slice(0, 3), epoch, ...list.slice(3)] : list);
    const textWidths = withEpoch(widths, 15);
    const textRows = cells.map((c, i) => withEpoch(c, rows[i].leaderEpoch ?? MISSING));
    plain.push(`\n${row(withEpoch(header, 'LEADER-EPOCH'), textWidths)}${textRows.map((c) => `\n${row(c, textWidths)}`).join('')}\n`);
    // Lag is what a person looks for: yellow while there is some, green at zero.
    const lagCell = (lag: string) => (lag === MISSING ? lag : { text: lag, tone: lag === '0' ? ('good' as const) : ('warn' as const) });
    // Kafka's long headers would take half of an 80-column terminal on their own.
    tables.push({ title: `${g.group} (${g.state})`, head: TERMINAL_OFFSETS_HEAD, rows: cells.map((c) => [...c.slice(1, 5), lagCell(c[5]), ...c.slice(6)]) });
  }
  return { plain: plain.join(''), json: { groups: json }, tables };
}

/** Kafka 3.6's form of a member's assignment (`orders(0,1), payments(0)`), `-` when empty. */
function assignmentText(assignment: TopicPartition[]): string {
  if (assignment.length === 0) return MISSING;
  const byTopic = new Map<string, number[]>();
  for (const tp of assignment) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  return [...byTopic]
    .map(([t, ps]) => `${t}(${ps.sort((a, b) => a - b).join(',')})`)
    .sort()
    .join(', ');
}

/** Kafka 4.4's form of an assignment (`orders:0,1;payments:0`), `-` when empty. */
function assignmentText44(assignment: TopicPartition[] | undefined): string {
  if (!assignment || assignment.length === 0) return MISSING;
  const byTopic = new Map<string, number[]>();
  for (const tp of assignment) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  return [...byTopic]
    .map(([t, ps]) => `${t}:${ps.sort((a, b) => a - b).join(',')}`)
    .sort()
    .join(';');
}

/**
 * Kafka 4.4's verbose member columns: CURRENT-EPOCH, CURRENT-ASSIGNMENT, TARGET-EPOCH (the group's
 * target assignment epoch), TARGET-ASSIGNMENT, and UPGRADED when the group mixes classic and
 * consumer-protocol members. The assignment columns are at least 20 wide; the last is padded too.
 */
function verboseColumns44(g: GroupDescription): { header: string; cells: string[] } {
  const epoch = (n: number | undefined) => (n === undefined ? MISSING : String(n));
  const values = g.members.map((m) => [epoch(m.memberEpoch), assignmentText44(m.assignment), epoch(g.targetAssignmentEpoch), assignmentText44(m.targetAssignment)]);
  const current = widest(20, values.map((v) => v[1]));
  const target = widest(20, values.map((v) => v[3]));
  const migrating = g.members.some((m) => m.upgraded === true) && g.members.some((m) => m.upgraded === false);
  const fmt = (c: string[], upgraded?: string) => `${col(c[0], 15)} ${col(c[1], current)} ${col(c[2], 15)} ${col(c[3], target)}${migrating ? ` ${upgraded}` : ''}`;
  return {
    header: fmt(['CURRENT-EPOCH', 'CURRENT-ASSIGNMENT', 'TARGET-EPOCH', 'TARGET-ASSIGNMENT'], 'UPGRADED'),
    cells: values.map((v, i) => fmt(v, g.members[i].upgraded === undefined ? MISSING : String(g.members[i].upgraded))),
  };
}

export async function describeMembers(client: KafkaClient, groupIds: string[], verbose: boolean, notes: Notes, text: KafkaText = '3.9'): Promise<View> {
  const plain: string[] = [];
  const json: unknown[] = [];
  const tables: TableView[] = [];
  for (const g of await describeSorted(client, groupIds)) {
    json.push({
      group: g.groupId,
      state: g.state,
      members: g.members.map((m) => ({
        consumerId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        host: m.clientHost,
        clientId: m.clientId,
        partitions: m.assignment.length,
        assignment: m.assignment,
      })),
    });
    // A group without members still gets the header: Kafka leaves it out only for a missing group.
    if (!stateNote(g.groupId, g.state, g.members.length, { plain, notes }) && g.state === 'Dead') continue;
    const withInstance = g.members.some((m) => (m.groupInstanceId ?? '') !== '');
    const widths: (number | undefined)[] = [
      widest(15, [g.groupId]),
      widest(15, g.members.map((m) => m.memberId)),
      ...(withInstance ? [widest(17, g.members.map((m) => m.groupInstanceId ?? ''))] : []),
      widest(15, g.members.map((m) => m.clientHost)),
      widest(15, g.members.map((m) => m.clientId)),
      15,
    ];
    const header = ['GROUP', 'CONSUMER-ID', ...(withInstance ? ['GROUP-INSTANCE-ID'] : []), 'HOST', 'CLIENT-ID', '#PARTITIONS'];
    const cells = g.members.map((m) => [g.groupId, m.memberId, ...(withInstance ? [m.groupInstanceId ?? ''] : []), m.clientHost, m.clientId, String(m.assignment.length)]);
    // Every member line ends in the padded #PARTITIONS cell and a space (Kafka's format string).
    const line = (c: string[], extra: string) => `${row(c, widths)} ${extra}`;
    if (verbose && text === '4.4') {
      const v = verboseColumns44(g);
      plain.push(`\n${line(header, v.header)}\n`);
      g.members.forEach((_, i) => plain.push(`${line(cells[i], v.cells[i])}\n`));
    } else {
      plain.push(`\n${line(header, verbose ? 'ASSIGNMENT' : '')}\n`);
      g.members.forEach((m, i) => plain.push(`${line(cells[i], verbose ? assignmentText(m.assignment) : '')}\n`));
    }
    tables.push({
      title: `${g.groupId} (${g.state})`,
      head: [...header.slice(1), ...(verbose ? ['ASSIGNMENT'] : [])],
      rows: g.members.map((m, i) => [...cells[i].slice(1), ...(verbose ? [assignmentText(m.assignment)] : [])]),
    });
  }
  return { plain: plain.join(''), json: { groups: json }, tables };
}

export async function describeState(client: KafkaClient, groupIds: string[], notes: Notes, text: KafkaText = '3.9', verbose = false): Promise<View> {
  const plain: string[] = [];
  const json: unknown[] = [];
  const rowsForTable: string[][] = [];
  for (const g of await describeSorted(client, groupIds)) {
    const nodeId = await client.groups.findCoordinator(g.groupId);
    const broker = client.cluster.metadata.brokers.find((b) => b.nodeId === nodeId);
    const coordinator = `${broker?.host ?? ''}:${broker?.port ?? -1}  (${nodeId})`;
    json.push({
      group: g.groupId,
      coordinator: { id: nodeId, host: broker?.host ?? null, port: broker?.port ?? null },
      assignmentStrategy: g.protocol,
      state: g.state,
      members: g.members.length,
    });
    if (!stateNote(g.groupId, g.state, 1, { plain, notes })) continue;
    if (text === '4.4') {
      // Kafka 4.4: the group column at least 15 wide, the coordinator's 25, STATE 20; `-` for no
      // strategy; --verbose adds the epochs (a classic group has none).
      const [groupWidth, coordinatorWidth] = [Math.max(15, g.groupId.length), Math.max(25, coordinator.length)];
      const epoch = (n: number | undefined) => (n === undefined ? MISSING : String(n));
      const fmt = (c: (string | number)[]) => `${col(c[0], groupWidth)} ${col(c[1], coordinatorWidth)} ${col(c[2], 20)} ${col(c[3], 20)} ${verbose ? `${col(c[4], 15)} ${col(c[5], 25)} ` : ''}${c.at(-1)}`;
      const head = ['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', ...(verbose ? ['GROUP-EPOCH', 'TARGET-ASSIGNMENT-EPOCH'] : []), '#MEMBERS'];
      const values = [g.groupId, coordinator, g.protocol || MISSING, g.state, ...(verbose ? [epoch(g.groupEpoch), epoch(g.targetAssignmentEpoch)] : []), g.members.length];
      plain.push(`\n${fmt(head)}\n${fmt(values)}\n`);
    } else {
      // Kafka 3.9 sizes the first column by the coordinator text (the group column follows suit).
      const first = Math.max(25, coordinator.length);
      const fmt = (c: (string | number)[]) => `${col(c[0], first)} ${col(c[1], 25)} ${col(c[2], 20)} ${col(c[3], 15)} ${c[4]}`;
      plain.push(`\n${fmt(['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'])}\n${fmt([g.groupId, coordinator, g.protocol, g.state, g.members.length])}\n`);
    }
    rowsForTable.push([g.groupId, coordinator, g.protocol || MISSING, g.state, String(g.members.length)]);
  }
  return {
    plain: plain.join(''),
    json: { groups: json },
    tables: rowsForTable.length ? [{ head: ['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'], rows: rowsForTable }] : [],
  };
}
