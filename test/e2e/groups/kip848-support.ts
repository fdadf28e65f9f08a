// Shared by the KIP-848 (consumer group protocol) tests: a Java member (fixtures/Kip848Member.java,
// compiled once with javac against the Kafka 4.4 client jars and cached in the temp dir), reading
// its JSON event lines, and ConsumerGroupDescribe/OffsetFetch through a raw connection.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnTracked } from '../../helpers/processes.js';
import { RawClient } from '../../helpers/raw-client.js';

const SOURCE = resolve(import.meta.dirname, 'fixtures/Kip848Member.java');

/** The directory holding Kip848Member.class, compiled on first use. */
export function compileJavaMember(lib: string): string {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).update(lib).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `kts-kip848-java-${hash}`);
  if (existsSync(join(dir, 'Kip848Member.class'))) return dir;
  const staging = `${dir}.${process.pid}`;
  mkdirSync(staging, { recursive: true });
  execFileSync('javac', ['-d', staging, '-cp', `${lib}/*`, SOURCE], { stdio: 'pipe' });
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another run compiled it meanwhile
  }
  return dir;
}

export interface Member {
  child: ChildProcess;
  assigned: number[];
  records: { partition: number; offset: number; value: string; topic?: string }[];
  log: string;
}

/** Starts a Java member (`protocol`: consumer or classic). */
export function startJavaMember(classDir: string, lib: string, bootstrap: string, group: string, topic: string, protocol = 'consumer', extra: string[] = []): Member {
  const args = ['-Xmx128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${classDir}:${lib}/*`, 'Kip848Member', bootstrap, group, topic, protocol, ...extra];
  return startMemberProcess('java', args);
}

/** Starts a member program that prints the fixtures' JSON event lines. */
export function startMemberProcess(command: string, args: string[]): Member {
  const child = spawnTracked(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const m: Member = { child, assigned: [], records: [], log: '' };
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const e = JSON.parse(line);
        if (e.event === 'assigned') m.assigned = e.partitions;
        else if (e.event === 'record') m.records.push({ partition: e.partition, offset: e.offset, value: e.value, ...(e.topic ? { topic: e.topic } : {}) });
      } catch {
        m.log += `${line}\n`;
      }
    }
  });
  child.stderr!.on('data', (d) => (m.log += d));
  return m;
}

export interface DescribedMember {
  memberId: string;
  memberEpoch: number;
  clientId: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  assignment: { topicPartitions: { topicName: string; partitions: number[] }[] };
  targetAssignment: { topicPartitions: { topicName: string; partitions: number[] }[] };
  memberType: number;
}

export interface DescribedGroup {
  errorCode: number;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: DescribedMember[];
}

export async function describeConsumerGroup(port: number, group: string): Promise<DescribedGroup> {
  const client = await RawClient.connect(port);
  try {
    const r = await client.request(69, 1, { groupIds: [group], includeAuthorizedOperations: false });
    return r.groups[0];
  } finally {
    client.close();
  }
}

/** Committed offsets of a group, partition -> offset (OffsetFetch v8, as an admin: no member). */
export async function committedOffsets(port: number, group: string, topic: string, partitions: number): Promise<Map<number, number>> {
  const client = await RawClient.connect(port);
  try {
    const r = await client.request(9, 8, { groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: [...Array(partitions).keys()] }] }], requireStable: false });
    const out = new Map<number, number>();
    for (const p of r.groups[0].topics[0]?.partitions ?? []) out.set(p.partitionIndex, p.committedOffset);
    return out;
  } finally {
    client.close();
  }
}

export const partitionsOf = (a: DescribedMember['assignment']) => a.topicPartitions.flatMap((t) => t.partitions).sort((x, y) => x - y);
