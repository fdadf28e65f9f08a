// (3) Third-party group clients: librdkafka (kcat -G: JoinGroup v5, OffsetFetch v7 flexible,
// OffsetCommit v7) and kafka-node's ConsumerGroup (JoinGroup v0, OffsetCommit v2): two members
// of each split a topic with no partition read twice, and their commits land in kts.
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { kcatPath } from '../../helpers/tools.js';
import { kcat as kcatRun } from '../../helpers/kcat.js';
import { spawnTracked, stopProcess } from '../../helpers/processes.js';
import { partitionForGroup } from '../../../src/broker/groups/index.js';
import { createTopic, connectClients, produceEach, startTestBroker, waitFor, type TestBroker } from './support.js';

const KAFKA_NODE_MEMBER = resolve(import.meta.dirname, 'fixtures/kafka-node-member.cjs');

interface Proc {
  child: ChildProcess;
  lines: string[];
  err: string;
}

function launch(cmd: string, args: string[]): Proc {
  const child = spawnTracked(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const p: Proc = { child, lines: [], err: '' };
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      p.lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
  });
  child.stderr!.on('data', (d) => (p.err += d));
  return p;
}

async function stopGracefully(p: Proc): Promise<void> {
  await stopProcess(p.child, 'SIGTERM', 10_000);
}

describe('third-party group clients on kts', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const procs: Proc[] = [];
  const kcat = kcatPath();

  beforeAll(async () => {
    broker = await startTestBroker();
    ({ kafka, admin, producer } = await connectClients(broker.bootstrap));
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => stopProcess(p.child, 'SIGKILL')));
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  });

  async function stableMembers(group: string, n: number): Promise<void> {
    await waitFor(`group ${group} stable with ${n} members`, async () => {
      const g = (await admin.describeGroups([group])).groups[0];
      return g.state === 'Stable' && g.members.length === n;
    }, 60_000, 200);
  }

  async function committed(group: string, topic: string): Promise<number[]> {
    const r = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return r[0].partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  }

  it.skipIf(!kcat)('kcat -G: two balanced consumers split the topic and commit on close', async () => {
    const topic = 'kcat-group';
    const group = 'kcat-g';
    await createTopic(admin, topic, 4);
    const args = (name: string) => [
      '-b', broker.bootstrap, '-G', group, topic, '-u', '-q', '-f', `${name} %p %o %s\\n`,
      '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=500', '-X', `client.id=${name}`,
    ];
    const a = launch(kcat!, args('A'));
    const b = launch(kcat!, args('B'));
    procs.push(a, b);
    await stableMembers(group, 2);
    await produceEach(producer, topic, 4, 25);
    const records = () => [...a.lines, ...b.lines].filter((l) => /^[AB] \d+ \d+ /.test(l));
    await waitFor('100 records through kcat', () => new Set(records().map((l) => l.split(' ').slice(1, 3).join(':'))).size === 100, 30_000);
    const rows = records().map((l) => l.split(' '));
    const byPartition = new Map<string, Set<string>>();
    for (const [who, p] of rows) byPartition.set(p, (byPartition.get(p) ?? new Set()).add(who));
    expect(rows).toHaveLength(100);
    expect([...byPartition.values()].every((s) => s.size === 1)).toBe(true);
    const split = ['A', 'B'].map((w) => rows.filter((r) => r[0] === w).length);
    await Promise.all([stopGracefully(a), stopGracefully(b)]);
    await waitFor('kcat commits', async () => (await committed(group, topic)).every((o) => o === 25), 15_000);
    const g = (await admin.describeGroups([group])).groups[0];
    expect(g.state).toBe('Empty');
    // kcat reads __consumer_offsets too: Kafka's key layouts (the group's name is in every key).
    const partition = partitionForGroup(group, 10);
    const keys = await kcatRun(['-b', broker.bootstrap, '-C', '-t', '__consumer_offsets', '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%k\\n']);
    const lines = keys.split('\n').filter((l) => l.includes(group));
    expect(lines.length).toBeGreaterThan(0);
    console.log(`[groups] kcat -G: 2 members, 100 records split ${split.join('/')}, 0 duplicates; committed ${JSON.stringify(await committed(group, topic))}`);
  });

  it('kafka-node ConsumerGroup: two members split the topic and commit', async () => {
    const topic = 'kafka-node-group';
    const group = 'kn-g';
    await createTopic(admin, topic, 4);
    const a = launch(process.execPath, [KAFKA_NODE_MEMBER, broker.bootstrap, group, topic, 'A']);
    const b = launch(process.execPath, [KAFKA_NODE_MEMBER, broker.bootstrap, group, topic, 'B']);
    procs.push(a, b);
    await stableMembers(group, 2);
    await produceEach(producer, topic, 4, 25);
    const events = () => [...a.lines, ...b.lines].map((l) => JSON.parse(l));
    const records = () => events().filter((e) => e.event === 'record');
    await waitFor('100 records through kafka-node', () => new Set(records().map((r) => `${r.partition}:${r.offset}`)).size === 100, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    const rows = records();
    const owners = new Map<number, Set<string>>();
    for (const r of rows) owners.set(r.partition, (owners.get(r.partition) ?? new Set()).add(r.name));
    expect(rows).toHaveLength(100);
    expect([...owners.values()].every((s) => s.size === 1)).toBe(true);
    expect(events().filter((e) => e.event === 'error')).toEqual([]);
    await waitFor('kafka-node commits', async () => (await committed(group, topic)).every((o) => o === 25), 15_000);
    const split = ['A', 'B'].map((w) => rows.filter((r) => r.name === w).length);
    await Promise.all([stopGracefully(a), stopGracefully(b)]);
    console.log(`[groups] kafka-node ConsumerGroup: 2 members, 100 records split ${split.join('/')}, 0 duplicates; committed ${JSON.stringify(await committed(group, topic))}`);
  });
});
